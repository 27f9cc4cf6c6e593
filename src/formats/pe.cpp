#include "catena/formats/pe.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "catena/core/bytes.hpp"

namespace catena::formats {
namespace {

constexpr uint16_t kPe32Magic = 0x10b;
constexpr uint16_t kPe32PlusMagic = 0x20b;
constexpr uint32_t kSecurityDirectory = 4;

// The length of the DER element at the start of `bytes` (tag, length and content), or 0 when it
// is not a well-formed definite-length element that fits.
uint64_t der_element_length(std::span<const std::byte> bytes) {
  if (bytes.size() < 2) return 0;
  const auto first_length = static_cast<uint8_t>(bytes[1]);
  uint64_t header = 2;
  uint64_t content = 0;
  if (first_length < 0x80) {
    content = first_length;
  } else {
    const unsigned count = first_length & 0x7f;
    if (count == 0 || count > 8 || bytes.size() < 2 + count) return 0;  // indefinite or huge
    for (unsigned idx = 0; idx < count; ++idx) {
      content = (content << 8) | static_cast<uint8_t>(bytes[2 + idx]);
    }
    header += count;
  }
  if (content > bytes.size() - header) return 0;
  return header + content;
}

}  // namespace

double entropy(std::span<const std::byte> bytes) {
  if (bytes.empty()) return 0;
  // Four histograms, so that runs of one byte value do not serialise on one counter.
  std::array<std::array<uint32_t, 256>, 4> partial{};
  const size_t quads = bytes.size() / 4;
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  for (size_t quad = 0; quad < quads; ++quad) {
    ++partial[0][data[4 * quad]];
    ++partial[1][data[4 * quad + 1]];
    ++partial[2][data[4 * quad + 2]];
    ++partial[3][data[4 * quad + 3]];
  }
  for (size_t idx = quads * 4; idx < bytes.size(); ++idx) ++partial[0][data[idx]];
  std::array<uint64_t, 256> counts{};
  for (size_t value = 0; value < 256; ++value) {
    counts[value] =
        uint64_t{partial[0][value]} + partial[1][value] + partial[2][value] + partial[3][value];
  }
  double out = 0;
  const auto total = static_cast<double>(bytes.size());
  for (uint64_t count : counts) {
    if (count == 0) continue;
    const double p = static_cast<double>(count) / total;
    out -= p * std::log2(p);
  }
  return out;
}

namespace {

// UTF-16LE code units to UTF-8; a lone surrogate becomes U+FFFD.
std::string utf8_of_utf16(const std::vector<uint16_t>& units) {
  std::string out;
  for (size_t idx = 0; idx < units.size(); ++idx) {
    uint32_t code = units[idx];
    if (code >= 0xd800 && code < 0xdc00 && idx + 1 < units.size() && units[idx + 1] >= 0xdc00 &&
        units[idx + 1] < 0xe000) {
      code = 0x10000 + ((code - 0xd800) << 10) + (units[idx + 1] - 0xdc00u);
      ++idx;
    } else if (code >= 0xd800 && code < 0xe000) {
      code = 0xfffd;
    }
    if (code < 0x80) {
      out += static_cast<char>(code);
    } else if (code < 0x800) {
      out += static_cast<char>(0xc0 | (code >> 6));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      out += static_cast<char>(0xe0 | (code >> 12));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (code >> 18));
      out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (code & 0x3f));
    }
  }
  return out;
}

// A NUL-terminated UTF-16LE string in [at, end), at most kMaxPeNameLength units; `next` is where
// it ends (after its NUL).
std::string read_utf16z(const ByteReader& r, uint64_t at, uint64_t end, uint64_t& next) {
  std::vector<uint16_t> units;
  next = at;
  while (next + 2 <= end && units.size() < kMaxPeNameLength) {
    auto unit = r.read_le<uint16_t>(next);
    if (!unit) break;
    next += 2;
    if (*unit == 0) break;
    units.push_back(*unit);
  }
  return utf8_of_utf16(units);
}

// One VERSIONINFO block: wLength, wValueLength, wType, szKey, padding, Value, padding, Children.
struct VersionBlock {
  uint64_t start = 0, end = 0;
  uint16_t value_length = 0, type = 0;
  std::string key;
  uint64_t value = 0;     // offset of Value (32-bit aligned)
  uint64_t children = 0;  // offset of the first child (32-bit aligned)
};

std::optional<VersionBlock> read_version_block(const ByteReader& r,
                                               uint64_t base,
                                               uint64_t at,
                                               uint64_t limit) {
  auto length = r.read_le<uint16_t>(at);
  auto value_length = r.read_le<uint16_t>(at + 2);
  auto type = r.read_le<uint16_t>(at + 4);
  if (!length || !value_length || !type || *length < 6 || at + *length > limit) return std::nullopt;
  VersionBlock b;
  b.start = at;
  b.end = at + *length;
  b.value_length = *value_length;
  b.type = *type;
  uint64_t after_key = 0;
  b.key = read_utf16z(r, at + 6, b.end, after_key);
  const auto align = [&](uint64_t offset) { return base + ((offset - base + 3) & ~uint64_t{3}); };
  b.value = align(after_key);
  // wValueLength counts WORDs for text values (wType 1) and bytes for binary ones.
  const uint64_t value_bytes = b.type == 1 ? uint64_t{b.value_length} * 2 : b.value_length;
  b.children = std::min(align(b.value + value_bytes), b.end);
  return b;
}

void parse_version_info(std::span<const std::byte> file, uint64_t at, uint64_t size, PeInfo& pe) {
  const ByteReader r(file);
  const uint64_t limit = std::min<uint64_t>(at + size, file.size());
  auto root = read_version_block(r, at, at, limit);
  if (!root || root->key != "VS_VERSION_INFO") {
    pe.layout_problems.push_back("the VERSIONINFO resource is malformed");
    return;
  }
  // VS_FIXEDFILEINFO: signature 0xFEEF04BD, then FileVersionMS and FileVersionLS at +8 and +12.
  auto signature = r.read_le<uint32_t>(root->value);
  auto ms = r.read_le<uint32_t>(root->value + 8);
  auto ls = r.read_le<uint32_t>(root->value + 12);
  if (root->value_length >= 52 && signature && *signature == 0xfeef04bd && ms && ls) {
    pe.fixed_file_version = std::to_string(*ms >> 16) + "." + std::to_string(*ms & 0xffff) + "." +
                            std::to_string(*ls >> 16) + "." + std::to_string(*ls & 0xffff);
  }
  // StringFileInfo > StringTable > String; each level's blocks are laid end to end.
  for (uint64_t child = root->children; child + 6 <= root->end;) {
    auto info = read_version_block(r, at, child, root->end);
    if (!info) break;
    auto table = info->key == "StringFileInfo"
                     ? read_version_block(r, at, info->children, info->end)
                     : std::nullopt;
    if (table) {
      for (uint64_t entry = table->children; entry + 6 <= table->end;) {
        auto text = read_version_block(r, at, entry, table->end);
        if (!text) break;
        uint64_t ignored = 0;
        const std::string value = read_utf16z(r, text->value, text->end, ignored);
        if (!text->key.empty() && pe.version_info.size() < 64) pe.version_info[text->key] = value;
        entry = at + ((text->end - at + 3) & ~uint64_t{3});
      }
    }
    child = at + ((info->end - at + 3) & ~uint64_t{3});
  }
}

// The resource tree: directories (16 bytes, then 8-byte entries) whose offsets are relative to
// the tree's start. Each directory is visited once (a tree that refers to itself is a problem),
// depth and leaves are capped.
void parse_resources(std::span<const std::byte> file, uint64_t root, PeInfo& pe) {
  const ByteReader r(file);
  std::set<uint64_t> visited;
  std::optional<std::pair<uint64_t, uint64_t>> version;  // RVA and size of the first RT_VERSION
  struct Pending {
    uint64_t offset;  // of a directory, from root
    size_t depth;
    bool version;  // under the RT_VERSION type entry
  };
  std::vector<Pending> pending = {{0, 0, false}};
  while (!pending.empty()) {
    const Pending dir = pending.back();
    pending.pop_back();
    if (dir.depth >= kMaxPeResourceDepth) {
      pe.layout_problems.push_back("the resource tree is deeper than " +
                                   std::to_string(kMaxPeResourceDepth));
      continue;
    }
    if (!visited.insert(dir.offset).second) {
      pe.layout_problems.push_back("the resource tree refers back to one of its directories");
      continue;
    }
    auto named = r.read_le<uint16_t>(root + dir.offset + 12);
    auto ids = r.read_le<uint16_t>(root + dir.offset + 14);
    if (!named || !ids) {
      pe.layout_problems.push_back("a resource directory lies outside the file");
      continue;
    }
    for (uint32_t idx = 0; idx < uint32_t{*named} + *ids; ++idx) {
      const uint64_t entry = root + dir.offset + 16 + 8 * uint64_t{idx};
      auto name = r.read_le<uint32_t>(entry);
      auto target = r.read_le<uint32_t>(entry + 4);
      if (!name || !target) {
        pe.layout_problems.push_back("a resource entry lies outside the file");
        break;
      }
      const bool is_version = dir.depth == 0 ? (*name == 16) : dir.version;
      if ((*target & 0x80000000u) != 0) {
        pending.push_back({*target & 0x7fffffffu, dir.depth + 1, is_version});
        continue;
      }
      if (++pe.resource_count > kMaxPeResources) {
        pe.layout_problems.push_back("more than " + std::to_string(kMaxPeResources) + " resources");
        return;
      }
      auto data_rva = r.read_le<uint32_t>(root + *target);
      auto data_size = r.read_le<uint32_t>(root + *target + 4);
      if (is_version && !version && data_rva && data_size) version = {{*data_rva, *data_size}};
    }
  }
  if (version) {
    if (auto at = pe_rva_to_offset(pe, version->first, file.size())) {
      parse_version_info(file, *at, version->second, pe);
    }
  }
}

void parse_exports(std::span<const std::byte> file, uint64_t at, PeInfo& pe) {
  const ByteReader r(file);
  auto name_rva = r.read_le<uint32_t>(at + 12);
  auto count = r.read_le<uint32_t>(at + 24);
  auto names_rva = r.read_le<uint32_t>(at + 32);
  if (!name_rva || !count || !names_rva) {
    pe.layout_problems.push_back("the export directory lies outside the file");
    return;
  }
  const auto read_name = [&](uint64_t rva) {
    std::string name;
    const auto offset = pe_rva_to_offset(pe, rva, file.size());
    if (!offset) return name;
    for (uint64_t idx = *offset; idx < file.size() && name.size() < kMaxPeNameLength; ++idx) {
      if (file[idx] == std::byte{0}) break;
      name.push_back(static_cast<char>(file[idx]));
    }
    return name;
  };
  pe.export_name = read_name(*name_rva);
  if (*count > kMaxPeExports) {
    pe.layout_problems.push_back(std::to_string(*count) + " named exports");
    return;
  }
  const auto names = pe_rva_to_offset(pe, *names_rva, file.size());
  if (!names && *count > 0) {
    pe.layout_problems.push_back("the export name table lies outside the file");
    return;
  }
  for (uint32_t idx = 0; idx < *count; ++idx) {
    auto rva = r.read_le<uint32_t>(*names + 4 * uint64_t{idx});
    if (!rva) {
      pe.layout_problems.push_back("the export name table is cut short");
      break;
    }
    pe.exports.push_back(read_name(*rva));
  }
}

}  // namespace

double pe_section_entropy(std::span<const std::byte> file, const PeSection& section) {
  const uint64_t start = std::min<uint64_t>(section.raw_offset, file.size());
  const uint64_t end =
      std::min<uint64_t>(uint64_t{section.raw_offset} + section.raw_size, file.size());
  return entropy(file.subspan(static_cast<size_t>(start), static_cast<size_t>(end - start)));
}

Result<PeInfo> parse_pe(std::span<const std::byte> file) {
  const ByteReader r(file);
  if (!r.matches(0, "MZ")) return make_error(ErrorCode::BadMagic, "not an MZ executable");
  CATENA_TRY(uint32_t e_lfanew, r.read_le<uint32_t>(0x3c));
  if (!r.matches(e_lfanew, std::string_view("PE\0\0", 4))) {
    return make_error(ErrorCode::BadMagic, "no PE signature at e_lfanew", e_lfanew);
  }
  PeInfo pe;
  const uint64_t coff = uint64_t{e_lfanew} + 4;
  CATENA_TRY(pe.machine, r.read_le<uint16_t>(coff));
  CATENA_TRY(uint16_t section_count, r.read_le<uint16_t>(coff + 2));
  CATENA_TRY(uint16_t optional_size, r.read_le<uint16_t>(coff + 16));
  CATENA_TRY(pe.characteristics, r.read_le<uint16_t>(coff + 18));
  const uint64_t optional = coff + 20;
  CATENA_TRY(uint16_t magic, r.read_le<uint16_t>(optional));
  if (magic != kPe32Magic && magic != kPe32PlusMagic) {
    return make_error(ErrorCode::Unsupported, "unknown optional header magic", optional);
  }
  pe.pe32_plus = magic == kPe32PlusMagic;
  pe.checksum_offset = optional + 64;
  CATENA_TRY(pe.checksum, r.read_le<uint32_t>(pe.checksum_offset));
  CATENA_TRY(pe.subsystem, r.read_le<uint16_t>(optional + 68));
  CATENA_TRY(uint32_t size_of_headers, r.read_le<uint32_t>(optional + 60));
  pe.headers_size = size_of_headers;
  const uint64_t directories = optional + (pe.pe32_plus ? 112 : 96);
  CATENA_TRY(uint32_t directory_count, r.read_le<uint32_t>(directories - 4));
  if (directory_count > kSecurityDirectory &&
      directories + 8 * (kSecurityDirectory + 1) <= optional + optional_size) {
    pe.security_entry_offset = directories + 8 * kSecurityDirectory;
    CATENA_TRY(pe.cert_table_offset, r.read_le<uint32_t>(pe.security_entry_offset));
    CATENA_TRY(pe.cert_table_size, r.read_le<uint32_t>(pe.security_entry_offset + 4));
  }

  if (section_count > kMaxPeSections) {
    return make_error(ErrorCode::LimitExceeded,
                      std::to_string(section_count) + " sections (the loader allows 96)");
  }
  const uint64_t section_table = optional + optional_size;
  for (uint16_t section_idx = 0; section_idx < section_count; ++section_idx) {
    const uint64_t at = section_table + 40ull * section_idx;
    CATENA_TRY(auto name, r.bytes(at, 8));
    PeSection s;
    for (std::byte b : name) {
      if (b == std::byte{0}) break;
      s.name.push_back(static_cast<char>(b));
    }
    CATENA_TRY(s.virtual_size, r.read_le<uint32_t>(at + 8));
    CATENA_TRY(s.virtual_address, r.read_le<uint32_t>(at + 12));
    CATENA_TRY(s.raw_size, r.read_le<uint32_t>(at + 16));
    CATENA_TRY(s.raw_offset, r.read_le<uint32_t>(at + 20));
    CATENA_TRY(s.characteristics, r.read_le<uint32_t>(at + 36));
    // "/4": a long name at that offset of the COFF string table (after the symbol table).
    if (s.name.size() > 1 && s.name[0] == '/' && s.name.size() <= 8) {
      uint64_t string_offset = 0;
      bool digits = true;
      for (size_t idx = 1; idx < s.name.size(); ++idx) {
        digits = digits && s.name[idx] >= '0' && s.name[idx] <= '9';
        string_offset = string_offset * 10 + static_cast<uint64_t>(s.name[idx] - '0');
      }
      auto symbols = r.read_le<uint32_t>(coff + 8);
      auto symbol_count = r.read_le<uint32_t>(coff + 12);
      if (digits && symbols && symbol_count && *symbols != 0) {
        const uint64_t at_name = uint64_t{*symbols} + uint64_t{*symbol_count} * 18 + string_offset;
        std::string long_name;
        for (uint64_t idx = at_name; idx < file.size() && long_name.size() < kMaxPeSectionName;
             ++idx) {
          if (file[idx] == std::byte{0}) break;
          long_name.push_back(static_cast<char>(file[idx]));
        }
        if (!long_name.empty()) s.name = std::move(long_name);
      }
    }
    const uint64_t end = std::min<uint64_t>(uint64_t{s.raw_offset} + s.raw_size, file.size());
    pe.end_of_sections = std::max(pe.end_of_sections, end);
    pe.sections.push_back(std::move(s));
  }
  pe.end_of_sections = std::max<uint64_t>(
      pe.end_of_sections,
      std::min<uint64_t>(std::max<uint64_t>(section_table + 40ull * section_count, pe.headers_size),
                         file.size()));

  // Imported DLL names and the functions taken from each: import descriptors (20 bytes: name
  // table RVA at +0, name RVA at +12, address table RVA at +16) and delay-load descriptors (32
  // bytes: attributes at +0, name RVA at +4, name table at +16), each table ending with a zeroed
  // entry. A thunk with its top bit set imports by ordinal; otherwise it is the RVA of a hint and
  // a name.
  const auto read_name = [&](uint64_t rva) -> std::string {
    const auto at = pe_rva_to_offset(pe, rva, file.size());
    std::string name;
    if (!at) return name;
    for (uint64_t idx = *at; idx < file.size() && name.size() < kMaxPeNameLength; ++idx) {
      if (file[idx] == std::byte{0}) break;
      name.push_back(static_cast<char>(file[idx]));
    }
    return name;
  };
  const uint64_t thunk_size = pe.pe32_plus ? 8 : 4;
  const auto read_thunks = [&](const std::string& dll, uint64_t table_rva) {
    const auto table = pe_rva_to_offset(pe, table_rva, file.size());
    if (!table) return;
    for (uint64_t at = *table; pe.imported_functions.size() < kMaxPeImportedFunctions;
         at += thunk_size) {
      uint64_t thunk = 0;
      if (pe.pe32_plus) {
        auto value = r.read_le<uint64_t>(at);
        if (!value) break;
        thunk = *value;
      } else {
        auto value = r.read_le<uint32_t>(at);
        if (!value) break;
        thunk = *value;
      }
      if (thunk == 0) break;
      const bool by_ordinal = pe.pe32_plus ? (thunk >> 63) != 0 : (thunk >> 31) != 0;
      if (by_ordinal) {
        pe.imported_functions.push_back(dll + "!#" + std::to_string(thunk & 0xffff));
      } else {
        std::string function = read_name((thunk & 0x7fffffff) + 2);
        if (!function.empty()) pe.imported_functions.push_back(dll + "!" + function);
      }
    }
  };
  const auto read_table = [&](uint32_t directory, uint64_t entry_size, uint64_t name_field) {
    if (directory_count <= directory) return;
    const uint64_t entry_at = directories + 8ull * directory;
    if (entry_at + 8 > optional + optional_size) return;
    auto rva = r.read_le<uint32_t>(entry_at);
    if (!rva || *rva == 0) return;
    auto table = pe_rva_to_offset(pe, *rva, file.size());
    if (!table) return;
    for (uint64_t at = *table; pe.imports.size() < kMaxPeImports; at += entry_size) {
      auto name_rva = r.read_le<uint32_t>(at + name_field);
      if (!name_rva || *name_rva == 0) break;
      std::string name = read_name(*name_rva);
      if (name.empty()) continue;
      if (directory == 1) {
        auto names = r.read_le<uint32_t>(at);
        auto addresses = r.read_le<uint32_t>(at + 16);
        // Old linkers leave the name table out; the address table then holds the names.
        const uint32_t thunks = names && *names != 0 ? *names : addresses.value_or(0);
        if (thunks != 0) read_thunks(name, thunks);
      } else {
        // A delay-load descriptor whose attributes lack bit 0 holds virtual addresses, which
        // only pre-2000 linkers wrote: its DLL is named, its functions are not read.
        auto attributes = r.read_le<uint32_t>(at);
        auto names = r.read_le<uint32_t>(at + 16);
        if (attributes && (*attributes & 1) != 0 && names && *names != 0) {
          read_thunks(name, *names);
        }
      }
      pe.imports.push_back(std::move(name));
    }
  };
  read_table(1, 20, 12);
  read_table(13, 32, 4);

  // Exports (directory 0) and resources (directory 2).
  const auto directory_offset = [&](uint32_t directory) -> std::optional<uint64_t> {
    if (directory_count <= directory) return std::nullopt;
    const uint64_t entry_at = directories + 8ull * directory;
    if (entry_at + 8 > optional + optional_size) return std::nullopt;
    auto rva = r.read_le<uint32_t>(entry_at);
    if (!rva || *rva == 0) return std::nullopt;
    return pe_rva_to_offset(pe, *rva, file.size());
  };
  if (auto exports = directory_offset(0)) parse_exports(file, *exports, pe);
  if (auto resources = directory_offset(2)) parse_resources(file, *resources, pe);

  // What a rebuild of the same source changes although the code is the same: the link time,
  // the export and resource directories' times, and each debug directory entry's time and
  // CodeView GUID and age (RSDS) or reproducibility hash (REPRO, type 16).
  pe.build_noise.emplace_back(coff + 4, 4);
  if (auto exports = directory_offset(0)) pe.build_noise.emplace_back(*exports + 4, 4);
  if (auto resources = directory_offset(2)) pe.build_noise.emplace_back(*resources + 4, 4);
  if (auto debug = directory_offset(6)) {
    const uint64_t entry_at = directories + 8ull * 6;
    const uint32_t debug_size = r.read_le<uint32_t>(entry_at + 4).value_or(0);
    for (uint64_t at = *debug;
         at + 28 <= *debug + debug_size && at + 28 <= file.size() && pe.build_noise.size() < 64;
         at += 28) {
      pe.build_noise.emplace_back(at + 4, 4);
      const uint32_t type = r.read_le<uint32_t>(at + 12).value_or(0);
      const uint32_t size = r.read_le<uint32_t>(at + 16).value_or(0);
      const uint32_t data = r.read_le<uint32_t>(at + 24).value_or(0);
      if (!fits_in(file.size(), data, size)) continue;
      if (type == 2 && size >= 24 && r.matches(data, "RSDS")) {
        pe.build_noise.emplace_back(uint64_t{data} + 4, 20);
      } else if (type == 16) {
        pe.build_noise.emplace_back(data, size);
      }
    }
  }

  // The certificate table: WIN_CERTIFICATE entries, each 8-byte aligned, filling the table.
  const uint64_t table_start = pe.cert_table_offset;
  const uint64_t table_end = table_start + pe.cert_table_size;
  if (pe.cert_table_size != 0) {
    if (!fits_in(file.size(), table_start, pe.cert_table_size)) {
      pe.problems.push_back("the certificate table extends past the end of the file");
    } else if (table_start < pe.end_of_sections) {
      pe.problems.push_back("the certificate table overlaps the image's sections or headers");
    } else {
      uint64_t at = table_start;
      while (at + 8 <= table_end) {
        if (pe.certificates.size() >= kMaxPeCertificates) {
          pe.problems.push_back("more than " + std::to_string(kMaxPeCertificates) +
                                " certificate entries");
          break;
        }
        PeCertificate c;
        c.offset = at;
        CATENA_TRY(c.length, r.read_le<uint32_t>(at));
        CATENA_TRY(c.revision, r.read_le<uint16_t>(at + 4));
        CATENA_TRY(c.type, r.read_le<uint16_t>(at + 6));
        if (c.length < 8 || c.length > table_end - at) {
          pe.problems.push_back("a certificate entry's length does not fit the table");
          break;
        }
        c.blob = file.subspan(at + 8, c.length - 8);
        c.der_length = der_element_length(c.blob);
        if (c.der_length == 0) {
          pe.problems.push_back("a certificate entry does not hold a DER structure");
        } else if (c.der_length < c.blob.size()) {
          // Zero padding up to the next 8-byte boundary is what signing tools write; anything
          // else after the PKCS#7 is ignored by Windows' default check, and so is a hiding place.
          const auto tail = c.blob.subspan(c.der_length);
          const uint64_t aligned_end = (at + 8 + c.der_length + 7) & ~uint64_t{7};
          const uint64_t allowed = aligned_end - (at + 8 + c.der_length);
          const bool all_zero =
              std::all_of(tail.begin(), tail.end(), [](std::byte b) { return b == std::byte{0}; });
          if (!all_zero || tail.size() > allowed) {
            c.hidden_offset = at + 8 + c.der_length;
            c.hidden_length = tail.size();
            c.hidden_entropy = entropy(tail);
          }
        }
        pe.certificates.push_back(c);
        at += (uint64_t{c.length} + 7) & ~uint64_t{7};
      }
      if (at < table_end && pe.problems.empty()) {
        pe.problems.push_back("the certificate table has bytes that belong to no entry");
      }
    }
  }
  // Overlay: data past the sections, other than the certificate table.
  const uint64_t overlay_end =
      pe.cert_table_size != 0 && table_start >= pe.end_of_sections && table_start <= file.size()
          ? table_start
          : file.size();
  if (overlay_end > pe.end_of_sections) {
    pe.overlay_offset = pe.end_of_sections;
    pe.overlay_size = overlay_end - pe.end_of_sections;
  }
  if (pe.cert_table_size != 0 && table_end < file.size())
    pe.after_cert_table = file.size() - table_end;
  return pe;
}

std::optional<uint64_t> pe_rva_to_offset(const PeInfo& pe, uint64_t rva, uint64_t file_size) {
  for (const PeSection& s : pe.sections) {
    if (rva >= s.virtual_address && rva - s.virtual_address < s.raw_size) {
      const uint64_t offset = uint64_t{s.raw_offset} + (rva - s.virtual_address);
      if (offset < file_size) return offset;
    }
  }
  // Headers are mapped at RVA 0 as they are in the file.
  if (rva < pe.headers_size && rva < file_size) return rva;
  return std::nullopt;
}

uint32_t pe_checksum(std::span<const std::byte> file, uint64_t checksum_offset) {
  // Sums 16-bit little-endian words with end-around carry. The carries are folded once at the
  // end (a 64-bit sum of up to 2^31 words cannot overflow, and folding late gives the same
  // value), which lets the loop run without a branch; the checksum field is taken out after.
  const auto* bytes = reinterpret_cast<const unsigned char*>(file.data());
  const size_t words = file.size() / 2;
  uint64_t sum = 0;
  for (size_t word_idx = 0; word_idx < words; ++word_idx) {
    sum += static_cast<uint64_t>(bytes[2 * word_idx]) |
           (static_cast<uint64_t>(bytes[2 * word_idx + 1]) << 8);
  }
  if (file.size() % 2 != 0) sum += bytes[file.size() - 1];
  for (uint64_t at = checksum_offset; at < checksum_offset + 4; at += 2) {
    if (at % 2 == 0 && at + 1 < file.size()) {
      sum -= static_cast<uint64_t>(bytes[at]) | (static_cast<uint64_t>(bytes[at + 1]) << 8);
    }
  }
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint32_t>(sum + file.size());
}

std::vector<std::pair<uint64_t, uint64_t>> authenticode_ranges(const PeInfo& pe,
                                                               uint64_t file_size) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  uint64_t at = 0;
  const auto skip = [&](uint64_t start, uint64_t length) {
    if (start > at) out.emplace_back(at, start - at);
    at = std::max(at, start + length);
  };
  skip(pe.checksum_offset, 4);
  if (pe.security_entry_offset != 0) skip(pe.security_entry_offset, 8);
  const bool table = pe.cert_table_size != 0 &&
                     fits_in(file_size, pe.cert_table_offset, pe.cert_table_size) &&
                     pe.cert_table_offset >= at;
  // With a certificate table, the digest ends where it starts (as signtool and osslsigncode
  // compute it): anything appended after it is outside the signature, a finding of its own.
  if (table) {
    if (pe.cert_table_offset > at) out.emplace_back(at, pe.cert_table_offset - at);
    return out;
  }
  if (file_size > at) out.emplace_back(at, file_size - at);
  return out;
}

std::vector<std::pair<uint64_t, uint64_t>> rebuild_ranges(const PeInfo& pe,
                                                          std::span<const std::byte> file) {
  std::vector<std::pair<uint64_t, uint64_t>> noise = pe.build_noise;
  std::sort(noise.begin(), noise.end());
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (auto [start, length] : authenticode_ranges(pe, file.size())) {
    uint64_t at = start;
    const uint64_t end = start + length;
    for (const auto& [skip, skip_length] : noise) {
      if (skip + skip_length <= at || skip >= end) continue;
      if (skip > at) out.emplace_back(at, skip - at);
      at = std::max(at, skip + skip_length);
    }
    if (end > at) out.emplace_back(at, end - at);
  }
  // Signing pads the image to 8 bytes before the certificate table; an unsigned build lacks
  // the padding.
  if (!out.empty()) {
    auto& [start, length] = out.back();
    for (int n = 0; n < 7 && length > 0 && file[start + length - 1] == std::byte{0}; ++n) --length;
  }
  return out;
}

}  // namespace catena::formats
