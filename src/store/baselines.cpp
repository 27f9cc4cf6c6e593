// baseline::BaselineStore: named baselines of hosts.
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

Result<int64_t> Store::put_baseline(const BaselineRecord& baseline) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(int64_t host, host_id(baseline.host));
  CATENA_TRY_STATUS(run(db_, "cannot store baseline",
                        "INSERT INTO baselines(name, host_id, scan_id, created_ns, updated_ns, "
                        "config, packages) VALUES(?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT(host_id, name) DO UPDATE SET scan_id = excluded.scan_id, "
                        "updated_ns = excluded.updated_ns, config = excluded.config, "
                        "packages = excluded.packages",
                        baseline.name, host, baseline.scan_id, baseline.created_ns,
                        baseline.updated_ns, baseline.config, baseline.packages));
  int64_t id = 0;
  CATENA_TRY(
      bool found,
      first_row(
          db_, "cannot read baseline", "SELECT id FROM baselines WHERE host_id = ? AND name = ?",
          [&](const Statement& row) { id = row.column_int(0); }, host, baseline.name));
  if (!found) return make_error(ErrorCode::Db, "cannot read the baseline just stored");
  CATENA_TRY_STATUS(txn.commit());
  return id;
}

Result<BaselineRecord> Store::get_baseline(const std::string& host, const std::string& name) {
  BaselineRecord out;
  CATENA_TRY(bool found, first_row(
                             db_, "cannot read baselines",
                             std::string("SELECT ") + std::string(kBaselineColumns) +
                                 " FROM baselines b JOIN hosts h ON h.id = b.host_id "
                                 "WHERE h.name = ? AND b.name = ?",
                             [&](const Statement& row) { out = read_baseline(row); }, host, name));
  if (!found) {
    return make_error(ErrorCode::NotFound, "no baseline named '" + name + "' for host " + host);
  }
  return out;
}

Result<std::vector<BaselineRecord>> Store::list_baselines() {
  std::vector<BaselineRecord> out;
  CATENA_TRY_STATUS(for_each_row(db_, "cannot read baselines",
                                 std::string("SELECT ") + std::string(kBaselineColumns) +
                                     " FROM baselines b JOIN hosts h ON h.id = b.host_id "
                                     "ORDER BY h.name, b.name",
                                 [&](const Statement& row) { out.push_back(read_baseline(row)); }));
  return out;
}

Status Store::delete_baseline(const std::string& host, const std::string& name) {
  CATENA_TRY(int64_t removed, run(db_, "cannot delete baseline",
                                  "DELETE FROM baselines WHERE name = ? AND host_id = "
                                  "(SELECT id FROM hosts WHERE name = ?)",
                                  name, host));
  if (removed == 0) {
    return make_error(ErrorCode::NotFound, "no baseline named '" + name + "' for host " + host);
  }
  return {};
}

Result<std::optional<baseline::ExportMark>> Store::newest_export(const std::string& host,
                                                                 const std::string& name,
                                                                 const std::string& key_id) {
  std::optional<baseline::ExportMark> out;
  CATENA_TRY(
      bool found,
      first_row(
          db_, "cannot read baseline exports",
          "SELECT sequence, exported_ns FROM baseline_exports WHERE host = ? AND name = ? "
          "AND key_id = ?",
          [&](const Statement& row) {
            out = baseline::ExportMark{host, name, key_id, row.column_int(0), row.column_int(1)};
          },
          host, name, key_id));
  (void)found;
  return out;
}

Status Store::remember_export(const baseline::ExportMark& mark) {
  CATENA_TRY_STATUS(run(db_, "cannot store a baseline export",
                        "INSERT INTO baseline_exports(host, name, key_id, sequence, exported_ns) "
                        "VALUES(?, ?, ?, ?, ?) ON CONFLICT(host, name, key_id) DO UPDATE SET "
                        "sequence = excluded.sequence, exported_ns = excluded.exported_ns "
                        "WHERE excluded.sequence > baseline_exports.sequence",
                        mark.host, mark.name, mark.key_id, mark.sequence, mark.exported_ns));
  return {};
}

Result<std::unordered_map<std::string, int64_t>> Store::newest_releases(const std::string& system) {
  std::unordered_map<std::string, int64_t> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read archive releases",
      "SELECT release, date_ns FROM archive_releases WHERE system = ?",
      [&](const Statement& row) { out.emplace(row.column_text(0), row.column_int(1)); }, system));
  return out;
}

Status Store::remember_releases(std::span<const pkg::ReleaseMark> marks) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  for (const pkg::ReleaseMark& mark : marks) {
    CATENA_TRY_STATUS(run(db_, "cannot store an archive release",
                          "INSERT INTO archive_releases(system, release, date_ns) VALUES(?, ?, ?) "
                          "ON CONFLICT(system, release) DO UPDATE SET date_ns = excluded.date_ns "
                          "WHERE excluded.date_ns > archive_releases.date_ns",
                          mark.system, mark.release, mark.date_ns));
  }
  return txn.commit();
}

}  // namespace catena::store
