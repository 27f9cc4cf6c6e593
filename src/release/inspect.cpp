#include "catena/release/inspect.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "catena/core/fs.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/walk.hpp"
#include "catena/formats/asar.hpp"
#include "catena/formats/format.hpp"
#include "catena/formats/msi.hpp"
#include "catena/formats/ole.hpp"
#include "catena/release/cache.hpp"
#include "catena/release/intelligence.hpp"

namespace catena::release {
namespace {

enum class Opener { None, Archive, Asar, Msi };

constexpr size_t kKeptBuffer = 64u << 20;

// The one evidence that names a place in the release (an unsafe member's archive): a kept part
// holds it relative to its file, as it holds paths.
constexpr std::string_view kPathEvidence = "archive";

bool starts_with(std::string_view bytes, std::string_view magic) {
  return bytes.substr(0, magic.size()) == magic;
}

// How to open a content, and the name of its format where classify_format has none.
Opener opener_of(std::string_view bytes, formats::FileFormat format, std::string& name) {
  const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
  if (formats::looks_like_asar(span)) {
    name = "asar";
    return Opener::Asar;
  }
  using formats::FileFormat;
  switch (format) {
    case FileFormat::Zip:
    case FileFormat::Jar:
    case FileFormat::Deb:
    case FileFormat::Ar:
    case FileFormat::Tar:
    case FileFormat::Gzip:
    case FileFormat::Xz:
    case FileFormat::Zstd:
    case FileFormat::Bzip2:
      return Opener::Archive;
    default:
      break;
  }
  if (format != FileFormat::Other) return Opener::None;
  static constexpr std::pair<std::string_view, std::string_view> kMagic[] = {
      {std::string_view("7z\xbc\xaf\x27\x1c", 6), "7z"},
      {"MSCF", "cab"},
      {"\xed\xab\xee\xdb", "rpm"},
      {"070701", "cpio"},
      {"070702", "cpio"},
      {"070707", "cpio"},
  };
  for (const auto& [magic, format_name] : kMagic) {
    if (starts_with(bytes, magic)) {
      name = format_name;
      return Opener::Archive;
    }
  }
  return Opener::None;
}

// The installers catena lists without opening, by the marks their stubs leave.
std::string opaque_installer(std::string_view bytes, const std::string& format) {
  if (format == "pe") {
    // NSIS: the first header's signature after the stub; Inno Setup: its setup loader's marker.
    if (bytes.find(std::string_view("\xef\xbe\xad\xdeNullsoftInst", 16)) !=
        std::string_view::npos) {
      return "nsis";
    }
    if (bytes.find("Inno Setup Setup Data") != std::string_view::npos) return "inno-setup";
    return "";
  }
  // An Apple disk image (its own code signature is checked as its format's).
  if (format == "dmg") return "dmg";
  return "";
}

// A file in `dir_fd` opened for reading without following a final symlink (and without
// blocking on a FIFO put in its place).
UniqueFd open_in(int dir_fd, const std::string& name) {
  return UniqueFd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
}

// A regular file read whole into `out`; false when it is larger than `max` (its size is then
// in `size`) or cannot be read (`error`). `out` keeps its capacity from file to file: no
// allocation, zero-filling or page faults per file once it has grown.
bool read_bounded(
    const UniqueFd& fd, uint64_t max, uint64_t& size, std::string& error, std::string& out) {
  struct stat st {};
  if (!fd.valid() || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    error = fd.valid() ? "not a regular file" : std::strerror(errno);
    return false;
  }
  size = static_cast<uint64_t>(st.st_size);
  if (size > max) return false;
  bool failed = false;
  out.clear();  // growing it then copies nothing
  out.resize_and_overwrite(size, [&](char* data, size_t length) {
    size_t done = 0;
    while (done < length) {
      const ssize_t n = ::read(fd.get(), data + done, length - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = std::strerror(errno);
        failed = true;
        return size_t{0};
      }
      if (n == 0) break;  // it shrank while read: what was there
      done += static_cast<size_t>(n);
    }
    return done;
  });
  size = out.size();
  return !failed;
}

// The facts and findings of one content's analysis, taken by every copy of it.
struct Analysed {
  std::string format, signature, signer;
  std::shared_ptr<const content::BinaryFacts> binary;
  std::vector<Finding> findings;
  std::vector<Finding> digest_findings;  // indicator matches: never kept in the cache
};

// The analyses of one inspection, shared by its workers: a content another worker is
// analysing is waited for, not analysed twice (an analysis reads no other content, so a claim
// never waits on another).
class Analyses {
 public:
  // The content's analysis, or nullptr after claiming it: the caller analyses, then ends the
  // claim with `publish`.
  std::shared_ptr<const Analysed> find_or_claim(const Sha256& sha256) {
    std::unique_lock lock(mutex_);
    for (;;) {
      auto [it, claimed] = known_.try_emplace(sha256);
      if (claimed) return nullptr;
      if (it->second) return it->second;
      done_.wait(lock);
    }
  }

  // Ends a claim; without an analysis (the claimant failed), the next to ask claims it.
  void publish(const Sha256& sha256, std::shared_ptr<const Analysed> analysed) {
    {
      const std::lock_guard lock(mutex_);
      if (analysed) {
        known_[sha256] = std::move(analysed);
      } else {
        known_.erase(sha256);
      }
    }
    done_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::unordered_map<Sha256, std::shared_ptr<const Analysed>, DigestHash> known_;  // null: claimed
};

// What the workers of one inspection share.
struct Shared {
  Analyses analyses;
  std::mutex mutex;
  // Parts kept in the cache by this inspection: a serial pass after a parallel one that ran
  // out of the budget does not count them as reused.
  std::unordered_set<Sha256, DigestHash> kept;
  bool refuse_kept = false;
};

void add_too_large(Inspection& out, const std::string& path, uint64_t size, uint64_t max) {
  out.files.push_back({.path = path, .type = "file", .size = size});
  Finding f = make_finding("RELEASE_ARCHIVE_LIMIT", path);
  f.add_evidence("limit", "member-bytes");
  f.add_evidence("detail", std::to_string(size) + " bytes, more than " + std::to_string(max) +
                               " held in memory: not examined");
  out.findings.push_back(std::move(f));
}

void add_symlink(Inspection& out, const std::string& path, std::string target) {
  out.files.push_back({.path = path, .type = "symlink", .link_target = std::move(target)});
}

void add_unreadable(Inspection& out, const std::string& path, const std::string& error) {
  Finding f = make_finding("FILE_UNREADABLE", path);
  f.add_evidence("error", error);
  out.findings.push_back(std::move(f));
}

// Reads release files into an Inspection. One inspects a release serially; in parallel, each
// worker has its own, and each release file is read into an Inspection of its own, merged in
// the walk's order.
class Inspector {
 public:
  Inspector(const InspectOptions& options, Shared& shared)
      : options_(options),
        shared_(shared),
        all_digests_(options.analysis.indicators != nullptr && options.analyse) {
    if (options_.cache != nullptr) cache_key_ = cache_key();
  }

  // Where what is read next goes, drawing on a budget of expanded bytes of its own.
  void begin(Inspection& out) {
    out_ = &out;
    expanded_ = 0;
    budget_ever_hit_ = false;
  }

  // Expanded bytes drawn on the budget since `begin`, and whether any archive ran out of it.
  uint64_t budget_spent() const { return expanded_; }
  bool budget_ever_hit() const { return budget_ever_hit_; }

  void content(const std::string& path, std::string_view bytes, unsigned depth) {
    const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
    DigestSet digest(all_digests_ ? DigestSet::kSha256 | DigestSet::kMd5 | DigestSet::kSha1
                                  : DigestSet::kSha256);
    digest.update(span);
    const DigestValues digests = digest.finish();
    // A release's own file is what the cache keeps: what was found inside it.
    if (depth > 0 || options_.cache == nullptr) {
      open(path, bytes, depth, digests);
      return;
    }
    if (reuse(path, *digests.sha256)) return;
    const Mark mark{.files = out_->files.size(),
                    .findings = out_->findings.size(),
                    .archives = out_->archives,
                    .expanded = out_->expanded_bytes,
                    .budget = expanded_};
    budget_hit_ = false;
    file_digests_.clear();
    digest_findings_.clear();
    open(path, bytes, depth, digests);
    keep(path, *digests.sha256, mark);
  }

 private:
  // Where the output stood before a release file was read.
  struct Mark {
    size_t files = 0, findings = 0;
    uint64_t archives = 0, expanded = 0, budget = 0;
  };

  // Everything a kept part depends on besides the file's bytes.
  std::string cache_key() const {
    content::ContentFacts facts = options_.analysis;
    facts.binary_facts = true;
    facts.format_only = !options_.analyse;
    std::string key = "inspect=" + std::to_string(kInspectionVersion);
    for (const std::string& component : content::analyser_components(facts)) {
      if (!component.empty()) key += ";" + component;
    }
    const formats::ArchiveLimits& l = options_.limits;
    key += ";limits=" + std::to_string(l.max_members) + "/" + std::to_string(l.max_member_bytes) +
           "/" + std::to_string(l.max_ratio) + "/" + std::to_string(options_.max_depth);
    key += all_digests_ ? ";digests=all" : ";digests=sha256";
    return key;
  }

  // The kept part of a release file with these bytes, when there is one this run may use.
  bool reuse(const std::string& path, const Sha256& sha256) {
    if (shared_.refuse_kept) {
      const std::lock_guard lock(shared_.mutex);
      if (shared_.kept.contains(sha256)) return false;
    }
    auto kept = options_.cache->get_part(sha256, cache_key_);
    if (!kept) return false;
    auto part = decode_part(*kept);
    const uint64_t left =
        options_.limits.max_total_bytes - std::min(expanded_, options_.limits.max_total_bytes);
    if (!part || !part->files[0].path.empty() || part->files[0].sha256 != sha256 ||
        part->budget_bytes > left) {
      return false;
    }
    for (size_t i = 0; i < part->files.size(); ++i) {
      ReleaseFile& f = part->files[i];
      f.path = path + f.path;
      if (f.sha256 && options_.analyse) match_digests(f, part->digests[i]);
      out_->files.push_back(std::move(f));
    }
    for (Finding& f : part->findings) {
      f.path = path + f.path;
      for (auto& [key, value] : f.evidence) {
        if (key == kPathEvidence) value = path + value;
      }
      out_->findings.push_back(std::move(f));
    }
    out_->archives += part->archives;
    out_->expanded_bytes += part->expanded_bytes;
    expanded_ += part->budget_bytes;
    ++out_->reused;
    return true;
  }

  // What this run's indicators say about a kept file: never kept, since feeds change.
  void match_digests(const ReleaseFile& file, const DigestValues& digests) {
    content::ContentFacts facts = options_.analysis;
    facts.format = file.format;
    const content::ContentView view{
        .head = {}, .whole = {}, .size = file.size, .digests = &digests};
    std::vector<Finding> findings;
    for (size_t i = 0; i < content::kAnalyserCount; ++i) {
      if (content::analyser_needs(i) == content::Needs::Digests) {
        content::run_analyser(i, view, facts, findings);
      }
    }
    for (Finding& f : findings) {
      f.path = file.path;
      if (!f.sha256) f.sha256 = file.sha256;
      out_->findings.push_back(std::move(f));
    }
  }

  // Keeps what was found inside a release file (an archive: a plain file is cheaper to read
  // again than to keep), unless it ran out of the release's budget, which is not its own.
  void keep(const std::string& path, const Sha256& sha256, const Mark& mark) {
    if (budget_hit_ || out_->files.size() <= mark.files + 1) return;
    InspectionPart part;
    for (size_t i = mark.files; i < out_->files.size(); ++i) {
      ReleaseFile f = out_->files[i];
      if (!f.path.starts_with(path)) return;
      f.path.erase(0, path.size());
      part.files.push_back(std::move(f));
      auto known = file_digests_.find(i);
      part.digests.push_back(known != file_digests_.end() ? known->second : DigestValues{});
    }
    for (size_t i = mark.findings; i < out_->findings.size(); ++i) {
      if (digest_findings_.contains(i)) continue;
      Finding f = out_->findings[i];
      if (!f.path.starts_with(path)) return;
      f.path.erase(0, path.size());
      for (auto& [key, value] : f.evidence) {
        if (key != kPathEvidence) continue;
        if (!value.starts_with(path)) return;
        value.erase(0, path.size());
      }
      part.findings.push_back(std::move(f));
    }
    part.archives = out_->archives - mark.archives;
    part.expanded_bytes = out_->expanded_bytes - mark.expanded;
    part.budget_bytes = expanded_ - mark.budget;
    options_.cache->put_part(sha256, cache_key_, encode_part(part));
    const std::lock_guard lock(shared_.mutex);
    shared_.kept.insert(sha256);
  }

  void open(const std::string& path,
            std::string_view bytes,
            unsigned depth,
            const DigestValues& digests) {
    const auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
    ReleaseFile file{.path = path,
                     .type = "file",
                     .size = bytes.size(),
                     .sha256 = digests.sha256,
                     .depth = depth};
    std::optional<formats::OleFile> msi;
    analyse(file, span, digests, msi);
    file.opaque = opaque_installer(bytes, file.format);
    std::string other_name;
    const Opener opener =
        file.format == "msi"
            ? Opener::Msi
            : opener_of(
                  bytes,
                  formats::parse_format_name(file.format).value_or(formats::FileFormat::Other),
                  other_name);
    if (!other_name.empty()) file.format = other_name;
    const size_t index = out_->files.size();
    if (options_.cache != nullptr) file_digests_[index] = digests;
    out_->files.push_back(std::move(file));
    if (opener == Opener::None) return;
    if (depth + 1 > options_.max_depth) {
      Finding f = make_finding("RELEASE_ARCHIVE_LIMIT", path);
      f.add_evidence("limit", "depth");
      f.add_evidence("detail", "an archive nested more than " + std::to_string(options_.max_depth) +
                                   " deep was not opened");
      out_->findings.push_back(std::move(f));
      return;
    }
    // Every archive draws on one budget of expanded bytes for the whole release, so that
    // archives nested in archives cannot multiply it.
    formats::ArchiveLimits limits = options_.limits;
    limits.max_total_bytes =
        options_.limits.max_total_bytes - std::min(expanded_, options_.limits.max_total_bytes);
    // An MSI's cabinets name their members by File-table keys: they are shown by the names
    // they install as (a name two files share keeps its key, so that both are told apart).
    if (opener == Opener::Msi && msi) {
      auto names = formats::msi_file_names(*msi, span);
      MsiNames known{.depth = depth, .names = {}};
      if (names) {
        std::map<std::string, size_t> uses;
        for (const auto& [key, name] : *names) ++uses[name];
        for (auto& [key, name] : *names) {
          if (uses[name] == 1 && !name.empty()) known.names.emplace(key, std::move(name));
        }
      }
      msi_names_.push_back(std::move(known));
    }
    const bool in_msi_cabinet =
        opener != Opener::Msi && !msi_names_.empty() && msi_names_.back().depth + 1 == depth;
    const auto visit = [&](formats::ArchiveMember&& member) {
      std::string child = path + "!/" + member.name;
      if (in_msi_cabinet) {
        auto installed = msi_names_.back().names.find(member.name);
        if (installed != msi_names_.back().names.end()) child = path + "!/" + installed->second;
      }
      if (const std::string_view why = formats::unsafe_member_name(member.name); !why.empty()) {
        Finding f = make_finding("RELEASE_UNSAFE_MEMBER_NAME", child);
        f.add_evidence("reason", std::string(why));
        f.add_evidence(std::string(kPathEvidence), path);
        out_->findings.push_back(std::move(f));
      }
      switch (member.type) {
        case formats::MemberType::File:
          if (member.outside) {
            // Kept beside the archive (app.asar.unpacked/): a directory release lists it there.
            out_->files.push_back(
                {.path = child, .type = "file", .size = member.size, .depth = depth + 1});
            break;
          }
          expanded_ += member.data.size();
          content(child, member.data, depth + 1);
          break;
        case formats::MemberType::Directory:
          break;
        case formats::MemberType::Symlink:
        case formats::MemberType::Hardlink:
          out_->files.push_back({.path = child,
                                 .type = "symlink",
                                 .link_target = std::move(member.link_target),
                                 .depth = depth + 1});
          break;
        case formats::MemberType::Other:
          out_->files.push_back({.path = child, .type = "other", .depth = depth + 1});
          break;
      }
    };
    auto summary = opener == Opener::Asar  ? formats::read_asar(span, limits, visit)
                   : opener == Opener::Msi ? read_msi(span, msi, limits, visit)
                                           : formats::read_archive(span, limits, visit);
    if (opener == Opener::Msi && msi) msi_names_.pop_back();
    if (!summary) {
      // Its first bytes said archive, and it is none: damaged, or a lie.
      Finding f = make_finding("RELEASE_ARCHIVE_DAMAGED", path);
      f.add_evidence("error", summary.error().message);
      out_->findings.push_back(std::move(f));
      return;
    }
    ++out_->archives;
    if (summary->stop == formats::ArchiveStop::TotalBytes) budget_hit_ = budget_ever_hit_ = true;
    out_->files[index].archive = summary->format;
    out_->files[index].members = summary->members;
    out_->expanded_bytes += summary->expanded_bytes;
    if (summary->stop == formats::ArchiveStop::None) return;
    const bool damaged = summary->stop == formats::ArchiveStop::Damaged;
    Finding f = make_finding(damaged ? "RELEASE_ARCHIVE_DAMAGED" : "RELEASE_ARCHIVE_LIMIT", path);
    if (!damaged) f.add_evidence("limit", std::string(formats::archive_stop_name(summary->stop)));
    f.add_evidence(damaged ? "error" : "detail", summary->error);
    f.add_evidence("members_read", std::to_string(summary->members));
    out_->findings.push_back(std::move(f));
  }

  // The file's bytes through the analyser table once per content: a content met again takes
  // the facts and findings of its first analysis.
  void analyse(ReleaseFile& file,
               std::span<const std::byte> bytes,
               const DigestValues& digests,
               std::optional<formats::OleFile>& msi) {
    if (auto known = shared_.analyses.find_or_claim(*digests.sha256)) {
      const Analysed& a = *known;
      file.format = a.format;
      file.signature = a.signature;
      file.signer = a.signer;
      file.binary = a.binary;
      for (Finding f : a.findings) {
        f.path = file.path;
        out_->findings.push_back(std::move(f));
      }
      push_digest_findings(a.digest_findings, file.path);
      if (file.format == "msi") {
        if (auto ole = formats::parse_ole(bytes)) msi = std::move(*ole);
      }
      return;
    }
    // Ends the claim when the analysis fails (bad_alloc): the waiters then analyse it.
    struct Claim {
      Analyses& analyses;
      const Sha256& sha256;
      std::shared_ptr<const Analysed> analysed;
      ~Claim() { analyses.publish(sha256, std::move(analysed)); }
    } claim{shared_.analyses, *digests.sha256, nullptr};
    content::ContentFacts facts = options_.analysis;
    facts.binary_facts = true;
    facts.format_only = !options_.analyse;
    const content::ContentView view{
        .head = bytes.first(std::min(bytes.size(), formats::kClassifyHeadBytes)),
        .whole = bytes,
        .size = bytes.size(),
        .digests = &digests};
    std::vector<Finding> findings, digest_findings;
    for (size_t i = 0; i < content::kAnalyserCount; ++i) {
      const std::string_view name = content::analyser_name(i);
      // The scan's structure summary is a stored JSON text; the release keeps typed facts.
      if (name == "structure") continue;
      if (!options_.analyse && name != "format") continue;
      const bool by_digests = content::analyser_needs(i) == content::Needs::Digests;
      content::run_analyser(i, view, facts, by_digests ? digest_findings : findings);
    }
    for (std::vector<Finding>* list : {&findings, &digest_findings}) {
      for (Finding& f : *list) {
        f.path = file.path;
        if (!f.sha256) f.sha256 = digests.sha256;
      }
    }
    std::shared_ptr<const content::BinaryFacts> binary;
    if (facts.binary)
      binary = std::make_shared<const content::BinaryFacts>(std::move(*facts.binary));
    claim.analysed = std::make_shared<const Analysed>(Analysed{.format = facts.format,
                                                               .signature = facts.signature,
                                                               .signer = facts.signer,
                                                               .binary = binary,
                                                               .findings = findings,
                                                               .digest_findings = digest_findings});
    file.format = facts.format;
    file.signature = std::move(facts.signature);
    file.signer = std::move(facts.signer);
    file.binary = std::move(binary);
    for (Finding& f : findings) out_->findings.push_back(std::move(f));
    push_digest_findings(digest_findings, file.path);
    if (facts.image && facts.image->ole && *facts.image->ole) {
      msi = std::move(**facts.image->ole);
    } else if (file.format == "msi") {
      if (auto ole = formats::parse_ole(bytes)) msi = std::move(*ole);
    }
  }

  void push_digest_findings(const std::vector<Finding>& findings, const std::string& path) {
    for (Finding f : findings) {
      f.path = path;
      if (options_.cache != nullptr) digest_findings_.insert(out_->findings.size());
      out_->findings.push_back(std::move(f));
    }
  }

  // An MSI's streams as members: the embedded cabinets (opened in turn as archives), custom
  // action binaries and the rest; the tables ("!..." names, the database itself) and the
  // signature and summary streams ("\x05...") are the MSI's own structure and are left out.
  Result<formats::ArchiveSummary> read_msi(
      std::span<const std::byte> bytes,
      const std::optional<formats::OleFile>& ole,
      const formats::ArchiveLimits& limits,
      const std::function<void(formats::ArchiveMember&&)>& visit) {
    if (!ole) return make_error(ErrorCode::Parse, "not a readable compound file");
    formats::ArchiveSummary summary{.format = "MSI (compound file)"};
    for (size_t i = 1; i < ole->entries.size(); ++i) {
      const formats::OleEntry& entry = ole->entries[i];
      if (entry.type != formats::kOleStream || entry.name.starts_with("!") ||
          entry.name.starts_with("\\x05")) {
        continue;
      }
      if (summary.members >= limits.max_members) {
        summary.stop = formats::ArchiveStop::Members;
        summary.error = std::to_string(limits.max_members) + " members";
        break;
      }
      auto data = formats::read_ole_stream(*ole, bytes, i);
      if (!data) {
        summary.stop = formats::ArchiveStop::Damaged;
        summary.error = entry.name + ": " + data.error().message;
        break;
      }
      if (summary.expanded_bytes + data->size() > limits.max_total_bytes) {
        summary.stop = formats::ArchiveStop::TotalBytes;
        summary.error = std::to_string(limits.max_total_bytes) + " bytes";
        break;
      }
      summary.expanded_bytes += data->size();
      ++summary.members;
      formats::ArchiveMember member{
          .name = entry.name,
          .data = std::string(reinterpret_cast<const char*>(data->data()), data->size()),
          .size = data->size()};
      visit(std::move(member));
    }
    return summary;
  }

 public:
  // A release file, opened by whoever walked to it.
  void file(const UniqueFd& fd, const std::string& path) {
    uint64_t size = 0;
    std::string error;
    if (read_bounded(fd, options_.limits.max_member_bytes, size, error, buffer_)) {
      out_->bytes += buffer_.size();
      content(path, buffer_, 0);
      // A large file's buffer is not held for the rest of the release.
      if (buffer_.capacity() > kKeptBuffer) std::string().swap(buffer_);
    } else if (error.empty()) {
      add_too_large(*out_, path, size, options_.limits.max_member_bytes);
    } else {
      add_unreadable(*out_, path, error);
    }
  }

  void bytes_named(const std::string& name, std::string_view bytes) {
    out_->bytes += bytes.size();
    content(name, bytes, 0);
  }

 private:
  struct MsiNames {
    unsigned depth = 0;  // the MSI's
    std::map<std::string, std::string> names;
  };
  std::vector<MsiNames> msi_names_;  // of the MSIs being read, innermost last
  const InspectOptions& options_;
  Shared& shared_;
  Inspection* out_ = nullptr;
  const bool all_digests_;  // MD5 and SHA-1 too, for indicators
  std::string buffer_;      // the release's own file being read
  uint64_t expanded_ = 0;
  // For the cache, while a release file is read: the digests of its files (by index in
  // out_->files), which of its findings are indicator matches (by index in out_->findings), and
  // whether it ran out of the release's budget.
  std::string cache_key_;
  std::unordered_map<size_t, DigestValues> file_digests_;
  std::unordered_set<size_t> digest_findings_;
  bool budget_hit_ = false;
  bool budget_ever_hit_ = false;
};

// What a walk of a directory release meets, in the walk's order: a regular file (opened
// without following it, or the error opening it), a symlink, or a directory not walked.
struct DirectoryWalk : WalkVisitor {
  virtual void regular(UniqueFd fd, int error, const std::string& path) = 0;
  virtual void other(std::function<void(Inspection&)> add) = 0;

  void file(const WalkEntry& entry) override {
    if (entry.type == DT_REG) {
      UniqueFd fd = open_in(entry.dir_fd, std::string(entry.name));
      const int error = fd.valid() ? 0 : errno;
      regular(std::move(fd), error, entry.path);
    } else if (entry.type == DT_LNK) {
      char target[4096];
      const ssize_t n =
          ::readlinkat(entry.dir_fd, std::string(entry.name).c_str(), target, sizeof target);
      other([path = entry.path, link = n > 0 ? std::string(target, static_cast<size_t>(n)) : ""](
                Inspection& out) { add_symlink(out, path, link); });
    }
  }
  void problem(const std::string& path, WalkProblem problem, int error) override {
    other([path, why = describe_walk_problem(problem, error)](Inspection& out) {
      add_unreadable(out, path, why);
    });
  }
};

struct SerialWalk : DirectoryWalk {
  SerialWalk(Inspector& inspector, Inspection& out) : inspector_(inspector), out_(out) {}
  void regular(UniqueFd fd, int error, const std::string& path) override {
    if (fd.valid()) {
      inspector_.file(fd, path);
    } else {
      add_unreadable(out_, path, std::strerror(error));
    }
  }
  void other(std::function<void(Inspection&)> add) override { add(out_); }
  Inspector& inspector_;
  Inspection& out_;
};

// The walk hands each regular file, opened, to the workers; what each file yields is an
// Inspection of its own, in a slot by its place in the walk.
class ParallelWalk : public DirectoryWalk {
 public:
  struct Slot {
    Inspection part;
    uint64_t budget_spent = 0;
    bool budget_hit = false;
  };

  ParallelWalk(const InspectOptions& options, Shared& shared, unsigned jobs)
      : capacity_(2 * size_t{jobs}) {
    for (unsigned i = 0; i < jobs; ++i) {
      workers_.emplace_back([this, &options, &shared] { work(options, shared); });
    }
  }
  ~ParallelWalk() override { finish(); }

  void regular(UniqueFd fd, int error, const std::string& path) override {
    std::unique_lock lock(mutex_);
    const size_t slot = slots_.size();
    slots_.emplace_back();
    if (!fd.valid()) {
      add_unreadable(slots_.back().part, path, std::strerror(error));
      return;
    }
    // A bounded queue bounds the descriptors held open.
    room_.wait(lock, [&] { return queue_.size() < capacity_; });
    queue_.push_back({.slot = slot, .fd = std::move(fd), .path = path});
    ready_.notify_one();
  }

  void other(std::function<void(Inspection&)> add) override {
    const std::lock_guard lock(mutex_);
    slots_.emplace_back();
    add(slots_.back().part);
  }

  // Waits for the workers; the slots in the walk's order.
  std::deque<Slot>& finish() {
    {
      const std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
    for (std::thread& worker : workers_) {
      if (worker.joinable()) worker.join();
    }
    return slots_;
  }

 private:
  struct Job {
    size_t slot = 0;
    UniqueFd fd;
    std::string path;
  };

  void work(const InspectOptions& options, Shared& shared) {
    Inspector inspector(options, shared);
    for (;;) {
      Job job;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      room_.notify_one();
      Slot done;
      inspector.begin(done.part);
      inspector.file(job.fd, job.path);
      done.budget_spent = inspector.budget_spent();
      done.budget_hit = inspector.budget_ever_hit();
      const std::lock_guard lock(mutex_);
      slots_[job.slot] = std::move(done);
    }
  }

  const size_t capacity_;
  std::mutex mutex_;
  std::condition_variable ready_, room_;
  std::deque<Job> queue_;
  std::deque<Slot> slots_;  // deque: a slot stays where it is while more are added
  bool closed_ = false;
  std::vector<std::thread> workers_;
};

// A directory release read by `jobs` workers, merged in the walk's order. Each file draws on a
// budget of its own; the merge checks that no file would have run out of the release's budget
// had they been read one after another: when one would, nullopt, and the release is read
// serially, so that which members a release's budget leaves out never depends on timing.
std::optional<Inspection> inspect_in_parallel(int dir_fd,
                                              const InspectOptions& options,
                                              Shared& shared,
                                              unsigned jobs) {
  ParallelWalk walk(options, shared, jobs);
  walk_tree(dir_fd, "", {.max_depth = 64, .one_file_system = false}, walk);
  Inspection out;
  const uint64_t budget = options.limits.max_total_bytes;
  uint64_t spent = 0;
  for (ParallelWalk::Slot& slot : walk.finish()) {
    if (slot.budget_hit || slot.budget_spent > budget - spent) return std::nullopt;
    spent += slot.budget_spent;
    Inspection& part = slot.part;
    std::move(part.files.begin(), part.files.end(), std::back_inserter(out.files));
    std::move(part.findings.begin(), part.findings.end(), std::back_inserter(out.findings));
    out.archives += part.archives;
    out.expanded_bytes += part.expanded_bytes;
    out.bytes += part.bytes;
    out.reused += part.reused;
  }
  return out;
}

}  // namespace

Status Intelligence::load(intel::IntelStore* store, const std::vector<std::string>& yara_paths) {
  if (store != nullptr) {
    CATENA_TRY_STATUS(indicators.load(*store));
    CATENA_TRY_STATUS(blocked_signers.load(*store));
  }
  if (!yara_paths.empty()) {
    CATENA_TRY(intel::YaraRules rules, intel::YaraRules::load(yara_paths));
    yara = std::move(rules);
  }
  return {};
}

void Intelligence::apply(content::ContentFacts& inputs) const {
  inputs.indicators = indicators.empty() ? nullptr : &indicators;
  inputs.blocked_signers = blocked_signers.empty() ? nullptr : &blocked_signers;
  inputs.yara = yara ? &*yara : nullptr;
}

Result<Inspection> inspect(const std::string& path, const InspectOptions& options) {
  Inspection out{.root = path};
  Shared shared;
  Inspector inspector(options, shared);
  inspector.begin(out);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return make_error(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io,
                      path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    const UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) return make_error(ErrorCode::Io, path + ": " + std::strerror(errno));
    const unsigned jobs =
        options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    std::optional<Inspection> merged;
    if (jobs > 1) merged = inspect_in_parallel(dir.get(), options, shared, jobs);
    if (merged) {
      merged->root = path;
      out = std::move(*merged);
    } else {
      shared.refuse_kept = true;
      SerialWalk walk(inspector, out);
      walk_tree(dir.get(), "", {.max_depth = 64, .one_file_system = false}, walk);
    }
  } else {
    const size_t slash = path.rfind('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    // A symlink a person named is followed: read what it names.
    auto canonical = canonical_path(path);
    if (!canonical) return tl::unexpected(canonical.error());
    const size_t cslash = canonical->rfind('/');
    const UniqueFd real_dir(::open(cslash == 0 ? "/" : canonical->substr(0, cslash).c_str(),
                                   O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!real_dir.valid()) return make_error(ErrorCode::Io, path + ": " + std::strerror(errno));
    out.top = name;
    const UniqueFd fd = open_in(real_dir.get(), canonical->substr(cslash + 1));
    if (fd.valid()) {
      inspector.file(fd, name);
    } else {
      add_unreadable(out, name, std::strerror(errno));
    }
  }
  sort_findings(out.findings);
  return out;
}

Inspection inspect_bytes(const std::string& name,
                         std::string_view bytes,
                         const InspectOptions& options) {
  Inspection out{.root = name, .top = name};
  Shared shared;
  Inspector inspector(options, shared);
  inspector.begin(out);
  inspector.bytes_named(name, bytes);
  sort_findings(out.findings);
  return out;
}

}  // namespace catena::release
