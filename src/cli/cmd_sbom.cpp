// `catena sbom export|import|list|check`: software bills of materials written, kept and checked.
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/release/inspect.hpp"
#include "catena/report/render.hpp"
#include "catena/sbom/sbom.hpp"
#include "catena/store/store.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

struct SbomOptions {
  OutputOptions output;
  int64_t scan_id = 0;
  std::string release;
  std::string format = "cyclonedx";
  std::string out;
  std::string file;
};

// What is there: a stored scan or a release inspected now.
Result<sbom::Bom> actual_bom(const SbomOptions& options) {
  if (!options.release.empty()) {
    CATENA_TRY(release::Inspection inspection, release::inspect(options.release, {}));
    return sbom::from_inspection(inspection);
  }
  CATENA_TRY(auto store, open_store(options.output, store::Store::Access::ReadOnly));
  return sbom::bom_of_scan(*store, options.scan_id, {});
}

void add_subject_options(CLI::App& sub, SbomOptions& options) {
  auto* scan = sub.add_option("--scan", options.scan_id, "A stored scan (its id)");
  auto* release = sub.add_option("--release", options.release,
                                 "A release, inspected now (a directory or a file)");
  scan->excludes(release);
  release->excludes(scan);
}

}  // namespace

Runner register_sbom(CLI::App& app) {
  auto options = std::make_shared<SbomOptions>();
  CLI::App* group = app.add_subcommand("sbom", "Software bills of materials");
  group->require_subcommand(1);

  CLI::App* export_cmd = group->add_subcommand(
      "export",
      "Write the SBOM of a stored scan or of a release: CycloneDX 1.6 or SPDX 2.3 JSON, files "
      "with their digests, Debian packages with purls, PE files named by their VERSIONINFO, and "
      "what contains what");
  add_subject_options(*export_cmd, *options);
  export_cmd->add_option("--format", options->format, "cyclonedx (default) or spdx")
      ->check(CLI::IsMember({"cyclonedx", "spdx"}));
  export_cmd->add_option("--out", options->out, "Write to this file instead of stdout");
  export_cmd->add_option("--db", options->output.db, "The store (for --scan)");

  CLI::App* import = group->add_subcommand(
      "import",
      "Keep a vendor's SBOM (CycloneDX 1.4-1.6 or SPDX 2.2/2.3 JSON) in the store as claims");
  import->add_option("file", options->file, "The SBOM")->required();
  import->add_option("--db", options->output.db, "The store");

  CLI::App* list = group->add_subcommand("list", "List the SBOMs kept in the store");
  list->add_option("--db", options->output.db, "The store");

  CLI::App* check = group->add_subcommand(
      "check",
      "Check an SBOM's claims against a stored scan or a release: hashes that differ, declared "
      "components that are missing, executables it does not declare");
  check->add_option("file", options->file, "The SBOM")->required();
  add_subject_options(*check, *options);
  add_output_options(*check, options->output, /*with_fail_on=*/true);

  return [=]() -> int {
    if (export_cmd->parsed() || check->parsed()) {
      CLI::App* sub = export_cmd->parsed() ? export_cmd : check;
      if (sub->count("--scan") == 0 && sub->count("--release") == 0) {
        return fail(Error{ErrorCode::Usage, "give --scan ID or --release PATH"});
      }
    }
    if (export_cmd->parsed()) {
      auto bom = actual_bom(*options);
      if (!bom) return fail(bom.error());
      const std::string text =
          options->format == "spdx" ? sbom::write_spdx(*bom) : sbom::write_cyclonedx(*bom);
      if (options->out.empty()) {
        std::fputs(text.c_str(), stdout);
        return kExitOk;
      }
      if (auto written = write_file_atomically(options->out, text, 0644); !written) {
        return fail(written.error());
      }
      return kExitOk;
    }
    if (import->parsed() || check->parsed()) {
      auto text = read_small_file(options->file, sbom::kMaxDocumentBytes);
      if (!text) return fail(text.error());
      auto declared = sbom::parse_sbom(*text);
      if (!declared) {
        return fail(Error{declared.error().code, options->file + ": " + declared.error().message});
      }
      if (import->parsed()) {
        auto store = open_store(options->output, store::Store::Access::ReadWrite);
        if (!store) return fail(store.error());
        auto id = (*store)->put_sbom(*declared, absolute_path(options->file));
        if (!id) return fail(id.error());
        std::printf("%s: stored as SBOM %lld (%s, %zu components)\n",
                    escape_for_terminal(options->file).c_str(), static_cast<long long>(*id),
                    declared->format.c_str(), declared->components.size());
        return kExitOk;
      }
      auto format = report::parse_format(options->output.format);
      if (!format) return fail(format.error());
      auto fail_on = parse_severity(options->output.fail_on);
      if (!fail_on) return fail(fail_on.error());
      const int64_t started = now_ns();
      auto actual = actual_bom(*options);
      if (!actual) return fail(actual.error());
      report::ScanReport report{.command = "sbom check",
                                .host = host_name(),
                                .started_ns = started,
                                .finished_ns = now_ns(),
                                .status = scan::ScanStatus::Complete,
                                .roots = {options->file, actual->name},
                                .findings = sbom::check_sbom(*declared, *actual),
                                .fail_on = *fail_on,
                                .show_totals = false};
      report.summary = {{"declared", std::to_string(declared->components.size())},
                        {"present", std::to_string(actual->components.size())}};
      return print_report(report, *format, *fail_on);
    }
    if (list->parsed()) {
      auto store = open_store(options->output, store::Store::Access::ReadOnly);
      if (!store) return fail(store.error());
      auto sboms = (*store)->list_sboms();
      if (!sboms) return fail(sboms.error());
      for (const sbom::SbomRecord& r : *sboms) {
        std::printf("%lld  %s  %s  %llu components  %s\n", static_cast<long long>(r.id),
                    format_rfc3339(r.imported_ns).c_str(), r.format.c_str(),
                    static_cast<unsigned long long>(r.components),
                    escape_for_terminal(r.name).c_str());
      }
      return kExitOk;
    }
    return -1;
  };
}

}  // namespace catena::cli
