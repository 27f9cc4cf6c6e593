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
#include <nlohmann/json.hpp>
#include <tuple>

#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "schema.hpp"

namespace catena::store {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// One prepared statement; finalised once.
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql) {
    rc_ = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }
  void reset() { sqlite3_reset(stmt_); }

  void bind_int(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }
  void bind_text(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  void bind_blob(int index, std::string_view value) {
    // A zero-length blob must stay a blob, not NULL: bind a non-null pointer.
    static const char kEmpty = 0;
    sqlite3_bind_blob(stmt_, index, value.empty() ? &kEmpty : value.data(),
                      static_cast<int>(value.size()), SQLITE_TRANSIENT);
  }
  template <size_t N>
  void bind_digest(int index, const std::optional<std::array<uint8_t, N>>& digest) {
    if (digest) {
      sqlite3_bind_blob(stmt_, index, digest->data(), static_cast<int>(N), SQLITE_TRANSIENT);
    } else {
      sqlite3_bind_null(stmt_, index);
    }
  }
  void bind_null(int index) { sqlite3_bind_null(stmt_, index); }

  int64_t column_int(int index) const { return sqlite3_column_int64(stmt_, index); }
  bool column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }
  std::string column_text(int index) const {
    const auto* text = sqlite3_column_blob(stmt_, index);
    const int size = sqlite3_column_bytes(stmt_, index);
    return text ? std::string(static_cast<const char*>(text), static_cast<size_t>(size))
                : std::string();
  }
  template <size_t N>
  std::optional<std::array<uint8_t, N>> column_digest(int index) const {
    if (column_is_null(index) || sqlite3_column_bytes(stmt_, index) != static_cast<int>(N)) {
      return std::nullopt;
    }
    std::array<uint8_t, N> out{};
    std::memcpy(out.data(), sqlite3_column_blob(stmt_, index), N);
    return out;
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

tl::unexpected<Error> db_error(sqlite3* db, std::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  std::string message(what);
  message += ": ";
  message += sqlite3_errmsg(db);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    message += " (the store is locked by another process)";
  } else if ((code & 0xff) == SQLITE_READONLY) {
    message += " (the store is read-only)";
  } else if ((code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT) {
    message += " (the store file is damaged or is not a catena store)";
  }
  return make_error(ErrorCode::Db, std::move(message));
}

Status exec(sqlite3* db, std::string_view sql, std::string_view what) {
  const std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error(db, what);
  }
  return {};
}

Result<int64_t> query_int(sqlite3* db, std::string_view sql, std::string_view what) {
  Statement stmt(db, sql);
  if (!stmt.ok()) return db_error(db, what);
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return db_error(db, what);
  return stmt.column_int(0);
}

// Scoped transaction: rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  [[nodiscard]] Status begin() {
    CATENA_TRY_STATUS(exec(db_, "BEGIN IMMEDIATE", "cannot start a write transaction"));
    open_ = true;
    return {};
  }
  [[nodiscard]] Status commit() {
    CATENA_TRY_STATUS(exec(db_, "COMMIT", "cannot commit"));
    open_ = false;
    return {};
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

// Evidence is stored as a JSON array of [key, value]; a value that is not UTF-8 is {"b64": ...}.
nlohmann::json encode_evidence(const Finding& f) {
  nlohmann::json evidence = nlohmann::json::array();
  for (const auto& [key, value] : f.evidence) {
    evidence.push_back({key, is_valid_utf8(value)
                                 ? nlohmann::json(value)
                                 : nlohmann::json({{"b64", base64_encode(value)}})});
  }
  return evidence;
}

void decode_evidence(const nlohmann::json& evidence, Finding& f) {
  if (!evidence.is_array()) return;
  for (const auto& pair : evidence) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string()) continue;
    std::string value;
    if (pair[1].is_string()) {
      value = pair[1].get<std::string>();
    } else if (pair[1].is_object() && pair[1].contains("b64") && pair[1]["b64"].is_string()) {
      value = base64_decode(pair[1]["b64"].get<std::string>()).value_or(std::string());
    }
    f.add_evidence(pair[0].get<std::string>(), std::move(value));
  }
}

// A content's finding, kept with its facts: no path (a content has many), tagged by analyser.
nlohmann::json encode_finding(const std::string& analyser, const Finding& f) {
  return {{"analyser", analyser},
          {"rule", f.rule},
          {"severity", severity_name(f.severity)},
          {"message", f.message},
          {"evidence", encode_evidence(f)}};
}

std::optional<Finding> decode_finding(const nlohmann::json& item) {
  if (!item.contains("rule") || !item["rule"].is_string() || !item.contains("severity") ||
      !item["severity"].is_string() || !item.contains("message") || !item["message"].is_string()) {
    return std::nullopt;
  }
  Finding f;
  f.rule = item["rule"].get<std::string>();
  auto severity = parse_severity(item["severity"].get<std::string>());
  if (!severity) return std::nullopt;
  f.severity = *severity;
  f.message = item["message"].get<std::string>();
  if (item.contains("evidence")) decode_evidence(item["evidence"], f);
  return f;
}

// Argument lists are stored as JSON arrays; an element that is not UTF-8 is {"b64": ...}.
std::string encode_string_list(const std::vector<std::string>& items) {
  nlohmann::json array = nlohmann::json::array();
  for (const std::string& item : items) {
    if (is_valid_utf8(item)) {
      array.push_back(item);
    } else {
      array.push_back({{"b64", base64_encode(item)}});
    }
  }
  return array.dump();
}

std::vector<std::string> decode_string_list(const std::string& text) {
  std::vector<std::string> out;
  const nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) return out;
  for (const auto& item : array) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (item.is_object() && item.contains("b64") && item["b64"].is_string()) {
      auto decoded = base64_decode(item["b64"].get<std::string>());
      out.push_back(decoded ? *decoded : std::string());
    }
  }
  return out;
}

Result<ScanStatus> parse_status(const std::string& text) {
  for (ScanStatus s :
       {ScanStatus::Running, ScanStatus::Complete, ScanStatus::Interrupted, ScanStatus::Failed}) {
    if (text == scan_status_name(s)) return s;
  }
  return make_error(ErrorCode::Db, "unknown scan status in store: " + text);
}

FileType parse_file_type(const std::string& text) {
  for (FileType t : {FileType::Regular, FileType::Symlink, FileType::Fifo, FileType::Socket,
                     FileType::CharDevice, FileType::BlockDevice}) {
    if (text == file_type_name(t)) return t;
  }
  return FileType::Other;
}

struct DigestHash {
  size_t operator()(const Sha256& digest) const {
    size_t out = 0;
    std::memcpy(&out, digest.data(), sizeof out);
    return out;
  }
};

// The records of scan `s`: those of its series written by it or before it and not closed by then.
constexpr std::string_view kFilesOfScan =
    "f.series_id = s.series_id AND f.scan_id <= s.id AND "
    "(f.until_scan_id IS NULL OR f.until_scan_id > s.id)";

constexpr std::string_view kFileColumns =
    "f.path, f.type, f.size, f.mode, f.uid, f.gid, f.mtime_ns, f.ctime_ns, f.inode, f.device, "
    "f.sha256, c.format, f.package, f.link_target, f.changed, c.md5, c.sha1, f.xattrs, "
    "c.signature, c.details";

FileRecord read_file_columns(const Statement& stmt, int first) {
  FileRecord r;
  r.path = stmt.column_text(first + 0);
  r.type = parse_file_type(stmt.column_text(first + 1));
  r.size = static_cast<uint64_t>(stmt.column_int(first + 2));
  r.mode = static_cast<uint32_t>(stmt.column_int(first + 3));
  r.uid = static_cast<uint32_t>(stmt.column_int(first + 4));
  r.gid = static_cast<uint32_t>(stmt.column_int(first + 5));
  r.mtime_ns = stmt.column_int(first + 6);
  r.ctime_ns = stmt.column_int(first + 7);
  r.inode = static_cast<uint64_t>(stmt.column_int(first + 8));
  r.device = static_cast<uint64_t>(stmt.column_int(first + 9));
  r.sha256 = stmt.column_digest<32>(first + 10);
  r.format = stmt.column_text(first + 11);
  r.package = stmt.column_text(first + 12);
  r.link_target = stmt.column_text(first + 13);
  r.changed = stmt.column_int(first + 14) != 0;
  r.md5 = stmt.column_digest<16>(first + 15);
  r.sha1 = stmt.column_digest<20>(first + 16);
  r.xattrs = stmt.column_text(first + 17);
  r.signature = stmt.column_text(first + 18);
  r.details = stmt.column_text(first + 19);
  return r;
}

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

std::string_view scan_status_name(ScanStatus status) {
  switch (status) {
    case ScanStatus::Running:
      return "running";
    case ScanStatus::Complete:
      return "complete";
    case ScanStatus::Interrupted:
      return "interrupted";
    case ScanStatus::Failed:
      return "failed";
  }
  return "running";
}

std::string_view file_type_name(FileType type) {
  switch (type) {
    case FileType::Regular:
      return "file";
    case FileType::Symlink:
      return "symlink";
    case FileType::Fifo:
      return "fifo";
    case FileType::Socket:
      return "socket";
    case FileType::CharDevice:
      return "char_device";
    case FileType::BlockDevice:
      return "block_device";
    case FileType::Other:
      return "other";
  }
  return "other";
}

std::string default_store_path() {
  if (const char* env = std::getenv("CATENA_DB"); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/catena/catena.db";
  }
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : "/root") +
         "/.local/share/catena/catena.db";
}

namespace {

// Open-file-description locks on the lock file beside a store: byte 0 is held exclusively while
// a process creates or migrates the store, byte 1 shared by every process with a scan running.
// OFD locks belong to the open file, not the process, so two stores opened in one process see
// each other, and closing another descriptor of the file does not drop them.
constexpr off_t kInitByte = 0;
constexpr off_t kScanByte = 1;

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

}  // namespace

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
  Statement insert(db_, "INSERT INTO hosts(name) VALUES(?) ON CONFLICT(name) DO NOTHING");
  if (!insert.ok()) return db_error(db_, "cannot record host");
  insert.bind_text(1, name);
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return db_error(db_, "cannot record host");
  Statement select(db_, "SELECT id FROM hosts WHERE name = ?");
  if (!select.ok()) return db_error(db_, "cannot read host");
  select.bind_text(1, name);
  if (sqlite3_step(select.get()) != SQLITE_ROW) return db_error(db_, "cannot read host");
  return select.column_int(0);
}

Result<int64_t> Store::begin_scan(const NewScan& scan) {
  if (scan_lock_fd_ < 0) {
    scan_lock_fd_ = open_lock_file(path_);
    if (scan_lock_fd_ >= 0) ofd_lock(scan_lock_fd_, F_RDLCK, kScanByte, true);
  }
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(int64_t host, host_id(scan.host));
  Statement insert(db_,
                   "INSERT INTO scans(host_id, kind, started_ns, catena_version, arguments, roots, "
                   "status, digests, full_pass) VALUES(?, ?, ?, ?, ?, ?, 'running', ?, ?)");
  if (!insert.ok()) return db_error(db_, "cannot record scan");
  insert.bind_int(1, host);
  insert.bind_text(2, scan.kind);
  insert.bind_int(3, scan.started_ns);
  insert.bind_text(4, scan.catena_version);
  insert.bind_text(5, encode_string_list(scan.arguments));
  insert.bind_text(6, encode_string_list(scan.roots));
  insert.bind_text(7, scan.digests);
  insert.bind_int(8, scan.full_pass ? 1 : 0);
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return db_error(db_, "cannot record scan");
  const int64_t id = sqlite3_last_insert_rowid(db_);
  // Two live scans of one series would both replace the same records: the second (and a scan
  // without a key) gets a series of its own. Scans of dead processes were marked interrupted
  // when the store was opened, so a running one here is alive.
  std::string key = scan.series_key.empty() ? "scan:" + std::to_string(id) : scan.series_key;
  if (!scan.series_key.empty()) {
    Statement busy(db_,
                   "SELECT count(*) FROM scans s JOIN scan_series r ON r.id = s.series_id "
                   "WHERE r.host_id = ? AND r.key = ? AND s.status = 'running'");
    if (!busy.ok()) return db_error(db_, "cannot record scan");
    busy.bind_int(1, host);
    busy.bind_text(2, key);
    if (sqlite3_step(busy.get()) != SQLITE_ROW) return db_error(db_, "cannot record scan");
    if (busy.column_int(0) > 0) key = "scan:" + std::to_string(id);
  }
  Statement series(db_,
                   "INSERT INTO scan_series(host_id, key) VALUES(?, ?) "
                   "ON CONFLICT(host_id, key) DO UPDATE SET key = excluded.key RETURNING id");
  if (!series.ok()) return db_error(db_, "cannot record scan series");
  series.bind_int(1, host);
  series.bind_text(2, key);
  if (sqlite3_step(series.get()) != SQLITE_ROW) return db_error(db_, "cannot record scan series");
  const int64_t series_id = series.column_int(0);
  series.reset();  // a RETURNING statement left mid-step would keep the commit from finishing
  Statement link(db_, "UPDATE scans SET series_id = ? WHERE id = ?");
  if (!link.ok()) return db_error(db_, "cannot record scan");
  link.bind_int(1, series_id);
  link.bind_int(2, id);
  if (sqlite3_step(link.get()) != SQLITE_DONE) return db_error(db_, "cannot record scan");
  CATENA_TRY_STATUS(txn.commit());
  return id;
}

Status Store::put_stat_digests(const std::string& host, std::span<const StatDigest> digests) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(const int64_t host_key, host_id(host));
  Statement put(db_,
                "INSERT OR REPLACE INTO stat_digests(host_id, path, device, inode, size, "
                "mtime_ns, ctime_ns, md5, recorded_ns) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!put.ok()) return db_error(db_, "cannot record digests");
  for (const StatDigest& d : digests) {
    put.reset();
    put.bind_int(1, host_key);
    put.bind_blob(2, d.path);
    put.bind_int(3, static_cast<int64_t>(d.device));
    put.bind_int(4, static_cast<int64_t>(d.inode));
    put.bind_int(5, static_cast<int64_t>(d.size));
    put.bind_int(6, d.mtime_ns);
    put.bind_int(7, d.ctime_ns);
    put.bind_digest(8, std::optional<Md5>(d.md5));
    put.bind_int(9, d.recorded_ns);
    if (sqlite3_step(put.get()) != SQLITE_DONE) return db_error(db_, "cannot record digests");
  }
  return txn.commit();
}

Status Store::for_each_stat_digest(const std::string& host,
                                   int64_t scan_id,
                                   const std::function<void(StatDigest&&)>& visit) {
  const auto read_rows = [&](Statement& stmt) -> Status {
    int rc = 0;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      const auto md5 = stmt.column_digest<16>(6);
      if (!md5) continue;
      visit(StatDigest{.path = stmt.column_text(0),
                       .device = static_cast<uint64_t>(stmt.column_int(1)),
                       .inode = static_cast<uint64_t>(stmt.column_int(2)),
                       .size = static_cast<uint64_t>(stmt.column_int(3)),
                       .mtime_ns = stmt.column_int(4),
                       .ctime_ns = stmt.column_int(5),
                       .md5 = *md5,
                       .recorded_ns = stmt.column_int(7)});
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read digests");
    return {};
  };
  Statement recorded(db_,
                     "SELECT d.path, d.device, d.inode, d.size, d.mtime_ns, d.ctime_ns, d.md5, "
                     "d.recorded_ns "
                     "FROM stat_digests d JOIN hosts h ON h.id = d.host_id WHERE h.name = ?");
  if (!recorded.ok()) return db_error(db_, "cannot read digests");
  recorded.bind_text(1, host);
  CATENA_TRY_STATUS(read_rows(recorded));
  if (scan_id == 0) return {};
  Statement scanned(db_,
                    "SELECT f.path, f.device, f.inode, f.size, f.mtime_ns, f.ctime_ns, "
                    "c.md5, w.started_ns FROM scans s JOIN files f ON " +
                        std::string(kFilesOfScan) +
                        " JOIN contents c ON c.sha256 = f.sha256 "
                        "JOIN scans w ON w.id = f.scan_id "
                        "WHERE s.id = ? AND f.changed = 0 AND c.md5 IS NOT NULL");
  if (!scanned.ok()) return db_error(db_, "cannot read digests");
  scanned.bind_int(1, scan_id);
  return read_rows(scanned);
}

Result<std::optional<int64_t>> Store::last_full_pass_ns(const std::string& host,
                                                        const std::string& series_key) {
  Statement stmt(db_,
                 "SELECT max(s.started_ns) FROM scans s JOIN scan_series r ON r.id = s.series_id "
                 "JOIN hosts h ON h.id = r.host_id "
                 "WHERE h.name = ? AND r.key = ? AND s.full_pass = 1 AND s.status = 'complete' "
                 "AND s.incomplete = 0");
  if (!stmt.ok()) return db_error(db_, "cannot read scans");
  stmt.bind_text(1, host);
  stmt.bind_text(2, series_key);
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) return db_error(db_, "cannot read scans");
  if (stmt.column_is_null(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt.column_int(0));
}

Status Store::for_each_reference_file(int64_t scan_id,
                                      const std::function<void(ReferenceFile&&)>& visit) {
  // Only records written by an earlier scan: the scan's own are not a reference for itself.
  Statement stmt(db_,
                 "SELECT f.id, f.path, f.type, f.size, f.mode, f.uid, f.gid, f.mtime_ns, "
                 "f.ctime_ns, f.inode, f.device, f.sha256, c.md5, c.sha1, f.package, f.xattrs, "
                 "f.changed, w.status, c.analysis, f.link_target, w.started_ns "
                 "FROM scans s JOIN files f ON f.series_id = s.series_id "
                 "JOIN scans w ON w.id = f.scan_id "
                 "LEFT JOIN contents c ON c.sha256 = f.sha256 "
                 "WHERE s.id = ? AND f.until_scan_id IS NULL AND f.scan_id < s.id");
  if (!stmt.ok()) return db_error(db_, "cannot read the reference scan");
  stmt.bind_int(1, scan_id);
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ReferenceFile r;
    r.row = stmt.column_int(0);
    r.path = stmt.column_text(1);
    r.type = parse_file_type(stmt.column_text(2));
    r.size = static_cast<uint64_t>(stmt.column_int(3));
    r.mode = static_cast<uint32_t>(stmt.column_int(4));
    r.uid = static_cast<uint32_t>(stmt.column_int(5));
    r.gid = static_cast<uint32_t>(stmt.column_int(6));
    r.mtime_ns = stmt.column_int(7);
    r.ctime_ns = stmt.column_int(8);
    r.inode = static_cast<uint64_t>(stmt.column_int(9));
    r.device = static_cast<uint64_t>(stmt.column_int(10));
    r.sha256 = stmt.column_digest<32>(11);
    r.md5 = stmt.column_digest<16>(12);
    r.sha1 = stmt.column_digest<20>(13);
    r.package = stmt.column_text(14);
    r.xattrs = stmt.column_text(15);
    r.changed = stmt.column_int(16) != 0;
    r.from_complete_scan = stmt.column_text(17) == scan_status_name(ScanStatus::Complete);
    r.analysis = stmt.column_text(18);
    r.link_target = stmt.column_text(19);
    r.recorded_ns = stmt.column_int(20);
    visit(std::move(r));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read the reference scan");
  return {};
}

Status Store::for_each_analysed_content(const std::function<void(ContentFacts&&)>& visit) {
  Statement stmt(db_,
                 "SELECT sha256, analysis, findings FROM contents WHERE analysis IS NOT NULL AND "
                 "(findings IS NOT NULL OR format IN ('elf', 'pe', 'macho', 'macho_fat', 'msi'))");
  if (!stmt.ok()) return db_error(db_, "cannot read contents");
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ContentFacts facts;
    const auto sha256 = stmt.column_digest<32>(0);
    if (!sha256) continue;
    facts.sha256 = *sha256;
    facts.analysis = stmt.column_text(1);
    if (!stmt.column_is_null(2)) {
      const auto parsed = nlohmann::json::parse(stmt.column_text(2), nullptr, false);
      // Facts that cannot be read back are as good as none: the content is analysed again.
      if (!parsed.is_array()) continue;
      for (const auto& item : parsed) {
        if (!item.is_object() || !item.contains("analyser") || !item["analyser"].is_string()) {
          continue;
        }
        auto finding = decode_finding(item);
        if (!finding) continue;
        facts.findings.emplace_back(item["analyser"].get<std::string>(), std::move(*finding));
      }
    }
    visit(std::move(facts));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read contents");
  return {};
}

Status Store::add_batch(int64_t scan_id,
                        std::span<const FileRecord> files,
                        std::span<const Finding> findings) {
  return write_batch(
      scan_id, files.size(), [&](size_t i) -> const FileRecord& { return files[i]; },
      [](size_t) { return int64_t{0}; }, {}, findings, {});
}

Status Store::add_changes(int64_t scan_id,
                          std::span<const FileChange> changes,
                          std::span<const int64_t> closed,
                          std::span<const Finding> findings,
                          std::span<const ContentFacts> analysed) {
  return write_batch(
      scan_id, changes.size(), [&](size_t i) -> const FileRecord& { return changes[i].record; },
      [&](size_t i) { return changes[i].replaces; }, closed, findings, analysed);
}

Status Store::write_batch(int64_t scan_id,
                          size_t count,
                          const std::function<const FileRecord&(size_t)>& record_at,
                          const std::function<int64_t(size_t)>& replaces_at,
                          std::span<const int64_t> closed,
                          std::span<const Finding> findings,
                          std::span<const ContentFacts> analysed) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(const int64_t series_id,
             query_int(db_, "SELECT series_id FROM scans WHERE id = " + std::to_string(scan_id),
                       "cannot read scan"));
  Statement content(db_,
                    "INSERT INTO contents(sha256, size, format, md5, sha1, first_seen_ns, "
                    "signature, details, analysis, findings) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(sha256) DO UPDATE SET "
                    "details = coalesce(excluded.details, contents.details), "
                    "md5 = coalesce(contents.md5, excluded.md5), "
                    "sha1 = coalesce(contents.sha1, excluded.sha1), "
                    "signature = coalesce(excluded.signature, contents.signature), "
                    "findings = iif(excluded.analysis IS NULL, contents.findings, "
                    "excluded.findings), "
                    "analysis = coalesce(excluded.analysis, contents.analysis)");
  Statement file(db_,
                 "INSERT INTO files(scan_id, path, type, size, mode, uid, gid, mtime_ns, ctime_ns, "
                 "inode, device, sha256, package, link_target, changed, xattrs, series_id) "
                 "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Statement close(db_, "UPDATE files SET until_scan_id = ? WHERE id = ? AND until_scan_id IS NULL");
  Statement facts(db_, "UPDATE contents SET analysis = ?, findings = ? WHERE sha256 = ?");
  Statement finding(
      db_,
      "INSERT INTO findings(scan_id, rule, severity, path, sha256, message, evidence) "
      "VALUES(?, ?, ?, ?, ?, ?, ?)");
  if (!content.ok() || !file.ok() || !finding.ok() || !close.ok() || !facts.ok()) {
    return db_error(db_, "cannot prepare insert");
  }
  const auto close_row = [&](int64_t row) -> Status {
    close.reset();
    close.bind_int(1, scan_id);
    close.bind_int(2, row);
    if (sqlite3_step(close.get()) != SQLITE_DONE) return db_error(db_, "cannot close record");
    return {};
  };
  const int64_t now = now_ns();
  // A content's facts go with its first record of the batch (one statement, not two); the facts
  // of a content no record of the batch carries are updated on their own below.
  std::unordered_map<Sha256, const ContentFacts*, DigestHash> facts_of;
  for (const ContentFacts& fact : analysed) facts_of.emplace(fact.sha256, &fact);
  const auto findings_text = [](const ContentFacts& fact) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& [analyser, f] : fact.findings) items.push_back(encode_finding(analyser, f));
    return items.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  for (size_t i = 0; i < count; ++i) {
    const FileRecord& r = record_at(i);
    if (r.sha256) {
      content.reset();
      const auto fact = facts_of.find(*r.sha256);
      if (fact != facts_of.end() && fact->second != nullptr) {
        content.bind_text(9, fact->second->analysis);
        if (fact->second->findings.empty()) {
          content.bind_null(10);
        } else {
          content.bind_text(10, findings_text(*fact->second));
        }
        fact->second = nullptr;  // stored
      } else {
        content.bind_null(9);
        content.bind_null(10);
      }
      content.bind_digest(1, r.sha256);
      content.bind_int(2, static_cast<int64_t>(r.size));
      content.bind_text(3, r.format);
      content.bind_digest(4, r.md5);
      content.bind_digest(5, r.sha1);
      content.bind_int(6, now);
      if (r.signature.empty()) {
        content.bind_null(7);
      } else {
        content.bind_text(7, r.signature);
      }
      if (r.details.empty()) {
        content.bind_null(8);
      } else {
        content.bind_text(8, r.details);
      }
      if (sqlite3_step(content.get()) != SQLITE_DONE) return db_error(db_, "cannot store content");
    }
    if (const int64_t replaced = replaces_at(i); replaced != 0) {
      CATENA_TRY_STATUS(close_row(replaced));
    }
    file.reset();
    file.bind_int(1, scan_id);
    file.bind_blob(2, r.path);
    file.bind_text(3, file_type_name(r.type));
    file.bind_int(4, static_cast<int64_t>(r.size));
    file.bind_int(5, r.mode);
    file.bind_int(6, r.uid);
    file.bind_int(7, r.gid);
    file.bind_int(8, r.mtime_ns);
    file.bind_int(9, r.ctime_ns);
    file.bind_int(10, static_cast<int64_t>(r.inode));
    file.bind_int(11, static_cast<int64_t>(r.device));
    file.bind_digest(12, r.sha256);
    file.bind_text(13, r.package);
    if (r.type == FileType::Symlink) {
      file.bind_blob(14, r.link_target);
    } else {
      file.bind_null(14);
    }
    file.bind_int(15, r.changed ? 1 : 0);
    if (r.xattrs.empty()) {
      file.bind_null(16);
    } else {
      file.bind_blob(16, r.xattrs);
    }
    file.bind_int(17, series_id);
    if (sqlite3_step(file.get()) != SQLITE_DONE) return db_error(db_, "cannot store file record");
  }
  for (const int64_t row : closed) CATENA_TRY_STATUS(close_row(row));
  for (const ContentFacts& fact : analysed) {
    if (facts_of.at(fact.sha256) == nullptr) continue;
    facts.reset();
    facts.bind_text(1, fact.analysis);
    if (fact.findings.empty()) {
      facts.bind_null(2);
    } else {
      facts.bind_text(2, findings_text(fact));
    }
    facts.bind_digest(3, std::optional<Sha256>(fact.sha256));
    if (sqlite3_step(facts.get()) != SQLITE_DONE) return db_error(db_, "cannot store facts");
  }
  for (const Finding& f : findings) {
    finding.reset();
    finding.bind_int(1, scan_id);
    finding.bind_text(2, f.rule);
    finding.bind_text(3, severity_name(f.severity));
    finding.bind_blob(4, f.path);
    finding.bind_digest(5, f.sha256);
    finding.bind_text(6, f.message);
    finding.bind_text(7, encode_evidence(f).dump());
    if (sqlite3_step(finding.get()) != SQLITE_DONE) return db_error(db_, "cannot store finding");
  }
  return txn.commit();
}

Status Store::finish_scan(int64_t scan_id, const ScanTotals& totals, ScanStatus status) {
  Statement update(
      db_,
      "UPDATE scans SET finished_ns = ?, status = ?, files = ?, bytes = ?, errors = ?, "
      "files_read = ?, files_reused = ?, incomplete = ? WHERE id = ?");
  if (!update.ok()) return db_error(db_, "cannot finish scan");
  update.bind_int(1, totals.finished_ns);
  update.bind_text(2, scan_status_name(status));
  update.bind_int(3, static_cast<int64_t>(totals.files));
  update.bind_int(4, static_cast<int64_t>(totals.bytes));
  update.bind_int(5, static_cast<int64_t>(totals.errors));
  update.bind_int(6, static_cast<int64_t>(totals.files_read));
  update.bind_int(7, static_cast<int64_t>(totals.files_reused));
  update.bind_int(8, totals.incomplete ? 1 : 0);
  update.bind_int(9, scan_id);
  if (sqlite3_step(update.get()) != SQLITE_DONE) return db_error(db_, "cannot finish scan");
  if (sqlite3_changes(db_) != 1) {
    return make_error(ErrorCode::NotFound, "no scan " + std::to_string(scan_id));
  }
  return {};
}

namespace {
constexpr std::string_view kScanColumns =
    "s.id, h.name, s.kind, s.started_ns, s.finished_ns, s.catena_version, s.arguments, s.roots, "
    "s.status, s.files, s.bytes, s.errors, s.files_read, s.files_reused, s.incomplete";

Result<ScanRecord> read_scan_columns(const Statement& stmt) {
  ScanRecord r;
  r.id = stmt.column_int(0);
  r.host = stmt.column_text(1);
  r.kind = stmt.column_text(2);
  r.started_ns = stmt.column_int(3);
  if (!stmt.column_is_null(4)) r.finished_ns = stmt.column_int(4);
  r.catena_version = stmt.column_text(5);
  r.arguments = decode_string_list(stmt.column_text(6));
  r.roots = decode_string_list(stmt.column_text(7));
  CATENA_TRY(r.status, parse_status(stmt.column_text(8)));
  r.totals.files = static_cast<uint64_t>(stmt.column_int(9));
  r.totals.bytes = static_cast<uint64_t>(stmt.column_int(10));
  r.totals.errors = static_cast<uint64_t>(stmt.column_int(11));
  r.totals.files_read = static_cast<uint64_t>(stmt.column_int(12));
  r.totals.files_reused = static_cast<uint64_t>(stmt.column_int(13));
  r.totals.incomplete = stmt.column_int(14) != 0;
  if (r.finished_ns) r.totals.finished_ns = *r.finished_ns;
  return r;
}
}  // namespace

Result<ScanRecord> Store::get_scan(int64_t scan_id) {
  Statement stmt(db_, std::string("SELECT ") + std::string(kScanColumns) +
                          " FROM scans s JOIN hosts h ON h.id = s.host_id WHERE s.id = ?");
  if (!stmt.ok()) return db_error(db_, "cannot read scan");
  stmt.bind_int(1, scan_id);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE)
    return make_error(ErrorCode::NotFound, "no scan " + std::to_string(scan_id));
  if (rc != SQLITE_ROW) return db_error(db_, "cannot read scan");
  return read_scan_columns(stmt);
}

Result<std::optional<int64_t>> Store::latest_scan_id() {
  Statement stmt(db_, "SELECT max(id) FROM scans");
  if (!stmt.ok() || sqlite3_step(stmt.get()) != SQLITE_ROW)
    return db_error(db_, "cannot read scans");
  if (stmt.column_is_null(0)) return std::optional<int64_t>();
  return std::optional<int64_t>(stmt.column_int(0));
}

Result<std::vector<ScanRecord>> Store::list_scans() {
  Statement stmt(db_, std::string("SELECT ") + std::string(kScanColumns) +
                          " FROM scans s JOIN hosts h ON h.id = s.host_id ORDER BY s.id");
  if (!stmt.ok()) return db_error(db_, "cannot read scans");
  std::vector<ScanRecord> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    CATENA_TRY(ScanRecord record, read_scan_columns(stmt));
    out.push_back(std::move(record));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read scans");
  return out;
}

Status Store::for_each_file(int64_t scan_id, const std::function<void(const FileRecord&)>& visit) {
  Statement stmt(db_, std::string("SELECT ") + std::string(kFileColumns) +
                          " FROM scans s JOIN files f ON " + std::string(kFilesOfScan) +
                          " LEFT JOIN contents c ON c.sha256 = f.sha256 "
                          "WHERE s.id = ? ORDER BY f.path");
  if (!stmt.ok()) return db_error(db_, "cannot read files");
  stmt.bind_int(1, scan_id);
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) visit(read_file_columns(stmt, 0));
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read files");
  return {};
}

Result<std::vector<Finding>> Store::findings_of(int64_t scan_id) {
  Statement stmt(db_,
                 "SELECT rule, severity, path, sha256, message, evidence FROM findings "
                 "WHERE scan_id = ? ORDER BY id");
  if (!stmt.ok()) return db_error(db_, "cannot read findings");
  stmt.bind_int(1, scan_id);
  std::vector<Finding> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    Finding f;
    f.rule = stmt.column_text(0);
    CATENA_TRY(f.severity, parse_severity(stmt.column_text(1)));
    f.path = stmt.column_text(2);
    f.sha256 = stmt.column_digest<32>(3);
    f.message = stmt.column_text(4);
    decode_evidence(nlohmann::json::parse(stmt.column_text(5), nullptr, false), f);
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read findings");
  return out;
}

Result<std::vector<Occurrence>> Store::find_by_sha256(const Sha256& sha256) {
  Statement stmt(db_, std::string("SELECT s.id, h.name, s.started_ns, s.status, ") +
                          std::string(kFileColumns) +
                          " FROM files f JOIN scans s ON s.id = f.scan_id "
                          "JOIN hosts h ON h.id = s.host_id "
                          "LEFT JOIN contents c ON c.sha256 = f.sha256 "
                          "WHERE f.sha256 = ? ORDER BY s.started_ns, s.id, f.path");
  if (!stmt.ok()) return db_error(db_, "cannot search files");
  stmt.bind_digest(1, std::optional<Sha256>(sha256));
  std::vector<Occurrence> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    Occurrence o;
    o.scan_id = stmt.column_int(0);
    o.host = stmt.column_text(1);
    o.scan_started_ns = stmt.column_int(2);
    CATENA_TRY(o.scan_status, parse_status(stmt.column_text(3)));
    o.file = read_file_columns(stmt, 4);
    out.push_back(std::move(o));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot search files");
  return out;
}

Result<std::optional<std::string>> Store::content_format(const Sha256& sha256) {
  Statement stmt(db_, "SELECT format FROM contents WHERE sha256 = ?");
  if (!stmt.ok()) return db_error(db_, "cannot read contents");
  stmt.bind_digest(1, std::optional<Sha256>(sha256));
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return db_error(db_, "cannot read contents");
  return std::optional<std::string>(stmt.column_text(0));
}

namespace {

constexpr std::string_view kBaselineColumns =
    "b.id, b.name, h.name, b.scan_id, b.created_ns, b.updated_ns, b.config, b.packages";

BaselineRecord read_baseline(const Statement& stmt) {
  BaselineRecord b;
  b.id = stmt.column_int(0);
  b.name = stmt.column_text(1);
  b.host = stmt.column_text(2);
  b.scan_id = stmt.column_int(3);
  b.created_ns = stmt.column_int(4);
  b.updated_ns = stmt.column_int(5);
  b.config = stmt.column_text(6);
  b.packages = stmt.column_text(7);
  return b;
}

}  // namespace

namespace {

constexpr std::string_view kAttestationColumns =
    "a.id, a.envelope_sha256, a.host, a.builder_id, a.step, a.started_ns, a.finished_ns, "
    "a.exit_code, a.stored_ns, a.source";

AttestationRecord read_attestation(const Statement& stmt) {
  AttestationRecord a;
  a.id = stmt.column_int(0);
  a.envelope_sha256 = stmt.column_digest<32>(1).value_or(Sha256{});
  a.host = stmt.column_text(2);
  a.builder_id = stmt.column_text(3);
  a.step = stmt.column_text(4);
  if (!stmt.column_is_null(5)) a.started_ns = stmt.column_int(5);
  if (!stmt.column_is_null(6)) a.finished_ns = stmt.column_int(6);
  if (!stmt.column_is_null(7)) a.exit_code = stmt.column_int(7);
  a.stored_ns = stmt.column_int(8);
  a.source = stmt.column_text(9);
  return a;
}

void bind_optional(Statement& stmt, int index, const std::optional<int64_t>& value) {
  if (value) {
    stmt.bind_int(index, *value);
  } else {
    stmt.bind_null(index);
  }
}

}  // namespace

Result<int64_t> Store::put_attestation(const AttestationRecord& record, std::string_view envelope) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  const std::optional<Sha256> envelope_digest = record.envelope_sha256;
  Statement existing(db_, "SELECT id FROM attestations WHERE envelope_sha256 = ?");
  if (!existing.ok()) return db_error(db_, "cannot read attestations");
  existing.bind_digest(1, envelope_digest);
  if (sqlite3_step(existing.get()) == SQLITE_ROW) return existing.column_int(0);
  Statement insert(db_,
                   "INSERT INTO attestations(envelope_sha256, host, builder_id, step, started_ns, "
                   "finished_ns, exit_code, stored_ns, source, envelope) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return db_error(db_, "cannot store attestation");
  insert.bind_digest(1, envelope_digest);
  insert.bind_text(2, record.host);
  insert.bind_text(3, record.builder_id);
  insert.bind_text(4, record.step);
  bind_optional(insert, 5, record.started_ns);
  bind_optional(insert, 6, record.finished_ns);
  bind_optional(insert, 7, record.exit_code);
  insert.bind_int(8, record.stored_ns);
  insert.bind_text(9, record.source);
  insert.bind_text(10, envelope);
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return db_error(db_, "cannot store attestation");
  const int64_t id = sqlite3_last_insert_rowid(db_);
  Statement digest(db_,
                   "INSERT INTO attestation_digests(attestation_id, sha256, role, name) "
                   "VALUES(?, ?, ?, ?)");
  if (!digest.ok()) return db_error(db_, "cannot store attestation");
  for (const AttestationDigest& d : record.digests) {
    sqlite3_reset(digest.get());
    digest.bind_int(1, id);
    digest.bind_digest(2, std::optional<Sha256>(d.sha256));
    digest.bind_text(3, d.role);
    digest.bind_text(4, d.name);
    if (sqlite3_step(digest.get()) != SQLITE_DONE) return db_error(db_, "cannot store attestation");
  }
  CATENA_TRY_STATUS(txn.commit());
  return id;
}

Result<std::vector<AttestationHit>> Store::find_attestations(const Sha256& sha256) {
  Statement stmt(db_, std::string("SELECT ") + std::string(kAttestationColumns) +
                          ", d.role, d.name FROM attestation_digests d "
                          "JOIN attestations a ON a.id = d.attestation_id WHERE d.sha256 = ? "
                          "ORDER BY a.started_ns DESC, a.id DESC, d.role, d.name");
  if (!stmt.ok()) return db_error(db_, "cannot read attestations");
  stmt.bind_digest(1, std::optional<Sha256>(sha256));
  std::vector<AttestationHit> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    out.push_back({read_attestation(stmt), stmt.column_text(10), stmt.column_text(11)});
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read attestations");
  return out;
}

Result<std::vector<AttestationRecord>> Store::list_attestations(const std::string& host) {
  Statement stmt(db_, std::string("SELECT ") + std::string(kAttestationColumns) +
                          " FROM attestations a WHERE ? = '' OR a.host = ? "
                          "ORDER BY a.started_ns DESC, a.id DESC");
  if (!stmt.ok()) return db_error(db_, "cannot read attestations");
  stmt.bind_text(1, host);
  stmt.bind_text(2, host);
  std::vector<AttestationRecord> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.push_back(read_attestation(stmt));
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read attestations");
  return out;
}

Result<std::optional<ScanRecord>> Store::latest_scan_of_host(const std::string& host) {
  Statement stmt(db_, std::string("SELECT ") + std::string(kScanColumns) +
                          " FROM scans s JOIN hosts h ON h.id = s.host_id WHERE h.name = ? "
                          "ORDER BY s.started_ns DESC, s.id DESC LIMIT 1");
  if (!stmt.ok()) return db_error(db_, "cannot read scans");
  stmt.bind_text(1, host);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return std::optional<ScanRecord>();
  if (rc != SQLITE_ROW) return db_error(db_, "cannot read scans");
  CATENA_TRY(ScanRecord record, read_scan_columns(stmt));
  return std::optional<ScanRecord>(std::move(record));
}

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
  Statement legacy(db_, "SELECT value FROM settings WHERE name = 'access_salt'");
  if (!legacy.ok()) return db_error(db_, "cannot read settings");
  std::string old_key;
  if (sqlite3_step(legacy.get()) == SQLITE_ROW) old_key = legacy.column_text(0);
  sqlite3_reset(legacy.get());
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
  Statement insert(db_,
                   "INSERT OR IGNORE INTO settings(name, value) VALUES('access_key_check', ?)");
  if (!insert.ok()) return db_error(db_, "cannot store settings");
  insert.bind_text(1, check);
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return db_error(db_, "cannot store settings");
  Statement stored(db_, "SELECT value FROM settings WHERE name = 'access_key_check'");
  if (!stored.ok() || sqlite3_step(stored.get()) != SQLITE_ROW) {
    return db_error(db_, "cannot read settings");
  }
  if (stored.column_text(0) != check) {
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
  Statement remove(db_, "DELETE FROM access_discoveries WHERE host = ?");
  if (!remove.ok()) return db_error(db_, "cannot store build access");
  remove.bind_text(1, host);
  if (sqlite3_step(remove.get()) != SQLITE_DONE) return db_error(db_, "cannot store build access");
  Statement insert(db_, "INSERT INTO access_discoveries(host, discovered_ns, " +
                            std::string(kAccessColumns) +
                            ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return db_error(db_, "cannot store build access");
  for (const access::Discovery& r : records) {
    sqlite3_reset(insert.get());
    insert.bind_text(1, host);
    insert.bind_int(2, discovered_ns);
    insert.bind_text(3, r.kind);
    insert.bind_text(4, r.category);
    insert.bind_text(5, r.target);
    insert.bind_text(6, r.account);
    insert.bind_blob(7, r.path);
    insert.bind_text(8, r.owner);
    insert.bind_int(9, r.mode);
    insert.bind_text(10, r.fingerprint);
    insert.bind_text(11, r.protection);
    insert.bind_int(12, r.holds_secret ? 1 : 0);
    insert.bind_int(13, r.signing ? 1 : 0);
    insert.bind_int(14, r.build_critical ? 1 : 0);
    insert.bind_text(15, r.detail);
    if (sqlite3_step(insert.get()) != SQLITE_DONE) {
      return db_error(db_, "cannot store build access");
    }
  }
  return txn.commit();
}

Result<std::vector<access::Discovery>> Store::list_access(const std::string& host) {
  Statement stmt(db_, "SELECT " + std::string(kAccessColumns) +
                          " FROM access_discoveries WHERE ? = '' OR host = ? ORDER BY host, path, "
                          "kind, target, id");
  if (!stmt.ok()) return db_error(db_, "cannot read build access");
  stmt.bind_text(1, host);
  stmt.bind_text(2, host);
  std::vector<access::Discovery> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
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
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read build access");
  return out;
}

Result<std::map<std::string, std::vector<std::string>>> Store::credential_hosts(
    const std::string& host) {
  Statement stmt(db_,
                 "SELECT DISTINCT fingerprint, host FROM access_discoveries WHERE holds_secret = 1 "
                 "AND fingerprint <> '' AND host <> ? ORDER BY fingerprint, host");
  if (!stmt.ok()) return db_error(db_, "cannot read build access");
  stmt.bind_text(1, host);
  std::map<std::string, std::vector<std::string>> out;
  int rc = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    out[stmt.column_text(0)].push_back(stmt.column_text(1));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read build access");
  return out;
}

Result<Sha256> Store::scan_content_digest(int64_t scan_id) {
  Statement cached(db_, "SELECT content_digest, status FROM scans WHERE id = ?");
  if (!cached.ok()) return db_error(db_, "cannot read scan");
  cached.bind_int(1, scan_id);
  if (sqlite3_step(cached.get()) != SQLITE_ROW) {
    return make_error(ErrorCode::NotFound, "no scan " + std::to_string(scan_id));
  }
  if (auto digest = cached.column_digest<32>(0)) return *digest;
  const bool running = cached.column_text(1) == scan_status_name(ScanStatus::Running);
  Statement files(db_, "SELECT f.path, f.sha256 FROM scans s JOIN files f ON " +
                           std::string(kFilesOfScan) + " WHERE s.id = ? ORDER BY f.path");
  if (!files.ok()) return db_error(db_, "cannot read files");
  files.bind_int(1, scan_id);
  DigestSet digest(DigestSet::kSha256);
  std::string line;
  int rc = 0;
  while ((rc = sqlite3_step(files.get())) == SQLITE_ROW) {
    line = files.column_text(0);
    line += '\0';
    if (auto sha256 = files.column_digest<32>(1)) line += to_hex(*sha256);
    line += '\n';
    digest.update(std::as_bytes(std::span(line)));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read files");
  const Sha256 out = *digest.finish().sha256;
  // A running scan still gains records: its digest is not kept. A read-only store keeps none.
  if (!running && !sqlite3_db_readonly(db_, "main")) {
    Statement keep(db_, "UPDATE scans SET content_digest = ? WHERE id = ?");
    if (keep.ok()) {
      keep.bind_digest(1, std::optional<Sha256>(out));
      keep.bind_int(2, scan_id);
      (void)sqlite3_step(keep.get());
    }
  }
  return out;
}

Result<int64_t> Store::put_baseline(const BaselineRecord& baseline) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(int64_t host, host_id(baseline.host));
  Statement upsert(db_,
                   "INSERT INTO baselines(name, host_id, scan_id, created_ns, updated_ns, config, "
                   "packages) VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(host_id, name) DO UPDATE SET "
                   "scan_id = excluded.scan_id, updated_ns = excluded.updated_ns, "
                   "config = excluded.config, packages = excluded.packages");
  if (!upsert.ok()) return db_error(db_, "cannot store baseline");
  upsert.bind_text(1, baseline.name);
  upsert.bind_int(2, host);
  upsert.bind_int(3, baseline.scan_id);
  upsert.bind_int(4, baseline.created_ns);
  upsert.bind_int(5, baseline.updated_ns);
  upsert.bind_text(6, baseline.config);
  upsert.bind_text(7, baseline.packages);
  if (sqlite3_step(upsert.get()) != SQLITE_DONE) return db_error(db_, "cannot store baseline");
  Statement select(db_, "SELECT id FROM baselines WHERE host_id = ? AND name = ?");
  if (!select.ok()) return db_error(db_, "cannot read baseline");
  select.bind_int(1, host);
  select.bind_text(2, baseline.name);
  if (sqlite3_step(select.get()) != SQLITE_ROW) return db_error(db_, "cannot read baseline");
  const int64_t id = select.column_int(0);
  CATENA_TRY_STATUS(txn.commit());
  return id;
}

Result<BaselineRecord> Store::get_baseline(const std::string& host, const std::string& name) {
  Statement stmt(db_, std::string("SELECT ") + std::string(kBaselineColumns) +
                          " FROM baselines b JOIN hosts h ON h.id = b.host_id "
                          "WHERE h.name = ? AND b.name = ?");
  if (!stmt.ok()) return db_error(db_, "cannot read baselines");
  stmt.bind_text(1, host);
  stmt.bind_text(2, name);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) {
    return make_error(ErrorCode::NotFound, "no baseline named '" + name + "' for host " + host);
  }
  if (rc != SQLITE_ROW) return db_error(db_, "cannot read baselines");
  return read_baseline(stmt);
}

Result<std::vector<BaselineRecord>> Store::list_baselines() {
  Statement stmt(db_, std::string("SELECT ") + std::string(kBaselineColumns) +
                          " FROM baselines b JOIN hosts h ON h.id = b.host_id "
                          "ORDER BY h.name, b.name");
  if (!stmt.ok()) return db_error(db_, "cannot read baselines");
  std::vector<BaselineRecord> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) out.push_back(read_baseline(stmt));
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read baselines");
  return out;
}

Status Store::delete_baseline(const std::string& host, const std::string& name) {
  Statement stmt(db_,
                 "DELETE FROM baselines WHERE name = ? AND host_id = "
                 "(SELECT id FROM hosts WHERE name = ?)");
  if (!stmt.ok()) return db_error(db_, "cannot delete baseline");
  stmt.bind_text(1, name);
  stmt.bind_text(2, host);
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return db_error(db_, "cannot delete baseline");
  if (sqlite3_changes(db_) == 0) {
    return make_error(ErrorCode::NotFound, "no baseline named '" + name + "' for host " + host);
  }
  return {};
}

namespace {

// Inside an open transaction: removes the feed named feed.name (its rows go with it) and
// records the new one; returns its id.
Result<int64_t> replace_feed_row(sqlite3* db, const FeedRecord& feed, uint64_t count) {
  Statement remove(db, "DELETE FROM feeds WHERE name = ?");
  if (!remove.ok()) return db_error(db, "cannot replace feed");
  remove.bind_text(1, feed.name);
  if (sqlite3_step(remove.get()) != SQLITE_DONE) return db_error(db, "cannot replace feed");
  Statement insert(db,
                   "INSERT INTO feeds (name, source, format, imported_ns, indicators) "
                   "VALUES (?, ?, ?, ?, ?)");
  if (!insert.ok()) return db_error(db, "cannot store feed");
  insert.bind_text(1, feed.name);
  insert.bind_text(2, feed.source);
  insert.bind_text(3, feed.format);
  insert.bind_int(4, feed.imported_ns);
  insert.bind_int(5, static_cast<int64_t>(count));
  if (sqlite3_step(insert.get()) != SQLITE_DONE) return db_error(db, "cannot store feed");
  return sqlite3_last_insert_rowid(db);
}

}  // namespace

struct Store::FeedImport::State {
  sqlite3* db = nullptr;
  std::unique_ptr<Transaction> txn;
  std::unique_ptr<Statement> add;
  int64_t feed_id = 0;
  uint64_t added = 0, duplicates = 0;
  // Rows wait here and go in sorted by digest: B-tree inserts in key order touch each index
  // page once per batch instead of once per row.
  std::vector<IndicatorRecord> batch;
  Status flush();
};

namespace {
constexpr size_t kFeedImportBatch = 1 << 16;
}  // namespace

Status Store::FeedImport::State::flush() {
  std::sort(batch.begin(), batch.end(), [](const IndicatorRecord& a, const IndicatorRecord& b) {
    return std::tie(a.digest, a.algorithm) < std::tie(b.digest, b.algorithm);
  });
  const IndicatorRecord* previous = nullptr;
  for (const IndicatorRecord& indicator : batch) {
    if (previous != nullptr && previous->digest == indicator.digest &&
        previous->algorithm == indicator.algorithm) {
      ++duplicates;
      continue;
    }
    previous = &indicator;
    sqlite3_reset(add->get());
    add->bind_int(1, feed_id);
    // The batch outlives the step: SQLite may use the bytes in place.
    sqlite3_bind_text(add->get(), 2, indicator.algorithm.data(),
                      static_cast<int>(indicator.algorithm.size()), SQLITE_STATIC);
    sqlite3_bind_blob(add->get(), 3, indicator.digest.data(),
                      static_cast<int>(indicator.digest.size()), SQLITE_STATIC);
    sqlite3_bind_text(add->get(), 4, indicator.label.data(),
                      static_cast<int>(indicator.label.size()), SQLITE_STATIC);
    sqlite3_bind_text(add->get(), 5, indicator.reference.data(),
                      static_cast<int>(indicator.reference.size()), SQLITE_STATIC);
    if (sqlite3_step(add->get()) != SQLITE_DONE) return db_error(db, "cannot store indicators");
    if (sqlite3_changes(db) == 0) {
      ++duplicates;
    } else {
      ++added;
    }
  }
  batch.clear();
  return {};
}

Store::FeedImport::~FeedImport() = default;

Result<std::unique_ptr<Store::FeedImport>> Store::begin_feed_import(const FeedRecord& feed) {
  auto state = std::make_unique<FeedImport::State>();
  state->db = db_;
  // A million random digests make the index's pages hot all over: a 256 MiB page cache for the
  // import (a bound, not a per-row cost) keeps them in memory instead of in and out of the WAL.
  CATENA_TRY_STATUS(exec(db_, "PRAGMA cache_size=-262144", "cannot configure the store"));
  state->txn = std::make_unique<Transaction>(db_);
  CATENA_TRY_STATUS(state->txn->begin());
  CATENA_TRY(state->feed_id, replace_feed_row(db_, feed, 0));
  // A duplicate within the feed is refused by the unique index, in the same descent that
  // would insert it.
  state->add = std::make_unique<Statement>(
      db_,
      "INSERT INTO indicators (feed_id, algorithm, digest, label, reference) "
      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
  if (!state->add->ok()) return db_error(db_, "cannot store indicators");
  auto out = std::unique_ptr<FeedImport>(new FeedImport());
  out->state_ = std::move(state);
  return out;
}

Status Store::FeedImport::add(IndicatorRecord indicator) {
  state_->batch.push_back(std::move(indicator));
  if (state_->batch.size() >= kFeedImportBatch) return state_->flush();
  return {};
}

Result<uint64_t> Store::FeedImport::commit(const std::string& format) {
  State& s = *state_;
  CATENA_TRY_STATUS(s.flush());
  Statement count(s.db, "UPDATE feeds SET indicators = ?, format = ? WHERE id = ?");
  if (!count.ok()) return db_error(s.db, "cannot store feed");
  count.bind_int(1, static_cast<int64_t>(s.added));
  count.bind_text(2, format);
  count.bind_int(3, s.feed_id);
  if (sqlite3_step(count.get()) != SQLITE_DONE) return db_error(s.db, "cannot store feed");
  s.add.reset();
  CATENA_TRY_STATUS(s.txn->commit());
  return s.duplicates;
}

Result<int64_t> Store::import_feed(const FeedRecord& feed,
                                   std::span<const IndicatorRecord> indicators) {
  CATENA_TRY(std::unique_ptr<FeedImport> writer, begin_feed_import(feed));
  for (const IndicatorRecord& indicator : indicators) CATENA_TRY_STATUS(writer->add(indicator));
  CATENA_TRY(uint64_t duplicates, writer->commit(feed.format));
  (void)duplicates;
  return writer->state_->feed_id;
}

Result<int64_t> Store::import_signer_feed(const FeedRecord& feed,
                                          std::span<const BlockedSignerRecord> signers) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(int64_t feed_id, replace_feed_row(db_, feed, signers.size()));
  Statement add(db_,
                "INSERT INTO blocked_signers (feed_id, thumbprint, issuer, serial, label) "
                "VALUES (?, ?, ?, ?, ?)");
  if (!add.ok()) return db_error(db_, "cannot store blocked signers");
  for (const BlockedSignerRecord& b : signers) {
    sqlite3_reset(add.get());
    add.bind_int(1, feed_id);
    add.bind_text(2, b.thumbprint);
    add.bind_text(3, b.issuer);
    add.bind_text(4, b.serial);
    add.bind_text(5, b.label);
    if (sqlite3_step(add.get()) != SQLITE_DONE)
      return db_error(db_, "cannot store blocked signers");
  }
  CATENA_TRY_STATUS(txn.commit());
  return feed_id;
}

Status Store::for_each_blocked_signer(const std::function<void(BlockedSignerRecord&&)>& visit) {
  Statement stmt(db_,
                 "SELECT f.name, b.thumbprint, b.issuer, b.serial, b.label FROM blocked_signers b "
                 "JOIN feeds f ON f.id = b.feed_id");
  if (!stmt.ok()) return db_error(db_, "cannot read blocked signers");
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    BlockedSignerRecord b;
    b.feed = stmt.column_text(0);
    b.thumbprint = stmt.column_text(1);
    b.issuer = stmt.column_text(2);
    b.serial = stmt.column_text(3);
    b.label = stmt.column_text(4);
    visit(std::move(b));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read blocked signers");
  return {};
}

Result<std::vector<FeedRecord>> Store::list_feeds() {
  Statement stmt(db_,
                 "SELECT id, name, source, format, imported_ns, indicators FROM feeds "
                 "ORDER BY name");
  if (!stmt.ok()) return db_error(db_, "cannot read feeds");
  std::vector<FeedRecord> out;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    FeedRecord f;
    f.id = stmt.column_int(0);
    f.name = stmt.column_text(1);
    f.source = stmt.column_text(2);
    f.format = stmt.column_text(3);
    f.imported_ns = stmt.column_int(4);
    f.indicators = static_cast<uint64_t>(stmt.column_int(5));
    out.push_back(std::move(f));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read feeds");
  return out;
}

Status Store::remove_feed(const std::string& name) {
  Statement stmt(db_, "DELETE FROM feeds WHERE name = ?");
  if (!stmt.ok()) return db_error(db_, "cannot remove feed");
  stmt.bind_text(1, name);
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return db_error(db_, "cannot remove feed");
  if (sqlite3_changes(db_) == 0)
    return make_error(ErrorCode::NotFound, "no feed named '" + name + "'");
  return {};
}

Status Store::for_each_indicator(const std::function<void(IndicatorRecord&&)>& visit) {
  Statement stmt(db_,
                 "SELECT f.name, i.algorithm, i.digest, i.label, i.reference FROM indicators i "
                 "JOIN feeds f ON f.id = i.feed_id");
  if (!stmt.ok()) return db_error(db_, "cannot read indicators");
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    IndicatorRecord i;
    i.feed = stmt.column_text(0);
    i.algorithm = stmt.column_text(1);
    i.digest = stmt.column_text(2);
    i.label = stmt.column_text(3);
    i.reference = stmt.column_text(4);
    visit(std::move(i));
  }
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read indicators");
  return {};
}

Status Store::for_each_indicator_hit(const std::function<void(IndicatorHit&&)>& visit) {
  // One query per algorithm, each an indexed probe per indicator.
  for (const char* sql :
       {"SELECT f.name, i.algorithm, i.digest, i.label, i.reference, c.sha256 FROM indicators i "
        "JOIN feeds f ON f.id = i.feed_id JOIN contents c ON c.sha256 = i.digest "
        "WHERE i.algorithm = 'sha256'",
        "SELECT f.name, i.algorithm, i.digest, i.label, i.reference, c.sha256 FROM indicators i "
        "JOIN feeds f ON f.id = i.feed_id JOIN contents c ON c.md5 = i.digest "
        "WHERE i.algorithm = 'md5'",
        "SELECT f.name, i.algorithm, i.digest, i.label, i.reference, c.sha256 FROM indicators i "
        "JOIN feeds f ON f.id = i.feed_id JOIN contents c ON c.sha1 = i.digest "
        "WHERE i.algorithm = 'sha1'"}) {
    Statement stmt(db_, sql);
    if (!stmt.ok()) return db_error(db_, "cannot match indicators");
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      IndicatorHit hit;
      hit.indicator.feed = stmt.column_text(0);
      hit.indicator.algorithm = stmt.column_text(1);
      hit.indicator.digest = stmt.column_text(2);
      hit.indicator.label = stmt.column_text(3);
      hit.indicator.reference = stmt.column_text(4);
      const std::string content = stmt.column_text(5);
      if (content.size() != hit.content.size()) continue;
      std::memcpy(hit.content.data(), content.data(), content.size());
      visit(std::move(hit));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot match indicators");
  }
  return {};
}

Result<uint64_t> Store::count_indicators(const std::string& algorithm) {
  Statement stmt(db_, "SELECT count(*) FROM indicators WHERE algorithm = ?");
  if (!stmt.ok()) return db_error(db_, "cannot count indicators");
  stmt.bind_text(1, algorithm);
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) return db_error(db_, "cannot count indicators");
  return static_cast<uint64_t>(stmt.column_int(0));
}

Result<std::vector<ScanRecord>> Store::scans_without_digest(const std::string& algorithm) {
  Statement stmt(db_,
                 "SELECT id FROM scans WHERE digests IS NULL OR "
                 "(',' || digests || ',') NOT LIKE ? ORDER BY id");
  if (!stmt.ok()) return db_error(db_, "cannot read scans");
  stmt.bind_text(1, "%," + algorithm + ",%");
  std::vector<int64_t> ids;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) ids.push_back(stmt.column_int(0));
  if (rc != SQLITE_DONE) return db_error(db_, "cannot read scans");
  std::vector<ScanRecord> out;
  for (int64_t id : ids) {
    CATENA_TRY(ScanRecord scan, get_scan(id));
    out.push_back(std::move(scan));
  }
  return out;
}

}  // namespace catena::store
