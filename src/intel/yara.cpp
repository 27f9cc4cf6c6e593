#include "catena/intel/yara.hpp"

#include <yara.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"

namespace catena::intel {

struct YaraRules::Impl {
  std::vector<YR_RULES*> sets;
  std::string identity;
  ~Impl() {
    for (YR_RULES* rules : sets) yr_rules_destroy(rules);
  }
};

namespace {

Status initialise() {
  static std::once_flag once;
  static int rc = ERROR_SUCCESS;
  std::call_once(once, [] { rc = yr_initialize(); });
  if (rc != ERROR_SUCCESS) return make_error(ErrorCode::Io, "libyara cannot be initialised");
  return {};
}

bool is_compiled(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == 4 && std::string_view(magic, 4) == "YARA";
}

struct CompileErrors {
  std::string first;
};

void on_compile_message(int level,
                        const char* file,
                        int line,
                        const YR_RULE* /*rule*/,
                        const char* message,
                        void* user) {
  if (level != YARA_ERROR_LEVEL_ERROR) return;
  auto* errors = static_cast<CompileErrors*>(user);
  if (!errors->first.empty()) return;
  errors->first = std::string(file != nullptr ? file : "(rules)") + ":" + std::to_string(line) +
                  ": " + (message != nullptr ? message : "error");
}

struct ScanState {
  std::vector<YaraMatch> matches;
};

int on_scan_message(YR_SCAN_CONTEXT* /*context*/, int message, void* data, void* user) {
  if (message != CALLBACK_MSG_RULE_MATCHING) return CALLBACK_CONTINUE;
  const auto* rule = static_cast<const YR_RULE*>(data);
  YaraMatch match;
  match.rule = rule->identifier;
  match.ns = rule->ns != nullptr && rule->ns->name != nullptr ? rule->ns->name : "";
  const char* tag = nullptr;
  yr_rule_tags_foreach(rule, tag) { match.tags.emplace_back(tag); }
  const YR_META* meta = nullptr;
  yr_rule_metas_foreach(rule, meta) {
    std::string value;
    if (meta->type == META_TYPE_STRING) {
      value = meta->string != nullptr ? meta->string : "";
    } else if (meta->type == META_TYPE_BOOLEAN) {
      value = meta->integer != 0 ? "true" : "false";
    } else {
      value = std::to_string(meta->integer);
    }
    match.meta.emplace_back(meta->identifier, std::move(value));
  }
  static_cast<ScanState*>(user)->matches.push_back(std::move(match));
  return CALLBACK_CONTINUE;
}

}  // namespace

Result<YaraRules> YaraRules::load(const std::vector<std::string>& paths) {
  CATENA_TRY_STATUS(initialise());
  std::vector<std::string> sources, compiled;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::string> found;
      for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (it->is_regular_file() && (ext == ".yar" || ext == ".yara" || ext == ".yarc")) {
          found.push_back(it->path().string());
        }
      }
      if (ec) return make_error(ErrorCode::Io, path + ": " + ec.message());
      std::sort(found.begin(), found.end());
      for (const std::string& file : found)
        (is_compiled(file) ? compiled : sources).push_back(file);
    } else if (std::filesystem::is_regular_file(path, ec)) {
      (is_compiled(path) ? compiled : sources).push_back(path);
    } else {
      return make_error(ErrorCode::NotFound, path + ": no such rules file or directory");
    }
  }
  auto impl = std::make_shared<Impl>();
  DigestSet identity(DigestSet::kSha256);
  for (const std::vector<std::string>* files : {&compiled, &sources}) {
    for (const std::string& file : *files) {
      CATENA_TRY(const std::string bytes, read_small_file(file, 1ull << 30));
      const std::string header = file + '\0' + std::to_string(bytes.size()) + '\0';
      identity.update(std::as_bytes(std::span(header)));
      identity.update(std::as_bytes(std::span(bytes)));
    }
  }
  impl->identity = to_hex(*identity.finish().sha256);
  for (const std::string& file : compiled) {
    YR_RULES* rules = nullptr;
    if (yr_rules_load(file.c_str(), &rules) != ERROR_SUCCESS) {
      return make_error(ErrorCode::Parse,
                        file + ": not compiled YARA rules of this libyara version");
    }
    impl->sets.push_back(rules);
  }
  if (!sources.empty()) {
    YR_COMPILER* compiler = nullptr;
    if (yr_compiler_create(&compiler) != ERROR_SUCCESS) {
      return make_error(ErrorCode::Io, "cannot create a YARA compiler");
    }
    CompileErrors errors;
    yr_compiler_set_callback(compiler, on_compile_message, &errors);
    for (const std::string& file : sources) {
      FILE* in = std::fopen(file.c_str(), "r");
      if (in == nullptr) {
        yr_compiler_destroy(compiler);
        return make_error(ErrorCode::Io, file + ": cannot be read");
      }
      const int failures = yr_compiler_add_file(compiler, in, file.c_str(), file.c_str());
      std::fclose(in);
      if (failures > 0) {
        yr_compiler_destroy(compiler);
        return make_error(ErrorCode::Parse,
                          errors.first.empty() ? file + ": does not compile" : errors.first);
      }
    }
    YR_RULES* rules = nullptr;
    const int rc = yr_compiler_get_rules(compiler, &rules);
    yr_compiler_destroy(compiler);
    if (rc != ERROR_SUCCESS) return make_error(ErrorCode::Parse, "YARA rules cannot be compiled");
    impl->sets.push_back(rules);
  }
  YaraRules out;
  out.impl = std::move(impl);
  return out;
}

const std::string& YaraRules::identity() const {
  static const std::string kNone;
  return impl ? impl->identity : kNone;
}

size_t YaraRules::rule_count() const {
  size_t count = 0;
  if (!impl) return 0;
  for (YR_RULES* rules : impl->sets) {
    const YR_RULE* rule = nullptr;
    yr_rules_foreach(rules, rule) { ++count; }
  }
  return count;
}

Result<std::vector<YaraMatch>> YaraRules::scan(std::span<const std::byte> bytes,
                                               int timeout_seconds) const {
  ScanState state;
  if (!impl) return state.matches;
  for (YR_RULES* rules : impl->sets) {
    const int rc = yr_rules_scan_mem(rules, reinterpret_cast<const uint8_t*>(bytes.data()),
                                     bytes.size(), 0, on_scan_message, &state, timeout_seconds);
    if (rc == ERROR_SCAN_TIMEOUT) return make_error(ErrorCode::Interrupted, "timed out");
    if (rc == ERROR_TOO_MANY_SCAN_THREADS) {
      return make_error(ErrorCode::LimitExceeded, "too many concurrent YARA scans");
    }
    if (rc == ERROR_TOO_MANY_MATCHES) {
      return make_error(ErrorCode::LimitExceeded, "too many string matches");
    }
    if (rc != ERROR_SUCCESS) {
      return make_error(ErrorCode::Io, "libyara error " + std::to_string(rc));
    }
  }
  return state.matches;
}

}  // namespace catena::intel
