#pragma once
// Builds Apple disk images for tests, laid out as UDIF and codesign lay them out: a data fork, the
// property list, an embedded code signature, and the 512-byte "koly" trailer. The signature's
// CodeDirectory hashes the image up to the signature in one piece (page size 0), its special
// slot 6 hashes the trailer with the signature size zeroed, and its CMS blob holds what `cms`
// returns for the CodeDirectory (nothing: an ad-hoc signature).
#include <cstdint>
#include <functional>
#include <string>

#include "catena/core/digest.hpp"
#include "support/byte_builder.hpp"

namespace catena::test {

struct DmgSpec {
  size_t data_size = 5000;  // the data fork: a pattern
  std::string plist =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict/></plist>\n";
  bool sign = true;
  std::string identifier = "com.example.installer";
  std::function<std::string(const std::string& code_directory)> cms;
  std::string after_signature;  // bytes between the superblob and the trailer
};

inline std::string build_dmg(const DmgSpec& spec) {
  ByteBuilder image;
  for (size_t idx = 0; idx < spec.data_size; ++idx) {
    image.put_le<uint8_t>(idx, static_cast<uint8_t>(idx * 13 + idx / 256));
  }
  image.put(spec.data_size, spec.plist);
  const uint64_t signature_at = image.bytes().size();

  ByteBuilder koly(512);
  koly.put(0, "koly");
  koly.put_be<uint32_t>(4, 4);
  koly.put_be<uint32_t>(8, 512);
  koly.put_be<uint32_t>(12, 1);
  koly.put_be<uint64_t>(0x20, spec.data_size);
  koly.put_be<uint32_t>(0x38, 1);
  koly.put_be<uint32_t>(0x3c, 1);
  koly.put_be<uint32_t>(0x50, 2);
  koly.put_be<uint32_t>(0x54, 32);
  koly.put_be<uint64_t>(0xd8, spec.data_size);
  koly.put_be<uint64_t>(0xe0, spec.plist.size());
  koly.put_be<uint32_t>(0x160, 2);
  koly.put_be<uint32_t>(0x164, 32);
  koly.put_be<uint32_t>(0x1e8, 1);
  koly.put_be<uint64_t>(0x1ec, spec.data_size / 512);
  if (!spec.sign) return image.str() + koly.str();
  koly.put_be<uint64_t>(0x128, signature_at);

  const auto hash_into = [](ByteBuilder& out, size_t at, std::span<const std::byte> data) {
    const Sha256 digest = sha256_of(data);
    for (size_t idx = 0; idx < digest.size(); ++idx) out.put_be<uint8_t>(at + idx, digest[idx]);
  };
  ByteBuilder requirements;  // an empty requirement set, as codesign writes for a disk image
  requirements.put_be<uint32_t>(0, 0xfade0c01);
  requirements.put_be<uint32_t>(4, 12);
  requirements.put_be<uint32_t>(8, 0);
  constexpr uint32_t kHeader = 48, kSpecial = 6;
  const uint32_t hash_offset =
      kHeader + static_cast<uint32_t>(spec.identifier.size() + 1) + kSpecial * 32;
  const uint32_t cd_length = hash_offset + 32;
  ByteBuilder cd;
  cd.put_be<uint32_t>(0, 0xfade0c02);
  cd.put_be<uint32_t>(4, cd_length);
  cd.put_be<uint32_t>(8, 0x20100);
  cd.put_be<uint32_t>(12, spec.cms ? 0 : 0x2);  // ad hoc without a CMS signature
  cd.put_be<uint32_t>(16, hash_offset);
  cd.put_be<uint32_t>(20, kHeader);
  cd.put_be<uint32_t>(24, kSpecial);
  cd.put_be<uint32_t>(28, 1);
  cd.put_be<uint32_t>(32, static_cast<uint32_t>(signature_at));
  cd.put_be<uint8_t>(36, 32);
  cd.put_be<uint8_t>(37, 2);  // SHA-256
  cd.put_be<uint8_t>(39, 0);  // one "page": the whole code limit
  cd.put(kHeader, spec.identifier);
  cd.resize(cd_length);
  hash_into(cd, hash_offset - 2 * 32, requirements.span());
  hash_into(cd, hash_offset - 6 * 32, koly.span());  // the signature size is still zero
  hash_into(cd, hash_offset, image.span());

  ByteBuilder wrapper;
  const std::string der = spec.cms ? spec.cms(cd.str()) : std::string();
  wrapper.put_be<uint32_t>(0, 0xfade0b01);
  wrapper.put_be<uint32_t>(4, static_cast<uint32_t>(8 + der.size()));
  wrapper.put(8, der);
  constexpr uint32_t kCount = 3, kIndex = 12 + 8 * kCount;
  const uint32_t requirements_at = kIndex + cd_length;
  const uint32_t wrapper_at = requirements_at + 12;
  const uint32_t super_length = wrapper_at + static_cast<uint32_t>(wrapper.bytes().size());
  ByteBuilder super;
  super.put_be<uint32_t>(0, 0xfade0cc0);
  super.put_be<uint32_t>(4, super_length);
  super.put_be<uint32_t>(8, kCount);
  super.put_be<uint32_t>(12, 0);
  super.put_be<uint32_t>(16, kIndex);
  super.put_be<uint32_t>(20, 2);
  super.put_be<uint32_t>(24, requirements_at);
  super.put_be<uint32_t>(28, 0x10000);
  super.put_be<uint32_t>(32, wrapper_at);
  super.put(kIndex, cd.str());
  super.put(requirements_at, requirements.str());
  super.put(wrapper_at, wrapper.str());
  koly.put_be<uint64_t>(0x130, super_length);
  return image.str() + super.str() + spec.after_signature + koly.str();
}

}  // namespace catena::test
