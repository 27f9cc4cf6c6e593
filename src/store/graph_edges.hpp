#pragma once
// What the store's graph (src/store/graph.cpp, node by node) and its export
// (src/store/graph_all.cpp, table by table) share: how a row becomes an edge, so that both
// give the same edges.
#include <algorithm>
#include <string>
#include <utility>

#include "catena/core/text.hpp"
#include "catena/graph/graph.hpp"
#include "sqlite.hpp"

namespace catena::store::graph_rows {

// Formats whose contents are followed back from a host: the programs and installers that
// could have led somewhere, not every data file a host held.
inline constexpr std::string_view kProgramFormats =
    "('pe', 'elf', 'macho', 'msi', 'dmg', 'script', 'jar', 'deb', 'zip')";

// A build's moment: when it started, else finished, else when it was stored.
inline constexpr std::string_view kBuildTime = "COALESCE(a.started_ns, a.finished_ns, a.stored_ns)";
// When its products appeared: when it finished, else started, else was stored.
inline constexpr std::string_view kProductTime =
    "COALESCE(a.finished_ns, a.started_ns, a.stored_ns)";

// "a|b" split at its first '|' (host names have none; paths may).
inline std::pair<std::string, std::string> split_key(const std::string& key) {
  const size_t bar = key.find('|');
  if (bar == std::string::npos) return {key, ""};
  return {key.substr(0, bar), key.substr(bar + 1)};
}

inline int64_t until_of(const Statement& row, int column) {
  return row.column_is_null(column) ? graph::kOpen : row.column_int(column);
}

inline graph::Edge make_edge(graph::NodeRef from,
                             graph::NodeRef to,
                             std::string kind,
                             int64_t valid_from,
                             int64_t valid_to,
                             std::string evidence) {
  return {.from = std::move(from),
          .to = std::move(to),
          .kind = std::move(kind),
          .valid_from = valid_from,
          .valid_to = std::max(valid_to, valid_from + 1),
          .evidence = std::move(evidence)};
}

inline std::string scan_evidence(int64_t scan_id) { return "scan " + std::to_string(scan_id); }

inline std::string attestation_evidence(const std::string& id) { return "attestation " + id; }

// A material or tool a build read: "attestation 3 (tool /usr/bin/cc)".
inline std::string use_evidence(const std::string& id,
                                const std::string& role,
                                const std::string& name) {
  return "attestation " + id + " (" + role + " " + name + ")";
}

inline std::string ran_evidence(const std::string& id, const std::string& step) {
  return "attestation " + id + " (step " + step + ")";
}

// What an access scan found, where: "access scan of dev-ws: ~/.ssh/config (ssh-host)".
inline std::string access_evidence(const std::string& host,
                                   const std::string& path,
                                   const std::string& kind) {
  return "access scan of " + host + ": " + escape_for_terminal(path) + " (" + kind + ")";
}

inline std::string manifest_evidence(const std::string& path) {
  return "release manifest: " + escape_for_terminal(path);
}

// The packages a file's owner column names: one, or several joined by ", " (a path that more
// than one package ships).
inline std::vector<std::string> owners_of(const std::string& owner) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < owner.size()) {
    size_t end = owner.find(", ", at);
    if (end == std::string::npos) end = owner.size();
    if (end > at) out.push_back(owner.substr(at, end - at));
    at = end + 2;
  }
  return out;
}

inline std::string package_evidence(int64_t scan_id) {
  return "scan " + std::to_string(scan_id) + " (owner of the path)";
}

}  // namespace catena::store::graph_rows
