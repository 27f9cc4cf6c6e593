#pragma once
/// The supply-chain graph: hosts, accounts, credentials, the targets credentials reach,
/// contents and where they lay, builds, artifacts, releases and the sites that installed them,
/// joined by edges that hold only for a while. Queries follow time: a hop is taken only at or
/// after the moment its tail was reached, and only while the edge held.
///
///   MemoryGraph g;                                  // or the store, as a GraphSource
///   g.add({.from = content("ab…"), .to = host("dev-ws"), .kind = "on", .valid_from = t0});
///   CATENA_TRY(Reach r, blast(g, content("ab…"), {.since = t0}));
///   for (const Reached& n : r.nodes) ...             // earliest arrival and the path to it
///
/// Time is nanoseconds since the epoch. An edge holds over [valid_from, valid_to): valid_to is
/// the first moment it was known not to hold (kOpen while it still does). An event (a build
/// that ran, a release that shipped) is an edge that holds at one instant: valid_to =
/// valid_from + 1.
///
/// Reached at time t, a node's edge is taken at max(t, valid_from) when that is before
/// valid_to: a build that ran before a tool arrived is not reached, nor a credential copied to
/// a host after the host was cleaned. Each reached node keeps its earliest arrival, and the
/// path that gives it (ties: fewer hops, then the order edges were given).
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::graph {

inline constexpr int64_t kOpen = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kBeginning = std::numeric_limits<int64_t>::min();

enum class NodeKind {
  Host,
  Account,     // a home on a host: "host|user"
  Credential,  // the keyed identity access discovery records; never a secret
  Target,      // what a credential reaches: a host, registry, repository, signing identity
  Content,     // a SHA-256, hex
  Occurrence,  // a path on a host: "host|path"
  Package,
  Build,       // an attestation, by its id in the store
  Artifact,    // a build's product: "build|name"
  Release,     // "name|version"
  Deployment,  // a customer or site that installed a release
};

std::string_view node_kind_name(NodeKind kind);
std::optional<NodeKind> parse_node_kind(std::string_view name);

struct NodeRef {
  NodeKind kind = NodeKind::Content;
  std::string key;
  auto operator<=>(const NodeRef&) const = default;
};
/// "content:ab12…", "host:dev-ws": how nodes are named on the command line and in output.
std::string node_name(const NodeRef& node);
std::optional<NodeRef> parse_node_name(std::string_view text);

struct Edge {
  NodeRef from, to;
  std::string kind;  // "occurs-at", "on-host", "holds", "reaches", "ran-on", ...
  int64_t valid_from = kBeginning;
  int64_t valid_to = kOpen;
  /// Where it was observed: "scan 12", "attestation 3", "access discovery 2026-…", a file.
  std::string evidence;
};

/// Where edges come from: the store, or a graph held in memory. A query asks only for the
/// edges of the nodes it reaches, so a large store is read in proportion to the answer.
class GraphSource {
 public:
  virtual ~GraphSource() = default;
  /// Edges leaving `node`, in a stable order.
  [[nodiscard]] virtual Result<std::vector<Edge>> edges_from(const NodeRef& node) = 0;
  /// Edges entering `node`, in a stable order.
  [[nodiscard]] virtual Result<std::vector<Edge>> edges_to(const NodeRef& node) = 0;
  /// When the node was first recorded (a content's first appearance), when known.
  [[nodiscard]] virtual Result<std::optional<int64_t>> first_seen(const NodeRef& node) = 0;
  /// What marks the node as suspect: an indicator or YARA rule its content matches, a blocked
  /// signer, a host's failed audit. Empty by default.
  [[nodiscard]] virtual Result<std::vector<std::string>> marks(const NodeRef& node) {
    (void)node;
    return std::vector<std::string>{};
  }
};

/// A graph held in memory: hand-made graphs, a store's graph exported.
class MemoryGraph : public GraphSource {
 public:
  void add(Edge edge);
  Result<std::vector<Edge>> edges_from(const NodeRef& node) override;
  Result<std::vector<Edge>> edges_to(const NodeRef& node) override;
  Result<std::optional<int64_t>> first_seen(const NodeRef& node) override;
  Result<std::vector<std::string>> marks(const NodeRef& node) override;
  void set_first_seen(const NodeRef& node, int64_t at) { first_seen_[node] = at; }
  void mark(const NodeRef& node, std::string why) { marks_[node].push_back(std::move(why)); }
  const std::vector<Edge>& edges() const { return edges_; }

 private:
  std::vector<Edge> edges_;
  std::map<NodeRef, std::vector<size_t>> out_, in_;
  std::map<NodeRef, int64_t> first_seen_;
  std::map<NodeRef, std::vector<std::string>> marks_;
};

struct QueryOptions {
  /// When exposure starts (blast) or the latest moment that matters (origin); unset: the
  /// start node's first appearance (blast), the target's (origin), or the beginning.
  std::optional<int64_t> since;
  std::optional<int64_t> until;  // hops taken after it are not followed
  unsigned max_depth = 16;       // hops from the start node
  size_t max_nodes = 100'000;    // nodes reached before the query stops (Reach::truncated)
};

inline constexpr size_t kNoParent = static_cast<size_t>(-1);

/// A node reached, as a tree: the edge that reached it and the node it came from, so that an
/// answer of n nodes holds n edges however long its paths (path_to gives a whole path).
struct Reached {
  NodeRef node;
  /// Blast: the earliest moment it was reached. Origin: the latest moment it could have been
  /// reached and still led to the target.
  int64_t at = 0;
  unsigned hops = 0;
  /// Blast: the edge from `parent` to it. Origin: the edge from it to `parent`, its next step
  /// towards the target. None for the start node.
  Edge via;
  size_t parent = kNoParent;       // index in Reach::nodes
  std::vector<std::string> marks;  // GraphSource::marks
};

struct Reach {
  bool backward = false;  // origin
  NodeRef start;
  int64_t start_at = 0;
  /// The start node first; then by time (blast), or the marked ones first and then by time
  /// (origin: the likely patient zero leads).
  std::vector<Reached> nodes;
  bool truncated = false;  // max_nodes was hit
};

/// The host a target names, as an ssh config, a remote URL or a registry names it, lowercased:
/// "ssh://git@Build-01.corp:2222/repo" → "build-01.corp".
std::string target_host(std::string_view target);
/// Whether a target's host (target_host) names a recorded host: the same name, or one is the
/// other's first label ("build-01" and "build-01.corp.example"), as ssh aliases and short
/// remotes do.
bool names_host(const std::string& wanted, const std::string& host);

/// Forward and time-respecting: every node the start reaches, with its earliest arrival and
/// the path that gives it. NotFound when the start node has no edges and no first appearance.
[[nodiscard]] Result<Reach> blast(GraphSource& source,
                                  const NodeRef& start,
                                  const QueryOptions& options);

/// Backward and time-respecting: every node from which the target could have been reached by
/// the time it appeared (or `until`), each with the latest moment it could have been reached
/// and the path from it to the target.
[[nodiscard]] Result<Reach> origin(GraphSource& source,
                                   const NodeRef& target,
                                   const QueryOptions& options);

/// The whole path of nodes[index]: blast, from the start node to it; origin, from it to the
/// target.
std::vector<Edge> path_to(const Reach& reach, size_t index);

struct Path {
  int64_t arrives_at = 0;
  std::vector<Edge> edges;
};

/// The time-respecting paths from `from` to `to` that no other path beats on both hops and
/// arrival: the fewest hops first, each later one arriving earlier. Empty when none.
[[nodiscard]] Result<std::vector<Path>> paths(GraphSource& source,
                                              const NodeRef& from,
                                              const NodeRef& to,
                                              const QueryOptions& options);

}  // namespace catena::graph
