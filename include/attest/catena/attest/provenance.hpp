#pragma once
/// Build provenance: an in-toto Statement v1 whose predicate is SLSA Provenance v1, in a DSSE
/// envelope; its verification against keys, artifacts and a policy.
///
///   CATENA_TRY(std::string statement, build_statement(input));
///   CATENA_TRY(std::string envelope, sign_envelope(statement, key));
///   CATENA_TRY(VerifiedEnvelope v, verify_envelope(envelope_text, keys));
///   CATENA_TRY(Provenance p, parse_provenance(v.payload));
///   std::vector<Finding> findings = check_policy(p, policy, now_ns());
///
/// What catena records beyond SLSA's required fields travels in SLSA's own places:
/// resolvedDependencies (materials, then every traced tool with annotations argv0, pid,
/// parentPid, interpreter, package, and the shared libraries), internalParameters (the
/// environment's variable names, values only for an allowlist), runDetails.byproducts (exit
/// code, trace status, last host scan).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catena/attest/artifacts.hpp"
#include "catena/attest/trace.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/trust/keys.hpp"

namespace catena::attest {

inline constexpr const char* kInTotoPayloadType = "application/vnd.in-toto+json";
inline constexpr const char* kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr const char* kSlsaProvenanceType = "https://slsa.dev/provenance/v1";
inline constexpr const char* kCatenaBuildType = "https://catena.dev/attest/build/v1";
/// catena's own predicate: a release diff (`catena release diff --sign`), docs/release.md.
inline constexpr const char* kReleaseDiffType = "https://catena.dev/release-diff/v1";

struct LastScan {
  int64_t id = 0;
  std::string digest;  // sha256 of the scan's records: "<path>\0<sha256>\n" in path order
  int64_t started_ns = 0;
};

struct AttestInput {
  std::string step;
  std::vector<std::string> command;
  std::string working_directory;
  ArtifactSet materials;
  ArtifactSet products;
  TraceResult trace;
  /// (tool path, sha256) -> the dpkg package(s) owning the path, only when the package's
  /// md5sums name the bytes that ran; otherwise the entry says why not (annotation
  /// `packageProblem`), and the tool is not package-owned.
  struct PackageAttribution {
    std::string package;
    std::string problem;
  };
  std::map<std::pair<std::string, std::string>, PackageAttribution> tool_packages;
  std::vector<std::string> environment_names;
  std::map<std::string, std::string> environment_values;  // the allowlisted ones only
  std::string builder_id;
  std::string host;
  std::string catena_version;
  std::optional<LastScan> last_scan;
};

/// The in-toto Statement (JSON text). Paths that are not UTF-8 are listed hex-encoded in the
/// byproduct "unrecorded" instead of silently dropped.
[[nodiscard]] Result<std::string> build_statement(const AttestInput& input);

/// An in-toto Statement v1 (JSON text) of any predicate: subjects (name, sha256 hex) and the
/// predicate, a JSON object given as text. Parse error when `predicate_json` is not an object.
[[nodiscard]] Result<std::string> make_statement(
    std::string_view predicate_type,
    const std::vector<std::pair<std::string, std::string>>& subjects,
    std::string_view predicate_json);

/// A Statement's type-independent part. Parse error when the text is not a Statement v1.
struct StatementHead {
  std::string predicate_type;
  std::vector<std::pair<std::string, std::string>> subjects;  // name, sha256 (lower-case hex)
};
[[nodiscard]] Result<StatementHead> parse_statement_head(std::string_view statement);

/// A DSSE envelope (JSON text) holding `payload`, signed over its PAE with `key`.
[[nodiscard]] Result<std::string> sign_envelope(const std::string& payload,
                                                const trust::SigningKey& key);

struct VerifiedEnvelope {
  std::string payload;                   // decoded
  std::vector<std::string> verified_by;  // key ids (catena's) whose signature holds
  std::vector<std::string> problems;     // signatures that did not verify, and why
};

/// Parse error for an envelope that is malformed, of another payloadType, with no signature,
/// or with two signatures by one key id. A signature that does not verify is a problem, not
/// an error: the caller decides (every given key must have signed).
[[nodiscard]] Result<VerifiedEnvelope> verify_envelope(
    std::string_view text, const std::vector<trust::VerifyingKey>& keys);

struct ProvenanceTool {
  std::string path;
  std::string sha256;
  std::string argv0;
  std::string package;
};

struct Provenance {
  std::vector<std::pair<std::string, std::string>> subjects;   // name, sha256
  std::vector<std::pair<std::string, std::string>> materials;  // name, sha256
  std::vector<ProvenanceTool> tools;
  std::vector<std::pair<std::string, std::string>> libraries;  // path, sha256
  std::string builder_id;
  std::string host;
  std::string build_type;
  std::string step;
  std::optional<int64_t> started_ns;
  std::optional<int64_t> finished_ns;
  std::optional<int64_t> exit_code;
  bool traced = false;
  std::optional<bool> complete;         // catena's: everything that ran is recorded
  std::vector<std::string> incomplete;  // why not
  std::vector<std::string> refused;     // attempts to leave the trace, refused
  size_t left_running = 0;              // processes the build left behind
};

/// Reads a Statement with an SLSA Provenance v1 predicate. Parse error when it is not one.
/// Tools and host are read from catena's annotations; other producers' provenance yields
/// subjects, materials, builder and times.
[[nodiscard]] Result<Provenance> parse_provenance(std::string_view statement);

/// A policy over provenance, from TOML (documented in docs/provenance.md).
struct Policy {
  std::vector<std::string> builder_ids;          // exact; empty: any
  std::vector<std::string> builder_hosts;        // fnmatch patterns; empty: any
  std::vector<std::string> required_materials;   // sha256 hex
  std::vector<std::string> forbidden_materials;  // sha256 hex
  std::vector<std::string> allowed_tools;        // sha256 hex; empty: any
  std::vector<std::string> forbidden_tools;      // sha256 hex
  bool tools_package_owned = false;
  bool require_trace = false;
  std::vector<std::string> allowed_libraries;    // sha256 hex; empty: any
  std::vector<std::string> forbidden_libraries;  // sha256 hex
  bool require_success = false;
  bool allow_incomplete = false;  // accept provenance that does not record all that ran
  bool no_daemons = false;        // the build may leave no process running
  std::optional<int64_t> max_age_seconds;
};

/// Parse error naming the key for an unknown key, a wrong type or a malformed digest.
[[nodiscard]] Result<Policy> parse_policy(std::string_view toml_text);

/// One PROV_POLICY_VIOLATION finding per rule broken (evidence `rule` and what broke it).
std::vector<Finding> check_policy(const Provenance& provenance,
                                  const Policy& policy,
                                  int64_t now_ns,
                                  const std::string& source);

/// What `catena provenance verify` checks, as one call: the envelope carries a valid signature
/// by every key (else PROV_SIGNATURE_INVALID); only then is the payload read as SLSA provenance
/// or as catena's release diff (else PROV_STATEMENT_MALFORMED); each artifact file's SHA-256 is
/// a subject (else PROV_SUBJECT_MISMATCH); the policy, which speaks of builds, holds
/// (PROV_POLICY_VIOLATION; a release diff cannot meet one). `source` names the envelope in
/// findings. `head` is set for an authenticated Statement of either type, `provenance` for SLSA
/// provenance; the artifacts are read only then, and one that cannot be read is an error.
struct ProvenanceCheck {
  std::vector<Finding> findings;  // most severe first
  std::optional<VerifiedEnvelope> envelope;
  std::optional<StatementHead> head;
  std::optional<Provenance> provenance;
};
[[nodiscard]] Result<ProvenanceCheck> verify_provenance(
    std::string_view envelope_text,
    const std::vector<trust::VerifyingKey>& keys,
    const std::vector<std::string>& artifacts,
    const Policy* policy,
    int64_t now_ns,
    const std::string& source);

}  // namespace catena::attest
