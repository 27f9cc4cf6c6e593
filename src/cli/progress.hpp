#pragma once
// The progress line on stderr: only on a terminal, only after the first second.
#include "catena/scan/scanner.hpp"

namespace catena::cli {

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled);
  ~ProgressLine();
  void update(const scan::Progress& progress);
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;
  int64_t last_draw_ns_ = 0;
};

}  // namespace catena::cli
