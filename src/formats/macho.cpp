#include "catena/formats/macho.hpp"

#include <algorithm>
#include <cstring>

#include "catena/core/bytes.hpp"
#include "catena/core/digest.hpp"

namespace catena::formats {
namespace {

constexpr uint32_t kMhMagic = 0xfeedface, kMhMagic64 = 0xfeedfacf;
constexpr uint32_t kFatMagic = 0xcafebabe, kFatMagic64 = 0xcafebabf;
constexpr uint32_t kLcSegment = 0x1, kLcSegment64 = 0x19, kLcLoadDylib = 0xc, kLcIdDylib = 0xd,
                   kLcLoadWeakDylib = 0x80000018, kLcReexportDylib = 0x8000001f,
                   kLcLazyLoadDylib = 0x20, kLcLoadUpwardDylib = 0x80000023, kLcRpath = 0x8000001c,
                   kLcCodeSignature = 0x1d, kLcUuid = 0x1b, kLcVersionMinMacosx = 0x24,
                   kLcVersionMinIphoneos = 0x25, kLcVersionMinTvos = 0x2f,
                   kLcVersionMinWatchos = 0x30, kLcBuildVersion = 0x32, kLcSourceVersion = 0x2a;

// A packed X.Y.Z version (xxxx.yy.zz nibbles as the loader stores it).
std::string packed_version(uint32_t v) {
  return std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xff) + "." +
         std::to_string(v & 0xff);
}

std::string platform_name(uint32_t platform) {
  static constexpr std::string_view kNames[] = {
      "",          "macos",       "ios",           "tvos",           "watchos",
      "bridgeos",  "maccatalyst", "ios-simulator", "tvos-simulator", "watchos-simulator",
      "driverkit", "visionos"};
  if (platform < std::size(kNames) && !kNames[platform].empty()) {
    return std::string(kNames[platform]);
  }
  return "platform " + std::to_string(platform);
}

// Integers of one slice's byte order. Signature blobs are always big-endian.
class SliceReader {
 public:
  SliceReader(std::span<const std::byte> bytes, bool big_endian) : r_(bytes), big_(big_endian) {}
  Result<uint32_t> u32(uint64_t at) const {
    return big_ ? r_.read_be<uint32_t>(at) : r_.read_le<uint32_t>(at);
  }
  Result<uint64_t> u64(uint64_t at) const {
    return big_ ? r_.read_be<uint64_t>(at) : r_.read_le<uint64_t>(at);
  }

 private:
  ByteReader r_;
  bool big_;
};

// A NUL-terminated string within [at, end), capped.
std::string bounded_string(std::span<const std::byte> bytes, uint64_t at, uint64_t end) {
  end = std::min<uint64_t>(end, bytes.size());
  if (at >= end) return {};
  const size_t limit = static_cast<size_t>(std::min<uint64_t>(end - at, kMaxMachoString));
  const auto* start = reinterpret_cast<const char*>(bytes.data() + at);
  const void* nul = std::memchr(start, 0, limit);
  return std::string(
      start, nul != nullptr ? static_cast<size_t>(static_cast<const char*>(nul) - start) : limit);
}

Result<MachoCodeDirectory> parse_code_directory(uint32_t slot, std::span<const std::byte> blob) {
  const ByteReader r(blob);
  MachoCodeDirectory cd;
  cd.slot = slot;
  cd.bytes = blob;
  CATENA_TRY(cd.version, r.read_be<uint32_t>(8));
  CATENA_TRY(cd.flags, r.read_be<uint32_t>(12));
  CATENA_TRY(uint32_t hash_offset, r.read_be<uint32_t>(16));
  CATENA_TRY(uint32_t ident_offset, r.read_be<uint32_t>(20));
  CATENA_TRY(cd.special_slots, r.read_be<uint32_t>(24));
  CATENA_TRY(cd.code_slots, r.read_be<uint32_t>(28));
  CATENA_TRY(uint32_t code_limit32, r.read_be<uint32_t>(32));
  CATENA_TRY(cd.hash_size, r.read_be<uint8_t>(36));
  CATENA_TRY(cd.hash_type, r.read_be<uint8_t>(37));
  CATENA_TRY(cd.page_size_log2, r.read_be<uint8_t>(39));
  cd.code_limit = code_limit32;
  if (cd.version >= 0x20100) {
    CATENA_TRY(uint32_t scatter_offset, r.read_be<uint32_t>(44));
    cd.scatter = scatter_offset != 0;
  }
  if (cd.version >= 0x20200) {
    CATENA_TRY(uint32_t team_offset, r.read_be<uint32_t>(48));
    if (team_offset != 0) cd.team_id = bounded_string(blob, team_offset, blob.size());
  }
  if (cd.version >= 0x20300) {
    CATENA_TRY(uint64_t code_limit64, r.read_be<uint64_t>(56));
    if (code_limit64 != 0) cd.code_limit = code_limit64;
  }
  cd.identifier = bounded_string(blob, ident_offset, blob.size());
  if (cd.code_slots > kMaxMachoCodeSlots || cd.special_slots > kMaxMachoCodeSlots) {
    return make_error(ErrorCode::LimitExceeded, "a CodeDirectory with too many hash slots");
  }
  if (cd.page_size_log2 >= 32) return make_error(ErrorCode::Unsupported, "CodeDirectory page size");
  // The hash slots, special ones before hash_offset and code ones after, must lie in the blob.
  const uint64_t special_bytes = uint64_t{cd.special_slots} * cd.hash_size;
  const uint64_t code_bytes = uint64_t{cd.code_slots} * cd.hash_size;
  if (special_bytes > hash_offset || !fits_in(blob.size(), hash_offset, code_bytes)) {
    return make_error(ErrorCode::OutOfRange, "CodeDirectory hash slots outside the blob");
  }
  cd.hash_offset = hash_offset;
  return cd;
}

}  // namespace

std::optional<MachoSignature> parse_code_signature(std::span<const std::byte> file,
                                                   uint64_t offset,
                                                   uint64_t size,
                                                   std::vector<std::string>& problems) {
  if (!fits_in(file.size(), offset, size)) {
    problems.push_back("the code signature lies outside the file");
    return std::nullopt;
  }
  MachoSignature sig;
  sig.offset = offset;
  sig.size = size;
  const auto super = file.subspan(static_cast<size_t>(offset), static_cast<size_t>(size));
  const ByteReader r(super);
  auto magic = r.read_be<uint32_t>(0);
  auto length = r.read_be<uint32_t>(4);
  auto count = r.read_be<uint32_t>(8);
  if (!magic || !length || !count || *magic != kCsMagicEmbeddedSignature) {
    problems.push_back("the code signature is not an embedded-signature superblob");
    return sig;
  }
  if (*length > super.size()) problems.push_back("the signature superblob overruns its space");
  const auto inside = super.first(std::min<size_t>(*length, super.size()));
  if (*count > kMaxMachoBlobs) {
    problems.push_back("the signature superblob has " + std::to_string(*count) + " blobs");
    return sig;
  }
  for (uint32_t idx = 0; idx < *count; ++idx) {
    auto type = r.read_be<uint32_t>(12 + uint64_t{idx} * 8);
    auto at = r.read_be<uint32_t>(16 + uint64_t{idx} * 8);
    if (!type || !at) {
      problems.push_back("the signature superblob index is truncated");
      break;
    }
    const ByteReader inner(inside);
    auto blob_magic = inner.read_be<uint32_t>(*at);
    auto blob_length = inner.read_be<uint32_t>(uint64_t{*at} + 4);
    if (!blob_magic || !blob_length || *blob_length < 8 ||
        !fits_in(inside.size(), *at, *blob_length)) {
      problems.push_back("signature blob " + std::to_string(*type) + " lies outside the superblob");
      sig.blobs.push_back({*type, 0, {}});
      continue;
    }
    MachoBlob blob{*type, *blob_magic, inside.subspan(*at, *blob_length)};
    sig.blobs.push_back(blob);
    const bool cd_slot =
        *type == kCsSlotCodeDirectory ||
        (*type >= kCsSlotAlternateCodeDirectories && *type < kCsSlotAlternateCodeDirectories + 5);
    if (cd_slot) {
      if (*blob_magic != kCsMagicCodeDirectory) {
        problems.push_back("a CodeDirectory slot holds another kind of blob");
        continue;
      }
      auto cd = parse_code_directory(*type, blob.bytes);
      if (!cd) {
        problems.push_back("a CodeDirectory cannot be read: " + cd.error().describe());
        continue;
      }
      sig.code_directories.push_back(std::move(*cd));
    } else if (*type == kCsSlotCms) {
      if (*blob_magic != kCsMagicBlobWrapper) {
        problems.push_back("the CMS slot holds another kind of blob");
        continue;
      }
      sig.cms = blob.bytes.subspan(8);
    }
  }
  return sig;
}

namespace {

void parse_signature(std::span<const std::byte> slice,
                     uint64_t offset,
                     uint64_t size,
                     MachoSlice& out) {
  if (auto sig = parse_code_signature(slice, offset, size, out.problems)) {
    out.signature = std::move(*sig);
  }
}

Result<MachoSlice> parse_slice(std::span<const std::byte> slice) {
  const ByteReader raw(slice);
  CATENA_TRY(uint32_t magic_le, raw.read_le<uint32_t>(0));
  MachoSlice out;
  out.size = slice.size();
  if (magic_le == kMhMagic || magic_le == kMhMagic64) {
    out.big_endian = false;
  } else {
    CATENA_TRY(uint32_t magic_be, raw.read_be<uint32_t>(0));
    if (magic_be != kMhMagic && magic_be != kMhMagic64) {
      return make_error(ErrorCode::BadMagic, "not a Mach-O image");
    }
    out.big_endian = true;
  }
  const SliceReader r(slice, out.big_endian);
  CATENA_TRY(uint32_t magic, r.u32(0));
  out.is64 = magic == kMhMagic64;
  CATENA_TRY(out.cpu_type, r.u32(4));
  CATENA_TRY(out.cpu_subtype, r.u32(8));
  CATENA_TRY(out.file_type, r.u32(12));
  CATENA_TRY(uint32_t ncmds, r.u32(16));
  CATENA_TRY(uint32_t sizeofcmds, r.u32(20));
  CATENA_TRY(out.flags, r.u32(24));
  if (ncmds > kMaxMachoLoadCommands) {
    return make_error(ErrorCode::LimitExceeded, std::to_string(ncmds) + " load commands");
  }
  const uint64_t header = out.is64 ? 32 : 28;
  if (!fits_in(slice.size(), header, sizeofcmds)) {
    out.problems.push_back("the load commands run past the end of the file");
  }
  const uint64_t commands_end = std::min<uint64_t>(header + sizeofcmds, slice.size());
  uint64_t at = header;
  for (uint32_t idx = 0; idx < ncmds; ++idx) {
    auto cmd = r.u32(at);
    auto cmdsize = r.u32(at + 4);
    if (!cmd || !cmdsize || *cmdsize < 8 || at + *cmdsize > commands_end) {
      out.problems.push_back("load command " + std::to_string(idx) + " is truncated");
      break;
    }
    out.load_commands.push_back(*cmd);
    const uint64_t end = at + *cmdsize;
    switch (*cmd) {
      case kLcLoadDylib:
      case kLcLoadWeakDylib:
      case kLcReexportDylib:
      case kLcLazyLoadDylib:
      case kLcLoadUpwardDylib:
      case kLcIdDylib:
      case kLcRpath: {
        auto name_offset = r.u32(at + 8);
        if (!name_offset || *name_offset >= *cmdsize) {
          out.problems.push_back("a load command's name lies outside it");
          break;
        }
        std::string name = bounded_string(slice, at + *name_offset, end);
        if (*cmd == kLcRpath) {
          out.rpaths.push_back(std::move(name));
        } else if (*cmd == kLcIdDylib) {
          out.install_name = std::move(name);
          // dylib: name offset, timestamp, current_version, compatibility_version.
          if (auto current = r.u32(at + 16)) out.dylib_version = packed_version(*current);
        } else {
          out.dylibs.push_back(std::move(name));
        }
        break;
      }
      case kLcUuid: {
        auto uuid = raw.bytes(at + 8, 16);
        if (uuid && *cmdsize >= 24) {
          out.uuid =
              to_hex(std::span(reinterpret_cast<const uint8_t*>(uuid->data()), uuid->size()));
        }
        break;
      }
      case kLcVersionMinMacosx:
      case kLcVersionMinIphoneos:
      case kLcVersionMinTvos:
      case kLcVersionMinWatchos: {
        auto version = r.u32(at + 8);
        auto sdk = r.u32(at + 12);
        if (!version || !sdk) break;
        static constexpr std::pair<uint32_t, std::string_view> kPlatforms[] = {
            {kLcVersionMinMacosx, "macos"},
            {kLcVersionMinIphoneos, "ios"},
            {kLcVersionMinTvos, "tvos"},
            {kLcVersionMinWatchos, "watchos"}};
        for (const auto& [command, name] : kPlatforms) {
          if (command == *cmd) out.platform = name;
        }
        out.min_os = packed_version(*version);
        out.sdk = packed_version(*sdk);
        break;
      }
      case kLcBuildVersion: {
        auto platform = r.u32(at + 8);
        auto minos = r.u32(at + 12);
        auto sdk = r.u32(at + 16);
        if (!platform || !minos || !sdk) break;
        out.platform = platform_name(*platform);
        out.min_os = packed_version(*minos);
        out.sdk = packed_version(*sdk);
        break;
      }
      case kLcSourceVersion: {
        // A.B.C.D.E packed in 24, 10, 10, 10 and 10 bits.
        auto version = r.u64(at + 8);
        if (!version) break;
        const uint64_t v = *version;
        out.source_version = std::to_string(v >> 40) + "." + std::to_string((v >> 30) & 0x3ff) +
                             "." + std::to_string((v >> 20) & 0x3ff) + "." +
                             std::to_string((v >> 10) & 0x3ff) + "." + std::to_string(v & 0x3ff);
        break;
      }
      case kLcSegment:
      case kLcSegment64: {
        // fileoff and filesize: 32-bit words after vmaddr/vmsize in LC_SEGMENT, 64-bit in _64.
        Result<uint64_t> fileoff =
            out.is64 ? r.u64(at + 40) : r.u32(at + 32).map([](uint32_t v) { return uint64_t{v}; });
        Result<uint64_t> filesize =
            out.is64 ? r.u64(at + 48) : r.u32(at + 36).map([](uint32_t v) { return uint64_t{v}; });
        if (fileoff && filesize && *fileoff <= UINT64_MAX - *filesize) {
          out.code_end = std::max(out.code_end, *fileoff + *filesize);
        }
        break;
      }
      case kLcCodeSignature: {
        auto offset = r.u32(at + 8);
        auto size = r.u32(at + 12);
        if (!offset || !size) {
          out.problems.push_back("LC_CODE_SIGNATURE is truncated");
        } else if (out.signature) {
          out.problems.push_back("more than one LC_CODE_SIGNATURE");
        } else {
          parse_signature(slice, *offset, *size, out);
        }
        break;
      }
      default:
        break;
    }
    at = end;
  }
  return out;
}

}  // namespace

std::string macho_cpu_name(uint32_t cpu_type) {
  switch (cpu_type) {
    case 7:
      return "i386";
    case 0x01000007:
      return "x86_64";
    case 12:
      return "arm";
    case 0x0100000c:
      return "arm64";
    case 0x0200000c:
      return "arm64_32";
    case 18:
      return "ppc";
    case 0x01000012:
      return "ppc64";
    default: {
      char text[16];
      std::snprintf(text, sizeof(text), "0x%x", cpu_type);
      return text;
    }
  }
}

Result<MachoInfo> parse_macho(std::span<const std::byte> file) {
  const ByteReader raw(file);
  CATENA_TRY(uint32_t magic, raw.read_be<uint32_t>(0));
  MachoInfo info;
  if (magic != kFatMagic && magic != kFatMagic64) {
    CATENA_TRY(MachoSlice slice, parse_slice(file));
    info.slices.push_back(std::move(slice));
    return info;
  }
  info.fat = true;
  CATENA_TRY(uint32_t count, raw.read_be<uint32_t>(4));
  // A Java class file shares the magic; its "count" (the version) is far above any real one.
  if (count > kMaxMachoSlices) {
    return make_error(ErrorCode::LimitExceeded, std::to_string(count) + " fat slices");
  }
  const bool wide = magic == kFatMagic64;
  const uint64_t entry = wide ? 32 : 20;
  for (uint32_t idx = 0; idx < count; ++idx) {
    const uint64_t at = 8 + entry * idx;
    CATENA_TRY(uint32_t cpu_type, raw.read_be<uint32_t>(at));
    CATENA_TRY(uint32_t cpu_subtype, raw.read_be<uint32_t>(at + 4));
    uint64_t offset = 0, size = 0;
    if (wide) {
      CATENA_TRY(offset, raw.read_be<uint64_t>(at + 8));
      CATENA_TRY(size, raw.read_be<uint64_t>(at + 16));
    } else {
      CATENA_TRY(uint32_t offset32, raw.read_be<uint32_t>(at + 8));
      CATENA_TRY(uint32_t size32, raw.read_be<uint32_t>(at + 12));
      offset = offset32;
      size = size32;
    }
    MachoSlice slice;
    if (!fits_in(file.size(), offset, size)) {
      slice.problems.push_back("the slice lies outside the file");
    } else if (auto parsed = parse_slice(
                   file.subspan(static_cast<size_t>(offset), static_cast<size_t>(size)))) {
      slice = std::move(*parsed);
    } else {
      slice.problems.push_back("the slice cannot be parsed: " + parsed.error().describe());
    }
    slice.offset = offset;
    slice.size = size;
    if (slice.cpu_type == 0) {
      slice.cpu_type = cpu_type;
      slice.cpu_subtype = cpu_subtype;
    } else if (slice.cpu_type != cpu_type) {
      slice.problems.push_back("the fat header names another CPU than the slice");
    }
    info.slices.push_back(std::move(slice));
  }
  // Overlapping slices: one set of bytes claimed by two architectures.
  for (size_t a = 0; a < info.slices.size(); ++a) {
    for (size_t b = a + 1; b < info.slices.size(); ++b) {
      const MachoSlice& x = info.slices[a];
      const MachoSlice& y = info.slices[b];
      if (!fits_in(file.size(), x.offset, x.size) || !fits_in(file.size(), y.offset, y.size)) {
        continue;
      }
      if (x.size != 0 && y.size != 0 && x.offset < y.offset + y.size &&
          y.offset < x.offset + x.size) {
        info.problems.push_back("fat slices " + std::to_string(a) + " and " + std::to_string(b) +
                                " overlap");
      }
    }
  }
  return info;
}

}  // namespace catena::formats
