#include "catena/release/diff.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "catena/core/digest.hpp"
#include "catena/core/rules.hpp"

namespace catena::release {
namespace {

// The path inside the release, without the release's own name.
std::string key_of(const Inspection& inspection, const std::string& path) {
  const std::string& top = inspection.top;
  if (top.empty()) return path;
  if (path == top) return "";
  if (path.size() > top.size() + 2 && path.compare(0, top.size(), top) == 0 &&
      path.compare(top.size(), 2, "!/") == 0) {
    return path.substr(top.size() + 2);
  }
  return path;
}

std::string file_name(const std::string& path) {
  const size_t cut = path.find_last_of("/!");
  return cut == std::string::npos ? path : path.substr(cut + 1);
}

bool executable(const ReleaseFile& f) {
  return f.format == "pe" || f.format == "elf" || f.format == "macho" || f.format == "macho_fat";
}

// Formats whose signatures catena verifies and whose platforms expect one.
bool signable(const ReleaseFile& f) {
  return f.format == "pe" || f.format == "macho" || f.format == "macho_fat" || f.format == "msi" ||
         f.format == "dmg";
}

bool is_signed(const ReleaseFile& f) { return !f.signature.empty() && f.signature != "unsigned"; }

// The version fields that say "this is version X" of a file; empty when it has none.
std::string version_of(const ReleaseFile& f) {
  if (!f.binary) return "";
  const auto& v = f.binary->version;
  const auto get = [&](const char* key) {
    auto it = v.find(key);
    return it == v.end() ? std::string() : it->second;
  };
  std::string out;
  const auto add = [&](const char* key) {
    const std::string value = get(key);
    if (!value.empty()) out += std::string(out.empty() ? "" : ", ") + key + " " + value;
  };
  if (f.format == "pe") {
    add("file_version");
    add("FileVersion");
    add("ProductVersion");
  } else if (f.format == "elf") {
    add("build_id");
  } else {
    add("dylib_version");
    add("source_version");
  }
  return out;
}

// Imported functions by what they let code do; the suffixes A, W and Ex are folded away.
struct ApiClass {
  std::string_view category;
  std::array<std::string_view, 16> names;
};
constexpr std::array<ApiClass, 4> kApiClasses = {{
    {"injection",
     {"VirtualAllocEx", "WriteProcessMemory", "CreateRemoteThread", "NtCreateThreadEx",
      "RtlCreateUserThread", "QueueUserAPC", "NtQueueApcThread", "SetWindowsHook",
      "NtUnmapViewOfSection", "ZwUnmapViewOfSection", "SetThreadContext", "NtMapViewOfSection",
      "VirtualProtectEx", "NtWriteVirtualMemory", "OpenProcess", "ReadProcessMemory"}},
    {"process",
     {"CreateProcess", "CreateProcessAsUser", "CreateProcessWithToken", "ShellExecute", "WinExec",
      "system", "_wsystem", "execve", "CreateService", "StartService", "OpenSCManager", "", "", "",
      "", ""}},
    {"network",
     {"InternetOpen", "InternetOpenUrl", "InternetConnect", "HttpSendRequest", "HttpOpenRequest",
      "WinHttpOpen", "WinHttpConnect", "WinHttpSendRequest", "URLDownloadToFile", "connect",
      "WSAConnect", "send", "recv", "WSASend", "getaddrinfo", "gethostbyname"}},
    {"crypto",
     {"CryptDecrypt", "CryptEncrypt", "CryptImportKey", "CryptAcquireContext", "BCryptDecrypt",
      "BCryptEncrypt", "BCryptImportKey", "BCryptGenerateSymmetricKey", "CryptUnprotectData",
      "CryptStringToBinary", "", "", "", "", "", ""}},
}};

std::string_view api_category(const std::string& import) {
  const size_t bang = import.find('!');
  std::string_view name = bang == std::string::npos ? std::string_view(import)
                                                    : std::string_view(import).substr(bang + 1);
  for (std::string_view suffix : {"ExA", "ExW", "Ex", "A", "W"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      const std::string_view base = name.substr(0, name.size() - suffix.size());
      for (const ApiClass& c : kApiClasses) {
        if (std::find(c.names.begin(), c.names.end(), base) != c.names.end()) return c.category;
      }
    }
  }
  for (const ApiClass& c : kApiClasses) {
    if (std::find(c.names.begin(), c.names.end(), name) != c.names.end()) return c.category;
  }
  return "";
}

std::string lower(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

// The members of `after` not in `before`, DLL names compared without case as Windows does.
std::vector<std::string> added_of(const std::vector<std::string>& before,
                                  const std::vector<std::string>& after,
                                  bool fold_case) {
  std::set<std::string> old;
  for (const std::string& s : before) old.insert(fold_case ? lower(s) : s);
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string& s : after) {
    const std::string k = fold_case ? lower(s) : s;
    if (!old.contains(k) && seen.insert(k).second) out.push_back(s);
  }
  return out;
}

std::string joined(const std::vector<std::string>& items, size_t max = 12) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max) out += ", and " + std::to_string(items.size() - max) + " more";
  return out;
}

std::string hex_or_empty(const std::optional<Sha256>& digest) {
  return digest ? to_hex(*digest) : std::string();
}

class Differ {
 public:
  Differ(const DiffOptions& options, const Inspection& after, ReleaseDiff& out)
      : options_(options), out_(out) {
    if (options.steps) {
      for (const BuildStep& step : *options.steps) {
        const std::string label = step.step + " (" + step.source + ")";
        for (const std::string& sha256 : step.products) products_[sha256].push_back(label);
        for (const std::string& sha256 : step.materials) materials_[sha256].push_back(label);
        if (std::find(out.provenance.begin(), out.provenance.end(), step.source) ==
            out.provenance.end()) {
          out.provenance.push_back(step.source);
        }
      }
    }
    for (const Finding& f : after.findings) {
      if (f.rule == "IOC_MATCH" || f.rule == "YARA_MATCH" || f.rule == "SIG_SIGNER_BLOCKED") {
        intel_[f.path].push_back(f.rule);
      }
    }
  }

  // The steps that wrote and read the new bytes.
  void label(FileChange& change) {
    if (!options_.steps || !change.after || !change.after->sha256) return;
    const std::string sha256 = to_hex(*change.after->sha256);
    if (auto it = products_.find(sha256); it != products_.end()) change.produced_by = it->second;
    if (auto it = materials_.find(sha256); it != materials_.end()) change.read_by = it->second;
  }

  // A changed executable that no traced step wrote came into the release from outside the
  // build: a prebuilt or vendored input, which is how a trojanized third-party file arrives.
  void vendored(FileChange& change) {
    const ReleaseFile& b = *change.after;
    if (!options_.steps || !executable(b) || !change.produced_by.empty()) return;
    Finding out = finding("RELEASE_VENDORED_CHANGED", change);
    out.add_evidence("provenance",
                     out_.provenance.empty() ? "no envelope verified" : joined(out_.provenance));
    out.add_evidence("read_by", change.read_by.empty() ? "no traced step" : joined(change.read_by));
    auto intel = intel_.find(b.path);
    out.add_evidence("intel", intel == intel_.end() ? "no indicator, YARA rule or blocked signer"
                                                    : joined(intel->second));
    if (options_.vendor_claims && b.sha256) {
      std::vector<std::string> claims;
      for (const VendorClaim& claim : options_.vendor_claims(to_hex(*b.sha256))) {
        claims.push_back(claim.component + (claim.version.empty() ? "" : " " + claim.version) +
                         " in " + claim.sbom);
      }
      // A vendor that declares these very bytes vouches for them: still worth a look, no
      // longer an alarm, unless intelligence says otherwise.
      if (!claims.empty() && intel == intel_.end()) out.severity = Severity::Medium;
      out.add_evidence("vendor_sbom", claims.empty() ? "no SBOM declares this SHA-256"
                                                     : "declared as " + joined(claims));
    }
    emit(change, std::move(out));
  }

  Finding finding(std::string_view rule, const FileChange& change) {
    Finding f = make_finding(std::string(rule), change.path());
    if (change.after) f.sha256 = change.after->sha256;
    if (change.before) {
      if (!change.after || change.before->path != change.after->path) {
        f.add_evidence("old_path", change.before->path);
      }
      f.add_evidence("old_sha256", hex_or_empty(change.before->sha256));
    }
    return f;
  }

  void emit(FileChange& change, Finding f) {
    change.rules.push_back(f.rule);
    if (static_cast<int>(f.severity) > static_cast<int>(change.severity)) {
      change.severity = f.severity;
    }
    out_.findings.push_back(std::move(f));
  }

  void added(FileChange& change) {
    const ReleaseFile& f = *change.after;
    label(change);
    if (options_.rebuild) {
      Finding out = finding("RELEASE_REBUILD_DIFFERS", change);
      out.add_evidence("difference", "only in the rebuild");
      emit(change, std::move(out));
      return;
    }
    if (!executable(f)) return;
    vendored(change);
    if (signable(f) && !is_signed(f)) {
      Finding out = finding("RELEASE_UNSIGNED_EXECUTABLE_ADDED", change);
      out.add_evidence("format", f.format);
      emit(change, std::move(out));
      return;
    }
    Finding out = finding("RELEASE_NEW_EXECUTABLE", change);
    out.add_evidence("format", f.format);
    if (!f.signature.empty()) out.add_evidence("signature", f.signature);
    if (!f.signer.empty()) out.add_evidence("signer", f.signer);
    emit(change, std::move(out));
  }

  void removed(FileChange& change) {
    if (!options_.rebuild) return;
    Finding out = finding("RELEASE_REBUILD_DIFFERS", change);
    out.add_evidence("difference", "missing from the rebuild");
    emit(change, std::move(out));
  }

  void changed(FileChange& change) {
    const ReleaseFile& a = *change.before;
    const ReleaseFile& b = *change.after;
    label(change);
    if (a.sha256 == b.sha256) return;  // a move
    if (options_.rebuild) {
      rebuild_changed(change);
      return;
    }
    vendored(change);
    const bool both_pe = a.format == "pe" && b.format == "pe" && a.binary && b.binary;
    // Only a signature makes the unchanged digest mean "the bytes it vouches for are the same".
    if (both_pe && (is_signed(a) || is_signed(b)) && !a.binary->authenticode_sha256.empty() &&
        a.binary->authenticode_sha256 == b.binary->authenticode_sha256) {
      Finding out = finding("RELEASE_SIGNED_DIGEST_UNCHANGED", change);
      out.add_evidence("authenticode_sha256", b.binary->authenticode_sha256);
      out.add_evidence("old_size", std::to_string(a.size));
      out.add_evidence("new_size", std::to_string(b.size));
      out.add_evidence("detail",
                       "the bytes the signature covers are the same; what changed lies in the "
                       "certificate table, the checksum or after the image");
      emit(change, std::move(out));
    }
    const std::string version = version_of(a);
    if (!version.empty() && version == version_of(b)) {
      Finding out = finding("RELEASE_SAME_VERSION_DIFFERENT_BYTES", change);
      out.add_evidence("version", version);
      emit(change, std::move(out));
    }
    if (is_signed(a) && is_signed(b) && !a.signer.empty() && !b.signer.empty() &&
        a.signer != b.signer) {
      Finding out = finding("RELEASE_SIGNER_CHANGED", change);
      out.add_evidence("old_signer", a.signer);
      out.add_evidence("new_signer", b.signer);
      emit(change, std::move(out));
    }
    if (is_signed(a) && !is_signed(b) && signable(b)) {
      Finding out = finding("RELEASE_SIGNATURE_REMOVED", change);
      out.add_evidence("old_signer", a.signer);
      out.add_evidence("old_signature", a.signature);
      emit(change, std::move(out));
    }
    if (a.binary && b.binary) binary_changed(change, *a.binary, *b.binary);
  }

  void binary_changed(FileChange& change,
                      const content::BinaryFacts& a,
                      const content::BinaryFacts& b) {
    const std::vector<std::string> libraries = added_of(a.libraries, b.libraries, true);
    const std::vector<std::string> imports = added_of(a.imports, b.imports, true);
    if (!libraries.empty() || !imports.empty()) {
      std::set<std::string> categories;
      for (const std::string& import : imports) {
        if (auto c = api_category(import); !c.empty()) categories.insert(std::string(c));
      }
      Finding out = finding("RELEASE_NEW_IMPORTS", change);
      if (categories.contains("injection")) out.severity = Severity::High;
      if (!libraries.empty()) out.add_evidence("libraries", joined(libraries));
      if (!imports.empty()) out.add_evidence("functions", joined(imports));
      if (!categories.empty()) {
        out.add_evidence("categories",
                         joined(std::vector<std::string>(categories.begin(), categories.end())));
      }
      emit(change, std::move(out));
    }
    const std::vector<std::string> strings = added_of(a.network_strings, b.network_strings, false);
    if (!strings.empty()) {
      Finding out = finding("RELEASE_NEW_NETWORK_STRINGS", change);
      out.add_evidence("strings", joined(strings));
      out.add_evidence("count", std::to_string(strings.size()));
      emit(change, std::move(out));
    }
    std::map<std::string, const content::SectionFacts*> old_sections;
    for (const content::SectionFacts& s : a.sections) old_sections.emplace(s.name, &s);
    for (const content::SectionFacts& s : b.sections) {
      auto it = old_sections.find(s.name);
      const double before = it == old_sections.end() ? 0.0 : it->second->entropy;
      if (s.entropy < kEntropyHigh || s.entropy - before < kEntropyRise) continue;
      Finding out = finding("RELEASE_ENTROPY_RISE", change);
      if (s.code) out.severity = Severity::High;
      out.add_evidence("section", s.name);
      out.add_evidence("old_entropy",
                       it == old_sections.end() ? "no such section" : fmt_entropy(before));
      out.add_evidence("new_entropy", fmt_entropy(s.entropy));
      out.add_evidence("code", s.code ? "yes" : "no");
      emit(change, std::move(out));
    }
  }

  void rebuild_changed(FileChange& change) {
    const ReleaseFile& a = *change.before;
    const ReleaseFile& b = *change.after;
    // An archive's own bytes carry member times and order: its members are compared instead.
    if (!a.archive.empty() && !b.archive.empty()) return;
    if (a.format == "pe" && b.format == "pe" && a.binary && b.binary &&
        !a.binary->rebuild_sha256.empty() && a.binary->rebuild_sha256 == b.binary->rebuild_sha256) {
      return;
    }
    Finding out = finding("RELEASE_REBUILD_DIFFERS", change);
    out.add_evidence("difference", a.format == "pe" && b.format == "pe"
                                       ? "the code and data differ beyond timestamps, "
                                         "checksum, debug identifiers and signature"
                                       : "the content differs");
    emit(change, std::move(out));
  }

 private:
  static std::string fmt_entropy(double value) {
    char text[16];
    std::snprintf(text, sizeof text, "%.2f", value);
    return text;
  }

  const DiffOptions& options_;
  ReleaseDiff& out_;
  std::unordered_map<std::string, std::vector<std::string>> products_, materials_;
  std::map<std::string, std::vector<std::string>> intel_;  // path -> the rules it matched
};

}  // namespace

std::string_view change_kind_name(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::Added:
      return "added";
    case ChangeKind::Removed:
      return "removed";
    case ChangeKind::Changed:
      return "changed";
    case ChangeKind::Moved:
      return "moved";
  }
  return "changed";
}

ReleaseDiff diff(const Inspection& before, const Inspection& after, const DiffOptions& options) {
  ReleaseDiff out{.before_root = before.root, .after_root = after.root, .rebuild = options.rebuild};
  Differ differ(options, after, out);
  // Only files are compared: directories are implied by their files, and a symlink's target is
  // compared as its content.
  std::map<std::string, const ReleaseFile*> old_files;
  // An archive may hold two members of one name (tools disagree on which one they extract):
  // the second and later are keyed by their place, so that none is lost, and they match the
  // same place on the other side.
  const auto keys_of = [](const Inspection& inspection) {
    std::vector<std::string> keys;
    std::map<std::string, size_t> seen;
    for (const ReleaseFile& f : inspection.files) {
      std::string key = key_of(inspection, f.path);
      const size_t earlier = seen[key]++;
      if (earlier > 0) key += std::string(1, '\0') + std::to_string(earlier);
      keys.push_back(std::move(key));
    }
    return keys;
  };
  const std::vector<std::string> old_keys = keys_of(before);
  const std::vector<std::string> new_keys = keys_of(after);
  std::map<const ReleaseFile*, const std::string*> new_key_of;
  for (size_t i = 0; i < after.files.size(); ++i) new_key_of[&after.files[i]] = &new_keys[i];
  for (size_t i = 0; i < before.files.size(); ++i) old_files.emplace(old_keys[i], &before.files[i]);
  std::vector<const ReleaseFile*> unmatched_new;
  std::set<std::string> matched_old;
  const auto same = [](const ReleaseFile& a, const ReleaseFile& b) {
    return a.type == b.type && a.sha256 == b.sha256 && a.link_target == b.link_target;
  };
  for (const ReleaseFile& f : after.files) {
    auto it = old_files.find(*new_key_of.at(&f));
    if (it == old_files.end()) {
      unmatched_new.push_back(&f);
      continue;
    }
    matched_old.insert(it->first);
    // An archive that was opened on both sides changed if its members did; they are compared
    // one by one, and its own bytes (member times, order, compression) say nothing more.
    if (same(*it->second, f) || (!it->second->archive.empty() && !f.archive.empty())) {
      ++out.unchanged;
      continue;
    }
    FileChange change{.kind = ChangeKind::Changed, .before = *it->second, .after = f};
    differ.changed(change);
    out.changes.push_back(std::move(change));
    ++out.changed;
  }
  // The rest of the old side, by content and by unique file name.
  std::unordered_multimap<Sha256, const ReleaseFile*, DigestHash> old_by_content;
  std::map<std::string, std::vector<const ReleaseFile*>> old_by_name;
  for (const auto& [key, f] : old_files) {
    if (matched_old.contains(key)) continue;
    if (f->sha256) old_by_content.emplace(*f->sha256, f);
    old_by_name[file_name(key)].push_back(f);
  }
  std::map<std::string, size_t> new_name_count;
  for (const ReleaseFile* f : unmatched_new) ++new_name_count[file_name(*new_key_of.at(f))];
  std::set<const ReleaseFile*> taken;
  for (const ReleaseFile* f : unmatched_new) {
    const ReleaseFile* from = nullptr;
    if (f->sha256) {
      auto [lo, hi] = old_by_content.equal_range(*f->sha256);
      for (auto it = lo; it != hi && from == nullptr; ++it) {
        if (!taken.contains(it->second)) from = it->second;
      }
    }
    const std::string name = file_name(*new_key_of.at(f));
    if (from == nullptr && new_name_count[name] == 1) {
      auto it = old_by_name.find(name);
      if (it != old_by_name.end() && it->second.size() == 1 && !taken.contains(it->second[0])) {
        from = it->second[0];
      }
    }
    if (from == nullptr) {
      FileChange change{.kind = ChangeKind::Added, .after = *f};
      differ.added(change);
      out.changes.push_back(std::move(change));
      ++out.added;
      continue;
    }
    taken.insert(from);
    FileChange change{.kind = ChangeKind::Moved, .before = *from, .after = *f};
    differ.changed(change);
    out.changes.push_back(std::move(change));
    ++out.moved;
  }
  for (const auto& [key, f] : old_files) {
    if (matched_old.contains(key) || taken.contains(f)) continue;
    FileChange change{.kind = ChangeKind::Removed, .before = *f};
    differ.removed(change);
    out.changes.push_back(std::move(change));
    ++out.removed;
  }
  // The new release's own findings (IOC, YARA, blocked signers, signature anomalies, archive
  // limits): what a scan of it would say.
  for (const Finding& f : after.findings) out.findings.push_back(f);
  std::stable_sort(out.changes.begin(), out.changes.end(),
                   [](const FileChange& x, const FileChange& y) {
                     if (x.severity != y.severity) {
                       return static_cast<int>(x.severity) > static_cast<int>(y.severity);
                     }
                     return x.path() < y.path();
                   });
  sort_findings(out.findings);
  return out;
}

}  // namespace catena::release
