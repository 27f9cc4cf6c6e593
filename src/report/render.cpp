#include "catena/report/render.hpp"

#include <fmt/format.h>

#include <cinttypes>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "json_util.hpp"
#include "sarif.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

std::string octal_mode(uint32_t mode) { return fmt::format("{:04o}", mode & 07777); }

std::string_view severity_color(Severity s) {
  switch (s) {
    case Severity::Critical:
      return "\x1b[1;31m";
    case Severity::High:
      return "\x1b[31m";
    case Severity::Medium:
      return "\x1b[33m";
    case Severity::Low:
      return "\x1b[36m";
    case Severity::Info:
      return "\x1b[2m";
  }
  return "";
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return out;
}

// `text` (escaped for the terminal) in at most `columns` code points, its middle replaced by
// "..." when longer: both ends of a path say the most. East Asian wide characters count as one.
std::string fit_columns(const std::string& text, size_t columns) {
  std::vector<size_t> starts;  // byte offset of each code point
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) starts.push_back(i);
  }
  constexpr size_t kNarrowest = 12;
  if (columns == 0 || starts.size() <= columns) return text;
  columns = std::max(columns, kNarrowest);
  if (starts.size() <= columns) return text;
  const size_t keep = columns - 3;
  const size_t head = keep / 2;
  const size_t tail = keep - head;
  return text.substr(0, starts[head]) + "..." + text.substr(starts[starts.size() - tail]);
}

json finding_object(const Finding& f) {
  json object = json::object();
  object["rule"] = f.rule;
  object["severity"] = severity_name(f.severity);
  put_bytes(object, "path", f.path);
  object["sha256"] = f.sha256 ? json(to_hex(*f.sha256)) : json(nullptr);
  object["message"] = utf8_text(f.message);
  json evidence = json::object();
  for (const auto& [key, value] : f.evidence) put_bytes(evidence, key, value);
  object["evidence"] = std::move(evidence);
  return object;
}

json record_object(const scan::FileRecord& r) {
  json object = json::object();
  put_bytes(object, "path", r.path);
  object["type"] = scan::file_type_name(r.type);
  object["size"] = r.size;
  object["mode"] = octal_mode(r.mode);
  object["uid"] = r.uid;
  object["gid"] = r.gid;
  object["mtime"] = format_rfc3339(r.mtime_ns);
  object["ctime"] = format_rfc3339(r.ctime_ns);
  object["inode"] = r.inode;
  object["device"] = r.device;
  object["sha256"] = r.sha256 ? json(to_hex(*r.sha256)) : json(nullptr);
  if (r.md5) object["md5"] = to_hex(*r.md5);
  if (r.sha1) object["sha1"] = to_hex(*r.sha1);
  object["format"] = r.format.empty() ? json(nullptr) : json(r.format);
  object["package"] = r.package.empty() ? json(nullptr) : json(r.package);
  if (!r.signature.empty()) object["signature"] = r.signature;
  if (!r.details.empty()) {
    json details = json::parse(r.details, nullptr, false);
    if (!details.is_discarded()) object["details"] = std::move(details);
  }
  if (r.type == scan::FileType::Symlink) put_bytes(object, "link_target", r.link_target);
  if (r.changed) object["changed_during_scan"] = true;
  return object;
}

json access_object(const access::Discovery& d) {
  json object = json::object();
  object["kind"] = d.kind;
  object["category"] = d.category;
  object["target"] = utf8_text(d.target);
  object["account"] = utf8_text(d.account);
  put_bytes(object, "path", d.path);
  object["owner"] = utf8_text(d.owner);
  object["mode"] = octal_mode(d.mode);
  object["fingerprint"] = d.fingerprint.empty() ? json(nullptr) : json(d.fingerprint);
  object["protection"] = d.protection;
  object["holds_secret"] = d.holds_secret;
  object["signing"] = d.signing;
  object["build_critical"] = d.build_critical;
  object["detail"] = utf8_text(d.detail);
  return object;
}

// "signing-key /home/dev/signing/release.pem (CN=Acme)": one line per build-critical discovery.
std::string access_line(const access::Discovery& d) {
  std::string line = d.kind + "  " + escape_for_terminal(d.path);
  if (!d.target.empty()) line += "  -> " + escape_for_terminal(d.target);
  if (!d.account.empty()) line += "  as " + escape_for_terminal(d.account);
  line += "  [" + d.protection + "]";
  return line;
}

void write_table_access(std::FILE* out, const ScanReport& report, Style style) {
  const AccessSection& access = *report.access;
  size_t critical = 0;
  for (const access::Discovery& d : access.discoveries) critical += d.build_critical ? 1 : 0;
  if (!access.examined) {
    std::fputs("Build access: not examined; the host is held to the standard\n", out);
  } else if (access.build_access) {
    std::fprintf(out, "Build access: %s holds build access via %zu of %zu discoveries:\n",
                 escape_for_terminal(report.host).c_str(), critical, access.discoveries.size());
  } else {
    std::fprintf(out, "Build access: none found among %zu discoveries%s\n",
                 access.discoveries.size(),
                 access.standard.empty() ? "" : " (the standard's rules are advice here)");
  }
  for (const access::Discovery& d : access.discoveries) {
    if (d.build_critical) std::fprintf(out, "  * %s\n", access_line(d).c_str());
  }
  for (const access::Discovery& d : access.discoveries) {
    if (!d.build_critical) std::fprintf(out, "    %s\n", access_line(d).c_str());
  }
  if (access.standard.empty()) return;
  std::fprintf(out, "Standard: %s\n", escape_for_terminal(access.standard).c_str());
  for (const AuditRule& rule : access.rules) {
    const std::string status = upper(rule.status);
    const char* color = rule.status == "pass"   ? "\x1b[32m"
                        : rule.status == "fail" ? "\x1b[1;31m"
                                                : "\x1b[33m";
    if (style.color) {
      std::fprintf(out, "  %s%-7s\x1b[0m %s: %s\n", color, status.c_str(), rule.id.c_str(),
                   rule.title.c_str());
    } else {
      std::fprintf(out, "  %-7s %s: %s\n", status.c_str(), rule.id.c_str(), rule.title.c_str());
    }
    constexpr size_t kShown = 5;
    for (size_t i = 0; i < rule.examples.size() && i < kShown; ++i) {
      const FindingRef& f = rule.examples[i];
      const std::string lead = fmt::format("          #{} {}  ", f.id, f.rule);
      std::fprintf(out, "%s%s\n", lead.c_str(),
                   fit_columns(escape_for_terminal(f.path),
                               style.width > lead.size() ? style.width - lead.size() : 0)
                       .c_str());
    }
    if (rule.count > kShown) {
      std::fprintf(out, "          ... and %" PRIu64 " more\n", rule.count - kShown);
    }
  }
}

// How a group's members are counted: "499 files of package nodejs under /usr/lib/...".
std::string group_title(const FindingGroup& g) {
  const std::string count = std::to_string(g.count);
  if (g.by == "package") {
    return count + " files of package " + escape_for_terminal(g.key) +
           (g.within.empty() ? "" : " under " + escape_for_terminal(g.within));
  }
  if (g.by == "signer") return count + " signed by " + escape_for_terminal(g.key);
  if (g.by == "directory") return count + " in " + escape_for_terminal(g.key);
  // Findings about packages as a whole (the first few are held by the table's grouper).
  if (!g.first.empty() && !evidence_of(g.first.front(), "package").empty()) {
    return count + " packages";
  }
  return count + " findings";
}

// The findings as a person reads them. `numbered`: each finding gets the "#n" that the
// standard's rules refer to. Grouped (unless style.all) by rule and package, signer or
// directory: a group of a few is printed in full, a larger one as one line with its count, its
// explanation and its first members. With a comparison, the new findings come first, then
// those still open, then the resolved ones; each keeps its number.
Status write_table_findings(std::FILE* out,
                            const FindingStream& findings,
                            Style style,
                            bool numbered,
                            const FindingComparison* comparison) {
  if (comparison != nullptr) {
    std::fprintf(out,
                 "Since audit %lld of %s: %" PRIu64 " new, %" PRIu64 " still open, %zu resolved\n",
                 static_cast<long long>(comparison->scan_id),
                 format_rfc3339(comparison->started_ns).substr(0, 19).c_str(),
                 comparison->new_count, comparison->open_count, comparison->resolved.size());
  }
  constexpr size_t kShown = 3;
  // Numbers as wide as the largest, so that columns never run together.
  const size_t number_width = numbered ? std::to_string(findings.size()).size() + 2 : 0;
  const std::string indent(2 + number_width + 9, ' ');
  const auto colored = [&](Severity severity, const std::string& text) {
    if (!style.color) return text;
    return std::string(severity_color(severity)) + text + "\x1b[0m";
  };
  // "  #12  HIGH     RULE  path", the path fitted into what is left of the width.
  const auto write_line = [&](const std::string& number, Severity severity, const std::string& rule,
                              const std::string& subject) {
    const std::string lead = fmt::format("{:<{}}", number, number_width) +
                             fmt::format("{:<8}", upper(severity_name(severity)));
    const size_t used = 2 + lead.size() + 1 + rule.size() + 2;
    const std::string fitted =
        fit_columns(escape_for_terminal(subject), style.width > used ? style.width - used : 0);
    std::fprintf(out, "  %s %s  %s\n", colored(severity, lead).c_str(), rule.c_str(),
                 fitted.c_str());
  };
  const auto number_text = [&](uint64_t number) {
    return numbered ? "#" + std::to_string(number) : std::string();
  };
  const auto write_one = [&](uint64_t number, const Finding& f) {
    write_line(number_text(number), f.severity, f.rule, finding_subject(f));
    std::fprintf(out, "%s%s\n", indent.c_str(), escape_for_terminal(f.message).c_str());
    std::string line;
    for (const auto& [key, value] : f.evidence) {
      if (!line.empty()) line += ", ";
      line += escape_for_terminal(key) + "=" + escape_for_terminal(value);
    }
    if (!line.empty()) std::fprintf(out, "%s%s\n", indent.c_str(), line.c_str());
  };
  const auto write_group = [&](const FindingGroup& g) {
    if (g.count <= kShown) {
      for (size_t i = 0; i < g.first.size(); ++i) write_one(g.members[i], g.first[i]);
      return;
    }
    write_line("", g.severity, g.rule, group_title(g));
    if (!g.explanation.empty()) {
      std::fprintf(out, "%s%s\n", indent.c_str(), escape_for_terminal(g.explanation).c_str());
    }
    for (size_t i = 0; i < g.first.size(); ++i) {
      const std::string number = numbered ? number_text(g.members[i]) + " " : std::string();
      const size_t used = indent.size() + number.size();
      std::fprintf(out, "%s%s%s\n", indent.c_str(), number.c_str(),
                   fit_columns(escape_for_terminal(finding_subject(g.first[i])),
                               style.width > used ? style.width - used : 0)
                       .c_str());
    }
    std::fprintf(out, "%s... and %" PRIu64 " more (--all lists every finding)\n", indent.c_str(),
                 g.count - g.first.size());
  };
  if (findings.empty()) {
    std::fputs("No findings.\n", out);
  } else {
    // One pass over the stream per part: new (or all, without a comparison), then open.
    for (const bool want_new : {true, false}) {
      if (comparison == nullptr && !want_new) break;
      const uint64_t count = comparison == nullptr ? findings.size()
                             : want_new            ? comparison->new_count
                                                   : comparison->open_count;
      if (count == 0) continue;
      const char* title = comparison == nullptr ? "Findings"
                          : want_new            ? "New findings"
                                                : "Still open";
      const auto in_part = [&](const Finding& f) {
        return comparison == nullptr || comparison->is_new(f) == want_new;
      };
      uint64_t number = 0;
      if (style.all) {
        std::fprintf(out, "%s (%" PRIu64 "), most severe first:\n", title, count);
        CATENA_TRY_STATUS(findings.for_each([&](const Finding& f) {
          ++number;
          if (in_part(f)) write_one(number, f);
        }));
        continue;
      }
      FindingGrouper grouper(kShown, false);
      CATENA_TRY_STATUS(findings.for_each([&](const Finding& f) {
        ++number;
        if (in_part(f)) grouper.add(number, f);
      }));
      const std::vector<FindingGroup> groups = std::move(grouper).finish();
      std::fprintf(out, "%s (%" PRIu64 ") in %zu group%s, most severe first:\n", title, count,
                   groups.size(), groups.size() == 1 ? "" : "s");
      for (const FindingGroup& g : groups) write_group(g);
    }
  }
  if (comparison != nullptr && !comparison->resolved.empty()) {
    std::fprintf(out, "Resolved since audit %lld (%zu):\n",
                 static_cast<long long>(comparison->scan_id), comparison->resolved.size());
    constexpr size_t kResolvedShown = 10;
    const size_t shown = style.all ? comparison->resolved.size() : kResolvedShown;
    for (size_t i = 0; i < comparison->resolved.size() && i < shown; ++i) {
      const Finding& f = comparison->resolved[i];
      write_line("", f.severity, f.rule, finding_subject(f));
    }
    if (comparison->resolved.size() > shown) {
      std::fprintf(out, "  ... and %zu more (--all or --format json lists them)\n",
                   comparison->resolved.size() - shown);
    }
  }
  return {};
}

// The roots of a scan as JSON: [{"path": ...}], each path in the injective JSON form.
nlohmann::json roots_array(const std::vector<std::string>& roots) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& root : roots) {
    nlohmann::json item = nlohmann::json::object();
    put_bytes(item, "path", root);
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

Result<Format> parse_format(std::string_view text) {
  if (text == "table") return Format::Table;
  if (text == "json") return Format::Json;
  if (text == "jsonl") return Format::Jsonl;
  if (text == "sarif") return Format::Sarif;
  return make_error(ErrorCode::Usage, "unknown format '" + std::string(text) +
                                          "' (expected table, json, jsonl or sarif)");
}

std::string_view overall_verdict(const ScanReport& report) {
  if (report.access && report.access->verdict == "fail") return "fail";
  return verdict(report);
}

std::string_view verdict(const ScanReport& report) {
  if (report.findings.counts().at_least(report.fail_on) > 0) return "fail";
  return report.status == scan::ScanStatus::Complete && !report.totals.incomplete ? "pass"
                                                                                  : "incomplete";
}

std::string finding_json(const Finding& finding) { return dump(finding_object(finding)); }
std::string record_json(const scan::FileRecord& record) { return dump(record_object(record)); }

namespace {

// The report as one JSON object, without its findings: the json form adds them as an array, the
// jsonl form prints them one per line before it.
json report_object(const ScanReport& report) {
  json object = json::object();
  if (report.scan_id != 0) object["scan_id"] = report.scan_id;
  object["command"] = report.command;
  object["host"] = utf8_text(report.host);
  object["started"] = format_rfc3339(report.started_ns);
  object["finished"] = format_rfc3339(report.finished_ns);
  object["status"] = scan::scan_status_name(report.status);
  object["complete"] = report.status == scan::ScanStatus::Complete && !report.totals.incomplete;
  object["roots"] = roots_array(report.roots);
  object["files"] = report.totals.files;
  object["bytes"] = report.totals.bytes;
  object["errors"] = report.totals.errors;
  if (report.scan_counts) {
    object["files_read"] = report.totals.files_read;
    object["files_reused"] = report.totals.files_reused;
    object["full_pass"] = report.scan_counts->full_pass;
    json runs = json::object();
    for (const auto& [name, count] : report.scan_counts->analyser_runs) runs[name] = count;
    object["analyser_runs"] = std::move(runs);
  }
  if (!report.summary.empty()) {
    json summary = json::object();
    for (const auto& [key, value] : report.summary) summary[key] = utf8_text(value);
    object["summary"] = std::move(summary);
  }
  object["fail_on"] = severity_name(report.fail_on);
  object["verdict"] = overall_verdict(report);
  if (report.comparison) {
    const FindingComparison& c = *report.comparison;
    object["compared_with"] = {{"scan_id", c.scan_id},
                               {"started", format_rfc3339(c.started_ns)},
                               {"new", c.new_count},
                               {"open", c.open_count},
                               {"resolved", c.resolved.size()}};
  }
  if (report.access) {
    const AccessSection& access = *report.access;
    json discoveries = json::array();
    for (const access::Discovery& d : access.discoveries) {
      discoveries.push_back(access_object(d));
    }
    object["build_access"] = {{"holds", access.build_access},
                              {"examined", access.examined},
                              {"files_examined", access.files_examined},
                              {"discoveries", std::move(discoveries)}};
    if (!access.standard.empty()) {
      json skipped = json::array();
      for (const AuditRule& rule : access.rules) {
        if (rule.status == "skipped") skipped.push_back(rule.id);
      }
      // A verdict with rules that were not examined is incomplete, and says which.
      object["standard"] = {{"name", utf8_text(access.standard)},
                            {"verdict", access.verdict},
                            {"complete", skipped.empty()},
                            {"skipped", std::move(skipped)}};
      json rules = json::array();
      for (const AuditRule& rule : access.rules) {
        json ids = json::array();
        for (const FindingRef& f : rule.examples) ids.push_back(f.id);
        rules.push_back({{"id", rule.id},
                         {"title", rule.title},
                         {"status", rule.status},
                         {"count", rule.count},
                         {"findings", std::move(ids)}});
      }
      object["rules"] = std::move(rules);
    }
  }
  return object;
}

}  // namespace

Status write_scan_report(std::FILE* out, const ScanReport& report, Format format, Style style) {
  switch (format) {
    case Format::Json: {
      json object = report_object(report);
      object["findings"] = kArraySlot;
      {
        // Grouped for a reader, in a first pass that holds only the groups' member numbers;
        // the findings themselves stream below.
        FindingGrouper grouper(0, true);
        uint64_t seen = 0;
        CATENA_TRY_STATUS(
            report.findings.for_each([&](const Finding& f) { grouper.add(++seen, f); }));
        json groups = json::array();
        for (const FindingGroup& g : std::move(grouper).finish()) {
          json group = {{"rule", g.rule},
                        {"severity", severity_name(g.severity)},
                        {"by", g.by},
                        {"count", g.count},
                        {"findings", g.members}};
          put_bytes(group, "key", g.key);
          if (!g.within.empty()) put_bytes(group, "within", g.within);
          if (!g.explanation.empty()) group["explanation"] = utf8_text(g.explanation);
          groups.push_back(std::move(group));
        }
        object["groups"] = std::move(groups);
      }
      if (report.comparison) {
        // The earlier audit's findings that are gone.
        json resolved = json::array();
        for (const Finding& f : report.comparison->resolved) {
          json item = finding_object(f);
          item["status"] = "resolved";
          resolved.push_back(std::move(item));
        }
        object["resolved"] = std::move(resolved);
      }
      uint64_t number = 0;
      Status status = write_with_array(out, object, 2, [&](const auto& write) {
        return report.findings.for_each([&](const Finding& f) {
          json item = finding_object(f);
          ++number;
          item["id"] = number;  // what rules[].findings and groups[].findings refer to
          if (report.comparison) item["status"] = report.comparison->is_new(f) ? "new" : "open";
          write(item);
        });
      });
      std::fputc('\n', out);
      return status;
    }
    case Format::Jsonl: {
      CATENA_TRY_STATUS(report.findings.for_each([&](const Finding& f) {
        json object = finding_object(f);
        object["record"] = "finding";
        if (report.scan_id != 0) object["scan_id"] = report.scan_id;
        if (report.comparison) object["status"] = report.comparison->is_new(f) ? "new" : "open";
        std::fputs(dump(object).c_str(), out);
        std::fputc('\n', out);
      }));
      if (report.comparison) {
        for (const Finding& f : report.comparison->resolved) {
          json object = finding_object(f);
          object["record"] = "resolved";
          object["scan_id"] = report.comparison->scan_id;
          std::fputs(dump(object).c_str(), out);
          std::fputc('\n', out);
        }
      }
      // The last line: what the json form says besides its findings.
      json summary = report_object(report);
      summary["record"] = "summary";
      summary["findings"] = report.findings.size();
      std::fputs(dump(summary).c_str(), out);
      std::fputc('\n', out);
      return {};
    }
    case Format::Sarif: {
      Status status = write_sarif(out, report);
      std::fputc('\n', out);
      return status;
    }
    case Format::Table:
      break;
  }
  const double seconds = static_cast<double>(report.finished_ns - report.started_ns) / 1e9;
  // A walk that finished without examining everything is not "complete".
  const std::string status = report.status == scan::ScanStatus::Complete && report.totals.incomplete
                                 ? "incomplete (not everything could be examined)"
                                 : std::string(scan::scan_status_name(report.status));
  if (report.scan_id != 0) {
    std::fprintf(out, "catena %s: scan %lld on %s, %s\n", report.command.c_str(),
                 static_cast<long long>(report.scan_id), escape_for_terminal(report.host).c_str(),
                 status.c_str());
  } else {
    std::fprintf(out, "catena %s on %s, %s\n", report.command.c_str(),
                 escape_for_terminal(report.host).c_str(), status.c_str());
  }
  for (const std::string& root : report.roots) {
    std::fprintf(out, "  scanned  %s\n", escape_for_terminal(root).c_str());
  }
  if (report.show_totals) {
    std::fprintf(out, "  %llu files, %s, %llu errors, %.1f s\n",
                 static_cast<unsigned long long>(report.totals.files),
                 human_bytes(report.totals.bytes).c_str(),
                 static_cast<unsigned long long>(report.totals.errors), seconds);
    if (report.scan_counts) {
      std::fprintf(out, "  %llu read, %llu unchanged since the last scan (not read)%s\n",
                   static_cast<unsigned long long>(report.totals.files_read),
                   static_cast<unsigned long long>(report.totals.files_reused),
                   report.scan_counts->full_pass ? ", full pass" : "");
    }
  } else {
    std::fprintf(out, "  %.1f s\n", seconds);
  }
  for (const auto& [key, value] : report.summary) {
    std::fprintf(out, "  %-8s %s\n", key.c_str(), escape_for_terminal(value).c_str());
  }
  if (!report.store_path.empty()) {
    std::fprintf(out, "  store    %s\n", escape_for_terminal(report.store_path).c_str());
  }
  if (report.access) write_table_access(out, report, style);
  const std::string_view v = overall_verdict(report);
  std::string verdict_text =
      fmt::format("{} (fail-on {})", upper(v), severity_name(report.fail_on));
  if (report.access) {
    size_t skipped = 0;
    for (const AuditRule& rule : report.access->rules) skipped += rule.status == "skipped" ? 1 : 0;
    if (skipped > 0) {
      verdict_text += fmt::format(", incomplete: {} rule{} of the standard not examined", skipped,
                                  skipped == 1 ? "" : "s");
    }
  }
  if (style.color) {
    const char* color = v == "pass" ? "\x1b[1;32m" : v == "fail" ? "\x1b[1;31m" : "\x1b[1;33m";
    std::fprintf(out, "Verdict: %s%s\x1b[0m\n", color, verdict_text.c_str());
  } else {
    std::fprintf(out, "Verdict: %s\n", verdict_text.c_str());
  }
  return write_table_findings(out, report.findings, style, report.access.has_value(),
                              report.comparison ? &*report.comparison : nullptr);
}

InventoryWriter::InventoryWriter(std::FILE* out, Format format) : out_(out), format_(format) {}

void InventoryWriter::write_json(const std::string& object) {
  if (format_ == Format::Jsonl) {
    std::fputs(object.c_str(), out_);
    std::fputc('\n', out_);
  } else {
    std::fputs(count_ == 0 ? "[\n  " : ",\n  ", out_);
    std::fputs(object.c_str(), out_);
  }
}

void InventoryWriter::add(const scan::FileRecord& r) {
  switch (format_) {
    case Format::Json:
    case Format::Sarif:
    case Format::Jsonl:
      write_json(record_json(r));
      break;
    case Format::Table: {
      if (count_ == 0) {
        std::fprintf(out_, "%-64s  %-10s  %12s  %-6s  %-20s  %s\n", "SHA256", "FORMAT", "SIZE",
                     "MODE", "PACKAGE", "PATH");
      }
      std::string sha = r.sha256 ? to_hex(*r.sha256) : std::string(scan::file_type_name(r.type));
      std::string path = escape_for_terminal(r.path);
      if (r.type == scan::FileType::Symlink) path += " -> " + escape_for_terminal(r.link_target);
      std::fprintf(out_, "%-64s  %-10s  %12llu  %-6s  %-20s  %s\n", sha.c_str(),
                   r.format.empty() ? "-" : r.format.c_str(),
                   static_cast<unsigned long long>(r.size), octal_mode(r.mode).c_str(),
                   r.package.empty() ? "-" : escape_for_terminal(r.package).c_str(), path.c_str());
      break;
    }
  }
  ++count_;
}

void InventoryWriter::add(const scan::Occurrence& o) {
  json object = record_object(o.file);
  object["scan_id"] = o.scan_id;
  object["host"] = utf8_text(o.host);
  object["scan_started"] = format_rfc3339(o.scan_started_ns);
  object["scan_status"] = scan::scan_status_name(o.scan_status);
  switch (format_) {
    case Format::Json:
    case Format::Sarif:
    case Format::Jsonl:
      write_json(dump(object));
      break;
    case Format::Table:
      if (count_ == 0) {
        std::fprintf(out_, "%-20s  %-8s  %-20s  %s\n", "HOST", "SCAN", "SCAN STARTED", "PATH");
      }
      std::fprintf(out_, "%-20s  %-8lld  %-20s  %s\n", escape_for_terminal(o.host).c_str(),
                   static_cast<long long>(o.scan_id),
                   format_rfc3339(o.scan_started_ns).substr(0, 19).c_str(),
                   escape_for_terminal(o.file.path).c_str());
      break;
  }
  ++count_;
}

void InventoryWriter::finish() {
  if (format_ == Format::Json || format_ == Format::Sarif) {
    std::fputs(count_ == 0 ? "[]\n" : "\n]\n", out_);
  }
  std::fflush(out_);
}

}  // namespace catena::report

namespace catena::report {

void write_scan_list(std::FILE* out, const std::vector<scan::ScanRecord>& scans, Format format) {
  if (format == Format::Table) {
    std::fprintf(out, "%-6s  %-6s  %-20s  %-20s  %-11s  %10s  %10s  %s\n", "SCAN", "KIND", "HOST",
                 "STARTED", "STATUS", "FILES", "ERRORS", "ROOTS");
    for (const scan::ScanRecord& s : scans) {
      std::string roots;
      for (const std::string& root : s.roots) {
        roots += (roots.empty() ? "" : " ") + escape_for_terminal(root);
      }
      std::fprintf(out,
                   "%-6" PRId64 "  %-6s  %-20s  %-20s  %-11s  %10" PRIu64 "  %10" PRIu64 "  %s\n",
                   s.id, escape_for_terminal(s.kind).c_str(), escape_for_terminal(s.host).c_str(),
                   format_rfc3339(s.started_ns).substr(0, 19).c_str(),
                   std::string(scan::scan_status_name(s.status)).c_str(), s.totals.files,
                   s.totals.errors, roots.c_str());
    }
    return;
  }
  nlohmann::json array = nlohmann::json::array();
  for (const scan::ScanRecord& s : scans) {
    nlohmann::json object = nlohmann::json::object();
    object["scan_id"] = s.id;
    object["kind"] = utf8_text(s.kind);
    object["host"] = utf8_text(s.host);
    object["started"] = format_rfc3339(s.started_ns);
    object["finished"] =
        s.finished_ns ? nlohmann::json(format_rfc3339(*s.finished_ns)) : nlohmann::json(nullptr);
    object["status"] = scan::scan_status_name(s.status);
    object["catena_version"] = utf8_text(s.catena_version);
    object["roots"] = roots_array(s.roots);
    object["files"] = s.totals.files;
    object["bytes"] = s.totals.bytes;
    object["errors"] = s.totals.errors;
    if (format == Format::Jsonl) {
      std::fputs(dump(object).c_str(), out);
      std::fputc('\n', out);
    } else {
      array.push_back(std::move(object));
    }
  }
  if (format != Format::Jsonl) {
    std::fputs(dump(array, 2).c_str(), out);
    std::fputc('\n', out);
  }
}

}  // namespace catena::report
