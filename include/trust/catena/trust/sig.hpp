#pragma once
/// What `catena sig` says of one file: its format, its signatures and a verdict, with the
/// structural anomalies a trojanized-but-signed file leaves as findings.
///
/// Verdicts: `unsigned` (no signature), `invalid` (a digest that does not match the file, or a
/// signature that does not verify), `anomalous` (valid signatures but a high or critical anomaly,
/// such as data hidden in the signature block), `untrusted` (no signature chains to the trust
/// store, or its signer expired without a timestamp), `valid`.
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/formats/image.hpp"
#include "catena/trust/authenticode.hpp"

namespace catena::trust {

struct SigReport {
  std::string path;
  std::string format;
  bool is_signed = false;
  std::string verdict;
  std::vector<Signature> signatures;
  std::vector<Finding> findings;                  // sorted, most severe first
  std::vector<std::string> imports;               // DLL names a PE imports
  std::map<std::string, std::string> properties;  // MSI SummaryInformation; PE VERSIONINFO
  std::string file_version;  // a PE's VS_FIXEDFILEINFO file version ("14.30.30626.0")
};

/// A cap on a DLL read to judge a side-load; larger ones are skipped.
inline constexpr uint64_t kMaxSideloadDllBytes = 1ull << 30;

/// `finding_digests` false leaves each finding's sha256 unset, for a caller that hashes the file
/// anyway (the scan): computing it here would read every byte once more.
SigReport check_signatures(const std::string& path,
                           std::span<const std::byte> bytes,
                           const TrustStore& store,
                           bool finding_digests = true);

/// The same for a content already parsed (formats::parse_image of these bytes): the scan parses
/// each content once for all its analysers.
SigReport check_signatures(const std::string& path,
                           std::span<const std::byte> bytes,
                           const formats::ParsedImage& image,
                           const TrustStore& store,
                           bool finding_digests = true);

/// Directory listings for side-load checks, kept for one run so that a thousand files in one
/// folder list it once, not a thousand times. Shared between threads.
class DirectoryListings {
 public:
  /// The names in `dir` keyed by their lower-case form.
  std::shared_ptr<const std::map<std::string, std::string>> get(const std::string& dir);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const std::map<std::string, std::string>>> listings_;
};

/// SIDELOAD_CANDIDATE findings for a signed PE image: each DLL it imports that sits in its own
/// directory (where Windows looks first, as 3CXDesktopApp.exe found its trojanized ffmpeg.dll)
/// and is unsigned, or signed by a signer other than the image's. Names match without case.
std::vector<Finding> sideload_findings(const SigReport& image,
                                       const TrustStore& store,
                                       DirectoryListings& listings);

}  // namespace catena::trust
