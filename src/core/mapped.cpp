#include "catena/core/mapped.hpp"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <mutex>

namespace catena {
namespace {

thread_local sigjmp_buf* t_bus_jump = nullptr;

// A mapping being read by code that must not be jumped out of: a fault in it is answered by
// replacing the rest of the mapping with zero pages.
struct ZeroFill {
  uintptr_t begin = 0;
  uintptr_t end = 0;  // page-rounded
  volatile sig_atomic_t filled = 0;
};
thread_local ZeroFill* t_zero_fill = nullptr;
uintptr_t g_page_size = 4096;

extern "C" void on_sigbus(int signal_number, siginfo_t* info, void*) {
  ZeroFill* zero = t_zero_fill;
  const auto address = reinterpret_cast<uintptr_t>(info != nullptr ? info->si_addr : nullptr);
  if (zero != nullptr && address >= zero->begin && address < zero->end) {
    // mmap is a plain system call on Linux: safe here in practice, as JITs and sanitizers use it.
    const uintptr_t page = address & ~(g_page_size - 1);
    void* replaced = ::mmap(reinterpret_cast<void*>(page), zero->end - page, PROT_READ,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (replaced != MAP_FAILED) {
      zero->filled = 1;
      return;  // the faulting read runs again, on a zero page
    }
  }
  if (t_bus_jump != nullptr) siglongjmp(*t_bus_jump, 1);
  // Not ours: die as SIGBUS would have.
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_page_size = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, nullptr);
  });
}

// A private read-only mapping of `size` bytes of `fd`, not populated (a mapping of a huge file
// would pin all of it); nullptr when the file cannot be mapped.
const std::byte* map_file(int fd, uint64_t size) {
  if (size == 0 || size > SIZE_MAX) return nullptr;
  install_sigbus_handler();
  void* base = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  return base == MAP_FAILED ? nullptr : static_cast<const std::byte*>(base);
}

}  // namespace

MapResult with_mapping(int fd,
                       uint64_t size,
                       const std::function<void(std::span<const std::byte>)>& use) {
  // for_each_window() brings the pages in (and lets them go) a window at a time.
  const std::byte* base = map_file(fd, size);
  if (base == nullptr) return MapResult::Unavailable;
  ::madvise(const_cast<std::byte*>(base), static_cast<size_t>(size), MADV_SEQUENTIAL);
  sigjmp_buf jump;
  volatile MapResult result = MapResult::Done;
  if (sigsetjmp(jump, 1) == 0) {
    t_bus_jump = &jump;
    use(std::span(base, static_cast<size_t>(size)));
  } else {
    result = MapResult::Changed;
  }
  t_bus_jump = nullptr;
  ::munmap(const_cast<std::byte*>(base), static_cast<size_t>(size));
  return result;
}

MapResult with_stable_mapping(int fd,
                              uint64_t size,
                              const std::function<void(std::span<const std::byte>)>& use) {
  const std::byte* base = map_file(fd, size);
  if (base == nullptr) return MapResult::Unavailable;
  ZeroFill zero;
  zero.begin = reinterpret_cast<uintptr_t>(base);
  zero.end = (zero.begin + static_cast<uintptr_t>(size) + g_page_size - 1) & ~(g_page_size - 1);
  t_zero_fill = &zero;
  use(std::span(base, static_cast<size_t>(size)));
  t_zero_fill = nullptr;
  ::munmap(const_cast<std::byte*>(base), static_cast<size_t>(size));
  return zero.filled != 0 ? MapResult::Changed : MapResult::Done;
}

void for_each_window(std::span<const std::byte> bytes,
                     size_t window,
                     const std::function<void(std::span<const std::byte>)>& consume) {
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  for (size_t offset = 0; offset < bytes.size(); offset += window) {
    const std::span<const std::byte> part =
        bytes.subspan(offset, std::min(window, bytes.size() - offset));
    // Whole pages inside the window only: its edges may be shared with the next window.
    const auto begin = (reinterpret_cast<uintptr_t>(part.data()) + page - 1) & ~(page - 1);
    const auto end = (reinterpret_cast<uintptr_t>(part.data()) + part.size()) & ~(page - 1);
    // Map the cached pages in one call instead of a fault each (MADV_POPULATE_READ, Linux
    // 5.14); an older kernel refuses it and the pages fault in as read.
    if (end > begin) {
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
    }
    consume(part);
    // Dropped from this process, not from the page cache: resident memory stays one window.
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  }
}

}  // namespace catena
