#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "catena/core/content.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/intel/signers.hpp"
#include "catena/store/store.hpp"
#include "catena/trust/sig.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

using nlohmann::json;

// Files up to this size are verified from a private copy, larger ones (installers) from a
// mapping whose faults become zero pages: either way the parsers see bytes that cannot fault.
constexpr uint64_t kSigCopyBytes = 64ull << 20;

json signature_json(const trust::Signature& s) {
  json out = {{"kind", s.kind}, {"depth", s.depth}};
  if (!s.arch.empty()) out["arch"] = s.arch;
  if (!s.error.empty()) {
    out["error"] = s.error;
    return out;
  }
  out["subject"] = s.subject;
  out["issuer"] = s.issuer;
  out["serial"] = s.serial;
  out["thumbprint_sha256"] = s.thumbprint_sha256;
  out["digest_algorithm"] = s.digest_algorithm;
  out["signed_digest"] = s.signed_digest;
  out["file_digest"] = s.file_digest;
  out["digest_ok"] = s.digest_ok;
  out["signature_ok"] = s.signature_ok;
  if (!s.verifiable) out["verifiable"] = false;
  out["chain"] = s.chain;
  if (!s.chain_detail.empty()) out["chain_detail"] = s.chain_detail;
  if (s.timestamp_ns) {
    out["timestamp"] = format_rfc3339(*s.timestamp_ns);
    out["timestamp_signer"] = s.timestamp_signer;
    out["timestamp_verified"] = s.timestamp_verified;
  }
  json certificates = json::array();
  for (const trust::CertificateId& c : s.certificates) {
    certificates.push_back({{"role", c.role},
                            {"subject", c.subject},
                            {"issuer", c.issuer},
                            {"serial", c.serial},
                            {"thumbprint_sha256", c.thumbprint_sha256}});
  }
  out["certificates"] = std::move(certificates);
  if (s.kind == "macho" || s.kind == "dmg") {
    out["identifier"] = s.identifier;
    out["team_id"] = s.team_id;
    out["cdhash"] = s.cdhash;
    out["adhoc"] = s.adhoc;
    out["pages_checked"] = s.pages_checked;
    out["mismatches"] = s.mismatches;
    out.erase("signed_digest");
    out.erase("file_digest");
  }
  return out;
}

}  // namespace

Runner register_sig(CLI::App& app) {
  struct Options {
    std::vector<std::string> files;
    std::vector<std::string> trust;
    std::string format = "table";
    std::string fail_on = "high";
    std::string db;
  };
  auto options = std::make_shared<Options>();
  CLI::App* sub = app.add_subcommand("sig",
                                     "Verify the code signatures of files (PE and MSI "
                                     "Authenticode, Mach-O) and report the anomalies a "
                                     "trojanized-but-signed file leaves");
  sub->add_option("files", options->files, "Files to check")->required();
  sub->add_option("--trust", options->trust,
                  "Also trust the CA certificates in this PEM file (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("--db", options->db,
                  "Store whose blocked signers to check against (default: the user's store, "
                  "when it exists)");
  sub->add_option("--format", options->format, "Output format: table, json or jsonl")
      ->check(CLI::IsMember({"table", "json", "jsonl"}));
  sub->add_option("--fail-on", options->fail_on,
                  "Exit 1 when a finding is at or above this severity (default high)")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  return [sub, options]() -> int {
    if (!sub->parsed()) return -1;
    auto fail_on = parse_severity(options->fail_on);
    if (!fail_on) return fail(fail_on.error());
    auto store = trust::TrustStore::load(options->trust);
    if (!store) return fail(store.error());
    // Blocked signers from the store, read-only; a store that does not exist has none.
    intel::SignerBlocklist blocked;
    {
      const std::string db = options->db.empty() ? store::default_store_path() : options->db;
      struct stat st {};
      if (!options->db.empty() || ::stat(db.c_str(), &st) == 0) {
        auto opened = store::Store::open(db, store::Store::Access::ReadOnly);
        auto loaded = opened ? blocked.load(**opened) : Status(tl::unexpected(opened.error()));
        if (!loaded && !options->db.empty()) return fail(loaded.error());
        // The user's store, not asked for by name: say it was not read, and go on.
        if (!loaded) {
          std::fprintf(stderr, "catena: warning: blocked signers not checked: %s\n",
                       escape_for_terminal(loaded.error().describe()).c_str());
        }
      }
    }
    json all = json::array();
    FindingCounts every;
    int status = kExitOk;
    // Files are checked in parallel (the trust store is shared read-only) and reported in order.
    std::vector<std::optional<trust::SigReport>> reports(options->files.size());
    std::vector<std::string> errors(options->files.size());
    std::atomic<size_t> next{0};
    trust::DirectoryListings listings;
    const auto work = [&] {
      while (true) {
        const size_t index = next.fetch_add(1);
        if (index >= options->files.size()) break;
        trust::SigReport report;
        auto read = with_whole_content(
            options->files[index], kSigCopyBytes, [&](std::span<const std::byte> bytes) {
              report = trust::check_signatures(options->files[index], bytes, *store);
            });
        if (!read) {
          errors[index] = read.error().describe();
          continue;
        }
        blocked.judge(report);
        sort_findings(report.findings);
        if (report.is_signed) {
          for (Finding& f : trust::sideload_findings(report, *store, listings))
            report.findings.push_back(std::move(f));
          sort_findings(report.findings);
        }
        reports[index] = std::move(report);
      }
    };
    std::vector<std::thread> workers;
    for (unsigned job = 1; job < std::max(1u, std::thread::hardware_concurrency()); ++job) {
      workers.emplace_back(work);
    }
    work();
    for (std::thread& worker : workers) worker.join();
    for (size_t index = 0; index < options->files.size(); ++index) {
      const std::string& path = options->files[index];
      if (!reports[index]) {
        std::fprintf(stderr, "catena: %s\n", escape_for_terminal(errors[index]).c_str());
        status = kExitError;
        continue;
      }
      const trust::SigReport& report = *reports[index];
      bool needs_b64 = false;
      json item = {{"path", json_path_text(path, &needs_b64)},
                   {"format", report.format},
                   {"signed", report.is_signed},
                   {"verdict", report.verdict}};
      json signatures = json::array();
      for (const trust::Signature& s : report.signatures) signatures.push_back(signature_json(s));
      item["signatures"] = std::move(signatures);
      // An MSI's SummaryInformation, a PE's VERSIONINFO strings.
      if (!report.properties.empty()) {
        item[report.format == "msi" ? "summary" : "version_info"] = report.properties;
      }
      if (!report.file_version.empty()) item["file_version"] = report.file_version;
      json findings = json::array();
      for (const Finding& f : report.findings)
        findings.push_back(json::parse(report::finding_json(f)));
      item["findings"] = std::move(findings);
      if (options->format == "jsonl") {
        std::printf("%s\n", item.dump().c_str());
      } else if (options->format == "table") {
        std::printf("%-10s %-6s %s\n", report.verdict.c_str(), report.format.c_str(),
                    escape_for_terminal(path).c_str());
        for (const trust::Signature& s : report.signatures) {
          std::printf(
              "           signature: %s, digest %s %s, chain %s%s\n",
              escape_for_terminal(!s.error.empty() ? s.error
                                  : s.adhoc ? "ad hoc, " + (s.arch.empty() ? "" : s.arch + " ") +
                                                  s.identifier
                                  : !s.arch.empty() ? s.arch + " " + s.subject
                                                    : s.subject)
                  .c_str(),
              s.digest_algorithm.c_str(), s.digest_ok ? "ok" : "MISMATCH", s.chain.c_str(),
              s.timestamp_ns ? (", timestamped " + format_rfc3339(*s.timestamp_ns)).c_str() : "");
        }
        for (const Finding& f : report.findings) {
          std::printf("           %s %s\n", std::string(severity_name(f.severity)).c_str(),
                      f.rule.c_str());
        }
      }
      all.push_back(std::move(item));
      for (const Finding& f : report.findings) every.add(f.severity);
    }
    if (options->format == "json") std::printf("%s\n", all.dump(2).c_str());
    std::fflush(stdout);
    if (status != kExitOk) return status;
    return exit_code_for(every, *fail_on);
  };
}

}  // namespace catena::cli
