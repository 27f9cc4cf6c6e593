// `catena release inspect PATH` and `catena release diff OLD NEW`: releases opened to their last
// file, and two of them compared.
#include <sys/stat.h>

#include <future>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>

#include "catena/attest/provenance.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/graph/deployments.hpp"
#include "catena/release/diff.hpp"
#include "catena/release/inspect.hpp"
#include "catena/release/intelligence.hpp"
#include "catena/report/render.hpp"
#include "catena/sbom/sbom.hpp"
#include "catena/store/store.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

struct ReleaseOptions {
  OutputOptions output;
  release::InspectOptions inspect;
  std::vector<std::string> yara;
  bool no_cache = false;
};

void add_release_options(CLI::App& sub, ReleaseOptions& options, bool sarif) {
  add_output_options(sub, options.output, /*with_fail_on=*/true, sarif);
  sub.add_option("--yara", options.yara,
                 "YARA rules: a file or directory, source or compiled (repeatable)")
      ->allow_extra_args(false);
  sub.add_flag("--no-cache", options.no_cache,
               "Neither reuse nor keep what was found inside each release file (the store keeps "
               "it by the file's SHA-256)");
  sub.add_option("--jobs,-j", options.inspect.jobs,
                 "A directory release's files read at once (default: one per core; a diff "
                 "shares them between its two releases)");
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

// The store, for its indicators, blocked signers and imported SBOMs, and as the cache of what
// was found inside release files: opened for writing (and created, as a scan creates it) so
// that each release file's inside is kept by its SHA-256. With --no-cache, read-only, and a
// default store that does not exist is none. A store that cannot be written is read, and
// keeps nothing.
Result<std::unique_ptr<store::Store>> open_release_store(const ReleaseOptions& options) {
  const std::string db =
      options.output.db.empty() ? store::default_store_path() : options.output.db;
  if (!options.no_cache) {
    if (auto writable = store::Store::open(db, store::Store::Access::ReadWrite)) {
      return std::move(*writable);
    }
  }
  struct stat st {};
  if (options.output.db.empty() && ::stat(db.c_str(), &st) != 0) return nullptr;
  auto store = store::Store::open(db, store::Store::Access::ReadOnly);
  if (store) return std::move(*store);
  if (!options.output.db.empty()) return tl::unexpected(store.error());
  std::fprintf(stderr, "catena: warning: indicators, blocked signers and SBOMs not checked: %s\n",
               escape_for_terminal(store.error().describe()).c_str());
  return nullptr;
}

struct DiffExtras {
  bool rebuild = false;
  std::vector<std::string> provenance, keys, vendor_sboms;
  std::string html, sign, attestation = "release-diff.intoto.json";
};

// Each envelope checked as `provenance verify` would (every key must have signed it); the steps
// of those that hold, and the findings of those that do not.
Result<std::vector<release::BuildStep>> read_steps(const DiffExtras& extras,
                                                   std::vector<Finding>& findings) {
  CATENA_TRY(const std::vector<trust::VerifyingKey> keys, load_keys(extras.keys));
  std::vector<release::BuildStep> steps;
  for (const std::string& path : extras.provenance) {
    CATENA_TRY(const std::string text, read_small_file(path, kMaxEnvelopeBytes));
    CATENA_TRY(attest::ProvenanceCheck checked,
               attest::verify_provenance(text, keys, {}, nullptr, now_ns(), path));
    findings.insert(findings.end(), checked.findings.begin(), checked.findings.end());
    if (!checked.provenance) continue;
    release::BuildStep step{.step = checked.provenance->step, .source = path};
    for (const auto& subject : checked.provenance->subjects) step.products.insert(subject.second);
    for (const auto& material : checked.provenance->materials) {
      step.materials.insert(material.second);
    }
    steps.push_back(std::move(step));
  }
  return steps;
}

// What the vendor SBOMs named on the command line, and those imported into the store, claim
// about each SHA-256.
using ClaimIndex = std::unordered_map<std::string, std::vector<release::VendorClaim>>;
Result<ClaimIndex> read_vendor_sboms(const std::vector<std::string>& paths) {
  ClaimIndex index;
  for (const std::string& path : paths) {
    CATENA_TRY(const std::string text, read_small_file(path, sbom::kMaxDocumentBytes));
    auto bom = sbom::parse_sbom(text);
    if (!bom) return make_error(bom.error().code, path + ": " + bom.error().message);
    for (const sbom::Component& c : bom->components) {
      if (!c.sha256) continue;
      index[to_hex(*c.sha256)].push_back(
          {.sbom = path, .component = c.name.empty() ? c.path : c.name, .version = c.version});
    }
  }
  return index;
}

// The release's files as they lie on disk (not inside an archive), by path and SHA-256.
std::vector<std::pair<std::string, std::string>> disk_files(const release::Inspection& r) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const release::ReleaseFile& f : r.files) {
    if (f.depth == 0 && f.type == "file" && f.sha256) files.emplace_back(f.path, to_hex(*f.sha256));
  }
  return files;
}

// The diff as an in-toto Statement (predicate docs/release.md) in a DSSE envelope: the subjects
// are the new release's files on disk, and the predicate names the old one's.
Status write_signed_diff(const DiffExtras& extras,
                         const release::Inspection& before,
                         const release::Inspection& after,
                         const release::ReleaseDiff& compared) {
  CATENA_TRY(const trust::SigningKey key, trust::SigningKey::load(extras.sign));
  nlohmann::json predicate = nlohmann::json::parse(report::release_diff_json(compared));
  const auto listed = [](const std::vector<std::pair<std::string, std::string>>& files) {
    nlohmann::json array = nlohmann::json::array();
    for (const auto& [name, sha256] : files) {
      bool lossy = false;
      array.push_back({{"name", json_path_text(name, &lossy)}, {"digest", {{"sha256", sha256}}}});
    }
    return array;
  };
  predicate["old_release"] = listed(disk_files(before));
  predicate["new_release"] = listed(disk_files(after));
  predicate["catena_version"] = CATENA_VERSION;
  predicate["created"] = format_rfc3339(now_ns());
  CATENA_TRY(const std::string statement,
             attest::make_statement(
                 attest::kReleaseDiffType, disk_files(after),
                 predicate.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  CATENA_TRY(const std::string envelope, attest::sign_envelope(statement, key));
  return write_file_atomically(extras.attestation, 0644, [&](std::FILE* out) -> Status {
    if (std::fputs(envelope.c_str(), out) < 0) {
      return make_error(ErrorCode::Io, "cannot write " + extras.attestation);
    }
    return {};
  });
}

// A release recorded under a name and version, for the graph.
struct Manifest {
  bool keep = false;
  std::string name, version, released_at;
};

Status record_release(store::Store& store,
                      const release::Inspection& inspection,
                      const Manifest& manifest) {
  graph::ReleaseRecord record{.name = manifest.name,
                              .version = manifest.version,
                              .released_ns = now_ns(),
                              .source = inspection.root,
                              .files = {}};
  if (!manifest.released_at.empty()) {
    auto at = graph::parse_when(manifest.released_at);
    if (!at) {
      return make_error(ErrorCode::Usage, "--released-at " +
                                              escape_for_terminal(manifest.released_at) +
                                              ": expected YYYY-MM-DD or an RFC 3339 time");
    }
    record.released_ns = *at;
  }
  for (const release::ReleaseFile& f : inspection.files) {
    if (f.sha256) record.files.push_back({.path = f.path, .sha256 = *f.sha256});
  }
  return store.put_release(record);
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
  auto manifest = std::make_shared<Manifest>();
  CLI::Option* keep = inspect->add_flag(
      "--store", manifest->keep,
      "Record the release's files in the store as release NAME at VERSION (the graph links "
      "each content to the releases that shipped it)");
  inspect->add_option("--name", manifest->name, "The release's name (with --store)")->needs(keep);
  inspect->add_option("--version", manifest->version, "The release's version (with --store)")
      ->needs(keep);
  inspect
      ->add_option("--released-at", manifest->released_at,
                   "When it shipped (YYYY-MM-DD or RFC 3339; default now)")
      ->needs(keep);

  auto diff_options = std::make_shared<ReleaseOptions>();
  auto paths = std::make_shared<std::pair<std::string, std::string>>();
  auto extras = std::make_shared<DiffExtras>();
  CLI::App* diff = group->add_subcommand(
      "diff",
      "Compare two releases file by file and rank what a trojanized build leaves: the same "
      "version with other bytes, a signed digest unchanged over changed bytes, a new signer or "
      "none, new imports, network strings or packed sections");
  diff->add_option("old", paths->first, "The earlier release (a directory or a file)")->required();
  diff->add_option("new", paths->second, "The later release, or with --rebuild a rebuild of OLD")
      ->required();
  diff->add_flag("--rebuild", extras->rebuild,
                 "NEW is an independent rebuild of OLD's source: every difference beyond a "
                 "rebuild's known noise is a finding");
  diff->add_option("--provenance", extras->provenance,
                   "Build provenance of NEW (catena attest envelopes, repeatable): each change "
                   "is labelled with the step that produced it, and a changed executable no "
                   "step produced is a finding")
      ->allow_extra_args(false);
  diff->add_option("--key", extras->keys,
                   "Public key that must have signed every --provenance envelope (repeatable)")
      ->allow_extra_args(false);
  diff->add_option("--vendor-sbom", extras->vendor_sboms,
                   "A vendor's SBOM (CycloneDX or SPDX JSON) whose hashes vouch for vendored "
                   "files (repeatable; SBOMs imported into the store count too)")
      ->allow_extra_args(false);
  diff->add_option("--html", extras->html,
                   "Also write the diff as one self-contained HTML page to this file");
  CLI::Option* sign = diff->add_option(
      "--sign", extras->sign,
      "Private key: also write the diff as a DSSE-signed in-toto Statement, which `catena "
      "provenance verify` checks");
  diff->add_option("--attestation", extras->attestation,
                   "Where --sign writes the envelope (default release-diff.intoto.json)")
      ->needs(sign);
  add_release_options(*diff, *diff_options, /*sarif=*/true);

  return [inspect, inspect_options, path, manifest, diff, diff_options, paths, extras]() -> int {
    const bool inspecting = inspect->parsed();
    if (!inspecting && !diff->parsed()) return -1;
    ReleaseOptions& options = inspecting ? *inspect_options : *diff_options;
    auto format = report::parse_format(options.output.format);
    if (!format) return fail(format.error());
    auto fail_on = parse_severity(options.output.fail_on);
    if (!fail_on) return fail(fail_on.error());
    auto store = open_release_store(options);
    if (!store) return fail(store.error());
    release::Intelligence intelligence;
    if (auto loaded = intelligence.load(store->get(), options.yara); !loaded) {
      return fail(loaded.error());
    }
    intelligence.apply(options.inspect.analysis);
    if (!options.no_cache && *store) options.inspect.cache = store->get();
    FindingCounts counts;
    if (inspecting) {
      if (manifest->keep && (manifest->name.empty() || manifest->version.empty())) {
        return fail(Error{ErrorCode::Usage, "--store needs --name and --version", {}});
      }
      if (manifest->keep && (options.no_cache || !*store)) {
        return fail(
            Error{ErrorCode::Usage, "--store needs a store it can write (not --no-cache)", {}});
      }
      auto inspection = release::inspect(*path, options.inspect);
      if (!inspection) return fail(inspection.error());
      if (manifest->keep) {
        auto kept = record_release(**store, *inspection, *manifest);
        if (!kept) return fail(kept.error());
      }
      auto printed = report::write_inspection(stdout, *inspection, *format);
      std::fflush(stdout);
      if (!printed) return fail(printed.error());
      for (const Finding& f : inspection->findings) counts.add(f.severity);
      return exit_code_for(counts, *fail_on);
    }
    if (!extras->provenance.empty() && extras->keys.empty()) {
      return fail(Error{ErrorCode::Usage,
                        "--provenance needs --key: labels read from an envelope nobody is known "
                        "to have signed could hide a vendored change",
                        {}});
    }
    release::DiffOptions compare{.rebuild = extras->rebuild};
    std::vector<Finding> provenance_findings;
    if (!extras->provenance.empty()) {
      auto steps = read_steps(*extras, provenance_findings);
      if (!steps) return fail(steps.error());
      compare.steps = std::move(*steps);
    }
    auto claims = read_vendor_sboms(extras->vendor_sboms);
    if (!claims) return fail(claims.error());
    store::Store* opened = store->get();
    compare.vendor_claims = [&claims, opened](const std::string& sha256) {
      std::vector<release::VendorClaim> found;
      if (auto it = claims->find(sha256); it != claims->end()) found = it->second;
      auto digest = sha256_from_hex(sha256);
      if (opened == nullptr || !digest) return found;
      auto stored = opened->claims_for(*digest);
      if (!stored) {
        std::fprintf(stderr, "catena: warning: imported SBOMs not read: %s\n",
                     escape_for_terminal(stored.error().describe()).c_str());
        return found;
      }
      for (const sbom::Claim& claim : *stored) {
        found.push_back(
            {.sbom = claim.sbom_name, .component = claim.component, .version = claim.version});
      }
      return found;
    };
    // The two releases are inspected at once, one on each of two threads: they share nothing
    // but the read-only options and intelligence, and the cache, which locks.
    if (options.inspect.jobs == 0) {
      options.inspect.jobs = std::max(1u, std::thread::hardware_concurrency() / 2);
    }
    auto later = std::async(std::launch::async,
                            [&] { return release::inspect(paths->second, options.inspect); });
    auto before = release::inspect(paths->first, options.inspect);
    auto after = later.get();
    if (!before) return fail(before.error());
    if (!after) return fail(after.error());
    release::ReleaseDiff compared = release::diff(*before, *after, compare);
    if (!provenance_findings.empty()) {
      compared.findings.insert(compared.findings.end(), provenance_findings.begin(),
                               provenance_findings.end());
      sort_findings(compared.findings);
    }
    auto printed = report::write_release_diff(stdout, compared, *format);
    std::fflush(stdout);
    if (!printed) return fail(printed.error());
    if (!extras->html.empty()) {
      auto written = write_file_atomically(extras->html, 0644, [&](std::FILE* out) {
        return report::write_release_diff_html(out, compared, *fail_on);
      });
      if (!written) return fail(written.error());
    }
    if (!extras->sign.empty()) {
      auto signed_diff = write_signed_diff(*extras, *before, *after, compared);
      if (!signed_diff) return fail(signed_diff.error());
    }
    for (const Finding& f : compared.findings) counts.add(f.severity);
    return exit_code_for(counts, *fail_on);
  };
}

}  // namespace catena::cli
