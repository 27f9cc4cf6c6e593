#include "catena/intel/signers.hpp"

#include <algorithm>
#include <cctype>

#include "catena/core/digest.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"

namespace catena::intel {
namespace {

bool is_hex(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A thumbprint as tools print it: hex, perhaps in colon-separated pairs.
std::string thumbprint_of(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ':') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

Error line_error(size_t line, const std::string& message) {
  return Error{ErrorCode::Parse, "line " + std::to_string(line) + ": " + message, {}};
}

}  // namespace

size_t SignerBlocklist::judge(trust::SigReport& report) const {
  std::vector<Finding> blocked = check(report.signatures, report.path);
  // A blocked certificate is a critical anomaly of signatures that may well verify.
  if (!blocked.empty() && (report.verdict == "valid" || report.verdict == "untrusted")) {
    report.verdict = "anomalous";
  }
  for (Finding& f : blocked) report.findings.push_back(std::move(f));
  return blocked.size();
}

std::string canonical_serial(std::string_view hex) {
  std::string out = ascii_lower(hex);
  const size_t first = out.find_first_not_of('0');
  return first == std::string::npos ? std::string("0") : out.substr(first);
}

Result<std::vector<intel::BlockedSignerRecord>> parse_signer_list(std::string_view text) {
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  std::vector<intel::BlockedSignerRecord> out;
  size_t number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    line = trim_space(line);
    if (line.empty()) continue;
    intel::BlockedSignerRecord signer;
    if (line.find('=') == std::string_view::npos) {
      const size_t space = line.find_first_of(" \t");
      signer.thumbprint = thumbprint_of(line.substr(0, space));
      if (space != std::string_view::npos)
        signer.label = std::string(trim_space(line.substr(space)));
    } else {
      for (size_t at = 0; at <= line.size();) {
        size_t semi = line.find(';', at);
        if (semi == std::string_view::npos) semi = line.size();
        const std::string_view pair = trim_space(line.substr(at, semi - at));
        at = semi + 1;
        if (pair.empty()) continue;
        const size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
          return tl::unexpected(
              line_error(number, "expected key=value, got '" + std::string(pair) + "'"));
        }
        const std::string key = ascii_lower(trim_space(pair.substr(0, eq)));
        const std::string_view value = trim_space(pair.substr(eq + 1));
        if (key == "thumbprint" || key == "sha256") {
          signer.thumbprint = thumbprint_of(value);
        } else if (key == "serial") {
          signer.serial = thumbprint_of(value);
        } else if (key == "issuer") {
          signer.issuer = std::string(value);
        } else if (key == "label") {
          signer.label = std::string(value);
        } else {
          return tl::unexpected(line_error(number, "unknown key '" + key + "'"));
        }
      }
    }
    if (!signer.thumbprint.empty()) {
      if (signer.thumbprint.size() != 64 || !is_hex(signer.thumbprint)) {
        return tl::unexpected(line_error(number, "a thumbprint must be 64 hex digits (SHA-256)"));
      }
    } else {
      if (signer.serial.empty() || signer.issuer.empty()) {
        return tl::unexpected(line_error(number, "give a thumbprint, or both serial and issuer"));
      }
      if (!is_hex(signer.serial))
        return tl::unexpected(line_error(number, "the serial must be hex"));
      signer.serial = canonical_serial(signer.serial);
    }
    out.push_back(std::move(signer));
  }
  return out;
}

Status SignerBlocklist::load(IntelStore& store) {
  return store.for_each_blocked_signer(
      [this](intel::BlockedSignerRecord&& signer) { add(std::move(signer)); });
}

void SignerBlocklist::add(intel::BlockedSignerRecord signer) {
  signer.thumbprint = ascii_lower(signer.thumbprint);
  if (!signer.serial.empty()) signer.serial = canonical_serial(signer.serial);
  signers_.push_back(std::move(signer));
}

std::string SignerBlocklist::identity() const {
  std::vector<std::string> lines;
  for (const intel::BlockedSignerRecord& s : signers_) {
    lines.push_back(s.thumbprint + '\0' + s.issuer + '\0' + s.serial + '\0' + s.label);
  }
  std::sort(lines.begin(), lines.end());
  DigestSet digest(DigestSet::kSha256);
  for (const std::string& line : lines) {
    digest.update(std::as_bytes(std::span(line)));
    digest.update(std::as_bytes(std::span("\n", 1)));
  }
  return to_hex(*digest.finish().sha256);
}

std::vector<Finding> SignerBlocklist::check(const std::vector<trust::Signature>& signatures,
                                            const std::string& path) const {
  std::vector<Finding> out;
  if (signers_.empty()) return out;
  for (const trust::Signature& sig : signatures) {
    for (const trust::CertificateId& cert : sig.certificates) {
      const std::string serial = canonical_serial(cert.serial);
      for (const intel::BlockedSignerRecord& blocked : signers_) {
        const bool hit = !blocked.thumbprint.empty()
                             ? blocked.thumbprint == cert.thumbprint_sha256
                             : blocked.serial == serial &&
                                   ascii_lower(blocked.issuer) == ascii_lower(cert.issuer);
        if (!hit) continue;
        Finding f = make_finding("SIG_SIGNER_BLOCKED", path);
        f.add_evidence("feed", blocked.feed);
        f.add_evidence("role", cert.role);
        f.add_evidence("certificate", cert.subject);
        f.add_evidence("issuer", cert.issuer);
        f.add_evidence("serial", cert.serial);
        f.add_evidence("thumbprint_sha256", cert.thumbprint_sha256);
        if (!blocked.label.empty()) f.add_evidence("label", blocked.label);
        if (!sig.subject.empty() && cert.role != "signer") f.add_evidence("signer", sig.subject);
        out.push_back(std::move(f));
      }
    }
  }
  return out;
}

}  // namespace catena::intel
