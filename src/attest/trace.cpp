#include "catena/attest/trace.hpp"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "catena/core/content.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/time.hpp"
#include "catena/formats/elf.hpp"

namespace catena::attest {
namespace {

constexpr uint64_t kMaxHashedBytes = uint64_t{4} << 30;
// Executables up to this size are read into a private copy, larger ones mapped (stably).
constexpr uint64_t kCopyBytes = uint64_t{64} << 20;

struct FileFacts {
  std::string sha256;
  std::string interpreter;
  std::string error;
};

// Facts of each executable file, by identity: a build runs the same compiler many times.
class FileCache {
 public:
  const FileFacts& of_fd(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      unreadable_.error = errno_text(errno);
      return unreadable_;
    }
    const Key key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
    const auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    return cache_.emplace(key, compute(fd, st)).first->second;
  }

 private:
  using Key = std::tuple<dev_t, ino_t, off_t, time_t, long>;

  static FileFacts compute(int fd, const struct stat& st) {
    FileFacts facts;
    if (!S_ISREG(st.st_mode)) {
      facts.error = "not a regular file";
      return facts;
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > kMaxHashedBytes) {
      facts.error = "larger than 4 GiB, not hashed";
      return facts;
    }
    // Bytes that cannot fault or change under the ELF parser (core/content.hpp).
    auto read = with_whole_open_content(fd, kCopyBytes, [&](std::span<const std::byte> bytes) {
      facts.sha256 = to_hex(sha256_of(bytes));
      if (auto elf = formats::parse_elf(bytes)) facts.interpreter = elf->interpreter;
    });
    if (!read) {
      facts.sha256.clear();
      facts.interpreter.clear();
      facts.error = read.error().message;
    }
    return facts;
  }

  std::map<Key, FileFacts> cache_;
  FileFacts unreadable_;
};

std::string read_proc_text(const std::string& path, size_t cap) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return {};
  std::string out;
  char buffer[8192];
  while (out.size() < cap) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

std::string read_link(const std::string& path) {
  char buffer[4096];
  const ssize_t n = ::readlink(path.c_str(), buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

class Tracer {
 public:
  Tracer(const TraceOptions& options, TraceResult& result) : options_(options), result_(result) {}

  void on_exec(pid_t pid) {
    TracedExec exec;
    exec.pid = pid;
    const auto parent = parent_of_.find(pid);
    exec.parent_pid = parent != parent_of_.end() ? parent->second : 0;
    exec.time_ns = now_ns();
    const std::string proc = "/proc/" + std::to_string(pid);
    exec.path = read_link(proc + "/exe");
    const std::string cmdline = read_proc_text(proc + "/cmdline", 4096);
    exec.argv0 = cmdline.substr(0, cmdline.find('\0'));
    const UniqueFd fd(::open((proc + "/exe").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      exec.error = "cannot open the executable: " + errno_text(errno);
    } else {
      const FileFacts& facts = files_.of_fd(fd.get());
      exec.sha256 = facts.sha256;
      exec.interpreter = facts.interpreter;
      exec.error = facts.error;
      record_script(pid, fd.get(), exec);
    }
    result_.execs.push_back(std::move(exec));
  }

  // The kernel keeps the name given to execve in the new image's auxiliary vector
  // (AT_EXECFN). When that file is not the executable running, a "#!" script was run: its
  // interpreter is /proc/PID/exe, and the script itself is what a tampered build changes.
  void record_script(pid_t pid, int exe_fd, TracedExec& exec) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string auxv = read_proc_text(proc + "/auxv", 4096);
    uint64_t address = 0;
    for (size_t at = 0; at + 16 <= auxv.size(); at += 16) {
      uint64_t type = 0, value = 0;
      std::memcpy(&type, auxv.data() + at, 8);
      std::memcpy(&value, auxv.data() + at + 8, 8);
      if (type == AT_EXECFN) address = value;
      if (type == AT_NULL) break;
    }
    if (address == 0) return;
    char name[4096];
    struct iovec local {
      name, sizeof name - 1
    };
    struct iovec remote {
      reinterpret_cast<void*>(address), sizeof name - 1
    };
    const ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return;
    name[n] = '\0';
    const std::string execfn(name, ::strnlen(name, static_cast<size_t>(n)));
    if (execfn.empty()) return;
    // A relative name is relative to the process's working directory at exec time.
    const std::string openable = execfn.front() == '/' ? execfn : proc + "/cwd/" + execfn;
    const UniqueFd script(::open(openable.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!script.valid()) return;
    struct stat script_st {
    }, exe_st{};
    if (::fstat(script.get(), &script_st) != 0 || ::fstat(exe_fd, &exe_st) != 0) return;
    if (script_st.st_dev == exe_st.st_dev && script_st.st_ino == exe_st.st_ino) return;
    exec.script = execfn.front() == '/' ? execfn : read_link(proc + "/cwd") + "/" + execfn;
    exec.script_sha256 = files_.of_fd(script.get()).sha256;
  }

  // Executable mappings of a process about to exit: the shared libraries it really used.
  void on_exit(pid_t pid) {
    if (!options_.libraries) return;
    const std::string maps = read_proc_text("/proc/" + std::to_string(pid) + "/maps", 16 << 20);
    const std::string exe = read_link("/proc/" + std::to_string(pid) + "/exe");
    size_t start = 0;
    while (start < maps.size()) {
      const size_t end = std::min(maps.find('\n', start), maps.size());
      const std::string_view line(maps.data() + start, end - start);
      start = end + 1;
      // "addr perms offset dev inode path": the path starts at the first '/' past the inode.
      const size_t perms = line.find(' ');
      if (perms == std::string_view::npos || perms + 4 >= line.size() || line[perms + 3] != 'x')
        continue;
      const size_t slash = line.find('/');
      if (slash == std::string_view::npos) continue;
      const std::string path(line.substr(slash));
      if (path == exe || !seen_libraries_.insert(path).second) continue;
      TracedLibrary library{path, {}};
      const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
      if (fd.valid()) library.sha256 = files_.of_fd(fd.get()).sha256;
      result_.libraries.push_back(std::move(library));
    }
  }

  void on_child(pid_t parent, pid_t child) { parent_of_.emplace(child, parent); }

 private:
  const TraceOptions& options_;
  TraceResult& result_;
  FileCache files_;
  std::unordered_map<pid_t, pid_t> parent_of_;
  std::unordered_set<std::string> seen_libraries_;
};

bool is_group_stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

Result<TraceResult> run_traced(const std::vector<std::string>& argv, const TraceOptions& options) {
  if (argv.empty()) return make_error(ErrorCode::Usage, "no command to run");
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int go[2];
  int failed[2];
  if (::pipe2(go, O_CLOEXEC) != 0) return make_io_error("pipe", errno);
  if (::pipe2(failed, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(go[0]);
    ::close(go[1]);
    return make_io_error("pipe", err);
  }
  TraceResult result;
  result.started_ns = now_ns();
  const pid_t child = ::fork();
  if (child < 0) {
    const int err = errno;
    for (const int fd : {go[0], go[1], failed[0], failed[1]}) ::close(fd);
    return make_io_error("fork", err);
  }
  if (child == 0) {
    // Only async-signal-safe calls from here to exec.
    ::close(go[1]);
    ::close(failed[0]);
    char byte = 0;
    while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
    }
    ::execvp(args[0], args.data());
    const int err = errno;
    [[maybe_unused]] const ssize_t n = ::write(failed[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(go[0]);
  ::close(failed[1]);
  if (options.trace) {
    const long flags = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                       PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL |
                       (options.libraries ? PTRACE_O_TRACEEXIT : 0);
    if (::ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(flags)) == 0) {
      result.traced = true;
    } else {
      result.trace_error = "ptrace refused: " + errno_text(errno);
    }
  } else {
    result.trace_error = "tracing turned off";
  }
  // The child execs only once it is seized, so its first program is seen too.
  [[maybe_unused]] const ssize_t written = ::write(go[1], "g", 1);
  ::close(go[1]);

  Tracer tracer(options, result);
  std::unordered_set<pid_t> alive = {child};
  result.processes = 1;
  bool detaching = false;
  const auto start_detaching = [&] {
    detaching = true;
    for (const pid_t pid : alive) {
      result.left_running.push_back(pid);
      ::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr);
    }
  };
  while (!alive.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, __WALL);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left to wait for (a tid that vanished through exec)
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      alive.erase(pid);
      if (pid == child) {
        if (WIFEXITED(status)) {
          result.exit_code = WEXITSTATUS(status);
        } else {
          result.signal = WTERMSIG(status);
          result.exit_code = 128 + result.signal;
        }
        result.finished_ns = now_ns();
        if (result.traced && !alive.empty()) start_detaching();
      }
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    if (alive.insert(pid).second) {
      // A new process can report its first stop before its parent's fork event.
      ++result.processes;
      if (detaching) result.left_running.push_back(pid);
    }
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
      unsigned long message = 0;
      if (::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &message) == 0) {
        const auto born = static_cast<pid_t>(message);
        tracer.on_child(pid, born);
        if (alive.insert(born).second) {
          ++result.processes;
          if (detaching) result.left_running.push_back(born);
        }
      }
    }
    if (detaching) {
      // Pass a pending signal on; every other stop is ours and is simply released.
      ::ptrace(PTRACE_DETACH, pid, nullptr,
               reinterpret_cast<void*>(static_cast<long>(event == 0 ? sig : 0)));
      alive.erase(pid);
      continue;
    }
    int inject = 0;
    switch (event) {
      case PTRACE_EVENT_EXEC: {
        unsigned long former = 0;
        if (::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former) == 0 &&
            static_cast<pid_t>(former) != pid) {
          alive.erase(static_cast<pid_t>(former));
        }
        tracer.on_exec(pid);
        break;
      }
      case PTRACE_EVENT_EXIT:
        tracer.on_exit(pid);
        break;
      case PTRACE_EVENT_STOP:
        if (is_group_stop_signal(sig)) {
          // Job control: stay stopped until SIGCONT, as without a tracer.
          ::ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);
          continue;
        }
        break;
      case 0:
        inject = sig;
        break;
      default:
        break;
    }
    ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(inject)));
  }
  if (result.finished_ns == 0) result.finished_ns = now_ns();
  int err = 0;
  ::fcntl(failed[0], F_SETFL, O_NONBLOCK);
  if (::read(failed[0], &err, sizeof err) == static_cast<ssize_t>(sizeof err)) {
    result.start_error = "cannot execute " + argv[0] + ": " + errno_text(err);
  }
  ::close(failed[0]);
  return result;
}

}  // namespace catena::attest
