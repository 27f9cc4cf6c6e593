#include "catena/core/mapped.hpp"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>

#include <mutex>

namespace catena {
namespace {

thread_local sigjmp_buf* t_bus_jump = nullptr;

extern "C" void on_sigbus(int signal_number, siginfo_t*, void*) {
  if (t_bus_jump != nullptr) siglongjmp(*t_bus_jump, 1);
  // Not ours: die as SIGBUS would have.
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void install_sigbus_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGBUS, &action, nullptr);
  });
}

}  // namespace

MapResult with_mapping(int fd,
                       uint64_t size,
                       const std::function<void(std::span<const std::byte>)>& use) {
  if (size == 0 || size > SIZE_MAX) return MapResult::Unavailable;
  install_sigbus_handler();
  void* base =
      ::mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (base == MAP_FAILED) return MapResult::Unavailable;
  ::madvise(base, static_cast<size_t>(size), MADV_SEQUENTIAL);
  sigjmp_buf jump;
  volatile MapResult result = MapResult::Done;
  if (sigsetjmp(jump, 1) == 0) {
    t_bus_jump = &jump;
    use(std::span(static_cast<const std::byte*>(base), static_cast<size_t>(size)));
  } else {
    result = MapResult::Changed;
  }
  t_bus_jump = nullptr;
  ::munmap(base, static_cast<size_t>(size));
  return result;
}

}  // namespace catena
