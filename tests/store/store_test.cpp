#include "catena/store/store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <map>

#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::store {

// The records the store keeps live with their modules.
using attest::AttestationRecord;
using scan::FileRecord;
using scan::FileType;
using scan::NewScan;
using scan::ScanStatus;
namespace {

using test::HasError;
using test::HasErrorContaining;
using test::IsOk;

FileRecord record(std::string path, std::string_view content) {
  FileRecord r;
  r.path = std::move(path);
  r.size = content.size();
  r.mode = 0100755;
  r.sha256 = sha256_of(std::as_bytes(std::span(content.data(), content.size())));
  r.format = "elf";
  r.package = "coreutils";
  r.mtime_ns = 1'700'000'000'000'000'001;
  return r;
}

NewScan new_scan(std::string host, int64_t started) {
  return NewScan{.host = std::move(host),
                 .kind = "scan",
                 .started_ns = started,
                 .catena_version = "test",
                 .arguments = {"catena", "scan", "/tmp/\xff"},
                 .roots = {"/tmp/\xff"}};
}

TEST(Store, RoundTripsScansRecordsAndFindings) {
  auto store = Store::open_memory();
  ASSERT_THAT(store, IsOk());
  EXPECT_EQ((*store)->schema_version(), kSchemaVersion);
  auto scan_id = (*store)->begin_scan(new_scan("host-a", 100));
  ASSERT_THAT(scan_id, IsOk());
  std::vector<FileRecord> files = {record("/usr/bin/\xfe\n", "one"), record("/usr/bin/b", "two")};
  FileRecord link;
  link.path = "/usr/bin/link";
  link.type = FileType::Symlink;
  link.link_target = "../\xff";
  files.push_back(link);
  std::vector<Finding> findings = {
      {.rule = "X_RULE", .severity = Severity::High, .path = "/p\xff", .message = "m"}};
  findings[0].add_evidence("key", "v\xff");
  ASSERT_THAT((*store)->add_batch(*scan_id, files, findings), IsOk());
  ASSERT_THAT(
      (*store)->finish_scan(*scan_id, {.files = 2, .bytes = 6, .errors = 0, .finished_ns = 200},
                            ScanStatus::Complete),
      IsOk());

  auto scan = (*store)->get_scan(*scan_id);
  ASSERT_THAT(scan, IsOk());
  EXPECT_EQ(scan->host, "host-a");
  EXPECT_EQ(scan->status, ScanStatus::Complete);
  EXPECT_EQ(scan->arguments.back(), "/tmp/\xff");
  EXPECT_EQ(scan->roots, std::vector<std::string>{"/tmp/\xff"});
  EXPECT_EQ(scan->finished_ns, 200);

  std::vector<FileRecord> read;
  ASSERT_THAT((*store)->for_each_file(*scan_id, [&](const FileRecord& r) { read.push_back(r); }),
              IsOk());
  ASSERT_EQ(read.size(), 3u);
  EXPECT_EQ(read[0].path, "/usr/bin/b");
  EXPECT_EQ(read[1].path, "/usr/bin/link");
  EXPECT_EQ(read[1].link_target, "../\xff");
  EXPECT_EQ(read[2].path, "/usr/bin/\xfe\n");
  EXPECT_EQ(read[2].sha256, files[0].sha256);
  EXPECT_EQ(read[2].format, "elf");
  EXPECT_EQ(read[2].mtime_ns, files[0].mtime_ns);

  auto stored_findings = scan::stored_findings(**store, *scan_id, {}).collect();
  ASSERT_THAT(stored_findings, IsOk());
  ASSERT_EQ(stored_findings->size(), 1u);
  EXPECT_EQ((*stored_findings)[0].path, "/p\xff");
  EXPECT_EQ((*stored_findings)[0].evidence[0].second, "v\xff");
}

// A scan's reference: the series' records with their contents' digests and format, whatever
// contents they share and however close their digests are.
TEST(Store, AReferenceCarriesEachRecordsContentFacts) {
  auto store = Store::open_memory();
  ASSERT_THAT(store, IsOk());
  NewScan scan = new_scan("host-a", 100);
  scan.series_key = "roots";
  auto first = (*store)->begin_scan(scan);
  ASSERT_THAT(first, IsOk());
  std::vector<FileRecord> files = {record("/a", "shared"), record("/b", "shared"),
                                   record("/c", "c"), record("/d", "d")};
  // /c and /d: digests equal in their first 8 bytes (the lookup's key), different after.
  files[2].sha256->fill(0x11);
  files[3].sha256->fill(0x11);
  (*files[3].sha256)[31] = 0x22;
  for (size_t i = 0; i < files.size(); ++i) {
    files[i].md5.emplace();
    files[i].md5->fill(static_cast<uint8_t>(i));
  }
  files[3].format = "pe";
  ASSERT_THAT((*store)->add_batch(*first, files, {}), IsOk());
  ASSERT_THAT((*store)->finish_scan(*first, {.files = 4}, ScanStatus::Complete), IsOk());
  scan.started_ns = 200;
  auto second = (*store)->begin_scan(scan);
  ASSERT_THAT(second, IsOk());

  auto reference = (*store)->reference_files(*second);
  ASSERT_THAT(reference, IsOk());
  ASSERT_EQ(reference->size(), 4u);
  std::map<std::string, scan::FileRecord> by_path;
  std::map<std::string, scan::ReferenceFile> reference_of;
  for (auto& r : *reference) {
    by_path[r.record.path] = r.record;
    reference_of[r.record.path] = r;
  }
  EXPECT_EQ(by_path["/a"].sha256, files[0].sha256);
  EXPECT_EQ(by_path["/a"].md5, by_path["/b"].md5);  // one content, stored once
  EXPECT_EQ(by_path["/b"].format, "elf");
  EXPECT_EQ(by_path["/c"].md5, files[2].md5);
  EXPECT_EQ(by_path["/c"].format, "elf");
  EXPECT_EQ(by_path["/d"].md5, files[3].md5);
  EXPECT_EQ(by_path["/d"].format, "pe");
  EXPECT_TRUE(reference_of["/d"].from_complete_scan);
  EXPECT_EQ(reference_of["/d"].recorded_ns, 100);
}

TEST(Store, FindingsComeBackMostSevereFirstAsSortFindingsOrdersThem) {
  auto store = Store::open_memory();
  ASSERT_THAT(store, IsOk());
  auto scan_id = (*store)->begin_scan(new_scan("h", 1));
  ASSERT_THAT(scan_id, IsOk());
  std::vector<Finding> findings;
  const Severity severities[] = {Severity::Low, Severity::Critical, Severity::Info, Severity::High,
                                 Severity::Medium};
  for (int i = 0; i < 200; ++i) {
    // Paths compared as bytes: "\xff" after every ASCII byte.
    findings.push_back({.rule = i % 3 == 0 ? "B_RULE" : "A_RULE",
                        .severity = severities[(i * 7) % 5],
                        .path = (i % 11 == 0 ? "/\xff" : "/p") + std::to_string((i * 37) % 101),
                        .message = "m"});
  }
  ASSERT_THAT((*store)->add_batch(*scan_id, {}, findings), IsOk());
  std::vector<Finding> read;
  ASSERT_THAT((*store)->for_each_finding(*scan_id, [&](const Finding& f) { read.push_back(f); }),
              IsOk());
  sort_findings(findings);
  ASSERT_EQ(read.size(), findings.size());
  for (size_t i = 0; i < read.size(); ++i) {
    EXPECT_EQ(read[i].severity, findings[i].severity) << i;
    EXPECT_EQ(read[i].rule, findings[i].rule) << i;
    EXPECT_EQ(read[i].path, findings[i].path) << i;
  }
}

TEST(Store, FindsAContentAcrossHostsAndScans) {
  auto store = Store::open_memory();
  ASSERT_THAT(store, IsOk());
  for (const auto& [host, started] :
       std::vector<std::pair<std::string, int64_t>>{{"a", 1}, {"b", 2}}) {
    auto id = (*store)->begin_scan(new_scan(host, started));
    ASSERT_THAT(id, IsOk());
    std::vector<FileRecord> files = {record("/opt/" + host + "/evil.dll", "payload"),
                                     record("/x", "other")};
    ASSERT_THAT((*store)->add_batch(*id, files, {}), IsOk());
  }
  const std::string_view payload = "payload";
  auto found =
      (*store)->find_by_sha256(sha256_of(std::as_bytes(std::span(payload.data(), payload.size()))));
  ASSERT_THAT(found, IsOk());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].host, "a");
  EXPECT_EQ((*found)[1].file.path, "/opt/b/evil.dll");
  EXPECT_EQ((*found)[1].scan_status, ScanStatus::Running);
  auto format = (*store)->content_format(*(*found)[0].file.sha256);
  EXPECT_THAT(format, test::IsOkAndHolds(std::optional<std::string>("elf")));
}

// The newest Release believed is kept per system: an older mark never replaces it.
TEST(Store, KeepsTheNewestArchiveReleasePerSystem) {
  auto store = Store::open_memory();
  ASSERT_THAT(store, IsOk());
  const std::vector<pkg::ReleaseMark> first = {{"host-a", "x_dists_bookworm_InRelease", 200},
                                               {"host-b", "x_dists_bookworm_InRelease", 500}};
  ASSERT_THAT((*store)->remember_releases(first), IsOk());
  const std::vector<pkg::ReleaseMark> older = {{"host-a", "x_dists_bookworm_InRelease", 100}};
  ASSERT_THAT((*store)->remember_releases(older), IsOk());
  auto a = (*store)->newest_releases("host-a");
  ASSERT_THAT(a, IsOk());
  ASSERT_EQ(a->size(), 1u);
  EXPECT_EQ(a->at("x_dists_bookworm_InRelease"), 200);
  const std::vector<pkg::ReleaseMark> newer = {{"host-a", "x_dists_bookworm_InRelease", 300}};
  ASSERT_THAT((*store)->remember_releases(newer), IsOk());
  EXPECT_EQ((*store)->newest_releases("host-a")->at("x_dists_bookworm_InRelease"), 300);
  EXPECT_EQ((*store)->newest_releases("host-b")->at("x_dists_bookworm_InRelease"), 500);
  EXPECT_TRUE((*store)->newest_releases("host-c")->empty());
}

TEST(Store, MissingScanIsNotFound) {
  auto store = Store::open_memory();
  ASSERT_THAT(store, IsOk());
  EXPECT_THAT((*store)->get_scan(42), HasError(ErrorCode::NotFound));
  EXPECT_THAT((*store)->finish_scan(42, {}, ScanStatus::Complete), HasError(ErrorCode::NotFound));
  EXPECT_THAT((*store)->latest_scan_id(), test::IsOkAndHolds(std::optional<int64_t>()));
}

TEST(Store, CreatesParentDirectoriesAndReopens) {
  test::TempDir dir;
  const std::string path = dir / "a/b/catena.db";
  {
    auto store = Store::open(path, Store::Access::ReadWrite);
    ASSERT_THAT(store, IsOk());
    ASSERT_THAT((*store)->begin_scan(new_scan("h", 1)), IsOk());
  }
  auto reopened = Store::open(path, Store::Access::ReadOnly);
  ASSERT_THAT(reopened, IsOk());
  EXPECT_THAT((*reopened)->list_scans(), IsOk());
  EXPECT_EQ((*reopened)->list_scans()->size(), 1u);
}

TEST(Store, ReadOnlyOpenOfMissingStoreIsNotFound) {
  test::TempDir dir;
  EXPECT_THAT(Store::open(dir / "none.db", Store::Access::ReadOnly), HasError(ErrorCode::NotFound));
}

TEST(Store, RefusesNewerSchema) {
  test::TempDir dir;
  const std::string path = dir / "new.db";
  ASSERT_THAT(Store::open(path, Store::Access::ReadWrite), IsOk());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(Store::open(path, Store::Access::ReadWrite),
              HasErrorContaining(ErrorCode::SchemaTooNew, "99"));
  EXPECT_THAT(Store::open(path, Store::Access::ReadOnly), HasError(ErrorCode::SchemaTooNew));
}

TEST(Store, RefusesCorruptAndForeignFiles) {
  test::TempDir dir;
  dir.write("garbage.db", std::string(8192, 'x'));
  EXPECT_THAT(Store::open(dir / "garbage.db", Store::Access::ReadWrite),
              HasErrorContaining(ErrorCode::Db, "not a catena store"));
  const std::string foreign = dir / "foreign.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(foreign.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE t(x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_THAT(Store::open(foreign, Store::Access::ReadWrite),
              HasErrorContaining(ErrorCode::Db, "another application"));
}

TEST(Store, DamagedPagesGiveAnErrorNotACrash) {
  test::TempDir dir;
  const std::string path = dir / "damaged.db";
  {
    auto store = Store::open(path, Store::Access::ReadWrite);
    ASSERT_THAT(store, IsOk());
    auto id = (*store)->begin_scan(new_scan("h", 1));
    ASSERT_THAT(id, IsOk());
    std::vector<FileRecord> files;
    for (int idx = 0; idx < 2000; ++idx)
      files.push_back(record("/f" + std::to_string(idx), std::to_string(idx)));
    ASSERT_THAT((*store)->add_batch(*id, files, {}), IsOk());
  }
  // Overwrite everything after the header and the schema page.
  std::string bytes(100000, '\xa5');
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, 8192, SEEK_SET);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  auto store = Store::open(path, Store::Access::ReadOnly);
  if (!store) {
    EXPECT_EQ(store.error().code, ErrorCode::Db);
    return;
  }
  auto visited = (*store)->for_each_file(1, [](const FileRecord&) {});
  EXPECT_THAT(visited, HasErrorContaining(ErrorCode::Db, "damaged"));
}

TEST(Store, LockedStoreFailsWithAClearError) {
  test::TempDir dir;
  const std::string path = dir / "locked.db";
  auto store = Store::open(path, Store::Access::ReadWrite);
  ASSERT_THAT(store, IsOk());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  EXPECT_THAT((*store)->begin_scan(new_scan("h", 1)), HasErrorContaining(ErrorCode::Db, "locked"));
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  EXPECT_THAT((*store)->begin_scan(new_scan("h", 1)), IsOk());
}

TEST(DefaultStorePath, PrefersCatenaDbThenXdg) {
  ::setenv("CATENA_DB", "/x/y.db", 1);
  EXPECT_EQ(default_store_path(), "/x/y.db");
  ::unsetenv("CATENA_DB");
  ::setenv("XDG_DATA_HOME", "/xdg", 1);
  EXPECT_EQ(default_store_path(), "/xdg/catena/catena.db");
  ::unsetenv("XDG_DATA_HOME");
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(default_store_path(), "/home/u/.local/share/catena/catena.db");
}

TEST(Store, AttestationsAreKeptOnceAndFoundByEveryDigestTheyName) {
  auto store = Store::open_memory();
  ASSERT_TRUE(store.has_value());
  Sha256 product{}, tool{}, envelope{};
  product.fill(1);
  tool.fill(2);
  envelope.fill(3);
  AttestationRecord record{
      .envelope_sha256 = envelope,
      .host = "build-01",
      .builder_id = "urn:catena:host:build-01",
      .step = "build",
      .started_ns = 100,
      .finished_ns = 200,
      .exit_code = 0,
      .stored_ns = 300,
      .source = "attest",
      .digests = {{product, "subject", "dist/app"}, {tool, "tool", "/usr/bin/gcc-12"}}};
  auto id = (*store)->put_attestation(record, "{}");
  ASSERT_TRUE(id.has_value()) << id.error().message;
  auto again = (*store)->put_attestation(record, "{}");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *id);
  auto by_tool = (*store)->find_attestations(tool);
  ASSERT_TRUE(by_tool.has_value());
  ASSERT_EQ(by_tool->size(), 1u);
  EXPECT_EQ((*by_tool)[0].role, "tool");
  EXPECT_EQ((*by_tool)[0].name, "/usr/bin/gcc-12");
  EXPECT_EQ((*by_tool)[0].attestation.host, "build-01");
  EXPECT_EQ((*by_tool)[0].attestation.exit_code, 0);
  Sha256 other{};
  other.fill(9);
  EXPECT_TRUE((*store)->find_attestations(other)->empty());
  EXPECT_EQ((*store)->list_attestations("build-01")->size(), 1u);
  EXPECT_TRUE((*store)->list_attestations("elsewhere")->empty());
  EXPECT_EQ((*store)->list_attestations("")->size(), 1u);
}

}  // namespace
}  // namespace catena::store

namespace catena::store {
namespace {

TEST(StoreAccess, KeyIsKeptOutsideTheDatabaseForItsOwnerAlone) {
  test::TempDir dir;
  const std::string path = dir / "s.db";
  std::string first;
  {
    auto store = Store::open(path, Store::Access::ReadWrite);
    ASSERT_TRUE(store);
    auto key = (*store)->access_key("");
    ASSERT_TRUE(key) << key.error().message;
    EXPECT_EQ(key->size(), 64u);
    first = *key;
    EXPECT_EQ(*(*store)->access_key(""), first);
  }
  struct stat st {};
  ASSERT_EQ(::stat((path + ".access-key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);  // the store too
  // The database holds no copy of the key.
  const std::string bytes = test::read_file(path) + test::read_file(path + "-wal");
  EXPECT_EQ(bytes.find(first), std::string::npos);
  auto reopened = Store::open(path, Store::Access::ReadWrite);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(*(*reopened)->access_key(""), first);
  auto other = Store::open(dir / "t.db", Store::Access::ReadWrite);
  ASSERT_TRUE(other);
  EXPECT_NE(*(*other)->access_key(""), first);  // random per store
  // Another key than the store's fingerprints were made with is refused, not mixed in.
  dir.write("wrong.key", std::string(64, 'a') + "\n", 0600);
  auto wrong = (*reopened)->access_key(dir / "wrong.key");
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("not the key"), std::string::npos);
  // A key file others can read is refused.
  ASSERT_EQ(::chmod((path + ".access-key").c_str(), 0644), 0);
  EXPECT_FALSE((*reopened)->access_key(""));
}

TEST(StoreAccess, AKeyKeptInTheDatabaseIsMovedOut) {
  test::TempDir dir;
  const std::string path = dir / "old.db";
  const std::string legacy(64, 'c');
  {
    auto store = Store::open(path, Store::Access::ReadWrite);
    ASSERT_TRUE(store);
  }
  ASSERT_EQ(test::run_command(
                {"sqlite3", path,
                 "INSERT INTO settings(name, value) VALUES('access_salt', '" + legacy + "')"})
                .exit_code,
            0);
  auto store = Store::open(path, Store::Access::ReadWrite);
  ASSERT_TRUE(store);
  auto key = (*store)->access_key("");
  ASSERT_TRUE(key) << key.error().message;
  EXPECT_EQ(*key, legacy);  // old fingerprints still match
  EXPECT_NE(test::read_file(path + ".access-key").find(legacy), std::string::npos);
  store->reset();
  EXPECT_EQ(test::read_file(path).find(legacy), std::string::npos);
  EXPECT_EQ(test::read_file(path + "-wal").find(legacy), std::string::npos);
}

TEST(StoreAccess, AStoreOthersCanReadIsReported) {
  test::TempDir dir;
  const std::string path = dir / "s.db";
  auto store = Store::open(path, Store::Access::ReadWrite);
  ASSERT_TRUE(store);
  EXPECT_FALSE((*store)->exposure_finding());
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  auto finding = (*store)->exposure_finding();
  ASSERT_TRUE(finding);
  EXPECT_EQ(finding->rule, "STORE_READABLE_BY_OTHERS");
  EXPECT_EQ((*store)->exposure(), "readable by every user");
}

TEST(StoreAccess, ReplacesAHostsRecordsAndFindsSharedCredentials) {
  auto store = Store::open_memory();
  ASSERT_TRUE(store);
  access::Discovery token{.kind = "npm-token",
                          .category = "publish",
                          .target = "registry.npmjs.org",
                          .path = std::string("/home/a/.npmrc\xff", 15),
                          .owner = "a",
                          .mode = 0600,
                          .fingerprint = "hmac-sha256:aa",
                          .protection = "none",
                          .holds_secret = true,
                          .build_critical = true};
  access::Discovery key = token;
  key.kind = "ssh-private-key";
  key.fingerprint = "SHA256:bb";
  ASSERT_TRUE((*store)->replace_access("laptop", 1, {token, key}));
  ASSERT_TRUE((*store)->replace_access("build", 2, {token}));
  auto shared = (*store)->credential_hosts("build");
  ASSERT_TRUE(shared);
  EXPECT_EQ((*shared)["hmac-sha256:aa"], std::vector<std::string>{"laptop"});
  EXPECT_TRUE((*(*store)->credential_hosts("laptop")).count("SHA256:bb") == 0);
  // A new scan of a host replaces what was recorded of it.
  ASSERT_TRUE((*store)->replace_access("laptop", 3, {key}));
  EXPECT_EQ((*(*store)->credential_hosts("build")).count("hmac-sha256:aa"), 0u);
  auto listed = (*store)->list_access("laptop");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kind, "ssh-private-key");
  EXPECT_EQ((*listed)[0].path, token.path);  // exact bytes
  EXPECT_EQ((*listed)[0].mode, 0600u);
  EXPECT_TRUE((*listed)[0].build_critical);
  EXPECT_EQ((*store)->list_access("")->size(), 2u);
}

}  // namespace
}  // namespace catena::store

namespace catena::store {
namespace {

TEST(StoreScanDigest, IsOverPathsAndDigestsInPathOrderAndKeptOnceFinished) {
  test::TempDir dir;
  auto store = Store::open(dir / "s.db", Store::Access::ReadWrite);
  ASSERT_TRUE(store);
  auto scan_id = (*store)->begin_scan(new_scan("host-a", 100));
  ASSERT_TRUE(scan_id);
  std::vector<FileRecord> files = {record("/usr/bin/z", "one"), record("/usr/bin/a", "two")};
  FileRecord link;
  link.path = "/usr/bin/m";
  link.type = FileType::Symlink;
  files.push_back(link);
  ASSERT_TRUE((*store)->add_batch(*scan_id, files, {}));
  std::string expected_text;
  for (const FileRecord* r : {&files[1], &files[2], &files[0]}) {
    expected_text += r->path + std::string(1, '\0') + (r->sha256 ? to_hex(*r->sha256) : "") + "\n";
  }
  const Sha256 expected = sha256_of(std::as_bytes(std::span(expected_text)));
  // While the scan runs its digest is computed but not kept.
  auto running = (*store)->scan_content_digest(*scan_id);
  ASSERT_TRUE(running);
  EXPECT_EQ(*running, expected);
  const auto kept = [&] {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((dir / "s.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT content_digest IS NOT NULL FROM scans", -1, &stmt, nullptr);
    sqlite3_step(stmt);
    const bool out = sqlite3_column_int(stmt, 0) != 0;
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  };
  EXPECT_FALSE(kept());
  ASSERT_TRUE(
      (*store)->finish_scan(*scan_id, {.files = 3, .finished_ns = 200}, ScanStatus::Complete));
  EXPECT_EQ(*(*store)->scan_content_digest(*scan_id), expected);
  EXPECT_TRUE(kept());
  EXPECT_EQ(*(*store)->scan_content_digest(*scan_id), expected);  // from the kept value
  EXPECT_FALSE((*store)->scan_content_digest(999));
}

}  // namespace
}  // namespace catena::store
