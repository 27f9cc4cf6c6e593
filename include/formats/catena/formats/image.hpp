#pragma once
/// A content parsed once by its format, for every analyser that needs its structure
/// (signature verification, structure, side-load): ELF, PE, Mach-O (thin or fat), MSI and Apple
/// disk images.
///
///   const ParsedImage image = parse_image(bytes);   // classifies the whole, then parses
///   if (image.pe && *image.pe) use(**image.pe);      // the parse may have failed: an error
///
/// Exactly one of the results is set for those formats (nothing for the others); a parse that
/// failed keeps its error, which the signature check reports (a damaged header is a finding).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "catena/core/result.hpp"
#include "catena/formats/dmg.hpp"
#include "catena/formats/elf.hpp"
#include "catena/formats/format.hpp"
#include "catena/formats/macho.hpp"
#include "catena/formats/ole.hpp"
#include "catena/formats/pe.hpp"

namespace catena::formats {

struct ParsedImage {
  FileFormat format = FileFormat::Other;
  std::optional<Result<ElfInfo>> elf;
  std::optional<Result<PeInfo>> pe;
  std::optional<Result<MachoInfo>> macho;  // thin or fat
  std::optional<Result<OleFile>> ole;      // MSI only
  std::optional<Result<DmgInfo>> dmg;
};

/// Classifies `bytes` (the whole content) and parses it when it is ELF, PE, Mach-O or MSI.
ParsedImage parse_image(std::span<const std::byte> bytes);

/// The same for a content already classified as `format`.
ParsedImage parse_image(std::span<const std::byte> bytes, FileFormat format);

/// How many contents parse_image has parsed in this process (those of a structured format): a
/// test's measure that a content is parsed once however many analysers read it.
uint64_t images_parsed();

}  // namespace catena::formats
