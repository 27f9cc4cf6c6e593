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
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>

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

using scan::FileRecord;
using scan::FileType;

// Results waiting for the writer; workers block when it falls behind, bounding memory.
constexpr size_t kMaxPendingResults = 8192;
// Entries a directory listing hands over at a time.
constexpr size_t kListChunk = 4096;
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

// Hashes `size` bytes of `fd` from a read-only mapping, then hands the digests and the bytes
// to `analyse` (which may skip what is already known of the content).
MapResult hash_mapped(int fd,
                      uint64_t size,
                      DigestSet& digests,
                      DigestValues& values,
                      const std::function<void()>& before_read) {
  constexpr size_t kUpdateBytes = 4 << 20;
  // Only the digest loop runs under the fault guard: it owns nothing, so the jump out of it when
  // the file shrinks under the mapping loses only the digest state, which reset() restores.
  const MapResult result = with_mapping(fd, size, [&](std::span<const std::byte> whole) {
    if (before_read) before_read();
    for_each_window(whole, kUpdateBytes,
                    [&](std::span<const std::byte> window) { digests.update(window); });
  });
  if (result == MapResult::Done) {
    values = digests.finish();
  } else if (result == MapResult::Changed) {
    digests.reset();
  }
  return result;
}

// Reads exactly `out.size()` bytes from `offset`; false on an error or a short file.
bool pread_exact(int fd, std::span<std::byte> out, uint64_t offset) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// The bytes all workers hold in private copies for the analysers: bounded, so that workers
// analysing large executables at the same time wait for each other instead of adding up.
class ByteBudget {
 public:
  explicit ByteBudget(uint64_t capacity) : free_(capacity), capacity_(capacity) {}
  // Takes `bytes`, waiting for them when `wait` (else false when they are not free now); false
  // when more than the whole budget is asked for.
  bool acquire(uint64_t bytes, bool wait) {
    if (bytes > capacity_) return false;
    std::unique_lock lock(mutex_);
    if (wait) {
      freed_.wait(lock, [&] { return free_ >= bytes; });
    } else if (free_ < bytes) {
      return false;
    }
    free_ -= bytes;
    return true;
  }
  void release(uint64_t bytes) {
    {
      std::lock_guard lock(mutex_);
      free_ += bytes;
    }
    freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  uint64_t free_;
  const uint64_t capacity_;
};

// A private copy of a whole file for the analysers, its bytes counted against the budget.
class HeldContent {
 public:
  explicit HeldContent(ByteBudget& budget) : budget_(budget) {}
  ~HeldContent() {
    if (held_ > 0) budget_.release(held_);
  }
  HeldContent(const HeldContent&) = delete;
  HeldContent& operator=(const HeldContent&) = delete;

  enum class Outcome { Held, TooLarge, Failed };
  // Reads `size` bytes of `fd` into the copy; Failed when the file no longer has them. Without
  // `wait`, bytes the budget cannot give at once are TooLarge too: a worker that holds a claim
  // on a content must not wait for budget that a worker waiting for that claim holds.
  Outcome load(int fd, uint64_t size, bool wait) {
    if (!budget_.acquire(size, wait)) return Outcome::TooLarge;
    held_ = size;
    // Not zero-filled first: every byte is read over.
    bytes_ = std::make_unique_for_overwrite<std::byte[]>(static_cast<size_t>(size));
    return pread_exact(fd, std::span(bytes_.get(), static_cast<size_t>(size)), 0) ? Outcome::Held
                                                                                  : Outcome::Failed;
  }
  std::span<const std::byte> bytes() const { return {bytes_.get(), static_cast<size_t>(held_)}; }

 private:
  ByteBudget& budget_;
  uint64_t held_ = 0;
  std::unique_ptr<std::byte[]> bytes_;
};

// What the analysers are given besides the bytes: the same for every file of a scan.
ContentFacts analysis_inputs(const ScanOptions& options) {
  ContentFacts inputs;
  inputs.format_only = !options.analyse;
  inputs.yara = options.yara;
  inputs.blocked_signers = options.blocked_signers;
  inputs.indicators = options.indicators;
  inputs.yara_max_bytes = options.yara_max_bytes;
  inputs.yara_timeout_seconds = options.yara_timeout_seconds;
  return inputs;
}

// A record taken so soon after the file's last change that a rewrite within the same clock tick
// would not have changed its times (see ScanOptions::racy_window_ns).
bool racy(const scan::ReferenceFile& ref, int64_t window_ns) {
  return std::max(ref.mtime_ns, ref.ctime_ns) + window_ns >= ref.recorded_ns;
}

// What is known of a content before it is read: its stored facts (from earlier scans) or those
// this scan produced. `analysis` is the set of analyser components the facts came from.
struct KnownContent {
  std::shared_ptr<const std::vector<std::string>> components;  // sorted
  std::vector<std::pair<std::string, Finding>> findings;
  // Set for contents this scan analysed, so that a later copy can fill its record.
  std::string format;
  std::string signature;
  std::string details;
};

std::vector<std::string> split_components(std::string_view analysis) {
  std::vector<std::string> out;
  for (std::string_view rest = analysis; !rest.empty();) {
    const size_t semi = rest.find(';');
    std::string_view part = rest.substr(0, semi);
    if (!part.empty()) out.emplace_back(part);
    if (semi == std::string_view::npos) break;
    rest.remove_prefix(semi + 1);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string join_components(const std::vector<std::string>& components) {
  std::string out;
  for (const std::string& c : components) out += (out.empty() ? "" : ";") + c;
  return out;
}

// Facts by content: the stored ones (read once at the start) and those of this scan, shared
// by the workers. A content another worker is analysing is waited for, not analysed twice.
class ContentMemory {
 public:
  void add_stored(scan::AnalysedContent&& facts) {
    KnownContent known;
    known.components =
        std::make_shared<const std::vector<std::string>>(split_components(facts.analysis));
    known.findings = std::move(facts.findings);
    stored_.emplace(facts.sha256, std::move(known));
  }
  // The facts this scan produced for the content, or nullptr after claiming it: the caller
  // then analyses it (using stored() where it holds) and must release() it.
  const KnownContent* find_or_claim(const Sha256& sha256) {
    std::unique_lock lock(mutex_);
    while (true) {
      auto it = scanned_.find(sha256);
      if (it == scanned_.end()) {
        scanned_.emplace(sha256, nullptr);
        return nullptr;
      }
      if (it->second) return it->second.get();
      done_.wait(lock);
    }
  }
  const KnownContent* stored(const Sha256& sha256) const {
    auto it = stored_.find(sha256);
    return it == stored_.end() ? nullptr : &it->second;
  }
  // Ends a claim. With facts, later copies use them; without (a light format), they are read.
  void release(const Sha256& sha256, std::shared_ptr<const KnownContent> facts) {
    std::lock_guard lock(mutex_);
    if (facts) {
      scanned_[sha256] = std::move(facts);
    } else {
      scanned_.erase(sha256);
    }
    done_.notify_all();
  }

 private:
  std::unordered_map<Sha256, KnownContent, DigestHash> stored_;  // read-only once workers run
  std::mutex mutex_;
  std::condition_variable done_;
  std::unordered_map<Sha256, std::shared_ptr<const KnownContent>, DigestHash> scanned_;
};

// The records of the host's previous scans of the same series, by path.
struct Reference {
  std::vector<scan::ReferenceFile> files;
  std::unordered_map<std::string_view, size_t> by_path;
  std::vector<uint32_t> analysis_of;  // files[i]'s content's analysers: an index into components
  std::vector<std::vector<std::string>> components;
};

// A directory on the walk's path: its identity, for the loop check, and its ancestors. It holds
// no descriptor, so a chain of any depth costs a few bytes per level.
struct Dir {
  dev_t device = 0;
  ino_t inode = 0;
  size_t depth = 0;
  std::shared_ptr<const Dir> parent;
};

// An open directory. Children are opened relative to its descriptor, so paths longer than
// PATH_MAX work and no path component is re-resolved after the walk has checked it. Only the
// entries still to be opened hold it: it closes when the last of them is done, so the walk
// holds a descriptor per directory with work left, not per level.
struct DirFd {
  UniqueFd fd;
  int get() const { return fd.get(); }
};

struct Entry {
  std::shared_ptr<const Dir> parent;       // nullptr for a root
  std::shared_ptr<const DirFd> parent_fd;  // the parent's descriptor; nullptr for a root
  std::string name;                        // relative to parent; the full path for a root
  std::string path;
  struct stat st {};
  const Root* root = nullptr;
  dev_t root_device = 0;  // for --one-file-system
  // The canonical path, once computed for a file being read (the MD5 question and the owner
  // lookup both need it); the worker reading the entry is its only user.
  mutable std::string canonical;
};

constexpr size_t kNoReference = SIZE_MAX;

struct Item {
  std::optional<FileRecord> record;  // unset for a file whose reference record still holds
  std::string canonical_path;        // for the package lookup, done by the writer
  std::vector<Finding> findings;
  bool error = false;
  size_t reference = kNoReference;                // the series' record of this path, if any
  bool reused = false;                            // not read: the reference's stat anchors held
  std::optional<scan::AnalysedContent> analysed;  // facts this scan produced for the content
};

// What the workers share besides the queues: the reference, the facts by content, and the
// analysers this scan runs.
struct Engine {
  explicit Engine(uint64_t analysis_budget) : budget(analysis_budget) {}
  const Reference* reference = nullptr;  // nullptr: nothing to compare with
  ByteBudget budget;                     // private copies of contents being analysed
  std::atomic<uint64_t> sparse_left{0};  // bytes of holes the scan may still hash
  bool reuse = false;                    // take unchanged files from the reference (not --full)
  ContentMemory memory;
  std::array<std::string, kAnalyserCount> components;  // empty: the analyser does not run
  std::shared_ptr<const std::vector<std::string>> sorted_components;
  std::array<std::atomic<uint64_t>, kAnalyserCount> runs{};
  std::atomic<uint64_t> files_read{0};
  std::atomic<uint64_t> files_reused{0};
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
  Walker(const ScanOptions& options, ResultQueue& results, Engine& engine)
      : options_(options), results_(results), engine_(engine) {}

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

  bool incomplete() const { return incomplete_; }
  size_t peak_queued_files() const { return peak_queued_; }

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
    DigestSet with_md5(options_.digests | DigestSet::kSha256 | DigestSet::kMd5);
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
        results_.push(read_file(entry, wants_md5(entry) ? with_md5 : digests, buffer));
        lock.lock();
        --active_;
      } else if (!dirs_.empty()) {
        Entry entry = std::move(dirs_.back());
        dirs_.pop_back();
        ++active_;
        lock.unlock();
        // Entries are handed over a chunk at a time, and a lister that outruns the readers reads
        // files itself until the queue is short again: a directory of a million entries costs
        // the queue's bound, not a million entries.
        const auto flush = [&](std::vector<Entry>& subdirs, std::vector<Entry>& files) {
          std::unique_lock queue(mutex_);
          for (Entry& e : subdirs) dirs_.push_back(std::move(e));
          for (Entry& e : files) push_file(std::move(e));
          subdirs.clear();
          files.clear();
          peak_queued_ = std::max(peak_queued_, files_.size());
          wake_.notify_all();
          while (files_.size() > options_.max_queued_files && !stopped_ && !cancelled()) {
            std::pop_heap(files_.begin(), files_.end(), smaller_file);
            Entry file = std::move(files_.back());
            files_.pop_back();
            queue.unlock();
            results_.push(read_file(file, wants_md5(file) ? with_md5 : digests, buffer));
            queue.lock();
          }
        };
        list_directory(entry, flush);
        lock.lock();
        --active_;
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

  // Out of descriptors or memory is not the file's doing: the scan could not look, and says so.
  std::string_view open_error_rule(int err, std::string_view otherwise) {
    if (err == EMFILE || err == ENFILE || err == ENOMEM) {
      incomplete_ = true;
      return "SCAN_RESOURCE_LIMIT";
    }
    return err == ENOENT ? "FILE_VANISHED" : otherwise;
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

  using Flush = std::function<void(std::vector<Entry>& subdirs, std::vector<Entry>& files)>;

  // Lists a directory, handing its entries to `flush` every kListChunk entries and at the end.
  void list_directory(const Entry& entry, const Flush& flush) {
    std::vector<Entry> subdirs;
    std::vector<Entry> files;
    const int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
                      (entry.parent ? O_NOFOLLOW : 0);
    UniqueFd fd(
        ::openat(entry.parent_fd ? entry.parent_fd->get() : AT_FDCWD, entry.name.c_str(), flags));
    if (!fd.valid()) {
      report_error(entry.path, open_error_rule(errno, "DIR_UNREADABLE"), errno);
      return;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      report_error(entry.path, "DIR_UNREADABLE", errno != 0 ? errno : ENOTDIR);
      return;
    }
    auto dir = std::make_shared<Dir>();
    dir->device = st.st_dev;
    dir->inode = st.st_ino;
    dir->depth = entry.parent ? entry.parent->depth + 1 : 0;
    dir->parent = entry.parent;
    // A bind mount can make a directory its own descendant; never walk into an ancestor.
    size_t levels_up = 0;
    for (const Dir* ancestor = entry.parent.get(); ancestor != nullptr;
         ancestor = ancestor->parent.get()) {
      ++levels_up;
      if (ancestor->device == st.st_dev && ancestor->inode == st.st_ino) {
        Item item;
        item.error = true;
        Finding f = make_finding("DIR_LOOP", entry.path);
        f.message = "Directory is its own ancestor (a bind-mount loop); not walked again.";
        std::string ancestor_path = entry.path;
        for (size_t up = 0; up < levels_up; ++up) {
          ancestor_path.resize(ancestor_path.rfind('/') == 0 ? 1 : ancestor_path.rfind('/'));
        }
        f.add_evidence("ancestor", ancestor_path);
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
      const int err = errno;
      if (listing_fd >= 0) ::close(listing_fd);
      report_error(entry.path, open_error_rule(err, "DIR_UNREADABLE"), err);
      return;
    }
    auto dir_fd = std::make_shared<DirFd>();
    dir_fd->fd = std::move(fd);
    std::shared_ptr<const Dir> shared_dir = dir;
    std::shared_ptr<const DirFd> shared_fd = dir_fd;
    const bool one_fs = options_.one_file_system;
    bool depth_reported = false;
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
      child.parent_fd = shared_fd;
      child.name = std::string(name);
      child.path = child_path(entry.path, name);
      child.root = entry.root;
      child.root_device = entry.root_device;
      if (excluded(child.path, name)) continue;
      if (::fstatat(shared_fd->get(), child.name.c_str(), &child.st, AT_SYMLINK_NOFOLLOW) != 0) {
        report_error(child.path, errno == ENOENT ? "FILE_VANISHED" : "FILE_UNREADABLE", errno);
        continue;
      }
      if (S_ISDIR(child.st.st_mode)) {
        if (one_fs && child.st.st_dev != entry.root_device) continue;
        if (dir->depth + 1 > options_.max_depth) {
          // Deeper than any real tree: a hostile one. Said once per directory, never skipped
          // in silence, and the scan is not complete.
          incomplete_ = true;
          if (!depth_reported) {
            depth_reported = true;
            Item item;
            item.error = true;
            Finding f = make_finding("SCAN_DEPTH_LIMIT", child.path);
            f.add_evidence("depth", std::to_string(dir->depth + 1));
            f.add_evidence("limit", std::to_string(options_.max_depth));
            item.findings.push_back(std::move(f));
            results_.push(std::move(item));
          }
          continue;
        }
        subdirs.push_back(std::move(child));
      } else if (S_ISREG(child.st.st_mode)) {
        files.push_back(std::move(child));
      } else {
        results_.push(record_special(child));
      }
      if (subdirs.size() + files.size() >= kListChunk) flush(subdirs, files);
    }
    ::closedir(stream);
    flush(subdirs, files);
  }

  // The path for the package lookup; empty when there is no package database to ask.
  std::string canonical_of(const Entry& entry, bool always = false) const {
    if (!always && options_.owners == nullptr && !options_.owners_loader) return {};
    if (!entry.canonical.empty()) return entry.canonical;
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
    const size_t reference = reference_of(entry.path);
    if (auto reused = try_reuse(entry, reference)) return std::move(*reused);
    Item item;
    item.reference = reference;
    FileRecord r;
    r.path = entry.path;
    fill_metadata(r, entry.st);
    if (S_ISLNK(entry.st.st_mode)) {
      std::string target(4096, '\0');
      while (true) {
        const ssize_t n = ::readlinkat(entry.parent_fd ? entry.parent_fd->get() : AT_FDCWD,
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

  bool wants_md5(const Entry& entry) const {
    if ((options_.digests & DigestSet::kMd5) != 0) return true;
    if (!options_.md5_for) return false;
    if (entry.canonical.empty()) entry.canonical = canonical_of(entry, true);
    return options_.md5_for(entry.canonical);
  }

  size_t reference_of(const std::string& path) const {
    if (engine_.reference == nullptr) return kNoReference;
    auto it = engine_.reference->by_path.find(path);
    return it == engine_.reference->by_path.end() ? kNoReference : it->second;
  }

  static bool same_stat(const scan::ReferenceFile& ref, const struct stat& st) {
    return ref.type == file_type_of(st.st_mode) && ref.size == static_cast<uint64_t>(st.st_size) &&
           ref.mode == st.st_mode && ref.uid == st.st_uid && ref.gid == st.st_gid &&
           ref.mtime_ns == to_ns(st.st_mtim) && ref.ctime_ns == to_ns(st.st_ctim) &&
           ref.inode == st.st_ino && ref.device == st.st_dev;
  }

  // Findings the content's stored or scanned facts hold for the analysers this scan runs.
  void known_findings(const std::vector<std::pair<std::string, Finding>>& findings,
                      std::vector<Finding>& out) const {
    for (const auto& [analyser, f] : findings) {
      for (size_t i = 0; i < kAnalyserCount; ++i) {
        if (analyser_name(i) == analyser && !engine_.components[i].empty()) out.push_back(f);
      }
    }
  }

  // The table's analysers that need only digests, for a file read now or reused.
  void match_indicators(const FileRecord& r, std::vector<Finding>& out) const {
    const DigestValues digests{.sha256 = r.sha256, .md5 = r.md5, .sha1 = r.sha1};
    const ContentView view{.digests = &digests};
    ContentFacts inputs;
    inputs.indicators = options_.indicators;
    for (size_t i = 0; i < kAnalyserCount; ++i) {
      if (analyser_needs(i) == Needs::Digests) run_analyser(i, view, inputs, out);
    }
  }

  // An entry whose stat anchors equal those of its reference record, written by a complete
  // scan, with every digest and analysis this scan asks for: it is not opened.
  std::optional<Item> try_reuse(const Entry& entry, size_t reference) {
    if (!engine_.reuse || reference == kNoReference) return std::nullopt;
    const scan::ReferenceFile& ref = engine_.reference->files[reference];
    if (!ref.from_complete_scan || ref.changed || racy(ref, options_.racy_window_ns) ||
        !same_stat(ref, entry.st)) {
      return std::nullopt;
    }
    const bool regular = S_ISREG(entry.st.st_mode);
    if (regular) {
      if (!ref.sha256 || (!ref.md5 && wants_md5(entry)) ||
          ((options_.digests & DigestSet::kSha1) && !ref.sha1)) {
        return std::nullopt;
      }
      const auto& have = engine_.reference->components[engine_.reference->analysis_of[reference]];
      for (const std::string& c : engine_.components) {
        if (!c.empty() && !std::binary_search(have.begin(), have.end(), c)) return std::nullopt;
      }
    }
    if (options_.xattrs && read_xattrs_path(entry.path) != ref.xattrs) return std::nullopt;
    Item item;
    item.reused = true;
    item.reference = reference;
    if (regular) {
      if (const KnownContent* known = engine_.memory.stored(*ref.sha256)) {
        known_findings(known->findings, item.findings);
      }
      FileRecord digests_only;
      digests_only.sha256 = ref.sha256;
      digests_only.md5 = ref.md5;
      digests_only.sha1 = ref.sha1;
      match_indicators(digests_only, item.findings);
      check_file_metadata(entry.path, entry.st, item.findings);
      for (Finding& f : item.findings) {
        if (!f.sha256) f.sha256 = ref.sha256;
        if (f.path.empty()) f.path = entry.path;
      }
      engine_.files_reused.fetch_add(1, std::memory_order_relaxed);
    }
    item.canonical_path = canonical_of(entry);
    return item;
  }

  // A file with more holes than kSparseHoleBytes takes them from the scan's budget; false when
  // the budget cannot cover them (the file is not read).
  bool take_sparse_budget(const struct stat& st) {
    const auto size = static_cast<uint64_t>(st.st_size);
    const uint64_t allocated = uint64_t{512} * static_cast<uint64_t>(st.st_blocks);
    const uint64_t holes = size > allocated ? size - allocated : 0;
    if (holes <= kSparseHoleBytes) return true;
    uint64_t left = engine_.sparse_left.load();
    do {
      if (left < holes) return false;
    } while (!engine_.sparse_left.compare_exchange_weak(left, left - holes));
    return true;
  }

  // Whether the analysers of a content need all of its bytes, not just its head.
  static bool wants_whole(const ContentView& view, const ContentFacts& facts) {
    const std::string_view head_format = formats::format_name(formats::classify_format(view.head));
    if (head_format == "ole") return true;  // an MSI's root entry may lie anywhere in it
    if (facts.format_only) return false;
    return costly_format(head_format) ||
           (facts.yara != nullptr && view.size <= facts.yara_max_bytes);
  }

  // Runs the analysers the content still needs: none when this scan or an earlier one already
  // analysed it with the same analysers and inputs. `whole_held` says whether the view has
  // every byte (only then are the facts complete enough to remember); when it has not and the
  // analysers need them, they are read from `fd` into a private copy (bytes that cannot change
  // or fault under the parsers, OpenSSL and libyara), or, when the copies' budget cannot hold
  // them, given a mapping whose faults become zero pages.
  void analyse(ContentView view,
               const Sha256& sha256,
               bool whole_held,
               int fd,
               ContentFacts& facts,
               std::vector<Finding>& findings,
               std::optional<scan::AnalysedContent>& analysed) {
    if (const KnownContent* done = engine_.memory.find_or_claim(sha256)) {
      known_findings(done->findings, findings);
      facts.format = done->format;
      facts.signature = done->signature;
      facts.details = done->details;
      return;
    }
    const KnownContent* stored = engine_.memory.stored(sha256);
    std::array<bool, kAnalyserCount> run{};
    bool any = false;
    for (size_t i = 0; i < kAnalyserCount; ++i) {
      if (engine_.components[i].empty()) continue;
      run[i] = stored == nullptr ||
               !std::binary_search(stored->components->begin(), stored->components->end(),
                                   engine_.components[i]);
      any = any || run[i];
    }
    // Stored results of analysers that do not run again: kept, and issued when enabled.
    auto merged = std::make_shared<KnownContent>();
    std::vector<std::string> components;
    if (stored != nullptr) {
      for (const std::string& c : *stored->components) {
        const std::string name = c.substr(0, c.find('='));
        bool replaced = false;
        for (size_t i = 0; i < kAnalyserCount; ++i) {
          if (analyser_name(i) == name && run[i]) replaced = true;
        }
        if (!replaced) components.push_back(c);
      }
      for (const auto& [analyser, f] : stored->findings) {
        bool replaced = false;
        for (size_t i = 0; i < kAnalyserCount; ++i) {
          if (analyser_name(i) == analyser && run[i]) replaced = true;
        }
        if (!replaced) merged->findings.emplace_back(analyser, f);
      }
      known_findings(merged->findings, findings);
    }
    if (!any) {
      merged->components = stored->components;
      engine_.memory.release(sha256, std::move(merged));
      return;
    }
    HeldContent held(engine_.budget);
    bool from_mapping = false;  // larger than the copies' budget
    if (!whole_held && fd >= 0) {
      if (!wants_whole(view, facts)) {
        whole_held = true;  // the head is all this content's analysers read
      } else {
        switch (held.load(fd, view.size, /*wait=*/false)) {
          case HeldContent::Outcome::Held:
            view.whole = held.bytes();
            whole_held = true;
            break;
          case HeldContent::Outcome::TooLarge:  // or the budget is taken just now
            from_mapping = true;
            break;
          case HeldContent::Outcome::Failed:
            break;  // it shrank: the fstat after the read reports the change
        }
      }
    }
    // The format decides which other analysers apply: it runs whenever another one does.
    run[0] = true;
    const size_t first_finding = findings.size();
    const auto run_all = [&](const ContentView& bytes) {
      for (size_t i = 0; i < kAnalyserCount; ++i) {
        if (!run[i]) continue;
        const size_t before = findings.size();
        run_analyser(i, bytes, facts, findings);
        engine_.runs[i].fetch_add(1, std::memory_order_relaxed);
        if (!engine_.components[i].empty()) components.push_back(engine_.components[i]);
        for (size_t k = before; k < findings.size(); ++k) {
          merged->findings.emplace_back(std::string(analyser_name(i)), findings[k]);
        }
      }
    };
    if (from_mapping) {
      // Too large to copy: a mapping whose faults turn into zero pages, never a jump out of the
      // analysers. When the file shrank under it, what they concluded is thrown away.
      const MapResult mapped = with_stable_mapping(fd, view.size, [&](auto bytes) {
        ContentView whole = view;
        whole.whole = bytes;
        run_all(whole);
      });
      if (mapped == MapResult::Done) {
        whole_held = true;
      } else if (mapped == MapResult::Changed) {
        findings.resize(first_finding);
        facts.signature.clear();
        facts.details.clear();
      } else {
        run_all(view);  // not mappable: the head is what there is
      }
    } else {
      run_all(view);
    }
    if (!whole_held) {
      engine_.memory.release(sha256, nullptr);
      return;
    }
    std::sort(components.begin(), components.end());
    components.erase(std::unique(components.begin(), components.end()), components.end());
    merged->components = std::make_shared<const std::vector<std::string>>(components);
    merged->format = facts.format;
    merged->signature = facts.signature;
    merged->details = facts.details;
    analysed = scan::AnalysedContent{
        .sha256 = sha256, .analysis = join_components(components), .findings = merged->findings};
    // A light content without findings costs nothing to classify again; not kept.
    const bool keep =
        costly_format(facts.format) || !merged->findings.empty() || options_.yara != nullptr;
    engine_.memory.release(sha256, keep ? std::move(merged) : nullptr);
  }

  Item read_file(Entry& entry, DigestSet& digests, std::vector<std::byte>& buffer) {
    const size_t reference = reference_of(entry.path);
    if (auto reused = try_reuse(entry, reference)) return std::move(*reused);
    Item item;
    item.reference = reference;
    FileRecord r;
    r.path = entry.path;
    fill_metadata(r, entry.st);
    const int dirfd = entry.parent_fd ? entry.parent_fd->get() : AT_FDCWD;
    const int base_flags =
        O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (entry.parent ? O_NOFOLLOW : 0);
    bool stable = false;
    constexpr int kAttempts = 2;
    std::vector<std::byte> head;
    // The size when the read began: a retry after a truncation sees the truncated size.
    std::optional<int64_t> first_size;
    bool changed_once = false;
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
        report_error(entry.path, open_error_rule(err, "FILE_UNREADABLE"), err);
        // The metadata is still worth recording: an unreadable tool is itself notable.
        Item unread;
        unread.reference = reference;
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
      if (attempt == 0 && !take_sparse_budget(before)) {
        Finding f = make_finding("FILE_NOT_HASHED", entry.path);
        f.message =
            "Mostly holes: hashing it would read its size in zeros, past the scan's budget "
            "for sparse files.";
        f.add_evidence("size", std::to_string(before.st_size));
        f.add_evidence("allocated",
                       std::to_string(uint64_t{512} * static_cast<uint64_t>(before.st_blocks)));
        f.add_evidence("budget", std::to_string(options_.sparse_budget_bytes));
        Item unread;
        unread.reference = reference;
        unread.canonical_path = canonical_of(entry);
        unread.record = std::move(r);
        unread.findings.push_back(std::move(f));
        return unread;
      }
      if (!first_size) first_size = before.st_size;
      if (options_.xattrs) r.xattrs = read_xattrs_fd(fd.get());
      uint64_t total = 0;
      ContentFacts facts = analysis_inputs(options_);
      std::vector<Finding> content_findings;
      std::optional<scan::AnalysedContent> analysed;
      DigestValues values;
      const auto expected = static_cast<uint64_t>(before.st_size);
      int read_error = 0;
      const auto before_read = [&, attempt] {
        if (options_.before_read_hook) options_.before_read_hook(entry.path, attempt);
      };
      // The first attempt of a large file: what its analysers need whole (an executable) is
      // read once into a private copy and hashed and analysed from it; anything else is hashed
      // from a mapping and analysed from its head. A retry reads it, which cannot fault.
      MapResult mapped = MapResult::Unavailable;
      HeldContent held(engine_.budget);
      if (attempt == 0 && expected >= kMapThresholdBytes) {
        head.resize(static_cast<size_t>(std::min<uint64_t>(expected, formats::kClassifyHeadBytes)));
        if (!pread_exact(fd.get(), head, 0)) {  // shrank since fstat
          changed_once = true;
          continue;
        }
        auto outcome = HeldContent::Outcome::TooLarge;
        if (wants_whole({head, {}, expected}, facts)) {
          before_read();
          outcome = held.load(fd.get(), expected, /*wait=*/true);
          if (outcome == HeldContent::Outcome::Failed) {
            changed_once = true;
            continue;
          }
        }
        if (outcome == HeldContent::Outcome::Held) {
          digests.update(held.bytes());  // heap memory: not for_each_window, which drops pages
          values = digests.finish();
          mapped = MapResult::Done;
          total = expected;
          analyse({head, held.bytes(), expected}, *values.sha256, true, -1, facts, content_findings,
                  analysed);
        } else {
          mapped = hash_mapped(fd.get(), expected, digests, values, before_read);
          if (mapped == MapResult::Changed) {
            changed_once = true;
            continue;
          }
          if (mapped == MapResult::Done) {
            total = expected;
            analyse({head, {}, expected}, *values.sha256, false, fd.get(), facts, content_findings,
                    analysed);
          }
        }
      } else {
        before_read();
      }
      bool whole_in_buffer = false;
      head.clear();
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
        if (total == 0) {
          whole_in_buffer = filled == expected;
          // A file larger than the buffer keeps its head for the format analyser.
          if (!whole_in_buffer) {
            const auto first = chunk.first(std::min(chunk.size(), formats::kClassifyHeadBytes));
            head.assign(first.begin(), first.end());
          }
        }
        digests.update(chunk);
        total += filled;
        if (filled < want) break;  // EOF before the expected size: the file shrank
      }
      if (read_error != 0) {
        digests.reset();
        report_error(entry.path, "FILE_UNREADABLE", read_error);
        Item unread;
        unread.reference = reference;
        unread.canonical_path = canonical_of(entry);
        unread.record = std::move(r);
        return unread;
      }
      if (mapped != MapResult::Done) {
        values = digests.finish();
        const std::span<const std::byte> whole =
            whole_in_buffer ? std::span<const std::byte>(buffer.data(), static_cast<size_t>(total))
                            : std::span<const std::byte>();
        const std::span<const std::byte> first =
            whole_in_buffer ? whole.first(std::min(whole.size(), formats::kClassifyHeadBytes))
                            : std::span<const std::byte>(head);
        analyse({first, whole, expected}, *values.sha256, whole_in_buffer || expected == 0,
                fd.get(), facts, content_findings, analysed);
      }
      if (options_.after_read_hook) options_.after_read_hook(entry.path, attempt);
      struct stat after {};
      const bool after_ok = ::fstat(fd.get(), &after) == 0;
      stable = after_ok && total == expected && same_content_state(before, after);
      r.sha256 = *values.sha256;
      r.md5 = values.md5;
      r.sha1 = values.sha1;
      r.size = total;
      match_indicators(r, content_findings);
      r.format = std::move(facts.format);
      r.signature = std::move(facts.signature);
      r.details = std::move(facts.details);
      if (stable || attempt + 1 == kAttempts) {
        for (Finding& f : content_findings) item.findings.push_back(std::move(f));
        // Facts of a content that changed while read are not remembered.
        if (stable) item.analysed = std::move(analysed);
      }
      if (!stable) changed_once = true;
      // Changed while read: said even when the retry read it whole (a truncation below a page
      // faults the mapping and the retry sees a stable, smaller file).
      if (changed_once && (stable || attempt + 1 == kAttempts)) {
        r.changed = !stable;
        Finding f = make_finding("FILE_CHANGED_DURING_SCAN", entry.path);
        f.sha256 = r.sha256;
        f.message = stable ? "File changed while it was read; the recorded hash is of its "
                             "content after the change."
                           : "File kept changing while it was read twice; the recorded hash is "
                             "of one moment's content.";
        f.add_evidence("size_before", std::to_string(first_size.value_or(before.st_size)));
        f.add_evidence("size_after", after_ok ? std::to_string(after.st_size) : "unknown");
        f.add_evidence("bytes_read", std::to_string(total));
        item.findings.push_back(std::move(f));
      }
    }
    engine_.files_read.fetch_add(1, std::memory_order_relaxed);
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
  Engine& engine_;
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
  size_t peak_queued_ = 0;  // the longest the file queue grew
  size_t active_ = 0;
  bool stopped_ = false;
  std::atomic<bool> incomplete_{false};
};

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

FileRecord record_of(const scan::ReferenceFile& ref) {
  FileRecord r;
  r.path = ref.path;
  r.type = ref.type;
  r.size = ref.size;
  r.mode = ref.mode;
  r.uid = ref.uid;
  r.gid = ref.gid;
  r.mtime_ns = ref.mtime_ns;
  r.ctime_ns = ref.ctime_ns;
  r.inode = ref.inode;
  r.device = ref.device;
  r.sha256 = ref.sha256;
  r.md5 = ref.md5;
  r.sha1 = ref.sha1;
  r.package = ref.package;
  r.link_target = ref.link_target;
  r.xattrs = ref.xattrs;
  return r;
}

// A file as on_file sees it, from a record read now (FileRecord) or reused (ReferenceFile):
// both carry these fields under these names.
template <typename Record>
SeenFile seen_file(const Record& r, std::string_view package, bool owners_known, int64_t read_ns) {
  return {.path = r.path,
          .type = r.type,
          .mode = r.mode,
          .uid = r.uid,
          .size = r.size,
          .inode = r.inode,
          .device = r.device,
          .mtime_ns = r.mtime_ns,
          .ctime_ns = r.ctime_ns,
          .sha256 = r.sha256,
          .md5 = r.md5,
          .format = r.format,
          .package = package,
          .owners_known = owners_known,
          .changed = r.changed,
          .read_ns = read_ns};
}

// Whether a fresh record says nothing its reference does not: then nothing is written. A racy
// reference is rewritten, so that the new record (taken later) is no longer racy.
bool same_record(const scan::ReferenceFile& ref, const FileRecord& r, int64_t racy_window_ns) {
  return ref.from_complete_scan && !ref.changed && !r.changed && !racy(ref, racy_window_ns) &&
         ref.type == r.type && ref.size == r.size && ref.mode == r.mode && ref.uid == r.uid &&
         ref.gid == r.gid && ref.mtime_ns == r.mtime_ns && ref.ctime_ns == r.ctime_ns &&
         ref.inode == r.inode && ref.device == r.device && ref.sha256 == r.sha256 &&
         ref.package == r.package && ref.xattrs == r.xattrs &&
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
  auto loaded = store.for_each_reference_file(summary.scan_id, [&](scan::ReferenceFile&& file) {
    auto [it, added] =
        analysis_ids.emplace(file.analysis, static_cast<uint32_t>(reference.components.size()));
    if (added) reference.components.push_back(split_components(file.analysis));
    reference.analysis_of.push_back(it->second);
    file.analysis.clear();
    file.analysis.shrink_to_fit();
    reference.files.push_back(std::move(file));
  });
  if (!loaded) {
    (void)store.finish_scan(summary.scan_id, summary.totals, scan::ScanStatus::Failed);
    return tl::unexpected(loaded.error());
  }
  reference.by_path.reserve(reference.files.size());
  for (size_t i = 0; i < reference.files.size(); ++i) {
    reference.by_path.emplace(reference.files[i].path, i);
  }
  Engine engine(options.analysis_max_bytes);
  engine.sparse_left = options.sparse_budget_bytes;
  engine.reference = &reference;
  engine.reuse = !full_pass;
  engine.components = analyser_components(analysis_inputs(options));
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
        if (ref->type == FileType::Regular) {
          ++summary.totals.files;
          summary.totals.bytes += ref->size;
        }
        // The file is as it was; its owner may not be (a package installed or removed).
        const std::string package =
            owners != nullptr ? owners->owner_of(item.canonical_path) : ref->package;
        if (options.on_file) {
          options.on_file(seen_file(*ref, package, owners != nullptr, ref->recorded_ns));
        }
        if (package != ref->package) {
          changes.push_back({.record = record_of(*ref), .replaces = ref->row});
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
          options.on_file(seen_file(record, record.package, owners != nullptr, summary.started_ns));
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
  for (size_t i = 0; i < kAnalyserCount; ++i) {
    if (!engine.components[i].empty()) {
      summary.analyser_runs.emplace_back(std::string(analyser_name(i)), engine.runs[i].load());
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
