#include "sarif.hpp"

#include <map>

#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "json_util.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

// SARIF has four levels; catena's five severities map onto them, and the exact severity is
// kept in properties. GitHub code scanning reads `security-severity` (0.0-10.0) from rules.
std::string_view sarif_level(Severity s) {
  switch (s) {
    case Severity::Critical:
    case Severity::High:
      return "error";
    case Severity::Medium:
      return "warning";
    case Severity::Low:
    case Severity::Info:
      return "note";
  }
  return "note";
}

std::string_view security_severity(Severity s) {
  switch (s) {
    case Severity::Critical:
      return "9.5";
    case Severity::High:
      return "8.0";
    case Severity::Medium:
      return "5.5";
    case Severity::Low:
      return "3.0";
    case Severity::Info:
      return "0.0";
  }
  return "0.0";
}

}  // namespace

Status write_sarif(std::FILE* out, const ScanReport& report) {
  // Rules appear once each, in order of first use; results point at them by index. The rules
  // come from a first pass over the findings, the results from a second: neither holds them.
  std::map<std::string, size_t> rule_index;
  json rules = json::array();
  CATENA_TRY_STATUS(report.findings.for_each([&](const Finding& f) {
    auto [it, inserted] = rule_index.try_emplace(f.rule, rule_index.size());
    if (!inserted) return;
    const auto info = find_rule(f.rule);
    json rule = json::object();
    rule["id"] = f.rule;
    rule["shortDescription"] = {{"text", info ? std::string(info->summary) : f.rule}};
    const Severity default_severity = info ? info->severity : f.severity;
    rule["defaultConfiguration"] = {{"level", sarif_level(default_severity)}};
    rule["properties"] = {{"security-severity", security_severity(default_severity)},
                          {"tags", json::array({"security", "supply-chain"})}};
    rules.push_back(std::move(rule));
  }));
  const auto result_of = [&](const Finding& f) {
    json result = json::object();
    result["ruleId"] = f.rule;
    const auto it = rule_index.find(f.rule);
    result["ruleIndex"] = it != rule_index.end() ? it->second : 0;
    result["level"] = sarif_level(f.severity);
    result["message"] = {{"text", utf8_text(f.message)}};
    if (!f.path.empty()) {
      // Percent-encoding carries any path bytes losslessly in the URI.
      json location = json::object();
      location["physicalLocation"] = {
          {"artifactLocation", {{"uri", "file://" + percent_encode_path(f.path)}}}};
      result["locations"] = json::array({location});
    }
    json properties = json::object();
    properties["severity"] = severity_name(f.severity);
    if (f.sha256) {
      properties["sha256"] = to_hex(*f.sha256);
      result["partialFingerprints"] = {{"contentSha256/v1", to_hex(*f.sha256)}};
    }
    json evidence = json::object();
    for (const auto& [key, value] : f.evidence) put_bytes(evidence, key, value);
    properties["evidence"] = std::move(evidence);
    result["properties"] = std::move(properties);
    // SARIF's own word for new and still-present results against an earlier run.
    if (report.comparison)
      result["baselineState"] = report.comparison->is_new(f) ? "new" : "unchanged";
    return result;
  };

  json driver = json::object();
  driver["name"] = "catena";
  driver["version"] = CATENA_VERSION;
  driver["semanticVersion"] = CATENA_VERSION;
  driver["rules"] = std::move(rules);

  json invocation = json::object();
  invocation["executionSuccessful"] = report.status == scan::ScanStatus::Complete;
  invocation["startTimeUtc"] = format_rfc3339(report.started_ns);
  invocation["endTimeUtc"] = format_rfc3339(report.finished_ns);
  invocation["properties"] = {{"scan_id", report.scan_id},
                              {"host", utf8_text(report.host)},
                              {"files", report.totals.files},
                              {"bytes", report.totals.bytes},
                              {"errors", report.totals.errors}};

  json run = json::object();
  run["tool"] = {{"driver", std::move(driver)}};
  run["invocations"] = json::array({std::move(invocation)});
  run["results"] = kArraySlot;
  if (report.access) {
    // The audit's verdict travels with the results; result indices are 0-based.
    const AccessSection& access = *report.access;
    json properties = {{"build_access", access.build_access},
                       {"discoveries", access.discoveries.size()}};
    if (!access.standard.empty()) {
      json rules_status = json::array();
      for (const AuditRule& rule : access.rules) {
        // Result indices are 0-based; a report numbers its findings from 1.
        json results = json::array();
        for (const FindingRef& f : rule.examples) results.push_back(f.id - 1);
        rules_status.push_back({{"id", rule.id},
                                {"status", rule.status},
                                {"count", rule.count},
                                {"results", std::move(results)}});
      }
      properties["standard"] = utf8_text(access.standard);
      properties["verdict"] = access.verdict;
      properties["rules"] = std::move(rules_status);
    }
    run["properties"] = std::move(properties);
  }

  json document = json::object();
  document["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  document["version"] = "2.1.0";
  document["runs"] = json::array({std::move(run)});
  return write_with_array(out, document, 2, [&](const auto& write) {
    return report.findings.for_each([&](const Finding& f) { write(result_of(f)); });
  });
}

}  // namespace catena::report
