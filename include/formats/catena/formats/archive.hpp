#pragma once
/// Members of an archive held in memory, read through libarchive: the zip family (.zip, .jar,
/// .nupkg, .vsix, .whl, .apk), tar under any compression libarchive reads (gzip, xz, zstd,
/// bzip2, lz4), ar (.deb), cpio and rpm, 7z, cab, ISO 9660, and a bare compressed stream (one
/// member named "data"). Nothing is written anywhere: a member is a name (as the archive spells
/// it, never resolved) and its bytes.
///
///   ArchiveLimits limits;  // documented defaults
///   CATENA_TRY(ArchiveSummary s, read_archive(bytes, limits, [&](ArchiveMember&& m) { ... }));
///   if (s.stop != ArchiveStop::None) ...  // a limit was hit or the archive is damaged
///
/// An archive is hostile input: every limit below ends the reading of that archive, with what
/// was read so far already visited and the reason in the summary, so the caller reports it and
/// carries on with the rest.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena::formats {

struct ArchiveLimits {
  uint64_t max_members = 100'000;
  uint64_t max_member_bytes = 1ULL << 30;  // one member's expanded bytes, held in memory
  uint64_t max_total_bytes = 4ULL << 30;   // every member's expanded bytes together
  /// Expanded bytes per archive byte, checked once past kRatioFloor expanded bytes (a small
  /// archive of text compresses well and is no bomb).
  uint64_t max_ratio = 200;
};
inline constexpr uint64_t kRatioFloor = 16ULL << 20;

enum class MemberType { File, Directory, Symlink, Hardlink, Other };

struct ArchiveMember {
  std::string name;  // exact bytes as stored
  MemberType type = MemberType::File;
  std::string data;  // a file's bytes; empty for the others
  /// An asar file kept beside the archive ("unpacked"): no bytes here, `size` declared.
  bool outside = false;
  uint64_t size = 0;        // with `outside`: the declared size
  std::string link_target;  // symlinks and hard links
  uint32_t mode = 0;
  int64_t mtime = 0;  // seconds, as stored (0 when none)
};

enum class ArchiveStop {
  None,         // read to its end
  Members,      // max_members reached
  MemberBytes,  // a member larger than max_member_bytes (it is not visited)
  TotalBytes,   // max_total_bytes reached
  Ratio,        // expansion ratio past max_ratio
  Damaged,      // truncated or corrupt: libarchive's reason in `error`
};
std::string_view archive_stop_name(ArchiveStop stop);

struct ArchiveSummary {
  std::string format;  // libarchive's name of the format ("ZIP 2.0 (deflation)", "GNU tar")
  uint64_t members = 0;
  uint64_t expanded_bytes = 0;
  ArchiveStop stop = ArchiveStop::None;
  std::string error;  // for Damaged, and the limit's numbers for the others
};

/// Reads the archive in `bytes`, visiting each member in order. Unsupported: bytes libarchive
/// does not recognise as an archive or compressed stream (nothing was visited).
[[nodiscard]] Result<ArchiveSummary> read_archive(
    std::span<const std::byte> bytes,
    const ArchiveLimits& limits,
    const std::function<void(ArchiveMember&&)>& visit);

/// Why a member name must never be used as a path: "absolute", "parent" (a ".." component),
/// "empty", or empty when it stays inside whatever holds it. catena never writes members; the
/// name is reported because an extracting tool would follow it.
std::string_view unsafe_member_name(std::string_view name);

}  // namespace catena::formats
