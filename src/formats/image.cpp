#include "catena/formats/image.hpp"

#include <atomic>

namespace catena::formats {
namespace {

std::atomic<uint64_t> g_parsed{0};

}  // namespace

ParsedImage parse_image(std::span<const std::byte> bytes) {
  return parse_image(bytes, classify_format(bytes));
}

ParsedImage parse_image(std::span<const std::byte> bytes, FileFormat format) {
  ParsedImage out;
  out.format = format;
  switch (format) {
    case FileFormat::Elf:
      out.elf = parse_elf(bytes);
      break;
    case FileFormat::Pe:
      out.pe = parse_pe(bytes);
      break;
    case FileFormat::MachO:
    case FileFormat::MachOFat:
      out.macho = parse_macho(bytes);
      break;
    case FileFormat::Msi:
      out.ole = parse_ole(bytes);
      break;
    case FileFormat::Dmg:
      out.dmg = parse_dmg(bytes);
      break;
    default:
      return out;
  }
  g_parsed.fetch_add(1, std::memory_order_relaxed);
  return out;
}

uint64_t images_parsed() { return g_parsed.load(std::memory_order_relaxed); }

}  // namespace catena::formats
