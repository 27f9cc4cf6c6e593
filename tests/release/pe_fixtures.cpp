#include "pe_fixtures.hpp"

#include <gtest/gtest.h>

#include "support/cache.hpp"
#include "support/matchers.hpp"

namespace catena::release {

using test::IsOk;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

void put_le32(std::string& s, uint64_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) s[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

std::string real_dll() {
  const std::string path = test::cache_dir() + "/pe/amd64-vcruntime140.dll";
  std::string content = test::read_file(path);
  if (content.empty()) ADD_FAILURE() << "missing " << path;
  return content;
}

formats::PeInfo pe_of(const std::string& content) {
  auto pe = formats::parse_pe(bytes_of(content));
  EXPECT_THAT(pe, IsOk());
  return pe ? *pe : formats::PeInfo{};
}

const formats::PeSection& section_named(const formats::PeInfo& pe, std::string_view name) {
  for (const formats::PeSection& s : pe.sections) {
    if (s.name == name) return s;
  }
  ADD_FAILURE() << "no section " << name;
  return pe.sections.front();
}

// Bytes changed inside the code, the version resource left as it was.
std::string patched_code(std::string dll) {
  const formats::PeInfo pe = pe_of(dll);
  const formats::PeSection& text = section_named(pe, ".text");
  for (uint64_t i = 0; i < 64; ++i) dll[text.raw_offset + text.raw_size / 2 + i] ^= 0x5a;
  return dll;
}

// The 3CX d3dcompiler_47.dll shape: data added inside the certificate table.
std::string payload_in_certificate_table(std::string dll) {
  const formats::PeInfo pe = pe_of(dll);
  const formats::PeCertificate& last = pe.certificates.back();
  std::string payload(4096, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 131 + 7) % 251);
  const uint32_t grown = ((last.length + 7) & ~7u) + static_cast<uint32_t>(payload.size());
  put_le32(dll, last.offset, grown);
  put_le32(dll, pe.security_entry_offset + 4,
           static_cast<uint32_t>(last.offset - pe.cert_table_offset) + grown);
  dll.resize(last.offset + ((last.length + 7) & ~7u), '\0');
  return dll + payload;
}

// A rebuild's noise: another link time and debug GUID, and no signature.
std::string noisy_unsigned_rebuild(std::string dll) {
  const formats::PeInfo pe = pe_of(dll);
  for (const auto& [offset, length] : pe.build_noise) {
    for (uint64_t i = 0; i < length; ++i) dll[offset + i] = static_cast<char>(dll[offset + i] + 1);
  }
  dll.resize(pe.cert_table_offset);
  put_le32(dll, pe.security_entry_offset, 0);
  put_le32(dll, pe.security_entry_offset + 4, 0);
  put_le32(dll, pe.checksum_offset, 0);
  return dll;
}

}  // namespace catena::release
