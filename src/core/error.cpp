#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "catena/core/result.hpp"

namespace catena {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::Truncated:
      return "truncated";
    case ErrorCode::OutOfRange:
      return "out_of_range";
    case ErrorCode::BadMagic:
      return "bad_magic";
    case ErrorCode::Unsupported:
      return "unsupported";
    case ErrorCode::LimitExceeded:
      return "limit_exceeded";
    case ErrorCode::Parse:
      return "parse";
    case ErrorCode::Io:
      return "io";
    case ErrorCode::Db:
      return "db";
    case ErrorCode::SchemaTooNew:
      return "schema_too_new";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::Usage:
      return "usage";
    case ErrorCode::Interrupted:
      return "interrupted";
  }
  return "unknown";
}

std::string Error::describe() const {
  if (!offset) return message;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "0x%llx", static_cast<unsigned long long>(*offset));
  return message + " (at offset " + buffer + ")";
}

std::string errno_text(int err) {
  char buffer[256];
  // GNU strerror_r returns either a static string or one written into buffer.
  return strerror_r(err, buffer, sizeof buffer);
}

tl::unexpected<Error> make_io_error(std::string_view what, int err) {
  std::string message(what);
  message += ": ";
  message += errno_text(err);
  return make_error(ErrorCode::Io, std::move(message));
}

void assert_failed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "catena: internal error: assertion failed: %s (%s:%d)\n", expr, file, line);
  std::abort();
}

}  // namespace catena
