#include <cerrno>
#include <nlohmann/json.hpp>

#include "catena/baseline/baseline.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/trust/keys.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

// Valid UTF-8 for JSON, whatever bytes a name holds.
std::string utf8_text_of(std::string_view bytes) {
  bool needs_b64 = false;
  return json_path_text(bytes, &needs_b64);
}

struct BaselineCommand {
  OutputOptions output;
  baseline::Options options;
  std::string config_file;
  std::vector<std::string> paths;
  std::string sign_key;
  std::string out_file;
  std::string baseline_file;
  std::string verify_key;
};

int report_check(const BaselineCommand& command,
                 const std::string& verb,
                 const baseline::CheckReport& check) {
  auto format = report::parse_format(command.output.format);
  if (!format) return fail(format.error());
  auto fail_on = parse_severity(command.output.fail_on);
  if (!fail_on) return fail(fail_on.error());
  report::ScanReport report{.command = "baseline " + verb,
                            .scan_id = check.scan_id,
                            .host = check.baseline.host,
                            .started_ns = check.started_ns,
                            .finished_ns = now_ns(),
                            .status = scan::ScanStatus::Complete,
                            .totals = {.files = check.files,
                                       .bytes = check.bytes,
                                       .files_read = check.files_read,
                                       .files_reused = check.files_reused},
                            .roots = {},
                            .findings = check.findings,
                            .fail_on = *fail_on,
                            .store_path = store_path(command.output),
                            .summary = {{"baseline", check.baseline.name},
                                        {"taken", format_rfc3339(check.baseline.created_ns)},
                                        {"updated", format_rfc3339(check.baseline.updated_ns)}}};
  if (!check.signer.empty()) {
    report.summary.emplace_back("exported", format_rfc3339(check.exported_ns));
    report.summary.emplace_back("sequence", std::to_string(check.sequence));
    report.summary.emplace_back("signer", check.signer);
  }
  return print_report(report, *format, *fail_on);
}

}  // namespace

Runner register_baseline(CLI::App& app) {
  CLI::App* group = app.add_subcommand(
      "baseline", "File-integrity baselines: record the selected paths, then report what changed");
  group->require_subcommand(1);
  auto command = std::make_shared<BaselineCommand>();
  auto add_common = [command](CLI::App* sub, bool with_fail_on) {
    add_output_options(*sub, command->output, with_fail_on);
    sub->add_option("--jobs,-j", command->options.jobs, "Files read in parallel (default: cores)");
  };
  CLI::App* create =
      group->add_subcommand("create", "Record a baseline of PATH... (or the config's selection)");
  create->add_option("--name", command->options.name, "Its name")->required();
  create->add_option("--config", command->config_file, "TOML config (see docs/baseline.md)");
  create->add_option("paths", command->paths, "Paths to watch, every attribute");
  add_common(create, false);
  CLI::App* check = group->add_subcommand("check", "Report what changed since the baseline");
  check->add_option("--name", command->options.name, "The baseline in the store");
  check->add_option("--baseline", command->baseline_file,
                    "An exported baseline file instead (needs --verify-key)");
  check->add_option("--verify-key", command->verify_key,
                    "The public key the exported baseline must be signed with");
  check->add_flag("--full", command->options.full,
                  "Read every file, even one whose size, times and inode did not change since the "
                  "last check");
  add_common(check, true);
  CLI::App* update = group->add_subcommand("update", "Check, then move the baseline to now");
  update->add_option("--name", command->options.name, "The baseline")->required();
  update->add_flag("--accept-packages", command->options.accept_packages,
                   "Fold in only the changes package upgrades explain");
  add_common(update, true);
  CLI::App* exported = group->add_subcommand(
      "export", "Write a baseline as a signed file (DSSE, Ed25519 or ECDSA) to keep off the host");
  exported->add_option("--name", command->options.name, "The baseline")->required();
  exported->add_option("--sign", command->sign_key, "Private key (catena key generate)")
      ->required();
  exported->add_option("--out", command->out_file, "The file to write")->required();
  add_output_options(*exported, command->output, false);
  CLI::App* list = group->add_subcommand("list", "The baselines in the store");
  add_output_options(*list, command->output, false);
  CLI::App* remove = group->add_subcommand("delete", "Forget a baseline");
  remove->add_option("--name", command->options.name, "The baseline")->required();
  add_output_options(*remove, command->output, false);

  return [=]() -> int {
    if (!group->parsed()) return -1;
    auto store = open_store(command->output, store::Store::Access::ReadWrite);
    if (!store) return fail(store.error());
    command->options.cancel = &install_cancel_handlers();
    if (create->parsed()) {
      if (!command->config_file.empty() && !command->paths.empty()) {
        return fail(Error{ErrorCode::Usage, "give paths or --config, not both", {}});
      }
      if (!command->config_file.empty()) {
        auto text = read_small_file(command->config_file, 1 << 20);
        if (!text) return fail(text.error());
        auto config = baseline::parse_config(*text);
        if (!config) {
          return fail(
              Error{config.error().code, command->config_file + ": " + config.error().message, {}});
        }
        command->options.config = std::move(*config);
      } else if (!command->paths.empty()) {
        baseline::Rule rule;
        for (const std::string& path : command->paths) rule.paths.push_back(absolute_path(path));
        command->options.config.rules = {rule};
      } else {
        command->options.config = baseline::default_config();
      }
      auto made = baseline::create(**store, command->options);
      if (!made) return fail(made.error());
      auto scan = (*store)->get_scan(made->scan_id);
      const uint64_t files = scan ? scan->totals.files : 0;
      if (command->output.format == "json" || command->output.format == "jsonl") {
        std::printf("%s\n", nlohmann::json{{"baseline", made->name},
                                           {"host", utf8_text_of(made->host)},
                                           {"scan_id", made->scan_id},
                                           {"files", files}}
                                .dump()
                                .c_str());
      } else {
        std::printf("catena baseline create: '%s' on %s, %llu files (scan %lld)\n",
                    escape_for_terminal(made->name).c_str(),
                    escape_for_terminal(made->host).c_str(), static_cast<unsigned long long>(files),
                    static_cast<long long>(made->scan_id));
      }
      return kExitOk;
    }
    if (check->parsed()) {
      if (!command->baseline_file.empty() || !command->verify_key.empty()) {
        if (command->baseline_file.empty() || command->verify_key.empty() ||
            !command->options.name.empty()) {
          return fail(Error{ErrorCode::Usage,
                            "an exported baseline needs --baseline FILE and --verify-key PUB "
                            "(and no --name)",
                            {}});
        }
        auto key = trust::VerifyingKey::load(command->verify_key);
        if (!key) return fail(key.error());
        auto text = read_small_file(command->baseline_file, baseline::kMaxExportBytes);
        if (!text) return fail(text.error());
        auto result = baseline::check_exported(**store, *text, *key, command->options);
        if (!result) return fail(result.error());
        return report_check(*command, "check", *result);
      }
      if (command->options.name.empty()) {
        return fail(Error{ErrorCode::Usage, "name the baseline: --name NAME", {}});
      }
      auto result = baseline::check(**store, command->options);
      if (!result) return fail(result.error());
      return report_check(*command, "check", *result);
    }
    if (update->parsed()) {
      auto result = baseline::update(**store, command->options);
      if (!result) return fail(result.error());
      return report_check(*command, "update", *result);
    }
    if (exported->parsed()) {
      auto key = trust::SigningKey::load(command->sign_key);
      if (!key) return fail(key.error());
      auto text = baseline::export_signed(**store, command->options, *key);
      if (!text) return fail(text.error());
      FILE* out = std::fopen(command->out_file.c_str(), "wx");
      if (out == nullptr) {
        return fail(Error{ErrorCode::Io,
                          "cannot create " + command->out_file + ": " + errno_text(errno) +
                              " (it must not exist)",
                          {}});
      }
      const bool written = std::fwrite(text->data(), 1, text->size(), out) == text->size();
      if (std::fclose(out) != 0 || !written) {
        return fail(Error{ErrorCode::Io, "cannot write " + command->out_file, {}});
      }
      std::printf("catena baseline export: '%s' signed by key %s into %s\n",
                  escape_for_terminal(command->options.name).c_str(), key->key_id().c_str(),
                  escape_for_terminal(command->out_file).c_str());
      return kExitOk;
    }
    if (list->parsed()) {
      auto all = (*store)->list_baselines();
      if (!all) return fail(all.error());
      nlohmann::json out = nlohmann::json::array();
      for (const baseline::BaselineRecord& b : *all) {
        if (command->output.format == "table") {
          std::printf("%-20s %-20s scan %-6lld updated %s\n", escape_for_terminal(b.name).c_str(),
                      escape_for_terminal(b.host).c_str(), static_cast<long long>(b.scan_id),
                      format_rfc3339(b.updated_ns).c_str());
        } else {
          out.push_back({{"name", utf8_text_of(b.name)},
                         {"host", utf8_text_of(b.host)},
                         {"scan_id", b.scan_id},
                         {"created", format_rfc3339(b.created_ns)},
                         {"updated", format_rfc3339(b.updated_ns)}});
        }
      }
      if (command->output.format != "table") std::printf("%s\n", out.dump(2).c_str());
      return kExitOk;
    }
    if (remove->parsed()) {
      const std::string host = host_name();
      if (auto done = (*store)->delete_baseline(host, command->options.name); !done) {
        return fail(done.error());
      }
      return kExitOk;
    }
    return -1;
  };
}

}  // namespace catena::cli
