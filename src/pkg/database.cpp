#include "catena/pkg/database.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>

#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/pkg/control.hpp"

namespace catena::pkg {
namespace {

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

// " /etc/foo.conf 0123...abcd obsolete": flags come last, the hash before them, and the path
// (which may contain spaces) is everything before the hash.
Result<Conffile> parse_conffile_line(std::string_view line) {
  Conffile out;
  while (true) {
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) break;
    const std::string_view word = line.substr(space + 1);
    if (word == "obsolete") {
      out.obsolete = true;
    } else if (word == "remove-on-upgrade") {
      out.remove_on_upgrade = true;
    } else {
      break;
    }
    line = line.substr(0, space);
  }
  const size_t space = line.rfind(' ');
  if (space == std::string_view::npos || space == 0) {
    return make_error(ErrorCode::Parse, "conffile entry without a hash");
  }
  out.path = std::string(line.substr(0, space));
  out.hash = std::string(line.substr(space + 1));
  if (!out.path.starts_with('/')) {
    return make_error(ErrorCode::Parse, "conffile path is not absolute");
  }
  return out;
}

Result<void> parse_paragraphs_into(std::string_view text, std::vector<InstalledPackage>& out) {
  if (!text.empty() && text.back() != '\n') {
    return make_error(ErrorCode::Parse, "the last line has no newline (truncated file?)");
  }
  Result<void> problem;
  auto parsed = for_each_paragraph(text, [&](const Paragraph& p) {
    InstalledPackage package;
    package.line = p.first_line;
    package.name = std::string(p.get("Package"));
    const auto where = "paragraph at line " + std::to_string(p.first_line);
    if (package.name.empty()) {
      problem = make_error(ErrorCode::Parse, where + " has no Package field");
      return false;
    }
    const std::string_view status = p.get("Status");
    const size_t first_space = status.find(' ');
    const size_t second_space =
        first_space == std::string_view::npos ? first_space : status.find(' ', first_space + 1);
    if (second_space == std::string_view::npos ||
        status.find(' ', second_space + 1) != std::string_view::npos) {
      problem =
          make_error(ErrorCode::Parse, where + " (" + package.name + ") has no valid Status field");
      return false;
    }
    package.want = std::string(status.substr(0, first_space));
    package.flag = std::string(status.substr(first_space + 1, second_space - first_space - 1));
    package.state = std::string(status.substr(second_space + 1));
    package.architecture = std::string(p.get("Architecture"));
    package.version = std::string(p.get("Version"));
    package.multi_arch = std::string(p.get("Multi-Arch"));
    // An estimate for people, never trusted for anything: a malformed one is left out.
    const std::string_view size = p.get("Installed-Size");
    if (!size.empty() && size.size() <= 12 &&
        size.find_first_not_of("0123456789") == std::string_view::npos) {
      package.installed_size_kib = std::stoull(std::string(size));
    }
    for (std::string_view line : continuation_lines(p.get("Conffiles"))) {
      auto conffile = parse_conffile_line(line);
      if (!conffile) {
        problem = make_error(ErrorCode::Parse,
                             where + " (" + package.name + "): " + conffile.error().message);
        return false;
      }
      package.conffiles.push_back(std::move(*conffile));
    }
    out.push_back(std::move(package));
    return true;
  });
  if (!parsed) return parsed;
  return problem;
}

}  // namespace

std::string InstalledPackage::qualified_name() const {
  if (multi_arch == "same" && !architecture.empty()) return name + ":" + architecture;
  return name;
}

Result<std::vector<InstalledPackage>> parse_status(std::string_view text) {
  std::vector<InstalledPackage> out;
  CATENA_TRY_STATUS(parse_paragraphs_into(text, out));
  return out;
}

Md5sums parse_md5sums(std::string_view text) {
  Md5sums out;
  constexpr size_t kHexDigits = 32;
  Lines lines(text);
  while (auto next = lines.next()) {
    const size_t line_number = lines.number();
    const std::string_view line = *next;
    if (line.empty()) continue;
    if (line.size() < kHexDigits + 3 || !is_hex(line.substr(0, kHexDigits))) {
      out.bad_lines.push_back({line_number, "expected 32 hex digits, two separators and a path"});
      continue;
    }
    if (line[kHexDigits] != ' ' || (line[kHexDigits + 1] != ' ' && line[kHexDigits + 1] != '*')) {
      out.bad_lines.push_back({line_number, "missing the separator after the hash"});
      continue;
    }
    std::string_view path = line.substr(kHexDigits + 2);
    if (path.starts_with("./")) path.remove_prefix(1);
    if (path.empty() || path == "/") {
      out.bad_lines.push_back({line_number, "empty path"});
      continue;
    }
    std::string absolute = path.starts_with('/') ? std::string(path) : "/" + std::string(path);
    out.entries.push_back({std::move(absolute), ascii_lower(line.substr(0, kHexDigits))});
  }
  return out;
}

Result<DpkgDatabase> DpkgDatabase::open(const DpkgLocation& location) {
  DpkgDatabase db;
  db.root_ = location.root.empty() ? "/" : location.root;
  db.admin_dir_ =
      location.admin_dir.empty() ? join_root(db.root_, "/var/lib/dpkg") : location.admin_dir;
  const std::string status_path = db.admin_dir_ + "/status";
  auto status = read_small_file(status_path, kMaxStatusBytes);
  if (!status) {
    if (status.error().code == ErrorCode::NotFound) {
      return make_error(ErrorCode::NotFound, "no dpkg status file at " + status_path);
    }
    return tl::unexpected(status.error());
  }
  auto packages = parse_status(*status);
  if (!packages) return make_error(ErrorCode::Parse, status_path + ": " + packages.error().message);

  // The journal: status paragraphs dpkg wrote since it last rewrote `status`, applied in order.
  std::vector<std::string> journal;
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  if (std::unique_ptr<DIR, CloseDir> dir(::opendir((db.admin_dir_ + "/updates").c_str())); dir) {
    while (dirent* entry = ::readdir(dir.get())) {
      const std::string_view name(entry->d_name);
      if (!name.empty() &&
          std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        journal.emplace_back(name);
      }
    }
  }
  std::sort(journal.begin(), journal.end());
  std::map<std::pair<std::string, std::string>, size_t> index;
  for (size_t pkg_idx = 0; pkg_idx < packages->size(); ++pkg_idx) {
    const InstalledPackage& p = (*packages)[pkg_idx];
    index[{p.name, p.architecture}] = pkg_idx;
  }
  for (const std::string& name : journal) {
    const std::string path = db.admin_dir_ + "/updates/" + name;
    CATENA_TRY(std::string text, read_small_file(path, kMaxStatusBytes));
    std::vector<InstalledPackage> updates;
    if (auto applied = parse_paragraphs_into(text, updates); !applied) {
      return make_error(ErrorCode::Parse, path + ": " + applied.error().message);
    }
    for (InstalledPackage& update : updates) {
      auto [it, inserted] = index.try_emplace({update.name, update.architecture}, packages->size());
      if (inserted) {
        packages->push_back(std::move(update));
      } else {
        (*packages)[it->second] = std::move(update);
      }
    }
  }
  db.packages_ = std::move(*packages);

  auto diversions = read_small_file(db.admin_dir_ + "/diversions", kMaxDpkgFileBytes);
  if (!diversions && diversions.error().code != ErrorCode::NotFound) {
    return tl::unexpected(diversions.error());
  }
  if (diversions) {
    auto parsed = parse_diversions(*diversions);
    if (!parsed) {
      return make_error(ErrorCode::Parse, db.admin_dir_ + "/" + parsed.error().message);
    }
    db.diversions_ = std::move(*parsed);
  }
  auto format = read_small_file(db.admin_dir_ + "/info/format", 64);
  db.multiarch_layout_ = format && !format->empty() && format->front() >= '1';
  return db;
}

std::string DpkgDatabase::info_path(const InstalledPackage& package, std::string_view kind) const {
  const std::string name = multiarch_layout_ ? package.qualified_name() : package.name;
  return admin_dir_ + "/info/" + name + "." + std::string(kind);
}

Result<std::string> DpkgDatabase::read_info(const InstalledPackage& package,
                                            std::string_view kind) const {
  const std::string path = info_path(package, kind);
  return read_small_file(path, kMaxDpkgFileBytes);
}

}  // namespace catena::pkg
