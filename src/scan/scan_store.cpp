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

}  // namespace catena::scan
