#pragma once
/// Result<T> and Error: the one way catena reports failure. No exceptions cross our API.
///
///   Result<int> parse(std::string_view s);
///   CATENA_TRY(auto value, parse(text));   // returns the error to the caller on failure
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

namespace catena {

enum class ErrorCode {
  Truncated,      // input ended before a structure did
  OutOfRange,     // an offset or length points outside the input
  BadMagic,       // not the format it claims to be
  Unsupported,    // valid, but a variant catena does not handle
  LimitExceeded,  // a named cap on counts, depth or size was hit
  Parse,          // malformed text input
  Io,             // a system call failed
  Db,             // the store failed or is unusable
  SchemaTooNew,   // the store was written by a newer catena
  NotFound,       // a requested record does not exist
  Usage,          // the caller asked for something invalid
  Interrupted,    // stopped by a signal
};

/// Stable lower-case name of an error code, for messages and JSON.
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code;
  std::string message;
  std::optional<uint64_t> offset;

  /// "message (at offset 0x1f40)" when an offset is known.
  std::string describe() const;
};

template <class T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

[[nodiscard]] inline tl::unexpected<Error> make_error(ErrorCode code,
                                                      std::string message,
                                                      std::optional<uint64_t> offset = {}) {
  return tl::unexpected<Error>(Error{code, std::move(message), offset});
}

/// The text of an errno value; safe to call from several threads (unlike strerror).
std::string errno_text(int err);

/// Errno-based Io error: "<what>: <errno_text(err)>".
[[nodiscard]] tl::unexpected<Error> make_io_error(std::string_view what, int err);

/// Marks a value whose error is knowingly not propagated yet; greppable on purpose.
template <class T>
T value_or_die_fixme(Result<T> result);

}  // namespace catena

#define CATENA_CONCAT_IMPL_(a, b) a##b
#define CATENA_CONCAT_(a, b) CATENA_CONCAT_IMPL_(a, b)

/// Assign-or-return: `CATENA_TRY(auto x, expr);` declares x from a successful Result.
#define CATENA_TRY(decl, expr) CATENA_TRY_IMPL_(CATENA_CONCAT_(catena_try_, __LINE__), decl, expr)
#define CATENA_TRY_IMPL_(tmp, decl, expr)                  \
  auto tmp = (expr);                                       \
  if (!tmp) return tl::unexpected(std::move(tmp).error()); \
  decl = std::move(*tmp)

/// Return-on-error for a Status (Result<void>) or any Result whose value is not needed.
#define CATENA_TRY_STATUS(expr)                                                            \
  do {                                                                                     \
    auto catena_try_status_ = (expr);                                                      \
    if (!catena_try_status_) return tl::unexpected(std::move(catena_try_status_).error()); \
  } while (0)

/// Programmer errors only: input must never be able to reach one. Stays on in release.
#define CATENA_ASSERT(cond)                                          \
  do {                                                               \
    if (!(cond)) ::catena::assert_failed(#cond, __FILE__, __LINE__); \
  } while (0)

namespace catena {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line);

template <class T>
T value_or_die_fixme(Result<T> result) {
  if (!result) assert_failed(result.error().message.c_str(), __FILE__, __LINE__);
  return std::move(*result);
}
}  // namespace catena
