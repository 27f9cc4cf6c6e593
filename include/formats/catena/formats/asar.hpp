#pragma once
/// Electron's asar archive (app.asar): a pickled JSON header naming every file with its offset
/// and size in the data that follows it. Members are visited as read_archive visits them;
/// "unpacked" files (kept beside the archive in app.asar.unpacked/) are visited with no bytes.
///
/// Layout: uint32 4, uint32 header pickle size S, then the pickle (uint32 payload size, uint32
/// JSON length, the JSON), then the files' bytes from offset 8 + S.
#include <cstddef>
#include <functional>
#include <span>

#include "catena/core/result.hpp"
#include "catena/formats/archive.hpp"

namespace catena::formats {

/// True when `head` starts like an asar archive (the pickle sizes, then `{"files"`).
bool looks_like_asar(std::span<const std::byte> head);

/// Members of the asar in `bytes`. Parse error when the header is not an asar header; a file
/// whose bytes lie outside the archive stops the reading as Damaged. The header's directory
/// nesting is bounded (kAsarMaxDepth) and so is its size (64 MiB).
[[nodiscard]] Result<ArchiveSummary> read_asar(std::span<const std::byte> bytes,
                                               const ArchiveLimits& limits,
                                               const std::function<void(ArchiveMember&&)>& visit);
inline constexpr size_t kAsarMaxDepth = 64;

}  // namespace catena::formats
