#pragma once
/// Extended attributes (file capabilities in security.capability, POSIX ACLs in
/// system.posix_acl_*, SELinux labels, user.*) in one canonical text, so that two readings
/// compare as strings: "name\0hex of value\n" per attribute, sorted by name.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace catena {

/// Caps: a list of names and each value larger than this are recorded as unreadable.
inline constexpr size_t kMaxXattrBytes = 64 * 1024;

/// The attributes of an open file; "" when it has none or they cannot be read.
std::string read_xattrs_fd(int fd);
/// The attributes of a path without following a final symlink (for symlinks themselves).
std::string read_xattrs_path(const std::string& path);

/// Splits the canonical text into (name, hex value) pairs.
std::vector<std::pair<std::string, std::string>> split_xattrs(std::string_view encoded);

}  // namespace catena
