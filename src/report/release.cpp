// `catena release inspect` as table, json or jsonl: every file of the release with its nesting,
// size, SHA-256 and format, then the findings.
#include <fmt/format.h>

#include "catena/core/text.hpp"
#include "catena/report/render.hpp"
#include "json_util.hpp"

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
    case Format::Sarif: {
      json object = summary();
      object["files"] = json::array();
      for (const release::ReleaseFile& f : inspection.files) {
        object["files"].push_back(file_object(f));
      }
      object["findings"] = json::array();
      for (const Finding& f : inspection.findings) {
        object["findings"].push_back(json::parse(finding_json(f)));
      }
      std::fputs(dump(object, 2).c_str(), out);
      std::fputc('\n', out);
      return {};
    }
    case Format::Jsonl: {
      for (const release::ReleaseFile& f : inspection.files) {
        json object = file_object(f);
        object["record"] = "file";
        std::fprintf(out, "%s\n", dump(object).c_str());
      }
      for (const Finding& f : inspection.findings) {
        json object = json::parse(finding_json(f));
        object["record"] = "finding";
        std::fprintf(out, "%s\n", dump(object).c_str());
      }
      json last = summary();
      last["record"] = "summary";
      std::fprintf(out, "%s\n", dump(last).c_str());
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
  std::fprintf(out, "%-16s  %12s  %-8s  %s\n", "SHA256", "SIZE", "FORMAT", "PATH");
  for (const release::ReleaseFile& f : inspection.files) {
    const std::string digest = f.sha256 ? to_hex(*f.sha256).substr(0, 16) : f.type;
    std::string path = escape_for_terminal(f.path);
    if (!f.link_target.empty()) path += " -> " + escape_for_terminal(f.link_target);
    if (!f.archive.empty()) path += fmt::format("  [{} members]", f.members);
    std::fprintf(out, "%-16s  %12llu  %-8s  %s\n", digest.c_str(),
                 static_cast<unsigned long long>(f.size), f.format.empty() ? "-" : f.format.c_str(),
                 path.c_str());
  }
  if (inspection.findings.empty()) {
    std::fputs("No findings.\n", out);
    return {};
  }
  std::fprintf(out, "Findings (%zu), most severe first:\n", inspection.findings.size());
  for (const Finding& f : inspection.findings) {
    std::string evidence;
    for (const auto& [key, value] : f.evidence) {
      evidence += (evidence.empty() ? "" : ", ") + escape_for_terminal(key) + "=" +
                  escape_for_terminal(value);
    }
    std::fprintf(out, "  %-8s %s  %s\n           %s\n",
                 std::string(severity_name(f.severity)).c_str(), f.rule.c_str(),
                 escape_for_terminal(f.path).c_str(), evidence.c_str());
  }
  return {};
}

}  // namespace catena::report
