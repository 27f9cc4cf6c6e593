#pragma once
// What the scan's workers and its writer share, private to the scan module: the entries the
// walker hands to the reader, the items the reader hands to the writer (a bounded queue), the
// series' reference records and the engine (facts by content, the analysers' byte budget,
// counters).
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catena/content/analysers.hpp"
#include "catena/core/fs.hpp"
#include "catena/scan/scanner.hpp"

namespace catena::scan {

using scan::FileRecord;
using scan::FileType;

// Results waiting for the writer; workers block when it falls behind, bounding memory.
inline constexpr size_t kMaxPendingResults = 8192;
// Entries a directory listing hands over at a time.
inline constexpr size_t kListChunk = 4096;
inline constexpr size_t kWakeWriterItems = 512;

inline int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

FileType file_type_of(mode_t mode);
void fill_metadata(FileRecord& r, const struct stat& st);

// Reads exactly `out.size()` bytes from `offset`; false on an error or a short file.
bool pread_exact(int fd, std::span<std::byte> out, uint64_t offset);

// The bytes all workers hold in private copies for the analysers: bounded, so that workers
// analysing large executables at the same time wait for each other instead of adding up.
class ByteBudget {
 public:
  explicit ByteBudget(uint64_t capacity) : free_(capacity), capacity_(capacity) {}
  // Takes `bytes`, waiting for them when `wait` (else false when they are not free now); false
  // when more than the whole budget is asked for.
  bool acquire(uint64_t bytes, bool wait);
  void release(uint64_t bytes);

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
  ~HeldContent();
  HeldContent(const HeldContent&) = delete;
  HeldContent& operator=(const HeldContent&) = delete;

  enum class Outcome { Held, TooLarge, Failed };
  // Reads `size` bytes of `fd` into the copy; Failed when the file no longer has them. Without
  // `wait`, bytes the budget cannot give at once are TooLarge too: a worker that holds a claim
  // on a content must not wait for budget that a worker waiting for that claim holds.
  Outcome load(int fd, uint64_t size, bool wait);
  std::span<const std::byte> bytes() const { return {bytes_.get(), static_cast<size_t>(held_)}; }

 private:
  ByteBudget& budget_;
  uint64_t held_ = 0;
  std::unique_ptr<std::byte[]> bytes_;
};

// What the analysers are given besides the bytes: the same for every file of a scan.
content::ContentFacts analysis_inputs(const ScanOptions& options);

// A record taken so soon after the file's last change that a rewrite within the same clock tick
// would not have changed its times (see ScanOptions::racy_window_ns).
inline bool racy(const scan::ReferenceFile& ref, int64_t window_ns) {
  return std::max(ref.record.mtime_ns, ref.record.ctime_ns) + window_ns >= ref.recorded_ns;
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

// The analysers a content's facts came from, as stored ("a;b;c") and as a sorted list.
std::vector<std::string> split_components(std::string_view analysis);
std::string join_components(const std::vector<std::string>& components);

// Facts by content: the stored ones (read once at the start) and those of this scan, shared
// by the workers. A content another worker is analysing is waited for, not analysed twice.
class ContentMemory {
 public:
  void add_stored(scan::AnalysedContent&& facts);
  // The facts this scan produced for the content, or nullptr after claiming it: the caller
  // then analyses it (using stored() where it holds) and must release() it.
  const KnownContent* find_or_claim(const Sha256& sha256);
  const KnownContent* stored(const Sha256& sha256) const;
  // Ends a claim. With facts, later copies use them; without (a light format), they are read.
  void release(const Sha256& sha256, std::shared_ptr<const KnownContent> facts);

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

inline constexpr size_t kNoReference = SIZE_MAX;

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
  std::array<std::string, content::kAnalyserCount> components;  // empty: the analyser does not run
  std::shared_ptr<const std::vector<std::string>> sorted_components;
  std::array<std::atomic<uint64_t>, content::kAnalyserCount> runs{};
  std::atomic<uint64_t> files_read{0};
  std::atomic<uint64_t> files_reused{0};
};

// A bounded multi-producer, single-consumer queue that can be closed.
class ResultQueue {
 public:
  void push(Item item);
  // Waits up to `timeout_ms` for items; returns false once closed and drained.
  bool pop_some(std::vector<Item>& out, int timeout_ms);
  void close();
  // The consumer gave up (store error): producers must not block forever.
  void abandon();

 private:
  std::mutex mutex_;
  std::condition_variable not_full_;
  std::condition_variable not_empty_;
  std::deque<Item> items_;
  bool closed_ = false;
  bool abandoned_ = false;
};

}  // namespace catena::scan
