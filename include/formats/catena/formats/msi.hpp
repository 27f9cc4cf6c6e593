#pragma once
/// An MSI database's tables, read from its compound file (docs: the Windows Installer SDK's
/// database format): the shared string pool and the File table, so that a cabinet's members,
/// which are named by their File-table keys, can be shown by the names they install as.
///
///   CATENA_TRY(OleFile ole, parse_ole(bytes));
///   CATENA_TRY(MsiFileNames names, msi_file_names(ole, bytes));
///   names.at("filE3A1C0") == "ffmpeg.dll"
///
/// Untrusted input: string lengths are checked against the string data, string references
/// against the pool, a table's size must be a whole number of rows, and every count is capped.
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/formats/ole.hpp"

namespace catena::formats {

inline constexpr size_t kMaxMsiStrings = 1 << 20;
inline constexpr size_t kMaxMsiRows = 1 << 20;

/// The string pool: string id N is strings[N] (id 0, the null string, is ""); the bytes are in
/// the database's code page, as stored. `long_refs`: string references take 3 bytes, not 2.
struct MsiStringPool {
  std::vector<std::string> strings;
  bool long_refs = false;
};
[[nodiscard]] Result<MsiStringPool> parse_msi_string_pool(std::span<const std::byte> pool,
                                                          std::span<const std::byte> data);

/// File key -> the long name it installs as (FileName's part after "|", or all of it).
using MsiFileNames = std::map<std::string, std::string>;
/// Parse or NotFound (no File table: not an MSI database) errors.
[[nodiscard]] Result<MsiFileNames> msi_file_names(const OleFile& ole,
                                                  std::span<const std::byte> file);

}  // namespace catena::formats
