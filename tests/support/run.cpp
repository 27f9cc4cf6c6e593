#include "support/run.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#include "support/tree.hpp"

extern char** environ;

namespace catena::test {
namespace {

std::vector<std::string> make_environment(const RunOptions& options) {
  std::vector<std::string> out;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text(*entry);
    const std::string key = text.substr(0, text.find('='));
    bool drop = options.env.count(key) > 0;
    for (const std::string& unset : options.unset_env) drop = drop || unset == key;
    if (!drop) out.push_back(text);
  }
  for (const auto& [key, value] : options.env) out.push_back(key + "=" + value);
  return out;
}

void drain(int out_fd, int err_fd, std::string& out, std::string& err) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  int open_count = 2;
  char buffer[65536];
  while (open_count > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int idx = 0; idx < 2; ++idx) {
      if (fds[idx].fd < 0 || fds[idx].revents == 0) continue;
      const ssize_t n = ::read(fds[idx].fd, buffer, sizeof buffer);
      if (n > 0) {
        (idx == 0 ? out : err).append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[idx].fd = -1;
        --open_count;
      }
    }
  }
}

}  // namespace

std::string catena_binary() { return CATENA_BINARY; }

Child::Child(const std::vector<std::string>& argv, const RunOptions& options) {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env = make_environment(options);
  std::vector<char*> envp;
  for (std::string& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));
}

Child::~Child() {
  if (!waited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

void Child::signal(int signal_number) const { ::kill(pid_, signal_number); }

RunResult Child::wait() {
  RunResult result;
  drain(out_fd_, err_fd_, result.out, result.err);
  ::close(out_fd_);
  ::close(err_fd_);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  waited_ = true;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

RunResult run_command(const std::vector<std::string>& argv, const RunOptions& options) {
  Child child(argv, options);
  return child.wait();
}

RunResult run_catena(const std::vector<std::string>& args, const RunOptions& options) {
  std::vector<std::string> argv = {catena_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, options);
}

namespace {

// A copy of the binary that any user can run: the checkout may sit in a directory that only
// its owner can enter.
const std::string& unprivileged_binary() {
  static const std::string path = [] {
    static TempDir dir;
    ::chmod(dir.path().c_str(), 0755);
    const std::string copy = dir / "catena";
    const RunResult r = run_command({"cp", catena_binary(), copy});
    if (r.exit_code != 0) return catena_binary();
    ::chmod(copy.c_str(), 0755);
    return copy;
  }();
  return path;
}

}  // namespace

RunResult run_unprivileged(std::vector<std::string> argv) {
  if (::geteuid() != 0) return run_command(argv);
  argv.insert(argv.begin(), {"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"});
  return run_command(argv);
}

RunResult run_catena_unprivileged(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {::geteuid() == 0 ? unprivileged_binary() : catena_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_unprivileged(argv);
}

}  // namespace catena::test
