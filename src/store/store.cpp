// Opening, migrating, locking and checking the store; the concerns' parts are in their own files.
#include "catena/store/store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "catena/core/time.hpp"
#include "schema.hpp"
#include "sqlite.hpp"

namespace catena::store {

namespace {

constexpr int kBusyTimeoutMs = 5000;

Status make_parent_dirs(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return make_io_error("cannot create store directory " + dir, errno);
    }
  }
  return {};
}

}  // namespace

std::string default_store_path() {
  if (const char* env = std::getenv("CATENA_DB"); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/catena/catena.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/root") +
         "/.local/share/catena/catena.db";
}

// Open-file-description locks: they belong to the open file, not the process, so two stores
// opened in one process see each other, and closing another descriptor of the file does not
// drop them.
bool ofd_lock(int fd, short type, off_t byte, bool wait) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = byte;
  lock.l_len = 1;
  while (::fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &lock) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

int open_lock_file(const std::string& store_path) {
  if (store_path == ":memory:") return -1;
  return ::open((store_path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, Access access) {
  if (path.empty()) return make_error(ErrorCode::Usage, "empty store path");
  int flags = SQLITE_OPEN_NOMUTEX;
  if (access == Access::ReadWrite) {
    if (path != ":memory:" && path.find('/') != std::string::npos) {
      CATENA_TRY_STATUS(make_parent_dirs(path));
    }
    if (path != ":memory:") {
      // Created for its owner alone; SQLite gives the -wal and -shm files the same mode.
      const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) ::close(fd);
    }
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return make_error(ErrorCode::NotFound,
                        "no store at " + path + " (run `catena scan` or `catena audit` first)");
    }
    flags |= SQLITE_OPEN_READONLY;
  }
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  std::unique_ptr<Store> store(new Store(db, path));
  if (rc != SQLITE_OK) return db_error(db, "cannot open store " + path);
  if (access == Access::ReadWrite && sqlite3_db_readonly(db, "main") == 1) {
    return make_error(ErrorCode::Db, "cannot open store " + path + " for writing (read-only)");
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // Two processes creating or migrating one store at once would both try to create its tables.
  const int init_fd = access == Access::ReadWrite ? open_lock_file(path) : -1;
  if (init_fd >= 0) ofd_lock(init_fd, F_WRLCK, kInitByte, true);
  const Status prepared = store->prepare_schema(access);
  Status recovered = prepared ? store->recover_interrupted_scans(access) : Status{};
  if (init_fd >= 0) ::close(init_fd);
  CATENA_TRY_STATUS(prepared);
  CATENA_TRY_STATUS(recovered);
  return store;
}

Status Store::recover_interrupted_scans(Access access) {
  const std::string damaged = "store " + path_ +
                              " is damaged; see `catena store check`, and keep a copy before "
                              "repairing";
  auto running = query_int(db_, "SELECT count(*) FROM scans WHERE status = 'running'", "");
  if (!running) {
    const int code = sqlite3_errcode(db_);
    const bool broken = code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
    if (broken && access == Access::ReadWrite) return make_error(ErrorCode::Db, damaged);
    return {};
  }
  if (*running == 0) return {};
  const int fd = open_lock_file(path_);
  if (fd < 0) return {};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // Someone holds the scan byte: a scan of this store is alive.
  if (!ofd_lock(fd, F_WRLCK, kScanByte, false)) return {};
  // The process that wrote last was killed: look at what it left before anything writes.
  // A reader may look (`catena store check` must); nothing writes into a damaged store.
  Statement quick(db_, "PRAGMA quick_check(1)");
  if (!quick.ok() || sqlite3_step(quick.get()) != SQLITE_ROW || quick.column_text(0) != "ok") {
    if (access == Access::ReadOnly) return {};
    return make_error(ErrorCode::Db, damaged + " (a scan writing it was killed)");
  }
  constexpr const char* kMark =
      "UPDATE scans SET status = 'interrupted', "
      "files = (SELECT count(*) FROM files WHERE files.scan_id = scans.id) "
      "WHERE status = 'running'";
  if (access == Access::ReadWrite) {
    (void)exec(db_, kMark, "cannot mark interrupted scans");
  } else {
    // A reader fixes the record too when it may write the store; if not, it stays running.
    sqlite3* writer = nullptr;
    if (sqlite3_open_v2(path_.c_str(), &writer, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(writer, kBusyTimeoutMs);
      (void)exec(writer, kMark, "cannot mark interrupted scans");
    }
    sqlite3_close_v2(writer);
  }
  return {};
}

Result<std::vector<std::string>> Store::check() {
  Statement stmt(db_, "PRAGMA integrity_check(100)");
  if (!stmt.ok()) return db_error(db_, "cannot check store " + path_);
  std::vector<std::string> problems;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::string line = stmt.column_text(0);
    if (line != "ok") problems.push_back(std::move(line));
  }
  if (rc != SQLITE_DONE) {
    // A page so damaged that the check itself fails is a problem to report, not an error.
    problems.push_back(sqlite3_errmsg(db_));
  }
  return problems;
}

Result<std::unique_ptr<Store>> Store::open_memory() { return open(":memory:", Access::ReadWrite); }

Store::~Store() {
  graph_statements_.clear();  // finalized before the connection closes
  sqlite3_close_v2(db_);
  if (scan_lock_fd_ >= 0) ::close(scan_lock_fd_);
}

Status Store::prepare_schema(Access access) {
  const std::string where = "store " + path_;
  CATENA_TRY(int64_t application_id,
             query_int(db_, "PRAGMA application_id", "cannot read " + where));
  CATENA_TRY(int64_t version, query_int(db_, "PRAGMA user_version", "cannot read " + where));
  if (application_id != 0 && application_id != kApplicationId) {
    return make_error(ErrorCode::Db, path_ +
                                         " is a SQLite database of another application, "
                                         "not a catena store");
  }
  const auto latest = static_cast<int64_t>(migrations().size());
  if (version > latest) {
    return make_error(ErrorCode::SchemaTooNew,
                      where + " has schema version " + std::to_string(version) +
                          ", newer than this catena understands (" + std::to_string(latest) +
                          "); upgrade catena to use it");
  }
  if (access == Access::ReadWrite) {
    // WAL lets readers run beside the one writer; NORMAL sync keeps it consistent on a crash.
    CATENA_TRY_STATUS(exec(db_, "PRAGMA journal_mode=WAL", "cannot enable WAL on " + where));
    CATENA_TRY_STATUS(exec(db_, "PRAGMA synchronous=NORMAL", "cannot configure " + where));
  }
  CATENA_TRY_STATUS(exec(db_, "PRAGMA foreign_keys=ON", "cannot configure " + where));
  if (version < latest) {
    if (access == Access::ReadOnly) {
      if (version == 0) return make_error(ErrorCode::NotFound, where + " is empty");
      return make_error(ErrorCode::Db, where + " has an older schema; run a scan to upgrade it");
    }
    if (version == 0 && application_id == 0) {
      CATENA_TRY(int64_t tables,
                 query_int(db_, "SELECT count(*) FROM sqlite_master", "cannot read " + where));
      if (tables != 0) {
        return make_error(
            ErrorCode::Db,
            path_ + " is a SQLite database of another application, not a catena store");
      }
    }
    Transaction txn(db_);
    CATENA_TRY_STATUS(txn.begin());
    for (auto step = version; step < latest; ++step) {
      CATENA_TRY_STATUS(
          exec(db_, migrations()[static_cast<size_t>(step)],
               "cannot migrate " + where + " to version " + std::to_string(step + 1)));
    }
    CATENA_TRY_STATUS(
        exec(db_, "PRAGMA user_version=" + std::to_string(latest), "cannot migrate " + where));
    CATENA_TRY_STATUS(exec(db_, "PRAGMA application_id=" + std::to_string(kApplicationId),
                           "cannot migrate " + where));
    CATENA_TRY_STATUS(txn.commit());
    version = latest;
  }
  schema_version_ = static_cast<int>(version);
  return {};
}

Result<int64_t> Store::host_id(const std::string& name) {
  CATENA_TRY_STATUS(run(db_, "cannot record host",
                        "INSERT INTO hosts(name) VALUES(?) ON CONFLICT(name) DO NOTHING", name));
  int64_t id = 0;
  CATENA_TRY(const bool found, first_row(
                                   db_, "cannot read host", "SELECT id FROM hosts WHERE name = ?",
                                   [&](const Statement& row) { id = row.column_int(0); }, name));
  if (!found) return make_error(ErrorCode::Db, "cannot read host " + name);
  return id;
}

}  // namespace catena::store
