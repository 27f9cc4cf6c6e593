#pragma once
/// Wall-clock time as nanoseconds since the Unix epoch, and its RFC 3339 text form.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace catena {

/// Nanoseconds since 1970-01-01T00:00:00Z (CLOCK_REALTIME).
int64_t now_ns();
/// Nanoseconds from a monotonic clock, for durations.
int64_t monotonic_ns();
/// "2026-11-27T08:00:00.123456789Z" (UTC; the fraction is dropped when it is zero).
std::string format_rfc3339(int64_t ns_since_epoch);
/// The inverse for UTC text as STIX and in-toto write it: "YYYY-MM-DDTHH:MM:SS[.fraction]Z"
/// (fraction digits past nanoseconds are ignored); nullopt for anything else.
std::optional<int64_t> parse_rfc3339(std::string_view text);
/// Nanoseconds since the epoch from the dates apt's Release files carry (RFC 2822): "Sat, 28
/// Nov 2026 02:53:00 UTC" (a numeric zone such as "+0000" too); nullopt for anything else.
std::optional<int64_t> parse_rfc2822(std::string_view text);

}  // namespace catena
