#include <cstdio>
#include <nlohmann/json.hpp>

#include "catena/attest/intoto.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {

Runner register_intoto(CLI::App& app) {
  CLI::App* group = app.add_subcommand("intoto", "in-toto layouts and links (reference format)");
  group->require_subcommand(1);
  struct Options {
    std::string layout;
    std::vector<std::string> layout_keys;
    std::string link_dir = ".";
    bool run_inspections = false;
    std::string format = "table";
  };
  auto options = std::make_shared<Options>();
  CLI::App* verify = group->add_subcommand(
      "verify",
      "Verify a supply chain against its layout, as in-toto-verify does.\nExit codes: 0 "
      "verification passed, 1 it failed, 2 usage or I/O error.");
  verify->add_option("--layout", options->layout, "Signed root layout")->required();
  verify
      ->add_option("--layout-key", options->layout_keys,
                   "Public key(s) that must all have signed the layout: PEM, securesystemslib "
                   "JSON, or a GPG key as securesystemslib exports it (JSON). Several may "
                   "follow one --layout-key, or it may be repeated")
      ->required()
      ->allow_extra_args(true);
  verify->add_option("--link-dir", options->link_dir, "Directory of <step>.<keyid8>.link files");
  verify->add_flag("--run-inspections", options->run_inspections,
                   "Run the layout's inspection commands in the current directory (without "
                   "it, a layout with inspections does not pass)");
  verify->add_option("--format", options->format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  return [group, verify, options]() -> int {
    if (!group->parsed() || !verify->parsed()) return -1;
    attest::IntotoVerifyOptions verify_options{.layout_path = options->layout,
                                               .link_dir = options->link_dir,
                                               .run_inspections = options->run_inspections};
    for (const std::string& path : options->layout_keys) {
      auto key = attest::IntotoKey::load(path);
      if (!key) return fail(key.error());
      verify_options.layout_keys.push_back(std::move(*key));
    }
    auto verdict = attest::verify_intoto(verify_options);
    if (!verdict) return fail(verdict.error());
    if (options->format == "json") {
      nlohmann::json out = {{"passed", verdict->passed}, {"warnings", verdict->warnings}};
      if (!verdict->passed) {
        out["check"] = verdict->check;
        out["item"] = verdict->item;
        out["rule"] = verdict->rule;
        out["reason"] = verdict->reason;
      }
      out["inspections"] = nlohmann::json::array();
      for (const auto& inspection : verdict->inspections) {
        out["inspections"].push_back({{"name", inspection.name}, {"run", inspection.run}});
      }
      std::printf("%s\n", out.dump(2).c_str());
    } else {
      for (const std::string& warning : verdict->warnings) {
        std::fprintf(stderr, "catena: warning: %s\n", warning.c_str());
      }
      for (const auto& inspection : verdict->inspections) {
        std::string command;
        for (const std::string& arg : inspection.run) command += (command.empty() ? "" : " ") + arg;
        std::printf("inspection %s: %s%s\n", inspection.name.c_str(), command.c_str(),
                    options->run_inspections ? "" : " (not run)");
      }
      if (verdict->passed) {
        std::printf("PASS: the supply chain matches the layout\n");
      } else {
        std::printf("FAIL (%s): %s\n", verdict->check.c_str(), verdict->reason.c_str());
      }
    }
    return verdict->passed ? kExitOk : kExitFindings;
  };
}

}  // namespace catena::cli
