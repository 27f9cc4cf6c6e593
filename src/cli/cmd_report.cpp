// `catena report [SCAN_ID]`: a stored scan or audit rendered again from the store, as it was
// printed, without scanning. What the report said beyond its findings (build access, the
// standard's verdict, the steps) was kept with the scan when it ran; which findings are new is
// worked out again against the same earlier audit.
#include "catena/audit/run.hpp"
#include "catena/core/fs.hpp"
#include "catena/report/render.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

// The newest audit of `host`, else its newest scan of any kind.
Result<int64_t> latest_report_of(store::Store& store, const std::string& host) {
  CATENA_TRY(std::vector<scan::ScanRecord> scans, store.list_scans());
  std::optional<int64_t> any;
  for (auto it = scans.rbegin(); it != scans.rend(); ++it) {
    if (it->host != host || it->status == scan::ScanStatus::Running) continue;
    if (it->kind == "audit") return it->id;
    if (!any) any = it->id;
  }
  if (any) return *any;
  return make_error(ErrorCode::NotFound, "the store has no audit or scan of " + host);
}

Result<report::ScanReport> stored_report(store::Store& store,
                                         int64_t scan_id,
                                         std::optional<int64_t> since) {
  CATENA_TRY(scan::ScanRecord scan, store.get_scan(scan_id));
  report::ScanReport report{.command = scan.kind,
                            .scan_id = scan.id,
                            .host = scan.host,
                            .started_ns = scan.started_ns,
                            .finished_ns = scan.finished_ns.value_or(scan.started_ns),
                            .status = scan.status,
                            .totals = scan.totals,
                            .roots = scan.roots};
  CATENA_TRY(const FindingCounts counts, store.finding_counts(scan_id));
  report.findings = scan::stored_findings(store, scan_id, counts);
  CATENA_TRY(std::optional<std::string> context, store.report_context(scan_id));
  std::optional<int64_t> compared_with;
  if (context) {
    CATENA_TRY(compared_with, report::apply_report_context(report, *context));
  } else {
    // Kept by a catena before reports were: its findings are all there is.
    report.summary.emplace_back("note", "stored without its report; findings only");
  }
  if (since) compared_with = since;
  if (scan.kind == "audit" && (context == std::nullopt || compared_with)) {
    CATENA_TRY(report.comparison, audit::compare_with_earlier(store, scan_id, compared_with));
  }
  return report;
}

}  // namespace

Runner register_report(CLI::App& app) {
  auto output = std::make_shared<OutputOptions>();
  auto scan_id = std::make_shared<int64_t>(0);
  auto since = std::make_shared<int64_t>(0);
  auto html = std::make_shared<std::string>();
  auto all = std::make_shared<bool>(false);
  CLI::App* sub = app.add_subcommand(
      "report",
      "Print a stored audit or scan again, as it was printed, without scanning (default: this "
      "host's latest audit)");
  sub->add_option("scan", *scan_id, "The scan id of the audit or scan (see `catena store scans`)");
  add_output_options(*sub, *output, /*with_fail_on=*/true);
  CLI::Option* fail_on = sub->get_option("--fail-on");
  sub->add_option("--since", *since,
                  "Compare with this stored audit of the host instead of the one the audit "
                  "was compared with");
  sub->add_option("--html", *html, "Also write the report as one self-contained HTML page");
  sub->add_flag("--all", *all, "List every finding in full instead of grouping them");
  return [sub, output, scan_id, since, html, all, fail_on]() -> int {
    if (!sub->parsed()) return -1;
    auto format = report::parse_format(output->format);
    if (!format) return fail(format.error());
    auto store = open_store(*output, store::Store::Access::ReadOnly);
    if (!store) return fail(store.error());
    int64_t id = *scan_id;
    if (id == 0) {
      auto latest = latest_report_of(**store, host_name());
      if (!latest) return fail(latest.error());
      id = *latest;
    }
    auto report = stored_report(**store, id, *since != 0 ? std::optional(*since) : std::nullopt);
    if (!report) return fail(report.error());
    // The severity the audit failed on, unless asked for another.
    if (fail_on->count() > 0) {
      auto severity = parse_severity(output->fail_on);
      if (!severity) return fail(severity.error());
      report->fail_on = *severity;
    }
    report->store_path = store_path(*output);
    auto printed = report::write_scan_report(stdout, *report, *format, output_style(*all));
    std::fflush(stdout);
    if (!printed) return fail(printed.error());
    if (!html->empty()) {
      if (report->command == "audit") {
        auto history = audit_history(**store, report->host, report->scan_id);
        if (!history) return fail(history.error());
        report->history = std::move(*history);
      }
      auto written = write_file_atomically(
          *html, 0644, [&](std::FILE* out) { return report::write_html_report(out, *report); });
      if (!written) return fail(written.error());
    }
    if (report::overall_verdict(*report) == "fail") return kExitFindings;
    return exit_code_for(report->findings.counts(), report->fail_on);
  };
}

}  // namespace catena::cli
