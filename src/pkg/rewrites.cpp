#include "rewrites.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string_view>

#include "catena/core/fs.hpp"

namespace catena::pkg {
namespace {

constexpr size_t kManifestBytes = 1 << 20;
constexpr size_t kVersionChars = 64;

std::string_view base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view manager_of(std::string_view manifest) {
  const std::string_view name = base_name(manifest);
  if (name == "package.json") return "npm";
  if (name == "Cargo.toml") return "cargo";
  return {};
}

// Printable ASCII only and short: the text is the attacker's.
std::string clean_version(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (out.size() == kVersionChars) break;
    if (c > ' ' && c < 0x7f) out += c;
  }
  return out;
}

std::string read_manifest(const RootFs& fs, const std::string& path) {
  const int fd = fs.open_read(path);
  if (fd < 0) return {};
  const UniqueFd owned(fd);
  std::string text;
  char buffer[16384];
  while (text.size() <= kManifestBytes) {
    const ssize_t n = ::read(owned.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  if (text.size() > kManifestBytes) return {};
  return text;
}

std::string npm_version(const std::string& text) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return {};
  const auto it = doc.find("version");
  if (it == doc.end() || !it->is_string()) return {};
  return clean_version(it->get_ref<const std::string&>());
}

// `version = "1.2.3"` in the [package] table.
std::string cargo_version(std::string_view text) {
  bool in_package = false;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.starts_with('[')) {
      in_package = line.starts_with("[package]");
      continue;
    }
    if (!in_package || !line.starts_with("version")) continue;
    const size_t open = line.find('"');
    const size_t close = open == std::string_view::npos ? open : line.find('"', open + 1);
    if (close == std::string_view::npos) return {};
    return clean_version(line.substr(open + 1, close - open - 1));
  }
  return {};
}

}  // namespace

std::vector<RewrittenDirectory> rewritten_directories(const std::vector<std::string>& modified,
                                                      const std::vector<std::string>& missing,
                                                      const std::string& package,
                                                      const RootFs& fs) {
  std::vector<std::string> manifests;
  for (const std::string& path : modified) {
    if (!manager_of(path).empty() && path.rfind('/') > 0) manifests.push_back(path);
  }
  // Outermost first, so that a nested manifest finds its enclosing one already kept.
  std::sort(manifests.begin(), manifests.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  std::vector<RewrittenDirectory> out;
  for (const std::string& manifest : manifests) {
    const std::string directory = manifest.substr(0, manifest.rfind('/'));
    const bool nested = std::any_of(out.begin(), out.end(), [&](const RewrittenDirectory& d) {
      return path_is_within(directory, d.directory);
    });
    if (nested) continue;
    size_t files = 0;
    for (const std::string& path : modified) files += path_is_within(path, directory) ? 1 : 0;
    if (files < kRewrittenFiles) continue;
    size_t gone = 0;
    for (const std::string& path : missing) gone += path_is_within(path, directory) ? 1 : 0;
    RewrittenDirectory d{.directory = directory,
                         .manifest = manifest,
                         .manager = std::string(manager_of(manifest)),
                         .files = files,
                         .gone = gone};
    const std::string text = read_manifest(fs, manifest);
    d.version = d.manager == "npm" ? npm_version(text) : cargo_version(text);
    d.explanation = fmt::format(
        "{} files of package {} under {} changed{} together with its {} manifest{}: a language "
        "package manager ({}) rewrote the directory over what the package installed. The files "
        "are not what the package shipped; confirm who ran {} there.",
        files, package, directory,
        gone == 0   ? std::string()
        : gone == 1 ? std::string(" and 1 more is gone,")
                    : fmt::format(" and {} more are gone,", gone),
        d.manager, d.version.empty() ? std::string() : ", which now names version " + d.version,
        d.manager, d.manager);
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace catena::pkg
