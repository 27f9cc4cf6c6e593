#include "catena/attest/trace.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/auxv.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/user.h>
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
  std::string md5;  // what dpkg's md5sums record, to tell a package's file from a look-alike
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
    // ctime too: a file rewritten in place with its size and mtime put back is another file.
    const Key key{st.st_dev,          st.st_ino,         st.st_size,        st.st_mtim.tv_sec,
                  st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
    const auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    return cache_.emplace(key, compute(fd, st)).first->second;
  }

 private:
  using Key = std::tuple<dev_t, ino_t, off_t, time_t, long, time_t, long>;

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
      DigestSet digests(DigestSet::kSha256 | DigestSet::kMd5);
      digests.update(bytes);
      const DigestValues values = digests.finish();
      facts.sha256 = to_hex(*values.sha256);
      facts.md5 = to_hex(*values.md5);
      if (auto elf = formats::parse_elf(bytes)) facts.interpreter = elf->interpreter;
    });
    if (!read) {
      facts.sha256.clear();
      facts.md5.clear();
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

// What the build's seccomp filter hands the tracer (SECCOMP_RET_TRACE data): a call to
// refuse, or a mapping to record before it is made.
enum FilterStop : uint16_t {
  kUntracedClone = 1,
  kAttach = 2,
  kMapExec = 3,      // mmap/mmap2 of a file, executable
  kProtectExec = 4,  // mprotect/pkey_mprotect adding execute permission
  kOldMmap = 5,      // i386 old_mmap: its arguments are in memory
};

constexpr uint32_t kProtExec = 0x4, kMapAnonymous = 0x20;

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
      exec.md5 = facts.md5;
      exec.interpreter = facts.interpreter;
      exec.error = facts.error;
      record_script(pid, fd.get(), exec);
    }
    result_.execs.push_back(exec);
    if (exec.interpreter.empty()) record_loaded_program(pid, exec);
    // The kernel mapped the program's loader itself: no mmap of the build's shows it.
    if (options_.libraries) record_mapped(pid, 0, UINT64_MAX);
  }

  // The kernel keeps the name given to execve in the new image's auxiliary vector
  // (AT_EXECFN). When that file is not the executable running, a "#!" script was run: its
  // interpreter is /proc/PID/exe, and the script itself is what a tampered build changes. The
  // name is opened as the process sees it (its root, its working directory, its descriptors
  // for /dev/fd/N), while it is stopped at its exec.
  void record_script(pid_t pid, int exe_fd, TracedExec& exec) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string auxv = read_proc_text(proc + "/auxv", 4096);
    // A 32-bit program's vector holds 4-byte words.
    unsigned char ident[5] = {};
    const bool narrow =
        ::pread(exe_fd, ident, sizeof ident, 0) == sizeof ident && ident[4] == 1 /* ELFCLASS32 */;
    const size_t word = narrow ? 4 : 8;
    uint64_t address = 0;
    for (size_t at = 0; at + 2 * word <= auxv.size(); at += 2 * word) {
      uint64_t type = 0, value = 0;
      std::memcpy(&type, auxv.data() + at, word);
      std::memcpy(&value, auxv.data() + at + word, word);
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
    std::string shown;
    const UniqueFd script = open_as_process(proc, execfn, shown);
    if (!script.valid()) {
      result_.incomplete.push_back("pid " + std::to_string(pid) + ": cannot open " + shown +
                                   ", the name it was run by: " + errno_text(errno));
      return;
    }
    struct stat script_st {
    }, exe_st{};
    if (::fstat(script.get(), &script_st) != 0 || ::fstat(exe_fd, &exe_st) != 0) return;
    if (script_st.st_dev == exe_st.st_dev && script_st.st_ino == exe_st.st_ino) return;
    // Not the program and not a script: the name was pointed elsewhere after the exec.
    char magic[2] = {};
    if (::pread(script.get(), magic, 2, 0) != 2 || magic[0] != '#' || magic[1] != '!') {
      result_.incomplete.push_back("pid " + std::to_string(pid) + ": " + shown +
                                   ", the name it was run by, no longer names what ran");
      return;
    }
    exec.script = shown;
    const FileFacts& facts = files_.of_fd(script.get());
    exec.script_sha256 = facts.sha256;
    if (facts.sha256.empty()) {
      result_.incomplete.push_back("script " + shown + ": " + facts.error);
    }
  }

  // Opens `name` as process `proc` resolves it; `shown` is the name to record.
  static UniqueFd open_as_process(const std::string& proc,
                                  const std::string& name,
                                  std::string& shown) {
    constexpr int kFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    // /dev/fd/N and /proc/self/fd/N are the process's own descriptors (a memfd, fexecve).
    for (const std::string_view prefix : {"/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/"}) {
      if (!name.starts_with(prefix)) continue;
      const std::string number = name.substr(prefix.size());
      if (number.empty() || number.find_first_not_of("0123456789") != std::string::npos) break;
      const std::string link = proc + "/fd/" + number;
      shown = read_link(link);
      if (shown.empty()) shown = name;
      return UniqueFd(::open(link.c_str(), kFlags));
    }
    if (name.front() == '/') {
      // In the process's root: its mount namespace, its chroot; symlinks resolved there too.
      shown = name;
      const UniqueFd root(::open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!root.valid()) return UniqueFd();
      struct open_how how {};
      how.flags = kFlags;
      how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
      return UniqueFd(
          static_cast<int>(::syscall(SYS_openat2, root.get(), name.c_str(), &how, sizeof how)));
    }
    shown = read_link(proc + "/cwd") + "/" + name;
    const UniqueFd cwd(::open((proc + "/cwd").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!cwd.valid()) return UniqueFd();
    return UniqueFd(::openat(cwd.get(), name.c_str(), kFlags));
  }

  // Executable file mappings of a process that overlap [low, high): the shared libraries it
  // runs, read through /proc/PID/map_files (the mapped file itself: one deleted, renamed over
  // or held only by a memfd is still read) or, without the capability that needs, by its
  // path when that still names the mapped inode.
  void record_mapped(pid_t pid, uint64_t low, uint64_t high) {
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string maps = read_proc_text(proc + "/maps", 16 << 20);
    struct stat exe_st {};
    const bool have_exe = ::stat((proc + "/exe").c_str(), &exe_st) == 0;
    size_t start = 0;
    while (start < maps.size()) {
      const size_t end = std::min(maps.find('\n', start), maps.size());
      const std::string_view line(maps.data() + start, end - start);
      start = end + 1;
      // "start-end perms offset dev inode path": the path starts at the first '/'.
      const size_t perms = line.find(' ');
      const size_t dash = line.find('-');
      if (perms == std::string_view::npos || dash > perms || perms + 4 >= line.size()) continue;
      const uint64_t from = std::strtoull(std::string(line.substr(0, dash)).c_str(), nullptr, 16);
      const uint64_t to =
          std::strtoull(std::string(line.substr(dash + 1, perms - dash - 1)).c_str(), nullptr, 16);
      if (to <= low || from >= high) continue;
      // Called before an mprotect takes effect: the range it makes executable counts too.
      if (line[perms + 3] != 'x' && high == UINT64_MAX) continue;
      const size_t slash = line.find('/');
      if (slash == std::string_view::npos) continue;  // anonymous, [vdso], [heap]
      const std::string path(line.substr(slash));
      UniqueFd fd(::open((proc + "/map_files/" + std::string(line.substr(0, perms))).c_str(),
                         O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
      struct stat st {};
      if (!fd.valid()) {
        UniqueFd by_name(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        if (by_name.valid() && ::fstat(by_name.get(), &st) == 0 &&
            std::to_string(st.st_ino) == inode_of(line)) {
          fd = std::move(by_name);
        }
      }
      if (fd.valid() && ::fstat(fd.get(), &st) == 0 && have_exe && st.st_dev == exe_st.st_dev &&
          st.st_ino == exe_st.st_ino) {
        continue;  // the program itself, recorded as the tool
      }
      record_library(path, fd.valid() ? files_.of_fd(fd.get()).sha256 : std::string());
    }
  }

  void record_library(const std::string& path, const std::string& digest) {
    if (!seen_libraries_.insert(path + '\0' + digest).second) return;
    result_.libraries.push_back({path, digest});
  }

  // A file about to be mapped executable, read through the descriptor the process maps (a
  // copy of it: no permission of the file's is asked again, a memfd is read as well) while
  // the calling thread waits: what is hashed is what the mapping will hold.
  void record_mapping(pid_t pid, int tracee_fd) {
    const std::string proc = "/proc/" + std::to_string(pid);
    std::string path = read_link(proc + "/fd/" + std::to_string(tracee_fd));
    if (path.empty()) return;  // no such descriptor: the call fails
    const UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    UniqueFd fd(pidfd.valid()
                    ? static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd.get(), tracee_fd, 0))
                    : -1);
    if (!fd.valid()) {
      fd = UniqueFd(::open((proc + "/fd/" + std::to_string(tracee_fd)).c_str(),
                           O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    }
    struct stat st {};
    if (fd.valid() && ::fstat(fd.get(), &st) == 0 && S_ISCHR(st.st_mode) &&
        st.st_rdev == makedev(1, 5)) {
      return;  // /dev/zero: anonymous memory by an old idiom
    }
    struct stat exe_st {};
    if (fd.valid() && ::stat((proc + "/exe").c_str(), &exe_st) == 0 && st.st_dev == exe_st.st_dev &&
        st.st_ino == exe_st.st_ino) {
      return;  // the program itself, recorded as the tool
    }
    const FileFacts* facts = fd.valid() ? &files_.of_fd(fd.get()) : nullptr;
    record_library(path, facts != nullptr ? facts->sha256 : std::string());
  }

  // A stop the build's filter asked for.
  void on_filter_stop(pid_t pid) {
    unsigned long data = 0;
    if (::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &data) != 0) return;
    if (data == kUntracedClone || data == kAttach) {
      refuse(pid, data);
      return;
    }
    struct __ptrace_syscall_info info {};
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, pid, reinterpret_cast<void*>(sizeof info), &info) <= 0 ||
        info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
      return;
    }
    const auto& args = info.seccomp.args;
    if (data == kMapExec) {
      record_mapping(pid, static_cast<int>(args[4]));
    } else if (data == kOldMmap) {
      uint32_t packed[6] = {};  // addr, len, prot, flags, fd, offset
      struct iovec local {
        packed, sizeof packed
      };
      struct iovec remote {
        reinterpret_cast<void*>(args[0]), sizeof packed
      };
      if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) == sizeof packed &&
          (packed[2] & kProtExec) != 0 && (packed[3] & kMapAnonymous) == 0) {
        record_mapping(pid, static_cast<int>(packed[4]));
      }
    } else if (data == kProtectExec) {
      record_mapped(pid, args[0], args[0] + args[1]);
    }
  }

  // The inode column of a maps line.
  static std::string inode_of(std::string_view line) {
    size_t at = 0;
    for (int field = 0; field < 4; ++field) {
      at = line.find(' ', at);
      if (at == std::string_view::npos) return {};
      at = line.find_first_not_of(' ', at);
      if (at == std::string_view::npos) return {};
    }
    return std::string(line.substr(at, line.find(' ', at) - at));
  }

  // ld.so run as the program (`/lib64/ld-linux-x86-64.so.2 ./payload`): the program it will
  // load is what the build ran. It is recorded as a tool too, read by the name ld.so was
  // given, as the process sees it.
  void record_loaded_program(pid_t pid, const TracedExec& loader) {
    const std::string base = loader.path.substr(loader.path.rfind('/') + 1);
    if (!base.starts_with("ld-") || base.find(".so") == std::string::npos) return;
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string cmdline = read_proc_text(proc + "/cmdline", 1 << 16);
    std::vector<std::string> args;
    for (size_t at = 0; at < cmdline.size();) {
      const size_t end = std::min(cmdline.find('\0', at), cmdline.size());
      args.emplace_back(cmdline.substr(at, end - at));
      at = end + 1;
    }
    static const std::set<std::string> kWithValue = {
        "--library-path",         "--inhibit-rpath",    "--audit", "--preload", "--argv0",
        "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"};
    std::string program;
    for (size_t i = 1; i < args.size(); ++i) {
      if (kWithValue.contains(args[i])) {
        ++i;
      } else if (!args[i].starts_with("--")) {
        program = args[i];
        break;
      }
    }
    if (program.empty()) return;  // --list, --help: ld.so runs nothing else
    TracedExec exec;
    exec.pid = loader.pid;
    exec.parent_pid = loader.parent_pid;
    exec.time_ns = loader.time_ns;
    exec.argv0 = program;
    exec.interpreter = loader.path;
    std::string shown;
    const UniqueFd fd = open_as_process(proc, program, shown);
    exec.path = shown;
    if (!fd.valid()) {
      exec.error = "cannot open the program ld.so was given: " + errno_text(errno);
      result_.incomplete.push_back("pid " + std::to_string(pid) + ": " + exec.error);
    } else {
      const FileFacts& facts = files_.of_fd(fd.get());
      exec.sha256 = facts.sha256;
      exec.md5 = facts.md5;
      exec.error = facts.error;
    }
    result_.execs.push_back(std::move(exec));
  }

  void on_child(pid_t parent, pid_t child) { parent_of_.emplace(child, parent); }

  // A call the build's filter stopped: recorded and refused (EPERM), the process going on.
  void refuse(pid_t pid, unsigned long data) {
    struct user_regs_struct regs {};
    if (::ptrace(PTRACE_GETREGS, pid, nullptr, &regs) != 0) return;
    // A 32-bit call (int 0x80) passes its arguments in other registers.
    const bool compat = regs.cs == 0x23;
    const unsigned long long target = compat ? regs.rcx : regs.rsi;
    const std::string who = "pid " + std::to_string(pid) + " (" +
                            read_link("/proc/" + std::to_string(pid) + "/exe") + ")";
    if (data == kUntracedClone) {
      result_.refused.push_back(who + ": clone with CLONE_UNTRACED");
    } else if (data == kAttach) {
      result_.refused.push_back(who + ": ptrace attach to pid " + std::to_string(target));
    }
    regs.orig_rax = static_cast<unsigned long long>(-1);  // skip the call ...
    regs.rax = static_cast<unsigned long long>(-EPERM);   // ... and fail it
    ::ptrace(PTRACE_SETREGS, pid, nullptr, &regs);
  }

 private:
  const TraceOptions& options_;
  TraceResult& result_;
  FileCache files_;
  std::unordered_map<pid_t, pid_t> parent_of_;
  std::unordered_set<std::string> seen_libraries_;
};

// What the child reports through its pipe before exec.
constexpr int kExecFailed = 1, kFilterFailed = 2, kIdentityFailed = 3;
#if defined(__x86_64__)
constexpr bool kFilterSupported = true;
#else
constexpr bool kFilterSupported = false;
#endif

// A BPF program assembled with named jump targets, so that its branches stay readable.
class FilterBuilder {
 public:
  void load(uint32_t offset) { code_.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offset)); }
  void ret(uint32_t value) { code_.push_back(BPF_STMT(BPF_RET | BPF_K, value)); }
  // if (A == k) goto yes, else fall through; or A & k for `set`.
  void jump_if(uint32_t k, const std::string& yes, bool set = false) {
    fixups_.push_back({code_.size(), yes});
    code_.push_back(BPF_JUMP(BPF_JMP | (set ? BPF_JSET : BPF_JEQ) | BPF_K, k, 0, 0));
  }
  void jump_if_at_least(uint32_t k, const std::string& yes) {
    fixups_.push_back({code_.size(), yes});
    code_.push_back(BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, 0, 0));
  }
  void label(const std::string& name) { labels_[name] = code_.size(); }
  std::vector<sock_filter> finish() {
    for (const auto& [at, name] : fixups_) {
      const size_t distance = labels_.at(name) - at - 1;
      // A conditional jump reaches 255 instructions ahead; the filter is far smaller.
      if (distance > 255) std::abort();
      code_[at].jt = static_cast<uint8_t>(distance);
    }
    return code_;
  }

 private:
  std::vector<sock_filter> code_;
  std::vector<std::pair<size_t, std::string>> fixups_;
  std::map<std::string, size_t> labels_;
};

constexpr uint32_t kNrOffset = offsetof(struct seccomp_data, nr);
constexpr uint32_t kArchOffset = offsetof(struct seccomp_data, arch);
constexpr uint32_t arg_low(int n) {
  return static_cast<uint32_t>(offsetof(struct seccomp_data, args) + 8 * static_cast<size_t>(n));
}

// Installed in the build before its first exec, inherited by every descendant: a clone that
// would leave the trace (CLONE_UNTRACED) and a ptrace attach are stopped and refused by the
// tracer (and recorded); clone3, whose flags a filter cannot read, fails with ENOSYS so that
// the C library falls back to clone. The 32-bit system-call table of a 64-bit kernel is
// filtered by its own numbers; x32 calls are refused. Without a tracer (one detached after
// the build), a SECCOMP_RET_TRACE call fails with ENOSYS: refused as well.
// With `trap_maps`, a file mapped executable (mmap, or mprotect adding PROT_EXEC) stops for
// the tracer to hash it before the mapping exists.
std::vector<sock_filter> build_filter(bool allow_ptrace, bool trap_maps) {
  constexpr uint32_t kTrace = SECCOMP_RET_TRACE;
  constexpr uint32_t kNoSys = SECCOMP_RET_ERRNO | ENOSYS;
  FilterBuilder f;
  f.load(kArchOffset);
  f.jump_if(AUDIT_ARCH_X86_64, "x86_64");
  f.jump_if(AUDIT_ARCH_I386, "i386");
  f.ret(SECCOMP_RET_ALLOW);
  // 0: no such call in that table.
  struct Table {
    const char* name;
    uint32_t clone, clone3, ptrace, mmap, old_mmap, mprotect, pkey_mprotect;
  };
  for (const Table& t : {Table{"x86_64", 56, 435, 101, 9, 0, 10, 329},
                         Table{"i386", 120, 435, 26, 192, 90, 125, 380}}) {
    const std::string n = t.name;
    f.label(n);
    f.load(kNrOffset);
    if (n == "x86_64") f.jump_if_at_least(0x40000000, "nosys");  // x32
    f.jump_if(t.clone3, "nosys");
    f.jump_if(t.clone, n + "-clone");
    if (!allow_ptrace) f.jump_if(t.ptrace, n + "-ptrace");
    if (trap_maps) {
      f.jump_if(t.mmap, "mmap");
      if (t.old_mmap != 0) f.jump_if(t.old_mmap, "old-mmap");
      f.jump_if(t.mprotect, "mprotect");
      f.jump_if(t.pkey_mprotect, "mprotect");
    }
    f.ret(SECCOMP_RET_ALLOW);
    f.label(n + "-clone");
    f.load(arg_low(0));
    f.jump_if(CLONE_UNTRACED, "untraced", true);
    f.ret(SECCOMP_RET_ALLOW);
    if (!allow_ptrace) {
      f.label(n + "-ptrace");
      f.load(arg_low(0));
      f.jump_if(PTRACE_ATTACH, "attach");
      f.jump_if(PTRACE_SEIZE, "attach");
      f.ret(SECCOMP_RET_ALLOW);
    }
  }
  if (trap_maps) {
    // mmap(addr, length, prot, flags, fd, offset); mprotect(addr, length, prot)
    f.label("mmap");
    f.load(arg_low(2));
    f.jump_if(kProtExec, "mmap-exec", true);
    f.ret(SECCOMP_RET_ALLOW);
    f.label("mmap-exec");
    f.load(arg_low(3));
    f.jump_if(kMapAnonymous, "allow", true);
    f.ret(kTrace | kMapExec);
    f.label("mprotect");
    f.load(arg_low(2));
    f.jump_if(kProtExec, "mprotect-exec", true);
    f.ret(SECCOMP_RET_ALLOW);
    f.label("mprotect-exec");
    f.ret(kTrace | kProtectExec);
    f.label("old-mmap");
    f.ret(kTrace | kOldMmap);
  }
  f.label("allow");
  f.ret(SECCOMP_RET_ALLOW);
  f.label("nosys");
  f.ret(kNoSys);
  f.label("untraced");
  f.ret(kTrace | kUntracedClone);
  f.label("attach");
  f.ret(kTrace | kAttach);
  return f.finish();
}

bool is_group_stop_signal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

Result<TraceResult> run_traced(const std::vector<std::string>& argv, const TraceOptions& options) {
  if (argv.empty()) return make_error(ErrorCode::Usage, "no command to run");
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int go[2] = {-1, -1};
  int failed[2] = {-1, -1};
  int ready[2] = {-1, -1};
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(failed, O_CLOEXEC) != 0 ||
      ::pipe2(ready, O_CLOEXEC) != 0) {
    const int err = errno;
    for (const int fd : {go[0], go[1], failed[0], failed[1], ready[0], ready[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return make_io_error("pipe", err);
  }
  TraceResult result;
  result.started_ns = now_ns();
  // Built before the fork: the child may only make async-signal-safe calls.
  std::vector<sock_filter> filter = build_filter(options.allow_ptrace, options.libraries);
  const struct sock_fprog program { static_cast<unsigned short>(filter.size()), filter.data() };
  const bool unprivileged = ::geteuid() != 0 || options.run_as.has_value();
  const TraceOptions::Identity* identity = options.run_as ? &*options.run_as : nullptr;
  // A caller that made itself non-dumpable (it holds a key) would make the child so too, and
  // a non-dumpable process cannot be traced without CAP_SYS_PTRACE: the child undoes it
  // before the tracer attaches (its exec resets it anyway).
  const bool undumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0;
  const pid_t child = ::fork();
  if (child < 0) {
    const int err = errno;
    for (const int fd : {go[0], go[1], failed[0], failed[1], ready[0], ready[1]}) ::close(fd);
    return make_io_error("fork", err);
  }
  if (child == 0) {
    // Only async-signal-safe calls from here to exec.
    ::close(go[1]);
    ::close(failed[0]);
    ::close(ready[0]);
    if (undumpable) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    [[maybe_unused]] const ssize_t told = ::write(ready[1], "r", 1);
    ::close(ready[1]);
    char byte = 0;
    while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
    }
    if (identity != nullptr &&
        (::setgroups(identity->groups.size(), identity->groups.data()) != 0 ||
         ::setgid(identity->gid) != 0 || ::setuid(identity->uid) != 0)) {
      const int report[2] = {kIdentityFailed, errno};
      [[maybe_unused]] const ssize_t n = ::write(failed[1], report, sizeof report);
      ::_exit(127);
    }
    if (byte == 't' && kFilterSupported) {
      // Without CAP_SYS_ADMIN a filter needs no_new_privs: set-user-ID programs in the build
      // then run without their privileges.
      if ((unprivileged && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ||
          ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) {
        const int report[2] = {kFilterFailed, errno};
        [[maybe_unused]] const ssize_t n = ::write(failed[1], report, sizeof report);
      }
    }
    ::execvp(args[0], args.data());
    const int report[2] = {kExecFailed, errno};
    [[maybe_unused]] const ssize_t n = ::write(failed[1], report, sizeof report);
    ::_exit(127);
  }
  ::close(go[0]);
  ::close(failed[1]);
  ::close(ready[1]);
  char readiness = 0;
  while (::read(ready[0], &readiness, 1) < 0 && errno == EINTR) {
  }
  ::close(ready[0]);
  if (options.trace) {
    const long flags = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                       PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL | PTRACE_O_TRACESECCOMP |
                       (options.libraries && !kFilterSupported ? PTRACE_O_TRACEEXIT : 0);
    if (::ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(flags)) == 0) {
      result.traced = true;
    } else {
      result.trace_error = "ptrace refused: " + errno_text(errno);
    }
  } else {
    result.trace_error = "tracing turned off";
  }
  // The child execs only once it is seized, so its first program is seen too; it installs the
  // filter only when traced (a SECCOMP_RET_TRACE call without a tracer fails).
  [[maybe_unused]] const ssize_t written = ::write(go[1], result.traced ? "t" : "u", 1);
  ::close(go[1]);

  Tracer tracer(options, result);
  std::unordered_set<pid_t> alive = {child};
  // A new process can report its first stop before its parent's fork event: it is held
  // stopped until the event names its parent, so every exec knows its parent. One that is
  // reaped before its event (killed while held) must not be counted alive afterwards.
  std::unordered_set<pid_t> announced = {child};
  std::unordered_set<pid_t> held;
  std::unordered_set<pid_t> reaped_early;
  result.processes = 1;
  result.left_running_action = options.left_running;
  bool detaching = false;
  // Ending what the command left running: SIGTERM sent, SIGKILL due at `kill_at`.
  bool ending = false, killed = false;
  int64_t kill_at = 0;
  const auto start_ending = [&] {
    ending = true;
    kill_at = now_ns() + int64_t{options.kill_grace_ms} * 1'000'000;
    for (const pid_t pid : alive) result.left_running.push_back(pid);
    for (const pid_t pid : alive) ::kill(pid, SIGTERM);
  };
  const auto start_detaching = [&] {
    detaching = true;
    for (const pid_t pid : alive) {
      result.left_running.push_back(pid);
      ::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr);
    }
    // A held process is stopped already: released with the others.
    for (const pid_t pid : held) {
      ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
      alive.erase(pid);
    }
    held.clear();
  };
  while (!alive.empty()) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, __WALL | (ending && !killed ? WNOHANG : 0));
    if (pid == 0) {
      // Polled while the grace period runs; what is still there then is killed.
      if (now_ns() >= kill_at) {
        killed = true;
        for (const pid_t p : alive) ::kill(p, SIGKILL);
        for (const pid_t p : held) ::kill(p, SIGKILL);
      } else {
        ::usleep(2000);
      }
      continue;
    }
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: nothing left to wait for (a tid that vanished through exec)
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      alive.erase(pid);
      held.erase(pid);
      if (!announced.erase(pid)) reaped_early.insert(pid);
      if (pid == child) {
        if (WIFEXITED(status)) {
          result.exit_code = WEXITSTATUS(status);
        } else {
          result.signal = WTERMSIG(status);
          result.exit_code = 128 + result.signal;
        }
        result.finished_ns = now_ns();
        if (result.traced && !alive.empty()) {
          if (options.left_running == LeftRunning::Detach) start_detaching();
          if (options.left_running == LeftRunning::Kill) start_ending();
          if (options.left_running == LeftRunning::Wait) {
            result.left_running.assign(alive.begin(), alive.end());
          }
        }
      }
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    if (alive.insert(pid).second) {
      ++result.processes;
      if (detaching) result.left_running.push_back(pid);
    }
    const int sig = WSTOPSIG(status);
    const int event = status >> 16;
    if (!detaching && !announced.contains(pid)) {
      held.insert(pid);  // released by its parent's fork event
      continue;
    }
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
      unsigned long message = 0;
      if (::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &message) == 0) {
        const auto born = static_cast<pid_t>(message);
        tracer.on_child(pid, born);
        if (reaped_early.erase(born) == 0) {
          announced.insert(born);
          if (alive.insert(born).second) {
            ++result.processes;
            if (detaching) result.left_running.push_back(born);
          }
          if (held.erase(born) != 0) ::ptrace(PTRACE_CONT, born, nullptr, nullptr);
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
      case PTRACE_EVENT_EXIT:  // where no filter shows mappings as they are made
        tracer.record_mapped(pid, 0, UINT64_MAX);
        break;
      case PTRACE_EVENT_SECCOMP:
        tracer.on_filter_stop(pid);
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
  int report[2] = {};
  ::fcntl(failed[0], F_SETFL, O_NONBLOCK);
  while (::read(failed[0], report, sizeof report) == static_cast<ssize_t>(sizeof report)) {
    if (report[0] == kExecFailed) {
      result.start_error = "cannot execute " + argv[0] + ": " + errno_text(report[1]);
    } else if (report[0] == kIdentityFailed) {
      result.start_error = "cannot run the build as the user asked for: " + errno_text(report[1]);
    } else {
      result.incomplete.push_back("the build's system-call filter could not be installed (" +
                                  errno_text(report[1]) + "): it could have left the trace");
    }
  }
  if (result.traced && !kFilterSupported) {
    result.incomplete.push_back(
        "no system-call filter on this architecture: the build could have left the trace");
  }
  ::close(failed[0]);
  return result;
}

}  // namespace catena::attest
