#pragma once
/// Apple disk images (UDIF, ".dmg"): the 512-byte big-endian "koly" trailer at the end of the
/// file, and the code signature codesign embeds in front of it.
///
///   if (is_dmg(bytes)) { CATENA_TRY(DmgInfo dmg, parse_dmg(bytes)); ... dmg.signature ... }
///
/// A signed image keeps, in the trailer's reserved bytes, the file offset and size of a
/// code-signature superblob (the one a Mach-O carries): one CodeDirectory whose single code hash
/// covers the image up to the signature, whose special slot 6 hashes the trailer (with the
/// signature size zeroed, as it is not known when the hash is made), and a CMS signature over
/// the CodeDirectory. The blocks of the image itself (the partitions the plist describes) are not
/// read: catena lists a disk image without opening it.
///
/// Untrusted input: every range is checked against the file, and what is out of place is named
/// in `problems` while the rest is still read.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/formats/macho.hpp"

namespace catena::formats {

inline constexpr size_t kDmgTrailerSize = 512;
/// Offset, within the trailer, of the u64 code-signature size (zeroed for the slot-6 hash).
inline constexpr size_t kDmgSignatureSizeField = 0x130;
/// The CodeDirectory special slot that hashes the trailer (cdRepSpecificSlot).
inline constexpr uint32_t kCsSlotRepSpecific = 6;

struct DmgInfo {
  uint32_t version = 0, flags = 0;
  uint64_t data_fork_offset = 0, data_fork_length = 0;
  uint64_t plist_offset = 0, plist_length = 0;
  uint64_t sector_count = 0;
  uint64_t signature_offset = 0, signature_size = 0;  // both 0 when unsigned
  uint64_t trailer_offset = 0;                        // the file's size less 512
  std::optional<MachoSignature> signature;
  std::vector<std::string> problems;
};

/// True when the last 512 bytes are a UDIF trailer: "koly", version 4, header size 512.
bool is_dmg(std::span<const std::byte> file);

/// BadMagic when the file is not a disk image (is_dmg false).
[[nodiscard]] Result<DmgInfo> parse_dmg(std::span<const std::byte> file);

}  // namespace catena::formats
