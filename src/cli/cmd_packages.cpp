#include "catena/audit/packages.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/time.hpp"
#include "catena/pkg/anchor.hpp"
#include "catena/pkg/verify.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {

Runner register_packages(CLI::App& app) {
  CLI::App* packages = app.add_subcommand("packages", "Check installed packages");
  packages->require_subcommand(1);
  struct Options {
    OutputOptions output;
    pkg::VerifyOptions verify;
    std::string root = "/";
    std::string admin_dir;
    bool no_unowned = false;
    bool no_repository = false;
    std::string anchor = "local";
    bool toolchain = false;
    std::vector<std::string> keyrings;
    std::string download_dir;
    bool no_download = false;
    std::string snapshot;
    unsigned max_release_age = 0;
    std::string db;
    bool full = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* verify = packages->add_subcommand(
      "verify",
      "Check every packaged file against the dpkg database (as dpkg --verify does, and where "
      "dpkg is wrong, right), and look for unowned executables and packages no repository "
      "offers");
  verify->add_option("--root", options->root, "The file system to check (default /)");
  verify->add_option("--admindir", options->admin_dir,
                     "The dpkg database directory (default <root>/var/lib/dpkg)");
  verify->add_option("--package", options->verify.packages,
                     "Check only this package (repeatable; name or name:arch)");
  verify->add_flag("--strict", options->verify.strict,
                   "Also report unowned executables under /usr/local and /opt");
  verify->add_flag("--no-unowned", options->no_unowned, "Skip the search for unowned executables");
  verify->add_option("--db", options->db,
                     "Remember what was read in this store and, next time, read only files whose "
                     "size, times or inode changed. With --anchor archive the store (the "
                     "default one without --db) keeps the newest signed Release believed, so "
                     "that an older one is refused as a replay");
  verify->add_flag("--full", options->full,
                   "With --db: read every file all the same (what was read is still remembered)");
  verify->add_flag("--no-repository", options->no_repository,
                   "Skip the check of installed versions against apt's package lists");
  verify
      ->add_option("--anchor", options->anchor,
                   "What files are checked against: local (the dpkg md5sums database, as dpkg "
                   "--verify) or archive (the SHA-256 of each file inside the .deb whose hash "
                   "the archive signed)")
      ->check(CLI::IsMember({"local", "archive"}));
  verify->add_flag("--toolchain", options->toolchain,
                   "With --anchor archive: the build toolchain's packages (compilers, binutils, "
                   "make, cmake, git, dpkg-dev, C library headers, interpreters)");
  verify->add_option("--keyring", options->keyrings,
                     "With --anchor archive: trust this OpenPGP keyring instead of this "
                     "machine's Debian archive keyring (repeatable); the inspected root's own "
                     "keyrings are never trusted");
  verify->add_option("--download-dir", options->download_dir,
                     "With --anchor archive: where .debs are also looked for (with --root or "
                     "--no-download: .debs you bring, for anchoring an image offline) and, for "
                     "this machine, downloaded with apt-get (default ~/.cache/catena/debs)");
  verify->add_flag("--no-download", options->no_download,
                   "With --anchor archive: never download a .deb");
  verify->add_option("--archive-snapshot", options->snapshot,
                     "With --anchor archive: judge the archive's Release files at this time "
                     "(YYYY-MM-DD or RFC 3339), when the image was taken, instead of now");
  verify->add_option("--max-release-age", options->max_release_age,
                     "With --anchor archive: report a Release signed more than this many days "
                     "before (default 0: no limit)");
  verify->add_option("--jobs,-j", options->verify.jobs,
                     "Files hashed in parallel (default: cores)");
  verify
      ->add_option("--format", options->output.format, "Output format: table, json, jsonl or sarif")
      ->check(CLI::IsMember({"table", "json", "jsonl", "sarif"}));
  verify
      ->add_option("--fail-on", options->output.fail_on,
                   "Exit 1 when a finding is at or above this severity (default high)")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  verify->add_flag("-q,--quiet", options->output.quiet,
                   "Accepted for symmetry; prints nothing more");
  return [verify, options]() -> int {
    if (!verify->parsed()) return -1;
    auto format = report::parse_format(options->output.format);
    if (!format) return fail(format.error());
    auto fail_on = parse_severity(options->output.fail_on);
    if (!fail_on) return fail(fail_on.error());
    options->verify.location = {.root = absolute_path(options->root),
                                .admin_dir = options->admin_dir.empty()
                                                 ? std::string()
                                                 : absolute_path(options->admin_dir)};
    options->verify.unowned = !options->no_unowned;
    options->verify.repository = !options->no_repository;
    options->verify.cancel = &install_cancel_handlers();
    const int64_t started = now_ns();
    Result<pkg::VerifyReport> result = make_error(ErrorCode::Usage, "no verification ran");
    if (options->anchor == "archive") {
      pkg::AnchorOptions anchor{.location = options->verify.location,
                                .packages = options->verify.packages,
                                .toolchain = options->toolchain,
                                .keyrings = options->keyrings,
                                .max_release_age_days = options->max_release_age,
                                .jobs = options->verify.jobs,
                                .cancel = options->verify.cancel};
      if (!options->snapshot.empty()) {
        auto at = parse_rfc3339(options->snapshot.size() == 10 ? options->snapshot + "T00:00:00Z"
                                                               : options->snapshot);
        if (!at) {
          return fail(Error{ErrorCode::Usage,
                            "--archive-snapshot: not YYYY-MM-DD or RFC 3339: " + options->snapshot,
                            {}});
        }
        anchor.at_ns = *at;
      }
      if (!options->download_dir.empty()) {
        // .debs brought along are looked for whether or not anything may be downloaded.
        const std::string root = options->verify.location.root;
        anchor.deb_dirs = {(root == "/" ? "" : root) + "/var/cache/apt/archives",
                           absolute_path(options->download_dir)};
      }
      if (!options->no_download && options->verify.location.root == "/") {
        anchor.download_dir = options->download_dir.empty() ? default_cache_dir() + "/debs"
                                                            : absolute_path(options->download_dir);
        if (auto made = make_directories(anchor.download_dir, 0700); !made) {
          return fail(made.error());
        }
      }
      // The newest Release believed for this system is kept in the store (the default one
      // unless --db names another), and an older one refused.
      auto store = store::Store::open(
          options->db.empty() ? store::default_store_path() : absolute_path(options->db),
          store::Store::Access::ReadWrite);
      if (!store) return fail(store.error());
      anchor.store = store->get();
      anchor.system = host_name() + (options->verify.location.root == "/"
                                         ? std::string()
                                         : ":" + options->verify.location.root);
      result = pkg::verify_against_archive(anchor);
      // The anchor replaces how files are checked, not the other checks: unowned executables
      // too (repository membership is the anchor's own: no signed index offering a version
      // is PKG_NOT_ANCHORED).
      if (result && options->verify.packages.empty() && !options->toolchain &&
          !options->no_unowned) {
        auto unowned = pkg::find_unowned_executables(
            options->verify.location,
            pkg::system_tool_dirs(options->verify.location.root, options->verify.strict),
            options->verify.cancel);
        if (!unowned) return fail(unowned.error());
        for (Finding& f : *unowned) result->findings.push_back(std::move(f));
        sort_findings(result->findings);
      }
    } else if (options->toolchain || !options->keyrings.empty()) {
      return fail(Error{ErrorCode::Usage, "--toolchain and --keyring need --anchor archive", {}});
    } else if (!options->db.empty()) {
      auto store = store::Store::open(absolute_path(options->db), store::Store::Access::ReadWrite);
      if (!store) return fail(store.error());
      result = audit::verify_packages_with_store(**store, host_name(), nullptr, options->verify,
                                                 options->full);
    } else if (options->full) {
      return fail(Error{ErrorCode::Usage, "--full needs --db", {}});
    } else {
      result = pkg::verify_packages(options->verify);
    }
    if (!result) return fail(result.error());
    report::ScanReport report{.command = "packages verify",
                              .host = host_name(),
                              .started_ns = started,
                              .finished_ns = now_ns(),
                              .status = scan::ScanStatus::Complete,
                              .totals = {.files = result->files, .bytes = result->bytes},
                              .roots = {options->verify.location.root},
                              .findings = std::move(result->findings),
                              .fail_on = *fail_on,
                              .summary = {{"packages", std::to_string(result->packages)}}};
    if (!options->db.empty() && options->anchor == "local") {
      report.summary.emplace_back("reused", std::to_string(result->files_reused) +
                                                " files unchanged since they were read, not read");
    }
    return print_report(report, *format, *fail_on);
  };
}

}  // namespace catena::cli
