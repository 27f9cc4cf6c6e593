#pragma once
/// in-toto layouts and links in the reference format (in-toto 1.0 as the Debian in-toto 1.3.1
/// package implements it): verification of a supply chain, and writing signed links.
///
///   IntotoVerifyOptions options{.layout_path = "root.layout", .layout_keys = {key}};
///   CATENA_TRY(IntotoVerdict verdict, verify_intoto(options));
///   if (!verdict.passed) puts(verdict.reason.c_str());  // names the step and rule
///
/// Read as the reference reads them: sublayouts (a step whose link file holds a layout,
/// signed by the step's functionary and verified recursively with that functionary's key
/// against the links in "<step>.<keyid8>/"), GPG keys (securesystemslib's description of an
/// OpenPGP key in the layout, signatures made by gpg; trust/openpgp.hpp), and links and layouts
/// in DSSE envelopes (payloadType application/vnd.in-toto+json, as in-toto 2 writes them).
///
/// Where catena is stricter than the reference (and so may fail where it passes): a key
/// object whose keyid is not the one its content gives (for a GPG key: its fingerprint), a
/// metablock with two signatures by one key, a link whose name is not its step's, duplicate
/// JSON keys, floats in signed metadata, GPG signatures that are not v4 binary-document
/// signatures. docs/provenance.md lists each difference and why.
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "catena/attest/artifacts.hpp"
#include "catena/attest/trace.hpp"
#include "catena/core/result.hpp"
#include "catena/trust/keys.hpp"
#include "catena/trust/openpgp.hpp"

namespace catena::attest {

/// A key in-toto verifies with: a securesystemslib key (Ed25519, ECDSA, RSA) or a GPG key.
class IntotoKey {
 public:
  IntotoKey(trust::VerifyingKey key) : key_(std::move(key)) {}  // NOLINT: implicit on purpose
  IntotoKey(trust::GpgKey key) : key_(std::move(key)) {}        // NOLINT
  /// A PEM public key, a securesystemslib JSON key file, or a securesystemslib GPG public key
  /// (JSON, as securesystemslib.gpg.functions.export_pubkey returns it). Parse error otherwise.
  [[nodiscard]] static Result<IntotoKey> load(const std::string& path);
  const std::string& keyid() const;
  const trust::VerifyingKey* sslib() const { return std::get_if<trust::VerifyingKey>(&key_); }
  const trust::GpgKey* gpg() const { return std::get_if<trust::GpgKey>(&key_); }

 private:
  std::variant<trust::VerifyingKey, trust::GpgKey> key_;
};

struct IntotoVerifyOptions {
  std::string layout_path;
  std::vector<IntotoKey> layout_keys;  // each must have signed the layout
  std::string link_dir = ".";
  bool run_inspections = false;  // otherwise a layout with inspections fails, listing them
  int64_t now = 0;               // Unix seconds for the expiry check; 0: the clock
};

struct IntotoInspection {
  std::string name;
  std::vector<std::string> run;
};

struct IntotoVerdict {
  bool passed = false;
  std::string check;  // what failed: signature, expiry, format, links, threshold, rules, inspection
  std::string item;   // the step or inspection concerned, if any
  std::string rule;   // the artifact rule that failed, e.g. "DISALLOW *"
  std::string reason;
  std::vector<IntotoInspection> inspections;
  std::vector<std::string> warnings;
};

/// Io error when the layout cannot be read; every other problem is a failed verdict.
[[nodiscard]] Result<IntotoVerdict> verify_intoto(const IntotoVerifyOptions& options);

struct IntotoLink {
  std::string name;
  std::vector<std::string> command;
  Artifacts materials;
  Artifacts products;
  int return_value = 0;
  std::vector<std::string> unrecorded;  // kept in byproducts, so nothing is lost
  /// The programs the step ran, as traced: byproducts "catena-tools" (path, sha256, argv0,
  /// pid, parent, script), which in-toto carries without interpreting.
  std::vector<TracedExec> tools;
  bool traced = false;
};

/// The link's JSON text, signed over its canonical form with `key` (securesystemslib keyid).
[[nodiscard]] Result<std::string> write_intoto_link(const IntotoLink& link,
                                                    const trust::SigningKey& key);

/// "<step>.<first 8 hex digits of the keyid>.link", as in-toto names link files.
std::string intoto_link_filename(const std::string& step, const std::string& keyid);

}  // namespace catena::attest
