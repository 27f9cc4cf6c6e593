#include "support/dpkg_root.hpp"

#include <set>

#include "catena/core/digest.hpp"

namespace catena::test {

std::string md5_hex(std::string_view data) {
  DigestSet digests(DigestSet::kMd5);
  digests.update(std::as_bytes(std::span(data.data(), data.size())));
  return to_hex(*digests.finish().md5);
}

FakeDpkgRoot::FakeDpkgRoot() {
  dir_.mkdir("var/lib/dpkg/info");
  dir_.mkdir("var/lib/dpkg/updates");
  dir_.write("var/lib/dpkg/info/format", "1\n");
  dir_.write("var/lib/dpkg/diversions", "");
  write_status();
}

std::string FakeDpkgRoot::info_name(const FakePackage& package) {
  return package.multi_arch == "same" ? package.name + ":" + package.architecture : package.name;
}

void FakeDpkgRoot::install(const FakePackage& package) {
  std::string list = "/.\n";
  std::set<std::string> listed_dirs;
  const auto add_parents = [&](const std::string& path) {
    for (size_t slash = path.find('/', 1); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      const std::string dir = path.substr(0, slash);
      if (listed_dirs.insert(dir).second) list += dir + "\n";
    }
  };
  for (const std::string& dir : package.dirs) {
    add_parents(dir + "/");
    dir_.mkdir(dir.substr(1));
  }
  std::string md5sums;
  for (const auto& [path, content] : package.files) {
    add_parents(path);
    list += path + "\n";
    dir_.write(path.substr(1), content, 0755);
    md5sums += md5_hex(content) + "  " + path.substr(1) + "\n";
  }
  std::string conffiles_field;
  for (const auto& [path, content] : package.conffiles) {
    add_parents(path);
    list += path + "\n";
    dir_.write(path.substr(1), content);
    conffiles_field += " " + path + " " + md5_hex(content) + "\n";
  }
  for (const auto& [path, target] : package.symlinks) {
    add_parents(path);
    list += path + "\n";
    dir_.mkdir(path.substr(1, path.rfind('/') - 1));
    dir_.symlink(path.substr(1), target);
  }
  const std::string info = "var/lib/dpkg/info/" + info_name(package);
  if (package.list) dir_.write(info + ".list", list);
  if (package.md5sums) dir_.write(info + ".md5sums", md5sums);
  std::string paragraph = "Package: " + package.name + "\nStatus: " + package.status +
                          "\nPriority: optional\nSection: misc\nMaintainer: Test <t@example.org>\n"
                          "Architecture: " +
                          package.architecture + "\n";
  if (!package.multi_arch.empty()) paragraph += "Multi-Arch: " + package.multi_arch + "\n";
  paragraph += "Version: " + package.version + "\n";
  if (!package.installed_size.empty())
    paragraph += "Installed-Size: " + package.installed_size + "\n";
  if (!conffiles_field.empty()) paragraph += "Conffiles:\n" + conffiles_field;
  paragraph += "Description: test package\n";
  paragraphs_.push_back(std::move(paragraph));
  write_status();
}

void FakeDpkgRoot::divert(const std::string& from, const std::string& to, const std::string& by) {
  diversions_ += from + "\n" + to + "\n" + by + "\n";
  dir_.write("var/lib/dpkg/diversions", diversions_);
}

void FakeDpkgRoot::write_status() const {
  std::string text;
  for (const std::string& paragraph : paragraphs_) text += paragraph + "\n";
  dir_.write("var/lib/dpkg/status", text);
}

}  // namespace catena::test
