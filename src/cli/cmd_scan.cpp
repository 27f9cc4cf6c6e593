#include "catena/audit/run.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/report/render.hpp"
#include "commands.hpp"
#include "scan_runner.hpp"
#include "shared_options.hpp"

namespace catena::cli {

void add_scan_options(CLI::App& app, ScanCommand& command, std::string& digests) {
  add_output_options(app, command.output, /*with_fail_on=*/true);
  app.add_flag("--all", command.output.all,
               "List every finding in full instead of grouping them (table output)");
  app.add_option("-j,--jobs", command.session.scan.jobs, "Parallel workers (default: one per core)")
      ->check(CLI::Range(0u, 1024u));
  app.add_option("--host", command.host,
                 "Record under this host name (default: this machine's): for a mounted disk "
                 "image, a container or a VM of another machine");
  app.add_flag("-x,--one-file-system", command.session.scan.one_file_system,
               "Do not descend into directories on other file systems");
  app.add_option("--exclude", command.session.scan.excludes,
                 "Skip paths matching this glob (repeatable); a pattern without '/' matches base "
                 "names, one with '/' whole paths");
  app.add_option("--digests", digests,
                 "Digests to record: sha256 always, plus md5 and/or sha1 (comma-separated)");
  app.add_flag("!--no-dpkg", command.session.owners, "Do not look up owning Debian packages");
  app.add_option("--yara", command.session.yara,
                 "YARA rules: a file or directory, source or compiled (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--yara-max-size", command.session.scan.yara_max_bytes,
                 "Skip YARA on files larger than this many bytes (reported; default 268435456)");
  app.add_option("--yara-timeout", command.session.scan.yara_timeout_seconds,
                 "Seconds YARA may spend on one file before it is skipped (reported; default 10)")
      ->check(CLI::Range(1, 3600));
  app.add_flag("--full", command.session.scan.full,
               "Read every file, even one whose size, times and inode say it did not change since "
               "the last scan of the same places (see [scan] full_every in catena.toml)");
  app.add_flag("!--no-analysis", command.session.scan.analyse,
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

report::ScanReport report_of(const std::string& command, const scan::ScanSummary& summary) {
  return report::ScanReport{
      .command = command,
      .scan_id = summary.scan_id,
      .host = summary.host,
      .started_ns = summary.started_ns,
      .finished_ns = summary.totals.finished_ns,
      .status = summary.status,
      .totals = summary.totals,
      .roots = summary.roots,
      .findings = summary.findings,
      .scan_counts = report::ScanCounts{.full_pass = summary.full_pass,
                                        .analyser_runs = summary.analyser_runs}};
}

int run_scan_like(
    ScanCommand& command,
    const std::function<Result<bool>(store::Store& store, report::ScanReport& report)>& run) {
  auto format = report::parse_format(command.output.format);
  if (!format) return fail(format.error());
  auto fail_on = parse_severity(command.output.fail_on);
  if (!fail_on) return fail(fail_on.error());

  raise_open_file_limit();
  auto store = open_store(command.output, store::Store::Access::ReadWrite);
  if (!store) return fail(store.error());
  scan::Session& session = command.session;
  session.scan.cancel = &install_cancel_handlers();
  ProgressLine progress(!command.output.quiet && is_terminal(stderr));
  session.scan.on_progress = [&](const scan::Progress& p) { progress.update(p); };
  session.warn = [](const std::string& message) {
    std::fprintf(stderr, "catena: warning: %s\n", escape_for_terminal(message).c_str());
  };

  report::ScanReport report;
  auto completed = run(**store, report);
  progress.clear();
  if (!completed) return fail(completed.error());
  report.fail_on = *fail_on;
  report.store_path = store_path(command.output);
  // Kept with the scan, so that `catena report` prints it again as it is printed now.
  if (report.scan_id != 0) {
    auto kept = (*store)->put_report_context(report.scan_id, report::report_context_json(report));
    if (!kept) return fail(kept.error());
  }
  auto printed =
      report::write_scan_report(stdout, report, *format, output_style(command.output.all));
  std::fflush(stdout);
  if (!printed) return fail(printed.error());
  if (!command.html.empty()) {
    if (report.command == "audit" && report.scan_id != 0) {
      auto history = audit_history(**store, report.host, report.scan_id);
      if (!history) return fail(history.error());
      report.history = std::move(*history);
    }
    auto written = write_file_atomically(
        command.html, 0644, [&](std::FILE* out) { return report::write_html_report(out, report); });
    if (!written) return fail(written.error());
  }
  if (!*completed) return fail(Error{ErrorCode::Interrupted, "interrupted", {}});
  if (report::overall_verdict(report) == "fail") return kExitFindings;
  return exit_code_for(report.findings.counts(), *fail_on);
}

Runner register_scan(CLI::App& app) {
  auto command = std::make_shared<ScanCommand>();
  auto digests = std::make_shared<std::string>("sha256");
  command->name = "scan";
  CLI::App* sub = app.add_subcommand(
      "scan",
      "Inventory the given trees: hash and classify every file, record it in the store, report "
      "findings");
  sub->add_option("paths", command->session.scan.roots, "Files or directories to scan")->required();
  add_scan_options(*sub, *command, *digests);
  auto config_path = std::make_shared<std::string>();
  add_config_option(*sub, *config_path);
  return [sub, command, digests, config_path]() -> int {
    if (!sub->parsed()) return -1;
    auto algorithms = parse_digests(*digests);
    if (!algorithms) return fail(algorithms.error());
    command->session.scan.digests = *algorithms;
    auto config = audit::load_config(*config_path);
    if (!config) return fail(config.error());
    command->session.scan.full_every_ns = config->full_every_ns;
    if (command->session.scan.roots.empty()) {
      return fail(Error{ErrorCode::Usage, "nothing to scan", {}});
    }
    return run_scan_like(
        *command, [&](store::Store& store, report::ScanReport& report) -> Result<bool> {
          scan::ScanSummary interrupted;
          const scan::ScanMeta meta{
              .kind = "scan", .host = command->host, .arguments = process_arguments()};
          auto summary = scan::run_session(store, store, command->session, meta, &interrupted);
          if (!summary && summary.error().code != ErrorCode::Interrupted) {
            return tl::unexpected(summary.error());
          }
          report = report_of("scan", summary ? *summary : interrupted);
          return summary.has_value();
        });
  };
}

}  // namespace catena::cli
