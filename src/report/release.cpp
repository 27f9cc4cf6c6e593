// `catena release inspect` as table, json or jsonl: every file of the release with its nesting,
// size, SHA-256 and format, then the findings.
#include <fmt/format.h>

#include <cmath>
#include <map>

#include "catena/core/text.hpp"
#include "catena/report/render.hpp"
#include "html_util.hpp"
#include "json_util.hpp"
#include "sarif.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

json file_object(const release::ReleaseFile& f) {
  json object = json::object();
  put_bytes(object, "path", f.path);
  object["type"] = f.type;
  object["size"] = f.size;
  object["sha256"] = f.sha256 ? json(to_hex(*f.sha256)) : json(nullptr);
  object["format"] = f.format.empty() ? json(nullptr) : json(f.format);
  object["depth"] = f.depth;
  if (!f.link_target.empty()) put_bytes(object, "link_target", f.link_target);
  if (!f.archive.empty()) {
    object["archive"] = utf8_text(f.archive);
    object["members"] = f.members;
  }
  if (!f.opaque.empty()) object["opaque"] = f.opaque;
  if (!f.signature.empty()) object["signature"] = f.signature;
  if (!f.signer.empty()) object["signer"] = utf8_text(f.signer);
  if (f.binary) {
    const content::BinaryFacts& b = *f.binary;
    json version = json::object();
    for (const auto& [key, value] : b.version) version[utf8_text(key)] = utf8_text(value);
    const auto texts = [](const std::vector<std::string>& items) {
      json array = json::array();
      for (const std::string& item : items) array.push_back(utf8_text(item));
      return array;
    };
    json sections = json::array();
    for (const content::SectionFacts& section : b.sections) {
      sections.push_back({{"name", utf8_text(section.name)},
                          {"size", section.size},
                          {"entropy", std::round(section.entropy * 1000) / 1000},
                          {"code", section.code}});
    }
    json binary = {
        {"version", std::move(version)},   {"libraries", texts(b.libraries)},
        {"imports", texts(b.imports)},     {"exports", texts(b.exports)},
        {"sections", std::move(sections)}, {"network_strings", texts(b.network_strings)}};
    if (b.network_strings_truncated) binary["network_strings_truncated"] = true;
    if (!b.authenticode_sha256.empty()) binary["authenticode_sha256"] = b.authenticode_sha256;
    if (!b.rebuild_sha256.empty()) binary["rebuild_sha256"] = b.rebuild_sha256;
    object["binary"] = std::move(binary);
  }
  return object;
}

// One json document (the summary with the items under `key` and the findings), or jsonl: a
// `record` line per item, a "finding" line per finding, then the summary.
void write_records(std::FILE* out,
                   Format format,
                   json summary,
                   const char* key,
                   const char* record,
                   const std::vector<json>& items,
                   const std::vector<Finding>& findings) {
  if (format != Format::Jsonl) {
    summary[key] = items;
    summary["findings"] = json::array();
    for (const Finding& f : findings) summary["findings"].push_back(json::parse(finding_json(f)));
    std::fputs(dump(summary, 2).c_str(), out);
    std::fputc('\n', out);
    return;
  }
  for (json item : items) {
    item["record"] = record;
    std::fprintf(out, "%s\n", dump(item).c_str());
  }
  for (const Finding& f : findings) {
    json object = json::parse(finding_json(f));
    object["record"] = "finding";
    std::fprintf(out, "%s\n", dump(object).c_str());
  }
  summary["record"] = "summary";
  std::fprintf(out, "%s\n", dump(summary).c_str());
}

void print_findings(std::FILE* out, const std::vector<Finding>& findings) {
  if (findings.empty()) {
    std::fputs("No findings.\n", out);
    return;
  }
  std::fprintf(out, "Findings (%zu), most severe first:\n", findings.size());
  for (const Finding& f : findings) {
    std::string evidence;
    for (const auto& [key, value] : f.evidence) {
      evidence += (evidence.empty() ? "" : ", ") + escape_for_terminal(key) + "=" +
                  escape_for_terminal(value);
    }
    std::fprintf(out, "  %-8s %s  %s\n           %s\n",
                 std::string(severity_name(f.severity)).c_str(), f.rule.c_str(),
                 escape_for_terminal(f.path).c_str(), evidence.c_str());
  }
}

json change_object(const release::FileChange& c) {
  json object = json::object();
  object["change"] = release::change_kind_name(c.kind);
  object["severity"] = c.rules.empty() ? json(nullptr) : json(severity_name(c.severity));
  object["rules"] = c.rules;
  object["before"] = c.before ? file_object(*c.before) : json(nullptr);
  object["after"] = c.after ? file_object(*c.after) : json(nullptr);
  if (!c.produced_by.empty()) object["produced_by"] = c.produced_by;
  if (!c.read_by.empty()) object["read_by"] = c.read_by;
  return object;
}

}  // namespace

Status write_inspection(std::FILE* out, const release::Inspection& inspection, Format format) {
  const auto summary = [&] {
    json object = json::object();
    put_bytes(object, "root", inspection.root);
    object["files"] = inspection.files.size();
    object["bytes"] = inspection.bytes;
    object["archives"] = inspection.archives;
    object["expanded_bytes"] = inspection.expanded_bytes;
    object["reused"] = inspection.reused;
    object["findings"] = inspection.findings.size();
    return object;
  };
  switch (format) {
    case Format::Json:
    case Format::Sarif:
    case Format::Jsonl: {
      std::vector<json> files;
      for (const release::ReleaseFile& f : inspection.files) files.push_back(file_object(f));
      write_records(out, format, summary(), "files", "file", files, inspection.findings);
      return {};
    }
    case Format::Table:
      break;
  }
  std::fprintf(
      out, "catena release inspect %s: %zu files, %s, %llu archives opened (%s expanded)%s\n",
      escape_for_terminal(inspection.root).c_str(), inspection.files.size(),
      human_bytes(inspection.bytes).c_str(), static_cast<unsigned long long>(inspection.archives),
      human_bytes(inspection.expanded_bytes).c_str(),
      inspection.reused == 0 ? ""
                             : fmt::format(", {} release file{} as kept in the store",
                                           inspection.reused, inspection.reused == 1 ? "" : "s")
                                   .c_str());
  std::fprintf(out, "%-16s  %12s  %-8s  %-10s  %s\n", "SHA256", "SIZE", "FORMAT", "SIGNATURE",
               "PATH");
  for (const release::ReleaseFile& f : inspection.files) {
    const std::string digest = f.sha256 ? to_hex(*f.sha256).substr(0, 16) : f.type;
    std::string path = escape_for_terminal(f.path);
    if (!f.link_target.empty()) path += " -> " + escape_for_terminal(f.link_target);
    if (!f.archive.empty()) path += fmt::format("  [{} members]", f.members);
    if (!f.opaque.empty()) path += "  [" + f.opaque + ": not opened]";
    if (f.binary) {
      for (const char* key : {"ProductVersion", "file_version", "dylib_version", "soname"}) {
        auto it = f.binary->version.find(key);
        if (it == f.binary->version.end()) continue;
        path += "  " + std::string(key) + "=" + escape_for_terminal(it->second);
        break;
      }
    }
    if (!f.signer.empty()) path += "  signer: " + escape_for_terminal(f.signer);
    std::fprintf(out, "%-16s  %12llu  %-8s  %-10s  %s\n", digest.c_str(),
                 static_cast<unsigned long long>(f.size), f.format.empty() ? "-" : f.format.c_str(),
                 f.signature.empty() ? "-" : f.signature.c_str(), path.c_str());
  }
  print_findings(out, inspection.findings);
  return {};
}

namespace {

json diff_summary(const release::ReleaseDiff& d) {
  json object = json::object();
  put_bytes(object, "old", d.before_root);
  put_bytes(object, "new", d.after_root);
  object["rebuild"] = d.rebuild;
  object["unchanged"] = d.unchanged;
  object["changed"] = d.changed;
  object["added"] = d.added;
  object["removed"] = d.removed;
  object["moved"] = d.moved;
  object["findings"] = d.findings.size();
  if (!d.provenance.empty()) object["provenance"] = d.provenance;
  return object;
}

std::vector<json> change_objects(const release::ReleaseDiff& d) {
  std::vector<json> changes;
  for (const release::FileChange& c : d.changes) changes.push_back(change_object(c));
  return changes;
}

}  // namespace

std::string release_diff_json(const release::ReleaseDiff& d) {
  json document = diff_summary(d);
  document["changes"] = change_objects(d);
  document["findings"] = json::array();
  for (const Finding& f : d.findings) document["findings"].push_back(json::parse(finding_json(f)));
  return dump(document, 2) + "\n";
}

Status write_release_diff(std::FILE* out, const release::ReleaseDiff& d, Format format) {
  switch (format) {
    case Format::Json:
      std::fputs(release_diff_json(d).c_str(), out);
      return {};
    case Format::Jsonl:
      write_records(out, format, diff_summary(d), "changes", "change", change_objects(d),
                    d.findings);
      return {};
    case Format::Sarif: {
      ScanReport report{.command = d.rebuild ? "release diff --rebuild" : "release diff",
                        .findings = FindingStream(d.findings),
                        .show_totals = false};
      report.roots = {d.before_root, d.after_root};
      return write_sarif(out, report);
    }
    case Format::Table:
      break;
  }
  std::fprintf(
      out,
      "catena release diff%s %s -> %s: %llu unchanged, %llu changed, %llu added, %llu "
      "removed, %llu moved\n",
      d.rebuild ? " --rebuild" : "", escape_for_terminal(d.before_root).c_str(),
      escape_for_terminal(d.after_root).c_str(), static_cast<unsigned long long>(d.unchanged),
      static_cast<unsigned long long>(d.changed), static_cast<unsigned long long>(d.added),
      static_cast<unsigned long long>(d.removed), static_cast<unsigned long long>(d.moved));
  for (const std::string& source : d.provenance) {
    std::fprintf(out, "Build steps from %s\n", escape_for_terminal(source).c_str());
  }
  if (!d.changes.empty()) std::fputs("Changes, most severe first:\n", out);
  for (const release::FileChange& c : d.changes) {
    std::string path = escape_for_terminal(c.path());
    // A move names where it came from; a file matched by its place in both releases does not
    // (its paths differ only by the releases' own names).
    if (c.kind == release::ChangeKind::Moved && c.before->path != c.after->path) {
      path = escape_for_terminal(c.before->path) + " -> " + path;
    }
    std::string rules;
    for (const std::string& rule : c.rules) rules += (rules.empty() ? "  " : ", ") + rule;
    for (const std::string& step : c.produced_by)
      rules += "  [built by " + escape_for_terminal(step) + "]";
    std::fprintf(out, "  %-8s %-8s %s%s\n",
                 c.rules.empty() ? "-" : std::string(severity_name(c.severity)).c_str(),
                 std::string(release::change_kind_name(c.kind)).c_str(), path.c_str(),
                 rules.c_str());
  }
  print_findings(out, d.findings);
  return {};
}

}  // namespace catena::report

namespace catena::report {
namespace {

std::string short_hex(const std::optional<Sha256>& digest) {
  return digest ? to_hex(*digest).substr(0, 16) : std::string("-");
}

// A file's side of a change: its digest, version, signature and signer.
std::string side_html(const std::optional<release::ReleaseFile>& f) {
  if (!f) return "-";
  std::string out = "<span class=\"nb\">" + html(short_hex(f->sha256)) + " " +
                    html(human_bytes(f->size)) + "</span>";
  if (f->binary) {
    for (const char* key : {"file_version", "ProductVersion", "dylib_version", "soname"}) {
      auto it = f->binary->version.find(key);
      if (it == f->binary->version.end()) continue;
      out += "<br>" + html(key) + " " + html(it->second);
      break;
    }
  }
  if (!f->signature.empty()) out += "<br>signature: " + html(f->signature);
  if (!f->signer.empty()) out += "<br>signer: " + html(f->signer);
  return out;
}

}  // namespace

Status write_release_diff_html(std::FILE* out, const release::ReleaseDiff& d, Severity fail_on) {
  FindingCounts counts;
  std::map<std::string, uint64_t> by_rule;
  for (const Finding& f : d.findings) {
    counts.add(f.severity);
    ++by_rule[f.rule];
  }
  const bool failed = counts.at_least(fail_on) > 0;
  const std::string title = std::string("catena release diff") + (d.rebuild ? " --rebuild" : "");
  put_page_head(out, title + " " + d.before_root + " to " + d.after_root);
  put(out, "<h1>" + html(title) + "</h1>\n<div class=\"meta\"><code>" + html(d.before_root) +
               "</code> &rarr; <code>" + html(d.after_root) + "</code></div>\n");
  put(out, std::string("<div class=\"verdict ") + (failed ? "fail" : "pass") +
               "\" id=\"verdict\">Verdict: " + (failed ? "FAIL" : "PASS") + " (" +
               std::to_string(counts.at_least(fail_on)) + " at " + html(severity_name(fail_on)) +
               " or above)</div>\n");
  put(out, "<div class=\"cards\">");
  for (const auto& [label, value] :
       std::vector<std::pair<std::string, uint64_t>>{{"changed", d.changed},
                                                     {"added", d.added},
                                                     {"removed", d.removed},
                                                     {"moved", d.moved},
                                                     {"unchanged", d.unchanged}}) {
    put(out, fmt::format("<div class=\"card\"><b>{}</b>{}</div>", value, label));
  }
  for (Severity s : kSeverities) {
    put(out, "<div class=\"card\"><b class=\"" + severity_class(s) + "\">" +
                 std::to_string(counts.by_severity[static_cast<size_t>(s)]) + "</b>" +
                 std::string(severity_name(s)) + "</div>");
  }
  put(out, "</div>\n");
  if (!d.provenance.empty()) {
    put(out, "<p>Changes labelled with the build steps of:</p>\n<ul>\n");
    for (const std::string& source : d.provenance)
      put(out, "<li><code>" + html(source) + "</code>\n");
    put(out, "</ul>\n");
  }

  put(out, "<h2>At a glance</h2>\n<div class=\"charts\">");
  put(out, finding_charts(counts, by_rule) + "</div>\n");

  put(out, "<h2 id=\"changes\">Changes (" + std::to_string(d.changes.size()) +
               "), most severe first</h2>\n");
  if (d.changes.empty()) put(out, "<p>The releases hold the same files.</p>\n");
  if (!d.changes.empty()) {
    put(out,
        "<table class=\"ct\"><tr><th>severity</th><th>change</th><th>path</th><th>rules and "
        "build step</th><th>before</th><th>after</th></tr>\n");
  }
  for (const release::FileChange& c : d.changes) {
    std::string path = "<code>" + html(c.path()) + "</code>";
    if (c.kind == release::ChangeKind::Moved && c.before->path != c.after->path) {
      path = "<code>" + html(c.before->path) + "</code> &rarr; " + path;
    }
    std::string rules;
    for (const std::string& rule : c.rules) rules += (rules.empty() ? "" : "<br>") + html(rule);
    for (const std::string& step : c.produced_by) {
      rules += (rules.empty() ? "" : "<br>") + std::string("built by ") + html(step);
    }
    for (const std::string& step : c.read_by) {
      rules += (rules.empty() ? "" : "<br>") + std::string("read by ") + html(step);
    }
    const std::string severity = c.rules.empty() ? "" : std::string(severity_name(c.severity));
    put(out, "<tr><td class=\"sev " + severity + "\">" + (severity.empty() ? "-" : severity) +
                 "<td>" + html(release::change_kind_name(c.kind)) + "<td class=\"mono\">" + path +
                 "<td>" + rules + "<td class=\"mono\">" + side_html(c.before) +
                 "<td class=\"mono\">" + side_html(c.after) + "\n");
  }
  if (!d.changes.empty()) put(out, "</table>\n");

  put(out, "<h2 id=\"findings\">Findings (" + std::to_string(d.findings.size()) + ")</h2>\n");
  if (d.findings.empty()) put(out, "<p>No findings.</p>\n");
  if (!d.findings.empty()) {
    put(out, std::string(kFindingHead));
    uint64_t number = 0;
    for (const Finding& f : d.findings) put(out, finding_row(++number, f, false, true));
    put(out, "</table>\n");
  }
  put(out, "<p class=\"meta\">catena " CATENA_VERSION "</p>\n</main></body></html>\n");
  return {};
}

}  // namespace catena::report
