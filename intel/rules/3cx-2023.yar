/*
  Structural tells of the 2023 3CX supply-chain attack, written for catena from the public
  reporting summarised in docs/intel.md. They look for shapes, not for the attackers' bytes, so
  they also catch the next file built the same way.
*/
import "pe"
import "math"

rule catena_pe_data_after_authenticode_pkcs7 {
  meta:
    description = "A PE whose certificate table carries data after the PKCS#7 signature (beyond zero padding): the CVE-2013-3900 shape used to hide the 3CX payload in a validly signed d3dcompiler_47.dll"
    severity = "high"
    reference = "CVE-2013-3900; 3CX d3dcompiler_47.dll"
  condition:
    uint16(0) == 0x5A4D and
    pe.number_of_signatures > 0 and
    // t: the first WIN_CERTIFICATE; e: its end (dwLength); d: the end of its DER SEQUENCE,
    // with a 2- or 3-byte length. More than alignment padding after it, or any non-zero byte.
    for any t in (pe.data_directories[pe.IMAGE_DIRECTORY_ENTRY_SECURITY].virtual_address) : (
      for any e in (t + uint32(t)) : (
        (uint8(t + 9) == 0x82 and
          for any d in (t + 12 + uint16be(t + 10)) : (
            d < e and (e - d > 7 or math.count(0, d, e - d) < e - d)))
        or
        (uint8(t + 9) == 0x83 and
          for any d in (t + 13 + uint16be(t + 10) * 256 + uint8(t + 12)) : (
            d < e and (e - d > 7 or math.count(0, d, e - d) < e - d)))
      )
    )
}

rule catena_dll_seeks_feedface_in_d3dcompiler {
  meta:
    description = "A DLL that names d3dcompiler_47.dll and carries the FE ED FA CE marker the trojanized 3CX ffmpeg.dll used to find its payload inside that DLL's signature"
    severity = "critical"
    reference = "3CX ffmpeg.dll (ICONIC loader)"
  strings:
    $marker = { FE ED FA CE }
    $d3d = "d3dcompiler_47.dll" ascii wide nocase
  condition:
    uint16(0) == 0x5A4D and
    pe.characteristics & pe.DLL and
    $marker and $d3d
}
