// release::InspectionCache: what release inspection found inside release files.
#include "catena/core/time.hpp"
#include "catena/store/store.hpp"
#include "sqlite.hpp"

namespace catena::store {

std::optional<std::string> Store::get_part(const Sha256& content, const std::string& key) {
  const std::lock_guard lock(parts_mutex_);
  std::optional<std::string> out;
  auto found = first_row(
      db_, "cannot read a release part",
      "SELECT value FROM release_parts WHERE sha256 = ? AND key = ?",
      [&](const Statement& row) { out = row.column_text(0); }, content, key);
  if (!found) return std::nullopt;  // unreadable: inspect the file again
  return out;
}

void Store::put_part(const Sha256& content, const std::string& key, std::string_view value) {
  const std::lock_guard lock(parts_mutex_);
  // A read-only store, or one that cannot be written now, keeps nothing: the cache only saves
  // time, and the inspection it would have kept is already complete.
  (void)run(db_, "cannot keep a release part",
            "INSERT INTO release_parts(sha256, key, value, stored_ns) VALUES(?, ?, ?, ?) "
            "ON CONFLICT(sha256, key) DO UPDATE SET value = excluded.value, "
            "stored_ns = excluded.stored_ns",
            content, key, Blob{value}, now_ns());
}

}  // namespace catena::store
