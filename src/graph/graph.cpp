#include "catena/graph/graph.hpp"

#include <algorithm>
#include <array>
#include <queue>
#include <tuple>
#include <unordered_map>

namespace catena::graph {
namespace {

constexpr std::array<std::pair<NodeKind, std::string_view>, 11> kKinds = {{
    {NodeKind::Host, "host"},
    {NodeKind::Account, "account"},
    {NodeKind::Credential, "credential"},
    {NodeKind::Target, "target"},
    {NodeKind::Content, "content"},
    {NodeKind::Occurrence, "occurrence"},
    {NodeKind::Package, "package"},
    {NodeKind::Build, "build"},
    {NodeKind::Artifact, "artifact"},
    {NodeKind::Release, "release"},
    {NodeKind::Deployment, "deployment"},
}};

// A node as a query holds it: what it knows of it, and how it got there.
struct Label {
  NodeRef node;
  int64_t at = 0;
  unsigned hops = 0;
  size_t edge = 0;           // into the query's edges: the edge that led here
  size_t parent = SIZE_MAX;  // the label it came from; SIZE_MAX for the start
};

// The settled labels as the answer's nodes, each pointing at its parent's place in it.
Status report_settled(GraphSource& source,
                      const std::vector<Label>& labels,
                      const std::vector<size_t>& settled,
                      std::vector<Edge>& edges,
                      Reach& reach) {
  std::unordered_map<size_t, size_t> place;  // label → index in reach.nodes
  place.reserve(settled.size());
  for (size_t label : settled) {
    const Label& l = labels[label];
    CATENA_TRY(std::vector<std::string> marks, source.marks(l.node));
    Reached r{.node = l.node, .at = l.at, .hops = l.hops, .via = {}, .marks = std::move(marks)};
    if (l.parent != SIZE_MAX) {
      r.via = std::move(edges[l.edge]);
      r.parent = place.at(l.parent);  // a parent settles before its children
    }
    place[label] = reach.nodes.size();
    reach.nodes.push_back(std::move(r));
  }
  return {};
}

// Where a query starts in time: the option, else the node's first appearance, else the edges'.
Result<int64_t> start_time(GraphSource& source,
                           const NodeRef& node,
                           const std::optional<int64_t>& option,
                           const std::vector<Edge>& edges,
                           bool forward) {
  if (option) return *option;
  CATENA_TRY(std::optional<int64_t> seen, source.first_seen(node));
  if (seen) return *seen;
  if (edges.empty()) {
    return make_error(ErrorCode::NotFound, node_name(node) + " is not in the graph");
  }
  // Its first appearance: the earliest edge that has a beginning (for origin, the edges into
  // it: an artifact appears when a build produced it). None: no bound.
  int64_t at = kOpen;
  for (const Edge& e : edges) {
    if (e.valid_from != kBeginning) at = std::min(at, e.valid_from);
  }
  if (at == kOpen) return forward ? kBeginning : kOpen - 1;
  return at;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view first_label(std::string_view name) { return name.substr(0, name.find('.')); }

}  // namespace

std::string target_host(std::string_view target) {
  if (const size_t scheme = target.find("://"); scheme != std::string_view::npos) {
    target.remove_prefix(scheme + 3);
  }
  if (const size_t end = target.find_first_of("/?#"); end != std::string_view::npos) {
    target = target.substr(0, end);
  }
  if (const size_t at = target.rfind('@'); at != std::string_view::npos) {
    target.remove_prefix(at + 1);
  }
  if (!target.starts_with('[')) {
    if (const size_t colon = target.find(':'); colon != std::string_view::npos) {
      target = target.substr(0, colon);
    }
  }
  while (target.ends_with('.')) target.remove_suffix(1);
  return lower_ascii(target);
}

bool names_host(const std::string& wanted, const std::string& host) {
  if (wanted.empty()) return false;
  const std::string h = lower_ascii(host);
  if (wanted == h) return true;
  const bool target_short = wanted.find('.') == std::string::npos;
  const bool host_short = h.find('.') == std::string::npos;
  if (target_short && !host_short) return first_label(h) == wanted;
  if (host_short && !target_short) return first_label(wanted) == h;
  return false;
}

std::string_view node_kind_name(NodeKind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<NodeKind> parse_node_kind(std::string_view name) {
  for (const auto& [kind, n] : kKinds) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string node_name(const NodeRef& node) {
  return std::string(node_kind_name(node.kind)) + ":" + node.key;
}

std::optional<NodeRef> parse_node_name(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon + 1 == text.size()) return std::nullopt;
  auto kind = parse_node_kind(text.substr(0, colon));
  if (!kind) return std::nullopt;
  return NodeRef{*kind, std::string(text.substr(colon + 1))};
}

void MemoryGraph::add(Edge edge) {
  out_[edge.from].push_back(edges_.size());
  in_[edge.to].push_back(edges_.size());
  edges_.push_back(std::move(edge));
}

Result<std::vector<Edge>> MemoryGraph::edges_from(const NodeRef& node) {
  std::vector<Edge> out;
  if (auto it = out_.find(node); it != out_.end()) {
    for (size_t i : it->second) out.push_back(edges_[i]);
  }
  return out;
}

Result<std::vector<Edge>> MemoryGraph::edges_to(const NodeRef& node) {
  std::vector<Edge> out;
  if (auto it = in_.find(node); it != in_.end()) {
    for (size_t i : it->second) out.push_back(edges_[i]);
  }
  return out;
}

Result<std::optional<int64_t>> MemoryGraph::first_seen(const NodeRef& node) {
  auto it = first_seen_.find(node);
  if (it == first_seen_.end()) return std::optional<int64_t>{};
  return std::optional<int64_t>{it->second};
}

Result<std::vector<std::string>> MemoryGraph::marks(const NodeRef& node) {
  auto it = marks_.find(node);
  return it == marks_.end() ? std::vector<std::string>{} : it->second;
}

Result<Reach> blast(GraphSource& source, const NodeRef& start, const QueryOptions& options) {
  CATENA_TRY(std::vector<Edge> first, source.edges_from(start));
  CATENA_TRY(const int64_t start_at, start_time(source, start, options.since, first, true));
  Reach reach{.start = start, .start_at = start_at};
  std::vector<Edge> edges;
  std::vector<Label> labels{{.node = start, .at = start_at}};
  std::map<NodeRef, size_t> best{{start, 0}};
  // Earliest arrival first; then fewer hops; then the order labels were made.
  using Entry = std::tuple<int64_t, unsigned, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  queue.emplace(start_at, 0u, 0u);
  std::vector<size_t> settled;
  bool first_expansion = true;
  while (!queue.empty()) {
    const auto [at, hops, label] = queue.top();
    queue.pop();
    const NodeRef node = labels[label].node;
    if (best.at(node) != label) continue;  // a better label came since
    if (settled.size() == options.max_nodes) {
      reach.truncated = true;  // one more node was there to report
      break;
    }
    settled.push_back(label);
    if (hops >= options.max_depth) continue;
    std::vector<Edge> out;
    if (first_expansion) {
      out = std::move(first);
      first_expansion = false;
    } else {
      CATENA_TRY(out, source.edges_from(node));
    }
    for (Edge& e : out) {
      const int64_t t = std::max(at, e.valid_from);
      if (t >= e.valid_to) continue;  // over before it could be taken
      if (options.until && t > *options.until) continue;
      auto known = best.find(e.to);
      if (known != best.end()) {
        const Label& had = labels[known->second];
        if (had.at < t || (had.at == t && had.hops <= hops + 1)) continue;
      }
      edges.push_back(std::move(e));
      labels.push_back({.node = edges.back().to,
                        .at = t,
                        .hops = hops + 1,
                        .edge = edges.size() - 1,
                        .parent = label});
      best[edges.back().to] = labels.size() - 1;
      queue.emplace(t, hops + 1, labels.size() - 1);
    }
  }
  CATENA_TRY_STATUS(report_settled(source, labels, settled, edges, reach));
  return reach;
}

Result<Reach> origin(GraphSource& source, const NodeRef& target, const QueryOptions& options) {
  CATENA_TRY(std::vector<Edge> first, source.edges_to(target));
  CATENA_TRY(const int64_t target_at, start_time(source, target, options.until, first, false));
  Reach reach{.backward = true, .start = target, .start_at = target_at};
  std::vector<Edge> edges;
  std::vector<Label> labels{{.node = target, .at = target_at}};
  std::map<NodeRef, size_t> best{{target, 0}};
  // Latest deadline first; then fewer hops; then the order labels were made.
  using Entry = std::tuple<int64_t, int64_t, int64_t>;  // (deadline, -hops, -label)
  std::priority_queue<Entry> queue;
  queue.emplace(target_at, 0, 0);
  std::vector<size_t> settled;
  bool first_expansion = true;
  while (!queue.empty()) {
    const auto [deadline, negative_hops, negative_label] = queue.top();
    queue.pop();
    const auto label = static_cast<size_t>(-negative_label);
    const auto hops = static_cast<unsigned>(-negative_hops);
    const NodeRef node = labels[label].node;
    if (best.at(node) != label) continue;
    if (settled.size() == options.max_nodes) {
      reach.truncated = true;  // one more node was there to report
      break;
    }
    settled.push_back(label);
    if (hops >= options.max_depth) continue;
    std::vector<Edge> in;
    if (first_expansion) {
      in = std::move(first);
      first_expansion = false;
    } else {
      CATENA_TRY(in, source.edges_to(node));
    }
    for (Edge& e : in) {
      // Reached by `latest`, the tail still takes this edge in time for the head's deadline.
      if (e.valid_from > deadline) continue;
      const int64_t latest = std::min(deadline, e.valid_to - 1);
      if (options.since && latest < *options.since) continue;
      auto known = best.find(e.from);
      if (known != best.end()) {
        const Label& had = labels[known->second];
        if (had.at > latest || (had.at == latest && had.hops <= hops + 1)) continue;
      }
      edges.push_back(std::move(e));
      labels.push_back({.node = edges.back().from,
                        .at = latest,
                        .hops = hops + 1,
                        .edge = edges.size() - 1,
                        .parent = label});
      best[edges.back().from] = labels.size() - 1;
      queue.emplace(latest, -static_cast<int64_t>(hops + 1),
                    -static_cast<int64_t>(labels.size() - 1));
    }
  }
  CATENA_TRY_STATUS(report_settled(source, labels, settled, edges, reach));
  // The likely patient zero first: what is marked, earliest first; then the rest by time.
  std::vector<size_t> order(reach.nodes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  if (order.size() > 1) {
    std::stable_sort(order.begin() + 1, order.end(), [&](size_t a, size_t b) {
      const Reached& x = reach.nodes[a];
      const Reached& y = reach.nodes[b];
      if (x.marks.empty() != y.marks.empty()) return !x.marks.empty();
      return x.at < y.at;
    });
  }
  std::vector<size_t> position(order.size());
  for (size_t i = 0; i < order.size(); ++i) position[order[i]] = i;
  std::vector<Reached> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) {
    sorted.push_back(std::move(reach.nodes[i]));
    if (sorted.back().parent != kNoParent) sorted.back().parent = position[sorted.back().parent];
  }
  reach.nodes = std::move(sorted);
  return reach;
}

std::vector<Edge> path_to(const Reach& reach, size_t index) {
  std::vector<Edge> out;
  for (size_t at = index; at < reach.nodes.size() && reach.nodes[at].parent != kNoParent;
       at = reach.nodes[at].parent) {
    out.push_back(reach.nodes[at].via);
  }
  if (!reach.backward) std::reverse(out.begin(), out.end());
  return out;
}

Result<std::vector<Path>> paths(GraphSource& source,
                                const NodeRef& from,
                                const NodeRef& to,
                                const QueryOptions& options) {
  CATENA_TRY(std::vector<Edge> first, source.edges_from(from));
  CATENA_TRY(const int64_t start_at, start_time(source, from, options.since, first, true));
  std::vector<Edge> edges;
  std::vector<Label> labels{{.node = from, .at = start_at}};
  std::map<NodeRef, int64_t> earliest{{from, start_at}};
  std::map<NodeRef, std::vector<Edge>> fetched{{from, std::move(first)}};
  std::vector<Path> out;
  if (from == to) return out;
  // Round k extends the labels that improved in round k-1 by one hop: each round's arrival at
  // a node is the earliest any path of at most k hops gives.
  std::vector<size_t> frontier{0};
  for (unsigned hop = 1; hop <= options.max_depth && !frontier.empty(); ++hop) {
    std::map<NodeRef, size_t> improved;
    for (size_t label : frontier) {
      const NodeRef node = labels[label].node;
      if (node == to) continue;  // a path goes no further than its end
      auto cached = fetched.find(node);
      if (cached == fetched.end()) {
        CATENA_TRY(std::vector<Edge> out_edges, source.edges_from(node));
        cached = fetched.emplace(node, std::move(out_edges)).first;
      }
      for (const Edge& e : cached->second) {
        const int64_t t = std::max(labels[label].at, e.valid_from);
        if (t >= e.valid_to) continue;
        if (options.until && t > *options.until) continue;
        auto had = earliest.find(e.to);
        if (had != earliest.end() && had->second <= t) continue;
        earliest[e.to] = t;
        edges.push_back(e);
        labels.push_back(
            {.node = e.to, .at = t, .hops = hop, .edge = edges.size() - 1, .parent = label});
        improved[e.to] = labels.size() - 1;
        if (labels.size() >= options.max_nodes) break;
      }
    }
    if (auto reached = improved.find(to); reached != improved.end()) {
      Path path{.arrives_at = labels[reached->second].at, .edges = {}};
      for (size_t at = reached->second; labels[at].parent != SIZE_MAX; at = labels[at].parent) {
        path.edges.push_back(edges[labels[at].edge]);
      }
      std::reverse(path.edges.begin(), path.edges.end());
      out.push_back(std::move(path));
    }
    frontier.clear();
    for (const auto& [node, label] : improved) frontier.push_back(label);
    if (labels.size() >= options.max_nodes) break;
  }
  return out;
}

}  // namespace catena::graph
