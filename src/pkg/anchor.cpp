#include "catena/pkg/anchor.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "apt.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/process.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/pkg/control.hpp"
#include "catena/pkg/database.hpp"
#include "file_digest.hpp"
#include "root_fs.hpp"

namespace catena::pkg {
namespace {

// A cap on an InRelease file; Debian's are under 200 KB.
constexpr uint64_t kMaxReleaseBytes = 64ull << 20;
constexpr const char* kGpgv = "/usr/bin/gpgv";
constexpr const char* kGpg = "/usr/bin/gpg";
// The trust root when none is given: the archive keyring of the machine running catena, never
// one under the inspected root (whose owner may be the attacker).
constexpr const char* kHostArchiveKeyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
constexpr const char* kAptGet = "/usr/bin/apt-get";

struct CloseDir {
  void operator()(DIR* d) const { ::closedir(d); }
};
struct FreeArchive {
  void operator()(archive* a) const { archive_read_free(a); }
};

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (std::unique_ptr<DIR, CloseDir> d(::opendir(dir.c_str())); d) {
    while (dirent* entry = ::readdir(d.get())) {
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// An ASCII-armoured key block as the binary packets gpgv's --keyring wants.
Result<std::string> dearmor(std::string_view text) {
  const size_t begin = text.find("-----BEGIN PGP PUBLIC KEY BLOCK-----");
  if (begin == std::string_view::npos) return make_error(ErrorCode::Parse, "no armoured key block");
  const size_t blank = text.find("\n\n", begin);
  const size_t blank_crlf = text.find("\r\n\r\n", begin);
  const size_t body = std::min(blank == std::string_view::npos ? text.size() : blank + 2,
                               blank_crlf == std::string_view::npos ? text.size() : blank_crlf + 4);
  std::string base64;
  Lines lines(text.substr(std::min(body, text.size())));
  while (auto next = lines.next()) {
    std::string_view line = *next;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.starts_with("-----END") || line.starts_with('=')) break;
    base64.append(line);
  }
  return base64_decode(base64);
}

// The keyrings as files gpgv can read; armoured ones are converted into `scratch`.
Result<std::vector<std::string>> keyring_files(const std::vector<std::string>& given,
                                               const std::string& scratch) {
  std::vector<std::string> out;
  int converted = 0;
  for (const std::string& path : given) {
    auto text = read_small_file(path, 16 << 20);
    if (!text) {
      if (text.error().code == ErrorCode::NotFound) continue;
      return tl::unexpected(text.error());
    }
    if (text->find("-----BEGIN PGP PUBLIC KEY BLOCK-----") == std::string::npos) {
      out.push_back(path);
      continue;
    }
    CATENA_TRY(std::string binary, dearmor(*text));
    const std::string copy = scratch + "/keyring-" + std::to_string(converted++) + ".gpg";
    FILE* f = std::fopen(copy.c_str(), "wb");
    if (f == nullptr) return make_io_error("cannot write " + copy, errno);
    const bool written = std::fwrite(binary.data(), 1, binary.size(), f) == binary.size();
    if (std::fclose(f) != 0 || !written) return make_io_error("cannot write " + copy, errno);
    out.push_back(copy);
  }
  return out;
}

// The primary keys of a keyring file, as gpg lists them (it reads the packets; nothing is
// imported: a throwaway home). Each: fingerprint and first user id.
Result<std::vector<std::pair<std::string, std::string>>> keys_of(const std::string& keyring,
                                                                 const std::string& scratch) {
  const std::string home = scratch + "/gnupg";
  ::mkdir(home.c_str(), 0700);
  CATENA_TRY(ProcessResult run, run_process({kGpg, "--homedir", home, "--batch", "--no-options",
                                             "--with-colons", "--show-keys", keyring},
                                            {.max_output_bytes = 16 << 20, .timeout_seconds = 60}));
  if (run.exit_code != 0) {
    return make_error(ErrorCode::Parse, "gpg cannot read it: " + run.err.substr(0, 200));
  }
  std::vector<std::pair<std::string, std::string>> out;
  bool primary = false;
  Lines lines(run.out);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    std::vector<std::string_view> fields;
    for (size_t at = 0; at <= line.size();) {
      const size_t colon = std::min(line.find(':', at), line.size());
      fields.push_back(line.substr(at, colon - at));
      at = colon + 1;
    }
    if (fields.empty()) continue;
    if (fields[0] == "pub") primary = true;
    if (fields[0] == "sub") primary = false;
    if (fields[0] == "fpr" && primary && fields.size() > 9) {
      out.emplace_back(std::string(fields[9]), std::string());
      primary = false;
    }
    if (fields[0] == "uid" && !out.empty() && out.back().second.empty() && fields.size() > 9) {
      out.back().second = std::string(fields[9]);
    }
  }
  return out;
}

// One repository line of the inspected root's apt sources (one-line or deb822 form).
struct AptSource {
  std::string file;  // "/etc/apt/sources.list.d/debian.sources"
  std::vector<std::string> uris;
  std::vector<std::string> suites;
  std::string signed_by;  // a path, fingerprints, or an inline key block; empty when none
};

std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  for (size_t at = text.find_first_not_of(" \t"); at != std::string_view::npos;
       at = text.find_first_not_of(" \t", at)) {
    const size_t end = std::min(text.find_first_of(" \t", at), text.size());
    out.emplace_back(text.substr(at, end - at));
    at = end;
  }
  return out;
}

// The sources the inspected root's apt reads: /etc/apt/sources.list and sources.list.d's
// *.list (one-line: "deb [signed-by=/path arch=amd64] URI SUITE COMPONENT...") and *.sources
// (deb822: "Types:", "URIs:", "Suites:", "Signed-By:", which may hold a key block).
std::vector<AptSource> apt_sources(const std::string& root) {
  std::vector<std::string> files = {"/etc/apt/sources.list"};
  for (const std::string& name : list_dir(join_root(root, "/etc/apt/sources.list.d"))) {
    if (name.ends_with(".list") || name.ends_with(".sources")) {
      files.push_back("/etc/apt/sources.list.d/" + name);
    }
  }
  std::vector<AptSource> out;
  for (const std::string& file : files) {
    auto text = read_small_file(join_root(root, file), 1 << 20);
    if (!text) continue;
    if (file.ends_with(".sources")) {
      (void)for_each_paragraph(*text, [&](const Paragraph& p) {
        if (ascii_lower(p.get("Enabled")) == "no") return true;
        AptSource source{file, words_of(p.get("URIs")), words_of(p.get("Suites")),
                         std::string(p.get("Signed-By"))};
        if (!source.uris.empty() && !source.suites.empty()) out.push_back(std::move(source));
        return true;
      });
      continue;
    }
    Lines lines(*text);
    while (auto next = lines.next()) {
      std::string line(next->substr(0, next->find('#')));
      std::vector<std::string> words = words_of(line);
      if (words.size() < 3 || (words[0] != "deb" && words[0] != "deb-src")) continue;
      AptSource source{file, {}, {}, {}};
      size_t at = 1;
      if (words[1].starts_with('[')) {
        // Options up to the word that ends with ']'.
        for (; at < words.size(); ++at) {
          std::string option = words[at];
          const bool last = option.ends_with(']');
          if (option.starts_with('[')) option.erase(0, 1);
          if (last) option.pop_back();
          if (ascii_lower(option).starts_with("signed-by=")) source.signed_by = option.substr(10);
          if (last) break;
        }
        ++at;
      }
      if (at + 1 >= words.size()) continue;
      source.uris.push_back(words[at]);
      source.suites.push_back(words[at + 1]);
      out.push_back(std::move(source));
    }
  }
  return out;
}

// The apt list file name prefix of a repository's suite, as apt names its lists: the URI
// without its scheme and credentials, '/' made '_', then "dists", then the suite.
// "http://deb.debian.org/debian" and "bookworm" give "deb.debian.org_debian_dists_bookworm_".
// Empty for a flat repository (a suite ending in '/'), whose files apt names otherwise.
std::string list_prefix(std::string_view uri, std::string_view suite) {
  if (suite.empty() || suite.ends_with('/')) return {};
  if (const size_t scheme = uri.find("://"); scheme != std::string_view::npos) {
    uri.remove_prefix(scheme + 3);
  }
  if (const size_t at = uri.find('@'); at != std::string_view::npos && at < uri.find('/')) {
    uri.remove_prefix(at + 1);
  }
  while (uri.ends_with('/')) uri.remove_suffix(1);
  std::string out = std::string(uri) + "/dists/" + std::string(suite) + "/";
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

// The keyring file source `n`'s Signed-By names: a path in the root, or its inline key block as
// root_trust writes it to `scratch`; empty when it names fingerprints, or nothing.
std::string signed_by_keyring(const std::string& root,
                              const std::vector<AptSource>& sources,
                              size_t n,
                              const std::string& scratch) {
  const std::string& value = sources[n].signed_by;
  if (value.starts_with('/')) {
    return join_root(root, value.substr(0, value.find_first_of(" \t\n,")));
  }
  if (value.find("BEGIN PGP PUBLIC KEY BLOCK") != std::string::npos) {
    return scratch + "/signed-by-" + std::to_string(n) + ".asc";
  }
  return {};
}

// The keyring files the inspected root's apt trusts: trusted.gpg, trusted.gpg.d, and those its
// sources name with Signed-By (a path, or a key block written out to `scratch`). Each with
// where it is trusted.
std::vector<std::pair<std::string, std::string>> root_trust(const std::string& root,
                                                            const std::vector<AptSource>& sources,
                                                            const std::string& scratch) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string trusted = join_root(root, "/etc/apt/trusted.gpg");
  if (::access(trusted.c_str(), F_OK) == 0) out.emplace_back(trusted, "/etc/apt/trusted.gpg");
  for (const std::string& name : list_dir(join_root(root, "/etc/apt/trusted.gpg.d"))) {
    if (name.ends_with(".gpg") || name.ends_with(".asc")) {
      out.emplace_back(join_root(root, "/etc/apt/trusted.gpg.d/" + name), "/etc/apt/trusted.gpg.d");
    }
  }
  std::set<std::string> seen;
  for (size_t n = 0; n < sources.size(); ++n) {
    const std::string& value = sources[n].signed_by;
    const std::string path = signed_by_keyring(root, sources, n, scratch);
    if (value.starts_with('/')) {
      if (seen.insert(path).second) out.emplace_back(path, "Signed-By in " + sources[n].file);
    } else if (!path.empty()) {
      // deb822 continuation lines: a lone "." stands for an empty line.
      std::string block;
      for (std::string_view line : continuation_lines(value)) {
        block.append(line == "." ? std::string_view() : line).push_back('\n');
      }
      if (FILE* f = std::fopen(path.c_str(), "wb")) {
        std::fwrite(block.data(), 1, block.size(), f);
        std::fclose(f);
        out.emplace_back(path, "Signed-By in " + sources[n].file + " (a key block)");
      }
    }
  }
  return out;
}

struct SignedRelease {
  std::string prefix;  // list file name up to "InRelease": "deb.debian.org_debian_dists_bookworm_"
  std::unordered_map<std::string, std::string> sha256;  // "main/binary-amd64/Packages" -> hex
};

struct DebRef {
  std::string filename;  // pool/main/c/coreutils/coreutils_9.1-1_amd64.deb
  std::string sha256;
  uint64_t size = 0;
};

std::string key_of(std::string_view name, std::string_view version, std::string_view arch) {
  std::string key(name);
  key.push_back('\0');
  key.append(version).push_back('\0');
  key.append(arch);
  return key;
}

std::string strip_compression(std::string_view name) {
  for (std::string_view ext : {".lz4", ".gz", ".xz", ".zst", ".bz2"}) {
    if (name.ends_with(ext)) return std::string(name.substr(0, name.size() - ext.size()));
  }
  return std::string(name);
}

struct ArchiveIndex {
  std::unordered_map<std::string, DebRef> debs;  // key_of(name, version, arch)
  std::vector<Finding> findings;
  std::vector<std::pair<std::string, int64_t>> believed;  // InRelease name, its Date
};

// What a signed Release must meet to be believed.
struct ReleaseRules {
  std::vector<std::string> keyrings;
  int64_t when = 0;        // judged at
  int64_t max_age_ns = 0;  // 0: no limit
  /// By list prefix: the fingerprints its sources' Signed-By allows (primary keys, or a
  /// subkey named with '!'); a repository without Signed-By takes any trust root.
  std::unordered_map<std::string, std::set<std::string>> signers;
  /// By InRelease name: the newest Date believed before for this system.
  std::unordered_map<std::string, int64_t> newest;
};

// The signing key's and its primary key's fingerprints, from gpgv's VALIDSIG status line.
std::pair<std::string, std::string> valid_signer(std::string_view status) {
  const size_t at = status.find("[GNUPG:] VALIDSIG ");
  if (at == std::string_view::npos) return {};
  const std::string_view line = status.substr(at, status.find('\n', at) - at);
  const std::vector<std::string> words = words_of(line);
  if (words.size() < 3) return {};
  return {words[2], words.size() >= 12 ? words[11] : words[2]};
}

// Verifies every InRelease and every Packages index of `lists`, and collects what they offer.
// A Release past its Valid-Until is not believed, as apt would not believe it, nor one older
// than the newest believed before, nor one signed by a key its sources' Signed-By does not
// name; one whose Date is older than the maximum age is reported and still used.
ArchiveIndex load_signed_indexes(const std::string& lists, const ReleaseRules& rules) {
  const int64_t when = rules.when;
  const int64_t max_age_ns = rules.max_age_ns;
  ArchiveIndex index;
  std::vector<SignedRelease> releases;
  const std::vector<std::string> names = list_dir(lists);
  for (const std::string& name : names) {
    if (!name.ends_with("_InRelease")) continue;
    const std::string path = lists + "/" + name;
    std::vector<std::string> argv = {kGpgv, "--status-fd", "2", "--output", "-"};
    for (const std::string& keyring : rules.keyrings) {
      argv.push_back("--keyring");
      argv.push_back(keyring);
    }
    argv.push_back(path);
    auto run = run_process(argv, {.max_output_bytes = kMaxReleaseBytes, .timeout_seconds = 60});
    const bool valid =
        run && run->exit_code == 0 && run->err.find("[GNUPG:] VALIDSIG ") != std::string::npos;
    if (!valid) {
      Finding f = make_finding("ARCHIVE_SIGNATURE_INVALID", path);
      // gpgv's status lines say why (NO_PUBKEY, BADSIG, EXPKEYSIG ...).
      std::string status = run ? run->err : run.error().describe();
      if (status.size() > 600) status.resize(600);
      f.add_evidence("gpgv", status);
      index.findings.push_back(std::move(f));
      continue;
    }
    SignedRelease release;
    release.prefix = name.substr(0, name.size() - std::string_view("InRelease").size());
    if (const auto allowed = rules.signers.find(release.prefix); allowed != rules.signers.end()) {
      const auto [signing, primary] = valid_signer(run->err);
      if (!allowed->second.contains(primary) && !allowed->second.contains(signing + "!")) {
        Finding f = make_finding("ARCHIVE_SIGNER_NOT_ALLOWED", path);
        f.add_evidence("signer", primary);
        std::string named;
        for (const std::string& fingerprint : allowed->second) {
          named += (named.empty() ? "" : " ") + fingerprint;
        }
        f.add_evidence("signed_by", named);
        index.findings.push_back(std::move(f));
        continue;
      }
    }
    bool expired = false;
    int64_t release_date = 0;
    (void)for_each_paragraph(run->out, [&](const Paragraph& p) {
      const std::string_view valid_until = p.get("Valid-Until");
      const std::string_view date = p.get("Date");
      if (!valid_until.empty()) {
        const auto until = parse_rfc2822(valid_until);
        if (!until || *until < when) {
          expired = true;
          Finding f = make_finding("ARCHIVE_RELEASE_EXPIRED", path);
          f.add_evidence("valid_until", std::string(valid_until));
          f.add_evidence("checked_at", format_rfc3339(when));
          index.findings.push_back(std::move(f));
        }
      }
      const auto signed_at = parse_rfc2822(date);
      if (signed_at) release_date = *signed_at;
      if (const auto newest = rules.newest.find(name);
          newest != rules.newest.end() && (!signed_at || *signed_at < newest->second)) {
        expired = true;
        Finding f = make_finding("ARCHIVE_RELEASE_REPLAYED", path);
        f.add_evidence("date", date.empty() ? std::string("(none)") : std::string(date));
        f.add_evidence("newest_seen", format_rfc3339(newest->second));
        index.findings.push_back(std::move(f));
      }
      if (max_age_ns > 0 && (!signed_at || *signed_at < when - max_age_ns)) {
        Finding f = make_finding("ARCHIVE_RELEASE_STALE", path);
        f.add_evidence("date", date.empty() ? std::string("(none)") : std::string(date));
        f.add_evidence("checked_at", format_rfc3339(when));
        index.findings.push_back(std::move(f));
      }
      for (std::string_view line : continuation_lines(p.get("SHA256"))) {
        // "<hash> <size> <path>"
        const size_t first = line.find(' ');
        if (first == std::string_view::npos) continue;
        const size_t second =
            line.find_first_not_of(' ', line.find(' ', line.find_first_not_of(' ', first)));
        if (second == std::string_view::npos) continue;
        release.sha256.emplace(std::string(line.substr(second)),
                               std::string(line.substr(0, first)));
      }
      return false;  // the Release fields are the first paragraph
    });
    if (expired) continue;
    releases.push_back(std::move(release));
    if (release_date != 0) index.believed.emplace_back(name, release_date);
  }

  for (const std::string& name : names) {
    if (name.find("_Packages") == std::string::npos || name.ends_with("_InRelease")) continue;
    const std::string path = lists + "/" + name;
    const SignedRelease* release = nullptr;
    for (const SignedRelease& r : releases) {
      if (name.starts_with(r.prefix) &&
          (release == nullptr || r.prefix.size() > release->prefix.size())) {
        release = &r;
      }
    }
    if (release == nullptr) continue;  // its InRelease did not verify (reported) or is absent
    std::string signed_path = strip_compression(name.substr(release->prefix.size()));
    std::replace(signed_path.begin(), signed_path.end(), '_', '/');
    auto text = read_maybe_compressed(path);
    auto expected = release->sha256.find(signed_path);
    if (!text || expected == release->sha256.end() ||
        to_hex(sha256_of(std::as_bytes(std::span(text->data(), text->size())))) !=
            expected->second) {
      Finding f = make_finding("ARCHIVE_INDEX_MISMATCH", path);
      f.add_evidence("signed_path", signed_path);
      if (expected != release->sha256.end()) f.add_evidence("signed_sha256", expected->second);
      if (!text) f.add_evidence("error", text.error().describe());
      index.findings.push_back(std::move(f));
      continue;
    }
    (void)for_each_paragraph(*text, [&](const Paragraph& p) {
      const std::string_view filename = p.get("Filename");
      const std::string_view sha = p.get("SHA256");
      if (filename.empty() || sha.empty()) return true;
      DebRef ref{std::string(filename), std::string(sha), 0};
      const std::string_view size = p.get("Size");
      ref.size = std::strtoull(std::string(size).c_str(), nullptr, 10);
      index.debs.emplace(key_of(p.get("Package"), p.get("Version"), p.get("Architecture")),
                         std::move(ref));
      return true;
    });
  }
  return index;
}

std::string base_name(std::string_view path) {
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Result<Sha256> sha256_of_file(const std::string& path) {
  const FileContent content = read_content(AT_FDCWD, path, {});
  if (content.status != FileContent::Status::Read) {
    return make_error(ErrorCode::Io, "cannot read " + path + ": " + describe_failure(content));
  }
  return *content.digests.sha256;
}

Finding not_anchored(const InstalledPackage& p, std::string reason) {
  Finding f = make_finding("PKG_NOT_ANCHORED", "");
  f.add_evidence("package", p.qualified_name());
  f.add_evidence("version", p.version);
  if (p.installed_size_kib > 0)
    f.add_evidence("installed_size", human_bytes(p.installed_size_kib * 1024));
  f.add_evidence("reason", std::move(reason));
  return f;
}

struct PackageResult {
  std::vector<Finding> findings;
  uint64_t files = 0;
  uint64_t bytes = 0;
  bool anchored = false;
};

void verify_one(const DpkgDatabase& db,
                const RootFs& fs,
                const InstalledPackage& p,
                const ArchiveIndex& index,
                const AnchorOptions& options,
                const std::vector<std::string>& deb_dirs,
                const std::unordered_map<std::string_view, const Diversion*>& diversions,
                const PackageOwners* owners,
                std::mutex& download_lock,
                PackageResult& out) {
  auto ref = index.debs.find(key_of(p.name, p.version, p.architecture));
  if (ref == index.debs.end()) {
    out.findings.push_back(not_anchored(p, "no signed package index offers this version"));
    return;
  }
  const std::string deb_name = base_name(ref->second.filename);
  std::string deb_path;
  for (const std::string& dir : deb_dirs) {
    if (::access((dir + "/" + deb_name).c_str(), R_OK) == 0) {
      deb_path = dir + "/" + deb_name;
      break;
    }
  }
  if (deb_path.empty() && !options.download_dir.empty() && db.root() == "/") {
    // apt-get keeps a lock of its own; one download at a time keeps its output readable.
    const std::lock_guard<std::mutex> lock(download_lock);
    auto run =
        run_process({kAptGet, "download", "-q", p.name + ":" + p.architecture + "=" + p.version},
                    {.cwd = options.download_dir, .timeout_seconds = 600});
    if (run && run->exit_code == 0 &&
        ::access((options.download_dir + "/" + deb_name).c_str(), R_OK) == 0) {
      deb_path = options.download_dir + "/" + deb_name;
    }
  }
  if (deb_path.empty()) {
    out.findings.push_back(
        not_anchored(p, "its .deb is not in " + deb_dirs.front() +
                            (options.download_dir.empty() ? " and downloading was not asked for"
                                                          : " and could not be downloaded")));
    return;
  }
  auto deb_sha = sha256_of_file(deb_path);
  if (!deb_sha || to_hex(*deb_sha) != ref->second.sha256) {
    Finding f = make_finding("DEB_HASH_MISMATCH", deb_path);
    f.add_evidence("package", p.qualified_name());
    f.add_evidence("version", p.version);
    f.add_evidence("signed_sha256", ref->second.sha256);
    if (deb_sha) {
      f.sha256 = *deb_sha;
      f.add_evidence("sha256", to_hex(*deb_sha));
    } else {
      f.add_evidence("error", deb_sha.error().describe());
    }
    out.findings.push_back(std::move(f));
    return;
  }
  auto files = read_deb_files(deb_path);
  if (!files) {
    out.findings.push_back(not_anchored(p, "its .deb cannot be read: " + files.error().describe()));
    return;
  }
  // Only what dpkg installed is compared: path-exclude settings may leave files out.
  std::unordered_map<std::string_view, bool> listed;
  auto list_text = db.read_info(p, "list");
  std::vector<std::string_view> list_paths;
  if (list_text) {
    if (auto parsed = parse_list(*list_text)) list_paths = std::move(*parsed);
  }
  for (std::string_view path : list_paths) listed.emplace(path, true);
  std::unordered_map<std::string_view, bool> conffiles;
  for (const Conffile& c : p.conffiles) conffiles.emplace(c.path, true);
  out.anchored = true;
  const std::string name = p.qualified_name();
  for (const DebFile& file : *files) {
    if (!listed.contains(file.path)) {
      // Not in the package's file list. dpkg's path-exclude leaves such files off the disk;
      // one that is on the disk and that no other package lists was hidden by editing the list
      // (a root attacker's way to keep a file from every check): it is checked all the same.
      if (owners == nullptr || owners->owned(file.path)) continue;
      const FileDigest there = digest_path(fs, file.path, DigestSet::kSha256);
      if (there.kind == FileDigest::Missing) continue;
      Finding hidden = make_finding("PKG_DATABASE_TAMPERED", file.path);
      hidden.add_evidence("package", name);
      hidden.add_evidence("reason",
                          "the package's .deb installs it and it is on disk, but the package's "
                          "file list does not name it");
      hidden.add_evidence("deb", deb_path);
      out.findings.push_back(std::move(hidden));
      if (there.kind == FileDigest::Regular && *there.digests.sha256 == file.sha256) continue;
    }
    std::string path = file.path;
    const Diversion* diversion = nullptr;
    if (auto d = diversions.find(file.path);
        d != diversions.end() && d->second->by != p.name && d->second->by != name) {
      diversion = d->second;
      path = diversion->to;
    }
    const bool conffile = conffiles.contains(file.path);
    const FileDigest now = digest_path(fs, path, DigestSet::kSha256);
    ++out.files;
    out.bytes += now.kind == FileDigest::Regular ? now.size : 0;
    Finding f;
    if (now.kind == FileDigest::Regular && *now.digests.sha256 == file.sha256) continue;
    if (now.kind == FileDigest::Missing) {
      f = make_finding(conffile ? "PKG_CONFFILE_MISSING" : "PKG_FILE_MISSING", path);
    } else if (now.kind == FileDigest::Unreadable) {
      f = make_finding("PKG_FILE_UNVERIFIABLE", path);
      f.add_evidence("error", now.error);
    } else {
      f = make_finding(conffile ? "PKG_CONFFILE_MODIFIED" : "PKG_FILE_MODIFIED", path);
      if (conffile) {
        if ((now.mode & 0111) != 0) f.severity = Severity::Medium;
      } else if (now.kind == FileDigest::Regular) {
        f.severity = modified_file_severity(path, now.format, now.mode);
      }
      if (now.kind == FileDigest::Regular) {
        f.sha256 = now.digests.sha256;
        f.add_evidence("sha256", to_hex(*now.digests.sha256));
        f.add_evidence("format", now.format);
        f.add_evidence("size", std::to_string(now.size));
      } else if (!now.link_target.empty()) {
        f.add_evidence("link_target", now.link_target);
      }
      f.add_evidence("type", now.type);
      char mode[8];
      std::snprintf(mode, sizeof(mode), "%04o", now.mode);
      f.add_evidence("mode", mode);
    }
    f.add_evidence("package", name);
    f.add_evidence("anchor", "archive");
    f.add_evidence("expected_sha256", to_hex(file.sha256));
    f.add_evidence("deb", deb_path);
    if (conffile) f.add_evidence("conffile", "true");
    if (diversion != nullptr) {
      f.add_evidence("diverted_from", file.path);
      f.add_evidence("diverted_to", diversion->to);
      f.add_evidence("diverted_by", diversion->by);
    }
    out.findings.push_back(std::move(f));
  }
}

}  // namespace

bool is_toolchain_package(std::string_view name) {
  static constexpr const char* kPatterns[] = {"gcc",
                                              "gcc-[0-9]*",
                                              "g++",
                                              "g++-[0-9]*",
                                              "cpp",
                                              "cpp-[0-9]*",
                                              "gfortran*",
                                              "clang",
                                              "clang-[0-9]*",
                                              "llvm",
                                              "llvm-[0-9]*",
                                              "lld",
                                              "lld-[0-9]*",
                                              "binutils",
                                              "binutils-*",
                                              "libbinutils",
                                              "make",
                                              "cmake",
                                              "cmake-data",
                                              "ninja-build",
                                              "meson",
                                              "autoconf",
                                              "automake",
                                              "libtool",
                                              "pkgconf",
                                              "pkg-config",
                                              "bison",
                                              "flex",
                                              "patch",
                                              "git",
                                              "git-man",
                                              "dpkg-dev",
                                              "libdpkg-perl",
                                              "build-essential",
                                              "libc6-dev",
                                              "libc-dev-bin",
                                              "linux-libc-dev",
                                              "libstdc++-*-dev",
                                              "libgcc-*-dev",
                                              "libc6",
                                              "libstdc++6",
                                              "libgcc-s1",
                                              "python3",
                                              "python3.[0-9]*",
                                              "python3-minimal",
                                              "libpython3.[0-9]*-minimal",
                                              "libpython3.[0-9]*-stdlib",
                                              "perl",
                                              "perl-base",
                                              "perl-modules-*",
                                              "libperl5.*",
                                              "nodejs",
                                              "libnode[0-9]*",
                                              "npm",
                                              "rustc",
                                              "cargo",
                                              "libstd-rust-*",
                                              "golang",
                                              "golang-[0-9]*",
                                              "golang-go",
                                              "openjdk-*-jdk*",
                                              "openjdk-*-jre*",
                                              "ruby",
                                              "ruby[0-9]*",
                                              "libruby[0-9]*",
                                              "bash",
                                              "dash",
                                              "coreutils",
                                              "sed",
                                              "grep",
                                              "gawk",
                                              "mawk",
                                              "tar",
                                              "gzip",
                                              "xz-utils",
                                              "zstd",
                                              "bzip2",
                                              "diffutils",
                                              "findutils"};
  const std::string text(name);
  for (const char* pattern : kPatterns) {
    if (::fnmatch(pattern, text.c_str(), 0) == 0) return true;
  }
  return false;
}

Result<std::vector<DebFile>> read_deb_files(const std::string& deb_path) {
  std::unique_ptr<archive, FreeArchive> outer(archive_read_new());
  if (!outer) return make_error(ErrorCode::Io, "libarchive: out of memory");
  archive_read_support_format_ar(outer.get());
  if (archive_read_open_filename(outer.get(), deb_path.c_str(), 1 << 16) != ARCHIVE_OK) {
    const char* why = archive_error_string(outer.get());
    return make_error(ErrorCode::Parse,
                      deb_path + ": " + (why != nullptr ? why : "not an ar archive"));
  }
  archive_entry* member = nullptr;
  size_t members = 0;
  while (archive_read_next_header(outer.get(), &member) == ARCHIVE_OK) {
    if (++members > kMaxDebMembers) {
      return make_error(ErrorCode::LimitExceeded, deb_path + ": too many ar members");
    }
    const char* member_name = archive_entry_pathname(member);
    if (member_name == nullptr || !std::string_view(member_name).starts_with("data.tar")) continue;

    std::unique_ptr<archive, FreeArchive> inner(archive_read_new());
    if (!inner) return make_error(ErrorCode::Io, "libarchive: out of memory");
    archive_read_support_filter_all(inner.get());
    archive_read_support_format_tar(inner.get());
    struct Source {
      archive* outer;
      char buffer[1 << 16];
    };
    auto source = std::make_unique<Source>();
    source->outer = outer.get();
    const auto read_member = [](archive*, void* data, const void** out) -> la_ssize_t {
      auto* s = static_cast<Source*>(data);
      *out = s->buffer;
      return archive_read_data(s->outer, s->buffer, sizeof(s->buffer));
    };
    if (archive_read_open(inner.get(), source.get(), nullptr, read_member, nullptr) != ARCHIVE_OK) {
      const char* why = archive_error_string(inner.get());
      return make_error(ErrorCode::Parse,
                        deb_path + ": data archive: " + (why != nullptr ? why : "unreadable"));
    }
    std::vector<DebFile> files;
    std::vector<std::pair<std::string, std::string>> hardlinks;  // path, target
    std::unordered_map<std::string, size_t> by_path;
    uint64_t total = 0;
    archive_entry* entry = nullptr;
    DigestSet sha(DigestSet::kSha256);
    std::vector<char> chunk(1 << 16);
    while (true) {
      const int rc = archive_read_next_header(inner.get(), &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
        const char* why = archive_error_string(inner.get());
        return make_error(ErrorCode::Parse,
                          deb_path + ": data archive: " + (why != nullptr ? why : "bad entry"));
      }
      if (files.size() + hardlinks.size() >= kMaxDebEntries) {
        return make_error(ErrorCode::LimitExceeded, deb_path + ": too many entries");
      }
      const char* raw = archive_entry_pathname(entry);
      if (raw == nullptr) continue;
      std::string path(raw);
      if (path.starts_with("./")) path.erase(0, 1);
      if (!path.starts_with('/')) path.insert(0, "/");
      while (path.size() > 1 && path.back() == '/') path.pop_back();
      // A component of ".." cannot be an installed file; such an entry is not compared.
      if (path.find("/../") != std::string::npos || path.ends_with("/..")) continue;
      if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
        std::string t(target);
        if (t.starts_with("./")) t.erase(0, 1);
        if (!t.starts_with('/')) t.insert(0, "/");
        hardlinks.emplace_back(std::move(path), std::move(t));
        continue;
      }
      if (archive_entry_filetype(entry) != AE_IFREG) continue;
      sha.reset();
      uint64_t size = 0;
      while (true) {
        const la_ssize_t n = archive_read_data(inner.get(), chunk.data(), chunk.size());
        if (n < 0) {
          const char* why = archive_error_string(inner.get());
          return make_error(ErrorCode::Parse,
                            deb_path + ": " + path + ": " + (why != nullptr ? why : "bad data"));
        }
        if (n == 0) break;
        size += static_cast<uint64_t>(n);
        total += static_cast<uint64_t>(n);
        if (total > kMaxDebDataBytes) {
          return make_error(ErrorCode::LimitExceeded, deb_path + ": data larger than the cap");
        }
        sha.update(std::as_bytes(std::span(chunk.data(), static_cast<size_t>(n))));
      }
      by_path[path] = files.size();
      files.push_back({std::move(path), *sha.finish().sha256, size});
    }
    for (const auto& [path, target] : hardlinks) {
      auto found = by_path.find(target);
      if (found == by_path.end()) continue;
      DebFile copy = files[found->second];
      copy.path = path;
      files.push_back(std::move(copy));
    }
    return files;
  }
  return make_error(ErrorCode::Parse, deb_path + ": no data.tar member");
}

Result<VerifyReport> verify_against_archive(const AnchorOptions& options) {
  CATENA_TRY(DpkgDatabase db, DpkgDatabase::open(options.location));
  CATENA_TRY(RootFs fs, RootFs::open(db.root()));
  const std::vector<InstalledPackage>& packages = db.packages();
  std::vector<const InstalledPackage*> selected;
  for (const InstalledPackage& p : packages) {
    if (p.state != "installed") continue;
    bool wanted = options.packages.empty() && !options.toolchain;
    for (const std::string& name : options.packages) {
      wanted |=
          name == p.name || name == p.qualified_name() || name == p.name + ":" + p.architecture;
    }
    wanted |= options.toolchain && is_toolchain_package(p.name);
    if (wanted) selected.push_back(&p);
  }
  for (const std::string& name : options.packages) {
    const bool known =
        std::any_of(selected.begin(), selected.end(), [&](const InstalledPackage* p) {
          return name == p->name || name == p->qualified_name() ||
                 name == p->name + ":" + p->architecture;
        });
    if (!known) return make_error(ErrorCode::Usage, "package '" + name + "' is not installed");
  }
  if (selected.empty()) return make_error(ErrorCode::Usage, "no installed package was selected");

  char scratch_template[] = "/tmp/catena-keyrings-XXXXXX";
  if (::mkdtemp(scratch_template) == nullptr) return make_io_error("mkdtemp", errno);
  const std::string scratch = scratch_template;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);  // our own directory; symlinks not followed
    }
  } cleanup{scratch};

  std::vector<std::string> keyring_paths = options.keyrings;
  if (keyring_paths.empty()) keyring_paths.push_back(kHostArchiveKeyring);
  CATENA_TRY(std::vector<std::string> keyrings, keyring_files(keyring_paths, scratch));
  if (keyrings.empty()) return make_error(ErrorCode::NotFound, "no archive keyring found");
  const std::string lists =
      options.lists_dir.empty() ? join_root(db.root(), "/var/lib/apt/lists") : options.lists_dir;
  ReleaseRules rules{.keyrings = keyrings,
                     .when = options.at_ns != 0 ? options.at_ns : now_ns(),
                     .max_age_ns = int64_t{options.max_release_age_days} * 86400 * 1'000'000'000};
  if (options.store != nullptr) {
    auto newest = options.store->newest_releases(options.system);
    if (!newest) return make_error(newest.error().code, newest.error().message);
    rules.newest = std::move(*newest);
  }
  // The keys the inspected system's apt trusts beyond the trust roots: each is a way in for
  // whoever holds it (and the way a root attacker would make apt take a repository of theirs).
  std::vector<Finding> trust_findings;
  std::set<std::string> anchored_keys;
  for (const std::string& keyring : keyrings) {
    if (auto keys = keys_of(keyring, scratch)) {
      for (const auto& key : *keys) anchored_keys.insert(key.first);
    }
  }
  const std::vector<AptSource> sources = apt_sources(db.root());
  std::unordered_map<std::string, std::vector<std::string>> keys_in;  // keyring -> fingerprints
  for (const auto& [path, where] : root_trust(db.root(), sources, scratch)) {
    auto keys = keys_of(path, scratch);
    const std::string shown = path.starts_with(scratch) ? where
                              : db.root() == "/"        ? path
                                                        : path.substr(db.root().size());
    if (!keys) {
      Finding f = make_finding("PKG_APT_FOREIGN_KEY", shown);
      f.add_evidence("trusted_by", where);
      f.add_evidence("error", keys.error().message);
      trust_findings.push_back(std::move(f));
      continue;
    }
    for (const auto& [fingerprint, uid] : *keys) {
      keys_in[path].push_back(fingerprint);
      if (anchored_keys.contains(fingerprint)) continue;
      Finding f = make_finding("PKG_APT_FOREIGN_KEY", shown);
      f.add_evidence("fingerprint", fingerprint);
      if (!uid.empty()) f.add_evidence("uid", uid);
      f.add_evidence("trusted_by", where);
      trust_findings.push_back(std::move(f));
    }
  }
  // Signed-By narrows which trust root may sign a repository, as apt does; it never adds one.
  for (size_t n = 0; n < sources.size(); ++n) {
    const AptSource& source = sources[n];
    if (source.signed_by.empty()) continue;
    std::set<std::string> allowed;
    if (const std::string path = signed_by_keyring(db.root(), sources, n, scratch); !path.empty()) {
      for (const std::string& fingerprint : keys_in[path]) allowed.insert(fingerprint);
    } else {
      for (std::string word : words_of(source.signed_by)) {
        for (char& c : word) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        allowed.insert(word);
      }
    }
    for (const std::string& uri : source.uris) {
      for (const std::string& suite : source.suites) {
        const std::string prefix = list_prefix(uri, suite);
        if (prefix.empty()) continue;
        // Two entries for one repository: either's keys will do, as apt merges them.
        rules.signers[prefix].insert(allowed.begin(), allowed.end());
      }
    }
  }
  ArchiveIndex index = load_signed_indexes(lists, rules);
  for (Finding& f : trust_findings) index.findings.push_back(std::move(f));
  if (options.store != nullptr && !index.believed.empty()) {
    std::vector<ReleaseMark> marks;
    for (const auto& [name, date] : index.believed) marks.push_back({options.system, name, date});
    CATENA_TRY_STATUS(options.store->remember_releases(marks));
  }

  std::vector<std::string> deb_dirs = options.deb_dirs;
  if (deb_dirs.empty()) deb_dirs.push_back(join_root(db.root(), "/var/cache/apt/archives"));
  if (!options.download_dir.empty()) deb_dirs.push_back(options.download_dir);
  std::unordered_map<std::string_view, const Diversion*> diversions;
  for (const Diversion& d : db.diversions()) diversions.emplace(d.from, &d);
  // Every package's file list, to tell a file moved to another package from one hidden.
  auto owners = PackageOwners::load(options.location);

  const unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<PackageResult> results(selected.size());
  std::mutex download_lock;
  parallel_for<NoState>(selected.size(), jobs, options.cancel, [&](size_t n, NoState&) {
    verify_one(db, fs, *selected[n], index, options, deb_dirs, diversions,
               owners ? &*owners : nullptr, download_lock, results[n]);
  });
  if (options.cancel != nullptr && options.cancel->load()) {
    return make_error(ErrorCode::Interrupted, "interrupted");
  }
  VerifyReport report;
  report.findings = std::move(index.findings);
  std::vector<std::string> unanchored;
  for (size_t n = 0; n < results.size(); ++n) {
    PackageResult& r = results[n];
    report.packages += r.anchored ? 1 : 0;
    report.files += r.files;
    report.bytes += r.bytes;
    for (Finding& f : r.findings) report.findings.push_back(std::move(f));
    if (!r.anchored) unanchored.push_back(selected[n]->qualified_name());
  }
  // A package the archive cannot vouch for is still checked against the local database: the
  // anchor must never check less than the plain verification would.
  if (!unanchored.empty()) {
    VerifyOptions local{.location = options.location,
                        .packages = unanchored,
                        .jobs = options.jobs,
                        .unowned = false,
                        .repository = false,
                        .cancel = options.cancel};
    CATENA_TRY(VerifyReport checked, verify_packages(local));
    report.files += checked.files;
    report.bytes += checked.bytes;
    for (Finding& f : checked.findings) {
      f.add_evidence("checked_against", "the local dpkg database (the package is not anchored)");
      report.findings.push_back(std::move(f));
    }
  }
  sort_findings(report.findings);
  return report;
}

}  // namespace catena::pkg
