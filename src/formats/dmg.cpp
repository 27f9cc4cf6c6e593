#include "catena/formats/dmg.hpp"

#include "catena/core/bytes.hpp"

namespace catena::formats {
namespace {

// A range [offset, offset + length) that must lie before the trailer.
void check_range(const char* what,
                 uint64_t offset,
                 uint64_t length,
                 uint64_t limit,
                 std::vector<std::string>& problems) {
  if (length != 0 && !fits_in(limit, offset, length)) {
    problems.push_back(std::string("the ") + what + " lies outside the image");
  }
}

bool overlaps(uint64_t a, uint64_t a_length, uint64_t b, uint64_t b_length) {
  return a_length != 0 && b_length != 0 && a < b + b_length && b < a + a_length;
}

}  // namespace

bool is_dmg(std::span<const std::byte> file) {
  if (file.size() < kDmgTrailerSize) return false;
  const ByteReader r(file.subspan(file.size() - kDmgTrailerSize));
  const auto version = r.read_be<uint32_t>(4);
  const auto header = r.read_be<uint32_t>(8);
  return r.matches(0, "koly") && version && *version == 4 && header && *header == kDmgTrailerSize;
}

Result<DmgInfo> parse_dmg(std::span<const std::byte> file) {
  if (!is_dmg(file)) return make_error(ErrorCode::BadMagic, "not a UDIF disk image");
  DmgInfo out;
  out.trailer_offset = file.size() - kDmgTrailerSize;
  const ByteReader r(file.subspan(static_cast<size_t>(out.trailer_offset)));
  CATENA_TRY(out.version, r.read_be<uint32_t>(4));
  CATENA_TRY(out.flags, r.read_be<uint32_t>(12));
  CATENA_TRY(out.data_fork_offset, r.read_be<uint64_t>(0x18));
  CATENA_TRY(out.data_fork_length, r.read_be<uint64_t>(0x20));
  CATENA_TRY(out.plist_offset, r.read_be<uint64_t>(0xd8));
  CATENA_TRY(out.plist_length, r.read_be<uint64_t>(0xe0));
  CATENA_TRY(out.signature_offset, r.read_be<uint64_t>(0x128));
  CATENA_TRY(out.signature_size, r.read_be<uint64_t>(kDmgSignatureSizeField));
  CATENA_TRY(out.sector_count, r.read_be<uint64_t>(0x1ec));
  const uint64_t limit = out.trailer_offset;
  check_range("data fork", out.data_fork_offset, out.data_fork_length, limit, out.problems);
  check_range("property list", out.plist_offset, out.plist_length, limit, out.problems);
  if ((out.signature_offset == 0) != (out.signature_size == 0)) {
    out.problems.push_back(
        "the trailer gives a code signature offset without a size, or the "
        "reverse");
    return out;
  }
  if (out.signature_size == 0) return out;
  if (!fits_in(limit, out.signature_offset, out.signature_size)) {
    out.problems.push_back("the code signature lies outside the image");
    return out;
  }
  if (overlaps(out.signature_offset, out.signature_size, out.data_fork_offset,
               out.data_fork_length) ||
      overlaps(out.signature_offset, out.signature_size, out.plist_offset, out.plist_length)) {
    out.problems.push_back("the code signature overlaps the image's data or property list");
  }
  out.signature =
      parse_code_signature(file, out.signature_offset, out.signature_size, out.problems);
  return out;
}

}  // namespace catena::formats
