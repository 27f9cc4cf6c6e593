// access::AccessStore: build access per host, and the key its fingerprints are made with.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "catena/access/reach.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/graph/graph.hpp"
#include "sqlite.hpp"

namespace catena::store {

namespace {

// What the settings keep to recognise the right key: a digest of it, which says nothing about
// a secret fingerprinted with it.
std::string key_check(std::string_view key) {
  const std::string text = "catena access key check\n" + std::string(key);
  return to_hex(sha256_of(std::as_bytes(std::span(text.data(), text.size()))));
}

Result<std::string> random_key() {
  std::array<uint8_t, 32> bytes{};
  if (::getrandom(bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
    return make_error(ErrorCode::Io, "cannot generate a random key");
  }
  return to_hex(std::span<const uint8_t>(bytes));
}

// Reads a key file that only its owner can read; NotFound when there is none.
Result<std::string> read_key_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(ErrorCode::NotFound, "no access key " + path);
    return make_io_error("cannot read access key " + path, errno);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_io_error("cannot read access key " + path, errno);
  if (!S_ISREG(st.st_mode)) return make_error(ErrorCode::Io, path + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::Io, "access key " + path +
                                         " is readable by other users; make it private "
                                         "(chmod 600) before catena uses it");
  }
  char buffer[128];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0) return make_io_error("cannot read access key " + path, errno);
  std::string key(trim_space(std::string_view(buffer, static_cast<size_t>(n))));
  if (key.size() < 32) return make_error(ErrorCode::Parse, "access key " + path + " is too short");
  return key;
}

// Creates the key file with `key` (0600, never over an existing file); on a race the file the
// other process wrote wins.
Result<std::string> create_key_file(const std::string& path, const std::string& key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return read_key_file(path);
    return make_io_error("cannot create access key " + path, errno);
  }
  const std::string line = key + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return make_error(ErrorCode::Io, "cannot write access key " + path);
  }
  return key;
}

}  // namespace

std::string Store::default_access_key_path(const std::string& store_path) {
  return store_path + ".access-key";
}

Result<std::string> Store::access_key(const std::string& key_path) {
  std::string path = key_path;
  if (path.empty() && path_ != ":memory:") path = default_access_key_path(path_);
  std::string old_key;
  CATENA_TRY_STATUS(first_row(db_, "cannot read settings",
                              "SELECT value FROM settings WHERE name = 'access_salt'",
                              [&](const Statement& row) { old_key = row.column_text(0); }));
  std::string key;
  if (path.empty()) {
    CATENA_TRY(key, random_key());
  } else if (auto existing = read_key_file(path)) {
    key = std::move(*existing);
  } else if (existing.error().code != ErrorCode::NotFound) {
    return tl::unexpected(existing.error());
  } else if (!old_key.empty()) {
    CATENA_TRY(key, create_key_file(path, old_key));  // moved out of the database
  } else {
    CATENA_TRY(std::string fresh, random_key());
    CATENA_TRY(key, create_key_file(path, fresh));
  }
  if (!old_key.empty()) {
    // The key leaves the database for good: its page is overwritten, the log emptied.
    CATENA_TRY_STATUS(exec(db_, "PRAGMA secure_delete=ON", "cannot configure store"));
    CATENA_TRY_STATUS(
        exec(db_, "DELETE FROM settings WHERE name = 'access_salt'", "cannot store settings"));
    CATENA_TRY_STATUS(exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", "cannot checkpoint store"));
  }
  const std::string check = key_check(key);
  CATENA_TRY_STATUS(run(db_, "cannot store settings",
                        "INSERT OR IGNORE INTO settings(name, value) VALUES('access_key_check', ?)",
                        check));
  std::string stored;
  CATENA_TRY(const bool found,
             first_row(db_, "cannot read settings",
                       "SELECT value FROM settings WHERE name = 'access_key_check'",
                       [&](const Statement& row) { stored = row.column_text(0); }));
  if (!found) return make_error(ErrorCode::Db, "cannot read settings of " + path_);
  if (stored != check) {
    return make_error(ErrorCode::Usage,
                      "the access key " + (path.empty() ? std::string("(new)") : path) +
                          " is not the key the credential fingerprints in " + path_ +
                          " were made with; give the right one with --access-key");
  }
  return key;
}

std::optional<Finding> Store::exposure_finding() const {
  const std::string how = exposure();
  if (how.empty()) return std::nullopt;
  Finding f{.rule = "STORE_READABLE_BY_OTHERS", .severity = Severity::Medium, .path = path_};
  f.message =
      "The catena store is " + how + ": it lists every host's credentials and where they are.";
  f.add_evidence("readable", how);
  return f;
}

std::string Store::exposure() const {
  struct stat st {};
  if (path_ == ":memory:" || ::stat(path_.c_str(), &st) != 0) return {};
  if ((st.st_mode & 0004) != 0) return "readable by every user";
  if ((st.st_mode & 0040) != 0) return "readable by its group";
  return {};
}

namespace {
constexpr std::string_view kAccessColumns =
    "kind, category, target, account, path, owner, mode, fingerprint, protection, holds_secret, "
    "signing, build_critical, detail";
}  // namespace

Status Store::replace_access(const std::string& host,
                             int64_t discovered_ns,
                             const std::vector<access::Discovery>& records) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  constexpr std::string_view kWhat = "cannot store build access";
  CATENA_TRY_STATUS(run(db_, kWhat, "DELETE FROM access_discoveries WHERE host = ?", host));
  Statement insert(db_, "INSERT INTO access_discoveries(host, discovered_ns, " +
                            std::string(kAccessColumns) +
                            ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return db_error(db_, kWhat);
  for (const access::Discovery& r : records) {
    CATENA_TRY_STATUS(run_again(db_, insert, kWhat, host, discovered_ns, r.kind, r.category,
                                r.target, r.account, Blob{r.path}, r.owner, r.mode, r.fingerprint,
                                r.protection, r.holds_secret, r.signing, r.build_critical,
                                r.detail));
  }
  // What the credentials reach, as windows: a reach seen again stays open; a new one opens
  // now; an open one not seen now closes now.
  std::set<int64_t> still;
  for (const access::Reach& r : access::reach_of(records)) {
    std::optional<int64_t> open;
    CATENA_TRY_STATUS(first_row(
        db_, kWhat,
        "SELECT id FROM access_reach WHERE host = ? AND account = ? AND credential = ? AND "
        "target = ? AND kind = ? AND path = ? AND until_ns IS NULL",
        [&](const Statement& row) { open = row.column_int(0); }, host, r.account, r.credential,
        r.target, r.kind, Blob{r.path}));
    if (open) {
      still.insert(*open);
      continue;
    }
    CATENA_TRY_STATUS(run(db_, kWhat,
                          "INSERT INTO access_reach(host, account, credential, target, kind, "
                          "path, first_ns, target_host) VALUES(?, ?, ?, ?, ?, ?, ?, ?)",
                          host, r.account, r.credential, r.target, r.kind, Blob{r.path},
                          discovered_ns, graph::target_host(r.target)));
    still.insert(sqlite3_last_insert_rowid(db_));
  }
  std::vector<int64_t> ended;
  CATENA_TRY_STATUS(for_each_row(
      db_, kWhat, "SELECT id FROM access_reach WHERE host = ? AND until_ns IS NULL",
      [&](const Statement& row) {
        if (!still.contains(row.column_int(0))) ended.push_back(row.column_int(0));
      },
      host));
  for (int64_t id : ended) {
    CATENA_TRY_STATUS(
        run(db_, kWhat, "UPDATE access_reach SET until_ns = ? WHERE id = ?", discovered_ns, id));
  }
  return txn.commit();
}

Result<std::vector<access::Discovery>> Store::list_access(const std::string& host) {
  std::vector<access::Discovery> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read build access",
      "SELECT " + std::string(kAccessColumns) +
          " FROM access_discoveries WHERE ?1 = '' OR host = ?1 ORDER BY host, path, kind, target, "
          "id",
      [&](const Statement& stmt) {
        access::Discovery r;
        r.kind = stmt.column_text(0);
        r.category = stmt.column_text(1);
        r.target = stmt.column_text(2);
        r.account = stmt.column_text(3);
        r.path = stmt.column_text(4);
        r.owner = stmt.column_text(5);
        r.mode = static_cast<uint32_t>(stmt.column_int(6));
        r.fingerprint = stmt.column_text(7);
        r.protection = stmt.column_text(8);
        r.holds_secret = stmt.column_int(9) != 0;
        r.signing = stmt.column_int(10) != 0;
        r.build_critical = stmt.column_int(11) != 0;
        r.detail = stmt.column_text(12);
        out.push_back(std::move(r));
      },
      host));
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> Store::credential_hosts(
    const std::string& host) {
  std::map<std::string, std::vector<std::string>> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read build access",
      "SELECT DISTINCT fingerprint, host FROM access_discoveries WHERE holds_secret = 1 "
      "AND fingerprint <> '' AND host <> ? ORDER BY fingerprint, host",
      [&](const Statement& row) { out[row.column_text(0)].push_back(row.column_text(1)); }, host));
  return out;
}

}  // namespace catena::store
