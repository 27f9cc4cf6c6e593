// intel::IntelStore: indicator feeds and blocked signers.
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <tuple>

#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "sqlite.hpp"

namespace catena::store {

namespace {

// Inside an open transaction: removes the feed named feed.name (its rows go with it) and
// records the new one; returns its id.
Result<int64_t> replace_feed_row(sqlite3* db, const FeedRecord& feed, uint64_t count) {
  CATENA_TRY_STATUS(run(db, "cannot replace feed", "DELETE FROM feeds WHERE name = ?", feed.name));
  CATENA_TRY_STATUS(run(db, "cannot store feed",
                        "INSERT INTO feeds (name, source, format, imported_ns, indicators) "
                        "VALUES (?, ?, ?, ?, ?)",
                        feed.name, feed.source, feed.format, feed.imported_ns, count));
  return sqlite3_last_insert_rowid(db);
}

constexpr size_t kFeedImportBatch = 1 << 16;

class SqliteFeedImport final : public intel::FeedImport {
 public:
  static Result<std::unique_ptr<SqliteFeedImport>> begin(sqlite3* db, const FeedRecord& feed) {
    auto out = std::unique_ptr<SqliteFeedImport>(new SqliteFeedImport(db));
    // A million random digests make the index's pages hot all over: a 256 MiB page cache for
    // the import (a bound, not a per-row cost) keeps them in memory instead of in and out of
    // the WAL.
    CATENA_TRY_STATUS(exec(db, "PRAGMA cache_size=-262144", "cannot configure the store"));
    CATENA_TRY_STATUS(out->txn_.begin());
    CATENA_TRY(out->feed_id_, replace_feed_row(db, feed, 0));
    // A duplicate within the feed is refused by the unique index, in the same descent that
    // would insert it.
    out->add_ = std::make_unique<Statement>(
        db,
        "INSERT INTO indicators (feed_id, algorithm, digest, label, reference) "
        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING");
    if (!out->add_->ok()) return db_error(db, "cannot store indicators");
    return out;
  }

  Status add(IndicatorRecord indicator) override {
    batch_.push_back(std::move(indicator));
    if (batch_.size() >= kFeedImportBatch) return flush();
    return {};
  }

  Result<uint64_t> commit(const std::string& format) override {
    CATENA_TRY_STATUS(flush());
    CATENA_TRY_STATUS(run(db_, "cannot store feed",
                          "UPDATE feeds SET indicators = ?, format = ? WHERE id = ?", added_,
                          format, feed_id_));
    add_.reset();
    CATENA_TRY_STATUS(txn_.commit());
    return duplicates_;
  }

  int64_t feed_id() const { return feed_id_; }

 private:
  explicit SqliteFeedImport(sqlite3* db) : db_(db), txn_(db) {}

  Status flush() {
    std::sort(batch_.begin(), batch_.end(), [](const IndicatorRecord& a, const IndicatorRecord& b) {
      return std::tie(a.digest, a.algorithm) < std::tie(b.digest, b.algorithm);
    });
    const IndicatorRecord* previous = nullptr;
    for (const IndicatorRecord& indicator : batch_) {
      if (previous != nullptr && previous->digest == indicator.digest &&
          previous->algorithm == indicator.algorithm) {
        ++duplicates_;
        continue;
      }
      previous = &indicator;
      sqlite3_reset(add_->get());
      add_->bind_int(1, feed_id_);
      // The batch outlives the step: SQLite may use the bytes in place.
      sqlite3_bind_text(add_->get(), 2, indicator.algorithm.data(),
                        static_cast<int>(indicator.algorithm.size()), SQLITE_STATIC);
      sqlite3_bind_blob(add_->get(), 3, indicator.digest.data(),
                        static_cast<int>(indicator.digest.size()), SQLITE_STATIC);
      sqlite3_bind_text(add_->get(), 4, indicator.label.data(),
                        static_cast<int>(indicator.label.size()), SQLITE_STATIC);
      sqlite3_bind_text(add_->get(), 5, indicator.reference.data(),
                        static_cast<int>(indicator.reference.size()), SQLITE_STATIC);
      if (sqlite3_step(add_->get()) != SQLITE_DONE) {
        return db_error(db_, "cannot store indicators");
      }
      if (sqlite3_changes(db_) == 0) {
        ++duplicates_;
      } else {
        ++added_;
      }
    }
    batch_.clear();
    return {};
  }

  sqlite3* db_;
  Transaction txn_;  // rolled back when destroyed uncommitted
  std::unique_ptr<Statement> add_;
  int64_t feed_id_ = 0;
  uint64_t added_ = 0;
  uint64_t duplicates_ = 0;
  // Rows wait here and go in sorted by digest: B-tree inserts in key order touch each index
  // page once per batch instead of once per row.
  std::vector<IndicatorRecord> batch_;
};

}  // namespace

Result<std::unique_ptr<intel::FeedImport>> Store::begin_feed_import(const FeedRecord& feed) {
  CATENA_TRY(std::unique_ptr<SqliteFeedImport> writer, SqliteFeedImport::begin(db_, feed));
  return std::unique_ptr<intel::FeedImport>(std::move(writer));
}

Result<int64_t> Store::import_feed(const FeedRecord& feed,
                                   std::span<const IndicatorRecord> indicators) {
  CATENA_TRY(std::unique_ptr<SqliteFeedImport> writer, SqliteFeedImport::begin(db_, feed));
  for (const IndicatorRecord& indicator : indicators) CATENA_TRY_STATUS(writer->add(indicator));
  CATENA_TRY(uint64_t duplicates, writer->commit(feed.format));
  (void)duplicates;
  return writer->feed_id();
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
    CATENA_TRY_STATUS(run_again(db_, add, "cannot store blocked signers", feed_id, b.thumbprint,
                                b.issuer, b.serial, b.label));
  }
  CATENA_TRY_STATUS(txn.commit());
  return feed_id;
}

Status Store::for_each_blocked_signer(const std::function<void(BlockedSignerRecord&&)>& visit) {
  return for_each_row(db_, "cannot read blocked signers",
                      "SELECT f.name, b.thumbprint, b.issuer, b.serial, b.label "
                      "FROM blocked_signers b JOIN feeds f ON f.id = b.feed_id",
                      [&](const Statement& row) {
                        visit(BlockedSignerRecord{.feed = row.column_text(0),
                                                  .thumbprint = row.column_text(1),
                                                  .issuer = row.column_text(2),
                                                  .serial = row.column_text(3),
                                                  .label = row.column_text(4)});
                      });
}

Result<std::vector<FeedRecord>> Store::list_feeds() {
  std::vector<FeedRecord> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read feeds",
      "SELECT id, name, source, format, imported_ns, indicators FROM feeds ORDER BY name",
      [&](const Statement& row) {
        out.push_back(FeedRecord{.id = row.column_int(0),
                                 .name = row.column_text(1),
                                 .source = row.column_text(2),
                                 .format = row.column_text(3),
                                 .imported_ns = row.column_int(4),
                                 .indicators = static_cast<uint64_t>(row.column_int(5))});
      }));
  return out;
}

Status Store::remove_feed(const std::string& name) {
  CATENA_TRY(int64_t removed,
             run(db_, "cannot remove feed", "DELETE FROM feeds WHERE name = ?", name));
  if (removed == 0) return make_error(ErrorCode::NotFound, "no feed named '" + name + "'");
  return {};
}

namespace {

constexpr std::string_view kIndicatorColumns =
    "f.name, i.algorithm, i.digest, i.label, i.reference";

IndicatorRecord read_indicator(const Statement& row) {
  return IndicatorRecord{.feed = row.column_text(0),
                         .algorithm = row.column_text(1),
                         .digest = row.column_text(2),
                         .label = row.column_text(3),
                         .reference = row.column_text(4)};
}

}  // namespace

Status Store::for_each_indicator(const std::function<void(IndicatorRecord&&)>& visit) {
  return for_each_row(db_, "cannot read indicators",
                      std::string("SELECT ") + std::string(kIndicatorColumns) +
                          " FROM indicators i JOIN feeds f ON f.id = i.feed_id",
                      [&](const Statement& row) { visit(read_indicator(row)); });
}

Status Store::for_each_indicator_hit(const std::function<void(IndicatorHit&&)>& visit) {
  // One query per algorithm, each an indexed probe per indicator.
  for (const char* algorithm : {"sha256", "md5", "sha1"}) {
    const std::string content_column = algorithm;  // contents has a column per digest
    CATENA_TRY_STATUS(for_each_row(
        db_, "cannot match indicators",
        std::string("SELECT ") + std::string(kIndicatorColumns) +
            ", c.sha256 FROM indicators i JOIN feeds f ON f.id = i.feed_id "
            "JOIN contents c ON c." +
            content_column + " = i.digest WHERE i.algorithm = ?",
        [&](const Statement& row) {
          IndicatorHit hit{.indicator = read_indicator(row)};
          const std::string content = row.column_text(5);
          if (content.size() != hit.content.size()) return;
          std::memcpy(hit.content.data(), content.data(), content.size());
          visit(std::move(hit));
        },
        algorithm));
  }
  return {};
}

Result<uint64_t> Store::count_indicators(const std::string& algorithm) {
  uint64_t count = 0;
  CATENA_TRY_STATUS(first_row(
      db_, "cannot count indicators", "SELECT count(*) FROM indicators WHERE algorithm = ?",
      [&](const Statement& row) { count = static_cast<uint64_t>(row.column_int(0)); }, algorithm));
  return count;
}

}  // namespace catena::store
