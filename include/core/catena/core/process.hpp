#pragma once
/// Runs a trusted system tool (gpgv, apt-get) with a fixed argument vector: no shell, a minimal
/// environment (LC_ALL=C, PATH=/usr/bin:/bin), stdin from /dev/null, output captured up to a cap.
/// catena never runs anything it scans; this is for the tools it relies on.
///
///   CATENA_TRY(ProcessResult r, run_process({"/usr/bin/gpgv", "--version"}));
#include <cstdint>
#include <string>
#include <vector>

#include "catena/core/result.hpp"

namespace catena {

struct ProcessOptions {
  std::string cwd;                       // empty: the current directory
  uint64_t max_output_bytes = 64 << 20;  // per stream; more is an error (LimitExceeded)
  int timeout_seconds = 600;             // then the process is killed (Io error)
};

struct ProcessResult {
  int exit_code = -1;  // 128 + signal number when killed by a signal
  std::string out;
  std::string err;
};

/// `argv[0]` must be an absolute path. Io error when it cannot be started or times out.
[[nodiscard]] Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                                const ProcessOptions& options = {});

}  // namespace catena
