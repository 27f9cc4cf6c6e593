// `catena release inspect PATH` and `catena release diff OLD NEW`: releases opened to their last
// file, and two of them compared.
#include <sys/stat.h>

#include "catena/core/text.hpp"
#include "catena/release/diff.hpp"
#include "catena/release/inspect.hpp"
#include "catena/release/intelligence.hpp"
#include "catena/report/render.hpp"
#include "catena/store/store.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

struct ReleaseOptions {
  OutputOptions output;
  release::InspectOptions inspect;
  std::vector<std::string> yara;
};

void add_release_options(CLI::App& sub, ReleaseOptions& options, bool sarif) {
  add_output_options(sub, options.output, /*with_fail_on=*/true, sarif);
  sub.add_option("--yara", options.yara,
                 "YARA rules: a file or directory, source or compiled (repeatable)")
      ->allow_extra_args(false);
  sub.add_option("--max-depth", options.inspect.max_depth,
                 "Archives inside archives opened, the outermost counting as 1 (default 8)")
      ->check(CLI::Range(1u, 64u));
  sub.add_option("--max-members", options.inspect.limits.max_members,
                 "Members read from one archive (default 100000)");
  sub.add_option("--max-expanded", options.inspect.limits.max_total_bytes,
                 "Bytes read out of all archives together (default 4 GiB)");
  sub.add_option("--max-member-size", options.inspect.limits.max_member_bytes,
                 "Bytes of one file held to examine it (default 1 GiB)");
  sub.add_option("--max-ratio", options.inspect.limits.max_ratio,
                 "Expanded bytes per archive byte, past 16 MiB expanded (default 200)");
}

// The store's indicators and blocked signers (read-only; a default store that does not exist
// has none) and the YARA rules named.
Status load_intelligence(const ReleaseOptions& options, release::Intelligence& intelligence) {
  const std::string db =
      options.output.db.empty() ? store::default_store_path() : options.output.db;
  std::unique_ptr<store::Store> opened;
  struct stat st {};
  if (!options.output.db.empty() || ::stat(db.c_str(), &st) == 0) {
    auto store = store::Store::open(db, store::Store::Access::ReadOnly);
    if (store) {
      opened = std::move(*store);
    } else if (!options.output.db.empty()) {
      return tl::unexpected(store.error());
    } else {
      std::fprintf(stderr, "catena: warning: indicators and blocked signers not checked: %s\n",
                   escape_for_terminal(store.error().describe()).c_str());
    }
  }
  return intelligence.load(opened.get(), options.yara);
}

}  // namespace

Runner register_release(CLI::App& app) {
  CLI::App* group = app.add_subcommand("release", "Open releases, look inside and compare them");
  group->require_subcommand(1);

  auto inspect_options = std::make_shared<ReleaseOptions>();
  auto path = std::make_shared<std::string>();
  CLI::App* inspect = group->add_subcommand(
      "inspect",
      "List every file of a release (a directory or a file), opening every archive in it (zip "
      "family, tar under any compression, .deb, rpm, cpio, 7z, cab, MSI, Electron asar), with "
      "each executable's signature, version, imports, sections and network strings");
  inspect->add_option("path", *path, "The release: a directory or a file")->required();
  add_release_options(*inspect, *inspect_options, /*sarif=*/false);

  auto diff_options = std::make_shared<ReleaseOptions>();
  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  auto rebuild = std::make_shared<bool>(false);
  CLI::App* diff = group->add_subcommand(
      "diff",
      "Compare two releases file by file and rank what a trojanized build leaves: the same "
      "version with other bytes, a signed digest unchanged over changed bytes, a new signer or "
      "none, new imports, network strings or packed sections");
  diff->add_option("old", paths->first, "The earlier release (a directory or a file)")->required();
  diff->add_option("new", paths->second, "The later release, or with --rebuild a rebuild of OLD")
      ->required();
  diff->add_flag("--rebuild", *rebuild,
                 "NEW is an independent rebuild of OLD's source: every difference beyond a "
                 "rebuild's known noise is a finding");
  add_release_options(*diff, *diff_options, /*sarif=*/true);

  return [inspect, inspect_options, path, diff, diff_options, paths, rebuild]() -> int {
    const bool inspecting = inspect->parsed();
    if (!inspecting && !diff->parsed()) return -1;
    ReleaseOptions& options = inspecting ? *inspect_options : *diff_options;
    auto format = report::parse_format(options.output.format);
    if (!format) return fail(format.error());
    auto fail_on = parse_severity(options.output.fail_on);
    if (!fail_on) return fail(fail_on.error());
    release::Intelligence intelligence;
    if (auto loaded = load_intelligence(options, intelligence); !loaded) {
      return fail(loaded.error());
    }
    intelligence.apply(options.inspect.analysis);
    FindingCounts counts;
    if (inspecting) {
      auto inspection = release::inspect(*path, options.inspect);
      if (!inspection) return fail(inspection.error());
      auto printed = report::write_inspection(stdout, *inspection, *format);
      std::fflush(stdout);
      if (!printed) return fail(printed.error());
      for (const Finding& f : inspection->findings) counts.add(f.severity);
      return exit_code_for(counts, *fail_on);
    }
    auto before = release::inspect(paths->first, options.inspect);
    if (!before) return fail(before.error());
    auto after = release::inspect(paths->second, options.inspect);
    if (!after) return fail(after.error());
    const release::ReleaseDiff compared = release::diff(*before, *after, {.rebuild = *rebuild});
    auto printed = report::write_release_diff(stdout, compared, *format);
    std::fflush(stdout);
    if (!printed) return fail(printed.error());
    for (const Finding& f : compared.findings) counts.add(f.severity);
    return exit_code_for(counts, *fail_on);
  };
}

}  // namespace catena::cli
