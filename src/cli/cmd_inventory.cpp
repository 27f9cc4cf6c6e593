#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/report/render.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

Result<report::Format> inventory_format(const OutputOptions& output) {
  CATENA_TRY(report::Format format, report::parse_format(output.format));
  if (format == report::Format::Sarif) {
    return make_error(ErrorCode::Usage, "inventory output is table, json or jsonl, not sarif");
  }
  return format;
}

// The scan asked for, or (0) the most recent one.
Result<scan::ScanRecord> chosen_scan(store::Store& store, int64_t scan_id) {
  if (scan_id == 0) {
    CATENA_TRY(const std::optional<int64_t> latest, store.latest_scan_id());
    if (!latest) return make_error(ErrorCode::NotFound, "the store has no scans yet");
    scan_id = *latest;
  }
  return store.get_scan(scan_id);
}

int run_list(const OutputOptions& output, int64_t scan_id) {
  auto format = inventory_format(output);
  if (!format) return fail(format.error());
  auto store = open_store(output, store::Store::Access::ReadOnly);
  if (!store) return fail(store.error());
  auto scan = chosen_scan(**store, scan_id);
  if (!scan) return fail(scan.error());
  scan_id = scan->id;
  report::InventoryWriter writer(stdout, *format);
  auto visited =
      (*store)->for_each_file(scan_id, [&](const scan::FileRecord& r) { writer.add(r); });
  writer.finish();
  if (!visited) return fail(visited.error());
  return kExitOk;
}

// The findings a scan or an audit stored, most severe first, read from the store as they are
// printed. What an audit judged against its standard is not stored: the verdict here is by
// --fail-on only.
int run_findings(const OutputOptions& output, int64_t scan_id) {
  auto format = report::parse_format(output.format);
  if (!format) return fail(format.error());
  auto fail_on = parse_severity(output.fail_on);
  if (!fail_on) return fail(fail_on.error());
  auto store = open_store(output, store::Store::Access::ReadOnly);
  if (!store) return fail(store.error());
  auto scan = chosen_scan(**store, scan_id);
  if (!scan) return fail(scan.error());
  scan_id = scan->id;
  auto counts = (*store)->finding_counts(scan_id);
  if (!counts) return fail(counts.error());
  report::ScanReport report{.command = scan->kind,
                            .scan_id = scan_id,
                            .host = scan->host,
                            .started_ns = scan->started_ns,
                            .finished_ns = scan->finished_ns.value_or(scan->started_ns),
                            .status = scan->status,
                            .totals = scan->totals,
                            .roots = scan->roots,
                            .findings = scan::stored_findings(**store, scan_id, *counts),
                            .fail_on = *fail_on,
                            .store_path = store_path(output)};
  return print_report(report, *format, *fail_on);
}

int run_find(const OutputOptions& output, const std::string& hex) {
  auto format = inventory_format(output);
  if (!format) return fail(format.error());
  auto sha256 = sha256_from_hex(hex);
  if (!sha256) return fail(Error{ErrorCode::Usage, "--sha256: " + sha256.error().message, {}});
  auto store = open_store(output, store::Store::Access::ReadOnly);
  if (!store) return fail(store.error());
  auto found = (*store)->find_by_sha256(*sha256);
  if (!found) return fail(found.error());
  report::InventoryWriter writer(stdout, *format);
  for (const scan::Occurrence& o : *found) writer.add(o);
  writer.finish();
  if (found->empty() && *format == report::Format::Table) {
    std::fprintf(stdout, "No host has or had content %s in the store.\n", to_hex(*sha256).c_str());
  }
  return kExitOk;
}

int run_scans(const OutputOptions& output) {
  auto format = inventory_format(output);
  if (!format) return fail(format.error());
  auto store = open_store(output, store::Store::Access::ReadOnly);
  if (!store) return fail(store.error());
  auto scans = (*store)->list_scans();
  if (!scans) return fail(scans.error());
  report::write_scan_list(stdout, *scans, *format);
  return kExitOk;
}

}  // namespace

Runner register_inventory(CLI::App& app) {
  struct State {
    OutputOptions list_output, find_output, scans_output, findings_output;
    int64_t scan_id = 0;
    std::string sha256;
  };
  auto state = std::make_shared<State>();
  CLI::App* inventory = app.add_subcommand("inventory", "Query the stored inventory");
  inventory->require_subcommand(1);

  CLI::App* list = inventory->add_subcommand("list", "Print the file records of one scan");
  list->add_option("--scan", state->scan_id, "Scan id (default: the most recent scan)")
      ->check(CLI::PositiveNumber);
  add_output_options(*list, state->list_output, /*with_fail_on=*/false, /*sarif=*/false);

  CLI::App* find = inventory->add_subcommand(
      "find", "Which hosts and paths have, or had, a content (every scan, oldest first)");
  find->add_option("--sha256", state->sha256, "SHA-256 of the content (64 hex digits)")->required();
  add_output_options(*find, state->find_output, /*with_fail_on=*/false, /*sarif=*/false);

  CLI::App* findings = inventory->add_subcommand(
      "findings", "Print the findings of one scan or audit, most severe first");
  findings->add_option("--scan", state->scan_id, "Scan id (default: the most recent scan)")
      ->check(CLI::PositiveNumber);
  add_output_options(*findings, state->findings_output, /*with_fail_on=*/true, /*sarif=*/true);

  CLI::App* scans = inventory->add_subcommand("scans", "List the scans in the store");
  add_output_options(*scans, state->scans_output, /*with_fail_on=*/false, /*sarif=*/false);

  return [=]() -> int {
    if (list->parsed()) return run_list(state->list_output, state->scan_id);
    if (find->parsed()) return run_find(state->find_output, state->sha256);
    if (findings->parsed()) return run_findings(state->findings_output, state->scan_id);
    if (scans->parsed()) return run_scans(state->scans_output);
    return -1;
  };
}

}  // namespace catena::cli
