#pragma once
// Builds small Mach-O images for tests: a thin image with a segment, dylibs, an rpath, a UUID and,
// when asked, an ad-hoc code signature whose CodeDirectory hashes the pages as codesign would.
#include <cstdint>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "support/byte_builder.hpp"

namespace catena::test {

struct MachoSpec {
  bool big_endian = false;
  bool is64 = true;
  uint32_t cpu_type = 0x0100000c;  // arm64
  std::vector<std::string> dylibs = {"/usr/lib/libSystem.B.dylib"};
  std::string rpath = "@executable_path/../Frameworks";
  size_t code_size = 0x3000;  // bytes before the signature; hashed in 4 KiB pages
  bool sign = true;
  std::string entitlements;  // a plist; empty for none
};

inline std::string build_macho(const MachoSpec& spec) {
  ByteBuilder b;
  const auto u32 = [&](size_t at, uint32_t v) {
    if (spec.big_endian) {
      b.put_be<uint32_t>(at, v);
    } else {
      b.put_le<uint32_t>(at, v);
    }
  };
  const auto u64 = [&](size_t at, uint64_t v) {
    if (spec.big_endian) {
      b.put_be<uint64_t>(at, v);
    } else {
      b.put_le<uint64_t>(at, v);
    }
  };
  const size_t header = spec.is64 ? 32 : 28;
  size_t at = header;
  uint32_t ncmds = 0;
  // The segment covering the code.
  const size_t segment = spec.is64 ? 72 : 56;
  u32(at, spec.is64 ? 0x19 : 0x1);
  u32(at + 4, static_cast<uint32_t>(segment));
  b.put(at + 8, "__TEXT");
  if (spec.is64) {
    u64(at + 40, 0);
    u64(at + 48, spec.code_size);
  } else {
    u32(at + 32, 0);
    u32(at + 36, static_cast<uint32_t>(spec.code_size));
  }
  at += segment;
  ++ncmds;
  const auto string_command = [&](uint32_t cmd, size_t name_at, const std::string& name) {
    const size_t size = (name_at + name.size() + 1 + 7) / 8 * 8;
    u32(at, cmd);
    u32(at + 4, static_cast<uint32_t>(size));
    u32(at + 8, static_cast<uint32_t>(name_at));
    b.put(at + name_at, name);
    b.resize(std::max(b.bytes().size(), at + size));
    at += size;
    ++ncmds;
  };
  for (const std::string& dylib : spec.dylibs) string_command(0xc, 24, dylib);
  if (!spec.rpath.empty()) string_command(0x8000001c, 12, spec.rpath);
  u32(at, 0x1b);
  u32(at + 4, 24);
  for (size_t idx = 0; idx < 16; ++idx) b.put_le<uint8_t>(at + 8 + idx, static_cast<uint8_t>(idx));
  at += 24;
  ++ncmds;
  const size_t signature_command = at;
  if (spec.sign) {
    u32(at, 0x1d);
    u32(at + 4, 16);
    at += 16;
    ++ncmds;
  }
  u32(0, spec.is64 ? 0xfeedfacf : 0xfeedface);
  u32(4, spec.cpu_type);
  u32(12, 2);
  u32(16, ncmds);
  u32(20, static_cast<uint32_t>(at - header));
  // Code bytes after the commands: a pattern, so that each page hashes differently.
  for (size_t idx = at; idx < spec.code_size; ++idx) {
    b.put_le<uint8_t>(idx, static_cast<uint8_t>(idx * 7 + idx / 4096));
  }
  b.resize(spec.code_size);
  if (!spec.sign) return b.str();

  // The superblob: CodeDirectory, then entitlements when given. Big-endian throughout.
  const std::string identifier = "com.example.tool";
  const uint32_t pages = static_cast<uint32_t>((spec.code_size + 4095) / 4096);
  const uint32_t special = spec.entitlements.empty() ? 0 : 5;
  const uint32_t cd_header = 88;
  const uint32_t hash_offset =
      cd_header + static_cast<uint32_t>(identifier.size() + 1) + special * 32;
  const uint32_t cd_length = hash_offset + pages * 32;
  ByteBuilder ents;
  if (!spec.entitlements.empty()) {
    ents.put_be<uint32_t>(0, 0xfade7171);
    ents.put_be<uint32_t>(4, static_cast<uint32_t>(8 + spec.entitlements.size()));
    ents.put(8, spec.entitlements);
  }
  const uint32_t count = spec.entitlements.empty() ? 1 : 2;
  const uint32_t cd_at = 12 + 8 * count;
  const uint32_t super_length = cd_at + cd_length + static_cast<uint32_t>(ents.bytes().size());
  // The signature command, inside page 0, is written before the pages are hashed.
  u32(signature_command + 8, static_cast<uint32_t>(spec.code_size));
  u32(signature_command + 12, super_length);
  ByteBuilder cd;
  cd.put_be<uint32_t>(0, 0xfade0c02);
  cd.put_be<uint32_t>(4, cd_length);
  cd.put_be<uint32_t>(8, 0x20400);
  cd.put_be<uint32_t>(12, 0x2);  // ad hoc
  cd.put_be<uint32_t>(16, hash_offset);
  cd.put_be<uint32_t>(20, cd_header);
  cd.put_be<uint32_t>(24, special);
  cd.put_be<uint32_t>(28, pages);
  cd.put_be<uint32_t>(32, static_cast<uint32_t>(spec.code_size));
  cd.put_be<uint8_t>(36, 32);
  cd.put_be<uint8_t>(37, 2);
  cd.put_be<uint8_t>(39, 12);
  cd.put(cd_header, identifier);
  cd.resize(cd_length);
  const auto put_hash = [&](size_t offset, std::span<const std::byte> data) {
    const Sha256 digest = sha256_of(data);
    for (size_t idx = 0; idx < digest.size(); ++idx) cd.put_be<uint8_t>(offset + idx, digest[idx]);
  };
  if (special != 0) put_hash(hash_offset - 5 * 32, ents.span());
  for (uint32_t page = 0; page < pages; ++page) {
    const size_t start = size_t{page} * 4096;
    const size_t length = std::min<size_t>(4096, spec.code_size - start);
    put_hash(hash_offset + size_t{page} * 32, b.span().subspan(start, length));
  }
  ByteBuilder super;
  super.put_be<uint32_t>(0, 0xfade0cc0);
  super.put_be<uint32_t>(4, super_length);
  super.put_be<uint32_t>(8, count);
  super.put_be<uint32_t>(12, 0);
  super.put_be<uint32_t>(16, cd_at);
  if (count == 2) {
    super.put_be<uint32_t>(20, 5);
    super.put_be<uint32_t>(24, cd_at + cd_length);
  }
  super.put(cd_at, cd.str());
  if (count == 2) super.put(cd_at + cd_length, ents.str());
  return b.str() + super.str();
}

}  // namespace catena::test
