#include "catena/core/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

#include "catena/core/fs.hpp"

namespace catena {

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& options) {
  if (argv.empty() || !argv[0].starts_with('/')) {
    return make_error(ErrorCode::Usage, "run_process needs an absolute program path");
  }
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return make_io_error("pipe", errno);
  UniqueFd out_read(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return make_io_error("pipe", errno);
  UniqueFd err_read(err_pipe[0]);
  UniqueFd err_write(err_pipe[1]);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::string env_path = "PATH=/usr/bin:/bin";
  std::string env_locale = "LC_ALL=C";
  char* envp[] = {env_path.data(), env_locale.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return make_io_error("cannot run " + argv[0], rc);
  out_write = UniqueFd();
  err_write = UniqueFd();

  ProcessResult result;
  pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};
  int open_count = 2;
  bool too_much = false;
  bool timed_out = false;
  timespec start{};
  ::clock_gettime(CLOCK_MONOTONIC, &start);
  char buffer[65536];
  while (open_count > 0 && !too_much) {
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const long elapsed_ms =
        (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    const long left_ms = static_cast<long>(options.timeout_seconds) * 1000 - elapsed_ms;
    if (left_ms <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<long>(left_ms, 1000)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int idx = 0; idx < 2; ++idx) {
      if (fds[idx].fd < 0 || fds[idx].revents == 0) continue;
      const ssize_t n = ::read(fds[idx].fd, buffer, sizeof buffer);
      if (n > 0) {
        std::string& sink = idx == 0 ? result.out : result.err;
        if (sink.size() + static_cast<size_t>(n) > options.max_output_bytes) {
          too_much = true;
          break;
        }
        sink.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        fds[idx].fd = -1;
        --open_count;
      }
    }
  }
  if (timed_out || too_much) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return make_error(ErrorCode::Io, argv[0] + " did not finish within " +
                                         std::to_string(options.timeout_seconds) + " s");
  }
  if (too_much) return make_error(ErrorCode::LimitExceeded, argv[0] + " wrote too much output");
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace catena
