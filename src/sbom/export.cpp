// SBOMs written: components from a release inspection or a scan's files, as CycloneDX 1.6 and
// SPDX 2.3 JSON.
#include <sys/random.h>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/pkg/database.hpp"
#include "catena/sbom/sbom.hpp"

namespace catena::sbom {
namespace {

using nlohmann::json;

// Paths and names are attacker bytes: JSON holds UTF-8 only, so anything else is escaped.
std::string text_of(std::string_view bytes) {
  return is_valid_utf8(bytes) ? std::string(bytes) : escape_for_terminal(bytes);
}

std::string dump(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string random_uuid() {
  std::array<uint8_t, 16> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    // No entropy at hand: the time keeps documents apart, which is all a serial is for.
    const int64_t now = now_ns();
    std::memcpy(bytes.data(), &now, sizeof now);
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  const std::string hex = to_hex(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// The purl specification's percent-encoding: unreserved characters stay, the rest is %XX.
std::string purl_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string version_of(const content::BinaryFacts& binary) {
  for (const char* key : {"ProductVersion", "FileVersion", "file_version"}) {
    auto it = binary.version.find(key);
    if (it != binary.version.end() && !it->second.empty()) return it->second;
  }
  return "";
}

// The components under each parent, in order.
std::map<std::string, std::vector<const Component*>> children_of(const Bom& bom) {
  std::map<std::string, std::vector<const Component*>> out;
  for (const Component& c : bom.components) out[c.parent].push_back(&c);
  return out;
}

json cyclonedx_component(const Component& c,
                         const std::map<std::string, std::vector<const Component*>>& children,
                         size_t depth) {
  json out = {{"type", c.kind}, {"bom-ref", text_of(c.ref)}};
  out["name"] = text_of(c.kind == "file" ? c.path : c.name);
  if (!c.version.empty()) out["version"] = text_of(c.version);
  if (!c.supplier.empty()) out["supplier"] = {{"name", text_of(c.supplier)}};
  if (!c.purl.empty()) out["purl"] = c.purl;
  json hashes = json::array();
  if (c.sha256) hashes.push_back({{"alg", "SHA-256"}, {"content", to_hex(*c.sha256)}});
  if (c.sha1) hashes.push_back({{"alg", "SHA-1"}, {"content", to_hex(*c.sha1)}});
  if (!hashes.empty()) out["hashes"] = std::move(hashes);
  if (c.kind != "file" && !c.path.empty()) {
    out["properties"] = json::array({{{"name", "catena:path"}, {"value", text_of(c.path)}}});
  }
  auto it = children.find(c.ref);
  if (it != children.end() && depth < kMaxNesting) {
    json nested = json::array();
    for (const Component* child : it->second) {
      nested.push_back(cyclonedx_component(*child, children, depth + 1));
    }
    out["components"] = std::move(nested);
  }
  return out;
}

// SPDXIDs allow letters, digits, '.' and '-' only.
std::string spdx_id(std::string_view ref) {
  std::string out = "SPDXRef-";
  for (char c : ref) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-';
    out.push_back(ok ? c : '-');
  }
  return out;
}

}  // namespace

std::string debian_purl(const Package& package) {
  std::string out = "pkg:deb/debian/" + purl_encode(package.name);
  if (!package.version.empty()) out += "@" + purl_encode(package.version);
  if (!package.architecture.empty()) out += "?arch=" + purl_encode(package.architecture);
  return out;
}

Bom from_inspection(const release::Inspection& inspection) {
  Bom bom{.name = inspection.root, .created_ns = now_ns()};
  std::map<std::string, std::string> ref_of_path;
  const std::string& top = inspection.top;
  size_t next = 0;
  for (const release::ReleaseFile& f : inspection.files) {
    if (f.type != "file") continue;
    std::string path = f.path;
    if (!top.empty()) {
      path = path == top ? "" : path.starts_with(top + "!/") ? path.substr(top.size() + 2) : path;
    }
    Component c{.ref = "file-" + std::to_string(++next),
                .kind = "file",
                .path = path.empty() ? top : path,
                .sha256 = f.sha256,
                .format = f.format};
    if (f.binary) {
      auto product = f.binary->version.find("ProductName");
      if (product != f.binary->version.end() && !product->second.empty()) {
        // The file's own name says what it is; OriginalFilename only when that says nothing
        // (a .NET apphost names its DLL there).
        const auto original = f.binary->version.find("OriginalFilename");
        const bool library = c.path.ends_with(".dll") ||
                             (!c.path.ends_with(".exe") && original != f.binary->version.end() &&
                              original->second.ends_with(".dll"));
        c.kind = library ? "library" : "application";
        c.name = product->second;
        c.version = version_of(*f.binary);
        auto company = f.binary->version.find("CompanyName");
        if (company != f.binary->version.end()) c.supplier = company->second;
      }
    }
    const size_t cut = f.path.rfind("!/");
    if (cut != std::string::npos) {
      auto parent = ref_of_path.find(f.path.substr(0, cut));
      if (parent != ref_of_path.end()) c.parent = parent->second;
    }
    ref_of_path[f.path] = c.ref;
    bom.components.push_back(std::move(c));
  }
  return bom;
}

Bom from_files(const std::string& name,
               const std::vector<HostFile>& files,
               const std::vector<Package>& packages) {
  Bom bom{.name = name, .created_ns = now_ns()};
  std::map<std::string, const Package*> by_name;
  for (const Package& p : packages) by_name.emplace(p.name, &p);
  std::map<std::string, std::string> package_ref;
  size_t next = 0;
  // Packages first, so that a parent comes before its files.
  for (const HostFile& f : files) {
    if (f.owner.empty()) continue;
    std::string owner = f.owner.substr(0, f.owner.find(','));
    owner = owner.substr(0, owner.find(':'));
    if (package_ref.contains(owner)) continue;
    Package p{.name = owner};
    if (auto it = by_name.find(owner); it != by_name.end()) p = *it->second;
    Component c{.ref = "pkg-" + std::to_string(package_ref.size() + 1),
                .kind = "library",
                .name = owner,
                .version = p.version,
                .purl = debian_purl(p)};
    package_ref[owner] = c.ref;
    bom.components.push_back(std::move(c));
  }
  for (const HostFile& f : files) {
    Component c{.ref = "file-" + std::to_string(++next),
                .kind = "file",
                .path = f.path,
                .sha256 = f.sha256,
                .sha1 = f.sha1,
                .format = f.format};
    if (!f.owner.empty()) {
      std::string owner = f.owner.substr(0, f.owner.find(','));
      c.parent = package_ref.at(owner.substr(0, owner.find(':')));
    }
    bom.components.push_back(std::move(c));
  }
  return bom;
}

Result<Bom> bom_of_scan(scan::ScanStore& store, int64_t scan_id, const pkg::DpkgLocation& dpkg) {
  CATENA_TRY(scan::ScanRecord scan, store.get_scan(scan_id));
  std::vector<HostFile> files;
  CATENA_TRY_STATUS(store.for_each_file(scan_id, [&](const scan::FileRecord& r) {
    if (r.type != scan::FileType::Regular || !r.sha256) return;
    files.push_back({.path = r.path,
                     .sha256 = r.sha256,
                     .sha1 = r.sha1,
                     .format = r.format,
                     .owner = r.package});
  }));
  std::vector<Package> packages;
  if (scan.host == host_name()) {
    auto database = pkg::DpkgDatabase::open(dpkg);
    if (database) {
      for (const pkg::InstalledPackage& p : database->packages()) {
        if (p.has_files()) {
          packages.push_back(
              {.name = p.name, .version = p.version, .architecture = p.architecture});
        }
      }
    } else if (database.error().code != ErrorCode::NotFound) {
      return tl::unexpected(database.error());
    }
  }
  return from_files("host " + scan.host + " scan " + std::to_string(scan_id), files, packages);
}

std::string write_cyclonedx(const Bom& bom) {
  const auto children = children_of(bom);
  json components = json::array();
  if (auto top = children.find(""); top != children.end()) {
    for (const Component* c : top->second)
      components.push_back(cyclonedx_component(*c, children, 0));
  }
  json document = {
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.6"},
      {"serialNumber", "urn:uuid:" + random_uuid()},
      {"version", 1},
      {"metadata",
       {{"timestamp", format_rfc3339(bom.created_ns)},
        {"tools",
         {{"components",
           json::array(
               {{{"type", "application"}, {"name", "catena"}, {"version", CATENA_VERSION}}})}}},
        {"component",
         {{"type", "application"}, {"bom-ref", "catena-subject"}, {"name", text_of(bom.name)}}}}},
      {"components", std::move(components)}};
  return dump(document);
}

std::string write_spdx(const Bom& bom) {
  json packages = json::array();
  json files = json::array();
  json relationships = json::array();
  const std::string root = "SPDXRef-Subject";
  packages.push_back({{"SPDXID", root},
                      {"name", text_of(bom.name)},
                      {"downloadLocation", "NOASSERTION"},
                      {"filesAnalyzed", false}});
  relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                           {"relationshipType", "DESCRIBES"},
                           {"relatedSpdxElement", root}});
  for (const Component& c : bom.components) {
    const std::string id = spdx_id(c.ref);
    json checksums = json::array();
    if (c.sha1) checksums.push_back({{"algorithm", "SHA1"}, {"checksumValue", to_hex(*c.sha1)}});
    if (c.sha256) {
      checksums.push_back({{"algorithm", "SHA256"}, {"checksumValue", to_hex(*c.sha256)}});
    }
    if (c.kind == "file") {
      json file = {{"SPDXID", id}, {"fileName", "./" + text_of(c.path)}};
      file["checksums"] = std::move(checksums);
      files.push_back(std::move(file));
    } else {
      json package = {{"SPDXID", id},
                      {"name", text_of(c.name)},
                      {"downloadLocation", "NOASSERTION"},
                      {"filesAnalyzed", false}};
      if (!c.version.empty()) package["versionInfo"] = text_of(c.version);
      if (!c.supplier.empty()) package["supplier"] = "Organization: " + text_of(c.supplier);
      if (!c.path.empty()) package["packageFileName"] = "./" + text_of(c.path);
      if (!checksums.empty()) package["checksums"] = std::move(checksums);
      if (!c.purl.empty()) {
        package["externalRefs"] = json::array({{{"referenceCategory", "PACKAGE-MANAGER"},
                                                {"referenceType", "purl"},
                                                {"referenceLocator", c.purl}}});
      }
      packages.push_back(std::move(package));
    }
    relationships.push_back({{"spdxElementId", c.parent.empty() ? root : spdx_id(c.parent)},
                             {"relationshipType", "CONTAINS"},
                             {"relatedSpdxElement", id}});
  }
  json document = {{"spdxVersion", "SPDX-2.3"},
                   {"dataLicense", "CC0-1.0"},
                   {"SPDXID", "SPDXRef-DOCUMENT"},
                   {"name", text_of(bom.name)},
                   {"documentNamespace", "https://spdx.org/spdxdocs/catena-" + random_uuid()},
                   {"creationInfo",
                    {{"created", format_rfc3339(bom.created_ns / 1'000'000'000 * 1'000'000'000)},
                     {"creators", json::array({std::string("Tool: catena-") + CATENA_VERSION})}}},
                   {"packages", std::move(packages)},
                   {"files", std::move(files)},
                   {"relationships", std::move(relationships)}};
  return dump(document);
}

}  // namespace catena::sbom
