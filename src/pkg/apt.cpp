#include "apt.hpp"

#include <archive.h>
#include <dirent.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"
#include "catena/pkg/control.hpp"

namespace catena::pkg {
namespace {

std::string key_of(std::string_view name, std::string_view version, std::string_view arch) {
  std::string key;
  key.reserve(name.size() + version.size() + arch.size() + 2);
  key.append(name).push_back('\0');
  key.append(version).push_back('\0');
  key.append(arch);
  return key;
}

bool is_packages_index(std::string_view name) {
  for (std::string_view suffix : {"_Packages", "_Packages.lz4", "_Packages.gz", "_Packages.xz",
                                  "_Packages.zst", "_Packages.bz2"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

}  // namespace

Result<void> for_each_decompressed_chunk(
    const std::string& path, const std::function<Result<void>(std::string_view)>& consume) {
  struct Free {
    void operator()(archive* a) const { archive_read_free(a); }
  };
  std::unique_ptr<archive, Free> reader(archive_read_new());
  if (!reader) return make_error(ErrorCode::Io, "libarchive: out of memory");
  archive_read_support_filter_all(reader.get());
  archive_read_support_format_raw(reader.get());
  if (archive_read_open_filename(reader.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    return make_error(ErrorCode::Io, archive_error_string(reader.get()) != nullptr
                                         ? archive_error_string(reader.get())
                                         : "cannot open");
  }
  archive_entry* entry = nullptr;
  if (archive_read_next_header(reader.get(), &entry) != ARCHIVE_OK) {
    return make_error(ErrorCode::Parse,
                      "cannot read: " + std::string(archive_error_string(reader.get()) != nullptr
                                                        ? archive_error_string(reader.get())
                                                        : "unknown error"));
  }
  uint64_t total = 0;
  std::vector<char> chunk(1 << 16);
  while (true) {
    const la_ssize_t n = archive_read_data(reader.get(), chunk.data(), chunk.size());
    if (n < 0) {
      const char* why = archive_error_string(reader.get());
      return make_error(ErrorCode::Parse, why != nullptr ? why : "decompression failed");
    }
    if (n == 0) break;
    total += static_cast<uint64_t>(n);
    if (total > kMaxPackagesIndexBytes) {
      return make_error(ErrorCode::LimitExceeded, "larger than the cap on a Packages index");
    }
    CATENA_TRY_STATUS(consume(std::string_view(chunk.data(), static_cast<size_t>(n))));
  }
  return {};
}

Result<std::string> read_maybe_compressed(const std::string& path) {
  std::string out;
  auto read = for_each_decompressed_chunk(path, [&](std::string_view chunk) -> Result<void> {
    out.append(chunk);
    return {};
  });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<void> for_each_paragraph_of_file(const std::string& path,
                                        const std::function<bool(const Paragraph&)>& on_paragraph) {
  // Whole paragraphs are parsed as they arrive (a blank line always ends one), so an index of
  // any size costs one paragraph and one chunk of memory.
  std::string pending;
  bool stopped = false;
  const auto parse = [&](std::string_view text) -> Result<void> {
    return for_each_paragraph(text, [&](const Paragraph& p) {
      stopped = stopped || !on_paragraph(p);
      return !stopped;
    });
  };
  auto read = for_each_decompressed_chunk(path, [&](std::string_view chunk) -> Result<void> {
    if (stopped) return {};
    const size_t from = pending.empty() ? 0 : pending.size() - 1;
    pending.append(chunk);
    // Only the new bytes (and the one before them) can hold a blank line not yet seen.
    size_t end = std::string_view(pending).substr(from).rfind("\n\n");
    if (end != std::string_view::npos) end += from;
    if (end == std::string_view::npos) {
      if (pending.size() > kMaxParagraphBytes) {
        return make_error(ErrorCode::LimitExceeded, "a paragraph larger than the cap");
      }
      return {};
    }
    CATENA_TRY_STATUS(parse(std::string_view(pending).substr(0, end + 2)));
    pending.erase(0, end + 2);
    return {};
  });
  if (!read) return read;
  if (!stopped && !pending.empty()) CATENA_TRY_STATUS(parse(pending));
  return {};
}

AptIndex AptIndex::load(const std::string& lists_dir,
                        const std::unordered_set<std::string_view>* only) {
  AptIndex index;
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::vector<std::string> names;
  if (std::unique_ptr<DIR, CloseDir> dir(::opendir(lists_dir.c_str())); dir) {
    while (dirent* entry = ::readdir(dir.get())) {
      if (is_packages_index(entry->d_name)) names.emplace_back(entry->d_name);
    }
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    const std::string path = lists_dir + "/" + name;
    auto parsed = for_each_paragraph_of_file(path, [&](const Paragraph& p) {
      const std::string_view package = p.get("Package");
      const std::string_view version = p.get("Version");
      if (package.empty() || version.empty()) return true;
      if (only != nullptr && !only->contains(package)) return true;
      const std::string_view arch = p.get("Architecture");
      if (index.offered.insert(key_of(package, version, arch)).second) {
        index.versions[std::string(package)].emplace_back(version);
      }
      return true;
    });
    if (!parsed) {
      index.unreadable.push_back(path + ": " + parsed.error().message);
      continue;
    }
    ++index.files;
  }
  return index;
}

bool AptIndex::offers(const std::string& name,
                      const std::string& version,
                      const std::string& arch) const {
  return offered.contains(key_of(name, version, arch));
}

std::vector<Finding> packages_not_from_repository(
    const std::vector<const InstalledPackage*>& packages, const AptIndex& index) {
  std::vector<Finding> out;
  if (index.files == 0) {
    Finding f = make_finding("PKG_REPOSITORY_UNKNOWN", "");
    f.message =
        "No readable apt package lists were found, so catena cannot tell which installed "
        "packages a configured repository offers.";
    for (const std::string& problem : index.unreadable) f.add_evidence("unreadable", problem);
    out.push_back(std::move(f));
    return out;
  }
  for (const InstalledPackage* p : packages) {
    if (p->state != "installed" && p->state != "half-configured" && p->state != "unpacked" &&
        p->state != "triggers-awaited" && p->state != "triggers-pending") {
      continue;
    }
    if (index.offers(p->name, p->version, p->architecture)) continue;
    Finding f = make_finding("PKG_NOT_FROM_REPOSITORY", "");
    f.add_evidence("package", p->qualified_name());
    f.add_evidence("version", p->version);
    f.add_evidence("architecture", p->architecture);
    if (p->installed_size_kib > 0) {
      f.add_evidence("installed_size", human_bytes(p->installed_size_kib * 1024));
    }
    auto offered = index.versions.find(p->name);
    if (offered == index.versions.end()) {
      f.message =
          "An installed package is offered by no configured apt repository (installed "
          "by hand, from a removed repository, or retired by its vendor).";
    } else {
      // The repository has moved on: the installed build can no longer be matched to it.
      f.severity = Severity::Low;
      f.message =
          "The installed version of a package is no longer offered by any configured "
          "apt repository (an outdated or locally built version).";
      std::string versions;
      for (const std::string& v : offered->second) versions += (versions.empty() ? "" : ", ") + v;
      f.add_evidence("offered_versions", versions);
    }
    out.push_back(std::move(f));
  }
  if (!index.unreadable.empty()) {
    Finding f = make_finding("PKG_REPOSITORY_UNKNOWN", "");
    f.message =
        "Some apt package lists could not be read; packages they offer may be reported "
        "as offered by no repository.";
    for (const std::string& problem : index.unreadable) f.add_evidence("unreadable", problem);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace catena::pkg
