#pragma once
// A temporary directory tree for tests, removed with everything in it (even unreadable parts).
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace catena::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// path() + "/" + relative
  std::string operator/(std::string_view relative) const;

  /// Writes `content` to `relative` (creating parent directories) with `mode`.
  void write(std::string_view relative, std::string_view content, mode_t mode = 0644) const;
  void mkdir(std::string_view relative, mode_t mode = 0755) const;
  void symlink(std::string_view relative, std::string_view target) const;

 private:
  std::string path_;
};

/// Removes a tree, first making every directory in it accessible.
void remove_tree(const std::string& path);

/// Lower-case hex SHA-256 of a string.
std::string sha256_hex(std::string_view data);

}  // namespace catena::test
