#pragma once
/// A blocklist of signing certificates: a stolen or abused vendor certificate, once known, is
/// hunted by its SHA-256 thumbprint or by its issuer and serial number, wherever it appears in a
/// signature — as the signer, in the chain, or among the timestamp's certificates.
///
///   CATENA_TRY(std::vector<intel::BlockedSignerRecord> list, parse_signer_list(text));
///   SignerBlocklist blocked;  CATENA_TRY_STATUS(blocked.load(store));
///   std::vector<Finding> hits = blocked.check(report.signatures, path);   // SIG_SIGNER_BLOCKED
///
/// List format, one certificate per line ('#' starts a comment):
///   <SHA-256 thumbprint, hex, colons allowed> [label]
///   serial=<hex>; issuer=<distinguished name as catena sig prints it>[; label=<text>]
///   thumbprint=<hex>[; label=<text>]
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/intel/intel_store.hpp"
#include "catena/trust/authenticode.hpp"
#include "catena/trust/sig.hpp"

namespace catena::intel {

/// Errors are Parse with "line N: ...".
[[nodiscard]] Result<std::vector<intel::BlockedSignerRecord>> parse_signer_list(
    std::string_view text);

class SignerBlocklist {
 public:
  [[nodiscard]] Status load(IntelStore& store);
  void add(intel::BlockedSignerRecord signer);
  bool empty() const { return signers_.empty(); }
  /// SHA-256 (hex) over the blocked signers in a canonical order: what a stored verdict of a
  /// signature depends on.
  std::string identity() const;
  /// SIG_SIGNER_BLOCKED for each blocked certificate among the signatures' certificates.
  std::vector<Finding> check(const std::vector<trust::Signature>& signatures,
                             const std::string& path) const;
  /// The verdict of a signature check with blocked signers applied: SIG_SIGNER_BLOCKED added to
  /// `report.findings`, and a verdict that would pass ("valid", "untrusted") made "anomalous".
  /// Returns how many findings were added.
  size_t judge(trust::SigReport& report) const;

 private:
  std::vector<intel::BlockedSignerRecord> signers_;
};

/// Lower-case hex without leading zeros (serial numbers compare as numbers).
std::string canonical_serial(std::string_view hex);

}  // namespace catena::intel
