#include "progress.hpp"

#include <cstdio>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"

namespace catena::cli {

ProgressLine::ProgressLine(bool enabled) : enabled_(enabled) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const scan::Progress& progress) {
  if (!enabled_ || progress.elapsed_ns < 1'000'000'000) return;
  const int64_t now = monotonic_ns();
  if (shown_ && now - last_draw_ns_ < 200'000'000) return;
  last_draw_ns_ = now;
  const double seconds = static_cast<double>(progress.elapsed_ns) / 1e9;
  const double rate = seconds > 0 ? static_cast<double>(progress.bytes) / seconds : 0;
  std::fprintf(stderr, "\r\x1b[K%llu files, %s, %s/s, %.1f s",
               static_cast<unsigned long long>(progress.files), human_bytes(progress.bytes).c_str(),
               human_bytes(static_cast<uint64_t>(rate)).c_str(), seconds);
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace catena::cli
