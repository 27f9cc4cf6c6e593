#pragma once
// What every part of the SQLite store shares: statements, transactions, the query helpers, and
// the encodings of what SQLite has no type for. Internal to the store module.
#include <fcntl.h>
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "catena/core/result.hpp"
#include "catena/store/store.hpp"

namespace catena::store {

// The record types of the concerns the store keeps, by their short names.
using access::Discovery;
using attest::AttestationDigest;
using attest::AttestationHit;
using attest::AttestationRecord;
using baseline::BaselineRecord;
using intel::BlockedSignerRecord;
using intel::FeedRecord;
using intel::IndicatorHit;
using intel::IndicatorRecord;
using scan::AnalysedContent;
using scan::file_type_name;
using scan::FileChange;
using scan::FileRecord;
using scan::FileType;
using scan::NewScan;
using scan::Occurrence;
using scan::ReferenceFile;
using scan::scan_status_name;
using scan::ScanRecord;
using scan::ScanStatus;
using scan::ScanTotals;
using scan::StatDigest;

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
  /// Valid until the next step or reset: for a value compared, not kept.
  std::string_view column_view(int index) const {
    const auto* text = sqlite3_column_blob(stmt_, index);
    const int size = sqlite3_column_bytes(stmt_, index);
    return text ? std::string_view(static_cast<const char*>(text), static_cast<size_t>(size))
                : std::string_view();
  }
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

/// A value bound as a BLOB (digests, raw bytes), not as TEXT.
struct Blob {
  std::string_view bytes;
};

tl::unexpected<Error> db_error(sqlite3* db, std::string_view what);
Status exec(sqlite3* db, std::string_view sql, std::string_view what);
Result<int64_t> query_int(sqlite3* db, std::string_view sql, std::string_view what);

namespace detail {
inline void bind_one(Statement& stmt, int index, int64_t value) { stmt.bind_int(index, value); }
inline void bind_one(Statement& stmt, int index, std::string_view value) {
  stmt.bind_text(index, value);
}
inline void bind_one(Statement& stmt, int index, const std::string& value) {
  stmt.bind_text(index, value);
}
inline void bind_one(Statement& stmt, int index, const char* value) {
  stmt.bind_text(index, value);
}
inline void bind_one(Statement& stmt, int index, Blob value) { stmt.bind_blob(index, value.bytes); }
inline void bind_one(Statement& stmt, int index, std::nullopt_t) { stmt.bind_null(index); }
template <size_t N>
void bind_one(Statement& stmt, int index, const std::array<uint8_t, N>& digest) {
  stmt.bind_digest(index, std::optional<std::array<uint8_t, N>>(digest));
}
template <typename Integer>
requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, int64_t>) void bind_one(
    Statement& stmt, int index, Integer value) {
  stmt.bind_int(index, static_cast<int64_t>(value));
}
template <typename T>
void bind_one(Statement& stmt, int index, const std::optional<T>& value) {
  if (value) {
    bind_one(stmt, index, *value);
  } else {
    stmt.bind_null(index);
  }
}
}  // namespace detail

/// Binds `args` to the statement's parameters 1, 2, ... in order: integers as INTEGER, strings
/// as TEXT, Blob as BLOB, nullopt as NULL.
template <typename... Args>
void bind_all(Statement& stmt, const Args&... args) {
  int index = 0;
  (detail::bind_one(stmt, ++index, args), ...);
}

/// The loop every read repeats: prepare `sql`, bind `args`, call `row` for each row; a `row`
/// that returns Status stops the loop with its error. An error of SQLite (prepare or step) is
/// `what` ("cannot read scans") with SQLite's reason.
template <typename Row, typename... Args>
Status for_each_row(
    sqlite3* db, std::string_view what, std::string_view sql, Row&& row, const Args&... args) {
  Statement stmt(db, sql);
  if (!stmt.ok()) return db_error(db, what);
  bind_all(stmt, args...);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const Statement& current = stmt;
    if constexpr (std::is_same_v<std::invoke_result_t<Row&, const Statement&>, Status>) {
      CATENA_TRY_STATUS(row(current));
    } else {
      row(current);
    }
  }
  if (rc != SQLITE_DONE) return db_error(db, what);
  return {};
}

/// The first row only (a lookup by key): `row` is called for it; false when there is none.
template <typename Row, typename... Args>
Result<bool> first_row(
    sqlite3* db, std::string_view what, std::string_view sql, Row&& row, const Args&... args) {
  Statement stmt(db, sql);
  if (!stmt.ok()) return db_error(db, what);
  bind_all(stmt, args...);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) return db_error(db, what);
  row(static_cast<const Statement&>(stmt));
  return true;
}

/// A statement that returns no row (INSERT, UPDATE, DELETE); returns how many rows it changed.
template <typename... Args>
Result<int64_t> run(sqlite3* db, std::string_view what, std::string_view sql, const Args&... args) {
  Statement stmt(db, sql);
  if (!stmt.ok()) return db_error(db, what);
  bind_all(stmt, args...);
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return db_error(db, what);
  return static_cast<int64_t>(sqlite3_changes(db));
}

/// A statement prepared once and run again for each row of a batch: reset, bind `args`, step.
template <typename... Args>
Status run_again(sqlite3* db, Statement& stmt, std::string_view what, const Args&... args) {
  stmt.reset();
  sqlite3_clear_bindings(stmt.get());
  bind_all(stmt, args...);
  if (sqlite3_step(stmt.get()) != SQLITE_DONE) return db_error(db, what);
  return {};
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

// The lock file beside a store (src/store/store.cpp): byte 0 is held exclusively while a
// process creates or migrates the store, byte 1 shared by every process with a scan running.
inline constexpr off_t kInitByte = 0;
inline constexpr off_t kScanByte = 1;
bool ofd_lock(int fd, short type, off_t byte, bool wait);
int open_lock_file(const std::string& store_path);

nlohmann::json encode_evidence(const Finding& f);
void decode_evidence(const nlohmann::json& evidence, Finding& f);
nlohmann::json encode_finding(const std::string& analyser, const Finding& f);
std::optional<Finding> decode_finding(const nlohmann::json& item);
std::string encode_string_list(const std::vector<std::string>& items);
std::vector<std::string> decode_string_list(const std::string& text);
Result<ScanStatus> parse_status(const std::string& text);
FileType parse_file_type(std::string_view text);

// The records of scan `s`: those of its series written by it or before it and not closed by then.
constexpr std::string_view kFilesOfScan =
    "f.series_id = s.series_id AND f.scan_id <= s.id AND "
    "(f.until_scan_id IS NULL OR f.until_scan_id > s.id)";

constexpr std::string_view kFileColumns =
    "f.path, f.type, f.size, f.mode, f.uid, f.gid, f.mtime_ns, f.ctime_ns, f.inode, f.device, "
    "f.sha256, c.format, f.package, f.link_target, f.changed, c.md5, c.sha1, f.xattrs, "
    "c.signature, c.details";

FileRecord read_file_columns(const Statement& stmt, int first);

}  // namespace catena::store
