#pragma once
/// OLE compound files (MS-CFB, versions 3 and 4), the container of MSI installers: the directory
/// tree with each entry's raw name, CLSID, state bits, times and size; stream contents through the
/// FAT and mini FAT chains; MSI's compressed stream names; and the SummaryInformation property
/// set.
///
///   CATENA_TRY(OleFile ole, parse_ole(bytes));
///   for (const OleEntry& e : ole.entries) { ... }
///   CATENA_TRY(std::vector<std::byte> data, read_ole_stream(ole, bytes, index));
///
/// Untrusted input: every sector number is checked against the file, every chain is followed at
/// most as many steps as the file has sectors (a loop is an error, not a hang), the directory tree
/// is walked with a visited set and a depth cap, and a stream is never larger than the file.
#include <array>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::formats {

inline constexpr size_t kMaxOleEntries = 65536;
inline constexpr size_t kMaxOleDepth = 32;

inline constexpr uint8_t kOleStorage = 1, kOleStream = 2, kOleRoot = 5;

struct OleEntry {
  std::string raw_name;  // UTF-16LE with its terminating NUL, as stored (nameLen bytes)
  std::string name;      // UTF-8; MSI's compressed names decoded; control characters as \xNN
  uint8_t type = 0;      // kOleStorage, kOleStream, kOleRoot; 0 unused
  std::array<uint8_t, 16> clsid{};
  uint32_t state_bits = 0;
  std::array<uint8_t, 8> created{}, modified{};  // FILETIMEs, as stored
  uint32_t start_sector = 0;
  uint64_t size = 0;  // only the low 32 bits in a version 3 file
  uint32_t left = 0, right = 0, child = 0;
  std::vector<uint32_t> children;  // entries under a storage, in tree order
};

struct OleFile {
  uint16_t major_version = 0;
  uint32_t sector_size = 0, mini_sector_size = 0, mini_cutoff = 0;
  std::vector<OleEntry> entries;  // [0] is the root
  std::vector<uint32_t> fat, mini_fat;
  /// The root's sectors, which hold the mini stream: a small stream is read through them in
  /// place, never by copying the whole mini stream once per stream.
  std::vector<uint32_t> mini_stream;
  std::vector<std::string> problems;  // damage that did not stop parsing
};

/// BadMagic when not a compound file; Truncated/OutOfRange/LimitExceeded for a header, FAT or
/// directory that cannot be read.
[[nodiscard]] Result<OleFile> parse_ole(std::span<const std::byte> file);

/// The contents of stream `index` (from the mini stream when it is below the cutoff).
[[nodiscard]] Result<std::vector<std::byte>> read_ole_stream(const OleFile& ole,
                                                             std::span<const std::byte> file,
                                                             size_t index);

/// The index of the root's child stream or storage whose UTF-8 name is `name`, or -1.
long find_ole_child(const OleFile& ole, size_t storage, std::string_view name);

/// SummaryInformation (the \x05SummaryInformation property set): title, subject, author,
/// keywords, comments, template, last_saved_by, revision, application, created, last_saved,
/// security. Strings only for the properties present; times as RFC 3339.
[[nodiscard]] Result<std::map<std::string, std::string>> parse_summary_information(
    std::span<const std::byte> stream);

}  // namespace catena::formats
