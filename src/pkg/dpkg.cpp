#include "catena/pkg/dpkg.hpp"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"

namespace catena::pkg {

std::string join_root(std::string_view root, std::string_view path) {
  if (root == "/" || root.empty()) return std::string(path);
  std::string out(root);
  while (!out.empty() && out.back() == '/') out.pop_back();
  out.append(path);
  return out;
}

namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Canonicalises listed directories relative to `root`, with one lstat per distinct directory.
class DirCanonicaliser {
 public:
  explicit DirCanonicaliser(std::string root) : root_(std::move(root)) {}

  /// The canonical directory of `path` and its last component ("/usr/bin", "/ls").
  std::pair<const std::string&, std::string_view> split(std::string_view path) {
    static const std::string kEmpty;
    const size_t slash = path.rfind('/');
    if (slash == std::string_view::npos || slash == 0) return {kEmpty, path};
    return {canonical_dir(path.substr(0, slash)), path.substr(slash)};
  }

 private:
  const std::string& canonical_dir(std::string_view dir) {
    auto found = cache_.find(dir);
    if (found != cache_.end()) return found->second;
    std::string resolved;
    const size_t slash = dir.rfind('/');
    if (slash == std::string_view::npos || dir.size() <= 1) {
      resolved = std::string(dir);
    } else {
      resolved = slash == 0 ? std::string() : canonical_dir(dir.substr(0, slash));
      resolved.append(dir.substr(slash));
      struct stat st {};
      const std::string on_disk = join_root(root_, resolved);
      if (::lstat(on_disk.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
        auto real = canonical_path(on_disk);
        auto real_root = canonical_path(root_.empty() ? "/" : root_);
        if (real && real_root && path_is_within(*real, *real_root)) {
          resolved = *real_root == "/" ? *real : real->substr(real_root->size());
          if (resolved.empty()) resolved = "/";
        }
      }
    }
    return cache_.emplace(std::string(dir), std::move(resolved)).first->second;
  }

  std::string root_;
  StringMap<std::string> cache_;
};

// True when dir + base lies within one of `prefixes` (all of them when there are none).
bool wanted(const std::string& dir,
            std::string_view base,
            const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const std::string& prefix : prefixes) {
    if (path_is_within(dir, prefix)) return true;
    if (prefix.size() == dir.size() + base.size() && prefix.starts_with(dir) &&
        std::string_view(prefix).substr(dir.size()) == base) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::vector<Diversion>> parse_diversions(std::string_view text) {
  std::vector<std::string_view> lines;
  Lines reader(text);
  while (auto line = reader.next()) lines.push_back(*line);
  if (lines.size() % 3 != 0) {
    return make_error(ErrorCode::Parse, "diversions: incomplete entry at line " +
                                            std::to_string(lines.size() / 3 * 3 + 1));
  }
  std::vector<Diversion> out;
  out.reserve(lines.size() / 3);
  for (size_t line_idx = 0; line_idx < lines.size(); line_idx += 3) {
    for (size_t field_idx = 0; field_idx < 2; ++field_idx) {
      if (!lines[line_idx + field_idx].starts_with('/')) {
        return make_error(ErrorCode::Parse, "diversions: line " +
                                                std::to_string(line_idx + field_idx + 1) +
                                                " is not an absolute path");
      }
    }
    if (lines[line_idx + 2].empty()) {
      return make_error(ErrorCode::Parse,
                        "diversions: empty package name at line " + std::to_string(line_idx + 3));
    }
    out.push_back({std::string(lines[line_idx]), std::string(lines[line_idx + 1]),
                   std::string(lines[line_idx + 2])});
  }
  return out;
}

Result<std::vector<std::string_view>> parse_list(std::string_view text) {
  std::vector<std::string_view> out;
  Lines lines(text);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    if (line.empty()) continue;
    if (line.front() != '/') {
      return make_error(ErrorCode::Parse,
                        "line " + std::to_string(lines.number()) + " is not an absolute path");
    }
    // "/." is how dpkg lists the root directory itself.
    if (line == "/.") continue;
    out.push_back(line);
  }
  return out;
}

void PackageOwners::add(std::string path, uint32_t package_index) {
  auto [it, inserted] = owners_.try_emplace(std::move(path), package_index);
  if (!inserted && it->second != package_index) extra_owners_[it->first].push_back(package_index);
}

Result<PackageOwners> PackageOwners::load(const DpkgLocation& location,
                                          const std::vector<std::string>& only_under) {
  const std::string root = location.root.empty() ? "/" : location.root;
  const std::string admin =
      location.admin_dir.empty() ? join_root(root, "/var/lib/dpkg") : location.admin_dir;
  const std::string info_dir = admin + "/info";

  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> dir(::opendir(info_dir.c_str()));
  if (!dir) {
    if (errno == ENOENT) return make_error(ErrorCode::NotFound, "no dpkg database at " + admin);
    return make_io_error("cannot open " + info_dir, errno);
  }
  std::vector<std::string> list_names;
  while (dirent* entry = ::readdir(dir.get())) {
    const std::string_view name(entry->d_name);
    if (name.size() > 5 && name.ends_with(".list")) list_names.emplace_back(name);
  }
  std::sort(list_names.begin(), list_names.end());

  StringMap<Diversion> diversions;
  auto diversions_text = read_small_file(admin + "/diversions", kMaxDpkgFileBytes);
  if (diversions_text) {
    auto parsed = parse_diversions(*diversions_text);
    if (!parsed) return make_error(parsed.error().code, admin + "/" + parsed.error().message);
    for (Diversion& d : *parsed) diversions.emplace(d.from, std::move(d));
  } else if (diversions_text.error().code != ErrorCode::NotFound &&
             diversions_text.error().code != ErrorCode::Io) {
    return tl::unexpected(diversions_text.error());
  }

  PackageOwners owners;
  owners.owners_.reserve(only_under.empty() ? 1 << 18 : 1 << 14);
  DirCanonicaliser canon(root);
  for (const std::string& list_name : list_names) {
    const std::string package = list_name.substr(0, list_name.size() - 5);
    const std::string list_path = info_dir + "/" + list_name;
    auto text = read_small_file(list_path, kMaxDpkgFileBytes);
    if (!text) {
      owners.damaged_lists_.push_back(text.error().describe());
      continue;
    }
    auto paths = parse_list(*text);
    if (!paths) {
      owners.damaged_lists_.push_back(list_path + ": " + paths.error().message);
      continue;
    }
    const auto package_index = static_cast<uint32_t>(owners.packages_.size());
    owners.packages_.push_back(package);
    const std::string_view bare_name = std::string_view(package).substr(0, package.find(':'));
    for (std::string_view path : *paths) {
      auto diversion = diversions.find(path);
      if (diversion != diversions.end() && diversion->second.by != bare_name &&
          diversion->second.by != package) {
        path = diversion->second.to;
      }
      const auto [canonical_dir, base] = canon.split(path);
      if (!wanted(canonical_dir, base, only_under)) continue;
      std::string canonical;
      canonical.reserve(canonical_dir.size() + base.size());
      canonical.append(canonical_dir).append(base);
      owners.add(std::move(canonical), package_index);
    }
  }
  return owners;
}

std::string PackageOwners::owner_of(std::string_view path) const {
  auto found = owners_.find(path);
  if (found == owners_.end()) return {};
  std::string out = packages_[found->second];
  auto shared = extra_owners_.find(path);
  if (shared == extra_owners_.end()) return out;
  std::vector<std::string_view> extras;
  for (uint32_t index : shared->second) {
    if (index != found->second) extras.push_back(packages_[index]);
  }
  std::sort(extras.begin(), extras.end());
  extras.erase(std::unique(extras.begin(), extras.end()), extras.end());
  for (std::string_view extra : extras) {
    out += ", ";
    out.append(extra);
  }
  return out;
}

}  // namespace catena::pkg
