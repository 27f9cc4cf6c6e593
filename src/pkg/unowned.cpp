#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "catena/core/content.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/formats/format.hpp"
#include "catena/pkg/verify.hpp"

namespace catena::pkg {
namespace {

// Deeper than any real system tree; a cap so that a crafted image cannot exhaust descriptors.
constexpr int kMaxDepth = 64;
constexpr size_t kHeadBytes = 4096;

bool executable_format(std::string_view format) {
  using formats::FileFormat;
  for (FileFormat f : {FileFormat::Elf, FileFormat::Pe, FileFormat::MachO, FileFormat::MachOFat}) {
    if (format == formats::format_name(f)) return true;
  }
  return false;
}

class UnownedWalker {
 public:
  UnownedWalker(const PackageOwners& owners, const std::atomic<bool>* cancel)
      : owners_(owners), cancel_(cancel) {}

  void walk(int dir_fd, const std::string& path, dev_t device, int depth) {
    if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) return;
    DIR* dir = ::fdopendir(dir_fd);
    if (dir == nullptr) {
      ::close(dir_fd);
      return;
    }
    while (dirent* entry = ::readdir(dir)) {
      const std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      const std::string child = (path == "/" ? "" : path) + "/" + std::string(name);
      unsigned char type = entry->d_type;
      struct stat st {};
      if (type == DT_UNKNOWN) {
        if (::fstatat(::dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
      }
      if (type == DT_DIR) {
        if (depth >= kMaxDepth) continue;
        const int child_fd =
            ::openat(::dirfd(dir), entry->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (child_fd < 0) continue;
        struct stat dir_st {};
        if (::fstat(child_fd, &dir_st) != 0 || dir_st.st_dev != device) {
          ::close(child_fd);  // another file system mounted here is not part of this tree
          continue;
        }
        walk(child_fd, child, device, depth + 1);
        continue;
      }
      if (type != DT_REG) continue;
      if (!owners_.owner_of(child).empty()) continue;
      inspect(::dirfd(dir), entry->d_name, child);
    }
    ::closedir(dir);
  }

  std::vector<Finding> findings;

 private:
  void inspect(int dir_fd, const char* name, const std::string& path) {
    // The head first: a file with no execute bit is hashed only when its content runs.
    const FileContent head = read_content(dir_fd, name, {.digests = 0, .head_bytes = kHeadBytes});
    if (head.status != FileContent::Status::Read) return;
    const std::string_view format = formats::format_name(formats::classify_format(head.head));
    if ((head.st.st_mode & 0111) == 0 && !executable_format(format)) return;
    const FileContent content = read_content(dir_fd, name, {.expect = &head.st});
    std::optional<Sha256> digest;
    if (content.status == FileContent::Status::Read) digest = content.digests.sha256;
    if (auto f = unowned_executable(path, head.st.st_mode, static_cast<uint64_t>(head.st.st_size),
                                    head.st.st_uid, format, digest)) {
      findings.push_back(std::move(*f));
    }
  }

  const PackageOwners& owners_;
  const std::atomic<bool>* cancel_;
};

}  // namespace

std::optional<Finding> unowned_executable(const std::string& path,
                                          uint32_t mode,
                                          uint64_t size,
                                          uint32_t uid,
                                          std::string_view format,
                                          const std::optional<Sha256>& sha256) {
  if ((mode & 0111) == 0 && !executable_format(format)) return std::nullopt;
  Finding f = make_finding("UNOWNED_EXECUTABLE", path);
  f.sha256 = sha256;
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o", static_cast<unsigned>(mode & 07777));
  f.add_evidence("mode", octal);
  f.add_evidence("size", std::to_string(size));
  f.add_evidence("format", std::string(format));
  f.add_evidence("uid", std::to_string(uid));
  return f;
}

Result<std::vector<Finding>> find_unowned_executables(const DpkgLocation& location,
                                                      const std::vector<std::string>& dirs,
                                                      const std::atomic<bool>* cancel) {
  CATENA_TRY(PackageOwners owners, PackageOwners::load(location, dirs));
  UnownedWalker walker(owners, cancel);
  const std::string root = location.root.empty() ? "/" : location.root;
  for (const std::string& dir : dirs) {
    const int fd =
        ::open(join_root(root, dir).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      continue;
    }
    walker.walk(fd, dir, st.st_dev, 0);
  }
  return std::move(walker.findings);
}

}  // namespace catena::pkg
