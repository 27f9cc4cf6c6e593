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

}  // namespace

Result<int64_t> Store::put_attestation(const AttestationRecord& record, std::string_view envelope) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  const std::optional<Sha256> envelope_digest = record.envelope_sha256;
  int64_t existing = 0;
  CATENA_TRY(
      const bool known,
      first_row(
          db_, "cannot read attestations", "SELECT id FROM attestations WHERE envelope_sha256 = ?",
          [&](const Statement& row) { existing = row.column_int(0); }, envelope_digest));
  if (known) return existing;
  CATENA_TRY_STATUS(run(db_, "cannot store attestation",
                        "INSERT INTO attestations(envelope_sha256, host, builder_id, step, "
                        "started_ns, finished_ns, exit_code, stored_ns, source, envelope) "
                        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        envelope_digest, record.host, record.builder_id, record.step,
                        record.started_ns, record.finished_ns, record.exit_code, record.stored_ns,
                        record.source, envelope));
  const int64_t id = sqlite3_last_insert_rowid(db_);
  Statement digest(db_,
                   "INSERT INTO attestation_digests(attestation_id, sha256, role, name) "
                   "VALUES(?, ?, ?, ?)");
  if (!digest.ok()) return db_error(db_, "cannot store attestation");
  for (const AttestationDigest& d : record.digests) {
    CATENA_TRY_STATUS(
        run_again(db_, digest, "cannot store attestation", id, d.sha256, d.role, d.name));
  }
  CATENA_TRY_STATUS(txn.commit());
  return id;
}

Result<std::vector<AttestationHit>> Store::find_attestations(const Sha256& sha256) {
  std::vector<AttestationHit> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read attestations",
      std::string("SELECT ") + std::string(kAttestationColumns) +
          ", d.role, d.name FROM attestation_digests d "
          "JOIN attestations a ON a.id = d.attestation_id WHERE d.sha256 = ? "
          "ORDER BY a.started_ns DESC, a.id DESC, d.role, d.name",
      [&](const Statement& row) {
        out.push_back({read_attestation(row), row.column_text(10), row.column_text(11)});
      },
      sha256));
  return out;
}

Result<std::vector<AttestationRecord>> Store::list_attestations(const std::string& host) {
  std::vector<AttestationRecord> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read attestations",
      std::string("SELECT ") + std::string(kAttestationColumns) +
          " FROM attestations a WHERE ?1 = '' OR a.host = ?1 ORDER BY a.started_ns DESC, a.id DESC",
      [&](const Statement& row) { out.push_back(read_attestation(row)); }, host));
  return out;
}

}  // namespace catena::store
