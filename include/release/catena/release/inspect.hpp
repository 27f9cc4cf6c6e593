#pragma once
/// A release opened to its last file: a directory or a file, and every archive inside it
/// (zip family, tar under any compression, .deb and ar, rpm and cpio, 7z, cab, Electron asar)
/// opened in turn, to a bounded depth. Nothing is extracted to disk; a file inside an archive
/// is named by its nesting, "setup.zip!/app/resources/app.asar!/main.js".
///
///   CATENA_TRY(release::Inspection seen, release::inspect("dist/", {}));
///   for (const release::ReleaseFile& f : seen.files) ...   // path, size, SHA-256, format
///
/// Every file's bytes go once through the content analyser table (format, signature, binary
/// facts, YARA, indicators); a content met twice is analysed once. An MSI is opened through
/// its compound-file streams (the embedded cabinets in turn); NSIS, Inno Setup and DMG are
/// listed as opaque.
///
/// Hostile releases are expected: an archive that hits a limit (members, a member's or all
/// members' expanded bytes, the expansion ratio, the nesting depth) or is damaged is a finding
/// (RELEASE_ARCHIVE_LIMIT, RELEASE_ARCHIVE_DAMAGED) with what was read before it kept, and the
/// rest of the release is still inspected. A member name that would escape an extraction
/// directory ("../", absolute) is RELEASE_UNSAFE_MEMBER_NAME; names are only ever reported.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catena/content/analysers.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/formats/archive.hpp"

namespace catena::release {

class InspectionCache;

struct InspectOptions {
  formats::ArchiveLimits limits;
  unsigned max_depth = 8;  // archives inside archives opened, counting the outermost as 1
  /// The analysers' inputs (YARA rules, signer blocklist, indicators and their caps); the
  /// binary analyser is always asked for. `analyse` false lists files with their digests only.
  content::ContentFacts analysis;
  bool analyse = true;
  /// Where what was found inside each of the release's own files is kept and reused by the
  /// file's SHA-256 (cache.hpp); null: nothing kept. Used from both threads of a diff.
  InspectionCache* cache = nullptr;
  /// Workers reading a directory release's own files at once (0: one per core). The result
  /// does not depend on it: files are merged in the walk's order, and a release that runs out
  /// of its expanded-bytes budget is read again serially, so that what the budget leaves out
  /// is what a serial reading leaves out.
  unsigned jobs = 0;
};

struct ReleaseFile {
  std::string path;  // inside the release; "!/" enters an archive
  std::string type;  // "file", "symlink" (with link_target), "other"
  uint64_t size = 0;
  std::optional<Sha256> sha256;  // files only
  std::string format;            // formats::format_name, or "asar"
  std::string link_target;
  unsigned depth = 0;    // archives it lies in
  std::string archive;   // for an archive that was opened: libarchive's name of its format
  uint64_t members = 0;  // for an archive that was opened: members read
  /// A format catena lists but does not open ("nsis", "inno-setup", "dmg"): its own signature
  /// is still judged: NSIS and Inno Setup are PEs, a disk image carries its own code signature.
  std::string opaque;
  std::string signature;  // verdict, for the formats catena verifies
  std::string signer;
  /// Executables facts, shared by every file of the same content.
  std::shared_ptr<const content::BinaryFacts> binary;
};

struct Inspection {
  std::string root;  // the path inspected
  /// The name a file release's paths start with (its file name); empty for a directory, whose
  /// paths are relative to it.
  std::string top;
  std::vector<ReleaseFile> files;
  std::vector<Finding> findings;  // most severe first
  uint64_t archives = 0;          // archives opened
  uint64_t expanded_bytes = 0;    // bytes read out of archives
  uint64_t bytes = 0;             // bytes of the release's own files
  uint64_t reused = 0;            // release files whose inside was taken from the cache
};

/// Inspects the file or directory at `path` (followed when it is a symlink: a person named it;
/// nothing inside a directory is followed). NotFound when it does not exist.
[[nodiscard]] Result<Inspection> inspect(const std::string& path, const InspectOptions& options);

/// The same for a release that is one file already in memory, named `name` (its paths start
/// with it): an upload, or a fuzzer's input. Its size is not checked against max_member_bytes.
Inspection inspect_bytes(const std::string& name,
                         std::string_view bytes,
                         const InspectOptions& options);

}  // namespace catena::release
