// An SBOM's claims against what is there.
#include <map>
#include <set>
#include <unordered_map>

#include "catena/core/rules.hpp"
#include "catena/sbom/sbom.hpp"

namespace catena::sbom {
namespace {

std::string file_name(std::string_view path) {
  const size_t cut = path.find_last_of("/!");
  return std::string(cut == std::string_view::npos ? path : path.substr(cut + 1));
}

bool executable(const Component& c) {
  return c.format == "pe" || c.format == "elf" || c.format == "macho" || c.format == "macho_fat";
}

std::string label(const Component& c) {
  std::string out = c.kind == "file" || c.name.empty() ? c.path : c.name;
  if (!c.version.empty()) out += " " + c.version;
  return out;
}

}  // namespace

std::vector<Finding> check_sbom(const Bom& declared, const Bom& actual) {
  std::vector<Finding> out;
  std::unordered_map<Sha256, const Component*, DigestHash> actual_by_hash;
  std::map<std::string, const Component*> actual_by_path;
  std::map<std::string, std::vector<const Component*>> actual_by_name;
  for (const Component& c : actual.components) {
    if (c.sha256) actual_by_hash.emplace(*c.sha256, &c);
    if (!c.path.empty()) {
      actual_by_path.emplace(c.path, &c);
      actual_by_name[file_name(c.path)].push_back(&c);
    }
  }
  std::set<Sha256> declared_hashes;
  std::set<std::string> declared_paths, declared_names;
  for (const Component& d : declared.components) {
    if (d.sha256) declared_hashes.insert(*d.sha256);
    if (!d.path.empty()) {
      declared_paths.insert(d.path);
      declared_names.insert(file_name(d.path));
    }
    if (d.kind != "file" && !d.name.empty()) declared_names.insert(d.name);

    // A declared component is found by its hash; else by its path, else by its file name when
    // one file there has it.
    if (d.sha256 && actual_by_hash.contains(*d.sha256)) continue;
    const Component* there = nullptr;
    if (!d.path.empty()) {
      if (auto it = actual_by_path.find(d.path); it != actual_by_path.end()) there = it->second;
      if (there == nullptr) {
        auto it = actual_by_name.find(file_name(d.path));
        if (it != actual_by_name.end() && it->second.size() == 1) there = it->second[0];
      }
    } else if (d.kind == "file" || !d.purl.starts_with("pkg:")) {
      auto it = actual_by_name.find(d.name);
      if (it != actual_by_name.end() && it->second.size() == 1) there = it->second[0];
    }
    if (there == nullptr && !d.sha256 && !d.purl.empty()) {
      // A package without a hash (a Debian package in a host's SBOM): found by name.
      for (const Component& c : actual.components) {
        if (c.kind != "file" && c.name == d.name) there = &c;
      }
    }
    if (there == nullptr) {
      if (!d.sha256 && d.path.empty() && d.purl.empty()) continue;  // nothing to look for
      Finding f = make_finding("SBOM_MISSING_COMPONENT", d.path);
      f.add_evidence("component", label(d));
      if (d.sha256) f.add_evidence("declared_sha256", to_hex(*d.sha256));
      if (!d.purl.empty()) f.add_evidence("purl", d.purl);
      out.push_back(std::move(f));
      continue;
    }
    if (d.sha256 && there->sha256 && *d.sha256 != *there->sha256) {
      Finding f = make_finding("SBOM_HASH_MISMATCH", there->path);
      f.sha256 = there->sha256;
      f.add_evidence("component", label(d));
      f.add_evidence("declared_sha256", to_hex(*d.sha256));
      f.add_evidence("actual_sha256", to_hex(*there->sha256));
      out.push_back(std::move(f));
    }
  }
  for (const Component& c : actual.components) {
    if (!executable(c)) continue;
    if (c.sha256 && declared_hashes.contains(*c.sha256)) continue;
    if (declared_paths.contains(c.path) || declared_names.contains(file_name(c.path))) continue;
    if (!c.name.empty() && declared_names.contains(c.name)) continue;
    Finding f = make_finding("SBOM_UNDECLARED_EXECUTABLE", c.path);
    f.sha256 = c.sha256;
    f.add_evidence("format", c.format);
    out.push_back(std::move(f));
  }
  sort_findings(out);
  return out;
}

}  // namespace catena::sbom
