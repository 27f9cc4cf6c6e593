#pragma once
/// A small parallel loop over indices, each worker thread with its own State.
///
///   parallel_for<NoState>(files.size(), jobs, &cancel, [&](size_t i, NoState&) { ... });
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace catena {

struct NoState {};

// Runs fn(index, state) for index in [0, n) on `jobs` threads, each with its own State.
template <class State, class Fn>
void parallel_for(size_t n, unsigned jobs, const std::atomic<bool>* cancel, Fn fn) {
  std::atomic<size_t> next{0};
  const auto work = [&] {
    State state;
    while (cancel == nullptr || !cancel->load(std::memory_order_relaxed)) {
      const size_t index = next.fetch_add(1, std::memory_order_relaxed);
      if (index >= n) break;
      fn(index, state);
    }
  };
  std::vector<std::thread> workers;
  for (unsigned job = 1; job < jobs && job < n; ++job) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();
}

}  // namespace catena
