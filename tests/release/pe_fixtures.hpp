#pragma once
// A real signed DLL (Microsoft's, from the test-data cache) and the ways a trojanized or rebuilt
// release changes it, for the release tests.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "catena/formats/pe.hpp"

namespace catena::release {

std::span<const std::byte> bytes_of(const std::string& s);
void put_le32(std::string& s, uint64_t offset, uint32_t value);
/// The cached amd64 vcruntime140.dll; a test failure and "" when it is missing.
std::string real_dll();
formats::PeInfo pe_of(const std::string& content);
const formats::PeSection& section_named(const formats::PeInfo& pe, std::string_view name);
/// Bytes changed inside the code, the version resource left as it was.
std::string patched_code(std::string dll);
/// The 3CX d3dcompiler_47.dll shape: data added inside the certificate table.
std::string payload_in_certificate_table(std::string dll);
/// A rebuild's noise: another link time and debug GUID, and no signature.
std::string noisy_unsigned_rebuild(std::string dll);

}  // namespace catena::release
