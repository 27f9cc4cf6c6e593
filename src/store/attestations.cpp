// attest::AttestationStore: verified build attestations, indexed by the digests they name.
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "sqlite.hpp"

namespace catena::store {

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

}  // namespace catena::store
