#pragma once
// A small file system with a dpkg database, built the way dpkg lays one out, so that catena and
// the real `dpkg --root` can be run on the same root.
#include <string>
#include <utility>
#include <vector>

#include "support/tree.hpp"

namespace catena::test {

struct FakePackage {
  std::string name;
  std::string architecture = "amd64";
  std::string version = "1.0";
  std::string multi_arch;  // "same" gives info files named name:arch
  std::string status = "install ok installed";
  std::string installed_size;     // KiB, the Installed-Size field when not empty
  std::vector<std::string> dirs;  // listed directories
  std::vector<std::pair<std::string, std::string>> files;      // path, content (md5sums)
  std::vector<std::pair<std::string, std::string>> conffiles;  // path, content (status hash)
  std::vector<std::pair<std::string, std::string>> symlinks;   // path, target
  bool md5sums = true;                                         // write info/<name>.md5sums
  bool list = true;                                            // write info/<name>.list
};

class FakeDpkgRoot {
 public:
  FakeDpkgRoot();
  const std::string& path() const { return dir_.path(); }
  std::string operator/(std::string_view relative) const { return dir_ / relative; }
  const TempDir& dir() const { return dir_; }
  std::string admin() const { return dir_ / "var/lib/dpkg"; }

  /// Writes the package's files and its database entries, and rewrites `status`.
  void install(const FakePackage& package);
  /// Adds a diversion (`by` a package name, or ":" for a local one).
  void divert(const std::string& from, const std::string& to, const std::string& by);
  /// The info file name stem dpkg would use.
  static std::string info_name(const FakePackage& package);

 private:
  void write_status() const;

  TempDir dir_;
  std::vector<std::string> paragraphs_;
  std::string diversions_;
};

/// Lower-case hex MD5 of a string.
std::string md5_hex(std::string_view data);

}  // namespace catena::test
