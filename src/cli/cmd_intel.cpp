#include <cctype>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/intel/feed.hpp"
#include "catena/intel/signers.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {

/// A cap on a feed file read whole (ten million SHA-256 lines are about 650 MB).
inline constexpr uint64_t kMaxFeedBytes = 2ull << 30;

namespace {

// The first byte that is not a BOM or white space is '{' or '[' (a MISP array of events).
bool looks_like_json(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char c = 0;
  int seen = 0;
  while (in.get(c) && seen++ < 4096) {
    if (c == '\xef' || c == '\xbb' || c == '\xbf' || std::isspace(static_cast<unsigned char>(c))) {
      continue;
    }
    return c == '{' || c == '[';
  }
  return false;
}

// Where and when each indicator was present, from the stored inventories alone; and which
// indicators could not be checked against which scans (a scan that recorded no MD5 cannot show
// an MD5 indicator absent, unless another scan recorded the MD5 of the same content).
int match_stored(store::Store& store, const std::string& format) {
  nlohmann::json matches = nlohmann::json::array();
  std::vector<std::string> lines;
  std::optional<Error> failed;
  auto visited = store.for_each_indicator_hit([&](intel::IndicatorHit&& hit) {
    if (failed) return;
    auto found = store.find_by_sha256(hit.content);
    if (!found) {
      failed = found.error();
      return;
    }
    const intel::IndicatorRecord& i = hit.indicator;
    const std::string indicator =
        to_hex(std::span(reinterpret_cast<const uint8_t*>(i.digest.data()), i.digest.size()));
    for (const scan::Occurrence& o : *found) {
      bool needs_b64 = false;
      nlohmann::json item = {{"feed", i.feed},
                             {"algorithm", i.algorithm},
                             {"indicator", indicator},
                             {"label", i.label},
                             {"source", i.reference},
                             {"sha256", to_hex(hit.content)},
                             {"host", o.host},
                             {"scan_id", o.scan_id},
                             {"scan_started", format_rfc3339(o.scan_started_ns)},
                             {"scan_status", scan::scan_status_name(o.scan_status)},
                             {"path", json_path_text(o.file.path, &needs_b64)}};
      matches.push_back(std::move(item));
      lines.push_back(format_rfc3339(o.scan_started_ns) + "  " + o.host + "  scan " +
                      std::to_string(o.scan_id) + "  " + escape_for_terminal(o.file.path) +
                      "\n      " + i.feed + ": " + escape_for_terminal(i.label) + " (" +
                      i.algorithm + " " + indicator + ")");
    }
  });
  if (failed) return fail(*failed);
  if (!visited) return fail(visited.error());
  nlohmann::json unchecked = nlohmann::json::array();
  for (const std::string algorithm : {"md5", "sha1"}) {
    auto count = store.count_indicators(algorithm);
    if (!count) return fail(count.error());
    if (*count == 0) continue;
    auto scans = store.scans_without_digest(algorithm);
    if (!scans) return fail(scans.error());
    if (scans->empty()) continue;
    nlohmann::json ids = nlohmann::json::array();
    for (const scan::ScanRecord& scan : *scans) {
      ids.push_back({{"scan_id", scan.id},
                     {"host", scan.host},
                     {"started", format_rfc3339(scan.started_ns)}});
    }
    unchecked.push_back({{"algorithm", algorithm}, {"indicators", *count}, {"scans", ids}});
    lines.push_back("not fully checked: " + std::to_string(*count) + " " + algorithm +
                    " indicators against " + std::to_string(scans->size()) +
                    " scan(s) that recorded no " + algorithm +
                    " (only contents another scan hashed with " + algorithm +
                    " could match; rescan with --digests sha256," + algorithm + ")");
  }
  if (format == "json") {
    const nlohmann::json out = {{"matches", matches}, {"unchecked", unchecked}};
    std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%zu match(es) in the stored inventories\n", matches.size());
    for (const std::string& line : lines) std::printf("  %s\n", line.c_str());
  }
  return matches.empty() ? kExitOk : kExitFindings;
}

}  // namespace

Runner register_intel(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "intel", "Indicator feeds (file hashes) that scans and audits match every file against");
  group->require_subcommand(1);
  struct Options {
    OutputOptions output;
    std::string file;
    std::string feed;
    std::string format = "auto";
    std::string column;
    bool match = false;
    bool signers = false;
    bool to_ids_only = false;
    bool include_expired = false;
    std::string summary_format = "table";
  };
  auto options = std::make_shared<Options>();
  CLI::App* import = group->add_subcommand(
      "import",
      "Import a feed: a plain hash list, CSV with a header, a STIX 2.1 bundle or a MISP event");
  import->add_option("file", options->file, "The feed file")->required();
  import->add_flag("--signers", options->signers,
                   "The file lists blocked signing certificates (SHA-256 thumbprints, or serial "
                   "and issuer), not file hashes");
  import->add_option("--feed", options->feed, "Name of the feed (default: the file's name)");
  import->add_option("--format", options->format, "auto (default), plain, csv, stix or misp")
      ->check(CLI::IsMember({"auto", "plain", "csv", "stix", "misp"}));
  import->add_option("--column", options->column, "CSV: the header of the hash column");
  import->add_flag("--to-ids-only", options->to_ids_only,
                   "MISP: only attributes marked for detection (to_ids)");
  import->add_flag("--include-expired", options->include_expired,
                   "STIX: keep indicators whose valid_until has passed");
  import->add_option("--db", options->output.db, "Store path (default: the user's store)");
  // --format names the feed's own format here, so the summary's has its own flag.
  import
      ->add_option("--summary-format", options->summary_format,
                   "The import summary: table (default) or json (counts of what was imported "
                   "and of what was left out, by reason)")
      ->check(CLI::IsMember({"table", "json"}));
  CLI::App* list = group->add_subcommand("list", "List the imported feeds");
  list->add_option("--db", options->output.db, "Store path (default: the user's store)");
  list->add_option("--format", options->output.format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  import->add_flag("--match", options->match,
                   "Then match every stored scan against the indicators (as intel match)");
  CLI::App* match = group->add_subcommand(
      "match",
      "Check every stored inventory (all hosts, all scans) against the current indicators, "
      "without reading any file");
  match->add_option("--db", options->output.db, "Store path (default: the user's store)");
  match->add_option("--format", options->output.format, "Output format: table or json")
      ->check(CLI::IsMember({"table", "json"}));
  CLI::App* remove = group->add_subcommand("remove", "Remove a feed and its indicators");
  remove->add_option("--feed", options->feed, "Name of the feed")->required();
  remove->add_option("--db", options->output.db, "Store path (default: the user's store)");
  return [group, import, list, match, remove, options]() -> int {
    if (!group->parsed()) return -1;
    auto store = open_store(options->output, store::Store::Access::ReadWrite);
    if (!store) return fail(store.error());
    if (match->parsed()) return match_stored(**store, options->output.format);
    if (import->parsed()) {
      std::string name = options->feed;
      if (name.empty()) {
        const size_t slash = options->file.rfind('/');
        name = slash == std::string::npos ? options->file : options->file.substr(slash + 1);
      }
      const auto rejected = [&](const Error& e) {
        return fail(
            Error{ErrorCode::Parse, options->file + ": " + e.message + " (nothing imported)", {}});
      };
      if (options->signers) {
        auto text = read_small_file(options->file, kMaxFeedBytes);
        if (!text) return fail(text.error());
        auto signers = intel::parse_signer_list(std::string_view(text->data(), text->size()));
        if (!signers) return rejected(signers.error());
        intel::FeedRecord record{.id = 0,
                                 .name = name,
                                 .source = options->file,
                                 .format = "signers",
                                 .imported_ns = now_ns(),
                                 .indicators = signers->size()};
        if (auto stored = (*store)->import_signer_feed(record, *signers); !stored) {
          return fail(stored.error());
        }
        std::printf("imported %zu blocked signers into feed %s\n", signers->size(),
                    escape_for_terminal(name).c_str());
        return kExitOk;
      }
      const intel::FeedFormat format = options->format == "plain"  ? intel::FeedFormat::Plain
                                       : options->format == "csv"  ? intel::FeedFormat::Csv
                                       : options->format == "stix" ? intel::FeedFormat::Stix
                                       : options->format == "misp" ? intel::FeedFormat::Misp
                                                                   : intel::FeedFormat::Auto;
      // JSON feeds (STIX, MISP) are read whole; lists and CSV are streamed, so that a feed of
      // ten million lines costs a line of memory, not the feed.
      const bool json_feed = format == intel::FeedFormat::Stix ||
                             format == intel::FeedFormat::Misp ||
                             (format == intel::FeedFormat::Auto && looks_like_json(options->file));
      intel::FeedRecord record{.id = 0,
                               .name = name,
                               .source = options->file,
                               .format = "",
                               .imported_ns = now_ns(),
                               .indicators = 0};
      uint64_t stored = 0, duplicates = 0, skipped = 0, not_for_detection = 0, hashes_skipped = 0;
      std::string shape;
      std::map<std::string, uint64_t> skipped_by;
      if (json_feed) {
        auto text = read_small_file(options->file, kMaxFeedBytes);
        if (!text) return fail(text.error());
        auto feed = intel::parse_feed(std::string_view(text->data(), text->size()), format,
                                      {.column = options->column,
                                       .to_ids_only = options->to_ids_only,
                                       .include_expired = options->include_expired});
        if (!feed) return rejected(feed.error());
        record.format = std::string(intel::feed_format_name(feed->format));
        shape = feed->shape;
        skipped_by = feed->skipped_by;
        not_for_detection = feed->not_for_detection;
        hashes_skipped = feed->hashes_skipped;
        std::vector<intel::IndicatorRecord> rows;
        rows.reserve(feed->indicators.size());
        for (intel::Indicator& i : feed->indicators) {
          rows.push_back({name, std::string(intel::algorithm_name(i.algorithm)),
                          std::move(i.digest), std::move(i.label), std::move(i.reference)});
        }
        record.indicators = rows.size();
        if (auto written = (*store)->import_feed(record, rows); !written) {
          return fail(written.error());
        }
        stored = rows.size();
        duplicates = feed->duplicates;
        skipped = feed->skipped;
      } else {
        std::ifstream in(options->file, std::ios::binary);
        if (!in) return fail(Error{ErrorCode::Io, "cannot open " + options->file, {}});
        record.format = format == intel::FeedFormat::Csv ? "csv" : "plain";
        auto writer = (*store)->begin_feed_import(record);
        if (!writer) return fail(writer.error());
        auto streamed = intel::stream_feed(
            in, format, {.column = options->column}, [&](intel::Indicator&& i) -> Status {
              return (*writer)->add({{},
                                     std::string(intel::algorithm_name(i.algorithm)),
                                     std::move(i.digest),
                                     std::move(i.label),
                                     std::move(i.reference)});
            });
        if (!streamed) {
          return streamed.error().code == ErrorCode::Parse ? rejected(streamed.error())
                                                           : fail(streamed.error());
        }
        record.format = std::string(intel::feed_format_name(streamed->format));
        auto committed = (*writer)->commit(record.format);
        if (!committed) return fail(committed.error());
        duplicates = *committed;
        stored = streamed->indicators - duplicates;
        skipped = streamed->skipped;
      }
      if (options->summary_format == "json") {
        const nlohmann::json summary = {{"feed", name},
                                        {"source", options->file},
                                        {"format", record.format},
                                        {"shape", shape},
                                        {"imported", stored},
                                        {"duplicates", duplicates},
                                        {"skipped", skipped},
                                        {"skipped_by", skipped_by},
                                        {"hashes_skipped", hashes_skipped},
                                        {"not_for_detection", not_for_detection},
                                        {"to_ids_only", options->to_ids_only},
                                        {"include_expired", options->include_expired}};
        std::printf("%s\n",
                    summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        if (options->match) return match_stored(**store, "json");
        return kExitOk;
      }
      // "(misp: bare event; 2 duplicates, 5 skipped: deleted 2, not a file hash 3)"
      std::string why;
      for (const auto& [reason, count] : skipped_by) {
        why += (why.empty() ? ": " : ", ") + reason + " " + std::to_string(count);
      }
      std::printf("imported %llu indicators into feed %s (%s%s; %llu duplicates, %llu skipped%s)\n",
                  static_cast<unsigned long long>(stored), escape_for_terminal(name).c_str(),
                  record.format.c_str(), shape.empty() ? "" : (": " + shape).c_str(),
                  static_cast<unsigned long long>(duplicates),
                  static_cast<unsigned long long>(skipped), why.c_str());
      if (not_for_detection > 0) {
        std::printf(
            "%llu of them not marked for detection (to_ids false): --to-ids-only leaves "
            "them out\n",
            static_cast<unsigned long long>(not_for_detection));
      }
      if (options->match) return match_stored(**store, "table");
      return kExitOk;
    }
    if (list->parsed()) {
      auto feeds = (*store)->list_feeds();
      if (!feeds) return fail(feeds.error());
      if (options->output.format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const intel::FeedRecord& f : *feeds) {
          out.push_back({{"feed", f.name},
                         {"source", f.source},
                         {"format", f.format},
                         {"imported", format_rfc3339(f.imported_ns)},
                         {"indicators", f.indicators}});
        }
        std::printf("%s\n",
                    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        for (const intel::FeedRecord& f : *feeds) {
          std::printf("%-24s %8llu  %-5s %s  %s\n", escape_for_terminal(f.name).c_str(),
                      static_cast<unsigned long long>(f.indicators), f.format.c_str(),
                      format_rfc3339(f.imported_ns).c_str(), escape_for_terminal(f.source).c_str());
        }
      }
      return kExitOk;
    }
    if (remove->parsed()) {
      if (auto removed = (*store)->remove_feed(options->feed); !removed) {
        return fail(removed.error());
      }
      return kExitOk;
    }
    return kExitError;
  };
}

}  // namespace catena::cli
