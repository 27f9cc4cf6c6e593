#include "catena/audit/packages.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <string_view>
#include <unordered_map>

#include "catena/core/time.hpp"

namespace catena::audit {
namespace {

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// As for scans (ScanOptions::racy_window_ns): a digest read within a clock tick or two of the
// file's last change may describe content that changed again without changing the times.
constexpr int64_t kRacyWindowNs = 2'000'000'000;

class StoredDigests final : public pkg::KnownDigests {
 public:
  explicit StoredDigests(std::string prefix) : prefix_(std::move(prefix)) {}
  void add(scan::StatDigest&& digest) {
    // A later source (the scan of this run) replaces an older record of the same path. The key
    // views the record's own path (a node's value never moves).
    by_path_.erase(std::string_view(digest.path));
    auto node = std::make_unique<scan::StatDigest>(std::move(digest));
    const std::string_view key = node->path;
    by_path_.emplace(key, std::move(node));
  }
  std::optional<Md5> md5(const std::string& path, const struct stat& st) const override {
    const std::string full = prefix_.empty() ? std::string() : prefix_ + path;
    auto it = by_path_.find(prefix_.empty() ? std::string_view(path) : std::string_view(full));
    if (it == by_path_.end()) return std::nullopt;
    const scan::StatDigest& d = *it->second;
    if (d.device != st.st_dev || d.inode != st.st_ino ||
        d.size != static_cast<uint64_t>(st.st_size) || d.mtime_ns != to_ns(st.st_mtim) ||
        d.ctime_ns != to_ns(st.st_ctim) ||
        std::max(d.mtime_ns, d.ctime_ns) + kRacyWindowNs >= d.recorded_ns) {
      return std::nullopt;
    }
    return d.md5;
  }
  size_t size() const { return by_path_.size(); }

 private:
  std::string prefix_;  // the root the verified paths are relative to ("" for /)
  std::unordered_map<std::string_view, std::unique_ptr<scan::StatDigest>> by_path_;
};

bool under(std::string_view path, std::string_view dir) {
  if (dir == "/") return path.starts_with('/');
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

}  // namespace

void ScanHarvest::add(const scan::SeenFile& seen) {
  const scan::FileRecord& file = seen.record;
  if (file.type != scan::FileType::Regular) return;
  if (file.md5 && !file.changed) {
    digests.push_back({.path = file.path,
                       .device = file.device,
                       .inode = file.inode,
                       .size = file.size,
                       .mtime_ns = file.mtime_ns,
                       .ctime_ns = file.ctime_ns,
                       .md5 = *file.md5,
                       .recorded_ns = seen.read_ns});
  }
  if (!seen.owners_known) {
    owners_missing_ = true;
    unowned.clear();
  }
  if (owners_missing_ || !seen.package.empty()) return;
  for (const std::string& dir : tool_dirs_) {
    if (!under(file.path, dir)) continue;
    if (auto f = pkg::unowned_executable(file.path, file.mode, file.size, file.uid, file.format,
                                         file.sha256)) {
      unowned.push_back(std::move(*f));
    }
    return;
  }
}

std::vector<std::string> covered_tool_dirs(const scan::ScanOptions& scan) {
  std::vector<std::string> out;
  // An exclusion could leave out any file: then the package step looks for itself.
  if (!scan.excludes.empty() || scan.exclude_path) return out;
  for (const std::string& dir : pkg::system_tool_dirs("/", false)) {
    for (std::string root : scan.roots) {
      while (root.size() > 1 && root.back() == '/') root.pop_back();
      if (root == dir || under(dir, root)) {
        out.push_back(dir);
        break;
      }
    }
  }
  return out;
}

Result<pkg::VerifyReport> verify_packages_with_store(scan::ScanStore& store,
                                                     const std::string& host,
                                                     ScanHarvest* harvest,
                                                     pkg::VerifyOptions options,
                                                     bool full) {
  // Records are by absolute path on this host: a root's files are recorded under the root.
  std::string prefix = options.location.root;
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  StoredDigests known(prefix);
  if (!full) {
    CATENA_TRY_STATUS(
        store.for_each_stat_digest(host, [&](scan::StatDigest&& d) { known.add(std::move(d)); }));
    if (harvest != nullptr) {
      for (scan::StatDigest& d : harvest->digests) known.add(std::move(d));
      harvest->digests.clear();
    }
    options.known = &known;
  }
  const bool unowned = options.unowned && options.packages.empty();
  if (harvest != nullptr) options.unowned_judged = harvest->tool_dirs();
  const int64_t started_ns = now_ns();
  CATENA_TRY(pkg::VerifyReport report, pkg::verify_packages(options));
  std::vector<scan::StatDigest> read;
  read.reserve(report.hashed.size());
  for (const pkg::HashedFile& h : report.hashed) {
    read.push_back({.path = prefix + h.path,
                    .device = static_cast<uint64_t>(h.st.st_dev),
                    .inode = static_cast<uint64_t>(h.st.st_ino),
                    .size = static_cast<uint64_t>(h.st.st_size),
                    .mtime_ns = to_ns(h.st.st_mtim),
                    .ctime_ns = to_ns(h.st.st_ctim),
                    .md5 = h.md5,
                    .recorded_ns = started_ns});
  }
  if (!read.empty()) CATENA_TRY_STATUS(store.put_stat_digests(host, read));
  report.hashed.clear();
  if (harvest != nullptr && unowned && !harvest->owners_missing()) {
    for (Finding& f : harvest->unowned) {
      if (options.on_finding) {
        options.on_finding(std::move(f));
      } else {
        report.findings.push_back(std::move(f));
      }
    }
    harvest->unowned.clear();
    sort_findings(report.findings);
  }
  return report;
}

}  // namespace catena::audit
