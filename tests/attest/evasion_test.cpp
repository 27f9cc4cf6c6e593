// A build step that tries to run something the provenance does not show: small C programs and
// scripts run under the tracer, each asserting that what ran is recorded with its own digest
// (or that the record says it is incomplete), and that a fork storm keeps every parent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "catena/attest/trace.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::attest {
namespace {

using ::testing::HasSubstr;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Compiles `source` into dir/name with the system compiler (build-essential).
std::string compile(const test::TempDir& dir,
                    const std::string& name,
                    const std::string& source,
                    const std::vector<std::string>& flags = {}) {
  dir.write(name + ".c", source);
  std::vector<std::string> argv = {"cc", "-O1", "-o", dir / name, dir / (name + ".c")};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const auto built = test::run_command(argv);
  EXPECT_EQ(built.exit_code, 0) << built.err;
  return dir / name;
}

std::vector<const TracedExec*> scripts_of(const TraceResult& result) {
  std::vector<const TracedExec*> out;
  for (const TracedExec& exec : result.execs) {
    if (!exec.script.empty()) out.push_back(&exec);
  }
  return out;
}

// Four programs each fork 500 children that exec /bin/true at once: every exec names the
// parent that forked it, and nothing that exited is listed as left running.
TEST(Evasion, AForkStormKeepsEveryParent) {
  test::TempDir dir;
  const std::string storm = compile(dir, "storm", R"(
#include <sys/wait.h>
#include <unistd.h>
int main(void) {
  for (int i = 0; i < 500; ++i) {
    if (fork() == 0) { execl("/bin/true", "true", (char*)0); _exit(127); }
  }
  while (wait(0) > 0) {}
  return 0;
})");
  auto result = run_traced(
      {"sh", "-c", "'" + storm + "' & '" + storm + "' & '" + storm + "' & '" + storm + "' & wait"},
      {.libraries = false});
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->traced) << result->trace_error;
  EXPECT_EQ(result->exit_code, 0);
  std::set<int64_t> storms;
  for (const TracedExec& exec : result->execs) {
    if (exec.path == storm) storms.insert(exec.pid);
  }
  ASSERT_EQ(storms.size(), 4u);
  size_t trues = 0;
  for (const TracedExec& exec : result->execs) {
    if (exec.argv0 != "true") continue;
    ++trues;
    EXPECT_TRUE(storms.contains(exec.parent_pid))
        << "pid " << exec.pid << " parent " << exec.parent_pid;
  }
  EXPECT_EQ(trues, 2000u);
  EXPECT_TRUE(result->left_running.empty()) << result->left_running.size() << " listed";
}

// A tool run, rewritten in place with its size and mtime put back, and run again: the
// second run is recorded with the second file's digest.
TEST(Evasion, ATwinRewrittenInPlaceIsHashedAgain) {
  test::TempDir dir;
  // The compiler's note in .comment is not loaded: changing it keeps the program running.
  compile(dir, "tool", "int main(void) { return 0; }\n");
  std::string bytes = read_bytes(dir / "tool");
  const size_t at = bytes.find("GCC:");
  ASSERT_NE(at, std::string::npos);
  const std::string script =
      "cd '" + dir.path() +
      "' && touch -r tool stamp && ./tool && python3 -c \"f = open('tool', 'r+b'); f.seek(" +
      std::to_string(at) + "); f.write(b'gcc:'); f.close()\" && touch -r stamp tool && ./tool";
  auto result = run_traced({"sh", "-c", script}, {.libraries = false});
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(result->exit_code, 0);
  std::vector<std::string> digests;
  for (const TracedExec& exec : result->execs) {
    if (exec.path == dir / "tool") digests.push_back(exec.sha256);
  }
  ASSERT_EQ(digests.size(), 2u);
  EXPECT_EQ(digests[0], test::sha256_hex(bytes));
  bytes.replace(at, 4, "gcc:");
  EXPECT_EQ(digests[1], test::sha256_hex(bytes));
  EXPECT_EQ(test::sha256_hex(read_bytes(dir / "tool")), digests[1]);
}

// A script written to a memfd and run through /proc/self/fd/N, /dev/fd/N or fexecve: recorded
// as a script with its digest, although it has no name on any file system.
TEST(Evasion, AFilelessScriptIsRecordedWithItsDigest) {
  test::TempDir dir;
  const std::string body = "#!/bin/sh\nexit 0\n";
  const std::string runner = compile(dir, "fileless", R"(
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char** argv) {
  const char* body = "#!/bin/sh\nexit 0\n";
  int fd = memfd_create("payload", 0);
  if (fd < 0 || write(fd, body, strlen(body)) != (ssize_t)strlen(body)) return 2;
  char path[64];
  char* args[] = {"payload", 0};
  char* env[] = {0};
  if (strcmp(argv[1], "fexecve") == 0) { fexecve(fd, args, env); return 3; }
  snprintf(path, sizeof path, "%s%d", argv[1], fd);
  execve(path, args, env);
  return 4;
})");
  for (const std::string way : {"/proc/self/fd/", "/dev/fd/", "fexecve"}) {
    auto result = run_traced({runner, way}, {.libraries = false});
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->exit_code, 0) << way;
    const auto scripts = scripts_of(*result);
    ASSERT_EQ(scripts.size(), 1u) << way;
    EXPECT_EQ(scripts[0]->script_sha256, test::sha256_hex(body)) << way;
    EXPECT_THAT(scripts[0]->script, HasSubstr("memfd:payload")) << way;
    EXPECT_TRUE(result->incomplete.empty()) << way << ": " << result->incomplete.front();
  }
}

// A "#!" script whose interpreter is a 32-bit program: its auxiliary vector holds 4-byte
// words, and the script is still found.
TEST(Evasion, AScriptRunBy32BitInterpreterIsRecorded) {
  test::TempDir dir;
  const std::string interpreter =
      compile(dir, "interp32",
              "void _start(void) { __asm__ volatile(\"movl $1, %eax\\n xorl %ebx, %ebx\\n int "
              "$0x80\"); }\n",
              {"-m32", "-nostdlib", "-static"});
  // A kernel built or booted without IA-32 emulation (ia32_emulation=0) refuses the program.
  if (const test::RunResult direct = test::run_command({"sh", "-c", "exec \"$0\"", interpreter});
      direct.exit_code != 0) {
    CATENA_SKIP_ENVIRONMENT() << "this kernel does not run 32-bit programs: " << direct.err;
  }
  const std::string body = "#!" + interpreter + "\npayload\n";
  dir.write("run.sh", body, 0755);
  auto result = run_traced({dir / "run.sh"}, {.libraries = false});
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(result->exit_code, 0);
  const auto scripts = scripts_of(*result);
  ASSERT_EQ(scripts.size(), 1u);
  EXPECT_EQ(scripts[0]->path, interpreter);
  EXPECT_EQ(scripts[0]->script, dir / "run.sh");
  EXPECT_EQ(scripts[0]->script_sha256, test::sha256_hex(body));
}

// A script bind-mounted over another in a private mount namespace: the script that ran is
// read as the process sees it, not through catena's own mounts.
TEST(Evasion, AScriptSwappedInAPrivateMountNamespaceIsTheOneRecorded) {
  if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "mount namespaces need root";
  test::TempDir dir;
  const std::string good = "#!/bin/sh\necho good\n";
  const std::string evil = "#!/bin/sh\necho evil\n";
  dir.write("good.sh", good, 0755);
  dir.write("evil.sh", evil, 0755);
  auto result = run_traced({"unshare", "-m", "--propagation", "private", "sh", "-c",
                            "mount --bind '" + dir / "evil.sh" + "' '" + dir / "good.sh" +
                                "' && '" + dir / "good.sh" + "'"},
                           {.libraries = false});
  ASSERT_TRUE(result.has_value());
  if (result->exit_code != 0) CATENA_SKIP_ENVIRONMENT() << "unshare -m refused here";
  const auto scripts = scripts_of(*result);
  ASSERT_EQ(scripts.size(), 1u);
  EXPECT_EQ(scripts[0]->script, dir / "good.sh");
  EXPECT_EQ(scripts[0]->script_sha256, test::sha256_hex(evil));
}

// clone(CLONE_UNTRACED) would start a process the tracer never sees; clone3 hides its flags
// from a filter. The first is refused and recorded, the second fails with ENOSYS, and threads
// (which the C library then makes with clone) still work.
TEST(Evasion, LeavingTheTraceIsRefusedAndRecorded) {
  test::TempDir dir;
  const std::string escape = compile(dir, "escape", R"(
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
static void* work(void* arg) { return arg; }
int main(void) {
  long pid = syscall(SYS_clone, CLONE_UNTRACED | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) { execl("/bin/true", "untraced-payload", (char*)0); _exit(127); }
  if (pid > 0) { waitpid((pid_t)pid, 0, 0); return 10; }
  if (errno != EPERM) return 11;
  struct clone_args args = {0};
  args.exit_signal = SIGCHLD;
  long three = syscall(SYS_clone3, &args, sizeof args);
  if (three == 0) { execl("/bin/true", "clone3-payload", (char*)0); _exit(127); }
  if (three > 0) { waitpid((pid_t)three, 0, 0); return 12; }
  if (errno != ENOSYS) return 13;
  pthread_t thread;
  if (pthread_create(&thread, 0, work, 0) != 0 || pthread_join(thread, 0) != 0) return 14;
  return 0;
})",
                                     {"-pthread"});
  auto result = run_traced({escape}, {.libraries = false});
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->traced) << result->trace_error;
  EXPECT_EQ(result->exit_code, 0) << "10-14: an escape worked or failed otherwise";
  ASSERT_EQ(result->refused.size(), 1u);
  EXPECT_THAT(result->refused[0], HasSubstr("CLONE_UNTRACED"));
  EXPECT_THAT(result->refused[0], HasSubstr(escape));
  EXPECT_TRUE(result->incomplete.empty());
}

// A build that attaches with ptrace to a process outside it (to read catena's key, or to stop
// it): refused and recorded, unless the build is let to (--allow-ptrace).
TEST(Evasion, AttachingOutsideTheBuildIsRefused) {
  test::TempDir dir;
  const std::string attach = compile(dir, "attach", R"(
#include <errno.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
int main(int argc, char** argv) {
  pid_t target = (pid_t)atoi(argv[1]);
  if (ptrace(PTRACE_ATTACH, target, 0, 0) == 0) {
    waitpid(target, 0, 0);
    ptrace(PTRACE_DETACH, target, 0, 0);
    return 0;
  }
  return errno == EPERM ? 1 : 2;
})");
  const pid_t outside = ::fork();
  ASSERT_GE(outside, 0);
  if (outside == 0) {
    ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  auto refused = run_traced({attach, std::to_string(outside)}, {.libraries = false});
  auto allowed =
      run_traced({attach, std::to_string(outside)}, {.libraries = false, .allow_ptrace = true});
  ::kill(outside, SIGKILL);
  ::waitpid(outside, nullptr, 0);
  ASSERT_TRUE(refused.has_value());
  ASSERT_TRUE(refused->traced);
  EXPECT_EQ(refused->exit_code, 1);
  ASSERT_EQ(refused->refused.size(), 1u);
  EXPECT_THAT(refused->refused[0], HasSubstr("ptrace attach to pid " + std::to_string(outside)));
  ASSERT_TRUE(allowed.has_value());
  EXPECT_TRUE(allowed->refused.empty());
  // Root, or a Yama setting that forbids it, decides past the filter.
  EXPECT_NE(allowed->exit_code, 2);
}

// ld.so run as the program: the program it loads is recorded as a tool with its digest.
TEST(Evasion, AProgramRunThroughTheLoaderIsRecorded) {
  test::TempDir dir;
  const std::string payload = compile(dir, "payload", "int main(void) { return 0; }\n");
  const std::string loader = "/lib64/ld-linux-x86-64.so.2";
  if (::access(loader.c_str(), X_OK) != 0) CATENA_SKIP_ENVIRONMENT() << "no " << loader;
  auto result =
      run_traced({loader, "--library-path", "/nonexistent", payload}, {.libraries = false});
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(result->exit_code, 0);
  const TracedExec* loaded = nullptr;
  for (const TracedExec& exec : result->execs) {
    if (exec.path == payload) loaded = &exec;
  }
  ASSERT_NE(loaded, nullptr);
  EXPECT_EQ(loaded->sha256, test::sha256_hex(read_bytes(payload)));
  EXPECT_THAT(loaded->interpreter, HasSubstr("ld-linux"));
}

// A library is recorded as it was when mapped: deleted after it was loaded, loaded from a
// memfd, rewritten in place once it ran, mapped and then exec'd away, or mapped readable and
// made executable with mprotect.
TEST(Evasion, LibrariesCarryTheDigestOfWhatWasMapped) {
  test::TempDir dir;
  dir.write("lib.c", "int payload(void) { return 7; }\n");
  const auto built =
      test::run_command({"cc", "-shared", "-fPIC", "-o", dir / "libpayload.so", dir / "lib.c"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const std::string library = read_bytes(dir / "libpayload.so");
  const std::string loader = compile(dir, "loader", R"(
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char** argv) {
  const char* path = argv[1];
  const char* way = argv[2];
  char fdpath[64];
  if (strcmp(way, "mprotect") == 0) {
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    void* at = mmap(0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (at == MAP_FAILED || mprotect(at, st.st_size, PROT_READ | PROT_EXEC) != 0) return 4;
    _exit(0);
  }
  if (strcmp(way, "memfd") == 0) {
    FILE* in = fopen(path, "rb");
    int fd = memfd_create("payload.so", 0);
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, in)) > 0) write(fd, buffer, n);
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", fd);
    path = fdpath;
  }
  void* handle = dlopen(path, RTLD_NOW);
  if (!handle) return 2;
  int (*payload)(void) = (int (*)(void))dlsym(handle, "payload");
  if (!payload || payload() != 7) return 3;
  if (strcmp(way, "delete") == 0) unlink(path);
  if (strcmp(way, "rewrite") == 0) {
    // Other bytes over the same file: the mapping's pages change with it, so no library
    // code may run after this (hence _exit).
    int fd = open(path, O_WRONLY);
    char zeros[4096] = {0};
    pwrite(fd, zeros, sizeof zeros, 0);
    _exit(0);
  }
  if (strcmp(way, "exec-away") == 0) execl("/bin/true", "true", (char*)0);
  return 0;
})",
                                     {"-ldl"});
  for (const std::string way : {"delete", "memfd", "rewrite", "exec-away", "mprotect"}) {
    dir.write("libpayload.so", library, 0755);  // some ways delete or rewrite it
    auto result = run_traced({loader, dir / "libpayload.so", way}, {});
    ASSERT_TRUE(result.has_value());
    ASSERT_EQ(result->exit_code, 0) << way;
    const TracedLibrary* found = nullptr;
    for (const TracedLibrary& l : result->libraries) {
      if (way == "memfd" ? l.path.find("memfd:payload.so") != std::string::npos
                         : l.path == dir / "libpayload.so") {
        EXPECT_EQ(found, nullptr) << way << ": recorded twice, the second time as " << l.sha256;
        found = &l;
      }
    }
    ASSERT_NE(found, nullptr) << way;
    EXPECT_EQ(found->sha256, test::sha256_hex(library)) << way;
  }
}

// The loader the kernel maps for a program is recorded with its digest.
TEST(Evasion, TheProgramsLoaderIsRecorded) {
  auto result = run_traced({"/bin/true"}, {});
  ASSERT_TRUE(result.has_value());
  bool found = false;
  for (const TracedLibrary& l : result->libraries) {
    if (l.path.find("/ld-linux") == std::string::npos) continue;
    found = true;
    EXPECT_EQ(l.sha256, test::sha256_hex(read_bytes(l.path)));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace catena::attest
