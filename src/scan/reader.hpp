#pragma once
// The scan's reader, private to the scan module (see reader.cpp).
#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/content.hpp"
#include "engine.hpp"

namespace catena::scan {

/// Reads what the walker lists, one file at a time on any worker; what it makes goes to the
/// writer's queue as an Item. Also the scan's way of reporting an error as a finding.
class FileReader {
 public:
  FileReader(const ScanOptions& options,
             ResultQueue& results,
             Engine& engine,
             std::atomic<bool>& incomplete);
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  /// A regular file: reused from its reference record when it is unchanged, else read.
  Item read_file(Entry& entry, ContentReader& reader);
  /// A symlink, FIFO, socket or device: recorded from its lstat, never opened.
  Item record_special(const Entry& entry);
  /// Whether the file's MD5 is wanted (asked for, or a packaged file the audit verifies next).
  bool wants_md5(const Entry& entry) const;
  /// The rule for an open that failed: out of descriptors or memory is the scan's limit (and
  /// makes it incomplete), a vanished file is FILE_VANISHED, anything else `otherwise`.
  std::string_view open_error_rule(int err, std::string_view otherwise);
  /// An error as a finding on the writer's queue.
  void report_error(const std::string& path, std::string_view rule, int err);
  /// The same with the error said in words.
  void report_problem(const std::string& path, std::string_view rule, std::string text);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catena::scan
