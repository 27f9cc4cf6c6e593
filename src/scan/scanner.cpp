#include "catena/scan/scanner.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "catena/core/time.hpp"
#include "engine.hpp"
#include "walker.hpp"

namespace catena::scan {
namespace {

// Scans of one host share records when they walk the same roots the same way.
std::string series_key(const ScanOptions& options, const std::vector<Root>& roots) {
  // An exclusion by callback cannot be compared between runs unless its caller names it.
  if (options.exclude_path && options.exclude_key.empty()) return {};
  nlohmann::json key = nlohmann::json::array();
  nlohmann::json root_list = nlohmann::json::array();
  for (const Root& root : roots) root_list.push_back({root.path, root.canonical});
  key.push_back(std::move(root_list));
  key.push_back(options.excludes);
  key.push_back(options.exclude_key);
  key.push_back(options.one_file_system);
  key.push_back(options.xattrs);
  const std::string text = key.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return "files:" + to_hex(sha256_of(std::as_bytes(std::span(text))));
}

// Whether a fresh record says nothing its reference does not: then nothing is written. A racy
// reference is rewritten, so that the new record (taken later) is no longer racy.
bool same_record(const scan::ReferenceFile& reference,
                 const FileRecord& r,
                 int64_t racy_window_ns) {
  const FileRecord& ref = reference.record;
  return reference.from_complete_scan && !ref.changed && !r.changed &&
         !racy(reference, racy_window_ns) && ref.type == r.type && ref.size == r.size &&
         ref.mode == r.mode && ref.uid == r.uid && ref.gid == r.gid && ref.mtime_ns == r.mtime_ns &&
         ref.ctime_ns == r.ctime_ns && ref.inode == r.inode && ref.device == r.device &&
         ref.sha256 == r.sha256 && ref.package == r.package && ref.xattrs == r.xattrs &&
         (r.type != FileType::Symlink || ref.link_target == r.link_target) && (!r.md5 || ref.md5) &&
         (!r.sha1 || ref.sha1);
}

}  // namespace

Result<ScanSummary> run_scan(ScanStore& store,
                             const ScanOptions& options,
                             const ScanMeta& meta,
                             ScanSummary* summary_on_interrupt) {
  if (options.roots.empty()) return make_error(ErrorCode::Usage, "no paths to scan");
  CATENA_TRY(const std::vector<Root> roots, resolve_roots(options.roots, MissingRoot::Error));

  ScanSummary summary;
  summary.host = meta.host.empty() ? host_name() : meta.host;
  summary.started_ns = now_ns();
  for (const Root& root : roots) summary.roots.push_back(root.path);
  const int64_t started_mono = monotonic_ns();

  scan::NewScan new_scan{.host = summary.host,
                         .kind = meta.kind,
                         .started_ns = summary.started_ns,
                         .catena_version = CATENA_VERSION,
                         .arguments = meta.arguments,
                         .roots = summary.roots,
                         .digests = std::string("sha256") +
                                    ((options.digests & DigestSet::kMd5) ? ",md5" : "") +
                                    ((options.digests & DigestSet::kSha1) ? ",sha1" : ""),
                         .series_key = series_key(options, roots)};
  // A full pass reads every file: asked for, due (full_every), or none has completed yet.
  bool full_pass = options.full || new_scan.series_key.empty();
  if (!full_pass) {
    CATENA_TRY(const std::optional<int64_t> last_full,
               store.last_full_pass_ns(summary.host, new_scan.series_key));
    full_pass = !last_full || (options.full_every_ns > 0 &&
                               summary.started_ns - *last_full > options.full_every_ns);
  }
  new_scan.full_pass = full_pass;
  summary.full_pass = full_pass;
  CATENA_TRY(summary.scan_id, store.begin_scan(new_scan));

  unsigned jobs = options.jobs;
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());

  // The series' records: unchanged files are not written again, and (unless this is a full
  // pass) not read again either.
  Reference reference;
  std::map<std::string, uint32_t> analysis_ids;
  auto loaded = store.reference_files(summary.scan_id);
  if (!loaded) {
    (void)store.finish_scan(summary.scan_id, summary.totals, scan::ScanStatus::Failed);
    return tl::unexpected(loaded.error());
  }
  reference.files = std::move(*loaded);
  reference.analysis_of.reserve(reference.files.size());
  for (scan::ReferenceFile& file : reference.files) {
    auto [it, added] =
        analysis_ids.emplace(file.analysis, static_cast<uint32_t>(reference.components.size()));
    if (added) reference.components.push_back(split_components(file.analysis));
    reference.analysis_of.push_back(it->second);
    file.analysis = std::string();  // held once per distinct analysis, in `components`
  }
  reference.by_path.reserve(reference.files.size());
  for (size_t i = 0; i < reference.files.size(); ++i) {
    reference.by_path.emplace(reference.files[i].record.path, i);
  }
  Engine engine(options.analysis_max_bytes);
  engine.sparse_left = options.sparse_budget_bytes;
  engine.reference = &reference;
  engine.reuse = !full_pass;
  engine.components = content::analyser_components(analysis_inputs(options));
  auto remembered = store.for_each_analysed_content(
      [&](scan::AnalysedContent&& facts) { engine.memory.add_stored(std::move(facts)); });
  if (!remembered) {
    (void)store.finish_scan(summary.scan_id, summary.totals, scan::ScanStatus::Failed);
    return tl::unexpected(remembered.error());
  }
  std::vector<bool> seen(reference.files.size(), false);

  ResultQueue results;
  Walker walker(options, results, engine);
  for (const Root& root : roots) walker.add_root(root);
  std::thread workers([&] {
    walker.run(jobs);
    results.close();
  });

  // The writer: this thread commits batches until the workers are done.
  const pkg::PackageOwners* owners = options.owners;
  bool owners_loaded = owners != nullptr || !options.owners_loader;
  std::optional<Error> store_error;
  std::vector<Item> batch;
  std::vector<scan::FileChange> changes;
  std::vector<scan::AnalysedContent> analysed;
  // Findings go to the store with their batch and are counted; none is held after it.
  std::vector<Finding> batch_findings;
  FindingCounts counts;
  int64_t last_progress = 0;
  bool more = true;
  while (more) {
    batch.clear();
    more = results.pop_some(batch, 100);
    changes.clear();
    analysed.clear();
    batch_findings.clear();
    if (!owners_loaded && !batch.empty()) {
      owners = options.owners_loader();
      owners_loaded = true;
    }
    for (Item& item : batch) {
      if (item.error) ++summary.totals.errors;
      const scan::ReferenceFile* ref =
          item.reference == kNoReference ? nullptr : &reference.files[item.reference];
      if (ref != nullptr) seen[item.reference] = true;
      if (item.reused) {
        if (ref->record.type == FileType::Regular) {
          ++summary.totals.files;
          summary.totals.bytes += ref->record.size;
        }
        // The file is as it was; its owner may not be (a package installed or removed).
        const std::string package =
            owners != nullptr ? owners->owner_of(item.canonical_path) : ref->record.package;
        if (options.on_file) {
          options.on_file({.record = ref->record,
                           .package = package,
                           .owners_known = owners != nullptr,
                           .read_ns = ref->recorded_ns});
        }
        if (package != ref->record.package) {
          changes.push_back({.record = ref->record, .replaces = ref->row});
          changes.back().record.package = package;
        }
      } else if (item.record) {
        FileRecord& record = *item.record;
        if (owners != nullptr) record.package = owners->owner_of(item.canonical_path);
        if (record.type == FileType::Regular && record.sha256) {
          ++summary.totals.files;
          summary.totals.bytes += record.size;
        }
        if (options.on_file) {
          options.on_file({.record = record,
                           .package = record.package,
                           .owners_known = owners != nullptr,
                           .read_ns = summary.started_ns});
        }
        if (ref == nullptr || !same_record(*ref, record, options.racy_window_ns)) {
          changes.push_back({.record = std::move(record), .replaces = ref ? ref->row : 0});
        }
      }
      if (item.analysed) analysed.push_back(std::move(*item.analysed));
      for (Finding& f : item.findings) {
        counts.add(f.severity);
        batch_findings.push_back(std::move(f));
      }
    }
    if (!store_error && (!changes.empty() || !analysed.empty() || !batch_findings.empty())) {
      auto added = store.add_changes(summary.scan_id, changes, {}, batch_findings, analysed);
      if (!added) {
        store_error = added.error();
        walker.stop();
        results.abandon();
      }
    }
    const int64_t now = monotonic_ns();
    if (options.on_progress && now - last_progress >= 100'000'000) {
      last_progress = now;
      options.on_progress(Progress{summary.totals.files, summary.totals.bytes, now - started_mono});
    }
  }
  workers.join();

  const bool interrupted = options.cancel != nullptr && options.cancel->load();
  // A complete walk saw every file of the series that still exists: the others are gone. A walk
  // that could not look everywhere (depth, descriptors) knows nothing of what it missed.
  summary.totals.incomplete = walker.incomplete();
  summary.peak_queued_files = walker.peak_queued_files();
  if (!store_error && !interrupted && !summary.totals.incomplete) {
    std::vector<int64_t> gone;
    for (size_t i = 0; i < seen.size(); ++i) {
      if (!seen[i]) gone.push_back(reference.files[i].row);
    }
    if (!gone.empty()) {
      auto closed = store.add_changes(summary.scan_id, {}, gone, {});
      if (!closed) store_error = closed.error();
    }
  }
  summary.totals.files_read = engine.files_read.load();
  summary.totals.files_reused = engine.files_reused.load();
  for (size_t i = 0; i < content::kAnalyserCount; ++i) {
    if (!engine.components[i].empty()) {
      summary.analyser_runs.emplace_back(std::string(content::analyser_name(i)),
                                         engine.runs[i].load());
    }
  }
  summary.totals.finished_ns = now_ns();
  summary.status = store_error   ? scan::ScanStatus::Failed
                   : interrupted ? scan::ScanStatus::Interrupted
                                 : scan::ScanStatus::Complete;
  summary.findings = stored_findings(store, summary.scan_id, counts);
  auto finished = store.finish_scan(summary.scan_id, summary.totals, summary.status);
  if (store_error) return tl::unexpected(*store_error);
  if (!finished) return tl::unexpected(finished.error());
  if (options.on_progress) {
    options.on_progress(
        Progress{summary.totals.files, summary.totals.bytes, monotonic_ns() - started_mono});
  }
  if (interrupted) {
    if (summary_on_interrupt != nullptr) *summary_on_interrupt = summary;
    return make_error(ErrorCode::Interrupted, "interrupted; scan " +
                                                  std::to_string(summary.scan_id) +
                                                  " is recorded as incomplete with " +
                                                  std::to_string(summary.totals.files) + " files");
  }
  return summary;
}

}  // namespace catena::scan
