#include "catena/core/rules.hpp"

#include <array>

namespace catena {
namespace {

constexpr std::array<RuleInfo, 81> kRules = {{
    {"FILE_CHANGED_DURING_SCAN", Severity::Medium,
     "A file's content kept changing while it was read twice."},
    {"FILE_UNREADABLE", Severity::Low, "A file could not be read, so its content was not checked."},
    {"FILE_VANISHED", Severity::Info, "A file disappeared between listing and reading."},
    {"DIR_UNREADABLE", Severity::Low,
     "A directory could not be read, so nothing beneath it was checked."},
    {"DIR_LOOP", Severity::Info,
     "A directory is its own ancestor (bind-mount loop) and was walked once."},
    {"SCAN_DEPTH_LIMIT", Severity::High,
     "A directory lies deeper than the scan's depth limit; nothing beneath it was examined."},
    {"SCAN_RESOURCE_LIMIT", Severity::High,
     "The scan ran out of file descriptors or memory; what it could not open was not examined."},
    {"WORLD_WRITABLE_EXECUTABLE", Severity::High, "An executable file is writable by every user."},
    {"WORLD_WRITABLE_DIR", Severity::High,
     "A directory of tools is writable by every user and lacks the sticky bit."},
    {"PKG_FILE_MODIFIED", Severity::High,
     "A packaged file's content differs from what its package installed."},
    {"PKG_FILE_MISSING", Severity::Medium, "A file its package installed is missing."},
    {"PKG_CONFFILE_MODIFIED", Severity::Info,
     "A configuration file differs from the version its package installed."},
    {"PKG_CONFFILE_MISSING", Severity::Low,
     "A configuration file its package installed is missing."},
    {"PKG_FILE_UNVERIFIABLE", Severity::Low,
     "A packaged file could not be read, so its content was not checked."},
    {"PKG_DATABASE_DAMAGED", Severity::Medium,
     "Part of the dpkg database is missing or malformed, so some files cannot be checked."},
    {"PKG_NO_MD5SUMS", Severity::Low,
     "An installed package has no md5sums file, so its files cannot be checked locally."},
    {"UNOWNED_EXECUTABLE", Severity::Medium,
     "An executable in a system directory belongs to no installed package."},
    {"PKG_NOT_FROM_REPOSITORY", Severity::Medium,
     "An installed package version is offered by no configured apt repository."},
    {"PKG_DATABASE_TAMPERED", Severity::High,
     "A file its package's .deb installs is on disk but missing from the package's file list."},
    {"BASELINE_ROLLBACK", Severity::High,
     "An exported baseline is older than one already seen signed by the same key."},
    {"ARCHIVE_RELEASE_EXPIRED", Severity::High,
     "A signed Release is past its Valid-Until: a replayed archive state, not believed."},
    {"ARCHIVE_RELEASE_REPLAYED", Severity::High,
     "A signed Release is older than one already believed for this system: a replayed "
     "archive state, not believed."},
    {"ARCHIVE_SIGNER_NOT_ALLOWED", Severity::High,
     "A Release is signed by a trusted key that its repository's Signed-By does not name."},
    {"ARCHIVE_RELEASE_STALE", Severity::Medium,
     "A signed Release is older than the maximum age asked for."},
    {"PKG_APT_FOREIGN_KEY", Severity::Medium,
     "The inspected system's apt trusts a key that is not among the archive trust roots."},
    {"RELEASE_ARCHIVE_LIMIT", Severity::Medium,
     "An archive in a release hit a limit (members, expanded bytes, expansion ratio or nesting "
     "depth); what lies beyond it was not examined."},
    {"RELEASE_ARCHIVE_DAMAGED", Severity::Medium,
     "An archive in a release is truncated or corrupt; what could not be read was not examined."},
    {"RELEASE_UNSAFE_MEMBER_NAME", Severity::High,
     "An archive member's name would escape the directory it is extracted into (absolute, or "
     "with a .. component)."},
    {"RELEASE_SAME_VERSION_DIFFERENT_BYTES", Severity::High,
     "A file of a release has the same version fields as in the previous release but other "
     "bytes: rebuilt or modified without a new version, as 3CX's trojanized ffmpeg.dll was."},
    {"RELEASE_SIGNED_DIGEST_UNCHANGED", Severity::Critical,
     "A PE file's Authenticode digest is unchanged but its bytes are not: something was added "
     "where the signature does not look (its certificate table, or after it)."},
    {"RELEASE_SIGNER_CHANGED", Severity::High,
     "A file of a release is signed by another signer than in the previous release."},
    {"RELEASE_SIGNATURE_REMOVED", Severity::High,
     "A file that was signed in the previous release is unsigned in this one."},
    {"RELEASE_UNSIGNED_EXECUTABLE_ADDED", Severity::High,
     "A release gained an unsigned Windows or macOS executable."},
    {"RELEASE_NEW_EXECUTABLE", Severity::Medium,
     "A release gained an executable (signed, or of a platform without signatures)."},
    {"RELEASE_NEW_IMPORTS", Severity::Medium,
     "An executable imports libraries or functions it did not import in the previous release "
     "(high when they include process-injection functions)."},
    {"RELEASE_NEW_NETWORK_STRINGS", Severity::Medium,
     "An executable names URLs, hosts or addresses it did not name in the previous release."},
    {"RELEASE_ENTROPY_RISE", Severity::Medium,
     "A section's entropy rose to that of compressed or encrypted data (high for a code "
     "section): a packed or encrypted payload."},
    {"RELEASE_REBUILD_DIFFERS", Severity::High,
     "An independent rebuild of the same source differs from the release beyond a rebuild's "
     "known noise."},
    {"PKG_NOT_ANCHORED", Severity::Medium,
     "A package could not be checked against the signed archive."},
    {"ARCHIVE_SIGNATURE_INVALID", Severity::High,
     "An apt InRelease file does not carry a valid signature from a trusted archive key."},
    {"ARCHIVE_INDEX_MISMATCH", Severity::High,
     "A local apt package index differs from what its signed InRelease file lists."},
    {"DEB_HASH_MISMATCH", Severity::High,
     "A cached .deb differs from the hash its signed package index lists."},
    {"FILE_ADDED", Severity::High, "A file appeared that the baseline does not have."},
    {"FILE_REMOVED", Severity::Medium, "A file of the baseline is gone."},
    {"FILE_CHANGED", Severity::High,
     "A file differs from the baseline in a watched attribute, and no package upgrade explains "
     "it."},
    {"FILE_CHANGED_BY_PACKAGE", Severity::Info,
     "A file changed because a package was installed, upgraded or removed since the baseline."},
    {"PE_CERT_PADDING", Severity::High,
     "Data is hidden after the signature inside a PE file's certificate table."},
    {"PE_DIGEST_MISMATCH", Severity::Critical,
     "A PE file's Authenticode signature does not match its content."},
    {"PE_CERT_TABLE_MALFORMED", Severity::Medium,
     "A PE file's certificate table or signature is malformed."},
    {"PE_OVERLAY_AFTER_SIGNATURE", Severity::Medium,
     "A signed PE file has data after its certificate table, outside the signature."},
    {"PE_CHECKSUM_MISMATCH", Severity::Low, "A PE file's header checksum does not match it."},
    {"SIG_UNTRUSTED", Severity::Medium, "A signature does not chain to a trusted root."},
    {"SIG_SIGNER_EXPIRED_NO_TIMESTAMP", Severity::Medium,
     "A signer certificate has expired and the signature carries no timestamp."},
    {"MACHO_CODE_HASH_MISMATCH", Severity::Critical,
     "A Mach-O code page or signed blob does not match the hash its code signature records."},
    {"MACHO_UNCOVERED_DATA", Severity::High,
     "A signed Mach-O holds non-zero bytes its code signature does not cover."},
    {"MACHO_SIGNATURE_MALFORMED", Severity::Medium,
     "A Mach-O's load commands or code signature cannot be read as the format requires."},
    {"MSI_DIGEST_MISMATCH", Severity::Critical,
     "An MSI signature's digest does not match the installer's streams."},
    {"MSI_STRUCTURE_MALFORMED", Severity::Medium,
     "An MSI's compound-file structure or signature stream cannot be read as the format requires."},
    {"SIG_SIGNATURE_INVALID", Severity::Critical,
     "A signature does not verify over what it signs: the signed data or the signature was "
     "changed."},
    {"MODULE_SIGNATURE_MALFORMED", Severity::Medium,
     "A kernel module's appended signature cannot be read as the format requires."},
    {"IOC_MATCH", Severity::Critical,
     "A file's hash is an indicator of compromise from an imported feed."},
    {"YARA_MATCH", Severity::High, "A YARA rule matched the file."},
    {"FILE_NOT_HASHED", Severity::Medium,
     "A sparse file's holes exceed what the scan may hash: recorded without a digest."},
    {"YARA_SKIPPED", Severity::Low,
     "YARA rules were not applied to a file (too large, timed out, or not held in memory)."},
    {"SIG_SIGNER_BLOCKED", Severity::Critical,
     "A signature of the file involves a blocked certificate (signer, chain or timestamp)."},
    {"SIDELOAD_CANDIDATE", Severity::Medium,
     "A signed program's folder holds a DLL it imports that is unsigned or signed by another."},
    {"PROV_SIGNATURE_INVALID", Severity::Critical,
     "A provenance envelope is malformed or lacks a valid signature by a required key."},
    {"PROV_SUBJECT_MISMATCH", Severity::Critical,
     "An artifact's digest is not among the subjects of the provenance said to describe it."},
    {"PROV_STATEMENT_MALFORMED", Severity::High,
     "A signed provenance payload is not an in-toto Statement with SLSA Provenance v1."},
    {"PROV_POLICY_VIOLATION", Severity::High,
     "Verified provenance breaks a rule of the provenance policy."},
    {"PROV_INCOMPLETE", Severity::High,
     "Verified provenance does not record everything the build ran."},
    {"ACCESS_SIGNING_KEY_UNPROTECTED", Severity::Critical,
     "Code-signing material is stored without a passphrase."},
    {"ACCESS_SSH_KEY_UNPROTECTED", Severity::Medium,
     "An SSH private key is stored without a passphrase."},
    {"ACCESS_CREDENTIAL_WORLD_READABLE", Severity::High,
     "A file holding a credential is readable by other users (group or world)."},
    {"ACCESS_SHARED_CREDENTIAL", Severity::Medium,
     "The same credential is recorded on several hosts."},
    {"ACCESS_SIGNING_PASSWORD_IN_SCRIPT", Severity::High,
     "A script passes a literal password to a code-signing tool."},
    {"ACCESS_FILE_UNPARSED", Severity::Info,
     "A file that may hold build access could not be read or parsed."},
    {"ACCESS_LIMIT_REACHED", Severity::Medium,
     "A credential file or home holds more entries than catena records."},
    {"STORE_READABLE_BY_OTHERS", Severity::Medium, "The catena store can be read by other users."},
    {"AUDIT_PLACE_NOT_FOLLOWED", Severity::Medium,
     "A user's tool directory leads out of the home or to another user's directory; not scanned."},
    {"PKG_REPOSITORY_UNKNOWN", Severity::Info,
     "The apt package lists could not be read, so package origins were not checked."},
}};

}  // namespace

std::span<const RuleInfo> rule_catalogue() { return kRules; }

Finding make_finding(std::string_view id, std::string path) {
  const std::optional<RuleInfo> rule = find_rule(id);
  CATENA_ASSERT(rule.has_value());
  return Finding{.rule = std::string(id),
                 .severity = rule->severity,
                 .path = std::move(path),
                 .message = std::string(rule->summary)};
}

std::optional<RuleInfo> find_rule(std::string_view id) {
  for (const RuleInfo& rule : kRules) {
    if (rule.id == id) return rule;
  }
  return std::nullopt;
}

}  // namespace catena
