// `catena release inspect` as table, json or jsonl: every file of the release with its nesting,
// size, SHA-256 and format, then the findings.
#include <fmt/format.h>

#include <cmath>

#include "catena/core/text.hpp"
#include "catena/report/render.hpp"
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
      out, "catena release inspect %s: %zu files, %s, %llu archives opened (%s expanded)\n",
      escape_for_terminal(inspection.root).c_str(), inspection.files.size(),
      human_bytes(inspection.bytes).c_str(), static_cast<unsigned long long>(inspection.archives),
      human_bytes(inspection.expanded_bytes).c_str());
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

Status write_release_diff(std::FILE* out, const release::ReleaseDiff& d, Format format) {
  const auto summary = [&] {
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
    return object;
  };
  switch (format) {
    case Format::Json:
    case Format::Jsonl: {
      std::vector<json> changes;
      for (const release::FileChange& c : d.changes) changes.push_back(change_object(c));
      write_records(out, format, summary(), "changes", "change", changes, d.findings);
      return {};
    }
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
    std::fprintf(out, "  %-8s %-8s %s%s\n",
                 c.rules.empty() ? "-" : std::string(severity_name(c.severity)).c_str(),
                 std::string(release::change_kind_name(c.kind)).c_str(), path.c_str(),
                 rules.c_str());
  }
  print_findings(out, d.findings);
  return {};
}

}  // namespace catena::report
