#include <cstdio>
#include <nlohmann/json.hpp>

#include "catena/attest/artifacts.hpp"
#include "catena/attest/provenance.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/mapped.hpp"
#include "catena/core/time.hpp"
#include "catena/trust/keys.hpp"
#include "commands.hpp"
#include "common.hpp"
#include "provenance_store.hpp"

namespace catena::cli {

Runner register_provenance(CLI::App& app) {
  CLI::App* group = app.add_subcommand("provenance", "Verify, store and look up build provenance");
  group->require_subcommand(1);
  struct Options {
    std::vector<std::string> keys;
    std::string envelope;
    std::vector<std::string> envelopes;
    std::vector<std::string> artifacts;
    std::string policy;
    std::string sha256;
    std::string file;
    std::string host;
    bool store = false;
    OutputOptions output;
  };
  auto options = std::make_shared<Options>();
  CLI::App* verify = group->add_subcommand(
      "verify",
      "Verify a DSSE envelope's signatures, that artifacts are its subjects, and a policy.\n"
      "Exit codes: 0 verified, 1 a finding at or above --fail-on, 2 usage or I/O error.");
  verify->add_option("--key", options->keys, "Public key that must have signed (repeatable)")
      ->required()
      ->allow_extra_args(false);
  verify->add_option("envelope", options->envelope, "The DSSE envelope")->required();
  verify
      ->add_option("--artifact", options->artifacts,
                   "File that must be a subject of the provenance (repeatable)")
      ->allow_extra_args(false);
  verify->add_option("--policy", options->policy, "Policy file (TOML, see docs/provenance.md)");
  verify->add_flag("--store", options->store, "Keep the verified attestation in the store");
  add_output_options(*verify, options->output, true);

  CLI::App* import = group->add_subcommand(
      "import", "Verify attestations made elsewhere and keep them in the store");
  import->add_option("--key", options->keys, "Public key that must have signed (repeatable)")
      ->required()
      ->allow_extra_args(false);
  import->add_option("envelopes", options->envelopes, "DSSE envelopes")->required();
  import->add_option("--db", options->output.db, "Store path");

  CLI::App* find = group->add_subcommand(
      "find", "Builds that produced, consumed or ran a file (by SHA-256 or by its content)");
  auto* by_hash = find->add_option("--sha256", options->sha256, "SHA-256 (hex)");
  find->add_option("--file", options->file, "A file whose SHA-256 to look for")->excludes(by_hash);
  find->add_option("--db", options->output.db, "Store path");
  find->add_option("--format", options->output.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  CLI::App* list = group->add_subcommand("list", "Stored attestations, newest first");
  list->add_option("--host", options->host, "Only builds on this host");
  list->add_option("--db", options->output.db, "Store path");
  list->add_option("--format", options->output.format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));

  return [=]() -> int {
    if (!group->parsed()) return -1;
    if (verify->parsed()) {
      auto format = report::parse_format(options->output.format);
      if (!format) return fail(format.error());
      auto fail_on = parse_severity(options->output.fail_on);
      if (!fail_on) return fail(fail_on.error());
      auto keys = load_keys(options->keys);
      if (!keys) return fail(keys.error());
      std::optional<attest::Policy> policy;
      if (!options->policy.empty()) {
        auto text = read_small_file(options->policy, 16 << 20);
        if (!text) return fail(text.error());
        auto parsed = attest::parse_policy(*text);
        if (!parsed) return fail(parsed.error());
        policy = std::move(*parsed);
      }
      auto text = read_small_file(options->envelope, kMaxEnvelopeBytes);
      if (!text) return fail(text.error());
      const int64_t started = now_ns();
      const std::string& source = options->envelope;
      auto verified = attest::verify_provenance(*text, *keys, options->artifacts,
                                                policy ? &*policy : nullptr, now_ns(), source);
      if (!verified) return fail(verified.error());
      attest::ProvenanceCheck& checked = *verified;
      const std::optional<attest::Provenance>& provenance = checked.provenance;
      if (provenance && options->store) {
        auto store = open_store(options->output, store::Store::Access::ReadWrite);
        if (!store) return fail(store.error());
        auto stored =
            store_attestation(**store, *text, checked.envelope->payload, absolute_path(source));
        if (!stored) return fail(stored.error());
      }
      std::vector<Finding> findings = std::move(checked.findings);
      report::ScanReport report{.command = "provenance verify",
                                .host = host_name(),
                                .started_ns = started,
                                .finished_ns = now_ns(),
                                .status = scan::ScanStatus::Complete,
                                .roots = {source},
                                .findings = std::move(findings),
                                .fail_on = *fail_on,
                                .show_totals = false};
      if (checked.head && !provenance) {
        // A release diff: what it compared and what it found, as it was signed.
        const auto predicate = nlohmann::json::parse(checked.envelope->payload, nullptr, false);
        const auto field = [&](const char* key) -> std::string {
          const auto& p = predicate.is_object() ? predicate.value("predicate", nlohmann::json())
                                                : nlohmann::json();
          if (!p.is_object() || !p.contains(key)) return "(not recorded)";
          const auto& value = p[key];
          if (value.is_array()) return std::to_string(value.size());
          return value.is_string() ? value.get<std::string>() : value.dump();
        };
        report.summary = {{"predicate", checked.head->predicate_type},
                          {"old", field("old")},
                          {"new", field("new")},
                          {"changes", field("changes")},
                          {"findings", field("findings")},
                          {"subjects", std::to_string(checked.head->subjects.size())}};
      }
      if (provenance) {
        report.summary = {{"builder", provenance->builder_id},
                          {"host", provenance->host.empty() ? "(not recorded)" : provenance->host},
                          {"subjects", std::to_string(provenance->subjects.size())},
                          {"materials", std::to_string(provenance->materials.size())},
                          {"tools", std::to_string(provenance->tools.size())}};
      }
      return print_report(report, *format, *fail_on);
    }
    if (import->parsed()) {
      auto keys = load_keys(options->keys);
      if (!keys) return fail(keys.error());
      auto store = open_store(options->output, store::Store::Access::ReadWrite);
      if (!store) return fail(store.error());
      int code = kExitOk;
      for (const std::string& path : options->envelopes) {
        auto text = read_small_file(path, kMaxEnvelopeBytes);
        if (!text) return fail(text.error());
        auto opened = attest::verify_envelope(*text, *keys);
        if (!opened || opened->verified_by.size() != keys->size()) {
          std::fprintf(stderr, "catena: %s: not stored: %s\n", path.c_str(),
                       opened ? "not signed by every given key" : opened.error().message.c_str());
          code = kExitFindings;
          continue;
        }
        auto stored = store_attestation(**store, *text, opened->payload, absolute_path(path));
        if (!stored) {
          std::fprintf(stderr, "catena: %s: not stored: %s\n", path.c_str(),
                       stored.error().describe().c_str());
          code = kExitFindings;
          continue;
        }
        std::printf("%s: stored as attestation %lld\n", path.c_str(),
                    static_cast<long long>(*stored));
      }
      return code;
    }
    if (find->parsed() || list->parsed()) {
      auto store = open_store(options->output, store::Store::Access::ReadOnly);
      if (!store) return fail(store.error());
      std::vector<attest::AttestationHit> hits;
      if (find->parsed()) {
        std::string hex = options->sha256;
        if (!options->file.empty()) {
          auto digest = attest::file_sha256(options->file);
          if (!digest) return fail(digest.error());
          hex = *digest;
        }
        if (hex.empty()) return fail(Error{ErrorCode::Usage, "give --sha256 or --file", {}});
        auto digest = sha256_from_hex(hex);
        if (!digest)
          return fail(Error{ErrorCode::Usage, "--sha256: " + digest.error().message, {}});
        auto found = (*store)->find_attestations(*digest);
        if (!found) return fail(found.error());
        hits = std::move(*found);
      } else {
        auto found = (*store)->list_attestations(options->host);
        if (!found) return fail(found.error());
        for (auto& record : *found) hits.push_back({std::move(record), "", ""});
      }
      const auto time_text = [](const std::optional<int64_t>& ns) {
        return ns ? format_rfc3339(*ns) : std::string("-");
      };
      if (options->output.format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& hit : hits) {
          const auto& a = hit.attestation;
          nlohmann::json entry = {{"attestation", a.id},
                                  {"host", a.host},
                                  {"builder_id", a.builder_id},
                                  {"step", a.step},
                                  {"started", time_text(a.started_ns)},
                                  {"finished", time_text(a.finished_ns)},
                                  {"source", a.source}};
          entry["exit_code"] = a.exit_code ? nlohmann::json(*a.exit_code) : nlohmann::json(nullptr);
          if (!hit.role.empty()) {
            entry["role"] = hit.role;
            entry["name"] = hit.name;
          }
          out.push_back(std::move(entry));
        }
        std::printf("%s\n",
                    out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      } else {
        if (hits.empty()) std::printf("no stored build names this file\n");
        for (const auto& hit : hits) {
          const auto& a = hit.attestation;
          std::printf("%-8lld %-24s %-20s %-16s exit %-4s %s%s%s\n", static_cast<long long>(a.id),
                      time_text(a.started_ns).c_str(), a.host.c_str(), a.step.c_str(),
                      a.exit_code ? std::to_string(*a.exit_code).c_str() : "-",
                      hit.role.empty() ? "" : hit.role.c_str(), hit.role.empty() ? "" : " ",
                      hit.name.c_str());
        }
      }
      return kExitOk;
    }
    return -1;
  };
}

}  // namespace catena::cli
