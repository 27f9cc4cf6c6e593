#pragma once
// Runs programs (the catena binary above all) and collects their exit code and output.
#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

/// A tool or data that scripts/setup.sh installs or scripts/fetch-test-data.sh fetches is never
/// a reason to skip: without it the test fails, saying what to run.
#define CATENA_MISSING()                                                                  \
  GTEST_FAIL() << "missing what scripts/setup.sh installs or scripts/fetch-test-data.sh " \
                  "fetches: "
/// Only what a fresh machine cannot give (root, a second file system, ptrace in a container)
/// is a skip; `make test` lists every skip with its reason at the end.
#define CATENA_SKIP_ENVIRONMENT() GTEST_SKIP() << "environment: "

namespace catena::test {

struct RunResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string out;
  std::string err;
};

struct RunOptions {
  std::map<std::string, std::string> env;  // added to (or replacing in) the test's environment
  std::vector<std::string> unset_env;
};

/// Runs argv[0] (searched on PATH) to completion.
RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options = {});

/// Runs the catena binary under test with `args`.
RunResult run_catena(const std::vector<std::string>& args, const RunOptions& options = {});

/// A process started in the background; its output is collected by wait().
class Child {
 public:
  Child(const std::vector<std::string>& argv, const RunOptions& options = {});
  ~Child();
  pid_t pid() const { return pid_; }
  void signal(int signal_number) const;
  RunResult wait();

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool waited_ = false;
};

/// The path of the catena binary under test.
std::string catena_binary();

/// Runs catena as user 65534 when the tests run as root (so that permissions bite), from a
/// copy any user may execute; as the current user otherwise.
RunResult run_catena_unprivileged(const std::vector<std::string>& args);
/// Runs argv as user 65534 when the tests run as root; as the current user otherwise.
RunResult run_unprivileged(std::vector<std::string> argv);

}  // namespace catena::test
