#pragma once
/// Runs a build command under ptrace and records every program it and its descendants
/// executed: the toolchain that was really used, not the one declared.
///
///   CATENA_TRY(TraceResult run, run_traced({"make", "-j2"}, {}));
///   for (const TracedExec& exec : run.execs) use(exec.path, exec.sha256);
///
/// Only fork/vfork/clone and exec events, and the calls a seccomp filter picks, stop a tracee
/// (no system-call tracing), so a build pays little. The filter, installed in the build before
/// its first exec (x86-64), keeps it in the trace: clone3 fails with ENOSYS (the C library
/// falls back to clone), and a clone with CLONE_UNTRACED or a ptrace attach stops for the
/// tracer, which records and refuses it. A file mapped executable (mmap with PROT_EXEC, or
/// mprotect adding it) stops the calling thread until the tracer has hashed the file through
/// the process's own descriptor: a library is recorded as it was when mapped, whether it is
/// then rewritten, deleted, a memfd, or exec'd away; the loader the kernel maps is read at
/// each exec. Without CAP_SYS_ADMIN the filter needs no_new_privs, so set-user-ID programs in
/// the build run unprivileged. When ptrace is refused (a container without CAP_SYS_PTRACE, a
/// Yama setting) the command still runs, untraced, and `traced` is false with the reason.
/// PTRACE_O_EXITKILL kills the build if catena itself dies mid-trace.
///
/// Processes still running when the command exits (daemons) are listed and, by default,
/// ended as CI runners end a job's leftovers: SIGTERM, then SIGKILL after a grace period,
/// traced until they are gone, so nothing of the build runs unrecorded after the attestation.
/// `Wait` traces them to their end; `Detach` lets them go, never left stopped, and makes the
/// record incomplete: they keep the build's filter, and a call it would have stopped for the
/// tracer (mapping an executable file, among others) then fails with ENOSYS.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::attest {

struct TracedExec {
  int64_t pid = 0;
  int64_t parent_pid = 0;  // 0 for the command itself
  std::string path;        // the executable the kernel ran (/proc/PID/exe)
  std::string argv0;
  std::string sha256;       // of the executed file; empty when it could not be read
  std::string md5;          // of the same bytes: dpkg's md5sums record this
  std::string interpreter;  // the ELF program interpreter, if any
  /// When the program run was a script (a "#!" file the kernel handed to `path`): the file
  /// named to execve (AT_EXECFN), made absolute, and its SHA-256. A build script is a tool too.
  std::string script;
  std::string script_sha256;
  std::string error;  // why path or sha256 is missing
  int64_t time_ns = 0;
};

struct TracedLibrary {
  std::string path;
  std::string sha256;
};

enum class LeftRunning { Kill, Wait, Detach };

struct TraceOptions {
  bool trace = true;      // false: run without ptrace (recorded as not traced)
  bool libraries = true;  // executable files each traced process maps, read as it maps them
  /// Let the build attach with ptrace (a debugger's test suite). Processes of the build are
  /// traced by catena and cannot be attached anyway; this only opens processes outside it.
  bool allow_ptrace = false;
  /// Run the build as this account (needs root): its groups, then its group, then its user
  /// are set in the child before its first exec; the build never runs as root when asked not
  /// to (a failure to drop is a start error, exit 127).
  struct Identity {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;
  };
  std::optional<Identity> run_as;
  LeftRunning left_running = LeftRunning::Kill;
  int kill_grace_ms = 5000;  // between SIGTERM and SIGKILL
};

struct TraceResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  int signal = 0;
  bool traced = false;
  std::string trace_error;  // why tracing was unavailable
  std::string start_error;  // why the command could not be executed (exit code 127)
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  uint64_t processes = 0;  // processes and threads seen
  std::vector<TracedExec> execs;
  std::vector<TracedLibrary> libraries;                 // distinct, in first-seen order
  std::vector<int64_t> left_running;                    // still running when the command exited
  LeftRunning left_running_action = LeftRunning::Kill;  // what became of them
  /// What ran but could not be recorded, each with why (a script that could not be read, a
  /// name pointed elsewhere mid-exec): the record is incomplete when this is not empty.
  std::vector<std::string> incomplete;
  /// Calls the build made to leave the trace, refused (EPERM) and recorded: a clone with
  /// CLONE_UNTRACED, a ptrace attach.
  std::vector<std::string> refused;
};

/// Runs argv (searched on PATH, with this process's environment). A command that cannot be
/// executed is a result with exit code 127 and `start_error`; Io error only when no process
/// can be created.
[[nodiscard]] Result<TraceResult> run_traced(const std::vector<std::string>& argv,
                                             const TraceOptions& options);

}  // namespace catena::attest
