// SBOMs read back: CycloneDX 1.4 to 1.6 and SPDX 2.2 and 2.3 JSON, as vendors write them.
// Untrusted input: sizes, counts and nesting are capped; a field of the wrong type is ignored
// where it says nothing the check needs, and a hash that is not 64 hex digits is no hash.
#include <algorithm>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "catena/core/time.hpp"
#include "catena/sbom/sbom.hpp"

namespace catena::sbom {
namespace {

using nlohmann::json;

std::string string_at(const json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<Sha256> sha256_of(std::string_view hex) {
  auto parsed = sha256_from_hex(hex);
  return parsed ? std::optional<Sha256>(*parsed) : std::nullopt;
}

std::optional<Sha1> sha1_of(std::string_view hex) {
  auto bytes = hex_decode(hex);
  if (!bytes || bytes->size() != 20) return std::nullopt;
  Sha1 out{};
  std::memcpy(out.data(), bytes->data(), out.size());
  return out;
}

std::string without_dot_slash(std::string path) {
  while (path.starts_with("./")) path.erase(0, 2);
  return path;
}

class CycloneDx {
 public:
  explicit CycloneDx(Bom& bom) : bom_(bom) {}

  Status components(const json& list, const std::string& parent, size_t depth) {
    if (!list.is_array()) return {};
    if (depth > kMaxNesting) {
      return make_error(ErrorCode::LimitExceeded,
                        "components nested deeper than " + std::to_string(kMaxNesting));
    }
    for (const json& item : list) {
      if (!item.is_object()) continue;
      if (bom_.components.size() >= kMaxComponents) {
        return make_error(ErrorCode::LimitExceeded,
                          "more than " + std::to_string(kMaxComponents) + " components");
      }
      Component c;
      c.ref = string_at(item, "bom-ref");
      if (c.ref.empty()) c.ref = "component-" + std::to_string(bom_.components.size() + 1);
      c.kind = string_at(item, "type");
      c.name = string_at(item, "name");
      c.version = string_at(item, "version");
      c.purl = string_at(item, "purl");
      c.parent = parent;
      if (auto supplier = item.find("supplier"); supplier != item.end() && supplier->is_object()) {
        c.supplier = string_at(*supplier, "name");
      }
      if (auto hashes = item.find("hashes"); hashes != item.end() && hashes->is_array()) {
        for (const json& h : *hashes) {
          if (!h.is_object()) continue;
          const std::string alg = string_at(h, "alg");
          if (alg == "SHA-256") c.sha256 = sha256_of(string_at(h, "content"));
          if (alg == "SHA-1") c.sha1 = sha1_of(string_at(h, "content"));
        }
      }
      if (auto properties = item.find("properties");
          properties != item.end() && properties->is_array()) {
        for (const json& p : *properties) {
          if (p.is_object() && string_at(p, "name") == "catena:path") {
            c.path = string_at(p, "value");
          }
        }
      }
      // A file component is named by its path.
      if (c.kind == "file" && c.path.empty()) c.path = without_dot_slash(c.name);
      const std::string ref = c.ref;
      bom_.components.push_back(std::move(c));
      if (auto nested = item.find("components"); nested != item.end()) {
        CATENA_TRY_STATUS(components(*nested, ref, depth + 1));
      }
    }
    return {};
  }

 private:
  Bom& bom_;
};

Result<Bom> parse_cyclonedx(const json& document) {
  const std::string version = string_at(document, "specVersion");
  if (version != "1.4" && version != "1.5" && version != "1.6") {
    return make_error(ErrorCode::Unsupported,
                      "CycloneDX " + version + " (catena reads 1.4, 1.5 and 1.6)");
  }
  Bom bom{.format = "CycloneDX " + version};
  if (auto metadata = document.find("metadata");
      metadata != document.end() && metadata->is_object()) {
    if (auto subject = metadata->find("component");
        subject != metadata->end() && subject->is_object()) {
      bom.name = string_at(*subject, "name");
    }
    if (auto t = parse_rfc3339(string_at(*metadata, "timestamp"))) bom.created_ns = *t;
  }
  CycloneDx reader(bom);
  if (auto list = document.find("components"); list != document.end()) {
    CATENA_TRY_STATUS(reader.components(*list, "", 0));
  }
  return bom;
}

Result<Bom> parse_spdx(const json& document) {
  const std::string version = string_at(document, "spdxVersion");
  if (version != "SPDX-2.2" && version != "SPDX-2.3") {
    return make_error(ErrorCode::Unsupported, version + " (catena reads SPDX-2.2 and SPDX-2.3)");
  }
  Bom bom{.name = string_at(document, "name"), .format = version};
  if (auto info = document.find("creationInfo"); info != document.end() && info->is_object()) {
    if (auto t = parse_rfc3339(string_at(*info, "created"))) bom.created_ns = *t;
  }
  const auto checksums = [](const json& item, Component& c) {
    auto list = item.find("checksums");
    if (list == item.end() || !list->is_array()) return;
    for (const json& sum : *list) {
      if (!sum.is_object()) continue;
      const std::string alg = string_at(sum, "algorithm");
      if (alg == "SHA256") c.sha256 = sha256_of(string_at(sum, "checksumValue"));
      if (alg == "SHA1") c.sha1 = sha1_of(string_at(sum, "checksumValue"));
    }
  };
  // Which element contains which: the CONTAINS relationships (and CONTAINED_BY).
  std::map<std::string, std::string> parent_of;
  // What the document describes: the subject, the top of the containment (as CycloneDX's
  // metadata component is); a subject without a hash is no component of its own.
  std::set<std::string> described;
  if (auto list = document.find("relationships"); list != document.end() && list->is_array()) {
    for (const json& r : *list) {
      if (!r.is_object()) continue;
      const std::string type = string_at(r, "relationshipType");
      const std::string from = string_at(r, "spdxElementId");
      const std::string to = string_at(r, "relatedSpdxElement");
      if (type == "CONTAINS") parent_of.emplace(to, from);
      if (type == "CONTAINED_BY") parent_of.emplace(from, to);
      if (type == "DESCRIBES" && from == "SPDXRef-DOCUMENT") described.insert(to);
    }
  }
  if (auto list = document.find("documentDescribes"); list != document.end() && list->is_array()) {
    for (const json& id : *list) {
      if (id.is_string()) described.insert(id.get<std::string>());
    }
  }
  const auto add = [&](Component c) -> Status {
    if (bom.components.size() >= kMaxComponents) {
      return make_error(ErrorCode::LimitExceeded,
                        "more than " + std::to_string(kMaxComponents) + " elements");
    }
    if (described.contains(c.ref) && !c.sha256 && !c.sha1) return {};
    if (auto it = parent_of.find(c.ref); it != parent_of.end() && !described.contains(it->second)) {
      c.parent = it->second;
    }
    bom.components.push_back(std::move(c));
    return {};
  };
  if (auto list = document.find("packages"); list != document.end() && list->is_array()) {
    for (const json& item : *list) {
      if (!item.is_object()) continue;
      Component c{.ref = string_at(item, "SPDXID"),
                  .kind = "library",
                  .name = string_at(item, "name"),
                  .version = string_at(item, "versionInfo"),
                  .path = without_dot_slash(string_at(item, "packageFileName"))};
      std::string supplier = string_at(item, "supplier");
      for (std::string_view prefix : {"Organization: ", "Person: "}) {
        if (supplier.starts_with(prefix)) supplier.erase(0, prefix.size());
      }
      if (supplier != "NOASSERTION") c.supplier = supplier;
      checksums(item, c);
      if (auto refs = item.find("externalRefs"); refs != item.end() && refs->is_array()) {
        for (const json& ref : *refs) {
          if (ref.is_object() && string_at(ref, "referenceType") == "purl") {
            c.purl = string_at(ref, "referenceLocator");
          }
        }
      }
      CATENA_TRY_STATUS(add(std::move(c)));
    }
  }
  if (auto list = document.find("files"); list != document.end() && list->is_array()) {
    for (const json& item : *list) {
      if (!item.is_object()) continue;
      Component c{.ref = string_at(item, "SPDXID"),
                  .kind = "file",
                  .path = without_dot_slash(string_at(item, "fileName"))};
      checksums(item, c);
      CATENA_TRY_STATUS(add(std::move(c)));
    }
  }
  return bom;
}

// The deepest nesting of arrays and objects, outside strings: the JSON parser recurses, so a
// document of a million '[' must be refused before it is parsed.
size_t nesting_of(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<Bom> parse_sbom(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) {
    return make_error(ErrorCode::LimitExceeded, "an SBOM of " + std::to_string(text.size()) +
                                                    " bytes (the cap is " +
                                                    std::to_string(kMaxDocumentBytes) + ")");
  }
  // Each nested component is two levels (its object and its components array) plus its own.
  if (nesting_of(text) > 4 * kMaxNesting) {
    return make_error(ErrorCode::LimitExceeded,
                      "JSON nested deeper than " + std::to_string(4 * kMaxNesting) + " levels");
  }
  json document = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return make_error(ErrorCode::Parse, "not a JSON object");
  }
  if (string_at(document, "bomFormat") == "CycloneDX") return parse_cyclonedx(document);
  if (document.contains("spdxVersion")) return parse_spdx(document);
  return make_error(ErrorCode::Unsupported,
                    "neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON");
}

}  // namespace catena::sbom
