// `catena release inspect PATH`: a release opened to its last file.
#include "catena/release/inspect.hpp"
#include "catena/report/render.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {

Runner register_release(CLI::App& app) {
  auto output = std::make_shared<OutputOptions>();
  auto path = std::make_shared<std::string>();
  auto options = std::make_shared<release::InspectOptions>();
  CLI::App* group = app.add_subcommand("release", "Open releases and look inside them");
  group->require_subcommand(1);
  CLI::App* sub = group->add_subcommand(
      "inspect",
      "List every file of a release (a directory or a file), opening every archive in it: zip "
      "family, tar under any compression, .deb, rpm, cpio, 7z, cab, Electron asar");
  sub->add_option("path", *path, "The release: a directory or a file")->required();
  add_output_options(*sub, *output, /*with_fail_on=*/true, /*sarif=*/false);
  sub->add_option("--max-depth", options->max_depth,
                  "Archives inside archives opened, the outermost counting as 1 (default 8)")
      ->check(CLI::Range(1u, 64u));
  sub->add_option("--max-members", options->limits.max_members,
                  "Members read from one archive (default 100000)");
  sub->add_option("--max-expanded", options->limits.max_total_bytes,
                  "Bytes read out of all archives together (default 4 GiB)");
  sub->add_option("--max-member-size", options->limits.max_member_bytes,
                  "Bytes of one file held to examine it (default 1 GiB)");
  sub->add_option("--max-ratio", options->limits.max_ratio,
                  "Expanded bytes per archive byte, past 16 MiB expanded (default 200)");
  return [sub, output, path, options]() -> int {
    if (!sub->parsed()) return -1;
    auto format = report::parse_format(output->format);
    if (!format) return fail(format.error());
    auto fail_on = parse_severity(output->fail_on);
    if (!fail_on) return fail(fail_on.error());
    auto inspection = release::inspect(*path, *options);
    if (!inspection) return fail(inspection.error());
    auto printed = report::write_inspection(stdout, *inspection, *format);
    std::fflush(stdout);
    if (!printed) return fail(printed.error());
    FindingCounts counts;
    for (const Finding& f : inspection->findings) counts.add(f.severity);
    return exit_code_for(counts, *fail_on);
  };
}

}  // namespace catena::cli
