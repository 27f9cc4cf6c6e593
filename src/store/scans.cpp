// scan::ScanStore: scans, their series and file records, findings, contents and their facts.
#include <sqlite3.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "sqlite.hpp"

namespace catena::store {

Result<int64_t> Store::begin_scan(const NewScan& scan) {
  if (scan_lock_fd_ < 0) {
    scan_lock_fd_ = open_lock_file(path_);
    if (scan_lock_fd_ >= 0) ofd_lock(scan_lock_fd_, F_RDLCK, kScanByte, true);
  }
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  CATENA_TRY(int64_t host, host_id(scan.host));
  CATENA_TRY_STATUS(run(db_, "cannot record scan",
                        "INSERT INTO scans(host_id, kind, started_ns, catena_version, arguments, "
                        "roots, status, digests, full_pass) "
                        "VALUES(?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                        host, scan.kind, scan.started_ns, scan.catena_version,
                        encode_string_list(scan.arguments), encode_string_list(scan.roots),
                        scan.digests, scan.full_pass));
  const int64_t id = sqlite3_last_insert_rowid(db_);
  // Two live scans of one series would both replace the same records: the second (and a scan
  // without a key) gets a series of its own. Scans of dead processes were marked interrupted
  // when the store was opened, so a running one here is alive.
  std::string key = scan.series_key.empty() ? "scan:" + std::to_string(id) : scan.series_key;
  if (!scan.series_key.empty()) {
    int64_t running = 0;
    CATENA_TRY_STATUS(first_row(
        db_, "cannot record scan",
        "SELECT count(*) FROM scans s JOIN scan_series r ON r.id = s.series_id "
        "WHERE r.host_id = ? AND r.key = ? AND s.status = 'running'",
        [&](const Statement& row) { running = row.column_int(0); }, host, key));
    if (running > 0) key = "scan:" + std::to_string(id);
  }
  // The RETURNING statement is finalised by first_row: one left mid-step would keep the commit
  // from finishing.
  int64_t series_id = 0;
  CATENA_TRY(const bool series,
             first_row(
                 db_, "cannot record scan series",
                 "INSERT INTO scan_series(host_id, key) VALUES(?, ?) "
                 "ON CONFLICT(host_id, key) DO UPDATE SET key = excluded.key RETURNING id",
                 [&](const Statement& row) { series_id = row.column_int(0); }, host, key));
  if (!series) return make_error(ErrorCode::Db, "cannot record scan series");
  CATENA_TRY_STATUS(
      run(db_, "cannot record scan", "UPDATE scans SET series_id = ? WHERE id = ?", series_id, id));
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
    CATENA_TRY_STATUS(run_again(db_, put, "cannot record digests", host_key, Blob{d.path}, d.device,
                                d.inode, d.size, d.mtime_ns, d.ctime_ns, d.md5, d.recorded_ns));
  }
  return txn.commit();
}

Status Store::for_each_stat_digest(const std::string& host,
                                   const std::function<void(StatDigest&&)>& visit) {
  return for_each_row(
      db_, "cannot read digests",
      "SELECT d.path, d.device, d.inode, d.size, d.mtime_ns, d.ctime_ns, d.md5, d.recorded_ns "
      "FROM stat_digests d JOIN hosts h ON h.id = d.host_id WHERE h.name = ?",
      [&](const Statement& row) {
        const auto md5 = row.column_digest<16>(6);
        if (!md5) return;
        visit(StatDigest{.path = row.column_text(0),
                         .device = static_cast<uint64_t>(row.column_int(1)),
                         .inode = static_cast<uint64_t>(row.column_int(2)),
                         .size = static_cast<uint64_t>(row.column_int(3)),
                         .mtime_ns = row.column_int(4),
                         .ctime_ns = row.column_int(5),
                         .md5 = *md5,
                         .recorded_ns = row.column_int(7)});
      },
      host);
}

Result<std::optional<int64_t>> Store::last_full_pass_ns(const std::string& host,
                                                        const std::string& series_key) {
  std::optional<int64_t> last;
  CATENA_TRY_STATUS(first_row(
      db_, "cannot read scans",
      "SELECT max(s.started_ns) FROM scans s JOIN scan_series r ON r.id = s.series_id "
      "JOIN hosts h ON h.id = r.host_id "
      "WHERE h.name = ? AND r.key = ? AND s.full_pass = 1 AND s.status = 'complete' "
      "AND s.incomplete = 0",
      [&](const Statement& row) {
        if (!row.column_is_null(0)) last = row.column_int(0);
      },
      host, series_key));
  return last;
}

Result<std::vector<ReferenceFile>> Store::reference_files(int64_t scan_id) {
  // Two sequential reads instead of a join: a join looks each record's content up in the
  // contents table, a random B-tree descent per record (0.55 s of SQLite's time for 146,000
  // records on this machine, against 0.13 s for the two reads); then the contents table is
  // read once, in its own order.
  constexpr std::string_view kFrom =
      "FROM scans s JOIN files f ON f.series_id = s.series_id "
      "JOIN scans w ON w.id = f.scan_id "
      "WHERE s.id = ? AND f.until_scan_id IS NULL AND f.scan_id < s.id";
  std::vector<ReferenceFile> files;
  CATENA_TRY_STATUS(first_row(
      db_, "cannot read the reference scan", "SELECT count(*) " + std::string(kFrom),
      [&](const Statement& row) { files.reserve(static_cast<size_t>(row.column_int(0))); },
      scan_id));
  // (first 8 bytes of the content's digest, record) pairs, sorted: a lookup compares
  // integers, and the whole digest only on a match (a digest is uniformly random).
  std::vector<std::pair<uint64_t, uint32_t>> by_content;
  by_content.reserve(files.capacity());
  const std::string_view complete = scan_status_name(ScanStatus::Complete);
  // Only records written by an earlier scan: the scan's own are not a reference for itself.
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read the reference scan",
      "SELECT f.id, f.path, f.type, f.size, f.mode, f.uid, f.gid, f.mtime_ns, "
      "f.ctime_ns, f.inode, f.device, f.sha256, f.package, f.xattrs, "
      "f.changed, w.status, f.link_target, w.started_ns " +
          std::string(kFrom),
      [&](const Statement& stmt) {
        ReferenceFile& ref = files.emplace_back();
        ref.row = stmt.column_int(0);
        FileRecord& r = ref.record;
        r.path = stmt.column_text(1);
        r.type = parse_file_type(stmt.column_view(2));
        r.size = static_cast<uint64_t>(stmt.column_int(3));
        r.mode = static_cast<uint32_t>(stmt.column_int(4));
        r.uid = static_cast<uint32_t>(stmt.column_int(5));
        r.gid = static_cast<uint32_t>(stmt.column_int(6));
        r.mtime_ns = stmt.column_int(7);
        r.ctime_ns = stmt.column_int(8);
        r.inode = static_cast<uint64_t>(stmt.column_int(9));
        r.device = static_cast<uint64_t>(stmt.column_int(10));
        r.sha256 = stmt.column_digest<32>(11);
        r.package = stmt.column_text(12);
        r.xattrs = stmt.column_text(13);
        r.changed = stmt.column_int(14) != 0;
        ref.from_complete_scan = stmt.column_view(15) == complete;
        r.link_target = stmt.column_text(16);
        ref.recorded_ns = stmt.column_int(17);
        if (r.sha256) {
          by_content.emplace_back(DigestHash{}(*r.sha256), static_cast<uint32_t>(files.size() - 1));
        }
      },
      scan_id));
  if (by_content.empty()) return files;
  std::sort(by_content.begin(), by_content.end());
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read contents", "SELECT sha256, md5, sha1, analysis, format FROM contents",
      [&](const Statement& row) {
        const auto sha256 = row.column_digest<32>(0);
        if (!sha256) return;
        const uint64_t key = DigestHash{}(*sha256);
        auto it = std::lower_bound(by_content.begin(), by_content.end(),
                                   std::pair<uint64_t, uint32_t>(key, 0));
        if (it == by_content.end() || it->first != key) return;
        const auto md5 = row.column_digest<16>(1);
        const auto sha1 = row.column_digest<20>(2);
        for (; it != by_content.end() && it->first == key; ++it) {
          ReferenceFile& file = files[it->second];
          if (file.record.sha256 != sha256) continue;
          file.record.md5 = md5;
          file.record.sha1 = sha1;
          file.record.format = row.column_text(4);
          file.analysis = row.column_text(3);
        }
      }));
  return files;
}

Status Store::for_each_analysed_content(const std::function<void(AnalysedContent&&)>& visit) {
  return for_each_row(
      db_, "cannot read contents",
      "SELECT sha256, analysis, findings FROM contents WHERE analysis IS NOT NULL AND "
      "(findings IS NOT NULL OR format IN ('elf', 'pe', 'macho', 'macho_fat', 'msi'))",
      [&](const Statement& row) {
        AnalysedContent facts;
        const auto sha256 = row.column_digest<32>(0);
        if (!sha256) return;
        facts.sha256 = *sha256;
        facts.analysis = row.column_text(1);
        if (!row.column_is_null(2)) {
          const auto parsed = nlohmann::json::parse(row.column_text(2), nullptr, false);
          // Facts that cannot be read back are as good as none: the content is analysed again.
          if (!parsed.is_array()) return;
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
      });
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
                          std::span<const AnalysedContent> analysed) {
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
                          std::span<const AnalysedContent> analysed) {
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
  const auto close_row = [&](int64_t row) {
    return run_again(db_, close, "cannot close record", scan_id, row);
  };
  // What is empty is stored as NULL.
  const auto text_or_null = [](std::string_view text) {
    return text.empty() ? std::nullopt : std::optional<std::string_view>(text);
  };
  const int64_t now = now_ns();
  // A content's facts go with its first record of the batch (one statement, not two); the facts
  // of a content no record of the batch carries are updated on their own below.
  std::unordered_map<Sha256, const AnalysedContent*, DigestHash> facts_of;
  for (const AnalysedContent& fact : analysed) facts_of.emplace(fact.sha256, &fact);
  const auto findings_text = [](const AnalysedContent& fact) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& [analyser, f] : fact.findings) items.push_back(encode_finding(analyser, f));
    return items.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  for (size_t i = 0; i < count; ++i) {
    const FileRecord& r = record_at(i);
    if (r.sha256) {
      std::optional<std::string_view> analysis;
      std::optional<std::string> analysis_findings;
      const auto fact = facts_of.find(*r.sha256);
      if (fact != facts_of.end() && fact->second != nullptr) {
        analysis = fact->second->analysis;
        if (!fact->second->findings.empty()) analysis_findings = findings_text(*fact->second);
        fact->second = nullptr;  // stored
      }
      CATENA_TRY_STATUS(run_again(db_, content, "cannot store content", r.sha256, r.size, r.format,
                                  r.md5, r.sha1, now, text_or_null(r.signature),
                                  text_or_null(r.details), analysis, analysis_findings));
    }
    if (const int64_t replaced = replaces_at(i); replaced != 0) {
      CATENA_TRY_STATUS(close_row(replaced));
    }
    const std::optional<Blob> link_target =
        r.type == FileType::Symlink ? std::optional<Blob>(Blob{r.link_target}) : std::nullopt;
    const std::optional<Blob> xattrs =
        r.xattrs.empty() ? std::nullopt : std::optional<Blob>(Blob{r.xattrs});
    CATENA_TRY_STATUS(run_again(db_, file, "cannot store file record", scan_id, Blob{r.path},
                                file_type_name(r.type), r.size, r.mode, r.uid, r.gid, r.mtime_ns,
                                r.ctime_ns, r.inode, r.device, r.sha256, r.package, link_target,
                                r.changed, xattrs, series_id));
  }
  for (const int64_t row : closed) CATENA_TRY_STATUS(close_row(row));
  for (const AnalysedContent& fact : analysed) {
    if (facts_of.at(fact.sha256) == nullptr) continue;
    const std::optional<std::string> fact_findings =
        fact.findings.empty() ? std::nullopt : std::optional<std::string>(findings_text(fact));
    CATENA_TRY_STATUS(
        run_again(db_, facts, "cannot store facts", fact.analysis, fact_findings, fact.sha256));
  }
  for (const Finding& f : findings) {
    CATENA_TRY_STATUS(run_again(db_, finding, "cannot store finding", scan_id, f.rule,
                                severity_name(f.severity), Blob{f.path}, f.sha256, f.message,
                                encode_evidence(f).dump()));
  }
  return txn.commit();
}

Status Store::finish_scan(int64_t scan_id, const ScanTotals& totals, ScanStatus status) {
  CATENA_TRY(
      const int64_t changed,
      run(db_, "cannot finish scan",
          "UPDATE scans SET finished_ns = ?, status = ?, files = ?, bytes = ?, errors = ?, "
          "files_read = ?, files_reused = ?, incomplete = ? WHERE id = ?",
          totals.finished_ns, scan_status_name(status), totals.files, totals.bytes, totals.errors,
          totals.files_read, totals.files_reused, totals.incomplete, scan_id));
  if (changed != 1) {
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
  std::optional<Result<ScanRecord>> out;
  CATENA_TRY(bool found, first_row(
                             db_, "cannot read scan",
                             std::string("SELECT ") + std::string(kScanColumns) +
                                 " FROM scans s JOIN hosts h ON h.id = s.host_id WHERE s.id = ?",
                             [&](const Statement& row) { out = read_scan_columns(row); }, scan_id));
  if (!found) return make_error(ErrorCode::NotFound, "no scan " + std::to_string(scan_id));
  return std::move(*out);
}

Result<std::optional<int64_t>> Store::latest_scan_id() {
  std::optional<int64_t> out;
  CATENA_TRY_STATUS(
      first_row(db_, "cannot read scans", "SELECT max(id) FROM scans", [&](const Statement& row) {
        if (!row.column_is_null(0)) out = row.column_int(0);
      }));
  return out;
}

Result<std::vector<ScanRecord>> Store::list_scans() {
  std::vector<ScanRecord> out;
  CATENA_TRY_STATUS(for_each_row(db_, "cannot read scans",
                                 std::string("SELECT ") + std::string(kScanColumns) +
                                     " FROM scans s JOIN hosts h ON h.id = s.host_id ORDER BY s.id",
                                 [&](const Statement& row) -> Status {
                                   CATENA_TRY(ScanRecord record, read_scan_columns(row));
                                   out.push_back(std::move(record));
                                   return {};
                                 }));
  return out;
}

Status Store::for_each_file(int64_t scan_id, const std::function<void(const FileRecord&)>& visit) {
  return for_each_row(
      db_, "cannot read files",
      std::string("SELECT ") + std::string(kFileColumns) + " FROM scans s JOIN files f ON " +
          std::string(kFilesOfScan) +
          " LEFT JOIN contents c ON c.sha256 = f.sha256 "
          "WHERE s.id = ? ORDER BY f.path",
      [&](const Statement& row) { visit(read_file_columns(row, 0)); }, scan_id);
}

Status Store::for_each_finding(int64_t scan_id, const std::function<void(const Finding&)>& visit) {
  // SQLite sorts in its temporary store, which spills to disk: a scan's findings are never
  // all in memory, here or in the caller.
  return for_each_row(
      db_, "cannot read findings",
      "SELECT rule, severity, path, sha256, message, evidence FROM findings WHERE scan_id = ? "
      "ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 "
      "WHEN 'low' THEN 3 ELSE 4 END, rule, path, id",
      [&](const Statement& row) -> Status {
        Finding f;
        f.rule = row.column_text(0);
        CATENA_TRY(f.severity, parse_severity(row.column_text(1)));
        f.path = row.column_text(2);
        f.sha256 = row.column_digest<32>(3);
        f.message = row.column_text(4);
        decode_evidence(nlohmann::json::parse(row.column_text(5), nullptr, false), f);
        visit(f);
        return {};
      },
      scan_id);
}

Result<FindingCounts> Store::finding_counts(int64_t scan_id) {
  FindingCounts counts;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read findings",
      "SELECT severity, count(*) FROM findings WHERE scan_id = ? GROUP BY severity",
      [&](const Statement& row) -> Status {
        CATENA_TRY(const Severity severity, parse_severity(row.column_text(0)));
        const auto n = static_cast<uint64_t>(row.column_int(1));
        counts.total += n;
        counts.by_severity[static_cast<size_t>(severity)] += n;
        return {};
      },
      scan_id));
  return counts;
}

Result<std::vector<Occurrence>> Store::find_by_sha256(const Sha256& sha256) {
  std::vector<Occurrence> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot search files",
      std::string("SELECT s.id, h.name, s.started_ns, s.status, ") + std::string(kFileColumns) +
          " FROM files f JOIN scans s ON s.id = f.scan_id "
          "JOIN hosts h ON h.id = s.host_id "
          "LEFT JOIN contents c ON c.sha256 = f.sha256 "
          "WHERE f.sha256 = ? ORDER BY s.started_ns, s.id, f.path",
      [&](const Statement& row) -> Status {
        Occurrence o;
        o.scan_id = row.column_int(0);
        o.host = row.column_text(1);
        o.scan_started_ns = row.column_int(2);
        CATENA_TRY(o.scan_status, parse_status(row.column_text(3)));
        o.file = read_file_columns(row, 4);
        out.push_back(std::move(o));
        return {};
      },
      sha256));
  return out;
}

Result<std::optional<std::string>> Store::content_format(const Sha256& sha256) {
  std::optional<std::string> format;
  CATENA_TRY_STATUS(first_row(
      db_, "cannot read contents", "SELECT format FROM contents WHERE sha256 = ?",
      [&](const Statement& row) { format = row.column_text(0); }, sha256));
  return format;
}

Result<std::optional<ScanRecord>> Store::latest_scan_of_host(const std::string& host) {
  std::optional<Result<ScanRecord>> record;
  CATENA_TRY_STATUS(first_row(
      db_, "cannot read scans",
      std::string("SELECT ") + std::string(kScanColumns) +
          " FROM scans s JOIN hosts h ON h.id = s.host_id WHERE h.name = ? "
          "ORDER BY s.started_ns DESC, s.id DESC LIMIT 1",
      [&](const Statement& row) { record = read_scan_columns(row); }, host));
  if (!record) return std::optional<ScanRecord>();
  if (!*record) return tl::unexpected(record->error());
  return std::optional<ScanRecord>(std::move(**record));
}

Result<Sha256> Store::scan_content_digest(int64_t scan_id) {
  std::optional<Sha256> cached;
  bool running = false;
  CATENA_TRY(const bool found,
             first_row(
                 db_, "cannot read scan", "SELECT content_digest, status FROM scans WHERE id = ?",
                 [&](const Statement& row) {
                   cached = row.column_digest<32>(0);
                   running = row.column_text(1) == scan_status_name(ScanStatus::Running);
                 },
                 scan_id));
  if (!found) return make_error(ErrorCode::NotFound, "no scan " + std::to_string(scan_id));
  if (cached) return *cached;
  DigestSet digest(DigestSet::kSha256);
  std::string line;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read files",
      "SELECT f.path, f.sha256 FROM scans s JOIN files f ON " + std::string(kFilesOfScan) +
          " WHERE s.id = ? ORDER BY f.path",
      [&](const Statement& row) {
        line = row.column_text(0);
        line += '\0';
        if (auto sha256 = row.column_digest<32>(1)) line += to_hex(*sha256);
        line += '\n';
        digest.update(std::as_bytes(std::span(line)));
      },
      scan_id));
  const Sha256 out = *digest.finish().sha256;
  // A running scan still gains records: its digest is not kept. A read-only store keeps none,
  // and a failure to keep it costs only its recomputation.
  if (!running && !sqlite3_db_readonly(db_, "main")) {
    (void)run(db_, "cannot keep the scan's digest",
              "UPDATE scans SET content_digest = ? WHERE id = ?", out, scan_id);
  }
  return out;
}

Status Store::put_report_context(int64_t scan_id, std::string_view context) {
  CATENA_TRY(const bool found, first_row(
                                   db_, "cannot read scan", "SELECT 1 FROM scans WHERE id = ?",
                                   [](const Statement&) {}, scan_id));
  if (!found) return make_error(ErrorCode::NotFound, "no scan " + std::to_string(scan_id));
  CATENA_TRY_STATUS(run(db_, "cannot keep the report",
                        "INSERT INTO scan_reports (scan_id, context) VALUES (?, ?) "
                        "ON CONFLICT (scan_id) DO UPDATE SET context = excluded.context",
                        scan_id, std::string(context)));
  return {};
}

Result<std::optional<std::string>> Store::report_context(int64_t scan_id) {
  std::optional<std::string> out;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read the report",
      "SELECT context FROM scans s JOIN scan_reports r ON "
      "r.scan_id = s.id WHERE s.id = ?",
      [&](const Statement& row) { out = row.column_text(0); }, scan_id));
  return out;
}

Result<std::vector<ScanRecord>> Store::scans_without_digest(const std::string& algorithm) {
  std::vector<int64_t> ids;
  CATENA_TRY_STATUS(for_each_row(
      db_, "cannot read scans",
      "SELECT id FROM scans WHERE digests IS NULL OR "
      "(',' || digests || ',') NOT LIKE ? ORDER BY id",
      [&](const Statement& row) { ids.push_back(row.column_int(0)); }, "%," + algorithm + ",%"));
  std::vector<ScanRecord> out;
  for (int64_t id : ids) {
    CATENA_TRY(ScanRecord scan, get_scan(id));
    out.push_back(std::move(scan));
  }
  return out;
}

}  // namespace catena::store
