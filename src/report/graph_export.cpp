// `catena graph export`: the graph as catena's json, GraphViz DOT or BloodHound OpenGraph,
// written as it is read.
#include <fmt/format.h>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/report/render.hpp"
#include "json_util.hpp"

namespace catena::report {
namespace {

using nlohmann::json;

// A node's name as an identifier: injective (escape_for_terminal keeps distinct bytes
// distinct) and printable, whatever bytes a path held.
std::string node_id(const graph::NodeRef& node) {
  return escape_for_terminal(graph::node_name(node));
}

// Inside a DOT double-quoted string: a quote ends it and a backslash starts an escape, so
// both are escaped; escape_for_terminal left no control character. Lines are joined with
// DOT's own line break, "\\n".
std::string dot_quoted(const std::vector<std::string>& lines) {
  std::string out = "\"";
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\\n";
    for (const char c : lines[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  return out + "\"";
}
std::string dot_quoted(const std::string& text) { return dot_quoted(std::vector{text}); }

std::string_view dot_fill(graph::NodeKind kind) {
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

// "lay-at" → "LayAt": OpenGraph kinds are identifiers.
std::string pascal(std::string_view name) {
  std::string out;
  bool upper = true;
  for (const char c : name) {
    if (c == '-' || c == '_' || c == ' ') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

std::string when(int64_t ns) { return format_rfc3339(ns); }

}  // namespace

Result<GraphFormat> parse_graph_format(std::string_view name) {
  if (name == "json") return GraphFormat::Json;
  if (name == "dot") return GraphFormat::Dot;
  if (name == "opengraph") return GraphFormat::OpenGraph;
  return make_error(ErrorCode::Usage, "unknown export format " + escape_for_terminal(name) +
                                          " (json, dot or opengraph)");
}

void GraphWriter::open_section(int section) {
  if (section_ == section) return;
  if (section_ == 0) {
    switch (format_) {
      case GraphFormat::Json:
        std::fputs("{\n  \"format\": \"catena-graph\",\n  \"version\": 1,\n  \"nodes\": [", out_);
        break;
      case GraphFormat::Dot:
        std::fputs(
            "digraph catena {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", "
            "fontname=\"Helvetica\", fontcolor=\"white\", color=\"white\"];\n  edge "
            "[fontname=\"Helvetica\", fontsize=9, color=\"#8a93a3\"];\n",
            out_);
        break;
      case GraphFormat::OpenGraph:
        std::fputs(
            "{\n  \"metadata\": {\"source_kind\": \"CTN_Catena\"},\n  \"graph\": {\n"
            "    \"nodes\": [",
            out_);
        break;
    }
    section_ = 1;
    items_ = 0;
  }
  if (section_ == 1 && section == 2) {
    if (format_ == GraphFormat::Json)
      std::fputs(items_ ? "\n  ],\n  \"edges\": [" : "],\n  \"edges\": [", out_);
    if (format_ == GraphFormat::OpenGraph) {
      std::fputs(items_ ? "\n    ],\n    \"edges\": [" : "],\n    \"edges\": [", out_);
    }
    section_ = 2;
    items_ = 0;
  }
}

void GraphWriter::node(const graph::NodeRef& node,
                       const std::vector<std::string>& marks,
                       std::optional<int64_t> reached_at) {
  open_section(1);
  const std::string id = node_id(node);
  switch (format_) {
    case GraphFormat::Json: {
      json object = {{"kind", std::string(graph::node_kind_name(node.kind))}};
      put_bytes(object, "key", node.key);
      object["id"] = id;
      object["marks"] = json::array();
      for (const std::string& m : marks) object["marks"].push_back(utf8_text(m));
      if (reached_at) object["at"] = *reached_at;
      std::fputs(items_++ ? ",\n    " : "\n    ", out_);
      std::fputs(dump(object).c_str(), out_);
      break;
    }
    case GraphFormat::Dot: {
      std::vector<std::string> tip = {id};
      for (const std::string& m : marks) tip.push_back(escape_for_terminal(m));
      const std::string key = escape_for_terminal(node.key);
      // The end of a long key (a path's file name, a digest's tail), cut at a character.
      size_t cut = key.size() > 40 ? key.size() - 39 : 0;
      while (cut > 0 && cut < key.size() && (static_cast<unsigned char>(key[cut]) & 0xc0) == 0x80) {
        ++cut;
      }
      const std::string shown = cut > 0 ? "\u2026" + key.substr(cut) : key;
      fmt::print(out_, "  {} [label={}, fillcolor=\"{}\", tooltip={}{}];\n", dot_quoted(id),
                 dot_quoted({std::string(graph::node_kind_name(node.kind)), shown}),
                 dot_fill(node.kind), dot_quoted(tip),
                 marks.empty() ? "" : ", color=\"#ff1f1f\", penwidth=3");
      ++items_;
      break;
    }
    case GraphFormat::OpenGraph: {
      json properties = {{"name", utf8_text(node.key)},
                         {"catena_kind", std::string(graph::node_kind_name(node.kind))},
                         {"marked", !marks.empty()}};
      if (!marks.empty()) {
        properties["marks"] = json::array();
        for (const std::string& m : marks) properties["marks"].push_back(utf8_text(m));
      }
      if (reached_at) properties["at"] = when(*reached_at);
      const json object = {
          {"id", id},
          {"kinds", {"CTN_" + pascal(graph::node_kind_name(node.kind)), "CTN_Catena"}},
          {"properties", std::move(properties)}};
      std::fputs(items_++ ? ",\n      " : "\n      ", out_);
      std::fputs(dump(object).c_str(), out_);
      break;
    }
  }
}

void GraphWriter::edge(const graph::Edge& e) {
  open_section(2);
  const bool from_bounded = e.valid_from != graph::kBeginning;
  const bool to_bounded = e.valid_to != graph::kOpen;
  switch (format_) {
    case GraphFormat::Json: {
      json object = {{"from", node_id(e.from)},
                     {"to", node_id(e.to)},
                     {"kind", e.kind},
                     {"valid_from", from_bounded ? json(e.valid_from) : json(nullptr)},
                     {"valid_to", to_bounded ? json(e.valid_to) : json(nullptr)},
                     {"evidence", utf8_text(e.evidence)}};
      std::fputs(items_++ ? ",\n    " : "\n    ", out_);
      std::fputs(dump(object).c_str(), out_);
      break;
    }
    case GraphFormat::Dot: {
      const std::string window = "[" + (from_bounded ? when(e.valid_from) : "always") + " .. " +
                                 (to_bounded ? when(e.valid_to) : "open") + ") " +
                                 escape_for_terminal(e.evidence);
      fmt::print(out_, "  {} -> {} [label={}, tooltip={}];\n", dot_quoted(node_id(e.from)),
                 dot_quoted(node_id(e.to)), dot_quoted(e.kind), dot_quoted(window));
      ++items_;
      break;
    }
    case GraphFormat::OpenGraph: {
      json properties = {{"catena_kind", e.kind}, {"evidence", utf8_text(e.evidence)}};
      if (from_bounded) {
        properties["valid_from"] = when(e.valid_from);
        properties["valid_from_ns"] = e.valid_from;
      }
      if (to_bounded) {
        properties["valid_to"] = when(e.valid_to);
        properties["valid_to_ns"] = e.valid_to;
      }
      const json object = {{"kind", "CTN_" + pascal(e.kind)},
                           {"start", {{"value", node_id(e.from)}, {"match_by", "id"}}},
                           {"end", {{"value", node_id(e.to)}, {"match_by", "id"}}},
                           {"properties", std::move(properties)}};
      std::fputs(items_++ ? ",\n      " : "\n      ", out_);
      std::fputs(dump(object).c_str(), out_);
      break;
    }
  }
}

void GraphWriter::finish() {
  open_section(2);
  switch (format_) {
    case GraphFormat::Json:
      std::fputs(items_ ? "\n  ]\n}\n" : "]\n}\n", out_);
      break;
    case GraphFormat::Dot:
      std::fputs("}\n", out_);
      break;
    case GraphFormat::OpenGraph:
      std::fputs(items_ ? "\n    ]\n  }\n}\n" : "]\n  }\n}\n", out_);
      break;
  }
}

void write_reach_graph(std::FILE* out, const graph::Reach& reach, GraphFormat format) {
  GraphWriter writer(out, format);
  for (const graph::Reached& r : reach.nodes) writer.node(r.node, r.marks, r.at);
  for (const graph::Reached& r : reach.nodes) {
    if (r.parent != graph::kNoParent) writer.edge(r.via);
  }
  writer.finish();
}

}  // namespace catena::report
