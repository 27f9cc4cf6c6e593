#include "catena/formats/format.hpp"

#include <array>
#include <cstdint>

#include "catena/core/bytes.hpp"
#include "catena/formats/dmg.hpp"

namespace catena::formats {
namespace {

using Matcher = bool (*)(const ByteReader&);

// Fat Mach-O and Java class files share 0xCAFEBABE; a fat header's arch count is small while a
// class file's major version (the same four bytes) is at least 45 (file(1) uses the same cut).
constexpr uint32_t kMaxFatArchitectures = 30;

bool is_elf(const ByteReader& r) {
  return r.matches(0,
                   "\x7f"
                   "ELF");
}

bool is_pe(const ByteReader& r) {
  if (!r.matches(0, "MZ")) return false;
  // PE/COFF: e_lfanew at 0x3c is the file offset of the "PE\0\0" signature.
  auto e_lfanew = r.read_le<uint32_t>(0x3c);
  return e_lfanew && r.matches(*e_lfanew, std::string_view("PE\0\0", 4));
}

bool is_dos(const ByteReader& r) { return r.matches(0, "MZ"); }

bool is_macho(const ByteReader& r) {
  auto magic = r.read_be<uint32_t>(0);
  if (!magic) return false;
  switch (*magic) {
    case 0xfeedface:
    case 0xfeedfacf:
    case 0xcefaedfe:
    case 0xcffaedfe:
      return true;
    default:
      return false;
  }
}

bool is_macho_fat(const ByteReader& r) {
  auto magic = r.read_be<uint32_t>(0);
  auto count = r.read_be<uint32_t>(4);
  if (!magic || !count) return false;
  if (*magic != 0xcafebabe && *magic != 0xcafebabf) return false;
  return *count >= 1 && *count <= kMaxFatArchitectures;
}

bool is_java_class(const ByteReader& r) { return r.matches(0, "\xca\xfe\xba\xbe"); }

constexpr std::string_view kOleMagic("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8);

bool is_ole(const ByteReader& r) { return r.matches(0, kOleMagic); }

bool is_msi(const ByteReader& r) {
  if (!is_ole(r)) return false;
  // [MS-CFB] 2.2: sector shift at 0x1e (9 or 12), first directory sector at 0x30.
  auto shift = r.read_le<uint16_t>(0x1e);
  auto first_dir_sector = r.read_le<uint32_t>(0x30);
  if (!shift || !first_dir_sector || (*shift != 9 && *shift != 12)) return false;
  const uint64_t sector_size = uint64_t{1} << *shift;
  // Sector n starts at (n + 1) * sector_size; the root entry's CLSID is at +0x50.
  const uint64_t root_entry = (uint64_t{*first_dir_sector} + 1) * sector_size;
  auto clsid = r.bytes(root_entry + 0x50, 16);
  if (!clsid) return false;
  // {000C1084-...} MSI, {000C1086-...} MSP patch, {000C1082-...} MST transform, stored with the
  // first three fields little-endian.
  const auto byte = [&](size_t i) { return static_cast<uint8_t>((*clsid)[i]); };
  static constexpr std::array<uint8_t, 14> kRest = {0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,
                                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46};
  const bool tail_ok = byte(0) == 0x84 || byte(0) == 0x86 || byte(0) == 0x82;
  if (!tail_ok || byte(1) != 0x10) return false;
  for (size_t i = 0; i < kRest.size(); ++i) {
    if (byte(i + 2) != kRest[i]) return false;
  }
  return true;
}

bool is_zip(const ByteReader& r) {
  return r.matches(0, "PK\x03\x04") || r.matches(0, "PK\x05\x06") || r.matches(0, "PK\x07\x08");
}

bool is_jar(const ByteReader& r) {
  if (!r.matches(0, "PK\x03\x04")) return false;
  // APPNOTE 4.3.7: file name length at 26, name at 30.
  auto name_length = r.read_le<uint16_t>(26);
  if (!name_length) return false;
  auto name = r.bytes(30, *name_length);
  if (!name) return false;
  const std::string_view text(reinterpret_cast<const char*>(name->data()), name->size());
  return text.starts_with("META-INF/");
}

bool is_deb(const ByteReader& r) {
  return r.matches(0, "!<arch>\n") && r.matches(8, "debian-binary");
}

bool is_ar(const ByteReader& r) { return r.matches(0, "!<arch>\n"); }

bool is_tar(const ByteReader& r) {
  if (r.matches(257, "ustar")) return true;
  // v7 tar has no magic: accept a 512-byte header whose checksum field matches its bytes.
  auto header = r.bytes(0, 512);
  if (!header || (*header)[0] == std::byte{0}) return false;
  uint64_t sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    sum += (i >= 148 && i < 156) ? uint64_t{' '} : static_cast<uint8_t>((*header)[i]);
  }
  uint64_t stored = 0;
  bool digits = false;
  for (size_t i = 148; i < 156; ++i) {
    const auto c = static_cast<char>((*header)[i]);
    if (c >= '0' && c <= '7') {
      stored = stored * 8 + static_cast<uint64_t>(c - '0');
      digits = true;
    } else if (c == ' ' || c == '\0') {
      if (digits) break;
    } else {
      return false;
    }
  }
  return digits && stored == sum;
}

// After the executables and archives: a file that starts as one of those is that, whatever its
// end says. Before the compressed streams: a UDIF image's data fork starts with bzip2 or zlib
// blocks.
bool is_dmg_trailer(const ByteReader& r) { return is_dmg(r.data()); }

bool is_gzip(const ByteReader& r) { return r.matches(0, "\x1f\x8b\x08"); }
bool is_xz(const ByteReader& r) {
  return r.matches(0, std::string_view("\xfd"
                                       "7zXZ\0",
                                       6));
}
bool is_zstd(const ByteReader& r) { return r.matches(0, "\x28\xb5\x2f\xfd"); }

bool is_bzip2(const ByteReader& r) {
  auto level = r.read_le<uint8_t>(3);
  return r.matches(0, "BZh") && level && *level >= '1' && *level <= '9';
}

bool is_script(const ByteReader& r) { return r.matches(0, "#!"); }

struct FormatEntry {
  FileFormat format;
  std::string_view name;
  Matcher matcher;  // nullptr: not detected by content (empty, other)
};

// Order matters: the more specific test of a shared magic comes first.
constexpr std::array<FormatEntry, 21> kFormats = {{
    {FileFormat::Elf, "elf", is_elf},
    {FileFormat::Pe, "pe", is_pe},
    {FileFormat::Dos, "dos", is_dos},
    {FileFormat::MachO, "macho", is_macho},
    {FileFormat::MachOFat, "macho_fat", is_macho_fat},
    {FileFormat::JavaClass, "java_class", is_java_class},
    {FileFormat::Msi, "msi", is_msi},
    {FileFormat::Ole, "ole", is_ole},
    {FileFormat::Jar, "jar", is_jar},
    {FileFormat::Zip, "zip", is_zip},
    {FileFormat::Deb, "deb", is_deb},
    {FileFormat::Ar, "ar", is_ar},
    {FileFormat::Dmg, "dmg", is_dmg_trailer},
    {FileFormat::Gzip, "gzip", is_gzip},
    {FileFormat::Xz, "xz", is_xz},
    {FileFormat::Zstd, "zstd", is_zstd},
    {FileFormat::Bzip2, "bzip2", is_bzip2},
    {FileFormat::Script, "script", is_script},
    {FileFormat::Tar, "tar", is_tar},
    {FileFormat::Empty, "empty", nullptr},
    {FileFormat::Other, "other", nullptr},
}};

}  // namespace

std::string_view format_name(FileFormat format) {
  for (const FormatEntry& entry : kFormats) {
    if (entry.format == format) return entry.name;
  }
  return "other";
}

std::optional<FileFormat> parse_format_name(std::string_view name) {
  for (const FormatEntry& entry : kFormats) {
    if (entry.name == name) return entry.format;
  }
  return std::nullopt;
}

FileFormat classify_format(std::span<const std::byte> head) {
  if (head.empty()) return FileFormat::Empty;
  const ByteReader reader(head);
  for (const FormatEntry& entry : kFormats) {
    if (entry.matcher != nullptr && entry.matcher(reader)) return entry.format;
  }
  return FileFormat::Other;
}

}  // namespace catena::formats
