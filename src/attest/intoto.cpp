#include "catena/attest/intoto.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <set>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/time.hpp"
#include "strict_json.hpp"

extern char** environ;

namespace catena::attest {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxMetadataBytes = uint64_t{1} << 30;

// Reported to the verdict: which check failed, on what, and why.
struct Failure {
  std::string check;
  std::string item;
  std::string rule;
  std::string reason;
};

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < out.size(); ++i) {
    const int high = nibble(hex[2 * i]);
    const int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    out[i] = static_cast<char>(high * 16 + low);
  }
  return out;
}

std::string hex_of(std::string_view bytes) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

struct Metablock {
  json signed_part;
  std::map<std::string, std::string> signatures;  // keyid -> signature bytes
  std::string canonical;
};

Result<Metablock> parse_metablock(std::string_view text) {
  CATENA_TRY(json doc, parse_strict_json(text));
  if (!doc.is_object()) return make_error(ErrorCode::Parse, "metadata is not a JSON object");
  const auto signed_it = doc.find("signed");
  const auto signatures_it = doc.find("signatures");
  if (signed_it == doc.end() || !signed_it->is_object()) {
    return make_error(ErrorCode::Parse, "metadata has no \"signed\" object");
  }
  if (signatures_it == doc.end() || !signatures_it->is_array()) {
    return make_error(ErrorCode::Parse, "metadata has no \"signatures\" list");
  }
  Metablock out;
  for (const json& signature : *signatures_it) {
    const std::string keyid = string_member(signature, "keyid");
    const std::string sig = string_member(signature, "sig");
    if (keyid.empty() || sig.empty()) {
      return make_error(ErrorCode::Parse, "a signature lacks \"keyid\" or \"sig\"");
    }
    auto bytes = hex_decode(sig);
    if (!bytes) return make_error(ErrorCode::Parse, "signature of " + keyid + " is not hex");
    if (!out.signatures.emplace(keyid, std::move(*bytes)).second) {
      return make_error(ErrorCode::Parse, "two signatures by keyid " + keyid);
    }
  }
  out.signed_part = std::move(*signed_it);
  CATENA_TRY(out.canonical, canonical_json(out.signed_part));
  return out;
}

// "No signature" and "invalid signature" are different failures for the reader.
std::optional<std::string> signature_problem(const Metablock& block,
                                             const trust::VerifyingKey& key) {
  const auto it = block.signatures.find(key.sslib().keyid);
  if (it == block.signatures.end()) return "no signature by key " + key.sslib().keyid;
  if (!key.verify(block.canonical, it->second))
    return "invalid signature by key " + key.sslib().keyid;
  return std::nullopt;
}

struct Rule {
  enum Type { Match, Create, Delete, Modify, Allow, Disallow, Require } type = Allow;
  std::string pattern;
  std::string source_prefix;
  std::string dest_type;  // "materials" or "products"
  std::string dest_prefix;
  std::string dest_name;
  std::string text;  // the rule as written, for messages
};

std::string lower(std::string text) {
  for (char& c : text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return text;
}

Result<Rule> unpack_rule(const json& value) {
  if (!value.is_array()) return make_error(ErrorCode::Parse, "an artifact rule is not a list");
  std::vector<std::string> parts;
  for (const json& part : value) {
    if (!part.is_string())
      return make_error(ErrorCode::Parse, "an artifact rule holds a non-string");
    parts.push_back(part.get<std::string>());
  }
  Rule rule;
  for (size_t i = 0; i < parts.size(); ++i) rule.text += (i ? " " : "") + parts[i];
  std::vector<std::string> low;
  for (const auto& part : parts) low.push_back(lower(part));
  static const std::map<std::string, Rule::Type> kGeneric = {
      {"create", Rule::Create}, {"delete", Rule::Delete},     {"modify", Rule::Modify},
      {"allow", Rule::Allow},   {"disallow", Rule::Disallow}, {"require", Rule::Require}};
  if (parts.size() < 2) return make_error(ErrorCode::Parse, "malformed rule '" + rule.text + "'");
  rule.pattern = parts[1];
  if (const auto it = kGeneric.find(low[0]); it != kGeneric.end()) {
    if (parts.size() != 2)
      return make_error(ErrorCode::Parse, "malformed rule '" + rule.text + "'");
    rule.type = it->second;
    return rule;
  }
  if (low[0] != "match") return make_error(ErrorCode::Parse, "unknown rule '" + rule.text + "'");
  rule.type = Rule::Match;
  const size_t n = parts.size();
  if (n == 10 && low[2] == "in" && low[4] == "with" && low[6] == "in" && low[8] == "from") {
    rule.source_prefix = parts[3];
    rule.dest_type = low[5];
    rule.dest_prefix = parts[7];
    rule.dest_name = parts[9];
  } else if (n == 8 && low[2] == "in" && low[4] == "with" && low[6] == "from") {
    rule.source_prefix = parts[3];
    rule.dest_type = low[5];
    rule.dest_name = parts[7];
  } else if (n == 8 && low[2] == "with" && low[4] == "in" && low[6] == "from") {
    rule.dest_type = low[3];
    rule.dest_prefix = parts[5];
    rule.dest_name = parts[7];
  } else if (n == 6 && low[2] == "with" && low[4] == "from") {
    rule.dest_type = low[3];
    rule.dest_name = parts[5];
  } else {
    return make_error(ErrorCode::Parse, "malformed rule '" + rule.text + "'");
  }
  if (rule.dest_type != "materials" && rule.dest_type != "products") {
    return make_error(ErrorCode::Parse,
                      "rule '" + rule.text + "' must match MATERIALS or PRODUCTS");
  }
  return rule;
}

struct Item {
  std::string name;
  bool inspection = false;
  int64_t threshold = 1;
  std::vector<std::string> pubkeys;
  std::vector<std::string> expected_command;
  std::vector<std::string> run;
  std::vector<Rule> material_rules;
  std::vector<Rule> product_rules;
};

struct Layout {
  int64_t expires = 0;
  std::string expires_text;
  std::map<std::string, Result<trust::VerifyingKey>> keys;
  std::vector<Item> steps;
  std::vector<Item> inspections;
};

// "YYYY-MM-DDTHH:MM:SSZ", the only form the reference's schema allows.
std::optional<int64_t> parse_expires(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  const auto number = [&](size_t at, size_t length) -> std::optional<int> {
    int value = 0;
    for (size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return static_cast<int64_t>(::timegm(&tm));
}

Result<std::vector<std::string>> string_list(const json& object, const char* name, bool required) {
  const auto it = object.find(name);
  std::vector<std::string> out;
  if (it == object.end()) {
    if (required) return make_error(ErrorCode::Parse, std::string("missing \"") + name + "\"");
    return out;
  }
  if (!it->is_array())
    return make_error(ErrorCode::Parse, std::string("\"") + name + "\" is not a list");
  for (const json& value : *it) {
    if (!value.is_string())
      return make_error(ErrorCode::Parse, std::string("\"") + name + "\" holds a non-string");
    out.push_back(value.get<std::string>());
  }
  return out;
}

Result<std::vector<Rule>> rules_of(const json& object, const char* name) {
  std::vector<Rule> out;
  const auto it = object.find(name);
  if (it == object.end()) return out;
  if (!it->is_array())
    return make_error(ErrorCode::Parse, std::string("\"") + name + "\" is not a list");
  for (const json& value : *it) {
    CATENA_TRY(Rule rule, unpack_rule(value));
    out.push_back(std::move(rule));
  }
  return out;
}

Result<Item> parse_item(const json& value, bool inspection) {
  if (!value.is_object()) return make_error(ErrorCode::Parse, "a step is not an object");
  Item item;
  item.inspection = inspection;
  item.name = string_member(value, "name");
  if (item.name.empty()) return make_error(ErrorCode::Parse, "a step or inspection has no name");
  const std::string type = string_member(value, "_type");
  if (type != (inspection ? "inspection" : "step")) {
    return make_error(ErrorCode::Parse, "'" + item.name + "' has _type \"" + type + "\"");
  }
  CATENA_TRY(item.material_rules, rules_of(value, "expected_materials"));
  CATENA_TRY(item.product_rules, rules_of(value, "expected_products"));
  if (inspection) {
    CATENA_TRY(item.run, string_list(value, "run", true));
    return item;
  }
  CATENA_TRY(item.pubkeys, string_list(value, "pubkeys", true));
  CATENA_TRY(item.expected_command, string_list(value, "expected_command", false));
  const auto threshold = value.find("threshold");
  if (threshold == value.end() || !threshold->is_number_integer()) {
    return make_error(ErrorCode::Parse, "step '" + item.name + "' has no integer threshold");
  }
  item.threshold = threshold->get<int64_t>();
  return item;
}

Result<Layout> parse_layout(const json& signed_part) {
  if (string_member(signed_part, "_type") != "layout") {
    return make_error(ErrorCode::Parse, "the layout's _type is not \"layout\"");
  }
  Layout layout;
  layout.expires_text = string_member(signed_part, "expires");
  const auto expires = parse_expires(layout.expires_text);
  if (!expires) return make_error(ErrorCode::Parse, "\"expires\" is not YYYY-MM-DDTHH:MM:SSZ");
  layout.expires = *expires;
  const auto keys = signed_part.find("keys");
  if (keys != signed_part.end()) {
    if (!keys->is_object()) return make_error(ErrorCode::Parse, "\"keys\" is not an object");
    for (const auto& [keyid, key] : keys->items()) {
      const auto keyval = key.is_object() ? key.find("keyval") : key.end();
      const std::string public_value =
          keyval != key.end() ? string_member(*keyval, "public") : std::string();
      auto loaded = trust::VerifyingKey::from_sslib(string_member(key, "keytype"),
                                                    string_member(key, "scheme"), public_value);
      if (loaded && loaded->sslib().keyid != keyid) {
        loaded = make_error(ErrorCode::Parse, "keyid " + keyid + " is not the id of its key (" +
                                                  loaded->sslib().keyid + ")");
      } else if (loaded && string_member(key, "keyid") != keyid) {
        loaded = make_error(ErrorCode::Parse, "key " + keyid + " states another keyid");
      }
      layout.keys.emplace(keyid, std::move(loaded));
    }
  }
  std::set<std::string> names;
  for (const char* field : {"steps", "inspect"}) {
    const auto list = signed_part.find(field);
    if (list == signed_part.end()) continue;
    if (!list->is_array())
      return make_error(ErrorCode::Parse, std::string("\"") + field + "\" is not a list");
    for (const json& value : *list) {
      CATENA_TRY(Item item, parse_item(value, std::string_view(field) == "inspect"));
      if (!names.insert(item.name).second) {
        return make_error(ErrorCode::Parse,
                          "two steps or inspections are named '" + item.name + "'");
      }
      (item.inspection ? layout.inspections : layout.steps).push_back(std::move(item));
    }
  }
  return layout;
}

struct Link {
  std::string name;
  std::vector<std::string> command;
  Artifacts materials;
  Artifacts products;
};

Result<Artifacts> parse_artifacts(const json& object, const char* field) {
  Artifacts out;
  const auto it = object.find(field);
  if (it == object.end()) return out;
  if (!it->is_object())
    return make_error(ErrorCode::Parse, std::string("\"") + field + "\" is not an object");
  for (const auto& [path, hashes] : it->items()) {
    if (!hashes.is_object())
      return make_error(ErrorCode::Parse, "hashes of '" + path + "' are not an object");
    Hashes& entry = out[path];
    for (const auto& [algorithm, digest] : hashes.items()) {
      if (!digest.is_string())
        return make_error(ErrorCode::Parse, "a hash of '" + path + "' is not a string");
      entry[algorithm] = digest.get<std::string>();
    }
  }
  return out;
}

Result<Link> parse_link(const json& signed_part) {
  const std::string type = string_member(signed_part, "_type");
  if (type == "layout") return make_error(ErrorCode::Unsupported, "sublayouts are not supported");
  if (type != "link") return make_error(ErrorCode::Parse, "_type is not \"link\"");
  Link link;
  link.name = string_member(signed_part, "name");
  CATENA_TRY(link.command, string_list(signed_part, "command", false));
  CATENA_TRY(link.materials, parse_artifacts(signed_part, "materials"));
  CATENA_TRY(link.products, parse_artifacts(signed_part, "products"));
  return link;
}

std::string path_join(std::string_view a, std::string_view b) {
  std::string out;
  if (!b.empty() && b.front() == '/') {
    out = b;
  } else {
    out = a;
    if (!out.empty() && out.back() != '/') out += '/';
    out += b;
  }
  for (char& c : out) c = c == '\\' ? '/' : c;
  return out;
}

std::string list_text(const std::set<std::string>& paths) {
  std::string out;
  size_t shown = 0;
  for (const std::string& path : paths) {
    if (shown == 10) {
      out += ", … (" + std::to_string(paths.size()) + " in all)";
      break;
    }
    out += (shown++ ? ", " : "") + path;
  }
  return out;
}

// The reference's verify_item_rules: rules applied in order to a queue of artifacts, each
// rule consuming what it matched; DISALLOW and REQUIRE fail on what is left.
std::optional<Failure> verify_rules(const Item& item,
                                    bool products,
                                    const std::map<std::string, Link>& links) {
  const Link& link = links.at(item.name);
  const Artifacts& source = products ? link.products : link.materials;
  std::set<std::string> queue;
  for (const auto& [path, hashes] : source) queue.insert(path);
  const auto filter = [&](const std::string& pattern) {
    std::set<std::string> out;
    for (const std::string& path : queue) {
      if (fnmatch_python(pattern, path)) out.insert(path);
    }
    return out;
  };
  for (const Rule& rule : products ? item.product_rules : item.material_rules) {
    std::set<std::string> consumed;
    switch (rule.type) {
      case Rule::Match: {
        const auto dest = links.find(rule.dest_name);
        if (dest == links.end()) break;
        const Artifacts& dest_artifacts =
            rule.dest_type == "materials" ? dest->second.materials : dest->second.products;
        const std::string prefix =
            rule.source_prefix.empty() ? "" : path_join(rule.source_prefix, "");
        for (const std::string& path : queue) {
          if (!prefix.empty() && !path.starts_with(prefix)) continue;
          const std::string relative = prefix.empty() ? path : path.substr(prefix.size());
          if (!fnmatch_python(rule.pattern, relative)) continue;
          const std::string source_path =
              rule.source_prefix.empty() ? relative : path_join(rule.source_prefix, relative);
          const std::string dest_path =
              rule.dest_prefix.empty() ? relative : path_join(rule.dest_prefix, relative);
          const auto source_it = source.find(source_path);
          const auto dest_it = dest_artifacts.find(dest_path);
          if (source_it == source.end() || dest_it == dest_artifacts.end()) continue;
          if (source_it->second == dest_it->second) consumed.insert(source_path);
        }
        break;
      }
      case Rule::Create:
        for (const std::string& path : filter(rule.pattern)) {
          if (link.products.contains(path) && !link.materials.contains(path)) consumed.insert(path);
        }
        break;
      case Rule::Delete:
        for (const std::string& path : filter(rule.pattern)) {
          if (link.materials.contains(path) && !link.products.contains(path)) consumed.insert(path);
        }
        break;
      case Rule::Modify:
        for (const std::string& path : filter(rule.pattern)) {
          const auto material = link.materials.find(path);
          const auto product = link.products.find(path);
          if (material != link.materials.end() && product != link.products.end() &&
              material->second != product->second) {
            consumed.insert(path);
          }
        }
        break;
      case Rule::Allow:
        consumed = filter(rule.pattern);
        break;
      case Rule::Disallow:
        if (const auto matched = filter(rule.pattern); !matched.empty()) {
          return Failure{"rules", item.name, rule.text,
                         std::string(item.inspection ? "inspection '" : "step '") + item.name +
                             "': " + (products ? "product" : "material") + " rule '" + rule.text +
                             "' matched " + list_text(matched)};
        }
        break;
      case Rule::Require:
        if (!queue.contains(rule.pattern)) {
          return Failure{"rules", item.name, rule.text,
                         std::string(item.inspection ? "inspection '" : "step '") + item.name +
                             "': " + (products ? "product" : "material") + " rule '" + rule.text +
                             "' did not find " + rule.pattern};
        }
        break;
    }
    for (const std::string& path : consumed) queue.erase(path);
  }
  return std::nullopt;
}

// Runs an inspection's command (the user asked for it) with in-toto's recording of ".".
Result<Link> run_inspection(const Item& item) {
  if (item.run.empty())
    return make_error(ErrorCode::Parse, "inspection '" + item.name + "' has no command");
  ArtifactOptions options;
  CATENA_TRY(ArtifactSet before, record_artifacts({"."}, options));
  std::vector<char*> argv;
  for (const std::string& arg : item.run) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int err = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
      err != 0) {
    return make_io_error("cannot run inspection '" + item.name + "' (" + item.run[0] + ")", err);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return make_io_error("cannot wait for inspection '" + item.name + "'", errno);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) {
    return make_error(ErrorCode::Io,
                      "inspection '" + item.name + "' exited with " + std::to_string(code));
  }
  CATENA_TRY(ArtifactSet after, record_artifacts({"."}, options));
  return Link{item.name, item.run, std::move(before.artifacts), std::move(after.artifacts)};
}

std::optional<Failure> verify_chain(const IntotoVerifyOptions& options,
                                    const Metablock& block,
                                    IntotoVerdict& verdict) {
  for (const trust::VerifyingKey& key : options.layout_keys) {
    if (auto problem = signature_problem(block, key)) {
      return Failure{"signature", "", "", "layout: " + *problem};
    }
  }
  auto layout = parse_layout(block.signed_part);
  if (!layout) return Failure{"format", "", "", "layout: " + layout.error().message};
  for (const Item& inspection : layout->inspections) {
    verdict.inspections.push_back({inspection.name, inspection.run});
  }
  const int64_t now = options.now != 0 ? options.now : now_ns() / 1'000'000'000;
  if (layout->expires < now) {
    return Failure{"expiry", "", "", "layout expired at " + layout->expires_text};
  }

  std::map<std::string, Link> chosen;
  for (const Item& step : layout->steps) {
    std::vector<std::pair<std::string, Metablock>> found;
    for (const std::string& keyid : step.pubkeys) {
      const std::string path = path_join(options.link_dir, intoto_link_filename(step.name, keyid));
      // A link that is not there is not counted, as in the reference; one that cannot be
      // read fails verification.
      if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) continue;
      auto text = read_small_file(path, kMaxMetadataBytes);
      if (!text) {
        return Failure{"format", step.name, "",
                       "step '" + step.name + "': " + text.error().message};
      }
      auto parsed = parse_metablock(*text);
      if (!parsed) return Failure{"format", step.name, "", path + ": " + parsed.error().message};
      found.emplace_back(keyid, std::move(*parsed));
    }
    if (static_cast<int64_t>(found.size()) < step.threshold) {
      return Failure{"links", step.name, "",
                     "step '" + step.name + "' requires " + std::to_string(step.threshold) +
                         " link metadata file(s), found " + std::to_string(found.size())};
    }
    std::vector<std::pair<std::string, Link>> verified;
    std::set<std::string> signers;
    for (auto& [keyid, link_block] : found) {
      const auto key = layout->keys.find(keyid);
      if (key == layout->keys.end()) {
        verdict.warnings.push_back("step '" + step.name + "': key " + keyid +
                                   " is not in the layout's keys");
        continue;
      }
      if (!key->second) {
        verdict.warnings.push_back("step '" + step.name + "': key " + keyid + ": " +
                                   key->second.error().message);
        continue;
      }
      if (auto problem = signature_problem(link_block, *key->second)) {
        verdict.warnings.push_back("step '" + step.name + "': skipped a link: " + *problem);
        continue;
      }
      auto link = parse_link(link_block.signed_part);
      if (!link) {
        return Failure{"format", step.name, "",
                       "step '" + step.name + "': link by " + keyid + ": " + link.error().message};
      }
      if (link->name != step.name) {
        verdict.warnings.push_back("step '" + step.name + "': skipped a link by " + keyid +
                                   " named '" + link->name + "'");
        continue;
      }
      if (!signers.insert(keyid).second) continue;
      verified.emplace_back(keyid, std::move(*link));
    }
    if (static_cast<int64_t>(verified.size()) < step.threshold) {
      return Failure{"threshold", step.name, "",
                     "step '" + step.name + "' requires at least " +
                         std::to_string(step.threshold) +
                         " links validly signed by different authorized functionaries, found " +
                         std::to_string(verified.size())};
    }
    if (!step.expected_command.empty() &&
        verified.front().second.command != step.expected_command) {
      verdict.warnings.push_back("step '" + step.name +
                                 "': the command run differs from the expected command");
    }
    if (step.threshold > 1) {
      for (const auto& [keyid, link] : verified) {
        if (link.materials != verified.front().second.materials ||
            link.products != verified.front().second.products) {
          return Failure{"threshold", step.name, "",
                         "step '" + step.name + "': links by " + verified.front().first + " and " +
                             keyid + " have different artifacts"};
        }
      }
    }
    chosen.emplace(step.name, std::move(verified.front().second));
  }

  for (const Item& step : layout->steps) {
    for (const bool products : {false, true}) {
      if (auto failure = verify_rules(step, products, chosen)) return failure;
    }
  }
  if (layout->inspections.empty()) return std::nullopt;
  if (!options.run_inspections) {
    std::string names;
    for (const Item& inspection : layout->inspections)
      names += (names.empty() ? "" : ", ") + inspection.name;
    return Failure{
        "inspection", "", "",
        "the layout has inspections (" + names + "); they were not run (--run-inspections)"};
  }
  for (const Item& inspection : layout->inspections) {
    auto link = run_inspection(inspection);
    if (!link) return Failure{"inspection", inspection.name, "", link.error().message};
    chosen.insert_or_assign(inspection.name, std::move(*link));
  }
  for (const Item& inspection : layout->inspections) {
    for (const bool products : {false, true}) {
      if (auto failure = verify_rules(inspection, products, chosen)) return failure;
    }
  }
  return std::nullopt;
}

json artifacts_json(const Artifacts& artifacts, std::vector<std::string>& unrecorded) {
  json out = json::object();
  for (const auto& [path, hashes] : artifacts) {
    if (!is_utf8(path)) {
      unrecorded.push_back("path-hex:" + hex_of(path));
      continue;
    }
    json& entry = out[path];
    entry = json::object();
    for (const auto& [algorithm, digest] : hashes) entry[algorithm] = digest;
  }
  return out;
}

}  // namespace

std::string intoto_link_filename(const std::string& step, const std::string& keyid) {
  return step + "." + keyid.substr(0, 8) + ".link";
}

Result<IntotoVerdict> verify_intoto(const IntotoVerifyOptions& options) {
  if (options.layout_keys.empty())
    return make_error(ErrorCode::Usage, "at least one layout key is needed");
  CATENA_TRY(std::string text, read_small_file(options.layout_path, kMaxMetadataBytes));
  IntotoVerdict verdict;
  auto block = parse_metablock(text);
  std::optional<Failure> failure;
  if (!block) {
    failure = Failure{"format", "", "", options.layout_path + ": " + block.error().message};
  } else {
    failure = verify_chain(options, *block, verdict);
  }
  if (failure) {
    verdict.check = std::move(failure->check);
    verdict.item = std::move(failure->item);
    verdict.rule = std::move(failure->rule);
    verdict.reason = std::move(failure->reason);
    return verdict;
  }
  verdict.passed = true;
  return verdict;
}

Result<std::string> write_intoto_link(const IntotoLink& link, const trust::SigningKey& key) {
  std::vector<std::string> unrecorded = link.unrecorded;
  json signed_part = {{"_type", "link"}, {"name", link.name}, {"environment", json::object()}};
  signed_part["command"] = link.command;
  signed_part["materials"] = artifacts_json(link.materials, unrecorded);
  signed_part["products"] = artifacts_json(link.products, unrecorded);
  signed_part["byproducts"] = {{"return-value", link.return_value}};
  if (!unrecorded.empty()) signed_part["byproducts"]["catena-unrecorded"] = unrecorded;
  for (const std::string& arg : link.command) {
    if (!is_utf8(arg))
      return make_error(ErrorCode::Unsupported, "the command has an argument that is not UTF-8");
  }
  if (!is_utf8(link.name)) return make_error(ErrorCode::Usage, "the step name is not UTF-8");
  CATENA_TRY(const std::string canonical, canonical_json(signed_part));
  CATENA_TRY(const std::string signature, key.sign(canonical));
  json doc = {{"signed", signed_part}};
  doc["signatures"] = json::array({{{"keyid", key.sslib().keyid}, {"sig", hex_of(signature)}}});
  return doc.dump(1) + "\n";
}

}  // namespace catena::attest
