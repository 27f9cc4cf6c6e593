#include "catena/baseline/baseline.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <regex.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>

#include "catena/core/content.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/core/xattr.hpp"
#include "catena/pkg/database.hpp"
#include "catena/scan/scanner.hpp"
#include "catena/trust/dsse.hpp"
#include "catena/trust/strict_json.hpp"

namespace catena::baseline {
namespace {

using nlohmann::json;

constexpr std::pair<const char*, unsigned> kAttributeNames[] = {
    {"content", kContent}, {"size", kSize}, {"type", kType},    {"mode", kMode},
    {"uid", kUid},         {"gid", kGid},   {"mtime", kMtime},  {"ctime", kCtime},
    {"inode", kInode},     {"link", kLink}, {"xattrs", kXattrs}};

struct FreeRegex {
  void operator()(regex_t* r) const {
    regfree(r);
    delete r;
  }
};
using Regex = std::unique_ptr<regex_t, FreeRegex>;

Result<Regex> compile(const std::string& pattern) {
  Regex out(new regex_t);
  if (const int rc = ::regcomp(out.get(), pattern.c_str(), REG_EXTENDED | REG_NOSUB); rc != 0) {
    char message[256];
    ::regerror(rc, out.get(), message, sizeof(message));
    // regcomp failed: nothing to free but the struct.
    delete out.release();
    return make_error(ErrorCode::Usage, "bad regular expression '" + pattern + "': " + message);
  }
  return out;
}

// Which rule governs a path: the one with the longest path containing it.
class RuleSet {
 public:
  static Result<RuleSet> make(const Config& config) {
    RuleSet set;
    set.config_ = config;
    for (const Rule& rule : config.rules) {
      std::vector<Regex> compiled;
      for (const std::string& pattern : rule.exclude_regexes) {
        CATENA_TRY(Regex r, compile(pattern));
        compiled.push_back(std::move(r));
      }
      set.regexes_.push_back(std::move(compiled));
    }
    return set;
  }

  const Rule* rule_of(const std::string& path, size_t* index = nullptr) const {
    const Rule* best = nullptr;
    size_t best_length = 0;
    for (size_t rule_idx = 0; rule_idx < config_.rules.size(); ++rule_idx) {
      for (const std::string& root : config_.rules[rule_idx].paths) {
        if (path_is_within(path, root) && (best == nullptr || root.size() > best_length)) {
          best = &config_.rules[rule_idx];
          best_length = root.size();
          if (index != nullptr) *index = rule_idx;
        }
      }
    }
    return best;
  }

  bool excluded(const std::string& path) const {
    size_t index = 0;
    const Rule* rule = rule_of(path, &index);
    if (rule == nullptr) return false;
    const size_t slash = path.rfind('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    for (const std::string& glob : rule->excludes) {
      const std::string& subject = glob.find('/') != std::string::npos ? path : name;
      if (::fnmatch(glob.c_str(), subject.c_str(), 0) == 0) return true;
    }
    for (const Regex& regex : regexes_[index]) {
      if (::regexec(regex.get(), path.c_str(), 0, nullptr, 0) == 0) return true;
    }
    return false;
  }

  unsigned attributes_of(const std::string& path) const {
    const Rule* rule = rule_of(path);
    return rule != nullptr ? rule->attributes : kAllAttributes;
  }

  const Config& config() const { return config_; }

  std::vector<std::string> roots() const {
    std::vector<std::string> out;
    for (const Rule& rule : config_.rules)
      out.insert(out.end(), rule.paths.begin(), rule.paths.end());
    return out;
  }

 private:
  Config config_;
  std::vector<std::vector<Regex>> regexes_;
};

std::string packages_json(const pkg::DpkgLocation& location) {
  json out = json::object();
  if (auto db = pkg::DpkgDatabase::open(location)) {
    for (const pkg::InstalledPackage& p : db->packages()) {
      if (p.state == "installed") out[p.qualified_name()] = p.version;
    }
  }
  return out.dump();
}

Result<scan::ScanSummary> take_scan(Stores store,
                                    const RuleSet& rules,
                                    const Options& options,
                                    const std::string& kind) {
  scan::ScanOptions scan;
  scan.roots = rules.roots();
  scan.jobs = options.jobs;
  scan.xattrs = true;
  scan.digests = DigestSet::kSha256;
  scan.exclude_path = [&rules](const std::string& path) { return rules.excluded(path); };
  // Checks of one baseline share records: an unchanged file is not read again (see --full).
  scan.exclude_key = "baseline:" + config_to_json(rules.config());
  scan.full = options.full;
  scan.cancel = options.cancel;
  auto owners = pkg::PackageOwners::load(options.dpkg, [&] {
    std::vector<std::string> canonical;
    for (const std::string& root : scan.roots) {
      if (auto real = canonical_path(root)) canonical.push_back(*real);
    }
    return canonical;
  }());
  if (owners) scan.owners = &*owners;
  scan::ScanMeta meta{.kind = kind, .host = options.host, .arguments = {}};
  return scan::run_scan(store.scans, scan, meta);
}

std::string octal(uint32_t mode) {
  char text[16];
  std::snprintf(text, sizeof(text), "%04o", mode & 07777);
  return text;
}

// The attributes of `watched` that differ, as (name, old, new).
std::vector<std::tuple<std::string, std::string, std::string>> differences(
    const scan::FileRecord& a, const scan::FileRecord& b, unsigned watched) {
  std::vector<std::tuple<std::string, std::string, std::string>> out;
  const auto hex = [](const std::optional<Sha256>& d) { return d ? to_hex(*d) : std::string("-"); };
  if ((watched & kType) && a.type != b.type) {
    out.emplace_back("type", std::string(scan::file_type_name(a.type)),
                     std::string(scan::file_type_name(b.type)));
  }
  if ((watched & kContent) && a.type == scan::FileType::Regular &&
      b.type == scan::FileType::Regular && a.sha256 != b.sha256) {
    out.emplace_back("sha256", hex(a.sha256), hex(b.sha256));
  }
  if ((watched & kSize) && a.size != b.size) {
    out.emplace_back("size", std::to_string(a.size), std::to_string(b.size));
  }
  if ((watched & kMode) && (a.mode & 07777) != (b.mode & 07777)) {
    out.emplace_back("mode", octal(a.mode), octal(b.mode));
  }
  if ((watched & kUid) && a.uid != b.uid) {
    out.emplace_back("uid", std::to_string(a.uid), std::to_string(b.uid));
  }
  if ((watched & kGid) && a.gid != b.gid) {
    out.emplace_back("gid", std::to_string(a.gid), std::to_string(b.gid));
  }
  if ((watched & kMtime) && a.mtime_ns != b.mtime_ns) {
    out.emplace_back("mtime", format_rfc3339(a.mtime_ns), format_rfc3339(b.mtime_ns));
  }
  if ((watched & kCtime) && a.ctime_ns != b.ctime_ns) {
    out.emplace_back("ctime", format_rfc3339(a.ctime_ns), format_rfc3339(b.ctime_ns));
  }
  if ((watched & kInode) && a.inode != b.inode) {
    out.emplace_back("inode", std::to_string(a.inode), std::to_string(b.inode));
  }
  if ((watched & kLink) && a.link_target != b.link_target) {
    out.emplace_back("link_target", a.link_target, b.link_target);
  }
  if ((watched & kXattrs) && a.xattrs != b.xattrs) {
    std::map<std::string, std::string> before;
    std::map<std::string, std::string> after;
    for (auto& [k, v] : split_xattrs(a.xattrs)) before[k] = v;
    for (auto& [k, v] : split_xattrs(b.xattrs)) after[k] = v;
    std::set<std::string> names;
    for (const auto& [k, v] : before) names.insert(k);
    for (const auto& [k, v] : after) names.insert(k);
    for (const std::string& name : names) {
      const auto old_value = before.contains(name) ? before[name] : std::string("-");
      const auto new_value = after.contains(name) ? after[name] : std::string("-");
      if (old_value != new_value) out.emplace_back("xattr " + name, old_value, new_value);
    }
  }
  return out;
}

Result<std::vector<scan::FileRecord>> records_of(Stores store, int64_t scan_id) {
  std::vector<scan::FileRecord> out;
  CATENA_TRY_STATUS(
      store.scans.for_each_file(scan_id, [&](const scan::FileRecord& r) { out.push_back(r); }));
  return out;
}

// Packages whose installed version differs from the baseline's snapshot, with their md5sums by
// canonical path: what an upgrade would have written.
struct PackageChanges {
  std::map<std::string, std::pair<std::string, std::string>> versions;  // name -> (before, now)
  std::unordered_map<std::string, std::pair<std::string, std::string>>
      md5_by_path;  // -> (md5, pkg)
};

PackageChanges package_changes(const pkg::DpkgLocation& location, const std::string& snapshot) {
  PackageChanges out;
  auto db = pkg::DpkgDatabase::open(location);
  if (!db) return out;
  json before = json::parse(snapshot, nullptr, false);
  if (!before.is_object()) before = json::object();
  std::unordered_map<std::string, std::string> dir_cache;
  for (const pkg::InstalledPackage& p : db->packages()) {
    if (p.state != "installed") continue;
    const std::string name = p.qualified_name();
    const std::string old = before.contains(name) && before[name].is_string()
                                ? before[name].get<std::string>()
                                : std::string();
    if (old == p.version) continue;
    out.versions[name] = {old, p.version};
    auto text = db->read_info(p, "md5sums");
    if (!text) continue;
    for (const pkg::Md5sumEntry& e : pkg::parse_md5sums(*text).entries) {
      // md5sums names files as packaged (/bin/ls); the scan saw them where they are.
      const size_t slash = e.path.rfind('/');
      const std::string dir = e.path.substr(0, slash);
      auto cached = dir_cache.find(dir);
      if (cached == dir_cache.end()) {
        auto real = canonical_path(pkg::join_root(db->root(), dir.empty() ? "/" : dir));
        cached = dir_cache.emplace(dir, real ? *real : dir).first;
      }
      std::string canonical = cached->second == "/" ? "" : cached->second;
      canonical += e.path.substr(slash);
      out.md5_by_path[canonical] = {e.md5, name};
      out.md5_by_path[e.path] = {e.md5, name};
    }
  }
  return out;
}

std::optional<std::string> md5_of(const std::string& path) {
  const FileContent content = read_content(AT_FDCWD, path, {.digests = DigestSet::kMd5});
  if (content.status != FileContent::Status::Read) return std::nullopt;
  return to_hex(*content.digests.md5);
}

struct Diff {
  std::vector<Finding> findings;
  std::vector<scan::FileRecord> accepted;  // the baseline moved by the package-explained changes
};

Diff compare(const std::vector<scan::FileRecord>& old_records,
             const std::vector<scan::FileRecord>& new_records,
             const RuleSet& rules,
             const PackageChanges& packages) {
  Diff out;
  // The MD5 the package database can vouch for is computed only for the few changed files an
  // upgraded package names, so a check reads every other file once, for SHA-256 alone.
  const auto explained_by = [&](const scan::FileRecord& r) -> const std::string* {
    if (r.type != scan::FileType::Regular) return nullptr;
    auto found = packages.md5_by_path.find(r.path);
    if (found == packages.md5_by_path.end()) return nullptr;
    const std::optional<std::string> md5 = md5_of(r.path);
    if (!md5 || *md5 != found->second.first) return nullptr;
    return &found->second.second;
  };
  const auto explained_finding = [&](const scan::FileRecord& r, const std::string& package,
                                     const char* change) {
    Finding f = make_finding("FILE_CHANGED_BY_PACKAGE", r.path);
    f.sha256 = r.sha256;
    f.add_evidence("change", change);
    f.add_evidence("package", package);
    auto version = packages.versions.find(package);
    if (version != packages.versions.end()) {
      f.add_evidence("version_before", version->second.first.empty() ? "-" : version->second.first);
      f.add_evidence("version_now", version->second.second);
    }
    return f;
  };
  size_t a = 0;
  size_t b = 0;
  while (a < old_records.size() || b < new_records.size()) {
    const bool take_old = b == new_records.size() ||
                          (a < old_records.size() && old_records[a].path < new_records[b].path);
    const bool take_new = a == old_records.size() ||
                          (b < new_records.size() && new_records[b].path < old_records[a].path);
    if (take_old) {
      const scan::FileRecord& r = old_records[a++];
      // A file its package took away when that package was upgraded or removed.
      bool explained = false;
      if (!r.package.empty()) {
        for (const auto& [name, versions] : packages.versions) {
          if (r.package == name || r.package.starts_with(name + ",")) explained = true;
        }
      }
      if (explained) {
        Finding f = make_finding("FILE_CHANGED_BY_PACKAGE", r.path);
        f.add_evidence("change", "removed");
        f.add_evidence("package", r.package);
        out.findings.push_back(std::move(f));
      } else {
        Finding f = make_finding("FILE_REMOVED", r.path);
        f.sha256 = r.sha256;
        out.findings.push_back(std::move(f));
        out.accepted.push_back(r);  // unexplained: the baseline keeps it
      }
      continue;
    }
    if (take_new) {
      const scan::FileRecord& r = new_records[b++];
      if (const std::string* package = explained_by(r)) {
        out.findings.push_back(explained_finding(r, *package, "added"));
        out.accepted.push_back(r);
      } else {
        Finding f = make_finding("FILE_ADDED", r.path);
        f.sha256 = r.sha256;
        f.add_evidence("type", std::string(scan::file_type_name(r.type)));
        f.add_evidence("mode", octal(r.mode));
        f.add_evidence("uid", std::to_string(r.uid));
        if (r.type == scan::FileType::Symlink) f.add_evidence("link_target", r.link_target);
        out.findings.push_back(std::move(f));
      }
      continue;
    }
    const scan::FileRecord& before = old_records[a++];
    const scan::FileRecord& after = new_records[b++];
    const auto changed = differences(before, after, rules.attributes_of(after.path));
    if (changed.empty()) {
      out.accepted.push_back(before);
      continue;
    }
    if (const std::string* package = explained_by(after)) {
      out.findings.push_back(explained_finding(after, *package, "changed"));
      out.accepted.push_back(after);
      continue;
    }
    Finding f = make_finding("FILE_CHANGED", after.path);
    f.sha256 = after.sha256;
    std::string names;
    for (const auto& [name, old_value, new_value] : changed) {
      names += (names.empty() ? "" : ",") + name;
    }
    f.add_evidence("changed", names);
    for (const auto& [name, old_value, new_value] : changed) {
      f.add_evidence(name + " before", old_value);
      f.add_evidence(name + " after", new_value);
    }
    out.findings.push_back(std::move(f));
    out.accepted.push_back(before);
  }
  return out;
}

std::string this_host(const Options& options) {
  return options.host.empty() ? host_name() : options.host;
}

}  // namespace

Result<unsigned> parse_attributes(const std::vector<std::string>& names) {
  unsigned out = 0;
  for (const std::string& name : names) {
    if (name == "all") {
      out |= kAllAttributes;
      continue;
    }
    bool known = false;
    for (const auto& [text, bit] : kAttributeNames) {
      if (name == text) {
        out |= bit;
        known = true;
      }
    }
    if (!known) {
      return make_error(ErrorCode::Usage,
                        "unknown attribute '" + name +
                            "' (expected content, size, type, mode, uid, gid, mtime, ctime, "
                            "inode, link, xattrs or all)");
    }
  }
  return out;
}

std::vector<std::string> attribute_names(unsigned attributes) {
  std::vector<std::string> out;
  for (const auto& [text, bit] : kAttributeNames) {
    if (attributes & bit) out.emplace_back(text);
  }
  return out;
}

Config default_config() {
  Rule tools;
  tools.paths = {"/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec", "/usr/local", "/opt"};
  for (const char* extra : {"/usr/lib32", "/usr/lib64", "/usr/libx32"}) {
    struct stat st {};
    if (::lstat(extra, &st) == 0 && S_ISDIR(st.st_mode)) tools.paths.emplace_back(extra);
  }
  tools.excludes = {"__pycache__", "*.pyc"};
  Rule etc;
  etc.paths = {"/etc"};
  // Files every package manager run or boot rewrites.
  etc.excludes = {"/etc/mtab", "/etc/ld.so.cache", "/etc/adjtime", "*.dpkg-*", "*~"};
  return Config{{tools, etc}};
}

Result<Config> parse_config(std::string_view text) {
  toml::table table;
  try {
    table = toml::parse(text);
  } catch (const toml::parse_error& error) {
    return make_error(ErrorCode::Parse, "line " + std::to_string(error.source().begin.line) + ": " +
                                            std::string(error.description()));
  }
  Config config;
  for (const auto& [key, node] : table) {
    if (key.str() != "rule") {
      return make_error(ErrorCode::Usage, "unknown key '" + std::string(key.str()) +
                                              "' (a config holds [[rule]] tables)");
    }
  }
  const toml::array* rules = table["rule"].as_array();
  if (rules == nullptr) return make_error(ErrorCode::Usage, "the config has no [[rule]]");
  const auto strings = [](const toml::node& node, const std::string& key,
                          std::vector<std::string>& out) -> Result<void> {
    const toml::array* array = node.as_array();
    if (array == nullptr) return make_error(ErrorCode::Usage, "'" + key + "' must be a list");
    for (const toml::node& item : *array) {
      const auto* value = item.as_string();
      if (value == nullptr) return make_error(ErrorCode::Usage, "'" + key + "' holds a non-string");
      out.push_back(value->get());
    }
    return {};
  };
  for (const toml::node& node : *rules) {
    const toml::table* rule_table = node.as_table();
    if (rule_table == nullptr) return make_error(ErrorCode::Usage, "a [[rule]] must be a table");
    Rule rule;
    std::vector<std::string> attributes = {"all"};
    for (const auto& [key, value] : *rule_table) {
      const std::string name(key.str());
      if (name == "paths") {
        CATENA_TRY_STATUS(strings(value, name, rule.paths));
      } else if (name == "exclude") {
        CATENA_TRY_STATUS(strings(value, name, rule.excludes));
      } else if (name == "exclude_regex") {
        CATENA_TRY_STATUS(strings(value, name, rule.exclude_regexes));
      } else if (name == "attributes") {
        attributes.clear();
        CATENA_TRY_STATUS(strings(value, name, attributes));
      } else {
        return make_error(ErrorCode::Usage,
                          "unknown key '" + name +
                              "' in a rule (expected paths, exclude, exclude_regex, attributes)");
      }
    }
    if (rule.paths.empty()) return make_error(ErrorCode::Usage, "a rule without paths");
    for (const std::string& path : rule.paths) {
      if (!path.starts_with('/')) {
        return make_error(ErrorCode::Usage, "rule path '" + path + "' is not absolute");
      }
    }
    for (const std::string& pattern : rule.exclude_regexes) CATENA_TRY_STATUS(compile(pattern));
    CATENA_TRY(rule.attributes, parse_attributes(attributes));
    config.rules.push_back(std::move(rule));
  }
  return config;
}

std::string config_to_json(const Config& config) {
  json rules = json::array();
  for (const Rule& rule : config.rules) {
    rules.push_back({{"paths", rule.paths},
                     {"exclude", rule.excludes},
                     {"exclude_regex", rule.exclude_regexes},
                     {"attributes", attribute_names(rule.attributes)}});
  }
  return json{{"rules", rules}}.dump();
}

Result<Config> config_from_json(std::string_view text) {
  const json doc = json::parse(text, nullptr, false);
  if (!doc.is_object() || !doc.contains("rules") || !doc["rules"].is_array()) {
    return make_error(ErrorCode::Parse, "stored baseline config is not valid");
  }
  Config config;
  try {
    for (const json& r : doc["rules"]) {
      Rule rule;
      rule.paths = r.at("paths").get<std::vector<std::string>>();
      rule.excludes = r.at("exclude").get<std::vector<std::string>>();
      rule.exclude_regexes = r.at("exclude_regex").get<std::vector<std::string>>();
      CATENA_TRY(rule.attributes,
                 parse_attributes(r.at("attributes").get<std::vector<std::string>>()));
      config.rules.push_back(std::move(rule));
    }
  } catch (const json::exception& error) {
    return make_error(ErrorCode::Parse, std::string("stored baseline config: ") + error.what());
  }
  return config;
}

Result<BaselineRecord> create(Stores store, const Options& options) {
  if (options.name.empty()) return make_error(ErrorCode::Usage, "a baseline needs a name");
  if (options.config.rules.empty()) return make_error(ErrorCode::Usage, "nothing selected");
  CATENA_TRY(RuleSet rules, RuleSet::make(options.config));
  CATENA_TRY(scan::ScanSummary summary, take_scan(store, rules, options, "baseline"));
  BaselineRecord record{.name = options.name,
                        .host = summary.host,
                        .scan_id = summary.scan_id,
                        .created_ns = now_ns(),
                        .updated_ns = now_ns(),
                        .config = config_to_json(options.config),
                        .packages = packages_json(options.dpkg)};
  CATENA_TRY(record.id, store.baselines.put_baseline(record));
  return record;
}

namespace {

// The baseline, a fresh scan of its paths, and the differences between them.
struct Compared {
  BaselineRecord baseline;
  std::vector<std::string> roots;
  scan::ScanSummary summary;
  Diff diff;
};

Result<Compared> compare_records(Stores store,
                                 const Options& options,
                                 BaselineRecord baseline,
                                 const std::vector<scan::FileRecord>& old_records) {
  Compared out;
  out.baseline = std::move(baseline);
  CATENA_TRY(Config config, config_from_json(out.baseline.config));
  CATENA_TRY(RuleSet rules, RuleSet::make(config));
  out.roots = rules.roots();
  CATENA_TRY(out.summary, take_scan(store, rules, options, "baseline-check"));
  CATENA_TRY(std::vector<scan::FileRecord> new_records, records_of(store, out.summary.scan_id));
  out.diff = compare(old_records, new_records, rules,
                     package_changes(options.dpkg, out.baseline.packages));
  return out;
}

Result<Compared> compare_with_now(Stores store, const Options& options) {
  CATENA_TRY(BaselineRecord baseline,
             store.baselines.get_baseline(this_host(options), options.name));
  CATENA_TRY(std::vector<scan::FileRecord> old_records, records_of(store, baseline.scan_id));
  return compare_records(store, options, std::move(baseline), old_records);
}

CheckReport report_of(Stores store, Compared& compared, Status* stored) {
  *stored = store.scans.add_batch(compared.summary.scan_id, {}, compared.diff.findings);
  CheckReport report{.baseline = compared.baseline,
                     .scan_id = compared.summary.scan_id,
                     .started_ns = compared.summary.started_ns,
                     .files = compared.summary.totals.files,
                     .bytes = compared.summary.totals.bytes,
                     .files_read = compared.summary.totals.files_read,
                     .files_reused = compared.summary.totals.files_reused,
                     .findings = {}};
  // The scan's own findings (unreadable files, world-writable tools) belong to the check too:
  // the check's findings are its scan's, read from the store.
  FindingCounts counts = compared.summary.findings.counts();
  for (const Finding& f : compared.diff.findings) counts.add(f.severity);
  compared.diff.findings.clear();
  report.findings = scan::stored_findings(store.scans, compared.summary.scan_id, counts);
  return report;
}

json record_to_json(const scan::FileRecord& r) {
  json out = {{"path_b64", base64_encode(r.path)},
              {"type", std::string(scan::file_type_name(r.type))},
              {"size", r.size},
              {"mode", r.mode},
              {"uid", r.uid},
              {"gid", r.gid},
              {"mtime_ns", r.mtime_ns},
              {"ctime_ns", r.ctime_ns},
              {"inode", r.inode},
              {"package", r.package}};
  if (r.sha256) out["sha256"] = to_hex(*r.sha256);
  if (r.type == scan::FileType::Symlink) out["link_b64"] = base64_encode(r.link_target);
  if (!r.xattrs.empty()) out["xattrs_b64"] = base64_encode(r.xattrs);
  return out;
}

Result<scan::FileRecord> record_from_json(const json& j) {
  scan::FileRecord r;
  try {
    CATENA_TRY(r.path, base64_decode(j.at("path_b64").get<std::string>()));
    const std::string type = j.at("type").get<std::string>();
    bool known = false;
    for (scan::FileType t : {scan::FileType::Regular, scan::FileType::Symlink, scan::FileType::Fifo,
                             scan::FileType::Socket, scan::FileType::CharDevice,
                             scan::FileType::BlockDevice, scan::FileType::Other}) {
      if (scan::file_type_name(t) == type) {
        r.type = t;
        known = true;
      }
    }
    if (!known) return make_error(ErrorCode::Parse, "unknown record type '" + type + "'");
    r.size = j.at("size").get<uint64_t>();
    r.mode = j.at("mode").get<uint32_t>();
    r.uid = j.at("uid").get<uint32_t>();
    r.gid = j.at("gid").get<uint32_t>();
    r.mtime_ns = j.at("mtime_ns").get<int64_t>();
    r.ctime_ns = j.at("ctime_ns").get<int64_t>();
    r.inode = j.at("inode").get<uint64_t>();
    r.package = j.at("package").get<std::string>();
    if (j.contains("sha256")) {
      CATENA_TRY(r.sha256, sha256_from_hex(j["sha256"].get<std::string>()));
    }
    if (j.contains("link_b64")) {
      CATENA_TRY(r.link_target, base64_decode(j["link_b64"].get<std::string>()));
    }
    if (j.contains("xattrs_b64")) {
      CATENA_TRY(r.xattrs, base64_decode(j["xattrs_b64"].get<std::string>()));
    }
  } catch (const json::exception& error) {
    return make_error(ErrorCode::Parse, std::string("record: ") + error.what());
  }
  return r;
}

}  // namespace

Result<CheckReport> check(Stores store, const Options& options) {
  CATENA_TRY(Compared compared, compare_with_now(store, options));
  Status stored;
  CheckReport report = report_of(store, compared, &stored);
  CATENA_TRY_STATUS(stored);
  return report;
}

Result<CheckReport> update(Stores store, const Options& options) {
  CATENA_TRY(Compared compared, compare_with_now(store, options));
  const BaselineRecord& baseline = compared.baseline;
  const scan::ScanSummary& summary = compared.summary;
  Diff& diff = compared.diff;
  BaselineRecord moved = baseline;
  moved.updated_ns = now_ns();
  moved.packages = packages_json(options.dpkg);
  if (!options.accept_packages) {
    moved.scan_id = summary.scan_id;  // everything as it is now
  } else {
    // A record set of its own: the old state, moved only where a package explains the change.
    CATENA_TRY(int64_t merged,
               store.scans.begin_scan({.host = baseline.host,
                                       .kind = "baseline",
                                       .started_ns = now_ns(),
                                       .catena_version = CATENA_VERSION,
                                       .arguments = {"baseline", "update", "--accept-packages"},
                                       .roots = compared.roots}));
    for (size_t begin = 0; begin < diff.accepted.size(); begin += scan::kBatchRecords) {
      const size_t end = std::min(diff.accepted.size(), begin + scan::kBatchRecords);
      CATENA_TRY_STATUS(
          store.scans.add_batch(merged, std::span(diff.accepted.data() + begin, end - begin), {}));
    }
    scan::ScanTotals totals{.files = diff.accepted.size(), .finished_ns = now_ns()};
    CATENA_TRY_STATUS(store.scans.finish_scan(merged, totals, scan::ScanStatus::Complete));
    moved.scan_id = merged;
  }
  CATENA_TRY_STATUS(store.baselines.put_baseline(moved));
  CheckReport report{.baseline = moved,
                     .scan_id = summary.scan_id,
                     .files = summary.totals.files,
                     .bytes = summary.totals.bytes,
                     .files_read = summary.totals.files_read,
                     .files_reused = summary.totals.files_reused,
                     .findings = std::move(diff.findings)};
  return report;
}

Result<std::string> export_signed(Stores store,
                                  const Options& options,
                                  const trust::SigningKey& key) {
  CATENA_TRY(BaselineRecord baseline,
             store.baselines.get_baseline(this_host(options), options.name));
  CATENA_TRY(std::vector<scan::FileRecord> records, records_of(store, baseline.scan_id));
  // Each export by a key gets the next sequence number: a checker that has seen a newer one
  // knows an older file for a rollback.
  CATENA_TRY(std::optional<ExportMark> newest,
             store.baselines.newest_export(baseline.host, baseline.name, key.key_id()));
  const ExportMark mark{baseline.host, baseline.name, key.key_id(),
                        newest ? newest->sequence + 1 : 1, now_ns()};
  json payload = {{"format", "catena-baseline"},
                  {"version", kExportVersion},
                  {"name", baseline.name},
                  {"host", baseline.host},
                  {"created_ns", baseline.created_ns},
                  {"updated_ns", baseline.updated_ns},
                  {"exported_ns", mark.exported_ns},
                  {"sequence", mark.sequence},
                  {"config", json::parse(baseline.config, nullptr, false)},
                  {"packages", json::parse(baseline.packages, nullptr, false)}};
  json list = json::array();
  for (const scan::FileRecord& r : records) list.push_back(record_to_json(r));
  payload["records"] = std::move(list);
  const std::string payload_text = payload.dump(-1, ' ', false, json::error_handler_t::replace);
  CATENA_TRY(std::string envelope, trust::dsse_sign(kExportPayloadType, payload_text, key));
  CATENA_TRY_STATUS(store.baselines.remember_export(mark));
  return envelope;
}

Result<CheckReport> check_exported(Stores store,
                                   std::string_view envelope_text,
                                   const trust::VerifyingKey& key,
                                   const Options& options) {
  auto opened = trust::dsse_open(envelope_text, kExportPayloadType, {key});
  if (!opened) {
    return make_error(ErrorCode::Parse, "not a signed catena baseline: " + opened.error().message);
  }
  if (opened->verified_by.empty()) {
    return make_error(ErrorCode::Usage, "the baseline's signature does not verify with key " +
                                            key.key_id() + ": refusing to use it");
  }
  // Read as strictly as the envelope: a payload with a key twice is not read last-wins.
  auto parsed = trust::parse_strict_json(opened->payload);
  if (!parsed) {
    return make_error(ErrorCode::Parse,
                      "the signed payload is malformed: " + parsed.error().message);
  }
  const json payload = std::move(*parsed);
  if (!payload.is_object() || payload.value("format", "") != "catena-baseline") {
    return make_error(ErrorCode::Parse, "the signed payload is not a catena baseline");
  }
  if (payload.value("version", 0) != kExportVersion) {
    return make_error(ErrorCode::Usage, "the baseline has format version " +
                                            std::to_string(payload.value("version", 0)) +
                                            "; this catena reads version " +
                                            std::to_string(kExportVersion));
  }
  const std::string host = payload.value("host", "");
  if (host != this_host(options)) {
    return make_error(ErrorCode::Usage, "the baseline was taken on host '" + host + "', not on '" +
                                            this_host(options) + "'");
  }
  if (!payload.contains("records") || !payload["records"].is_array() ||
      !payload.contains("config") || !payload.contains("packages")) {
    return make_error(ErrorCode::Parse, "the baseline lacks records, config or packages");
  }
  std::vector<scan::FileRecord> records;
  for (const json& r : payload["records"]) {
    CATENA_TRY(scan::FileRecord record, record_from_json(r));
    records.push_back(std::move(record));
  }
  std::sort(records.begin(), records.end(),
            [](const scan::FileRecord& a, const scan::FileRecord& b) { return a.path < b.path; });
  BaselineRecord baseline{.name = payload.value("name", ""),
                          .host = host,
                          .created_ns = payload.value("created_ns", int64_t{0}),
                          .updated_ns = payload.value("updated_ns", int64_t{0}),
                          .config = payload["config"].dump(),
                          .packages = payload["packages"].dump()};
  const auto number = [&](const char* field) {
    const auto it = payload.find(field);
    return it != payload.end() && it->is_number_integer() ? it->get<int64_t>() : int64_t{0};
  };
  const ExportMark mark{host, baseline.name, key.key_id(), number("sequence"),
                        number("exported_ns")};
  CATENA_TRY(std::optional<ExportMark> newest,
             store.baselines.newest_export(host, baseline.name, key.key_id()));
  CATENA_TRY(Compared compared, compare_records(store, options, std::move(baseline), records));
  if (newest && mark.sequence < newest->sequence) {
    Finding f = make_finding("BASELINE_ROLLBACK", "");
    f.message =
        "This export of the baseline is older than one this store has already seen "
        "signed by the same key: a rolled-back copy.";
    f.add_evidence("baseline", mark.name);
    f.add_evidence("sequence", std::to_string(mark.sequence));
    f.add_evidence("newest_sequence", std::to_string(newest->sequence));
    f.add_evidence("newest_exported", format_rfc3339(newest->exported_ns));
    f.add_evidence("signer", mark.key_id);
    compared.diff.findings.push_back(std::move(f));
  } else {
    CATENA_TRY_STATUS(store.baselines.remember_export(mark));
  }
  Status stored;
  CheckReport report = report_of(store, compared, &stored);
  CATENA_TRY_STATUS(stored);
  report.exported_ns = mark.exported_ns;
  report.sequence = mark.sequence;
  report.signer = mark.key_id;
  return report;
}

}  // namespace catena::baseline
