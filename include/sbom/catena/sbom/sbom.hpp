#pragma once
/// Software bills of materials: what a release or a scanned host holds, written as CycloneDX 1.6
/// or SPDX 2.3 JSON; a vendor's SBOM read back (CycloneDX 1.4 to 1.6, SPDX 2.2 and 2.3 JSON) and
/// checked against what is really there.
///
///   sbom::Bom bom = sbom::from_inspection(inspection);      // or from_files(records, packages)
///   std::string text = sbom::write_cyclonedx(bom);          // or write_spdx
///   CATENA_TRY(sbom::Bom claimed, sbom::parse_sbom(vendor_json));
///   std::vector<Finding> found = sbom::check_sbom(claimed, bom);
///
/// A component is a file (with its path and digests), a program or library named by its PE
/// VERSIONINFO (still with its file's path and digests), or a Debian package (with its purl).
/// Containment (a file in an archive, a file of a package) is kept as the component's parent:
/// CycloneDX nests it, SPDX says CONTAINS.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/pkg/dpkg.hpp"
#include "catena/release/inspect.hpp"
#include "catena/scan/scan_store.hpp"

namespace catena::sbom {

/// Caps on what an SBOM read back may hold: components (nested ones counted), nesting depth, and
/// the document's size in bytes.
inline constexpr size_t kMaxComponents = 2'000'000;
inline constexpr size_t kMaxNesting = 64;
inline constexpr size_t kMaxDocumentBytes = 512ull << 20;

struct Component {
  std::string ref;   // unique within the BOM (bom-ref; the SPDXID is made from it)
  std::string kind;  // "file", "application", "library" (a DLL, or a Debian package)
  std::string name, version, supplier, purl;
  std::string path;  // a file's path: inside the release (without its own name), or on the host
  std::optional<Sha256> sha256;
  std::optional<Sha1> sha1;
  std::string parent;  // ref of the component that contains it; empty at the top
  std::string format;  // for files catena inspected: "pe", "elf", ... (not written out)
};

struct Bom {
  std::string name;    // what it describes: the release's path, or "host NAME scan N"
  std::string format;  // when read back: "CycloneDX 1.5", "SPDX-2.3"
  int64_t created_ns = 0;
  std::vector<Component> components;  // a parent comes before what it contains
};

/// Every file of an inspected release (symlinks and others left out), paths without the
/// release's own name. PE files with a ProductName are named by it (version: ProductVersion,
/// else FileVersion, else the fixed file version; supplier: CompanyName).
Bom from_inspection(const release::Inspection& inspection);

/// A Debian package the files of a scan belong to.
struct Package {
  std::string name, version, architecture;
};

/// A scanned host's regular files with their digests; each owned file under its package
/// (`owner`: the record's package field, "coreutils" or "libc6:amd64, libc6-dev"), the package's
/// version and architecture taken from `packages` (a package not there gets no version).
struct HostFile {
  std::string path;
  std::optional<Sha256> sha256;
  std::optional<Sha1> sha1;
  std::string format;
  std::string owner;
};
Bom from_files(const std::string& name,
               const std::vector<HostFile>& files,
               const std::vector<Package>& packages);

/// The SBOM of a stored scan: its regular files with their digests, under their Debian packages.
/// Package versions come from the dpkg database at `dpkg` when the scan is of this host (the
/// database as it is now, which the docs say); a scan of another host gets package names only.
[[nodiscard]] Result<Bom> bom_of_scan(scan::ScanStore& store,
                                      int64_t scan_id,
                                      const pkg::DpkgLocation& dpkg);

/// pkg:deb/debian/NAME@VERSION?arch=ARCH (name, version and arch percent-encoded as the purl
/// specification asks; the arch left out when unknown).
std::string debian_purl(const Package& package);

/// CycloneDX 1.6 JSON and SPDX 2.3 JSON. `created_ns` and a random serial or namespace make
/// each document unique.
std::string write_cyclonedx(const Bom& bom);
std::string write_spdx(const Bom& bom);

/// Reads a CycloneDX (1.4, 1.5, 1.6) or SPDX (2.2, 2.3) JSON document. Parse for malformed JSON,
/// Unsupported for another format or version, LimitExceeded past the caps above.
[[nodiscard]] Result<Bom> parse_sbom(std::string_view text);

/// What an SBOM claims against what is there: SBOM_HASH_MISMATCH (a declared component found by
/// path or file name with another SHA-256), SBOM_MISSING_COMPONENT (a declared component not
/// found at all), SBOM_UNDECLARED_EXECUTABLE (an executable there that the SBOM names neither by
/// hash nor by path or file name). Most severe first.
std::vector<Finding> check_sbom(const Bom& declared, const Bom& actual);

/// An SBOM kept in the store as claims: what a vendor said its release holds.
struct SbomRecord {
  int64_t id = 0;
  std::string name, format, source;  // source: the file it was imported from
  int64_t imported_ns = 0;
  uint64_t components = 0;
};

/// A claim that matches a content: which SBOM names which component with this SHA-256.
struct Claim {
  int64_t sbom_id = 0;
  std::string sbom_name, component, version, path;
};

class SbomStore {
 public:
  virtual ~SbomStore() = default;
  [[nodiscard]] virtual Result<int64_t> put_sbom(const Bom& bom, const std::string& source) = 0;
  [[nodiscard]] virtual Result<std::vector<SbomRecord>> list_sboms() = 0;
  [[nodiscard]] virtual Result<Bom> get_sbom(int64_t id) = 0;
  [[nodiscard]] virtual Result<std::vector<Claim>> claims_for(const Sha256& sha256) = 0;
};

}  // namespace catena::sbom
