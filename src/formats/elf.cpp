#include "catena/formats/elf.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "catena/core/bytes.hpp"
#include "catena/core/digest.hpp"

namespace catena::formats {
namespace {

constexpr uint32_t kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3, kPtNote = 4;
constexpr int64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtSoname = 14, kDtRpath = 15,
                  kDtRunpath = 29;
constexpr uint32_t kNtGnuBuildId = 3;
constexpr std::string_view kModuleMagic = "~Module signature appended~\n";

// Reads integers of the file's byte order and the class's word size.
class ElfReader {
 public:
  ElfReader(std::span<const std::byte> file, bool big_endian, bool is64)
      : r_(file), big_(big_endian), is64_(is64) {}
  Result<uint16_t> u16(uint64_t at) const {
    return big_ ? r_.read_be<uint16_t>(at) : r_.read_le<uint16_t>(at);
  }
  Result<uint32_t> u32(uint64_t at) const {
    return big_ ? r_.read_be<uint32_t>(at) : r_.read_le<uint32_t>(at);
  }
  Result<uint64_t> u64(uint64_t at) const {
    return big_ ? r_.read_be<uint64_t>(at) : r_.read_le<uint64_t>(at);
  }
  // An address or offset: 4 bytes in ELF32, 8 in ELF64.
  Result<uint64_t> word(uint64_t at) const {
    if (is64_) return u64(at);
    CATENA_TRY(uint32_t value, u32(at));
    return value;
  }
  const ByteReader& bytes() const { return r_; }

 private:
  ByteReader r_;
  bool big_;
  bool is64_;
};

std::string c_string(std::span<const std::byte> file, uint64_t at) {
  if (at >= file.size()) return {};
  const size_t limit = static_cast<size_t>(std::min<uint64_t>(file.size() - at, kMaxElfString));
  const auto* start = reinterpret_cast<const char*>(file.data() + at);
  const void* nul = std::memchr(start, 0, limit);
  const size_t length =
      nul != nullptr ? static_cast<size_t>(static_cast<const char*>(nul) - start) : limit;
  return std::string(start, length);
}

}  // namespace

Result<ElfInfo> parse_elf(std::span<const std::byte> file) {
  const ByteReader raw(file);
  if (!raw.matches(0,
                   "\x7f"
                   "ELF"))
    return make_error(ErrorCode::BadMagic, "not an ELF file");
  CATENA_TRY(uint8_t elf_class, raw.read_le<uint8_t>(4));
  CATENA_TRY(uint8_t data, raw.read_le<uint8_t>(5));
  if ((elf_class != 1 && elf_class != 2) || (data != 1 && data != 2)) {
    return make_error(ErrorCode::Unsupported, "unknown ELF class or byte order");
  }
  ElfInfo elf;
  elf.is64 = elf_class == 2;
  elf.big_endian = data == 2;
  const ElfReader r(file, elf.big_endian, elf.is64);
  const uint64_t word = elf.is64 ? 8 : 4;
  CATENA_TRY(elf.type, r.u16(16));
  CATENA_TRY(elf.machine, r.u16(18));
  CATENA_TRY(elf.entry, r.word(24));
  CATENA_TRY(uint64_t phoff, r.word(24 + word));
  CATENA_TRY(uint64_t shoff, r.word(24 + 2 * word));
  const uint64_t after_offsets = 24 + 3 * word + 4;  // e_flags
  CATENA_TRY(uint16_t phentsize, r.u16(after_offsets + 2));
  CATENA_TRY(uint16_t phnum, r.u16(after_offsets + 4));
  CATENA_TRY(uint16_t shentsize, r.u16(after_offsets + 6));
  CATENA_TRY(uint16_t shnum, r.u16(after_offsets + 8));
  CATENA_TRY(uint16_t shstrndx, r.u16(after_offsets + 10));
  const uint64_t min_ph = elf.is64 ? 56 : 32;
  const uint64_t min_sh = elf.is64 ? 64 : 40;

  if (phnum > 0) {
    if (phnum > kMaxElfSegments) {
      return make_error(ErrorCode::LimitExceeded, std::to_string(phnum) + " program headers");
    }
    if (phentsize < min_ph) return make_error(ErrorCode::Unsupported, "program header too small");
    for (uint16_t idx = 0; idx < phnum; ++idx) {
      const uint64_t at = phoff + uint64_t{phentsize} * idx;
      ElfSegment s;
      CATENA_TRY(s.type, r.u32(at));
      if (elf.is64) {
        CATENA_TRY(s.flags, r.u32(at + 4));
        CATENA_TRY(s.offset, r.u64(at + 8));
        CATENA_TRY(s.vaddr, r.u64(at + 16));
        CATENA_TRY(s.filesz, r.u64(at + 32));
        CATENA_TRY(s.memsz, r.u64(at + 40));
      } else {
        CATENA_TRY(uint32_t offset, r.u32(at + 4));
        CATENA_TRY(uint32_t vaddr, r.u32(at + 8));
        CATENA_TRY(uint32_t filesz, r.u32(at + 16));
        CATENA_TRY(uint32_t memsz, r.u32(at + 20));
        CATENA_TRY(s.flags, r.u32(at + 24));
        s.offset = offset;
        s.vaddr = vaddr;
        s.filesz = filesz;
        s.memsz = memsz;
      }
      elf.segments.push_back(s);
    }
  }
  // A virtual address's file offset, through the PT_LOAD segments.
  const auto file_offset = [&](uint64_t vaddr) -> std::optional<uint64_t> {
    for (const ElfSegment& s : elf.segments) {
      if (s.type == kPtLoad && vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) {
        const uint64_t at = s.offset + (vaddr - s.vaddr);
        if (at >= s.offset && at < file.size()) return at;
      }
    }
    return std::nullopt;
  };

  for (const ElfSegment& s : elf.segments) {
    if (!fits_in(file.size(), s.offset, s.filesz)) {
      if (s.type == kPtInterp || s.type == kPtDynamic || s.type == kPtNote) {
        elf.problems.push_back("a segment extends past the end of the file");
      }
      continue;
    }
    if (s.type == kPtInterp)
      elf.interpreter = c_string(file.subspan(0, s.offset + s.filesz), s.offset);
    if (s.type == kPtNote) {
      // Notes: namesz, descsz, type, then name and descriptor, each padded to 4 bytes.
      uint64_t at = s.offset;
      const uint64_t end = s.offset + s.filesz;
      while (at + 12 <= end) {
        auto namesz = r.u32(at);
        auto descsz = r.u32(at + 4);
        auto note_type = r.u32(at + 8);
        if (!namesz || !descsz || !note_type) break;
        const uint64_t name_at = at + 12;
        const uint64_t desc_at = name_at + ((uint64_t{*namesz} + 3) & ~uint64_t{3});
        const uint64_t next = desc_at + ((uint64_t{*descsz} + 3) & ~uint64_t{3});
        if (next > end || next <= at) break;
        if (*note_type == kNtGnuBuildId && *namesz == 4 &&
            raw.matches(name_at, std::string_view("GNU\0", 4))) {
          auto desc = raw.bytes(desc_at, *descsz);
          if (desc)
            elf.build_id =
                to_hex(std::span(reinterpret_cast<const uint8_t*>(desc->data()), desc->size()));
        }
        at = next;
      }
    }
  }
  for (const ElfSegment& s : elf.segments) {
    if (s.type != kPtDynamic || !fits_in(file.size(), s.offset, s.filesz)) continue;
    const uint64_t entry_size = 2 * word;
    std::vector<std::pair<int64_t, uint64_t>> entries;
    uint64_t strtab = 0;
    for (uint64_t at = s.offset; at + entry_size <= s.offset + s.filesz; at += entry_size) {
      if (entries.size() >= kMaxElfDynamicEntries) {
        elf.problems.push_back("too many dynamic entries");
        break;
      }
      auto tag = r.word(at);
      auto value = r.word(at + word);
      if (!tag || !value) break;
      const auto signed_tag =
          static_cast<int64_t>(elf.is64 ? *tag : static_cast<uint64_t>(static_cast<int32_t>(*tag)));
      if (signed_tag == kDtNull) break;
      if (signed_tag == kDtStrtab) strtab = *value;
      entries.emplace_back(signed_tag, *value);
    }
    const auto strtab_at = file_offset(strtab);
    if (!strtab_at) {
      if (!entries.empty()) elf.problems.push_back("the dynamic string table is not in the file");
      break;
    }
    for (const auto& [tag, value] : entries) {
      if (value > file.size() - *strtab_at) continue;
      const std::string text = c_string(file, *strtab_at + value);
      if (tag == kDtNeeded) elf.needed.push_back(text);
      if (tag == kDtSoname) elf.soname = text;
      if (tag == kDtRpath) elf.rpath = text;
      if (tag == kDtRunpath) elf.runpath = text;
    }
    break;
  }

  if (shnum > 0 && shoff != 0) {
    if (shentsize < min_sh) {
      elf.problems.push_back("section headers too small");
    } else {
      std::vector<std::pair<uint32_t, ElfSection>> named;
      for (uint16_t idx = 0; idx < shnum; ++idx) {
        const uint64_t at = shoff + uint64_t{shentsize} * idx;
        ElfSection s;
        auto name = r.u32(at);
        auto type = r.u32(at + 4);
        if (!name || !type) {
          elf.problems.push_back("the section table extends past the end of the file");
          break;
        }
        s.type = *type;
        auto flags = r.word(at + 8);
        auto addr = r.word(at + 8 + word);
        auto offset = r.word(at + 8 + 2 * word);
        auto size = r.word(at + 8 + 3 * word);
        auto link = r.u32(at + 8 + 4 * word);
        auto entsize = r.word(at + 16 + 5 * word);
        if (!flags || !addr || !offset || !size || !link || !entsize) break;
        s.flags = *flags;
        s.addr = *addr;
        s.offset = *offset;
        s.size = *size;
        s.link = *link;
        s.entsize = *entsize;
        named.emplace_back(*name, std::move(s));
      }
      const uint64_t strings =
          shstrndx < named.size() &&
                  fits_in(file.size(), named[shstrndx].second.offset, named[shstrndx].second.size)
              ? named[shstrndx].second.offset
              : 0;
      const uint64_t strings_size = strings != 0 ? named[shstrndx].second.size : 0;
      for (auto& [name_offset, s] : named) {
        if (strings != 0 && name_offset < strings_size) {
          s.name = c_string(file.subspan(0, strings + strings_size), strings + name_offset);
        }
        elf.sections.push_back(std::move(s));
      }
    }
  }

  // Kernel modules: ELF, then PKCS#7, then struct module_signature (12 bytes), then the magic.
  if (file.size() >= kModuleMagic.size() + 12 &&
      raw.matches(file.size() - kModuleMagic.size(), kModuleMagic)) {
    const uint64_t info = file.size() - kModuleMagic.size() - 12;
    auto length = raw.read_be<uint32_t>(info + 8);
    if (length && *length > 0 && *length <= info) {
      elf.module_signature = true;
      elf.module_signature_length = *length;
    } else {
      elf.problems.push_back("a module signature marker with an impossible length");
    }
  }
  return elf;
}

ElfSymbols elf_dynamic_symbols(std::span<const std::byte> file, const ElfInfo& elf) {
  constexpr uint32_t kShtDynsym = 11;
  constexpr uint8_t kBindLocal = 0;
  ElfSymbols out;
  const ElfReader r(file, elf.big_endian, elf.is64);
  const uint64_t entry_size = elf.is64 ? 24 : 16;
  for (const ElfSection& table : elf.sections) {
    if (table.type != kShtDynsym) continue;
    if (table.entsize != entry_size || !fits_in(file.size(), table.offset, table.size) ||
        table.link >= elf.sections.size()) {
      out.problems.push_back("the dynamic symbol table is malformed");
      break;
    }
    const ElfSection& strings = elf.sections[table.link];
    if (!fits_in(file.size(), strings.offset, strings.size)) {
      out.problems.push_back("the dynamic symbols' string table is not in the file");
      break;
    }
    const std::span<const std::byte> names = file.subspan(strings.offset, strings.size);
    const uint64_t count = table.size / entry_size;
    if (count > kMaxElfSymbols) out.problems.push_back("too many dynamic symbols");
    // Entry 0 is the null symbol.
    for (uint64_t i = 1; i < count && i < kMaxElfSymbols; ++i) {
      const uint64_t at = table.offset + i * entry_size;
      auto name = r.u32(at);
      auto info = r.bytes().read_le<uint8_t>(at + (elf.is64 ? 4 : 12));
      auto shndx = r.u16(at + (elf.is64 ? 6 : 14));
      if (!name || !info || !shndx) break;
      if ((*info >> 4) == kBindLocal || *name == 0 || *name >= names.size()) continue;
      std::string text = c_string(names, *name);
      if (text.empty()) continue;
      (*shndx == 0 ? out.imports : out.exports).push_back(std::move(text));
    }
    break;
  }
  for (auto* list : {&out.imports, &out.exports}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  return out;
}

}  // namespace catena::formats
