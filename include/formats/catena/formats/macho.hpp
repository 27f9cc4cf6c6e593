#pragma once
/// Mach-O, thin (32/64-bit, either byte order) and fat (universal, 32- or 64-bit offsets): the
/// load commands, linked dylibs, rpaths, the UUID and the LC_CODE_SIGNATURE superblob with its
/// CodeDirectories, requirements, entitlements and CMS signature.
///
///   CATENA_TRY(MachoInfo macho, parse_macho(bytes));
///   for (const MachoSlice& slice : macho.slices) { ... slice.signature ... }
///
/// Untrusted input: every offset and size is checked against its slice, counts are capped, and a
/// slice or blob that cannot be read is named in `problems` while the rest is still parsed. The
/// code-page hashes are not computed here (see trust/codesign.hpp); this only locates them.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::formats {

inline constexpr size_t kMaxMachoSlices = 64;
inline constexpr size_t kMaxMachoLoadCommands = 4096;
inline constexpr size_t kMaxMachoBlobs = 64;
inline constexpr size_t kMaxMachoString = 4096;
/// Real binaries have tens of thousands of pages at most (4 KiB pages of a 1 GiB image: 262,144).
inline constexpr uint32_t kMaxMachoCodeSlots = 1u << 22;

// Superblob member types (CSSLOT_*) and blob magics (CSMAGIC_*).
inline constexpr uint32_t kCsSlotCodeDirectory = 0;
inline constexpr uint32_t kCsSlotRequirements = 2;
inline constexpr uint32_t kCsSlotEntitlements = 5;
inline constexpr uint32_t kCsSlotDerEntitlements = 7;
inline constexpr uint32_t kCsSlotAlternateCodeDirectories = 0x1000;
inline constexpr uint32_t kCsSlotCms = 0x10000;
inline constexpr uint32_t kCsMagicCodeDirectory = 0xfade0c02;
inline constexpr uint32_t kCsMagicEmbeddedSignature = 0xfade0cc0;
inline constexpr uint32_t kCsMagicBlobWrapper = 0xfade0b01;
inline constexpr uint32_t kCsFlagAdhoc = 0x2;

struct MachoBlob {
  uint32_t type = 0;                 // superblob slot type
  uint32_t magic = 0;                // 0 when the blob's header could not be read
  std::span<const std::byte> bytes;  // the whole blob, header included
};

struct MachoCodeDirectory {
  uint32_t slot = 0;  // 0 or 0x1000 + n
  uint32_t version = 0, flags = 0;
  std::string identifier, team_id;
  uint8_t hash_type = 0;  // 1 SHA-1, 2 SHA-256, 3 SHA-256 truncated to 20 bytes, 4 SHA-384
  uint8_t hash_size = 0;
  uint8_t page_size_log2 = 0;  // 0: one page covering the whole code limit
  uint32_t special_slots = 0, code_slots = 0;
  uint64_t code_limit = 0;           // bytes of the slice the code hashes cover
  uint64_t hash_offset = 0;          // of code slot 0, from the CodeDirectory's start
  bool scatter = false;              // legacy scatter vectors (pages are then not contiguous)
  std::span<const std::byte> bytes;  // the whole CodeDirectory blob
};

struct MachoSignature {
  uint64_t offset = 0, size = 0;  // of the superblob within the slice
  std::vector<MachoBlob> blobs;
  std::vector<MachoCodeDirectory> code_directories;
  std::span<const std::byte> cms;  // DER of the CMS SignedData; empty when ad hoc
};

struct MachoSlice {
  uint64_t offset = 0, size = 0;  // within the file (0 and the file size for a thin file)
  uint32_t cpu_type = 0, cpu_subtype = 0;
  bool is64 = false, big_endian = false;
  uint32_t file_type = 0;  // MH_EXECUTE 2, MH_DYLIB 6, MH_BUNDLE 8 ...
  uint32_t flags = 0;
  std::vector<uint32_t> load_commands;  // the cmd of each, in order
  std::vector<std::string> dylibs;      // LC_LOAD_DYLIB and its weak/reexport/lazy/upward kin
  std::vector<std::string> rpaths;
  std::string install_name;  // LC_ID_DYLIB
  std::string uuid;          // lower-case hex; empty when there is none
  /// Versions from the load commands: the dylib's current version (LC_ID_DYLIB), the platform
  /// with its minimum OS and SDK (LC_BUILD_VERSION or LC_VERSION_MIN_*), and LC_SOURCE_VERSION.
  std::string dylib_version, platform, min_os, sdk, source_version;
  uint64_t code_end = 0;  // the end of the last segment's file bytes
  std::optional<MachoSignature> signature;
  std::vector<std::string> problems;
};

struct MachoInfo {
  bool fat = false;
  std::vector<MachoSlice> slices;
  std::vector<std::string> problems;  // of the fat header (a slice's own are in the slice)
};

/// BadMagic when the bytes are neither a thin nor a fat Mach-O; Truncated or LimitExceeded for a
/// header that cannot be read. A slice that cannot be parsed is kept, with its problem named.
[[nodiscard]] Result<MachoInfo> parse_macho(std::span<const std::byte> file);

/// The code-signature superblob at [offset, offset + size) of `file`: its blobs, CodeDirectories
/// and CMS signature. What cannot be read is added to `problems`; nullopt when the range lies
/// outside the file. Shared by Mach-O slices and disk images (dmg.hpp), which carry the same
/// embedded signature.
std::optional<MachoSignature> parse_code_signature(std::span<const std::byte> file,
                                                   uint64_t offset,
                                                   uint64_t size,
                                                   std::vector<std::string>& problems);

/// "arm64", "x86_64", ... for a CPU type; the number in hex otherwise.
std::string macho_cpu_name(uint32_t cpu_type);

}  // namespace catena::formats
