// Every earlier schema, populated as the catena of its time wrote it, opens with the current
// code and keeps every record: the fixtures are the schema's own migrations up to each version.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>

#include "../../src/store/schema.hpp"
#include "catena/store/store.hpp"
#include "support/matchers.hpp"
#include "support/tree.hpp"

namespace catena::store {

// The records the store keeps live with their modules.
using scan::FileRecord;
using scan::NewScan;
namespace {

using test::IsOk;

void exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error ? error : "") << "\n"
      << sql;
  sqlite3_free(error);
}

// A store at `version` holding two scans of one host: a file both saw, one only the first saw,
// a symlink, and a finding. Only columns version 1 had are written: later ones have defaults.
void make_old_store(const std::string& path, size_t version) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  for (size_t step = 0; step < version; ++step) exec(db, std::string(migrations()[step]));
  exec(db, "PRAGMA user_version=" + std::to_string(version));
  exec(db, "PRAGMA application_id=" + std::to_string(kApplicationId));
  exec(db, R"sql(
    INSERT INTO hosts(id, name) VALUES(1, 'old-host');
    INSERT INTO scans(id, host_id, kind, started_ns, finished_ns, catena_version, arguments,
                      roots, status, files, bytes, errors)
      VALUES(1, 1, 'scan', 100, 200, '0.0', '["catena","scan","/x"]', '["/x"]', 'complete', 2, 6, 0),
            (2, 1, 'audit', 300, 400, '0.0', '["catena","audit"]', '["/x"]', 'complete', 1, 3, 0);
    INSERT INTO contents(sha256, size, format, first_seen_ns)
      VALUES(zeroblob(32), 3, 'elf', 100), (randomblob(32), 3, 'script', 100);
    INSERT INTO files(scan_id, path, type, size, mode, uid, gid, mtime_ns, ctime_ns, inode,
                      device, sha256, package)
      VALUES(1, '/x/tool', 'file', 3, 33261, 0, 0, 10, 10, 7, 1, zeroblob(32), 'coreutils'),
            (1, '/x/old', 'file', 3, 33188, 0, 0, 10, 10, 8, 1,
             (SELECT sha256 FROM contents WHERE format = 'script'), ''),
            (2, '/x/tool', 'file', 3, 33261, 0, 0, 10, 10, 7, 1, zeroblob(32), 'coreutils');
    INSERT INTO files(scan_id, path, type, size, mode, uid, gid, mtime_ns, ctime_ns, inode,
                      device, link_target)
      VALUES(2, '/x/link', 'symlink', 4, 41471, 0, 0, 10, 10, 9, 1, 'tool');
    INSERT INTO findings(scan_id, rule, severity, path, message, evidence)
      VALUES(2, 'WORLD_WRITABLE_EXECUTABLE', 'high', '/x/tool', 'm', '[["mode","0777"]]');
  )sql");
  // From version 9 on, a store keeps every scan in a series, as version 9's own migration puts
  // the scans it finds: a store written by that version has them.
  if (version >= 9) {
    exec(db, R"sql(
      INSERT INTO scan_series(id, host_id, key) SELECT id, host_id, 'scan:' || id FROM scans;
      UPDATE scans SET series_id = id, files_read = files;
      UPDATE files SET series_id = scan_id;
    )sql");
  }
  sqlite3_close(db);
}

std::set<std::string> paths_of(Store& store, int64_t scan) {
  std::set<std::string> out;
  EXPECT_THAT(store.for_each_file(scan, [&](const FileRecord& r) { out.insert(r.path); }), IsOk());
  return out;
}

TEST(Migration, EveryEarlierSchemaKeepsEveryRecord) {
  ASSERT_EQ(migrations().size(), static_cast<size_t>(kSchemaVersion));
  for (size_t version = 1; version < migrations().size(); ++version) {
    SCOPED_TRACE("schema version " + std::to_string(version));
    test::TempDir dir;
    const std::string path = dir / "old.db";
    make_old_store(path, version);
    auto opened = Store::open(path, Store::Access::ReadWrite);
    ASSERT_THAT(opened, IsOk());
    Store& store = **opened;
    EXPECT_EQ(store.schema_version(), kSchemaVersion);
    auto scans = store.list_scans();
    ASSERT_THAT(scans, IsOk());
    ASSERT_EQ(scans->size(), 2u);
    EXPECT_EQ((*scans)[0].host, "old-host");
    EXPECT_EQ((*scans)[1].kind, "audit");
    EXPECT_EQ(paths_of(store, 1), (std::set<std::string>{"/x/old", "/x/tool"}));
    EXPECT_EQ(paths_of(store, 2), (std::set<std::string>{"/x/link", "/x/tool"}));
    std::string target;
    ASSERT_THAT(store.for_each_file(2,
                                    [&](const FileRecord& r) {
                                      if (r.path == "/x/link") target = r.link_target;
                                    }),
                IsOk());
    EXPECT_EQ(target, "tool");
    auto findings = scan::stored_findings(store, 2, {}).collect();
    ASSERT_THAT(findings, IsOk());
    ASSERT_EQ(findings->size(), 1u);
    EXPECT_EQ(findings->front().evidence.front().second, "0777");
    auto occurrences = store.find_by_sha256(Sha256{});
    ASSERT_THAT(occurrences, IsOk());
    EXPECT_EQ(occurrences->size(), 2u);
    // A new scan of the migrated store starts a series of its own and leaves the old ones be.
    const int64_t id = *store.begin_scan(NewScan{.host = "old-host",
                                                 .kind = "scan",
                                                 .started_ns = 500,
                                                 .catena_version = "new",
                                                 .roots = {"/x"},
                                                 .series_key = "files:new"});
    FileRecord fresh;
    fresh.path = "/x/new";
    ASSERT_THAT(store.add_batch(id, std::span(&fresh, 1), {}), IsOk());
    EXPECT_EQ(paths_of(store, id), std::set<std::string>{"/x/new"});
    EXPECT_EQ(paths_of(store, 1), (std::set<std::string>{"/x/old", "/x/tool"}));
  }
}

}  // namespace
}  // namespace catena::store
