#include "catena/core/time.hpp"

#include <cstdio>
#include <ctime>

namespace catena {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string format_rfc3339(int64_t ns_since_epoch) {
  int64_t seconds = ns_since_epoch / 1'000'000'000;
  int64_t fraction = ns_since_epoch % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    seconds -= 1;
  }
  const time_t t = static_cast<time_t>(seconds);
  tm utc{};
  if (gmtime_r(&t, &utc) == nullptr) return "invalid-time";
  char buffer[64];
  const size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::string out(buffer, length);
  if (fraction != 0) {
    std::snprintf(buffer, sizeof buffer, ".%09lld", static_cast<long long>(fraction));
    out += buffer;
  }
  out += 'Z';
  return out;
}

}  // namespace catena
