#pragma once
// The scan's walker, private to the scan module (see walker.cpp).
#include <cstddef>
#include <memory>

#include "engine.hpp"

namespace catena::scan {

/// Walks the roots on `jobs` workers, handing every entry to the reader and what it makes to
/// the writer's queue.
class Walker {
 public:
  Walker(const ScanOptions& options, ResultQueue& results, Engine& engine);
  ~Walker();
  Walker(const Walker&) = delete;
  Walker& operator=(const Walker&) = delete;

  void add_root(const Root& root);
  /// Returns when every worker is done (or stopped, or cancelled).
  void run(unsigned jobs);
  /// From the writer, when it can take nothing more (a store error).
  void stop();
  /// Some directory could not be walked for a limit of the scan (depth, descriptors, memory).
  bool incomplete() const;
  /// The longest the queue of files waiting to be read grew.
  size_t peak_queued_files() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace catena::scan
