#pragma once
// One function per command: `register_*` adds it to the parser, returns what runs it.
#include <CLI/CLI.hpp>
#include <functional>

namespace catena::cli {

using Runner = std::function<int()>;

Runner register_scan(CLI::App& app);
Runner register_audit(CLI::App& app);
Runner register_inventory(CLI::App& app);
Runner register_packages(CLI::App& app);
Runner register_baseline(CLI::App& app);
Runner register_key(CLI::App& app);
Runner register_sig(CLI::App& app);
Runner register_intel(CLI::App& app);
Runner register_intoto(CLI::App& app);
Runner register_attest(CLI::App& app);
Runner register_provenance(CLI::App& app);
Runner register_access(CLI::App& app);
Runner register_store(CLI::App& app);
Runner register_report(CLI::App& app);
Runner register_release(CLI::App& app);
Runner register_sbom(CLI::App& app);
Runner register_graph(CLI::App& app);

}  // namespace catena::cli
