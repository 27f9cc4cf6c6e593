// `catena graph blast|origin|path` as table or json: each node reached, when, and the path of
// edges (each with the window it held and where it was observed) that explains it.
#include <fmt/format.h>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/report/render.hpp"
#include "json_util.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

std::string when(int64_t ns) {
  if (ns == graph::kOpen) return "open";
  if (ns == graph::kBeginning) return "always";
  return format_rfc3339(ns);
}

std::string shown(const graph::NodeRef& node) {
  return escape_for_terminal(graph::node_name(node));
}

json node_json(const graph::NodeRef& node) {
  json object = {{"kind", std::string(graph::node_kind_name(node.kind))}};
  put_bytes(object, "key", node.key);
  return object;
}

json edge_json(const graph::Edge& e) {
  return {{"from", node_json(e.from)},
          {"to", node_json(e.to)},
          {"kind", e.kind},
          {"valid_from", e.valid_from == graph::kBeginning ? json(nullptr) : json(e.valid_from)},
          {"valid_to", e.valid_to == graph::kOpen ? json(nullptr) : json(e.valid_to)},
          {"evidence", utf8_text(e.evidence)}};
}

json path_json(const std::vector<graph::Edge>& path) {
  json out = json::array();
  for (const graph::Edge& e : path) out.push_back(edge_json(e));
  return out;
}

void print_path(std::FILE* out, const std::vector<graph::Edge>& path) {
  for (const graph::Edge& e : path) {
    fmt::print(out, "      {} -[{}]-> {}  [{} .. {})  {}\n", shown(e.from), e.kind, shown(e.to),
               when(e.valid_from), when(e.valid_to), escape_for_terminal(e.evidence));
  }
}

}  // namespace

Status write_reach(std::FILE* out, const graph::Reach& reach, bool backward, Format format) {
  if (format != Format::Table) {
    json doc = {{"query", backward ? "origin" : "blast"},
                {"start", node_json(reach.start)},
                {"start_at", reach.start_at},
                {"truncated", reach.truncated},
                {"nodes", json::array()}};
    for (const graph::Reached& r : reach.nodes) {
      json node = node_json(r.node);
      node[backward ? "latest" : "reached_at"] = r.at;
      node["hops"] = r.path.size();
      node["path"] = path_json(r.path);
      doc["nodes"].push_back(std::move(node));
    }
    std::fputs(dump(doc, 2).c_str(), out);
    std::fputc('\n', out);
    return {};
  }
  fmt::print(out, "{} {} ({} {})\n", backward ? "origin of" : "blast from", shown(reach.start),
             backward ? "by" : "from", when(reach.start_at));
  fmt::print(out, "{} node{} {}{}\n", reach.nodes.size() - (reach.nodes.empty() ? 0 : 1),
             reach.nodes.size() == 2 ? "" : "s", backward ? "lead to it" : "reached",
             reach.truncated ? " (stopped at the node limit: more lie beyond)" : "");
  for (size_t i = 1; i < reach.nodes.size(); ++i) {
    const graph::Reached& r = reach.nodes[i];
    fmt::print(out, "  {}  {} {}  ({} hop{})\n", shown(r.node), backward ? "by" : "at", when(r.at),
               r.path.size(), r.path.size() == 1 ? "" : "s");
    print_path(out, r.path);
  }
  return {};
}

Status write_paths(std::FILE* out,
                   const graph::NodeRef& from,
                   const graph::NodeRef& to,
                   const std::vector<graph::Reached>& paths,
                   Format format) {
  if (format != Format::Table) {
    json doc = {{"from", node_json(from)}, {"to", node_json(to)}, {"paths", json::array()}};
    for (const graph::Reached& r : paths) {
      doc["paths"].push_back(
          {{"arrives_at", r.at}, {"hops", r.path.size()}, {"edges", path_json(r.path)}});
    }
    std::fputs(dump(doc, 2).c_str(), out);
    std::fputc('\n', out);
    return {};
  }
  if (paths.empty()) {
    fmt::print(out, "no time-respecting path from {} to {}\n", shown(from), shown(to));
    return {};
  }
  for (const graph::Reached& r : paths) {
    fmt::print(out, "{} hop{}, arriving {}\n", r.path.size(), r.path.size() == 1 ? "" : "s",
               when(r.at));
    print_path(out, r.path);
  }
  return {};
}

}  // namespace catena::report
