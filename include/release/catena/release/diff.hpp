#pragma once
/// Two inspected releases compared file by file, with the reasons a change matters ranked: what
/// a trojanized build leaves behind (the same version with other bytes, a signature whose signed
/// digest still holds over changed bytes, a new signer or none, new imports, network strings or
/// packed sections), and in `rebuild` mode every difference beyond a rebuild's known noise.
///
///   CATENA_TRY(release::Inspection before, release::inspect("app-1.0.zip", {}));
///   CATENA_TRY(release::Inspection after, release::inspect("app-1.1.zip", {}));
///   release::ReleaseDiff d = release::diff(before, after, {});
///   for (const Finding& f : d.findings) ...   // most severe first
///
/// Files are matched by their path inside the release (the release's own name left out, so that
/// "app-1.0.zip!/bin/x.dll" matches "app-1.1.zip!/bin/x.dll"), then the rest by content (a move),
/// then by file name when the name is unique on both sides (a move with a change).
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/release/inspect.hpp"

namespace catena::release {

/// A section's entropy rise that is a finding: by at least kEntropyRise bits per byte, to at
/// least kEntropyHigh (compressed or encrypted data is near 8, code near 6).
inline constexpr double kEntropyRise = 0.5;
inline constexpr double kEntropyHigh = 7.2;

/// A build step as its provenance (catena attest, verified by the caller) tells it: the
/// SHA-256s (hex) of what it wrote and of what it read.
struct BuildStep {
  std::string step;    // the step's name
  std::string source;  // the envelope it came from
  std::set<std::string> products, materials;
};

/// What a vendor's SBOM says about a content, found by its SHA-256.
struct VendorClaim {
  std::string sbom;  // the SBOM's name or file
  std::string component, version;
};

struct DiffOptions {
  /// NEW is an independent rebuild of OLD's source: every difference beyond the noise rules
  /// (docs/release.md) is RELEASE_REBUILD_DIFFERS, and version and signature changes are not
  /// judged (a rebuild is the same version, and often unsigned).
  bool rebuild = false;
  /// The build's steps. When set, every change is labelled with the steps that produced (and
  /// read) its new bytes, and a changed executable no step produced is RELEASE_VENDORED_CHANGED.
  std::optional<std::vector<BuildStep>> steps;
  /// The vendor SBOMs' claims on a SHA-256 (hex), for a vendored file that changed.
  std::function<std::vector<VendorClaim>(const std::string& sha256)> vendor_claims;
};

enum class ChangeKind { Added, Removed, Changed, Moved };
std::string_view change_kind_name(ChangeKind kind);

struct FileChange {
  ChangeKind kind = ChangeKind::Changed;
  std::optional<ReleaseFile> before, after;  // the file on each side it exists on
  std::vector<std::string> rules;            // the findings it gave, most severe first
  /// With provenance: the steps ("STEP (ENVELOPE)") whose products, and whose materials, hold
  /// the new bytes.
  std::vector<std::string> produced_by, read_by;
  Severity severity = Severity::Info;  // of its most severe finding
  /// `after`'s path, or `before`'s for a removed file.
  const std::string& path() const { return after ? after->path : before->path; }
};

struct ReleaseDiff {
  std::string before_root, after_root;
  bool rebuild = false;
  std::vector<FileChange> changes;  // most severe first, then by path
  std::vector<Finding> findings;  // the comparison's, then the new release's own; most severe first
  uint64_t unchanged = 0, added = 0, removed = 0, changed = 0, moved = 0;
  std::vector<std::string> provenance;  // the envelopes the changes were labelled from
};

ReleaseDiff diff(const Inspection& before, const Inspection& after, const DiffOptions& options);

}  // namespace catena::release
