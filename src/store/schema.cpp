#include "schema.hpp"

#include <array>

namespace catena::store {
namespace {

constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE hosts (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE scans (
  id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  kind TEXT NOT NULL,
  started_ns INTEGER NOT NULL,
  finished_ns INTEGER,
  catena_version TEXT NOT NULL,
  arguments TEXT NOT NULL,
  roots TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted', 'failed')),
  files INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  errors INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE contents (
  sha256 BLOB PRIMARY KEY CHECK (length(sha256) = 32),
  size INTEGER NOT NULL,
  format TEXT NOT NULL,
  md5 BLOB,
  sha1 BLOB,
  first_seen_ns INTEGER NOT NULL
);
CREATE TABLE files (
  id INTEGER PRIMARY KEY,
  scan_id INTEGER NOT NULL REFERENCES scans(id),
  path BLOB NOT NULL,
  type TEXT NOT NULL,
  size INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  uid INTEGER NOT NULL,
  gid INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  device INTEGER NOT NULL,
  sha256 BLOB REFERENCES contents(sha256),
  package TEXT NOT NULL DEFAULT '',
  link_target BLOB,
  changed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX files_by_scan ON files(scan_id);
CREATE INDEX files_by_sha256 ON files(sha256);
CREATE TABLE findings (
  id INTEGER PRIMARY KEY,
  scan_id INTEGER NOT NULL REFERENCES scans(id),
  rule TEXT NOT NULL,
  severity TEXT NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
  path BLOB NOT NULL,
  sha256 BLOB,
  message TEXT NOT NULL,
  evidence TEXT NOT NULL
);
CREATE INDEX findings_by_scan ON findings(scan_id);
)sql";

// Version 2: extended attributes of each file (baselines watch them) and named baselines.
constexpr std::string_view kVersion2 = R"sql(
ALTER TABLE files ADD COLUMN xattrs BLOB;
CREATE TABLE baselines (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  scan_id INTEGER NOT NULL REFERENCES scans(id),
  created_ns INTEGER NOT NULL,
  updated_ns INTEGER NOT NULL,
  config TEXT NOT NULL,
  packages TEXT NOT NULL,
  UNIQUE (host_id, name)
);
)sql";

// Version 3: the code-signature verdict of each content (catena sig's, for PE files).
constexpr std::string_view kVersion3 = R"sql(
ALTER TABLE contents ADD COLUMN signature TEXT;
)sql";

// Version 4: the structure of each content's format (ELF, PE) as JSON.
constexpr std::string_view kVersion4 = R"sql(
ALTER TABLE contents ADD COLUMN details TEXT;
)sql";

// Version 5: indicator feeds (file hashes) for matching scans, now and retroactively; which
// digests each scan computed, and lookups of contents by MD5 and SHA-1.
constexpr std::string_view kVersion5 = R"sql(
ALTER TABLE scans ADD COLUMN digests TEXT;
CREATE INDEX contents_by_md5 ON contents(md5) WHERE md5 IS NOT NULL;
CREATE INDEX contents_by_sha1 ON contents(sha1) WHERE sha1 IS NOT NULL;
CREATE TABLE feeds (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  format TEXT NOT NULL,
  imported_ns INTEGER NOT NULL,
  indicators INTEGER NOT NULL
);
CREATE TABLE indicators (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('md5', 'sha1', 'sha256')),
  digest BLOB NOT NULL,
  label TEXT NOT NULL,
  reference TEXT NOT NULL
);
CREATE INDEX indicators_by_feed ON indicators(feed_id);
CREATE INDEX indicators_by_digest ON indicators(digest);
CREATE TABLE blocked_signers (
  id INTEGER PRIMARY KEY,
  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
  thumbprint TEXT NOT NULL,
  issuer TEXT NOT NULL,
  serial TEXT NOT NULL,
  label TEXT NOT NULL
);
CREATE INDEX blocked_signers_by_feed ON blocked_signers(feed_id);
)sql";

// Version 6: an indicator is unique within its feed, so that an import detects a duplicate by
// the insert itself; the unique index leads with the digest and serves lookups by digest too.
constexpr std::string_view kVersion6 = R"sql(
DELETE FROM indicators WHERE id NOT IN
  (SELECT min(id) FROM indicators GROUP BY digest, algorithm, feed_id);
DROP INDEX indicators_by_digest;
CREATE UNIQUE INDEX indicators_unique ON indicators(digest, algorithm, feed_id);
)sql";

// Version 7: build attestations (DSSE envelopes kept whole) and the digests they name as
// subjects, materials, tools and libraries, for "which builds produced or ran this file".
constexpr std::string_view kVersion7 = R"sql(
CREATE TABLE attestations (
  id INTEGER PRIMARY KEY,
  envelope_sha256 BLOB NOT NULL UNIQUE CHECK (length(envelope_sha256) = 32),
  host TEXT NOT NULL,
  builder_id TEXT NOT NULL,
  step TEXT NOT NULL,
  started_ns INTEGER,
  finished_ns INTEGER,
  exit_code INTEGER,
  stored_ns INTEGER NOT NULL,
  source TEXT NOT NULL,
  envelope TEXT NOT NULL
);
CREATE INDEX attestations_by_host ON attestations(host);
CREATE TABLE attestation_digests (
  attestation_id INTEGER NOT NULL REFERENCES attestations(id) ON DELETE CASCADE,
  sha256 BLOB NOT NULL CHECK (length(sha256) = 32),
  role TEXT NOT NULL CHECK (role IN ('subject', 'material', 'tool', 'library')),
  name TEXT NOT NULL
);
CREATE INDEX attestation_digests_by_sha256 ON attestation_digests(sha256);
CREATE INDEX attestation_digests_by_attestation ON attestation_digests(attestation_id);
)sql";

// Version 8: build access found on each host (never a secret: key fingerprints and salted
// token hashes only), store-wide settings such as the salt of those hashes, and each finished
// scan's content digest, computed once when first asked for.
constexpr std::string_view kVersion8 = R"sql(
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE access_discoveries (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL,
  discovered_ns INTEGER NOT NULL,
  kind TEXT NOT NULL,
  category TEXT NOT NULL,
  target TEXT NOT NULL,
  account TEXT NOT NULL,
  path BLOB NOT NULL,
  owner TEXT NOT NULL,
  mode INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  protection TEXT NOT NULL,
  holds_secret INTEGER NOT NULL,
  signing INTEGER NOT NULL,
  build_critical INTEGER NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX access_by_host ON access_discoveries(host);
ALTER TABLE scans ADD COLUMN content_digest BLOB;
CREATE INDEX access_by_fingerprint ON access_discoveries(fingerprint);
)sql";

// Version 9: incremental scans. A file row is valid from the scan that wrote it (scan_id) until
// the scan of the same series that saw it change or vanish (until_scan_id), so an unchanged file
// costs no write. A series is a host's scans of the same roots with the same content options;
// each earlier scan becomes a series of its own. Contents remember which analysers (name,
// version, inputs) produced their facts and the findings those analysers raised. Package
// verification remembers the MD5 of each file it read with the file's stat anchors.
constexpr std::string_view kVersion9 = R"sql(
CREATE TABLE scan_series (
  id INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  key TEXT NOT NULL,
  UNIQUE (host_id, key)
);
INSERT INTO scan_series(id, host_id, key) SELECT id, host_id, 'scan:' || id FROM scans;
ALTER TABLE scans ADD COLUMN series_id INTEGER REFERENCES scan_series(id);
ALTER TABLE scans ADD COLUMN full_pass INTEGER NOT NULL DEFAULT 1;
ALTER TABLE scans ADD COLUMN files_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN files_reused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scans ADD COLUMN incomplete INTEGER NOT NULL DEFAULT 0;
UPDATE scans SET series_id = id, files_read = files;
ALTER TABLE files ADD COLUMN series_id INTEGER;
ALTER TABLE files ADD COLUMN until_scan_id INTEGER;
UPDATE files SET series_id = scan_id;
CREATE INDEX files_by_series ON files(series_id, until_scan_id);
ALTER TABLE contents ADD COLUMN analysis TEXT;
ALTER TABLE contents ADD COLUMN findings TEXT;
CREATE TABLE stat_digests (
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  path BLOB NOT NULL,
  device INTEGER NOT NULL,
  inode INTEGER NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  ctime_ns INTEGER NOT NULL,
  md5 BLOB NOT NULL CHECK (length(md5) = 16),
  recorded_ns INTEGER NOT NULL,
  PRIMARY KEY (host_id, path)
) WITHOUT ROWID;
)sql";

// The newest export of each baseline by each signer a store has seen: an older one signed by
// the same key is a rollback.
constexpr std::string_view kVersion10 = R"sql(
CREATE TABLE baseline_exports (
  host TEXT NOT NULL,
  name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  exported_ns INTEGER NOT NULL,
  PRIMARY KEY (host, name, key_id)
) WITHOUT ROWID;
)sql";

// The newest signed archive Release believed for each inspected system: an older one shown
// later is a replayed archive state.
constexpr std::string_view kVersion11 = R"sql(
CREATE TABLE archive_releases (
  system TEXT NOT NULL,
  release TEXT NOT NULL,
  date_ns INTEGER NOT NULL,
  PRIMARY KEY (system, release)
) WITHOUT ROWID;
)sql";

// What an audit's report says beyond its findings (build access, the standard's verdict), so
// that `catena report` shows it again.
constexpr std::string_view kVersion12 = R"sql(
CREATE TABLE scan_reports (
  scan_id INTEGER PRIMARY KEY REFERENCES scans(id) ON DELETE CASCADE,
  context TEXT NOT NULL
);
)sql";

// SBOMs imported as claims: what a vendor said its release holds, each component with its
// hash, so that a content found anywhere can be matched with what was declared for it.
constexpr std::string_view kVersion13 = R"sql(
CREATE TABLE sboms (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  format TEXT NOT NULL,
  source TEXT NOT NULL,
  created_ns INTEGER NOT NULL,
  imported_ns INTEGER NOT NULL
);
CREATE TABLE sbom_components (
  sbom_id INTEGER NOT NULL REFERENCES sboms(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  ref TEXT NOT NULL,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  supplier TEXT NOT NULL,
  purl TEXT NOT NULL,
  path TEXT NOT NULL,
  sha256 BLOB,
  sha1 BLOB,
  parent TEXT NOT NULL,
  PRIMARY KEY (sbom_id, position)
) WITHOUT ROWID;
CREATE INDEX sbom_components_by_sha256 ON sbom_components(sha256);
)sql";

// What release inspection found inside a release file, by the file's SHA-256 and the key of
// everything else the result depends on (release/cache.hpp): a release inspected again, or
// compared with a newer one, is not decompressed again.
constexpr std::string_view kVersion14 = R"sql(
CREATE TABLE release_parts (
  id INTEGER PRIMARY KEY,
  sha256 BLOB NOT NULL,
  key TEXT NOT NULL,
  value BLOB NOT NULL,
  stored_ns INTEGER NOT NULL
);
CREATE UNIQUE INDEX release_parts_by_content ON release_parts(sha256, key);
)sql";

// The graph's own sources: what each credential reached and while (access_reach, kept up to
// date by each access scan: a reach seen again stays open, one no longer seen is closed at
// that scan), release manifests and deployments.
constexpr std::string_view kVersion15 = R"sql(
CREATE TABLE access_reach (
  id INTEGER PRIMARY KEY,
  host TEXT NOT NULL,
  account TEXT NOT NULL,
  credential TEXT NOT NULL,
  target TEXT NOT NULL,
  kind TEXT NOT NULL,
  path BLOB NOT NULL,
  first_ns INTEGER NOT NULL,
  until_ns INTEGER,
  target_host TEXT NOT NULL
);
CREATE INDEX access_reach_by_host ON access_reach(host, account);
CREATE INDEX access_reach_by_target_host ON access_reach(target_host);
CREATE INDEX access_reach_by_credential ON access_reach(credential);
CREATE INDEX access_reach_by_target ON access_reach(target);
CREATE TABLE releases (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  released_ns INTEGER NOT NULL,
  source TEXT NOT NULL,
  UNIQUE (name, version)
);
CREATE TABLE release_files (
  release_id INTEGER NOT NULL REFERENCES releases(id) ON DELETE CASCADE,
  path TEXT NOT NULL,
  sha256 BLOB NOT NULL CHECK (length(sha256) = 32)
);
CREATE INDEX release_files_by_sha256 ON release_files(sha256);
CREATE INDEX release_files_by_release ON release_files(release_id);
CREATE TABLE deployments (
  id INTEGER PRIMARY KEY,
  site TEXT NOT NULL,
  release_name TEXT NOT NULL,
  release_version TEXT NOT NULL,
  installed_ns INTEGER NOT NULL,
  removed_ns INTEGER,
  source TEXT NOT NULL
);
CREATE INDEX deployments_by_release ON deployments(release_name, release_version);
CREATE INDEX deployments_by_site ON deployments(site);
)sql";

// Packages as graph nodes: the files a package owns, found through its name (alone, or among
// several owners joined by ", ").
constexpr std::string_view kVersion16 = R"sql(
CREATE INDEX files_by_package ON files(package) WHERE package <> '';
CREATE INDEX files_by_owners ON files(package) WHERE package LIKE '%, %';
)sql";

constexpr std::array<std::string_view, 16> kMigrations = {
    kVersion1, kVersion2,  kVersion3,  kVersion4,  kVersion5,  kVersion6,  kVersion7,  kVersion8,
    kVersion9, kVersion10, kVersion11, kVersion12, kVersion13, kVersion14, kVersion15, kVersion16};

}  // namespace

std::span<const std::string_view> migrations() { return kMigrations; }

}  // namespace catena::store
