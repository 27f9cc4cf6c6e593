// `catena graph blast|origin|path` as table or json: each node reached, when, and the path of
// edges (each with the window it held and where it was observed) that explains it.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/report/render.hpp"
#include "html_util.hpp"
#include "json_util.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

std::string when(int64_t ns) {
  if (ns >= graph::kOpen - 1)
    return "open";  // kOpen - 1: no bound (an origin's target with no time)
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

// The colour of each kind of node in the picture.
std::string_view kind_fill(graph::NodeKind kind) {
  switch (kind) {
    case graph::NodeKind::Host:
      return "#2f5f8a";
    case graph::NodeKind::Account:
      return "#5b6474";
    case graph::NodeKind::Credential:
      return "#9a6700";
    case graph::NodeKind::Target:
      return "#8a5a2f";
    case graph::NodeKind::Content:
      return "#1f7a4d";
    case graph::NodeKind::Occurrence:
      return "#6c8f7d";
    case graph::NodeKind::Package:
      return "#4d6b1f";
    case graph::NodeKind::Build:
      return "#6a3d9a";
    case graph::NodeKind::Artifact:
      return "#8e6bbf";
    case graph::NodeKind::Release:
      return "#b3261e";
    case graph::NodeKind::Deployment:
      return "#7f0000";
  }
  return "#5b6474";
}

std::string short_key(const std::string& key) {
  const std::string text = utf8_text(key);
  if (text.size() <= 30) return text;
  // Keep the end: a path's file name, a digest's tail say more than their starts.
  size_t cut = text.size() - 28;
  while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) ++cut;
  return "\u2026" + text.substr(cut);
}

constexpr size_t kDrawnNodes = 400;
// Up to this many nodes, the table and the page print each node's whole path; beyond, the edge
// that reached it (the paths together would grow with nodes × hops).
constexpr size_t kWholePaths = 1000;
constexpr int kColumnWidth = 210, kRowHeight = 46, kLeft = 40, kTop = 56;

// The reached nodes laid out left to right by time (one column per moment) and drawn with the
// edge that reached each; marked nodes ringed in red.
std::string reach_svg(const graph::Reach& reach, bool backward) {
  const size_t drawn = std::min(reach.nodes.size(), kDrawnNodes);
  std::vector<int64_t> times;
  for (size_t i = 0; i < drawn; ++i) times.push_back(reach.nodes[i].at);
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());
  std::map<int64_t, size_t> column_of;
  for (size_t c = 0; c < times.size(); ++c) column_of[times[c]] = c;
  std::vector<size_t> rows(times.size(), 0);
  std::map<graph::NodeRef, std::pair<int, int>> at;
  for (size_t i = 0; i < drawn; ++i) {
    const size_t c = column_of[reach.nodes[i].at];
    at[reach.nodes[i].node] = {kLeft + static_cast<int>(c) * kColumnWidth,
                               kTop + static_cast<int>(rows[c]++) * kRowHeight};
  }
  const size_t max_rows = rows.empty() ? 1 : *std::max_element(rows.begin(), rows.end());
  const int width = kLeft * 2 + static_cast<int>(times.size()) * kColumnWidth;
  const int height = kTop + static_cast<int>(max_rows) * kRowHeight + 20;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"graph\" width=\"{}\" height=\"{}\" "
      "viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"the reached graph, left to right by "
      "time\"><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
      "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" "
      "fill=\"#8a93a3\"/></marker></defs>\n",
      width, height, width, height);
  for (size_t c = 0; c < times.size(); ++c) {
    const std::string label = times[c] == graph::kBeginning ? "always" : format_rfc3339(times[c]);
    svg += fmt::format(
        "<text class=\"axis\" x=\"{}\" y=\"20\">{}</text>"
        "<line x1=\"{}\" y1=\"28\" x2=\"{}\" y2=\"{}\" stroke=\"#e3e6eb\"/>\n",
        kLeft + static_cast<int>(c) * kColumnWidth, html(label.substr(0, 19)),
        kLeft + static_cast<int>(c) * kColumnWidth, kLeft + static_cast<int>(c) * kColumnWidth,
        height - 10);
  }
  // Edges first, so that nodes are drawn over them.
  for (size_t i = 1; i < drawn; ++i) {
    const graph::Reached& r = reach.nodes[i];
    if (r.parent == graph::kNoParent) continue;
    const graph::NodeRef& other = reach.nodes[r.parent].node;
    auto from = at.find(backward ? r.node : other);
    auto to = at.find(backward ? other : r.node);
    if (from == at.end() || to == at.end()) continue;
    const graph::Edge& e = r.via;
    const auto [x1, y1] = from->second;
    const auto [x2, y2] = to->second;
    // Across columns a straight arrow; within one, a curve along the column's left side.
    const std::string shape =
        x1 == x2 ? fmt::format("<path d=\"M{},{} C{},{} {},{} {},{}\" fill=\"none\"", x1, y1 + 14,
                               x1 - 24, y1 + 14, x2 - 24, y2 + 14, x2, y2 + 14)
                 : fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"", x1 + 170, y1 + 14,
                               x2, y2 + 14);
    svg += shape + fmt::format(
                       " stroke=\"#8a93a3\" stroke-width=\"1.2\" "
                       "marker-end=\"url(#arrow)\"><title>{}</title>{}\n",
                       html(e.kind + ": " + e.evidence), x1 == x2 ? "</path>" : "</line>");
  }
  for (size_t i = 0; i < drawn; ++i) {
    const graph::Reached& r = reach.nodes[i];
    const auto [x, y] = at[r.node];
    const bool marked = !r.marks.empty();
    std::string tip = graph::node_name(r.node) + "\n" +
                      (r.at == graph::kBeginning ? std::string("always") : format_rfc3339(r.at));
    for (const std::string& m : r.marks) tip += "\n" + m;
    svg += fmt::format(
        "<g class=\"node{}\"><title>{}</title><rect x=\"{}\" y=\"{}\" width=\"170\" "
        "height=\"28\" rx=\"5\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>"
        "<text class=\"kind\" x=\"{}\" y=\"{}\">{}{}</text>"
        "<text x=\"{}\" y=\"{}\">{}</text></g>\n",
        marked ? " marked" : "", html(tip), x, y, kind_fill(r.node.kind),
        marked ? "#ff1f1f" : "#ffffff", marked ? 3 : 1, x + 6, y + 11, marked ? "\u26a0 " : "",
        html(graph::node_kind_name(r.node.kind)), x + 6, y + 23, html(short_key(r.node.key)));
  }
  svg += "</svg>";
  return svg;
}

}  // namespace

Status write_reach_html(std::FILE* out, const graph::Reach& reach, bool backward) {
  const std::string title =
      std::string(backward ? "catena graph origin of " : "catena graph blast from ") +
      graph::node_name(reach.start);
  put_page_head(out, title);
  put(out, "<h1>" + html(title) + "</h1>\n<div class=\"meta\">" +
               html(std::string(backward ? "by " : "from ") +
                    (reach.start_at == graph::kBeginning ? std::string("the beginning")
                                                         : format_rfc3339(reach.start_at))) +
               " &middot; " + std::to_string(reach.nodes.empty() ? 0 : reach.nodes.size() - 1) +
               (backward ? " nodes lead to it" : " nodes reached") +
               (reach.truncated ? " (stopped at the node limit)" : "") + "</div>\n");
  size_t marked = 0;
  for (const graph::Reached& r : reach.nodes) marked += r.marks.empty() ? 0 : 1;
  put(out, std::string("<div class=\"verdict ") + (marked > 0 ? "fail" : "pass") +
               "\" id=\"verdict\">" + std::to_string(marked) + " node" + (marked == 1 ? "" : "s") +
               " matched intelligence or failed an audit</div>\n");
  put(out, "<h2>The graph, left to right by time</h2>\n<div class=\"chart graph\">" +
               reach_svg(reach, backward) + "</div>\n");
  if (reach.nodes.size() > kDrawnNodes) {
    put(out, "<p class=\"meta\">The picture shows the first " + std::to_string(kDrawnNodes) +
                 " nodes; the table lists all.</p>\n");
  }
  put(out, std::string("<h2>Nodes</h2>\n<table id=\"nodes\"><thead><tr><th>node</th><th>") +
               (backward ? "latest" : "reached") +
               "</th><th>hops</th><th>marks</th><th>path</th></tr></thead><tbody>\n");
  const bool whole_paths = reach.nodes.size() <= kWholePaths;
  for (size_t i = 1; i < reach.nodes.size(); ++i) {
    const graph::Reached& r = reach.nodes[i];
    std::string path;
    for (const graph::Edge& e : whole_paths ? graph::path_to(reach, i) : std::vector{r.via}) {
      path += "<div><code>" + html(graph::node_name(e.from)) + "</code> &rarr;" + html(e.kind) +
              "&rarr; <code>" + html(graph::node_name(e.to)) + "</code> <span class=\"meta\">[" +
              html(when(e.valid_from)) + " .. " + html(when(e.valid_to)) + ") " + html(e.evidence) +
              "</span></div>";
    }
    std::string marks;
    for (const std::string& m : r.marks) marks += "<div class=\"high\">" + html(m) + "</div>";
    put(out, "<tr><td><code>" + html(graph::node_name(r.node)) + "</code></td><td>" +
                 html(when(r.at)) + "</td><td>" + std::to_string(r.hops) + "</td><td>" + marks +
                 "</td><td>" + path + "</td></tr>\n");
  }
  put(out, "</tbody></table>\n</main></body></html>\n");
  return {};
}

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
      node["hops"] = r.hops;
      node["parent"] = r.parent == graph::kNoParent ? json(nullptr) : json(r.parent);
      node["via"] = r.parent == graph::kNoParent ? json(nullptr) : edge_json(r.via);
      node["marks"] = json::array();
      for (const std::string& m : r.marks) node["marks"].push_back(utf8_text(m));
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
  const bool whole_paths = reach.nodes.size() <= kWholePaths;
  if (!whole_paths) {
    fmt::print(out, "(each node with the edge that reached it; `--format json` gives the tree)\n");
  }
  for (size_t i = 1; i < reach.nodes.size(); ++i) {
    const graph::Reached& r = reach.nodes[i];
    fmt::print(out, "  {}  {} {}  ({} hop{})\n", shown(r.node), backward ? "by" : "at", when(r.at),
               r.hops, r.hops == 1 ? "" : "s");
    for (const std::string& m : r.marks) fmt::print(out, "    !! {}\n", escape_for_terminal(m));
    print_path(out, whole_paths ? graph::path_to(reach, i) : std::vector{r.via});
  }
  return {};
}

Status write_paths(std::FILE* out,
                   const graph::NodeRef& from,
                   const graph::NodeRef& to,
                   const std::vector<graph::Path>& paths,
                   Format format) {
  if (format != Format::Table) {
    json doc = {{"from", node_json(from)}, {"to", node_json(to)}, {"paths", json::array()}};
    for (const graph::Path& p : paths) {
      doc["paths"].push_back(
          {{"arrives_at", p.arrives_at}, {"hops", p.edges.size()}, {"edges", path_json(p.edges)}});
    }
    std::fputs(dump(doc, 2).c_str(), out);
    std::fputc('\n', out);
    return {};
  }
  if (paths.empty()) {
    fmt::print(out, "no time-respecting path from {} to {}\n", shown(from), shown(to));
    return {};
  }
  for (const graph::Path& p : paths) {
    fmt::print(out, "{} hop{}, arriving {}\n", p.edges.size(), p.edges.size() == 1 ? "" : "s",
               when(p.arrives_at));
    print_path(out, p.edges);
  }
  return {};
}

}  // namespace catena::report
