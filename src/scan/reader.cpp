// The scan's reader: a listed file compared with its reference record, reused or read once
// (every digest in one pass), its content analysed when the content is new; special files
// recorded from their lstat.
#include "reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>

#include "catena/core/content.hpp"
#include "catena/core/mapped.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/core/xattr.hpp"
#include "catena/formats/format.hpp"
#include "catena/intel/index.hpp"
#include "checks.hpp"

namespace catena::scan {

class FileReader::Impl {
 public:
  Impl(const ScanOptions& options,
       ResultQueue& results,
       Engine& engine,
       std::atomic<bool>& incomplete)
      : options_(options), results_(results), engine_(engine), incomplete_(incomplete) {}

  bool cancelled() const {
    return options_.cancel != nullptr && options_.cancel->load(std::memory_order_relaxed);
  }

  // Out of descriptors or memory is not the file's doing: the scan could not look, and says so.
  std::string_view open_error_rule(int err, std::string_view otherwise) {
    if (err == EMFILE || err == ENFILE || err == ENOMEM) {
      incomplete_ = true;
      return "SCAN_RESOURCE_LIMIT";
    }
    return err == ENOENT ? "FILE_VANISHED" : otherwise;
  }

  void report_error(const std::string& path, std::string_view rule, int err) {
    report_problem(path, rule, errno_text(err));
  }

  void report_problem(const std::string& path, std::string_view rule, std::string text) {
    Item item;
    item.error = true;
    Finding f = make_finding(rule, path);
    f.add_evidence("error", std::move(text));
    item.findings.push_back(std::move(f));
    results_.push(std::move(item));
  }

  // The path for the package lookup; empty when there is no package database to ask.
  std::string canonical_of(const Entry& entry, bool always = false) const {
    if (!always && options_.owners == nullptr && !options_.owners_loader) return {};
    if (!entry.canonical.empty()) return entry.canonical;
    const Root& root = *entry.root;
    if (root.canonical.empty() || entry.path.size() < root.path.size()) return entry.path;
    std::string out = root.canonical;
    const std::string_view rest = std::string_view(entry.path).substr(root.path.size());
    if (!rest.empty() && out == "/" && rest.front() == '/') {
      out = std::string(rest);
    } else {
      out.append(rest);
    }
    return out;
  }

  Item record_special(const Entry& entry) {
    const size_t reference = reference_of(entry.path);
    if (auto reused = try_reuse(entry, reference)) return std::move(*reused);
    Item item;
    item.reference = reference;
    FileRecord r;
    r.path = entry.path;
    fill_metadata(r, entry.st);
    if (S_ISLNK(entry.st.st_mode)) {
      std::string target(4096, '\0');
      while (true) {
        const ssize_t n = ::readlinkat(entry.parent_fd ? entry.parent_fd->get() : AT_FDCWD,
                                       entry.name.c_str(), target.data(), target.size());
        if (n < 0) {
          target.clear();
          break;
        }
        if (static_cast<size_t>(n) < target.size()) {
          target.resize(static_cast<size_t>(n));
          break;
        }
        if (target.size() >= 1 << 20) break;
        target.resize(target.size() * 2);
      }
      r.link_target = std::move(target);
    }
    if (options_.xattrs) r.xattrs = read_xattrs_path(entry.path);
    item.canonical_path = canonical_of(entry);
    item.record = std::move(r);
    return item;
  }

  bool wants_md5(const Entry& entry) const {
    if ((options_.digests & DigestSet::kMd5) != 0) return true;
    if (!options_.md5_for) return false;
    if (entry.canonical.empty()) entry.canonical = canonical_of(entry, true);
    return options_.md5_for(entry.canonical);
  }

  size_t reference_of(const std::string& path) const {
    if (engine_.reference == nullptr) return kNoReference;
    auto it = engine_.reference->by_path.find(path);
    return it == engine_.reference->by_path.end() ? kNoReference : it->second;
  }

  static bool same_stat(const FileRecord& ref, const struct stat& st) {
    return ref.type == file_type_of(st.st_mode) && ref.size == static_cast<uint64_t>(st.st_size) &&
           ref.mode == st.st_mode && ref.uid == st.st_uid && ref.gid == st.st_gid &&
           ref.mtime_ns == to_ns(st.st_mtim) && ref.ctime_ns == to_ns(st.st_ctim) &&
           ref.inode == st.st_ino && ref.device == st.st_dev;
  }

  // Findings the content's stored or scanned facts hold for the analysers this scan runs.
  void known_findings(const std::vector<std::pair<std::string, Finding>>& findings,
                      std::vector<Finding>& out) const {
    for (const auto& [analyser, f] : findings) {
      for (size_t i = 0; i < content::kAnalyserCount; ++i) {
        if (content::analyser_name(i) == analyser && !engine_.components[i].empty())
          out.push_back(f);
      }
    }
  }

  // The table's analysers that need only digests, for a file read now or reused.
  void match_indicators(const FileRecord& r, std::vector<Finding>& out) const {
    const DigestValues digests{.sha256 = r.sha256, .md5 = r.md5, .sha1 = r.sha1};
    const content::ContentView view{.digests = &digests};
    content::ContentFacts inputs;
    inputs.indicators = options_.indicators;
    for (size_t i = 0; i < content::kAnalyserCount; ++i) {
      if (content::analyser_needs(i) == content::Needs::Digests)
        content::run_analyser(i, view, inputs, out);
    }
  }

  // An entry whose stat anchors equal those of its reference record, written by a complete
  // scan, with every digest and analysis this scan asks for: it is not opened.
  std::optional<Item> try_reuse(const Entry& entry, size_t reference) {
    if (!engine_.reuse || reference == kNoReference) return std::nullopt;
    const scan::ReferenceFile& reference_file = engine_.reference->files[reference];
    const FileRecord& ref = reference_file.record;
    if (!reference_file.from_complete_scan || ref.changed ||
        racy(reference_file, options_.racy_window_ns) || !same_stat(ref, entry.st)) {
      return std::nullopt;
    }
    const bool regular = S_ISREG(entry.st.st_mode);
    if (regular) {
      if (!ref.sha256 || (!ref.md5 && wants_md5(entry)) ||
          ((options_.digests & DigestSet::kSha1) && !ref.sha1)) {
        return std::nullopt;
      }
      const auto& have = engine_.reference->components[engine_.reference->analysis_of[reference]];
      for (const std::string& c : engine_.components) {
        if (!c.empty() && !std::binary_search(have.begin(), have.end(), c)) return std::nullopt;
      }
    }
    if (options_.xattrs && read_xattrs_path(entry.path) != ref.xattrs) return std::nullopt;
    Item item;
    item.reused = true;
    item.reference = reference;
    if (regular) {
      if (const KnownContent* known = engine_.memory.stored(*ref.sha256)) {
        known_findings(known->findings, item.findings);
      }
      FileRecord digests_only;
      digests_only.sha256 = ref.sha256;
      digests_only.md5 = ref.md5;
      digests_only.sha1 = ref.sha1;
      match_indicators(digests_only, item.findings);
      check_file_metadata(entry.path, entry.st, item.findings);
      for (Finding& f : item.findings) {
        if (!f.sha256) f.sha256 = ref.sha256;
        if (f.path.empty()) f.path = entry.path;
      }
      engine_.files_reused.fetch_add(1, std::memory_order_relaxed);
    }
    item.canonical_path = canonical_of(entry);
    return item;
  }

  // A file with more holes than kSparseHoleBytes takes them from the scan's budget; false when
  // the budget cannot cover them (the file is not read).
  bool take_sparse_budget(const struct stat& st) {
    const auto size = static_cast<uint64_t>(st.st_size);
    const uint64_t allocated = uint64_t{512} * static_cast<uint64_t>(st.st_blocks);
    const uint64_t holes = size > allocated ? size - allocated : 0;
    if (holes <= kSparseHoleBytes) return true;
    uint64_t left = engine_.sparse_left.load();
    do {
      if (left < holes) return false;
    } while (!engine_.sparse_left.compare_exchange_weak(left, left - holes));
    return true;
  }

  // Whether the analysers of a content need all of its bytes, not just its head.
  static bool wants_whole(const content::ContentView& view, const content::ContentFacts& facts) {
    const std::string_view head_format = formats::format_name(formats::classify_format(view.head));
    if (head_format == "ole") return true;  // an MSI's root entry may lie anywhere in it
    if (facts.format_only) return false;
    return content::costly_format(head_format) ||
           (facts.yara != nullptr && view.size <= facts.yara_max_bytes);
  }

  // Runs the analysers the content still needs: none when this scan or an earlier one already
  // analysed it with the same analysers and inputs. `whole_held` says whether the view has
  // every byte (only then are the facts complete enough to remember); when it has not and the
  // analysers need them, they are read from `fd` into a private copy (bytes that cannot change
  // or fault under the parsers, OpenSSL and libyara), or, when the copies' budget cannot hold
  // them, given a mapping whose faults become zero pages.
  void analyse(content::ContentView view,
               const Sha256& sha256,
               bool whole_held,
               int fd,
               content::ContentFacts& facts,
               std::vector<Finding>& findings,
               std::optional<scan::AnalysedContent>& analysed) {
    if (const KnownContent* done = engine_.memory.find_or_claim(sha256)) {
      known_findings(done->findings, findings);
      facts.format = done->format;
      facts.signature = done->signature;
      facts.details = done->details;
      return;
    }
    const KnownContent* stored = engine_.memory.stored(sha256);
    std::array<bool, content::kAnalyserCount> run{};
    bool any = false;
    for (size_t i = 0; i < content::kAnalyserCount; ++i) {
      if (engine_.components[i].empty()) continue;
      run[i] = stored == nullptr ||
               !std::binary_search(stored->components->begin(), stored->components->end(),
                                   engine_.components[i]);
      any = any || run[i];
    }
    // Stored results of analysers that do not run again: kept, and issued when enabled.
    auto merged = std::make_shared<KnownContent>();
    std::vector<std::string> components;
    if (stored != nullptr) {
      for (const std::string& c : *stored->components) {
        const std::string name = c.substr(0, c.find('='));
        bool replaced = false;
        for (size_t i = 0; i < content::kAnalyserCount; ++i) {
          if (content::analyser_name(i) == name && run[i]) replaced = true;
        }
        if (!replaced) components.push_back(c);
      }
      for (const auto& [analyser, f] : stored->findings) {
        bool replaced = false;
        for (size_t i = 0; i < content::kAnalyserCount; ++i) {
          if (content::analyser_name(i) == analyser && run[i]) replaced = true;
        }
        if (!replaced) merged->findings.emplace_back(analyser, f);
      }
      known_findings(merged->findings, findings);
    }
    if (!any) {
      merged->components = stored->components;
      engine_.memory.release(sha256, std::move(merged));
      return;
    }
    HeldContent held(engine_.budget);
    bool from_mapping = false;  // larger than the copies' budget
    if (!whole_held && fd >= 0) {
      if (!wants_whole(view, facts)) {
        whole_held = true;  // the head is all this content's analysers read
      } else {
        switch (held.load(fd, view.size, /*wait=*/false)) {
          case HeldContent::Outcome::Held:
            view.whole = held.bytes();
            whole_held = true;
            break;
          case HeldContent::Outcome::TooLarge:  // or the budget is taken just now
            from_mapping = true;
            break;
          case HeldContent::Outcome::Failed:
            break;  // it shrank: the fstat after the read reports the change
        }
      }
    }
    // The format decides which other analysers apply: it runs whenever another one does.
    run[0] = true;
    const size_t first_finding = findings.size();
    const auto run_all = [&](const content::ContentView& bytes) {
      for (size_t i = 0; i < content::kAnalyserCount; ++i) {
        if (!run[i]) continue;
        const size_t before = findings.size();
        content::run_analyser(i, bytes, facts, findings);
        engine_.runs[i].fetch_add(1, std::memory_order_relaxed);
        if (!engine_.components[i].empty()) components.push_back(engine_.components[i]);
        for (size_t k = before; k < findings.size(); ++k) {
          merged->findings.emplace_back(std::string(content::analyser_name(i)), findings[k]);
        }
      }
    };
    if (from_mapping) {
      // Too large to copy: a mapping whose faults turn into zero pages, never a jump out of the
      // analysers. When the file shrank under it, what they concluded is thrown away.
      const MapResult mapped = with_stable_mapping(fd, view.size, [&](auto bytes) {
        content::ContentView whole = view;
        whole.whole = bytes;
        run_all(whole);
      });
      if (mapped == MapResult::Done) {
        whole_held = true;
      } else if (mapped == MapResult::Changed) {
        findings.resize(first_finding);
        facts.signature.clear();
        facts.details.clear();
      } else {
        run_all(view);  // not mappable: the head is what there is
      }
    } else {
      run_all(view);
    }
    if (!whole_held) {
      engine_.memory.release(sha256, nullptr);
      return;
    }
    std::sort(components.begin(), components.end());
    components.erase(std::unique(components.begin(), components.end()), components.end());
    merged->components = std::make_shared<const std::vector<std::string>>(components);
    merged->format = facts.format;
    merged->signature = facts.signature;
    merged->details = facts.details;
    analysed = scan::AnalysedContent{
        .sha256 = sha256, .analysis = join_components(components), .findings = merged->findings};
    // A light content without findings costs nothing to classify again; not kept.
    const bool keep = content::costly_format(facts.format) || !merged->findings.empty() ||
                      options_.yara != nullptr;
    engine_.memory.release(sha256, keep ? std::move(merged) : nullptr);
  }

  // Reads a listed file once through the content reader: every digest in one pass, the
  // analysers handed the bytes of that pass before the fstat that says whether the file held
  // still, one retry when it did not.
  Item read_file(Entry& entry, ContentReader& reader) {
    const size_t reference = reference_of(entry.path);
    if (auto reused = try_reuse(entry, reference)) return std::move(*reused);
    Item item;
    item.reference = reference;
    FileRecord r;
    r.path = entry.path;
    fill_metadata(r, entry.st);
    // What the analysers concluded of the last pass; a pass that did not read every byte
    // leaves nothing.
    content::ContentFacts facts = analysis_inputs(options_);
    std::vector<Finding> content_findings;
    std::optional<scan::AnalysedContent> analysed;
    std::optional<DigestValues> last_digests;
    std::optional<HeldContent> held;
    ReadHooks hooks;
    hooks.begin = [&](int fd, const struct stat& st, int attempt) {
      fill_metadata(r, st);
      facts = analysis_inputs(options_);
      content_findings.clear();
      analysed.reset();
      last_digests.reset();
      if (attempt == 0 && !take_sparse_budget(st)) return false;
      if (options_.xattrs) r.xattrs = read_xattrs_fd(fd);
      return true;
    };
    // What a large file's analysers need whole (an executable) is copied once, then hashed and
    // analysed from the copy; anything else is hashed from a mapping and analysed from its head.
    hooks.hold = [&](int fd, const struct stat& st,
                     std::span<const std::byte> head) -> std::span<const std::byte> {
      const auto size = static_cast<uint64_t>(st.st_size);
      if (!wants_whole({head, {}, size}, facts)) return {};
      held.emplace(engine_.budget);
      // A file that shrank is hashed from its mapping, which sees the change.
      return held->load(fd, size, /*wait=*/true) == HeldContent::Outcome::Held
                 ? held->bytes()
                 : std::span<const std::byte>();
    };
    hooks.before_bytes = [&](int attempt) {
      if (options_.before_read_hook) options_.before_read_hook(entry.path, attempt);
    };
    hooks.pass = [&](const ReadPass& pass) {
      last_digests = *pass.digests;
      const content::ContentView view{pass.head, pass.whole,
                                      static_cast<uint64_t>(pass.st->st_size)};
      analyse(view, *pass.digests->sha256, pass.held, pass.fd, facts, content_findings, analysed);
      held.reset();  // its budget goes back before the next file
    };
    hooks.after = [&](int attempt) {
      if (options_.after_read_hook) options_.after_read_hook(entry.path, attempt);
    };
    const unsigned algorithms =
        options_.digests | DigestSet::kSha256 | (wants_md5(entry) ? unsigned{DigestSet::kMd5} : 0u);
    const FileContent content =
        reader.read(entry.parent_fd ? entry.parent_fd->get() : AT_FDCWD, entry.name,
                    {.digests = algorithms,
                     .head_bytes = formats::kClassifyHeadBytes,
                     .follow = !entry.parent,  // a root was named by a person
                     .hooks = &hooks});
    const auto unread = [&](std::optional<Finding> finding) {
      Item out;
      out.reference = reference;
      out.canonical_path = canonical_of(entry);
      out.record = std::move(r);
      if (finding) out.findings.push_back(std::move(*finding));
      return out;
    };
    switch (content.status) {
      case FileContent::Status::Missing:
        report_error(entry.path, "FILE_VANISHED", content.error);
        return Item{};
      case FileContent::Status::NotRegular:
        // Swapped for a symlink, FIFO or device after listing: record what is there now.
        entry.st = content.st;
        return record_special(entry);
      case FileContent::Status::Unreadable:
        report_error(entry.path, open_error_rule(content.error, "FILE_UNREADABLE"), content.error);
        // The metadata is still worth recording: an unreadable tool is itself notable.
        return unread(std::nullopt);
      case FileContent::Status::Declined: {
        Finding f = make_finding("FILE_NOT_HASHED", entry.path);
        f.message =
            "Mostly holes: hashing it would read its size in zeros, past the scan's budget "
            "for sparse files.";
        f.add_evidence("size", std::to_string(content.st.st_size));
        f.add_evidence("allocated",
                       std::to_string(uint64_t{512} * static_cast<uint64_t>(content.st.st_blocks)));
        f.add_evidence("budget", std::to_string(options_.sparse_budget_bytes));
        return unread(std::move(f));
      }
      case FileContent::Status::Read:
      case FileContent::Status::Changed:
        break;
    }
    const bool stable = content.status == FileContent::Status::Read;
    r.size = content.bytes;
    if (last_digests) {
      // Of a file that kept changing: the last pass's, which read every byte.
      r.sha256 = last_digests->sha256;
      r.md5 = last_digests->md5;
      r.sha1 = last_digests->sha1;
      match_indicators(r, content_findings);
    }
    r.format = std::move(facts.format);
    r.signature = std::move(facts.signature);
    r.details = std::move(facts.details);
    for (Finding& f : content_findings) item.findings.push_back(std::move(f));
    // Facts of a content that changed while read are not remembered.
    if (stable) item.analysed = std::move(analysed);
    // Changed while read: said even when the retry read it whole (a truncation below a page
    // faults the mapping and the retry sees a stable, smaller file).
    if (!stable || content.passes > 1) {
      r.changed = !stable;
      Finding f = make_finding("FILE_CHANGED_DURING_SCAN", entry.path);
      f.sha256 = r.sha256;
      f.message = stable ? "File changed while it was read; the recorded hash is of its "
                           "content after the change."
                         : "File kept changing while it was read twice; the recorded hash is "
                           "of one moment's content.";
      f.add_evidence("size_before", std::to_string(content.first_size));
      f.add_evidence("size_after", std::to_string(content.st.st_size));
      f.add_evidence("bytes_read", std::to_string(content.bytes));
      item.findings.push_back(std::move(f));
    }
    engine_.files_read.fetch_add(1, std::memory_order_relaxed);
    check_file_metadata(entry.path, entry.st, item.findings);
    // Content analysers know the bytes, not the path.
    for (Finding& f : item.findings) {
      if (!f.sha256) f.sha256 = r.sha256;
      if (f.path.empty()) f.path = entry.path;
    }
    item.canonical_path = canonical_of(entry);
    item.record = std::move(r);
    return item;
  }

  const ScanOptions& options_;
  ResultQueue& results_;
  Engine& engine_;
  std::atomic<bool>& incomplete_;
};

FileReader::FileReader(const ScanOptions& options,
                       ResultQueue& results,
                       Engine& engine,
                       std::atomic<bool>& incomplete)
    : impl_(std::make_unique<Impl>(options, results, engine, incomplete)) {}
FileReader::~FileReader() = default;

Item FileReader::read_file(Entry& entry, ContentReader& reader) {
  return impl_->read_file(entry, reader);
}
Item FileReader::record_special(const Entry& entry) { return impl_->record_special(entry); }
bool FileReader::wants_md5(const Entry& entry) const { return impl_->wants_md5(entry); }
std::string_view FileReader::open_error_rule(int err, std::string_view otherwise) {
  return impl_->open_error_rule(err, otherwise);
}
void FileReader::report_error(const std::string& path, std::string_view rule, int err) {
  impl_->report_error(path, rule, err);
}
void FileReader::report_problem(const std::string& path, std::string_view rule, std::string text) {
  impl_->report_problem(path, rule, std::move(text));
}

}  // namespace catena::scan
