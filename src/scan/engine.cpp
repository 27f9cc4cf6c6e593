// Bodies of what the scan's workers and writer share (engine.hpp).
#include "engine.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace catena::scan {

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

bool ByteBudget::acquire(uint64_t bytes, bool wait) {
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

void ByteBudget::release(uint64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    free_ += bytes;
  }
  freed_.notify_all();
}

HeldContent::~HeldContent() {
  if (held_ > 0) budget_.release(held_);
}

HeldContent::Outcome HeldContent::load(int fd, uint64_t size, bool wait) {
  if (!budget_.acquire(size, wait)) return Outcome::TooLarge;
  held_ = size;
  // Not zero-filled first: every byte is read over.
  bytes_ = std::make_unique_for_overwrite<std::byte[]>(static_cast<size_t>(size));
  return pread_exact(fd, std::span(bytes_.get(), static_cast<size_t>(size)), 0) ? Outcome::Held
                                                                                : Outcome::Failed;
}

content::ContentFacts analysis_inputs(const ScanOptions& options) {
  content::ContentFacts inputs;
  inputs.format_only = !options.analyse;
  inputs.yara = options.yara;
  inputs.blocked_signers = options.blocked_signers;
  inputs.indicators = options.indicators;
  inputs.yara_max_bytes = options.yara_max_bytes;
  inputs.yara_timeout_seconds = options.yara_timeout_seconds;
  return inputs;
}

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

void ContentMemory::add_stored(scan::AnalysedContent&& facts) {
  KnownContent known;
  known.components =
      std::make_shared<const std::vector<std::string>>(split_components(facts.analysis));
  known.findings = std::move(facts.findings);
  stored_.emplace(facts.sha256, std::move(known));
}

const KnownContent* ContentMemory::find_or_claim(const Sha256& sha256) {
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

const KnownContent* ContentMemory::stored(const Sha256& sha256) const {
  auto it = stored_.find(sha256);
  return it == stored_.end() ? nullptr : &it->second;
}

void ContentMemory::release(const Sha256& sha256, std::shared_ptr<const KnownContent> facts) {
  std::lock_guard lock(mutex_);
  if (facts) {
    scanned_[sha256] = std::move(facts);
  } else {
    scanned_.erase(sha256);
  }
  done_.notify_all();
}

void ResultQueue::push(Item item) {
  std::unique_lock lock(mutex_);
  not_full_.wait(lock, [&] { return items_.size() < kMaxPendingResults || abandoned_; });
  if (abandoned_) return;
  items_.push_back(std::move(item));
  // Waking the writer for every file costs a context switch each; it also wakes on its own
  // every 100 ms, so a signal is only needed once a batch is ready.
  if (items_.size() == kWakeWriterItems) not_empty_.notify_one();
}

bool ResultQueue::pop_some(std::vector<Item>& out, int timeout_ms) {
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

void ResultQueue::close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  not_empty_.notify_all();
}

void ResultQueue::abandon() {
  std::lock_guard lock(mutex_);
  abandoned_ = true;
  items_.clear();
  not_full_.notify_all();
}

}  // namespace catena::scan
