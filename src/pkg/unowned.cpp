#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "catena/core/content.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/walk.hpp"
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

// Regular files no package owns, judged by their mode and, when they have no execute bit, by
// their head (an ELF without +x is still code a loader can map).
class UnownedVisitor : public WalkVisitor {
 public:
  explicit UnownedVisitor(const PackageOwners& owners) : owners_(owners) {}

  void file(const WalkEntry& entry) override {
    if (!entry.is_regular() || !owners_.owner_of(entry.path).empty()) return;
    const std::string name(entry.name);
    // The head first: a file with no execute bit is hashed only when its content runs.
    const FileContent head =
        read_content(entry.dir_fd, name, {.digests = 0, .head_bytes = kHeadBytes});
    if (head.status != FileContent::Status::Read) return;
    const std::string_view format = formats::format_name(formats::classify_format(head.head));
    if ((head.st.st_mode & 0111) == 0 && !executable_format(format)) return;
    const FileContent content = read_content(entry.dir_fd, name, {.expect = &head.st});
    std::optional<Sha256> digest;
    if (content.status == FileContent::Status::Read) digest = content.digests.sha256;
    if (auto f =
            unowned_executable(entry.path, head.st.st_mode, static_cast<uint64_t>(head.st.st_size),
                               head.st.st_uid, format, digest)) {
      findings.push_back(std::move(*f));
    }
  }

  std::vector<Finding> findings;

 private:
  const PackageOwners& owners_;
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
  UnownedVisitor visitor(owners);
  // Only the listing's file types: a file is looked at only when no package owns it.
  const WalkOptions walk{.max_depth = kMaxDepth, .stat_files = false, .cancel = cancel};
  const std::string root = location.root.empty() ? "/" : location.root;
  for (const std::string& dir : dirs) {
    const UniqueFd fd(
        ::open(join_root(root, dir).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid()) walk_tree(fd.get(), dir, walk, visitor);
  }
  return std::move(visitor.findings);
}

}  // namespace catena::pkg
