#pragma once
// gmock matchers for Result<T>, after LLVM's Testing/Support/Error.h.
#include <gmock/gmock.h>

#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"

namespace catena::test {

MATCHER(IsOk, "") {
  if (arg) return true;
  *result_listener << "error: " << arg.error().describe();
  return false;
}

MATCHER_P(IsOkAndHolds, matcher, "") {
  if (!arg) {
    *result_listener << "error: " << arg.error().describe();
    return false;
  }
  return ::testing::ExplainMatchResult(matcher, *arg, result_listener);
}

MATCHER_P(HasError, code, "") {
  if (arg) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << "error " << error_code_name(arg.error().code) << ": "
                   << arg.error().describe();
  return arg.error().code == code;
}

MATCHER_P2(HasErrorContaining, code, text, "") {
  if (arg) {
    *result_listener << "succeeded";
    return false;
  }
  *result_listener << "error " << error_code_name(arg.error().code) << ": "
                   << arg.error().describe();
  return arg.error().code == code && arg.error().message.find(text) != std::string::npos;
}

// Every finding of a stream (a test's few), failing the test when they cannot be read.
inline std::vector<Finding> all(const FindingStream& stream) {
  auto collected = stream.collect();
  if (!collected) {
    ADD_FAILURE() << "findings cannot be read: " << collected.error().describe();
    return {};
  }
  return std::move(*collected);
}

}  // namespace catena::test
