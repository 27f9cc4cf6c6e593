#include <mutex>
#include <thread>

#include "access_runner.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/intel/index.hpp"
#include "catena/intel/signers.hpp"
#include "catena/intel/yara.hpp"
#include "catena/pkg/dpkg.hpp"
#include "catena/report/render.hpp"
#include "commands.hpp"
#include "progress.hpp"
#include "scan_runner.hpp"

namespace catena::cli {

void add_scan_options(CLI::App& app, ScanCommand& command, std::string& digests) {
  add_output_options(app, command.output, /*with_fail_on=*/true);
  app.add_option("-j,--jobs", command.scan.jobs, "Parallel workers (default: one per core)")
      ->check(CLI::Range(0u, 1024u));
  app.add_flag("-x,--one-file-system", command.scan.one_file_system,
               "Do not descend into directories on other file systems");
  app.add_option("--exclude", command.scan.excludes,
                 "Skip paths matching this glob (repeatable); a pattern without '/' matches base "
                 "names, one with '/' whole paths");
  app.add_option("--digests", digests,
                 "Digests to record: sha256 always, plus md5 and/or sha1 (comma-separated)");
  app.add_flag("!--no-dpkg", command.dpkg, "Do not look up owning Debian packages");
  app.add_option("--yara", command.yara,
                 "YARA rules: a file or directory, source or compiled (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--yara-max-size", command.scan.yara_max_bytes,
                 "Skip YARA on files larger than this many bytes (reported; default 268435456)");
  app.add_option("--yara-timeout", command.scan.yara_timeout_seconds,
                 "Seconds YARA may spend on one file before it is skipped (reported; default 10)")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--full", command.scan.full,
               "Read every file, even one whose size, times and inode say it did not change since "
               "the last scan of the same places (see [scan] full_every in catena.toml)");
  app.add_flag("!--no-analysis", command.scan.analyse,
               "Inventory only: record each file's format but do not verify signatures or parse "
               "executables' structure");
}

Result<unsigned> parse_digests(const std::string& text) {
  unsigned out = DigestSet::kSha256;
  size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    const std::string name = text.substr(pos, end - pos);
    if (name == "sha256") {
    } else if (name == "md5") {
      out |= DigestSet::kMd5;
    } else if (name == "sha1") {
      out |= DigestSet::kSha1;
    } else {
      return make_error(ErrorCode::Usage,
                        "unknown digest '" + name + "' (expected sha256, md5, sha1)");
    }
    pos = end + 1;
  }
  return out;
}

int run_scan_command(ScanCommand& command) {
  CATENA_ASSERT(!command.scan.roots.empty() || command.name == "audit");
  auto format = report::parse_format(command.output.format);
  if (!format) return fail(format.error());
  auto fail_on = parse_severity(command.output.fail_on);
  if (!fail_on) return fail(fail_on.error());
  if (command.scan.roots.empty()) return fail(Error{ErrorCode::Usage, "nothing to scan", {}});

  raise_open_file_limit();
  auto store = open_store(command.output, store::Store::Access::ReadWrite);
  if (!store) return fail(store.error());

  // The dpkg database loads on its own thread while the first files are read.
  std::optional<pkg::PackageOwners> owners;
  std::thread owners_thread;
  std::once_flag owners_joined;
  if (command.dpkg) {
    // Only the paths under the scanned trees are indexed.
    std::vector<std::string> prefixes;
    if (auto roots = scan::resolve_roots(command.scan.roots, scan::MissingRoot::Skip)) {
      for (const scan::Root& root : *roots) prefixes.push_back(root.canonical);
    }
    owners_thread = std::thread([&owners, prefixes = std::move(prefixes)] {
      auto loaded = pkg::PackageOwners::load({}, prefixes);
      if (loaded) {
        for (const std::string& damaged : loaded->damaged_lists()) {
          std::fprintf(stderr, "catena: warning: skipped a damaged dpkg file list: %s\n",
                       escape_for_terminal(damaged).c_str());
        }
        owners = std::move(*loaded);
      } else if (loaded.error().code != ErrorCode::NotFound) {
        // A damaged dpkg database must not stop an inventory; say so and go on without owners.
        std::fprintf(stderr, "catena: warning: package owners unavailable: %s\n",
                     loaded.error().describe().c_str());
      }
    });
    command.scan.owners_loader = [&]() -> const pkg::PackageOwners* {
      std::call_once(owners_joined, [&] { owners_thread.join(); });
      return owners ? &*owners : nullptr;
    };
    // The audit verifies packages next: their files' MD5s come from this read.
    if (command.md5_for_packages) {
      command.scan.md5_for = [&](const std::string& path) {
        const pkg::PackageOwners* loaded = command.scan.owners_loader();
        return loaded != nullptr && loaded->owned(path);
      };
    }
  }

  // Every stored indicator is matched against every file; MD5 and SHA-1 are computed in the same
  // read only when some feed needs them.
  intel::IndicatorIndex indicators;
  if (auto loaded = indicators.load(**store); !loaded) return fail(loaded.error());
  if (!indicators.empty()) {
    command.scan.indicators = &indicators;
    if (indicators.has_md5()) command.scan.digests |= DigestSet::kMd5;
    if (indicators.has_sha1()) command.scan.digests |= DigestSet::kSha1;
  }

  intel::SignerBlocklist blocked_signers;
  if (auto loaded = blocked_signers.load(**store); !loaded) return fail(loaded.error());
  if (!blocked_signers.empty()) command.scan.blocked_signers = &blocked_signers;

  // YARA rules compile once for the run; a rule that does not compile stops it (exit 2).
  std::optional<intel::YaraRules> yara;
  if (!command.yara.empty()) {
    auto loaded = intel::YaraRules::load(command.yara);
    if (!loaded) return fail(loaded.error());
    yara = std::move(*loaded);
    command.scan.yara = &*yara;
  }

  command.scan.cancel = &install_cancel_handlers();
  ProgressLine progress(!command.output.quiet && is_terminal(stderr));
  command.scan.on_progress = [&](const scan::Progress& p) { progress.update(p); };

  scan::ScanMeta meta{.kind = command.name, .host = {}, .arguments = process_arguments()};
  scan::ScanSummary interrupted_summary;
  auto summary = scan::run_scan(**store, command.scan, meta, &interrupted_summary);
  std::call_once(owners_joined, [&] {
    if (owners_thread.joinable()) owners_thread.join();
  });
  progress.clear();
  const bool interrupted = !summary && summary.error().code == ErrorCode::Interrupted;
  if (!summary && !interrupted) return fail(summary.error());
  const scan::ScanSummary& result = interrupted ? interrupted_summary : *summary;
  std::vector<Finding> findings = result.findings;
  std::vector<std::pair<std::string, std::string>> summary_lines;
  if (!interrupted && command.after_scan) {
    command.scan_id = result.scan_id;
    std::vector<Finding> more = command.after_scan(**store, summary_lines);
    if (auto stored = (*store)->add_batch(result.scan_id, {}, more); !stored) {
      return fail(stored.error());
    }
    for (Finding& f : more) findings.push_back(std::move(f));
    sort_findings(findings);
  }

  report::ScanReport report{
      .command = command.name,
      .scan_id = result.scan_id,
      .host = result.host,
      .started_ns = result.started_ns,
      .finished_ns = result.totals.finished_ns,
      .status = result.status,
      .totals = result.totals,
      .roots = result.roots,
      .findings = std::move(findings),
      .fail_on = *fail_on,
      .store_path = store_path(command.output),
      .summary = std::move(summary_lines),
      .scan_counts =
          report::ScanCounts{.full_pass = result.full_pass, .analyser_runs = result.analyser_runs}};
  if (command.finish_report) command.finish_report(report);
  report::write_scan_report(stdout, report, *format, output_style());
  std::fflush(stdout);
  if (!command.html.empty()) {
    std::string page;
    {
      char* buffer = nullptr;
      size_t size = 0;
      std::FILE* memory = ::open_memstream(&buffer, &size);
      if (memory == nullptr) return fail(Error{ErrorCode::Io, "cannot render the HTML report", {}});
      report::write_html_report(memory, report);
      std::fclose(memory);
      page.assign(buffer, size);
      std::free(buffer);
    }
    if (auto written = write_file_atomically(command.html, page, 0644); !written) {
      return fail(written.error());
    }
  }
  if (interrupted) return fail(summary.error());
  if (report::overall_verdict(report) == "fail") return kExitFindings;
  return exit_code_for(report.findings, *fail_on);
}

Runner register_scan(CLI::App& app) {
  auto command = std::make_shared<ScanCommand>();
  auto digests = std::make_shared<std::string>("sha256");
  command->name = "scan";
  CLI::App* sub = app.add_subcommand(
      "scan",
      "Inventory the given trees: hash and classify every file, record it in the store, report "
      "findings");
  sub->add_option("paths", command->scan.roots, "Files or directories to scan")->required();
  add_scan_options(*sub, *command, *digests);
  auto config_path = std::make_shared<std::string>();
  add_config_option(*sub, *config_path);
  return [sub, command, digests, config_path]() -> int {
    if (!sub->parsed()) return -1;
    auto algorithms = parse_digests(*digests);
    if (!algorithms) return fail(algorithms.error());
    command->scan.digests = *algorithms;
    auto config = load_config(*config_path);
    if (!config) return fail(config.error());
    command->scan.full_every_ns = config->full_every_ns;
    return run_scan_command(*command);
  };
}

}  // namespace catena::cli
