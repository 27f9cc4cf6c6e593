#include "catena/scan/scanner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "analysers.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/mapped.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/core/xattr.hpp"
#include "catena/formats/format.hpp"
#include "catena/intel/index.hpp"
#include "checks.hpp"

namespace catena::scan {
namespace {

using store::FileRecord;
using store::FileType;

// Results waiting for the writer; workers block when it falls behind, bounding memory.
constexpr size_t kMaxPendingResults = 8192;
constexpr size_t kWakeWriterItems = 512;

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

FileType file_type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileType::Regular;
  if (S_ISLNK(mode)) return FileType::Symlink;
  if (S_ISFIFO(mode)) return FileType::Fifo;
  if (S_ISSOCK(mode)) return FileType::Socket;
  if (S_ISCHR(mode)) return FileType::CharDevice;
  if (S_ISBLK(mode)) return FileType::BlockDevice;
  return FileType::Other;
}

void fill_metadata(FileRecord& r, const struct stat& st) {
  r.type = file_type_of(st.st_mode);
  r.size = static_cast<uint64_t>(st.st_size);
  r.mode = st.st_mode;
  r.uid = st.st_uid;
  r.gid = st.st_gid;
  r.mtime_ns = to_ns(st.st_mtim);
  r.ctime_ns = to_ns(st.st_ctim);
  r.inode = st.st_ino;
  r.device = st.st_dev;
}

bool same_content_state(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_ino == b.st_ino && a.st_dev == b.st_dev &&
         to_ns(a.st_mtim) == to_ns(b.st_mtim) && to_ns(a.st_ctim) == to_ns(b.st_ctim);
}

// Hashes `size` bytes of `fd` from a read-only mapping.
MapResult hash_mapped(int fd,
                      uint64_t size,
                      DigestSet& digests,
                      ContentFacts& facts,
                      std::vector<Finding>& findings,
                      const std::function<void()>& before_read) {
  constexpr uint64_t kUpdateBytes = 4 << 20;
  const size_t findings_before = findings.size();
  const MapResult result = with_mapping(fd, size, [&](std::span<const std::byte> whole) {
    if (before_read) before_read();
    analyse_content(
        {whole.first(static_cast<size_t>(std::min<uint64_t>(size, formats::kClassifyHeadBytes))),
         whole, size},
        facts, findings);
    for (uint64_t offset = 0; offset < size; offset += kUpdateBytes) {
      digests.update(whole.subspan(static_cast<size_t>(offset),
                                   static_cast<size_t>(std::min(kUpdateBytes, size - offset))));
    }
  });
  if (result == MapResult::Changed) {
    // The digest state is abandoned mid-update; reset() re-initialises it.
    digests.reset();
    findings.resize(findings_before);
  }
  return result;
}

// An open directory. Children are opened relative to its descriptor, so paths longer than
// PATH_MAX work and no path component is re-resolved after the walk has checked it.
struct Dir {
  UniqueFd fd;
  std::string path;
  dev_t device = 0;
  ino_t inode = 0;
  std::shared_ptr<const Dir> parent;
};

struct Entry {
  std::shared_ptr<const Dir> parent;  // nullptr for a root
  std::string name;                   // relative to parent; the full path for a root
  std::string path;
  struct stat st {};
  const Root* root = nullptr;
  dev_t root_device = 0;  // for --one-file-system
};

struct Item {
  std::optional<FileRecord> record;
  std::string canonical_path;  // for the package lookup, done by the writer
  std::vector<Finding> findings;
  bool error = false;
};

// A bounded multi-producer, single-consumer queue that can be closed.
class ResultQueue {
 public:
  void push(Item item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < kMaxPendingResults || abandoned_; });
    if (abandoned_) return;
    items_.push_back(std::move(item));
    // Waking the writer for every file costs a context switch each; it also wakes on its own
    // every 100 ms, so a signal is only needed once a batch is ready.
    if (items_.size() == kWakeWriterItems) not_empty_.notify_one();
  }
  // Waits up to `timeout_ms` for items; returns false once closed and drained.
  bool pop_some(std::vector<Item>& out, int timeout_ms) {
    std::unique_lock lock(mutex_);
    not_empty_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                        [&] { return !items_.empty() || closed_; });
    while (!items_.empty() && out.size() < kBatchRecords) {
      out.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_all();
    return !(closed_ && items_.empty());
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }
  // The consumer gave up (store error): producers must not block forever.
  void abandon() {
    std::lock_guard lock(mutex_);
    abandoned_ = true;
    items_.clear();
    not_full_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Item> items_;
  bool closed_ = false;
  bool abandoned_ = false;
};

class Walker {
 public:
  Walker(const ScanOptions& options, ResultQueue& results) : options_(options), results_(results) {}

  void add_root(const Root& root) {
    Entry entry;
    entry.name = root.path;
    entry.path = root.path;
    entry.root = &root;
    // Roots are followed when they are symlinks, like `find -H`.
    if (::stat(root.path.c_str(), &entry.st) != 0) {
      report_error(root.path, "DIR_UNREADABLE", errno);
      return;
    }
    entry.root_device = entry.st.st_dev;
    if (S_ISDIR(entry.st.st_mode)) {
      dirs_.push_back(std::move(entry));
    } else {
      push_file(std::move(entry));
    }
  }

  void run(unsigned jobs) {
    std::vector<std::thread> threads;
    for (unsigned job_idx = 0; job_idx < jobs; ++job_idx) {
      threads.emplace_back([this] { work(); });
    }
    for (std::thread& thread : threads) thread.join();
  }

  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    wake_.notify_all();
  }

 private:
  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  void work() {
    DigestSet digests(options_.digests | DigestSet::kSha256);
    std::vector<std::byte> buffer(kReadChunkBytes);
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] {
        return stopped_ || cancelled() || !files_.empty() || !dirs_.empty() || active_ == 0;
      });
      if (stopped_ || cancelled()) break;
      if (!files_.empty()) {
        std::pop_heap(files_.begin(), files_.end(), smaller_file);
        Entry entry = std::move(files_.back());
        files_.pop_back();
        ++active_;
        lock.unlock();
        results_.push(read_file(entry, digests, buffer));
        lock.lock();
        --active_;
      } else if (!dirs_.empty()) {
        Entry entry = std::move(dirs_.back());
        dirs_.pop_back();
        ++active_;
        lock.unlock();
        std::vector<Entry> subdirs;
        std::vector<Entry> files;
        list_directory(entry, subdirs, files);
        lock.lock();
        --active_;
        for (Entry& e : subdirs) dirs_.push_back(std::move(e));
        for (Entry& e : files) push_file(std::move(e));
      } else if (active_ == 0) {
        break;
      } else {
        continue;
      }
      wake_.notify_all();
    }
    wake_.notify_all();
  }

  bool excluded(const std::string& path, std::string_view name) const {
    for (const std::string& pattern : options_.excludes) {
      const bool whole_path = pattern.find('/') != std::string::npos;
      const std::string subject = whole_path ? path : std::string(name);
      if (::fnmatch(pattern.c_str(), subject.c_str(), 0) == 0) return true;
    }
    return options_.exclude_path && options_.exclude_path(path);
  }

  void report_error(const std::string& path, std::string_view rule, int err) {
    Item item;
    item.error = true;
    Finding f = make_finding(rule, path);
    f.add_evidence("error", errno_text(err));
    item.findings.push_back(std::move(f));
    results_.push(std::move(item));
  }

  std::string child_path(const std::string& dir, std::string_view name) const {
    std::string out = dir;
    if (out.empty() || out.back() != '/') out += '/';
    out.append(name);
    return out;
  }

  void list_directory(const Entry& entry, std::vector<Entry>& subdirs, std::vector<Entry>& files) {
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                      (entry.parent ? O_NOFOLLOW : 0);
    UniqueFd fd(
        ::openat(entry.parent ? entry.parent->fd.get() : AT_FDCWD, entry.name.c_str(), flags));
    if (!fd.valid()) {
      report_error(entry.path, errno == ENOENT ? "FILE_VANISHED" : "DIR_UNREADABLE", errno);
      return;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      report_error(entry.path, "DIR_UNREADABLE", errno != 0 ? errno : ENOTDIR);
      return;
    }
    auto dir = std::make_shared<Dir>();
    dir->path = entry.path;
    dir->device = st.st_dev;
    dir->inode = st.st_ino;
    dir->parent = entry.parent;
    // A bind mount can make a directory its own descendant; never walk into an ancestor.
    for (const Dir* ancestor = entry.parent.get(); ancestor != nullptr;
         ancestor = ancestor->parent.get()) {
      if (ancestor->device == st.st_dev && ancestor->inode == st.st_ino) {
        Item item;
        item.error = true;
        Finding f = make_finding("DIR_LOOP", entry.path);
        f.message = "Directory is its own ancestor (a bind-mount loop); not walked again.";
        f.add_evidence("ancestor", ancestor->path);
        item.findings.push_back(std::move(f));
        results_.push(std::move(item));
        return;
      }
    }
    {
      Item item;
      check_directory_metadata(entry.path, st, item.findings);
      if (!item.findings.empty()) results_.push(std::move(item));
    }

    // readdir needs its own descriptor: the directory's stays open for openat of children.
    const int listing_fd = ::dup(fd.get());
    DIR* stream = listing_fd >= 0 ? ::fdopendir(listing_fd) : nullptr;
    if (stream == nullptr) {
      if (listing_fd >= 0) ::close(listing_fd);
      report_error(entry.path, "DIR_UNREADABLE", errno);
      return;
    }
    dir->fd = std::move(fd);
    std::shared_ptr<const Dir> shared_dir = dir;
    const bool one_fs = options_.one_file_system;
    while (true) {
      errno = 0;
      dirent* ent = ::readdir(stream);
      if (ent == nullptr) {
        if (errno != 0) report_error(entry.path, "DIR_UNREADABLE", errno);
        break;
      }
      const std::string_view name(ent->d_name);
      if (name == "." || name == "..") continue;
      Entry child;
      child.parent = shared_dir;
      child.name = std::string(name);
      child.path = child_path(entry.path, name);
      child.root = entry.root;
      child.root_device = entry.root_device;
      if (excluded(child.path, name)) continue;
      if (::fstatat(shared_dir->fd.get(), child.name.c_str(), &child.st, AT_SYMLINK_NOFOLLOW) !=
          0) {
        report_error(child.path, errno == ENOENT ? "FILE_VANISHED" : "FILE_UNREADABLE", errno);
        continue;
      }
      if (S_ISDIR(child.st.st_mode)) {
        if (one_fs && child.st.st_dev != entry.root_device) continue;
        subdirs.push_back(std::move(child));
      } else if (S_ISREG(child.st.st_mode)) {
        files.push_back(std::move(child));
      } else {
        results_.push(record_special(child));
      }
    }
    ::closedir(stream);
  }

  // The path for the package lookup; empty when there is no package database to ask.
  std::string canonical_of(const Entry& entry) const {
    if (options_.owners == nullptr && !options_.owners_loader) return {};
    const Root& root = *entry.root;
    if (root.canonical.empty() || entry.path.size() < root.path.size()) return entry.path;
    std::string out = root.canonical;
    const std::string_view rest = std::string_view(entry.path).substr(root.path.size());
    if (!rest.empty() && out == "/" && rest.front() == '/') {
      out = std::string(rest);
    } else {
      out.append(rest);
    }
    return out;
  }

  Item record_special(const Entry& entry) {
    Item item;
    FileRecord r;
    r.path = entry.path;
    fill_metadata(r, entry.st);
    if (S_ISLNK(entry.st.st_mode)) {
      std::string target(4096, '\0');
      while (true) {
        const ssize_t n = ::readlinkat(entry.parent ? entry.parent->fd.get() : AT_FDCWD,
                                       entry.name.c_str(), target.data(), target.size());
        if (n < 0) {
          target.clear();
          break;
        }
        if (static_cast<size_t>(n) < target.size()) {
          target.resize(static_cast<size_t>(n));
          break;
        }
        if (target.size() >= 1 << 20) break;
        target.resize(target.size() * 2);
      }
      r.link_target = std::move(target);
    }
    if (options_.xattrs) r.xattrs = read_xattrs_path(entry.path);
    item.canonical_path = canonical_of(entry);
    item.record = std::move(r);
    return item;
  }

  Item read_file(Entry& entry, DigestSet& digests, std::vector<std::byte>& buffer) {
    Item item;
    FileRecord r;
    r.path = entry.path;
    fill_metadata(r, entry.st);
    const int dirfd = entry.parent ? entry.parent->fd.get() : AT_FDCWD;
    const int base_flags =
        O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (entry.parent ? O_NOFOLLOW : 0);
    bool stable = false;
    constexpr int kAttempts = 2;
    for (int attempt = 0; attempt < kAttempts && !stable; ++attempt) {
      // O_NOATIME keeps the scan from disturbing access times (evidence in an investigation);
      // the kernel allows it only to the file's owner and root.
      UniqueFd fd(::openat(dirfd, entry.name.c_str(), base_flags | O_NOATIME));
      if (!fd.valid() && errno == EPERM)
        fd = UniqueFd(::openat(dirfd, entry.name.c_str(), base_flags));
      if (!fd.valid()) {
        const int err = errno;
        if (err == ENOENT) {
          report_error(entry.path, "FILE_VANISHED", err);
          return Item{};
        }
        if (err == ELOOP || err == ENXIO || err == EWOULDBLOCK) {
          // Swapped for a symlink, FIFO or device after listing: record what is there now.
          struct stat now {};
          if (::fstatat(dirfd, entry.name.c_str(), &now, AT_SYMLINK_NOFOLLOW) == 0 &&
              !S_ISREG(now.st_mode)) {
            entry.st = now;
            return record_special(entry);
          }
        }
        report_error(entry.path, "FILE_UNREADABLE", err);
        // The metadata is still worth recording: an unreadable tool is itself notable.
        Item unread;
        unread.canonical_path = canonical_of(entry);
        unread.record = std::move(r);
        return unread;
      }
      struct stat before {};
      if (::fstat(fd.get(), &before) != 0) {
        report_error(entry.path, "FILE_UNREADABLE", errno);
        return Item{};
      }
      if (!S_ISREG(before.st_mode)) {
        entry.st = before;
        return record_special(entry);
      }
      fill_metadata(r, before);
      if (options_.xattrs) r.xattrs = read_xattrs_fd(fd.get());
      uint64_t total = 0;
      ContentFacts facts;
      facts.format_only = !options_.analyse;
      facts.yara = options_.yara;
      facts.blocked_signers = options_.blocked_signers;
      facts.yara_max_bytes = options_.yara_max_bytes;
      facts.yara_timeout_seconds = options_.yara_timeout_seconds;
      std::vector<Finding> content_findings;
      bool analysed = false;
      const auto expected = static_cast<uint64_t>(before.st_size);
      int read_error = 0;
      const auto before_read = [&, attempt] {
        if (options_.before_read_hook) options_.before_read_hook(entry.path, attempt);
      };
      // The first attempt maps a large file; a retry reads it, which cannot fault.
      MapResult mapped = MapResult::Unavailable;
      if (attempt == 0 && expected >= kMapThresholdBytes) {
        mapped = hash_mapped(fd.get(), expected, digests, facts, content_findings, before_read);
        if (mapped == MapResult::Changed) continue;
        if (mapped == MapResult::Done) {
          analysed = true;
          total = expected;
        }
      } else {
        before_read();
      }
      while (mapped != MapResult::Done) {
        if (cancelled()) return Item{};
        // Fill the buffer completely so the first chunk holds the head for classification.
        size_t filled = 0;
        // Exactly the size fstat reported is read: growth shows in the fstat that follows.
        const uint64_t remaining = expected - total;
        if (remaining == 0) break;
        const size_t want = static_cast<size_t>(std::min<uint64_t>(remaining, buffer.size()));
        while (filled < want) {
          const ssize_t n = ::read(fd.get(), buffer.data() + filled, want - filled);
          if (n < 0) {
            if (errno == EINTR) continue;
            read_error = errno;
            break;
          }
          if (n == 0) break;
          filled += static_cast<size_t>(n);
        }
        if (read_error != 0) break;
        const std::span<const std::byte> chunk(buffer.data(), filled);
        if (!analysed) {
          // The first chunk: the head, and the whole file when it fits in one read.
          const bool complete = total == 0 && filled == expected;
          analyse_content({chunk.first(std::min(chunk.size(), formats::kClassifyHeadBytes)),
                           complete ? chunk : std::span<const std::byte>(), expected},
                          facts, content_findings);
          analysed = true;
        }
        digests.update(chunk);
        total += filled;
        if (filled < want) break;  // EOF before the expected size: the file shrank
      }
      if (read_error != 0) {
        digests.reset();
        report_error(entry.path, "FILE_UNREADABLE", read_error);
        Item unread;
        unread.canonical_path = canonical_of(entry);
        unread.record = std::move(r);
        return unread;
      }
      if (options_.after_read_hook) options_.after_read_hook(entry.path, attempt);
      struct stat after {};
      const bool after_ok = ::fstat(fd.get(), &after) == 0;
      stable = after_ok && total == expected && same_content_state(before, after);
      const DigestValues values = digests.finish();
      r.sha256 = *values.sha256;
      r.md5 = values.md5;
      r.sha1 = values.sha1;
      r.size = total;
      if (options_.indicators != nullptr && !options_.indicators->empty()) {
        const auto view = [](const auto& digest) {
          return digest ? std::string_view(reinterpret_cast<const char*>(digest->data()),
                                           digest->size())
                        : std::string_view();
        };
        for (Finding& f :
             options_.indicators->match("", view(r.sha256), view(r.md5), view(r.sha1))) {
          content_findings.push_back(std::move(f));
        }
      }
      if (!analysed) analyse_content({}, facts, content_findings);  // an empty file
      r.format = std::move(facts.format);
      r.signature = std::move(facts.signature);
      r.details = std::move(facts.details);
      if (stable || attempt + 1 == kAttempts) {
        for (Finding& f : content_findings) item.findings.push_back(std::move(f));
      }
      if (!stable && attempt + 1 == kAttempts) {
        r.changed = true;
        Finding f = make_finding("FILE_CHANGED_DURING_SCAN", entry.path);
        f.sha256 = r.sha256;
        f.message =
            "File kept changing while it was read twice; the recorded hash is "
            "of one moment's content.";
        f.add_evidence("size_before", std::to_string(before.st_size));
        f.add_evidence("size_after", after_ok ? std::to_string(after.st_size) : "unknown");
        f.add_evidence("bytes_read", std::to_string(total));
        item.findings.push_back(std::move(f));
      }
    }
    check_file_metadata(entry.path, entry.st, item.findings);
    // Content analysers know the bytes, not the path.
    for (Finding& f : item.findings) {
      if (!f.sha256) f.sha256 = r.sha256;
      if (f.path.empty()) f.path = entry.path;
    }
    item.canonical_path = canonical_of(entry);
    item.record = std::move(r);
    return item;
  }

  const ScanOptions& options_;
  ResultQueue& results_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Largest file first: a big file started last would leave the other cores idle at the end.
  static bool smaller_file(const Entry& a, const Entry& b) { return a.st.st_size < b.st.st_size; }
  void push_file(Entry entry) {
    files_.push_back(std::move(entry));
    std::push_heap(files_.begin(), files_.end(), smaller_file);
  }
  std::vector<Entry> files_;
  std::vector<Entry> dirs_;
  size_t active_ = 0;
  bool stopped_ = false;
};

}  // namespace

Result<ScanSummary> run_scan(store::Store& store,
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

  store::NewScan new_scan{.host = summary.host,
                          .kind = meta.kind,
                          .started_ns = summary.started_ns,
                          .catena_version = CATENA_VERSION,
                          .arguments = meta.arguments,
                          .roots = summary.roots,
                          .digests = std::string("sha256") +
                                     ((options.digests & DigestSet::kMd5) ? ",md5" : "") +
                                     ((options.digests & DigestSet::kSha1) ? ",sha1" : "")};
  CATENA_TRY(summary.scan_id, store.begin_scan(new_scan));

  unsigned jobs = options.jobs;
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());

  ResultQueue results;
  Walker walker(options, results);
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
  std::vector<FileRecord> records;
  std::vector<Finding> findings;
  int64_t last_progress = 0;
  bool more = true;
  while (more) {
    batch.clear();
    more = results.pop_some(batch, 100);
    records.clear();
    const size_t findings_before = summary.findings.size();
    if (!owners_loaded && !batch.empty()) {
      owners = options.owners_loader();
      owners_loaded = true;
    }
    for (Item& item : batch) {
      if (item.error) ++summary.totals.errors;
      if (item.record) {
        if (owners != nullptr) item.record->package = owners->owner_of(item.canonical_path);
        if (item.record->type == FileType::Regular && item.record->sha256) {
          ++summary.totals.files;
          summary.totals.bytes += item.record->size;
        }
        records.push_back(std::move(*item.record));
      }
      for (Finding& f : item.findings) summary.findings.push_back(std::move(f));
    }
    if (!store_error && (!records.empty() || summary.findings.size() > findings_before)) {
      const std::span<const Finding> new_findings(summary.findings.data() + findings_before,
                                                  summary.findings.size() - findings_before);
      auto added = store.add_batch(summary.scan_id, records, new_findings);
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
  summary.totals.finished_ns = now_ns();
  summary.status = store_error   ? store::ScanStatus::Failed
                   : interrupted ? store::ScanStatus::Interrupted
                                 : store::ScanStatus::Complete;
  sort_findings(summary.findings);
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
