#include "catena/audit/standard.hpp"

#include <fnmatch.h>
#include <toml++/toml.h>

#include "catena/core/rules.hpp"

namespace catena::audit {
namespace {

tl::unexpected<Error> config_error(std::string message) {
  return tl::unexpected(Error{ErrorCode::Parse, std::move(message), {}});
}

bool glob_match(std::string_view pattern, std::string_view text) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

Result<std::vector<std::string>> string_list(const toml::node& node, const std::string& where) {
  const toml::array* array = node.as_array();
  if (array == nullptr) return config_error(where + " must be a list of strings");
  std::vector<std::string> out;
  for (const toml::node& item : *array) {
    const auto* text = item.as_string();
    if (text == nullptr) return config_error(where + " must be a list of strings");
    out.push_back(text->get());
  }
  return out;
}

Result<Standard> parse_standard(const toml::table& table) {
  Standard standard;
  standard.name = "custom standard";
  for (const auto& [key, value] : table) {
    if (key == "name") {
      const auto* text = value.as_string();
      if (text == nullptr) return config_error("standard.name must be a string");
      standard.name = text->get();
    } else if (key != "rule") {
      return config_error("unknown key standard." + std::string(key.str()) +
                          " (expected name, rule)");
    }
  }
  const toml::array* rules = table["rule"].as_array();
  if (rules == nullptr || rules->empty()) {
    return config_error("[standard] needs at least one [[standard.rule]]");
  }
  for (size_t i = 0; i < rules->size(); ++i) {
    const std::string where = "standard.rule[" + std::to_string(i) + "]";
    const toml::table* rule_table = rules->get(i)->as_table();
    if (rule_table == nullptr) return config_error(where + " must be a table");
    StandardRule rule;
    for (const auto& [key, value] : *rule_table) {
      const std::string name(key.str());
      if (name == "id" || name == "title") {
        const auto* text = value.as_string();
        if (text == nullptr) return config_error(where + "." + name + " must be a string");
        (name == "id" ? rule.id : rule.title) = text->get();
      } else if (name == "findings") {
        CATENA_TRY(rule.findings, string_list(value, where + ".findings"));
      } else if (name == "paths") {
        CATENA_TRY(rule.paths, string_list(value, where + ".paths"));
      } else if (name == "min_severity") {
        const auto* text = value.as_string();
        if (text == nullptr) return config_error(where + ".min_severity must be a string");
        auto severity = parse_severity(text->get());
        if (!severity) return config_error(where + ".min_severity: " + severity.error().message);
        rule.min_severity = *severity;
      } else {
        return config_error("unknown key " + where + "." + name +
                            " (expected id, title, findings, min_severity, paths)");
      }
    }
    if (rule.id.empty()) return config_error(where + " needs an id");
    if (rule.findings.empty()) return config_error(where + " (" + rule.id + ") needs findings");
    for (const StandardRule& other : standard.rules) {
      if (other.id == rule.id) return config_error("two standard rules have the id " + rule.id);
    }
    if (rule.title.empty()) rule.title = rule.id;
    standard.rules.push_back(std::move(rule));
  }
  return standard;
}

}  // namespace

Standard build_server_standard() {
  Standard s;
  s.name = "build-server standard";
  s.rules = {
      {.id = "no-indicator-match",
       .title = "No indicator-of-compromise, YARA or blocked-signer match",
       .findings = {"IOC_MATCH", "YARA_MATCH", "SIG_SIGNER_BLOCKED"}},
      {.id = "no-modified-packaged-executable",
       .title = "No packaged executable differs from what its package installed",
       .findings = {"PKG_FILE_MODIFIED", "DEB_HASH_MISMATCH", "ARCHIVE_SIGNATURE_INVALID",
                    "ARCHIVE_INDEX_MISMATCH"},
       .min_severity = Severity::High},
      {.id = "no-unowned-system-executable",
       .title = "No executable in system paths that no package owns",
       .findings = {"UNOWNED_EXECUTABLE"}},
      {.id = "all-software-from-a-repository",
       .title = "No installed package that no configured repository provides (retired or "
                "hand-installed)",
       .findings = {"PKG_NOT_FROM_REPOSITORY"},
       .min_severity = Severity::Medium},
      {.id = "no-signature-anomaly",
       .title = "No signature anomaly or untrusted signer among executables",
       .findings = {"PE_*", "MACHO_*", "MSI_*", "SIG_SIGNATURE_INVALID", "SIG_UNTRUSTED",
                    "SIG_SIGNER_EXPIRED_NO_TIMESTAMP", "MODULE_SIGNATURE_MALFORMED",
                    "SIDELOAD_CANDIDATE"},
       .min_severity = Severity::Medium},
      {.id = "clean-baseline",
       .title = "No drift from the host's baselines",
       .findings = {"FILE_ADDED", "FILE_REMOVED", "FILE_CHANGED"}},
      {.id = "no-writable-tools",
       .title = "No tool or tool directory writable by every user",
       .findings = {"WORLD_WRITABLE_EXECUTABLE", "WORLD_WRITABLE_DIR"}},
      {.id = "no-unprotected-signing-key",
       .title = "No code-signing key without a passphrase, no signing password in a script",
       .findings = {"ACCESS_SIGNING_KEY_UNPROTECTED", "ACCESS_SIGNING_PASSWORD_IN_SCRIPT"}},
      {.id = "credentials-protected",
       .title = "Credentials readable only by their owner, not shared between hosts, and no "
                "unprotected SSH key reaching a build-critical host",
       .findings = {"ACCESS_CREDENTIAL_WORLD_READABLE", "ACCESS_SHARED_CREDENTIAL",
                    "ACCESS_SSH_KEY_UNPROTECTED"},
       .min_severity = Severity::High},
  };
  return s;
}

Result<int64_t> parse_duration(std::string_view text) {
  if (text == "0") return int64_t{0};
  if (text.size() < 2)
    return make_error(ErrorCode::Parse,
                      "'" + std::string(text) + "' is not a duration (e.g. 7d, 12h, 90m)");
  const char unit = text.back();
  int64_t scale = 0;
  switch (unit) {
    case 'd':
      scale = 86400;
      break;
    case 'h':
      scale = 3600;
      break;
    case 'm':
      scale = 60;
      break;
    case 's':
      scale = 1;
      break;
    default:
      break;
  }
  int64_t count = 0;
  for (const char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || count > 1'000'000) {
      scale = 0;
      break;
    }
    count = count * 10 + (c - '0');
  }
  if (scale == 0) {
    return make_error(ErrorCode::Parse,
                      "'" + std::string(text) + "' is not a duration (e.g. 7d, 12h, 90m, 0)");
  }
  return count * scale * 1'000'000'000;
}

Result<Config> parse_config(std::string_view toml_text) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return config_error("not valid TOML: " + std::string(e.description()) + " at line " +
                        std::to_string(e.source().begin.line));
  }
  for (const auto& [key, value] : table) {
    if (key != "build" && key != "standard" && key != "scan") {
      return config_error("unknown section [" + std::string(key.str()) +
                          "] (expected [build], [standard], [scan])");
    }
  }
  Config config;
  if (const toml::node* scan = table.get("scan")) {
    const toml::table* scan_table = scan->as_table();
    if (scan_table == nullptr) return config_error("[scan] must be a table");
    for (const auto& [key, value] : *scan_table) {
      if (key != "full_every") {
        return config_error("unknown key scan." + std::string(key.str()) +
                            " (expected full_every)");
      }
      const auto text = value.value<std::string>();
      if (!text) return config_error("scan.full_every must be a string such as \"7d\"");
      auto every = parse_duration(*text);
      if (!every) return config_error("scan.full_every: " + every.error().message);
      config.full_every_ns = *every;
    }
  }
  CATENA_TRY(config.inventory, access::parse_inventory(toml_text));
  if (const toml::node* standard = table.get("standard")) {
    const toml::table* standard_table = standard->as_table();
    if (standard_table == nullptr) return config_error("[standard] must be a table");
    CATENA_TRY(config.standard, parse_standard(*standard_table));
  } else {
    config.standard = build_server_standard();
  }
  return config;
}

std::string_view rule_status_name(RuleStatus status) {
  switch (status) {
    case RuleStatus::Pass:
      return "pass";
    case RuleStatus::Fail:
      return "fail";
    case RuleStatus::Advice:
      return "advice";
    case RuleStatus::Skipped:
      return "skipped";
  }
  return "pass";
}

std::string_view check_of(std::string_view rule) {
  if (rule.starts_with("PKG_") || rule.starts_with("DEB_") || rule.starts_with("ARCHIVE_") ||
      rule == "UNOWNED_EXECUTABLE") {
    return "packages";
  }
  if (rule.starts_with("ACCESS_") || rule == "STORE_READABLE_BY_OTHERS") return "access";
  if (rule == "FILE_ADDED" || rule == "FILE_REMOVED" || rule == "FILE_CHANGED" ||
      rule == "FILE_CHANGED_BY_PACKAGE") {
    return "baselines";
  }
  if (rule.starts_with("PROV_")) return "provenance";
  return "scan";
}

namespace {

// Whether some check that can raise a finding this rule names ran.
bool rule_examined(const StandardRule& rule, const Examined& examined) {
  const auto ran = [&](std::string_view check) {
    return (check == "scan" && examined.scan) || (check == "packages" && examined.packages) ||
           (check == "access" && examined.access) || (check == "baselines" && examined.baselines);
  };
  for (const std::string& pattern : rule.findings) {
    bool known = false;
    for (const RuleInfo& info : rule_catalogue()) {
      if (!glob_match(pattern, info.id)) continue;
      known = true;
      if (ran(check_of(info.id))) return true;
    }
    // A rule id catena does not know (a custom standard's): judged as the scan's.
    if (!known && ran(check_of(pattern))) return true;
  }
  return false;
}

}  // namespace

Evaluation::Evaluation(const Standard& standard) : standard_(&standard) {
  for (const StandardRule& rule : standard.rules) results_.push_back({.rule = &rule});
}

void Evaluation::add(const Finding& f) {
  const uint64_t id = ++seen_;
  auto named = named_.find(f.rule);
  if (named == named_.end()) {
    std::vector<bool> names(standard_->rules.size(), false);
    for (size_t r = 0; r < standard_->rules.size(); ++r) {
      for (const std::string& pattern : standard_->rules[r].findings) {
        names[r] = names[r] || glob_match(pattern, f.rule);
      }
    }
    named = named_.emplace(f.rule, std::move(names)).first;
  }
  for (size_t r = 0; r < standard_->rules.size(); ++r) {
    const StandardRule& rule = standard_->rules[r];
    if (!named->second[r] || f.severity < rule.min_severity) continue;
    bool in_path = rule.paths.empty();
    for (const std::string& pattern : rule.paths) in_path = in_path || glob_match(pattern, f.path);
    if (!in_path) continue;
    RuleResult& result = results_[r];
    ++result.count;
    if (result.examples.size() < kRuleExamples) {
      result.examples.push_back({.id = id, .rule = f.rule, .path = finding_subject(f)});
    }
  }
}

Verdict Evaluation::finish(bool build_access, const Examined& examined) const {
  Verdict verdict;
  verdict.build_access = build_access;
  bool failed = false;
  for (RuleResult result : results_) {
    if (result.count > 0) {
      result.status = build_access ? RuleStatus::Fail : RuleStatus::Advice;
      failed = true;
    } else if (!rule_examined(*result.rule, examined)) {
      result.status = RuleStatus::Skipped;
      ++verdict.skipped;
    }
    verdict.rules.push_back(std::move(result));
  }
  verdict.verdict = !build_access ? "advice" : failed ? "fail" : "pass";
  return verdict;
}

Result<Verdict> evaluate(const Standard& standard,
                         const FindingStream& findings,
                         bool build_access,
                         const Examined& examined) {
  Evaluation evaluation(standard);
  CATENA_TRY_STATUS(findings.for_each([&](const Finding& f) { evaluation.add(f); }));
  return evaluation.finish(build_access, examined);
}

}  // namespace catena::audit
