#pragma once
/// File format classification from content bytes (never from the file name).
///
///   FileFormat format = classify_format(head);   // head = the file's first bytes
///   std::string_view name = format_name(format); // "elf", "pe", ...
///
/// `head` should hold the whole file where the caller has it (an MSI's directory, which holds
/// the CLSID that tells an MSI from another OLE file, is often at the end), else at least the
/// first kClassifyHeadBytes; every test reads a few fixed offsets, so the whole file costs no
/// more than the head. Structures it cannot see (a PE header or MSI directory beyond the bytes
/// given) degrade to the weaker class ("dos" for MZ, "ole"), never to a wrong one.
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

namespace catena::formats {

inline constexpr size_t kClassifyHeadBytes = 64 * 1024;

enum class FileFormat {
  Empty,      // zero bytes
  Elf,        // ELF, any class and byte order
  Pe,         // MZ with a PE\0\0 signature at e_lfanew
  Dos,        // MZ without a PE header in the head
  MachO,      // thin Mach-O, 32/64-bit, either byte order
  MachOFat,   // fat (universal) Mach-O, 32- or 64-bit offsets
  JavaClass,  // 0xCAFEBABE that is not a fat Mach-O header
  Msi,        // OLE compound file whose root CLSID is an MSI, MSP or MST
  Ole,        // any other OLE compound file
  Zip,
  Jar,  // ZIP whose first entry is under META-INF/
  Deb,  // ar archive whose first member is debian-binary
  Ar,
  Dmg,  // Apple disk image: a UDIF "koly" trailer in the last 512 bytes (see dmg.hpp)
  Tar,  // POSIX/GNU ustar, or v7 with a valid header checksum
  Gzip,
  Xz,
  Zstd,
  Bzip2,
  Script,  // starts with "#!"
  Other,
};

/// Stable lower-case name stored in the inventory and printed in JSON.
std::string_view format_name(FileFormat format);
/// Inverse of format_name (nullopt for an unknown name).
std::optional<FileFormat> parse_format_name(std::string_view name);

/// Classifies from the file's first bytes; `head.size()` == 0 means an empty file.
FileFormat classify_format(std::span<const std::byte> head);

}  // namespace catena::formats
