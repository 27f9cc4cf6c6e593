// The scan's walker: workers share a stack of directories and a heap of files (largest
// first); a directory is opened relative to its parent's descriptor, listed a chunk at a time,
// and each entry lstat'd without following; files go to the reader, and a lister that outruns
// the readers reads files itself.
#include "walker.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catena/core/content.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/walk.hpp"
#include "checks.hpp"
#include "reader.hpp"

namespace catena::scan {

class Walker::Impl {
 public:
  Impl(const ScanOptions& options, ResultQueue& results, Engine& engine)
      : options_(options), results_(results), reader_(options, results, engine, incomplete_) {}

  void add_root(const Root& root) {
    Entry entry;
    entry.name = root.path;
    entry.path = root.path;
    entry.root = &root;
    // Roots are followed when they are symlinks, like `find -H`.
    if (::stat(root.path.c_str(), &entry.st) != 0) {
      reader_.report_error(root.path, "DIR_UNREADABLE", errno);
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
    ContentReader content;
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
        results_.push(reader_.read_file(entry, content));
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
            results_.push(reader_.read_file(file, content));
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
    // A root was named by a person and may be a symlink; below it nothing is followed, and a
    // directory is the one its parent's listing saw.
    OpenedDirectory opened =
        open_walk_directory(entry.parent_fd ? entry.parent_fd->get() : AT_FDCWD, entry.name,
                            entry.parent ? &entry.st : nullptr, /*follow=*/!entry.parent);
    if (!opened.fd.valid()) {
      if (opened.error != 0) {
        reader_.report_error(entry.path, reader_.open_error_rule(opened.error, "DIR_UNREADABLE"),
                             opened.error);
      } else {
        reader_.report_problem(entry.path, "DIR_UNREADABLE",
                               describe_walk_problem(opened.problem, 0));
      }
      return;
    }
    if (!S_ISDIR(opened.st.st_mode)) {
      reader_.report_error(entry.path, "DIR_UNREADABLE", ENOTDIR);
      return;
    }
    UniqueFd fd = std::move(opened.fd);
    const struct stat& st = opened.st;
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

    auto dir_fd = std::make_shared<DirFd>();
    dir_fd->fd = std::move(fd);
    std::shared_ptr<const Dir> shared_dir = dir;
    std::shared_ptr<const DirFd> shared_fd = dir_fd;
    const bool one_fs = options_.one_file_system;
    bool depth_reported = false;
    const int listed = list_walk_directory(shared_fd->get(), [&](std::string_view name,
                                                                 unsigned char) {
      Entry child;
      child.parent = shared_dir;
      child.parent_fd = shared_fd;
      child.name = std::string(name);
      child.path = child_path(entry.path, name);
      child.root = entry.root;
      child.root_device = entry.root_device;
      if (excluded(child.path, name)) return;
      if (::fstatat(shared_fd->get(), child.name.c_str(), &child.st, AT_SYMLINK_NOFOLLOW) != 0) {
        reader_.report_error(child.path, errno == ENOENT ? "FILE_VANISHED" : "FILE_UNREADABLE",
                             errno);
        return;
      }
      if (S_ISDIR(child.st.st_mode)) {
        if (one_fs && child.st.st_dev != entry.root_device) return;
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
          return;
        }
        subdirs.push_back(std::move(child));
      } else if (S_ISREG(child.st.st_mode)) {
        files.push_back(std::move(child));
      } else {
        results_.push(reader_.record_special(child));
      }
      if (subdirs.size() + files.size() >= kListChunk) flush(subdirs, files);
    });
    if (listed != 0) {
      reader_.report_error(entry.path, reader_.open_error_rule(listed, "DIR_UNREADABLE"), listed);
    }
    flush(subdirs, files);
  }
  const ScanOptions& options_;
  ResultQueue& results_;
  std::atomic<bool> incomplete_{false};  // before reader_, which keeps a reference to it
  FileReader reader_;
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
};

Walker::Walker(const ScanOptions& options, ResultQueue& results, Engine& engine)
    : impl_(std::make_unique<Impl>(options, results, engine)) {}
Walker::~Walker() = default;
void Walker::add_root(const Root& root) { impl_->add_root(root); }
void Walker::run(unsigned jobs) { impl_->run(jobs); }
void Walker::stop() { impl_->stop(); }
bool Walker::incomplete() const { return impl_->incomplete(); }
size_t Walker::peak_queued_files() const { return impl_->peak_queued_files(); }

}  // namespace catena::scan
