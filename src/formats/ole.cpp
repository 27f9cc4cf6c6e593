#include "catena/formats/ole.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <optional>

#include "catena/core/bytes.hpp"
#include "catena/core/time.hpp"

namespace catena::formats {
namespace {

constexpr std::string_view kOleMagic = "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";
constexpr uint32_t kEndOfChain = 0xfffffffe;
constexpr uint32_t kNoStream = 0xffffffff;
constexpr uint32_t kMaxRegularSector = 0xfffffffa;
constexpr size_t kHeaderDifat = 109;
constexpr size_t kEntrySize = 128;

// The file offset of sector `n`: the header occupies the first sector-sized block.
std::optional<uint64_t> sector_offset(const OleFile& ole, uint64_t file_size, uint32_t n) {
  if (n > kMaxRegularSector) return std::nullopt;
  const uint64_t at = (uint64_t{n} + 1) * ole.sector_size;
  if (at >= file_size) return std::nullopt;
  return at;
}

// The sectors of a chain through `fat`, at most as many as `fat` has entries (a loop is an error).
Result<std::vector<uint32_t>> follow_chain(const std::vector<uint32_t>& fat, uint32_t start) {
  std::vector<uint32_t> out;
  uint32_t sector = start;
  while (sector != kEndOfChain) {
    if (sector >= fat.size()) {
      if (sector == kNoStream && out.empty()) break;  // an empty chain
      return make_error(ErrorCode::OutOfRange, "a sector chain leaves the allocation table");
    }
    if (out.size() >= fat.size()) {
      return make_error(ErrorCode::LimitExceeded, "a sector chain loops");
    }
    out.push_back(sector);
    sector = fat[sector];
  }
  return out;
}

// Bytes of a chain of whole sectors, `length` of them.
Result<std::vector<std::byte>> read_chain(const OleFile& ole,
                                          std::span<const std::byte> file,
                                          const std::vector<uint32_t>& chain,
                                          uint64_t length) {
  if (length > file.size())
    return make_error(ErrorCode::LimitExceeded, "a stream larger than the file");
  std::vector<std::byte> out;
  out.reserve(static_cast<size_t>(length));
  for (uint32_t sector : chain) {
    if (out.size() >= length) break;
    auto at = sector_offset(ole, file.size(), sector);
    if (!at) return make_error(ErrorCode::OutOfRange, "a sector lies outside the file");
    const uint64_t want = std::min<uint64_t>(ole.sector_size, length - out.size());
    const uint64_t have = std::min<uint64_t>(want, file.size() - *at);
    out.insert(out.end(), file.begin() + static_cast<ptrdiff_t>(*at),
               file.begin() + static_cast<ptrdiff_t>(*at + have));
    if (have < want) break;
  }
  if (out.size() < length) return make_error(ErrorCode::Truncated, "a stream ends before its size");
  return out;
}

char msi_char(unsigned value) {
  if (value < 10) return static_cast<char>('0' + value);
  if (value < 36) return static_cast<char>('A' + value - 10);
  if (value < 62) return static_cast<char>('a' + value - 36);
  return value == 62 ? '.' : '_';
}

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x20 || code == 0x7f) {
    char text[8];
    std::snprintf(text, sizeof(text), "\\x%02x", code);
    out += text;
  } else if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xc0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3f));
  } else {
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd;  // a lone surrogate half
    out += static_cast<char>(0xe0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code & 0x3f));
  }
}

// MSI packs table and stream names two characters to a code unit (0x3800-0x47ff), one
// (0x4800-0x483f), and marks tables with 0x4840.
std::string decode_name(std::string_view raw) {
  std::string out;
  for (size_t idx = 0; idx + 1 < raw.size(); idx += 2) {
    const unsigned unit = static_cast<unsigned>(static_cast<uint8_t>(raw[idx])) |
                          (static_cast<unsigned>(static_cast<uint8_t>(raw[idx + 1])) << 8);
    if (unit == 0) break;
    if (unit >= 0x3800 && unit < 0x4800) {
      out += msi_char((unit - 0x3800) & 0x3f);
      out += msi_char(((unit - 0x3800) >> 6) & 0x3f);
    } else if (unit >= 0x4800 && unit < 0x4840) {
      out += msi_char(unit - 0x4800);
    } else if (unit == 0x4840) {
      out += '!';
    } else {
      append_utf8(out, unit);
    }
  }
  return out;
}

Result<OleEntry> parse_entry(std::span<const std::byte> bytes, bool version3) {
  const ByteReader r(bytes);
  OleEntry e;
  CATENA_TRY(uint16_t name_length, r.read_le<uint16_t>(0x40));
  CATENA_TRY(e.type, r.read_le<uint8_t>(0x42));
  CATENA_TRY(e.left, r.read_le<uint32_t>(0x44));
  CATENA_TRY(e.right, r.read_le<uint32_t>(0x48));
  CATENA_TRY(e.child, r.read_le<uint32_t>(0x4c));
  CATENA_TRY(auto clsid, r.bytes(0x50, 16));
  std::memcpy(e.clsid.data(), clsid.data(), 16);
  CATENA_TRY(e.state_bits, r.read_le<uint32_t>(0x60));
  CATENA_TRY(auto created, r.bytes(0x64, 8));
  CATENA_TRY(auto modified, r.bytes(0x6c, 8));
  std::memcpy(e.created.data(), created.data(), 8);
  std::memcpy(e.modified.data(), modified.data(), 8);
  CATENA_TRY(e.start_sector, r.read_le<uint32_t>(0x74));
  CATENA_TRY(e.size, r.read_le<uint64_t>(0x78));
  if (version3) e.size &= 0xffffffffu;
  name_length = std::min<uint16_t>(name_length, 64);
  CATENA_TRY(auto name, r.bytes(0, name_length));
  e.raw_name.assign(reinterpret_cast<const char*>(name.data()), name.size());
  e.name = decode_name(e.raw_name);
  return e;
}

}  // namespace

Result<OleFile> parse_ole(std::span<const std::byte> file) {
  const ByteReader r(file);
  if (!r.matches(0, kOleMagic)) return make_error(ErrorCode::BadMagic, "not an OLE compound file");
  if (file.size() < 512)
    return make_error(ErrorCode::Truncated, "the compound-file header is cut short");
  OleFile ole;
  CATENA_TRY(ole.major_version, r.read_le<uint16_t>(0x1a));
  CATENA_TRY(uint16_t sector_shift, r.read_le<uint16_t>(0x1e));
  CATENA_TRY(uint16_t mini_shift, r.read_le<uint16_t>(0x20));
  if ((ole.major_version != 3 && ole.major_version != 4) ||
      (sector_shift != 9 && sector_shift != 12) || mini_shift != 6) {
    return make_error(ErrorCode::Unsupported, "compound-file version or sector size");
  }
  ole.sector_size = 1u << sector_shift;
  ole.mini_sector_size = 1u << mini_shift;
  CATENA_TRY(uint32_t fat_sectors, r.read_le<uint32_t>(0x2c));
  CATENA_TRY(uint32_t first_directory, r.read_le<uint32_t>(0x30));
  CATENA_TRY(ole.mini_cutoff, r.read_le<uint32_t>(0x38));
  CATENA_TRY(uint32_t first_mini_fat, r.read_le<uint32_t>(0x3c));
  CATENA_TRY(uint32_t first_difat, r.read_le<uint32_t>(0x44));
  CATENA_TRY(uint32_t difat_sectors, r.read_le<uint32_t>(0x48));
  const uint64_t sectors_in_file = file.size() / ole.sector_size;
  if (fat_sectors > sectors_in_file || difat_sectors > sectors_in_file) {
    return make_error(ErrorCode::LimitExceeded, "more allocation sectors than the file holds");
  }

  // The FAT's own sectors: 109 in the header, the rest in the DIFAT chain.
  std::vector<uint32_t> fat_locations;
  for (size_t idx = 0; idx < kHeaderDifat && fat_locations.size() < fat_sectors; ++idx) {
    CATENA_TRY(uint32_t sector, r.read_le<uint32_t>(0x4c + 4 * idx));
    fat_locations.push_back(sector);
  }
  uint32_t difat = first_difat;
  const size_t per_difat = ole.sector_size / 4 - 1;
  for (uint32_t step = 0; step < difat_sectors && fat_locations.size() < fat_sectors; ++step) {
    auto at = sector_offset(ole, file.size(), difat);
    if (!at) return make_error(ErrorCode::OutOfRange, "a DIFAT sector lies outside the file");
    for (size_t idx = 0; idx < per_difat && fat_locations.size() < fat_sectors; ++idx) {
      CATENA_TRY(uint32_t sector, r.read_le<uint32_t>(*at + 4 * idx));
      fat_locations.push_back(sector);
    }
    CATENA_TRY(difat, r.read_le<uint32_t>(*at + 4 * per_difat));
  }
  if (fat_locations.size() < fat_sectors)
    ole.problems.push_back("the DIFAT names fewer FAT sectors than the header");
  for (uint32_t location : fat_locations) {
    auto at = sector_offset(ole, file.size(), location);
    if (!at) return make_error(ErrorCode::OutOfRange, "a FAT sector lies outside the file");
    for (uint32_t idx = 0; idx < ole.sector_size / 4; ++idx) {
      auto next = r.read_le<uint32_t>(*at + 4 * uint64_t{idx});
      ole.fat.push_back(next ? *next : kNoStream);
    }
  }

  // The directory: 128-byte entries along its chain.
  CATENA_TRY(std::vector<uint32_t> directory, follow_chain(ole.fat, first_directory));
  for (uint32_t sector : directory) {
    auto at = sector_offset(ole, file.size(), sector);
    if (!at) return make_error(ErrorCode::OutOfRange, "a directory sector lies outside the file");
    for (uint64_t off = 0; off + kEntrySize <= ole.sector_size; off += kEntrySize) {
      if (ole.entries.size() >= kMaxOleEntries) {
        return make_error(ErrorCode::LimitExceeded, "too many directory entries");
      }
      auto bytes = r.bytes(*at + off, kEntrySize);
      if (!bytes) break;
      CATENA_TRY(OleEntry entry, parse_entry(*bytes, ole.major_version == 3));
      ole.entries.push_back(std::move(entry));
    }
  }
  if (ole.entries.empty() || ole.entries[0].type != kOleRoot) {
    return make_error(ErrorCode::Parse, "the directory has no root entry");
  }

  // The tree: each storage's children are the red-black tree under its child pointer. An entry
  // reached twice (a cycle or a shared subtree) is a problem and is not followed again.
  std::vector<bool> seen(ole.entries.size(), false);
  seen[0] = true;
  std::vector<std::pair<uint32_t, size_t>> storages = {{0, 0}};
  while (!storages.empty()) {
    const auto [storage, depth] = storages.back();
    storages.pop_back();
    if (depth > kMaxOleDepth) {
      ole.problems.push_back("storages nest deeper than " + std::to_string(kMaxOleDepth));
      continue;
    }
    std::vector<uint32_t> pending = {ole.entries[storage].child};
    std::vector<uint32_t> children;
    while (!pending.empty()) {
      const uint32_t id = pending.back();
      pending.pop_back();
      if (id == kNoStream) continue;
      if (id >= ole.entries.size() || seen[id]) {
        ole.problems.push_back("the directory tree refers to entry " + std::to_string(id) +
                               " out of place");
        continue;
      }
      seen[id] = true;
      children.push_back(id);
      pending.push_back(ole.entries[id].left);
      pending.push_back(ole.entries[id].right);
      if (ole.entries[id].type == kOleStorage) storages.push_back({id, depth + 1});
    }
    ole.entries[storage].children = std::move(children);
  }

  if (ole.entries[0].size > 0) {
    auto chain = follow_chain(ole.fat, ole.entries[0].start_sector);
    if (chain) {
      ole.mini_stream = std::move(*chain);
    } else {
      ole.problems.push_back("the mini stream's chain is damaged: " + chain.error().describe());
    }
  }
  // The mini FAT, for streams below the cutoff.
  if (first_mini_fat != kEndOfChain && first_mini_fat != kNoStream) {
    auto chain = follow_chain(ole.fat, first_mini_fat);
    if (!chain) {
      ole.problems.push_back("the mini FAT chain is damaged: " + chain.error().describe());
    } else {
      for (uint32_t sector : *chain) {
        auto at = sector_offset(ole, file.size(), sector);
        if (!at) break;
        for (uint32_t idx = 0; idx < ole.sector_size / 4; ++idx) {
          auto next = r.read_le<uint32_t>(*at + 4 * uint64_t{idx});
          ole.mini_fat.push_back(next ? *next : kNoStream);
        }
      }
    }
  }
  return ole;
}

Result<std::vector<std::byte>> read_ole_stream(const OleFile& ole,
                                               std::span<const std::byte> file,
                                               size_t index) {
  if (index >= ole.entries.size()) return make_error(ErrorCode::Usage, "no such entry");
  const OleEntry& entry = ole.entries[index];
  if (entry.size == 0) return std::vector<std::byte>{};
  if (entry.size > file.size()) {
    return make_error(ErrorCode::LimitExceeded, "a stream larger than the file");
  }
  if (entry.type == kOleRoot || entry.size >= ole.mini_cutoff) {
    CATENA_TRY(std::vector<uint32_t> chain, follow_chain(ole.fat, entry.start_sector));
    return read_chain(ole, file, chain, entry.size);
  }
  // A small stream lives in the mini stream (the root's data), in 64-byte mini sectors, each
  // inside one of the root's sectors (a sector holds a whole number of them): read in place.
  CATENA_TRY(std::vector<uint32_t> chain, follow_chain(ole.mini_fat, entry.start_sector));
  const uint64_t mini_length = ole.entries[0].size;
  std::vector<std::byte> out;
  out.reserve(static_cast<size_t>(entry.size));
  for (uint32_t sector : chain) {
    if (out.size() >= entry.size) break;
    const uint64_t at = uint64_t{sector} * ole.mini_sector_size;
    const uint64_t want = std::min<uint64_t>(ole.mini_sector_size, entry.size - out.size());
    const uint64_t holder = at / ole.sector_size;
    if (!fits_in(mini_length, at, want) || holder >= ole.mini_stream.size()) {
      return make_error(ErrorCode::OutOfRange, "a mini sector lies outside the mini stream");
    }
    auto base = sector_offset(ole, file.size(), ole.mini_stream[static_cast<size_t>(holder)]);
    const uint64_t offset = base ? *base + at % ole.sector_size : 0;
    if (!base || !fits_in(file.size(), offset, want)) {
      return make_error(ErrorCode::Truncated, "a mini sector lies outside the file");
    }
    out.insert(out.end(), file.begin() + static_cast<ptrdiff_t>(offset),
               file.begin() + static_cast<ptrdiff_t>(offset + want));
  }
  if (out.size() < entry.size)
    return make_error(ErrorCode::Truncated, "a stream ends before its size");
  return out;
}

long find_ole_child(const OleFile& ole, size_t storage, std::string_view name) {
  if (storage >= ole.entries.size()) return -1;
  for (uint32_t id : ole.entries[storage].children) {
    if (ole.entries[id].name == name) return static_cast<long>(id);
  }
  return -1;
}

Result<std::map<std::string, std::string>> parse_summary_information(
    std::span<const std::byte> stream) {
  const ByteReader r(stream);
  CATENA_TRY(uint16_t order, r.read_le<uint16_t>(0));
  if (order != 0xfffe) return make_error(ErrorCode::BadMagic, "not a property set stream");
  CATENA_TRY(uint32_t sets, r.read_le<uint32_t>(24));
  if (sets == 0) return std::map<std::string, std::string>{};
  CATENA_TRY(uint32_t section, r.read_le<uint32_t>(28 + 16));
  CATENA_TRY(uint32_t count, r.read_le<uint32_t>(uint64_t{section} + 4));
  if (count > 1024) return make_error(ErrorCode::LimitExceeded, "too many properties");
  static const std::map<uint32_t, std::string> kNames = {
      {2, "title"},        {3, "subject"},     {4, "author"},        {5, "keywords"},
      {6, "comments"},     {7, "template"},    {8, "last_saved_by"}, {9, "revision"},
      {12, "created"},     {13, "last_saved"}, {14, "schema"},       {15, "source_flags"},
      {18, "application"}, {19, "security"}};
  std::map<std::string, std::string> out;
  for (uint32_t idx = 0; idx < count; ++idx) {
    CATENA_TRY(uint32_t id, r.read_le<uint32_t>(uint64_t{section} + 8 + 8 * uint64_t{idx}));
    CATENA_TRY(uint32_t offset, r.read_le<uint32_t>(uint64_t{section} + 12 + 8 * uint64_t{idx}));
    auto name = kNames.find(id);
    if (name == kNames.end()) continue;
    const uint64_t at = uint64_t{section} + offset;
    CATENA_TRY(uint32_t type, r.read_le<uint32_t>(at));
    switch (type & 0xffff) {
      case 30: {  // VT_LPSTR
        CATENA_TRY(uint32_t length, r.read_le<uint32_t>(at + 4));
        CATENA_TRY(auto text, r.bytes(at + 8, length));
        std::string value;
        for (std::byte b : text) {
          const auto c = static_cast<unsigned char>(b);
          if (c == 0) break;
          value += c < 0x20 ? '?' : static_cast<char>(c);
        }
        out[name->second] = value;
        break;
      }
      case 2: {  // VT_I2
        CATENA_TRY(int16_t value, r.read_le<int16_t>(at + 4));
        out[name->second] = std::to_string(value);
        break;
      }
      case 3: {  // VT_I4
        CATENA_TRY(int32_t value, r.read_le<int32_t>(at + 4));
        out[name->second] = std::to_string(value);
        break;
      }
      case 64: {  // VT_FILETIME: 100 ns units since 1601
        CATENA_TRY(uint64_t value, r.read_le<uint64_t>(at + 4));
        constexpr uint64_t kUnixEpoch = 116444736000000000ull;
        if (value >= kUnixEpoch && value - kUnixEpoch < (1ull << 62) / 100) {
          out[name->second] = format_rfc3339(static_cast<int64_t>((value - kUnixEpoch) * 100));
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

}  // namespace catena::formats
