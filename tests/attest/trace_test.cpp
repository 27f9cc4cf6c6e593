// The tracer: every program a command runs is recorded with its digest and parent; exit codes
// and signals pass through; a command that leaves a daemon behind does not hang catena and
// the daemon is not left stopped.
#include "catena/attest/trace.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "catena/core/fs.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::attest {
namespace {

std::string file_sha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  return test::sha256_hex(bytes);
}

std::string real(const std::string& path) {
  auto resolved = canonical_path(path);
  return resolved ? *resolved : path;
}

const TracedExec* find_exec(const TraceResult& result, const std::string& path) {
  for (const TracedExec& exec : result.execs) {
    if (exec.path == path) return &exec;
  }
  return nullptr;
}

TEST(Trace, RecordsEveryProgramWithDigestAndParent) {
  auto result = run_traced({"sh", "-c", "/usr/bin/env true; /bin/true"}, {});
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_TRUE(result->traced) << result->trace_error;
  EXPECT_EQ(result->exit_code, 0);
  const std::string sh = real("/bin/sh");
  const std::string env = real("/usr/bin/env");
  const std::string truth = real("/bin/true");
  const TracedExec* shell = find_exec(*result, sh);
  const TracedExec* env_exec = find_exec(*result, env);
  ASSERT_NE(shell, nullptr);
  ASSERT_NE(env_exec, nullptr);
  EXPECT_EQ(shell->parent_pid, 0);
  EXPECT_EQ(shell->argv0, "sh");
  EXPECT_EQ(shell->sha256, file_sha256(sh));
  EXPECT_EQ(env_exec->sha256, file_sha256(env));
  EXPECT_EQ(env_exec->parent_pid, shell->pid);
  EXPECT_FALSE(shell->interpreter.empty());
  // env execs true in the same process; the shell then runs true again in a child.
  size_t true_runs = 0;
  for (const TracedExec& exec : result->execs) {
    if (exec.path == truth) {
      ++true_runs;
      EXPECT_EQ(exec.sha256, file_sha256(truth));
    }
  }
  EXPECT_EQ(true_runs, 2u);
  EXPECT_GE(result->processes, 3u);
  // The C library every one of them mapped is among the libraries.
  EXPECT_TRUE(
      std::any_of(result->libraries.begin(), result->libraries.end(), [](const TracedLibrary& l) {
        return l.path.find("libc.so") != std::string::npos && !l.sha256.empty();
      }));
}

// A "#!" script is recorded as itself (path and digest), not only as its interpreter: a
// tampered build script must show in the provenance.
TEST(Trace, ScriptsAreRecordedWithTheirOwnDigest) {
  test::TempDir dir;
  const std::string body = "#!/bin/sh\necho built > \"$(dirname \"$0\")/out\"\n";
  dir.write("build.sh", body, 0755);
  auto result = run_traced({"sh", "-c", "cd '" + dir.path() + "' && ./build.sh && /bin/true"}, {});
  ASSERT_TRUE(result.has_value());
  ASSERT_EQ(result->exit_code, 0);
  const TracedExec* script = nullptr;
  for (const TracedExec& exec : result->execs) {
    if (!exec.script.empty()) {
      EXPECT_EQ(script, nullptr) << "only build.sh is a script: " << exec.script;
      script = &exec;
    }
  }
  ASSERT_NE(script, nullptr);
  EXPECT_EQ(*canonical_path(script->script), *canonical_path(dir / "build.sh"));
  EXPECT_EQ(script->script_sha256, test::sha256_hex(body));
  EXPECT_EQ(script->path, real("/bin/sh"));
}

TEST(Trace, ExitCodesAndSignalsPassThrough) {
  auto exited = run_traced({"sh", "-c", "exit 7"}, {});
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(exited->exit_code, 7);
  auto killed = run_traced({"sh", "-c", "kill -TERM $$"}, {});
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(killed->signal, SIGTERM);
  EXPECT_EQ(killed->exit_code, 128 + SIGTERM);
  // A signal the command handles is delivered to it, not swallowed by the tracer.
  auto handled = run_traced({"sh", "-c", "trap 'exit 3' USR1; kill -USR1 $$; sleep 5"}, {});
  ASSERT_TRUE(handled.has_value());
  EXPECT_EQ(handled->exit_code, 3);
}

TEST(Trace, MissingCommandIsAResultNotAHang) {
  auto result = run_traced({"/nonexistent/catena-no-such-tool"}, {});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 127);
  EXPECT_THAT(result->start_error, ::testing::HasSubstr("No such file"));
  EXPECT_TRUE(result->execs.empty());
}

TEST(Trace, UntracedRunSaysSo) {
  auto result = run_traced({"sh", "-c", "true"}, {.trace = false});
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->traced);
  EXPECT_FALSE(result->trace_error.empty());
  EXPECT_TRUE(result->execs.empty());
  EXPECT_EQ(result->exit_code, 0);
}

// The process state letter of /proc/PID/stat: 't' or 'T' would be a stopped process.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text{std::istreambuf_iterator<char>(in), {}};
  const size_t close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

// Gone, or a zombie its new parent has yet to reap.
bool process_exists(pid_t pid) {
  const char state = process_state(pid);
  return state != '?' && state != 'Z' && state != 'X';
}

TEST(Trace, DaemonIsDetachedAndKeepsRunning) {
  const auto started = std::chrono::steady_clock::now();
  auto result =
      run_traced({"sh", "-c", "sleep 60 & exit 0"}, {.left_running = LeftRunning::Detach});
  ASSERT_TRUE(result.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  EXPECT_EQ(result->exit_code, 0);
  ASSERT_FALSE(result->left_running.empty());
  for (const int64_t pid : result->left_running) {
    // Give the detach a moment to reach the process, then check it is not stopped.
    for (int i = 0; i < 50 && (process_state(static_cast<pid_t>(pid)) == 't' ||
                               process_state(static_cast<pid_t>(pid)) == 'T');
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const char state = process_state(static_cast<pid_t>(pid));
    EXPECT_TRUE(state == 'S' || state == 'R' || state == 'Z' || state == '?') << state;
    ::kill(static_cast<pid_t>(pid), SIGKILL);
  }
  // Reap what was ours, so nothing is left behind by the test.
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

// By default what the command left running is ended: SIGTERM first, and a process that
// ignores it is killed once the grace period is over; what it ran meanwhile is recorded.
TEST(Trace, DaemonIsEndedByDefaultAndTracedUntilGone) {
  auto result = run_traced({"sh", "-c", "sleep 60 & exit 0"}, {});
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->exit_code, 0);
  EXPECT_EQ(result->left_running_action, LeftRunning::Kill);
  ASSERT_FALSE(result->left_running.empty());
  for (const int64_t pid : result->left_running) {
    EXPECT_FALSE(process_exists(static_cast<pid_t>(pid))) << pid;
  }
  test::TempDir dir;
  dir.write("stubborn.sh",
            "trap '/bin/echo terminated > /dev/null' TERM\nwhile :; do sleep 0.05; done\n", 0755);
  const std::string script = dir / "stubborn.sh";
  const auto started = std::chrono::steady_clock::now();
  result = run_traced({"sh", "-c", script + " & sleep 0.3; exit 0"}, {.kill_grace_ms = 500});
  ASSERT_TRUE(result.has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(700));
  for (const int64_t pid : result->left_running) {
    EXPECT_FALSE(process_exists(static_cast<pid_t>(pid))) << pid;
  }
  bool echoed = false;
  for (const TracedExec& exec : result->execs) echoed = echoed || exec.path == "/usr/bin/echo";
  EXPECT_TRUE(echoed) << "the trap's command ran during the grace period, traced";
}

TEST(Trace, WaitTracesWhatTheCommandLeftRunningToItsEnd) {
  auto result = run_traced({"sh", "-c", "(sleep 0.3; /bin/echo late > /dev/null) & exit 0"},
                           {.left_running = LeftRunning::Wait});
  ASSERT_TRUE(result.has_value());
  EXPECT_FALSE(result->left_running.empty());
  bool echoed = false;
  for (const TracedExec& exec : result->execs) echoed = echoed || exec.path == "/usr/bin/echo";
  EXPECT_TRUE(echoed);
}

}  // namespace
}  // namespace catena::attest
