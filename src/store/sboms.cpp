// sbom::SbomStore: imported SBOMs kept as claims.
#include "catena/core/time.hpp"
#include "catena/store/store.hpp"
#include "sqlite.hpp"

namespace catena::store {

Result<int64_t> Store::put_sbom(const sbom::Bom& bom, const std::string& source) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY_STATUS(run(db_, "cannot store an SBOM",
                        "INSERT INTO sboms(name, format, source, created_ns, imported_ns) "
                        "VALUES(?, ?, ?, ?, ?)",
                        bom.name, bom.format, source, bom.created_ns, now_ns()));
  const int64_t id = sqlite3_last_insert_rowid(db_);
  Statement insert(db_,
                   "INSERT INTO sbom_components(sbom_id, position, ref, kind, name, version, "
                   "supplier, purl, path, sha256, sha1, parent) "
                   "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return db_error(db_, "cannot store an SBOM's components");
  int64_t position = 0;
  for (const sbom::Component& c : bom.components) {
    CATENA_TRY_STATUS(run_again(db_, insert, "cannot store an SBOM's components", id, position++,
                                c.ref, c.kind, c.name, c.version, c.supplier, c.purl, c.path,
                                c.sha256, c.sha1, c.parent));
  }
  CATENA_TRY_STATUS(txn.commit());
  return id;
}

Result<std::vector<sbom::SbomRecord>> Store::list_sboms() {
  std::vector<sbom::SbomRecord> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read SBOMs",
      "SELECT s.id, s.name, s.format, s.source, s.imported_ns, "
      "(SELECT COUNT(*) FROM sbom_components c WHERE c.sbom_id = s.id) FROM sboms s ORDER BY s.id",
      [&](const Statement& row) {
        out.push_back({.id = row.column_int(0),
                       .name = row.column_text(1),
                       .format = row.column_text(2),
                       .source = row.column_text(3),
                       .imported_ns = row.column_int(4),
                       .components = static_cast<uint64_t>(row.column_int(5))});
      }));
  return out;
}

Result<sbom::Bom> Store::get_sbom(int64_t id) {
  sbom::Bom bom;
  CATENA_TRY(const bool found, first_row(
                                   db_, "cannot read an SBOM",
                                   "SELECT name, format, created_ns FROM sboms WHERE id = ?",
                                   [&](const Statement& row) {
                                     bom.name = row.column_text(0);
                                     bom.format = row.column_text(1);
                                     bom.created_ns = row.column_int(2);
                                   },
                                   id));
  if (!found) return make_error(ErrorCode::NotFound, "no SBOM " + std::to_string(id));
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read an SBOM's components",
      "SELECT ref, kind, name, version, supplier, purl, path, sha256, sha1, parent "
      "FROM sbom_components WHERE sbom_id = ? ORDER BY position",
      [&](const Statement& row) {
        bom.components.push_back({.ref = row.column_text(0),
                                  .kind = row.column_text(1),
                                  .name = row.column_text(2),
                                  .version = row.column_text(3),
                                  .supplier = row.column_text(4),
                                  .purl = row.column_text(5),
                                  .path = row.column_text(6),
                                  .sha256 = row.column_digest<32>(7),
                                  .sha1 = row.column_digest<20>(8),
                                  .parent = row.column_text(9)});
      },
      id));
  return bom;
}

Result<std::vector<sbom::Claim>> Store::claims_for(const Sha256& sha256) {
  std::vector<sbom::Claim> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read SBOM claims",
      "SELECT s.id, s.name, c.name, c.version, c.path FROM sbom_components c "
      "JOIN sboms s ON s.id = c.sbom_id WHERE c.sha256 = ? ORDER BY s.id, c.position",
      [&](const Statement& row) {
        out.push_back({.sbom_id = row.column_int(0),
                       .sbom_name = row.column_text(1),
                       .component = row.column_text(2),
                       .version = row.column_text(3),
                       .path = row.column_text(4)});
      },
      sha256));
  return out;
}

}  // namespace catena::store
