#include "catena/scan/scan_store.hpp"

namespace catena::scan {

std::string_view scan_status_name(ScanStatus status) {
  switch (status) {
    case ScanStatus::Running:
      return "running";
    case ScanStatus::Complete:
      return "complete";
    case ScanStatus::Interrupted:
      return "interrupted";
    case ScanStatus::Failed:
      return "failed";
  }
  return "running";
}

std::string_view file_type_name(FileType type) {
  switch (type) {
    case FileType::Regular:
      return "file";
    case FileType::Symlink:
      return "symlink";
    case FileType::Fifo:
      return "fifo";
    case FileType::Socket:
      return "socket";
    case FileType::CharDevice:
      return "char_device";
    case FileType::BlockDevice:
      return "block_device";
    case FileType::Other:
      return "other";
  }
  return "other";
}

void FindingWriter::add(Finding&& finding) {
  counts_.add(finding.severity);
  batch_.push_back(std::move(finding));
  if (batch_.size() >= kBatch) (void)flush();
}

Status FindingWriter::flush() {
  if (!error_ && !batch_.empty()) {
    auto added = store_.add_batch(scan_id_, {}, batch_);
    if (!added) error_ = added.error();
  }
  batch_.clear();
  if (error_) return tl::unexpected(*error_);
  return {};
}

}  // namespace catena::scan
