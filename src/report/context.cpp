// A report's context kept with its scan: everything `catena report` needs beyond the scan's
// record and findings to print the report again as it was printed. The store is not trusted
// more than any input: a context that does not parse as one is an error, never a crash.
#include <nlohmann/json.hpp>

#include "catena/core/text.hpp"
#include "catena/report/render.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

constexpr int kContextVersion = 1;

// Bytes exactly: valid UTF-8 as a string, anything else as {"b64": ...}.
json exact(std::string_view bytes) {
  if (is_valid_utf8(bytes)) return std::string(bytes);
  return json{{"b64", base64_encode(bytes)}};
}

Result<std::string> from_exact(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("b64") && value["b64"].is_string()) {
    return base64_decode(value["b64"].get<std::string>());
  }
  return make_error(ErrorCode::Parse, "report context: a text is neither a string nor bytes");
}

Error bad(const std::string& what) {
  return Error{ErrorCode::Parse, "report context: " + what, {}};
}

// The member `key` of `object` as `T`, or a Parse error naming it.
template <typename T>
Result<T> member(const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return tl::unexpected(bad(std::string("no ") + key));
  if constexpr (std::is_same_v<T, std::string>) {
    return from_exact(*it);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return tl::unexpected(bad(std::string(key) + " is not a boolean"));
    return it->get<bool>();
  } else {
    if (!it->is_number_unsigned()) {
      return tl::unexpected(bad(std::string(key) + " is not a count"));
    }
    return it->get<T>();
  }
}

json discovery_json(const access::Discovery& d) {
  return {{"kind", exact(d.kind)},
          {"category", exact(d.category)},
          {"target", exact(d.target)},
          {"account", exact(d.account)},
          {"path", exact(d.path)},
          {"owner", exact(d.owner)},
          {"mode", d.mode},
          {"fingerprint", exact(d.fingerprint)},
          {"protection", exact(d.protection)},
          {"holds_secret", d.holds_secret},
          {"signing", d.signing},
          {"build_critical", d.build_critical},
          {"detail", exact(d.detail)}};
}

Result<access::Discovery> discovery_of(const json& o) {
  if (!o.is_object()) return tl::unexpected(bad("a discovery is not an object"));
  access::Discovery d;
  CATENA_TRY(d.kind, member<std::string>(o, "kind"));
  CATENA_TRY(d.category, member<std::string>(o, "category"));
  CATENA_TRY(d.target, member<std::string>(o, "target"));
  CATENA_TRY(d.account, member<std::string>(o, "account"));
  CATENA_TRY(d.path, member<std::string>(o, "path"));
  CATENA_TRY(d.owner, member<std::string>(o, "owner"));
  CATENA_TRY(d.mode, member<uint32_t>(o, "mode"));
  CATENA_TRY(d.fingerprint, member<std::string>(o, "fingerprint"));
  CATENA_TRY(d.protection, member<std::string>(o, "protection"));
  CATENA_TRY(d.holds_secret, member<bool>(o, "holds_secret"));
  CATENA_TRY(d.signing, member<bool>(o, "signing"));
  CATENA_TRY(d.build_critical, member<bool>(o, "build_critical"));
  CATENA_TRY(d.detail, member<std::string>(o, "detail"));
  return d;
}

Result<std::vector<std::pair<std::string, std::string>>> pairs_of(const json& array) {
  if (!array.is_array()) return tl::unexpected(bad("a list of pairs is not an array"));
  std::vector<std::pair<std::string, std::string>> out;
  for (const json& pair : array) {
    if (!pair.is_array() || pair.size() != 2) return tl::unexpected(bad("a pair is malformed"));
    CATENA_TRY(std::string key, from_exact(pair[0]));
    CATENA_TRY(std::string value, from_exact(pair[1]));
    out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

json pairs_json(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json out = json::array();
  for (const auto& [key, value] : pairs) out.push_back(json::array({exact(key), exact(value)}));
  return out;
}

}  // namespace

std::string report_context_json(const ScanReport& report) {
  json o = {{"version", kContextVersion},
            {"command", exact(report.command)},
            {"fail_on", severity_name(report.fail_on)},
            {"summary", pairs_json(report.summary)},
            {"show_totals", report.show_totals},
            {"files_read", report.totals.files_read},
            {"files_reused", report.totals.files_reused},
            {"incomplete", report.totals.incomplete}};
  if (report.comparison) o["compared_with"] = report.comparison->scan_id;
  if (report.scan_counts) {
    json runs = json::array();
    for (const auto& [name, count] : report.scan_counts->analyser_runs) {
      runs.push_back(json::array({exact(name), count}));
    }
    o["scan_counts"] = {{"full_pass", report.scan_counts->full_pass},
                        {"analyser_runs", std::move(runs)}};
  }
  if (report.access) {
    const AccessSection& a = *report.access;
    json discoveries = json::array();
    for (const access::Discovery& d : a.discoveries) discoveries.push_back(discovery_json(d));
    json rules = json::array();
    for (const AuditRule& rule : a.rules) {
      json examples = json::array();
      for (const FindingRef& f : rule.examples) {
        examples.push_back({{"id", f.id}, {"rule", exact(f.rule)}, {"path", exact(f.path)}});
      }
      rules.push_back({{"id", exact(rule.id)},
                       {"title", exact(rule.title)},
                       {"status", exact(rule.status)},
                       {"count", rule.count},
                       {"examples", std::move(examples)}});
    }
    o["access"] = {{"examined", a.examined},
                   {"build_access", a.build_access},
                   {"files_examined", a.files_examined},
                   {"standard", exact(a.standard)},
                   {"verdict", exact(a.verdict)},
                   {"discoveries", std::move(discoveries)},
                   {"rules", std::move(rules)}};
  }
  return o.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::optional<int64_t>> apply_report_context(ScanReport& report, std::string_view text) {
  const json o = json::parse(text, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return tl::unexpected(bad("not a JSON object"));
  CATENA_TRY(const uint64_t version, member<uint64_t>(o, "version"));
  if (version != kContextVersion) {
    return tl::unexpected(bad("version " + std::to_string(version) + " is not known"));
  }
  CATENA_TRY(report.command, member<std::string>(o, "command"));
  CATENA_TRY(const std::string fail_on, member<std::string>(o, "fail_on"));
  const auto severity = parse_severity(fail_on);
  if (!severity) return tl::unexpected(bad("fail_on is no severity"));
  report.fail_on = *severity;
  const auto summary = o.find("summary");
  if (summary == o.end()) return tl::unexpected(bad("no summary"));
  CATENA_TRY(report.summary, pairs_of(*summary));
  CATENA_TRY(report.show_totals, member<bool>(o, "show_totals"));
  CATENA_TRY(report.totals.files_read, member<uint64_t>(o, "files_read"));
  CATENA_TRY(report.totals.files_reused, member<uint64_t>(o, "files_reused"));
  CATENA_TRY(report.totals.incomplete, member<bool>(o, "incomplete"));
  std::optional<int64_t> compared_with;
  if (o.contains("compared_with")) {
    CATENA_TRY(const uint64_t id, member<uint64_t>(o, "compared_with"));
    compared_with = static_cast<int64_t>(id);
  }
  if (const auto counts = o.find("scan_counts"); counts != o.end()) {
    if (!counts->is_object()) return tl::unexpected(bad("scan_counts is not an object"));
    ScanCounts c;
    CATENA_TRY(c.full_pass, member<bool>(*counts, "full_pass"));
    const auto runs = counts->find("analyser_runs");
    if (runs == counts->end() || !runs->is_array()) {
      return tl::unexpected(bad("analyser_runs is not an array"));
    }
    for (const json& run : *runs) {
      if (!run.is_array() || run.size() != 2 || !run[1].is_number_unsigned()) {
        return tl::unexpected(bad("an analyser run is malformed"));
      }
      CATENA_TRY(std::string name, from_exact(run[0]));
      c.analyser_runs.emplace_back(std::move(name), run[1].get<uint64_t>());
    }
    report.scan_counts = std::move(c);
  }
  if (const auto access = o.find("access"); access != o.end()) {
    if (!access->is_object()) return tl::unexpected(bad("access is not an object"));
    AccessSection a;
    CATENA_TRY(a.examined, member<bool>(*access, "examined"));
    CATENA_TRY(a.build_access, member<bool>(*access, "build_access"));
    CATENA_TRY(a.files_examined, member<uint64_t>(*access, "files_examined"));
    CATENA_TRY(a.standard, member<std::string>(*access, "standard"));
    CATENA_TRY(a.verdict, member<std::string>(*access, "verdict"));
    const auto discoveries = access->find("discoveries");
    const auto rules = access->find("rules");
    if (discoveries == access->end() || !discoveries->is_array() || rules == access->end() ||
        !rules->is_array()) {
      return tl::unexpected(bad("access has no discoveries or rules"));
    }
    for (const json& d : *discoveries) {
      CATENA_TRY(access::Discovery discovery, discovery_of(d));
      a.discoveries.push_back(std::move(discovery));
    }
    for (const json& r : *rules) {
      if (!r.is_object()) return tl::unexpected(bad("a rule is not an object"));
      AuditRule rule;
      CATENA_TRY(rule.id, member<std::string>(r, "id"));
      CATENA_TRY(rule.title, member<std::string>(r, "title"));
      CATENA_TRY(rule.status, member<std::string>(r, "status"));
      CATENA_TRY(rule.count, member<uint64_t>(r, "count"));
      const auto examples = r.find("examples");
      if (examples == r.end() || !examples->is_array()) {
        return tl::unexpected(bad("a rule has no examples"));
      }
      for (const json& e : *examples) {
        if (!e.is_object()) return tl::unexpected(bad("an example is not an object"));
        FindingRef ref;
        CATENA_TRY(ref.id, member<uint64_t>(e, "id"));
        CATENA_TRY(ref.rule, member<std::string>(e, "rule"));
        CATENA_TRY(ref.path, member<std::string>(e, "path"));
        rule.examples.push_back(std::move(ref));
      }
      a.rules.push_back(std::move(rule));
    }
    report.access = std::move(a);
  }
  return compared_with;
}

}  // namespace catena::report
