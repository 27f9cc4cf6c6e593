#include "catena/audit/audit.hpp"

#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>

#include "catena/core/fs.hpp"

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

std::vector<std::string> audit_roots(const AuditPlaces& places) {
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
  for (const std::string& home : places.homes) {
    // System accounts have homes such as / or /usr/sbin; only real directories of their own.
    if (home == "/" || !is_directory(home)) continue;
    for (const char* relative : kHomeToolDirs) candidates.push_back(home + "/" + relative);
    const std::string prefix = npm_prefix(home);
    if (!prefix.empty()) {
      candidates.push_back(prefix + "/bin");
      candidates.push_back(prefix + "/lib/node_modules");
    }
  }
  std::vector<std::string> existing;
  for (const std::string& dir : candidates) {
    auto canonical = canonical_path(dir);
    if (canonical && is_directory(*canonical)) existing.push_back(*canonical);
  }
  auto roots = scan::resolve_roots(existing, scan::MissingRoot::Skip);
  std::vector<std::string> out;
  if (roots) {
    for (const scan::Root& root : *roots) out.push_back(root.canonical);
  }
  return out;
}

}  // namespace catena::audit
