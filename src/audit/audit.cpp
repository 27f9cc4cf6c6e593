#include "catena/audit/audit.hpp"

#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"

namespace catena::audit {
namespace {

// Per-user tool directories, relative to a home.
constexpr const char* kHomeToolDirs[] = {
    ".local",        ".cargo/bin",      ".rustup/toolchains", "go/bin",
    ".npm-global",   ".yarn/bin",       ".deno/bin",          ".bun/bin",
    ".nvm/versions", ".pyenv/versions", ".sdkman/candidates",
};

constexpr uint64_t kMaxNpmrcBytes = 1 << 20;

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The `prefix=` of an .npmrc: where `npm install -g` puts tools for this user.
std::string npm_prefix(const std::string& home) {
  auto text = read_small_file(home + "/.npmrc", kMaxNpmrcBytes);
  if (!text) return {};
  size_t pos = 0;
  std::string prefix;
  while (pos < text->size()) {
    size_t end = text->find('\n', pos);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    const auto trim = [](std::string& s) {
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
    };
    trim(key);
    trim(value);
    if (key != "prefix" || value.empty()) continue;
    if (value.starts_with("~/")) value = home + value.substr(1);
    if (value.front() == '/') prefix = value;
  }
  return prefix;
}

}  // namespace

AuditPlaces this_machine() {
  AuditPlaces places;
  if (const char* path = std::getenv("PATH")) places.path_env = path;
  std::vector<std::string> homes;
  setpwent();
  while (passwd* entry = getpwent()) {
    if (entry->pw_dir == nullptr || entry->pw_dir[0] != '/') continue;
    homes.emplace_back(entry->pw_dir);
  }
  endpwent();
  if (const char* home = std::getenv("HOME"); home != nullptr && home[0] == '/') {
    homes.emplace_back(home);
  }
  places.homes = std::move(homes);
  places.system_dirs = {"/usr/lib", "/usr/libexec", "/usr/local", "/opt"};
  return places;
}

std::vector<std::string> access_homes(const AuditPlaces& places) {
  static constexpr std::string_view kSystem[] = {
      "/usr",         "/bin",       "/sbin",        "/lib",       "/lib32",
      "/lib64",       "/libx32",    "/dev",         "/proc",      "/sys",
      "/run",         "/var/run",   "/var/spool",   "/var/cache", "/var/mail",
      "/var/backups", "/var/empty", "/nonexistent", "/etc",       "/boot"};
  std::vector<std::string> out;
  for (const std::string& home : places.homes) {
    if (home.empty() || home == "/" || !is_directory(home)) continue;
    bool system = false;
    for (std::string_view dir : kSystem) system = system || path_is_within(home, dir);
    if (system) continue;
    if (std::find(out.begin(), out.end(), home) == out.end()) out.push_back(home);
  }
  return out;
}

namespace {

// Where a user's tool directory really is, if catena may scan it: a directory the home's owner
// owns inside the home. `why` says what is wrong otherwise; empty `why` and nullopt: absent.
std::optional<std::string> user_place(const std::string& home_real,
                                      uid_t owner,
                                      const std::string& place,
                                      bool inside_only,
                                      std::string& why) {
  struct stat link {};
  if (::lstat(place.c_str(), &link) != 0) return std::nullopt;
  auto real = canonical_path(place);
  struct stat st {};
  if (!real || ::stat(real->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return std::nullopt;
  if (inside_only && !path_is_within(*real, home_real)) {
    why = "leads to " + *real + ", outside the home";
    return std::nullopt;
  }
  if (st.st_uid != owner) {
    why = "leads to a directory another user owns";
    return std::nullopt;
  }
  return *real;
}

}  // namespace

AuditRoots audit_roots(const AuditPlaces& places) {
  AuditRoots out;
  std::vector<std::string> candidates;
  size_t pos = 0;
  const std::string& path_env = places.path_env;
  while (pos <= path_env.size()) {
    size_t end = path_env.find(':', pos);
    if (end == std::string::npos) end = path_env.size();
    const std::string dir = path_env.substr(pos, end - pos);
    // An empty or relative PATH entry means the working directory; that is not a tool place.
    if (!dir.empty() && dir.front() == '/') candidates.push_back(dir);
    pos = end + 1;
  }
  for (const std::string& dir : places.system_dirs) candidates.push_back(dir);
  std::vector<std::string> existing;
  for (const std::string& dir : candidates) {
    auto canonical = canonical_path(dir);
    if (canonical && is_directory(*canonical)) existing.push_back(*canonical);
  }
  for (const std::string& home : places.homes) {
    // System accounts have homes such as / or /usr/sbin; only real directories of their own.
    if (home == "/" || !is_directory(home)) continue;
    auto home_real = canonical_path(home);
    struct stat home_st {};
    if (!home_real || *home_real == "/" || ::stat(home_real->c_str(), &home_st) != 0) continue;
    // Tool directories in the home must stay in it; an npm prefix may be anywhere its user
    // owns (a place they could fill anyway), and one in a place already scanned is just that.
    std::vector<std::pair<std::string, bool>> user_places;
    for (const char* relative : kHomeToolDirs)
      user_places.emplace_back(home + "/" + relative, true);
    std::string prefix = npm_prefix(home);
    if (!prefix.empty()) {
      while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();  // "/" too
      user_places.emplace_back(prefix + "/bin", false);
      user_places.emplace_back(prefix + "/lib/node_modules", false);
    }
    const size_t system_places = existing.size();
    for (const auto& [place, inside_only] : user_places) {
      std::string why;
      if (auto real = user_place(*home_real, home_st.st_uid, place, inside_only, why)) {
        existing.push_back(*real);
        continue;
      }
      if (why.empty()) continue;
      auto real = canonical_path(place);
      bool scanned = false;
      for (size_t i = 0; real && i < system_places; ++i) {
        scanned = scanned || path_is_within(*real, existing[i]);
      }
      if (!scanned) out.refused.emplace_back(place, why);
    }
  }
  auto roots = scan::resolve_roots(existing, scan::MissingRoot::Skip);
  if (roots) {
    for (const scan::Root& root : *roots) out.roots.push_back(root.canonical);
  }
  return out;
}

std::vector<Finding> refused_place_findings(const AuditRoots& roots) {
  std::vector<Finding> out;
  for (const auto& [place, why] : roots.refused) {
    Finding f = make_finding("AUDIT_PLACE_NOT_FOLLOWED", place);
    f.add_evidence("reason", why);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace catena::audit
