#pragma once
/// ELF (32/64-bit, either byte order): headers, segments, sections, the interpreter, the dynamic
/// section's NEEDED, SONAME, RPATH and RUNPATH, the GNU build-id, and a Linux kernel module's
/// appended signature.
///
///   CATENA_TRY(ElfInfo elf, parse_elf(bytes));
///   for (const std::string& lib : elf.needed) { ... }
///
/// Untrusted input: every offset and size is checked against the file, virtual addresses are
/// mapped through the PT_LOAD segments, and every count and string length is capped.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::formats {

inline constexpr size_t kMaxElfSegments = 4096;
inline constexpr size_t kMaxElfSections = 65535;
inline constexpr size_t kMaxElfDynamicEntries = 65536;
inline constexpr size_t kMaxElfString = 4096;
inline constexpr size_t kMaxElfSymbols = 1 << 20;

struct ElfSegment {
  uint32_t type = 0;
  uint32_t flags = 0;
  uint64_t offset = 0, vaddr = 0, filesz = 0, memsz = 0;
};

struct ElfSection {
  std::string name;
  uint32_t type = 0;
  uint64_t flags = 0, addr = 0, offset = 0, size = 0;
  uint32_t link = 0;     // the section it refers to (a symbol table's string table)
  uint64_t entsize = 0;  // size of one entry, for tables
};

struct ElfInfo {
  bool is64 = false;
  bool big_endian = false;
  uint16_t type = 0;  // ET_EXEC 2, ET_DYN 3, ET_REL 1 (kernel modules), ET_CORE 4
  uint16_t machine = 0;
  uint64_t entry = 0;
  std::vector<ElfSegment> segments;
  std::vector<ElfSection> sections;
  std::string interpreter;
  std::vector<std::string> needed;
  std::string soname, rpath, runpath;
  std::string build_id;  // lower-case hex; empty when there is none
  /// A Linux kernel module's signature appended after the ELF ("~Module signature appended~").
  bool module_signature = false;
  uint32_t module_signature_length = 0;  // of the PKCS#7 it carries
  std::vector<std::string> problems;     // damage that did not stop parsing
};

/// BadMagic when it is not ELF; Truncated/Unsupported/LimitExceeded for headers that cannot be
/// read. Parts that are damaged past the headers are left out and named in `problems`.
[[nodiscard]] Result<ElfInfo> parse_elf(std::span<const std::byte> file);

/// The dynamic symbol table (.dynsym): the global and weak symbols a program or library takes
/// from others (undefined) and offers them (defined), by name without symbol version, each
/// once, sorted; at most kMaxElfSymbols read. Kept apart from parse_elf, which every scanned
/// ELF goes through, since only a release's per-file facts need them.
struct ElfSymbols {
  std::vector<std::string> imports, exports;
  std::vector<std::string> problems;
};
ElfSymbols elf_dynamic_symbols(std::span<const std::byte> file, const ElfInfo& elf);

}  // namespace catena::formats
