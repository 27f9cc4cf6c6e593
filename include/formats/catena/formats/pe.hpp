#pragma once
/// PE/COFF (PE32 and PE32+) structure for signature checks: headers, sections with entropy, the
/// checksum, the security directory and every WIN_CERTIFICATE entry, and what lies after them.
///
///   CATENA_TRY(PeInfo pe, parse_pe(bytes));
///   for (const PeCertificate& c : pe.certificates) { ... c.blob ... }
///
/// Untrusted input: every offset comes from the file and is checked against its size with
/// overflow-checked arithmetic; counts are capped. Structural oddities that do not prevent
/// parsing (a certificate table that does not add up, bytes hidden after a PKCS#7 blob) are
/// recorded, not fatal: they are what a tampered file looks like.
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::formats {

/// The Windows loader's own limit on sections.
inline constexpr size_t kMaxPeSections = 96;
/// Caps on imported DLLs (import and delay-load tables together) and on one name's length.
inline constexpr size_t kMaxPeImports = 4096;
inline constexpr size_t kMaxPeImportedFunctions = 65536;
inline constexpr size_t kMaxPeNameLength = 256;
/// A cap on a long section name read from the COFF string table.
inline constexpr size_t kMaxPeSectionName = 256;
/// Caps on named exports, on resource leaves and on the resource tree's depth (Windows uses 3).
inline constexpr size_t kMaxPeExports = 65536;
inline constexpr size_t kMaxPeResources = 4096;
inline constexpr size_t kMaxPeResourceDepth = 8;
/// More WIN_CERTIFICATE entries than any real file carries (shim has two signatures in one).
inline constexpr size_t kMaxPeCertificates = 32;

struct PeSection {
  std::string name;  // NULs removed; a long name ("/4") resolved through the string table
  uint32_t virtual_address = 0;
  uint32_t virtual_size = 0;
  uint32_t raw_offset = 0;
  uint32_t raw_size = 0;
  uint32_t characteristics = 0;
};

inline constexpr uint16_t kWinCertTypePkcsSignedData = 0x0002;

struct PeCertificate {
  uint64_t offset = 0;  // of the WIN_CERTIFICATE header in the file
  uint32_t length = 0;  // dwLength, header included
  uint16_t revision = 0;
  uint16_t type = 0;
  std::span<const std::byte> blob;  // bCertificate: dwLength - 8 bytes
  uint64_t der_length = 0;          // of the DER SEQUENCE at the start of blob; 0 when not DER
  /// Bytes of blob after the DER structure that are not zero padding to 8-byte alignment: data
  /// hidden inside the signature block (CVE-2013-3900, the 3CX d3dcompiler_47.dll shape).
  uint64_t hidden_offset = 0;  // in the file
  uint64_t hidden_length = 0;
  double hidden_entropy = 0;
};

struct PeInfo {
  bool pe32_plus = false;
  uint16_t machine = 0;
  uint16_t characteristics = 0;
  uint16_t subsystem = 0;
  uint64_t checksum_offset = 0;  // of OptionalHeader.CheckSum
  uint32_t checksum = 0;
  uint64_t security_entry_offset = 0;  // of the security data directory entry (8 bytes)
  uint32_t cert_table_offset = 0;      // a file offset, not an RVA
  uint32_t cert_table_size = 0;
  uint64_t headers_size = 0;
  std::vector<PeSection> sections;
  uint64_t end_of_sections = 0;  // the largest raw_offset + raw_size within the file
  /// Data after the sections that is not the certificate table, and data after the table.
  uint64_t overlay_offset = 0;
  uint64_t overlay_size = 0;
  uint64_t after_cert_table = 0;  // bytes between the table's end and the end of the file
  std::vector<PeCertificate> certificates;
  /// DLL names the image imports, from the import and the delay-load tables, as written.
  std::vector<std::string> imports;
  /// The functions taken from them, "KERNEL32.dll!CreateProcessW", or "WS2_32.dll!#23" for an
  /// import by ordinal, in table order.
  std::vector<std::string> imported_functions;
  /// The export directory: the DLL's own name and its named exports, in table order.
  std::string export_name;
  std::vector<std::string> exports;
  /// Leaves of the resource tree, and the VERSIONINFO resource: the fixed file version
  /// ("14.30.30626.0") and the strings of its first StringTable (CompanyName, ProductName,
  /// FileVersion, OriginalFilename, ...), UTF-8.
  size_t resource_count = 0;
  std::string fixed_file_version;
  std::map<std::string, std::string> version_info;
  /// Byte ranges (offset, length) that differ between two builds of the same source with the
  /// same tools: timestamps, the debug directory's GUID, age and reproducibility hash.
  std::vector<std::pair<uint64_t, uint64_t>> build_noise;
  bool is_dll() const { return (characteristics & 0x2000) != 0; }
  std::vector<std::string> problems;         // certificate-table damage, one sentence each
  std::vector<std::string> layout_problems;  // damage in the exports or resources
};

/// Parses the file. BadMagic when it is not PE; Truncated/OutOfRange for headers that do not
/// fit; LimitExceeded over kMaxPeSections.
[[nodiscard]] Result<PeInfo> parse_pe(std::span<const std::byte> file);

/// The file offset of a relative virtual address, through the section table; nullopt when no
/// section's raw data holds it.
std::optional<uint64_t> pe_rva_to_offset(const PeInfo& pe, uint64_t rva, uint64_t file_size);

/// The PE checksum (as imagehlp's CheckSumMappedFile computes it) of `file`, skipping the
/// checksum field at `checksum_offset`.
uint32_t pe_checksum(std::span<const std::byte> file, uint64_t checksum_offset);

/// Shannon entropy of a section's raw data present in the file, in bits per byte (packed or
/// encrypted code is near 8). Computed on demand: it reads every byte of the section.
double pe_section_entropy(std::span<const std::byte> file, const PeSection& section);

/// Shannon entropy of the bytes, in bits per byte (0 for none).
double entropy(std::span<const std::byte> bytes);

/// The byte ranges the Authenticode digest covers, in order: the whole file except the
/// checksum field, the security directory entry and the certificate table.
std::vector<std::pair<uint64_t, uint64_t>> authenticode_ranges(const PeInfo& pe,
                                                               uint64_t file_size);

/// The Authenticode ranges less `build_noise` and the zero padding signing adds: what two builds
/// of the same source must have in common byte for byte, signed or not.
std::vector<std::pair<uint64_t, uint64_t>> rebuild_ranges(const PeInfo& pe,
                                                          std::span<const std::byte> file);

}  // namespace catena::formats
