#include "catena/trust/sig.hpp"

#include <dirent.h>

#include <cctype>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/formats/format.hpp"
#include "catena/formats/macho.hpp"
#include "catena/formats/pe.hpp"
#include "catena/trust/codesign.hpp"

namespace catena::trust {
namespace {

std::string fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.2f", value);
  return text;
}

}  // namespace

namespace {

// Findings and the verdict from verified signatures, the same for every format.
void judge(SigReport& report, const std::function<std::optional<Sha256>()>& sha) {
  bool invalid = false;
  bool trusted = false;
  for (const Signature& s : report.signatures) {
    const bool macho = s.kind == "macho";
    const bool dmg = s.kind == "dmg";
    const bool msi = s.kind == "msi";
    if (!s.error.empty()) {
      invalid = true;
      Finding f = make_finding(macho                       ? "MACHO_SIGNATURE_MALFORMED"
                               : dmg                       ? "DMG_SIGNATURE_MALFORMED"
                               : msi                       ? "MSI_STRUCTURE_MALFORMED"
                               : s.kind == "kernel-module" ? "MODULE_SIGNATURE_MALFORMED"
                                                           : "PE_CERT_TABLE_MALFORMED",
                               report.path);
      f.sha256 = sha();
      if (!s.arch.empty()) f.add_evidence("arch", s.arch);
      f.add_evidence("problem", s.error);
      report.findings.push_back(std::move(f));
      continue;
    }
    if (!s.digest_ok && s.kind != "kernel-module") {
      invalid = true;
      if (macho || dmg) {
        Finding f =
            make_finding(dmg ? "DMG_CODE_HASH_MISMATCH" : "MACHO_CODE_HASH_MISMATCH", report.path);
        f.sha256 = sha();
        if (macho) f.add_evidence("arch", s.arch);
        f.add_evidence("identifier", s.identifier);
        f.add_evidence("cdhash", s.cdhash);
        std::string list;
        for (const std::string& m : s.mismatches) list += (list.empty() ? "" : "; ") + m;
        f.add_evidence("mismatches", list);
        report.findings.push_back(std::move(f));
      } else {
        Finding f = make_finding(msi ? "MSI_DIGEST_MISMATCH" : "PE_DIGEST_MISMATCH", report.path);
        f.sha256 = sha();
        f.add_evidence("signer", s.subject);
        f.add_evidence("algorithm", s.digest_algorithm);
        f.add_evidence("signed_digest", s.signed_digest);
        f.add_evidence("file_digest", s.file_digest);
        report.findings.push_back(std::move(f));
      }
    }
    for (const auto& [offset, length] : s.uncovered) {
      Finding f = make_finding(dmg ? "DMG_UNCOVERED_DATA" : "MACHO_UNCOVERED_DATA", report.path);
      f.sha256 = sha();
      if (macho) f.add_evidence("arch", s.arch);
      f.add_evidence("offset", std::to_string(offset));
      f.add_evidence("length", std::to_string(length));
      report.findings.push_back(std::move(f));
    }
    if (!s.verifiable) {
      Finding f = make_finding("SIG_UNTRUSTED", report.path);
      f.sha256 = sha();
      f.add_evidence("issuer", s.issuer);
      f.add_evidence("serial", s.serial);
      f.add_evidence("chain", s.chain);
      f.add_evidence("detail", s.chain_detail);
      report.findings.push_back(std::move(f));
      continue;
    }
    if (!s.signature_ok) {
      invalid = true;
      Finding f = make_finding("SIG_SIGNATURE_INVALID", report.path);
      f.sha256 = sha();
      if (!s.arch.empty()) f.add_evidence("arch", s.arch);
      f.add_evidence("kind", s.kind);
      f.add_evidence("signer", s.subject);
      report.findings.push_back(std::move(f));
    }
    const std::string who = s.adhoc ? "ad hoc (" + s.identifier + ")" : s.subject;
    if (s.chain == "trusted") {
      trusted = true;
    } else if (s.chain == "expired" && !s.timestamp_verified) {
      Finding f = make_finding("SIG_SIGNER_EXPIRED_NO_TIMESTAMP", report.path);
      f.sha256 = sha();
      f.add_evidence("signer", who);
      report.findings.push_back(std::move(f));
    } else {
      Finding f = make_finding("SIG_UNTRUSTED", report.path);
      f.sha256 = sha();
      f.add_evidence("signer", who);
      if (!s.issuer.empty()) f.add_evidence("issuer", s.issuer);
      f.add_evidence("chain", s.chain);
      if (!s.chain_detail.empty()) f.add_evidence("detail", s.chain_detail);
      report.findings.push_back(std::move(f));
    }
  }
  sort_findings(report.findings);
  const auto worst = max_severity(report.findings);
  if (!report.is_signed) {
    report.verdict = "unsigned";
  } else if (invalid) {
    report.verdict = "invalid";
  } else if (worst && *worst >= Severity::High) {
    report.verdict = "anomalous";
  } else if (!trusted) {
    report.verdict = "untrusted";
  } else {
    report.verdict = "valid";
  }
}

void check_pe(SigReport& report,
              std::span<const std::byte> bytes,
              const formats::ParsedImage& image,
              const TrustStore& store,
              const std::function<std::optional<Sha256>()>& sha) {
  const std::string& path = report.path;
  if (!image.pe) return;
  const auto& pe = *image.pe;
  if (!pe) {
    Finding f = make_finding("PE_CERT_TABLE_MALFORMED", path);
    f.message = "The PE headers cannot be parsed, so no signature can be checked.";
    f.add_evidence("error", pe.error().describe());
    report.findings.push_back(std::move(f));
    report.verdict = "invalid";
    return;
  }
  for (const std::string& problem : pe->problems) {
    Finding f = make_finding("PE_CERT_TABLE_MALFORMED", path);
    f.sha256 = sha();
    f.add_evidence("problem", problem);
    report.findings.push_back(std::move(f));
  }
  for (const formats::PeCertificate& c : pe->certificates) {
    if (c.hidden_length == 0) continue;
    Finding f = make_finding("PE_CERT_PADDING", path);
    f.sha256 = sha();
    f.add_evidence("offset", std::to_string(c.hidden_offset));
    f.add_evidence("length", std::to_string(c.hidden_length));
    f.add_evidence("entropy", fixed(c.hidden_entropy));
    report.findings.push_back(std::move(f));
  }
  if (pe->after_cert_table > 0) {
    Finding f = make_finding("PE_OVERLAY_AFTER_SIGNATURE", path);
    f.sha256 = sha();
    f.add_evidence("length", std::to_string(pe->after_cert_table));
    report.findings.push_back(std::move(f));
  }
  if (pe->checksum != 0) {
    const uint32_t computed = formats::pe_checksum(bytes, pe->checksum_offset);
    if (computed != pe->checksum) {
      Finding f = make_finding("PE_CHECKSUM_MISMATCH", path);
      f.sha256 = sha();
      char text[16];
      std::snprintf(text, sizeof(text), "0x%08x", pe->checksum);
      f.add_evidence("recorded", text);
      std::snprintf(text, sizeof(text), "0x%08x", computed);
      f.add_evidence("computed", text);
      report.findings.push_back(std::move(f));
    }
  }
  report.imports = pe->imports;
  report.properties = pe->version_info;
  report.file_version = pe->fixed_file_version;
  report.signatures = verify_authenticode(bytes, *pe, store);
  report.is_signed = !report.signatures.empty();
  judge(report, sha);
  // A file that carries a certificate table is never "unsigned": a table with no signature that
  // can be read is a damaged (or deliberately broken) signature.
  if (!report.is_signed && pe->cert_table_size > 0) {
    if (pe->problems.empty()) {
      Finding f = make_finding("PE_CERT_TABLE_MALFORMED", path);
      f.sha256 = sha();
      f.add_evidence("problem", "a certificate table is present but holds no signature");
      report.findings.push_back(std::move(f));
      sort_findings(report.findings);
    }
    report.verdict = "invalid";
  }
}

void check_macho(SigReport& report,
                 std::span<const std::byte> bytes,
                 const formats::ParsedImage& image,
                 const TrustStore& store,
                 const std::function<std::optional<Sha256>()>& sha) {
  if (!image.macho) return;
  const auto& macho = *image.macho;
  if (!macho) {
    Finding f = make_finding("MACHO_SIGNATURE_MALFORMED", report.path);
    f.message = "The Mach-O headers cannot be parsed, so no signature can be checked.";
    f.add_evidence("error", macho.error().describe());
    report.findings.push_back(std::move(f));
    report.verdict = "invalid";
    return;
  }
  const auto problem = [&](const std::string& arch, const std::string& text) {
    Finding f = make_finding("MACHO_SIGNATURE_MALFORMED", report.path);
    f.sha256 = sha();
    if (!arch.empty()) f.add_evidence("arch", arch);
    f.add_evidence("problem", text);
    report.findings.push_back(std::move(f));
  };
  for (const std::string& text : macho->problems) problem("", text);
  for (const formats::MachoSlice& slice : macho->slices) {
    for (const std::string& text : slice.problems) {
      problem(formats::macho_cpu_name(slice.cpu_type), text);
    }
  }
  report.signatures = verify_macho(bytes, *macho, store);
  report.is_signed = !report.signatures.empty();
  judge(report, sha);
}

void check_dmg(SigReport& report,
               std::span<const std::byte> bytes,
               const formats::ParsedImage& image,
               const TrustStore& store,
               const std::function<std::optional<Sha256>()>& sha) {
  if (!image.dmg) return;
  const auto& dmg = *image.dmg;
  if (!dmg) {
    Finding f = make_finding("DMG_SIGNATURE_MALFORMED", report.path);
    f.message = "The disk image's trailer cannot be read, so no signature can be checked.";
    f.add_evidence("error", dmg.error().describe());
    report.findings.push_back(std::move(f));
    report.verdict = "invalid";
    return;
  }
  for (const std::string& problem : dmg->problems) {
    Finding f = make_finding("DMG_SIGNATURE_MALFORMED", report.path);
    f.sha256 = sha();
    f.add_evidence("problem", problem);
    report.findings.push_back(std::move(f));
  }
  report.signatures = verify_dmg(bytes, *dmg, store);
  report.is_signed = !report.signatures.empty();
  judge(report, sha);
  // A trailer that names a signature catena cannot read is a damaged signature, not none.
  if (!report.is_signed && (dmg->signature_offset != 0 || dmg->signature_size != 0)) {
    report.verdict = "invalid";
  }
}

void check_msi(SigReport& report,
               std::span<const std::byte> bytes,
               const formats::ParsedImage& image,
               const TrustStore& store,
               const std::function<std::optional<Sha256>()>& sha) {
  if (!image.ole) return;
  const auto& ole = *image.ole;
  if (!ole) {
    Finding f = make_finding("MSI_STRUCTURE_MALFORMED", report.path);
    f.message = "The compound file cannot be parsed, so no signature can be checked.";
    f.add_evidence("error", ole.error().describe());
    report.findings.push_back(std::move(f));
    report.verdict = "invalid";
    return;
  }
  for (const std::string& problem : ole->problems) {
    Finding f = make_finding("MSI_STRUCTURE_MALFORMED", report.path);
    f.sha256 = sha();
    f.add_evidence("problem", problem);
    report.findings.push_back(std::move(f));
  }
  const long summary = formats::find_ole_child(*ole, 0, "\\x05SummaryInformation");
  if (summary >= 0) {
    if (auto data = formats::read_ole_stream(*ole, bytes, static_cast<size_t>(summary))) {
      if (auto properties = formats::parse_summary_information(*data)) {
        report.properties = std::move(*properties);
      }
    }
  }
  report.signatures = verify_msi_authenticode(bytes, *ole, store);
  report.is_signed = !report.signatures.empty();
  judge(report, sha);
}

void check_elf(SigReport& report,
               std::span<const std::byte> bytes,
               const formats::ParsedImage& image,
               const TrustStore& store,
               const std::function<std::optional<Sha256>()>& sha) {
  if (!image.elf) return;
  const auto& elf = *image.elf;
  if (!elf || !elf->module_signature) return;
  report.signatures = verify_module_signature(bytes, *elf, store);
  report.is_signed = !report.signatures.empty();
  judge(report, sha);
}

}  // namespace

SigReport check_signatures(const std::string& path,
                           std::span<const std::byte> bytes,
                           const TrustStore& store,
                           bool finding_digests) {
  // The whole file: an MSI's root directory entry may be anywhere in it.
  return check_signatures(path, bytes, formats::parse_image(bytes), store, finding_digests);
}

SigReport check_signatures(const std::string& path,
                           std::span<const std::byte> bytes,
                           const formats::ParsedImage& image,
                           const TrustStore& store,
                           bool finding_digests) {
  SigReport report;
  report.path = path;
  report.format = std::string(formats::format_name(image.format));
  report.verdict = "unsigned";
  // The file's SHA-256 goes with each finding; computed only when there is one.
  std::optional<Sha256> sha_cache;
  const std::function<std::optional<Sha256>()> sha = [&]() -> std::optional<Sha256> {
    if (!finding_digests) return std::nullopt;
    if (!sha_cache) sha_cache = sha256_of(bytes);
    return sha_cache;
  };
  if (report.format == "pe") {
    check_pe(report, bytes, image, store, sha);
  } else if (report.format == "macho" || report.format == "macho_fat") {
    check_macho(report, bytes, image, store, sha);
  } else if (report.format == "elf") {
    check_elf(report, bytes, image, store, sha);
  } else if (report.format == "msi") {
    check_msi(report, bytes, image, store, sha);
  } else if (report.format == "dmg") {
    check_dmg(report, bytes, image, store, sha);
  }
  return report;
}

std::shared_ptr<const std::map<std::string, std::string>> DirectoryListings::get(
    const std::string& dir) {
  {
    const std::lock_guard lock(mutex_);
    auto found = listings_.find(dir);
    if (found != listings_.end()) return found->second;
  }
  auto listing = std::make_shared<std::map<std::string, std::string>>();
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* entry = ::readdir(d)) {
      std::string key = entry->d_name;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      listing->emplace(std::move(key), entry->d_name);
    }
    ::closedir(d);
  }
  const std::lock_guard lock(mutex_);
  return listings_.emplace(dir, std::move(listing)).first->second;
}

std::vector<Finding> sideload_findings(const SigReport& image,
                                       const TrustStore& store,
                                       DirectoryListings& listings) {
  std::vector<Finding> out;
  const Signature* signer = nullptr;
  for (const Signature& s : image.signatures) {
    if (s.error.empty() && signer == nullptr) signer = &s;
  }
  if (signer == nullptr || image.imports.empty()) return out;
  const size_t slash = image.path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : image.path.substr(0, slash + 1);
  const auto lower = [](std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  };
  const auto listing = listings.get(dir);
  const std::map<std::string, std::string>& present = *listing;  // lower-case -> name on disk
  std::set<std::string> seen;
  for (const std::string& import : image.imports) {
    const std::string key = lower(import);
    auto found = present.find(key);
    if (found == present.end() || !seen.insert(key).second) continue;
    const std::string dll_path = (dir == "." ? std::string() : dir) + found->second;
    if (dll_path == image.path) continue;
    auto bytes = read_small_file(dll_path, kMaxSideloadDllBytes);
    if (!bytes) continue;
    const SigReport dll =
        check_signatures(dll_path, std::as_bytes(std::span(bytes->data(), bytes->size())), store);
    const Signature* dll_signer = nullptr;
    for (const Signature& s : dll.signatures) {
      if (s.error.empty() && dll_signer == nullptr) dll_signer = &s;
    }
    std::string reason;
    if (dll_signer == nullptr) {
      reason = "unsigned";
    } else if (dll_signer->subject != signer->subject) {
      reason = "signed by another signer";
    } else {
      continue;
    }
    Finding f = make_finding("SIDELOAD_CANDIDATE", dll_path);
    f.sha256 = sha256_of(std::as_bytes(std::span(bytes->data(), bytes->size())));
    f.add_evidence("loaded_by", image.path);
    f.add_evidence("loader_signer", signer->subject);
    f.add_evidence("reason", reason);
    if (dll_signer != nullptr) f.add_evidence("dll_signer", dll_signer->subject);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace catena::trust
