#pragma once
/// What the graph reads from a store besides what scans, access discoveries and attestations
/// already record there: release manifests (which files a named release version carried) and
/// deployments (which site installed which release, and when). The store is a GraphSource
/// over all of it.
///
///   CATENA_TRY_STATUS(store.put_release({.name = "3cx-desktop", .version = "18.12.416", ...}));
///   CATENA_TRY_STATUS(store.put_deployments(read_deployments(text)));
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/result.hpp"
#include "catena/graph/graph.hpp"

namespace catena::graph {

struct ReleaseFileRecord {
  std::string path;  // inside the release, with its nesting ("setup.msi!/ffmpeg.dll")
  Sha256 sha256{};
};

struct ReleaseRecord {
  std::string name, version;
  int64_t released_ns = 0;  // when it was recorded, or the time given for it
  std::string source;       // the path inspected
  std::vector<ReleaseFileRecord> files;
};

struct Deployment {
  std::string site;  // a customer or site
  std::string release_name, release_version;
  int64_t installed_ns = 0;
  std::optional<int64_t> removed_ns;
  std::string source;  // the file and line it came from
};

class GraphStore : public GraphSource {
 public:
  /// Records a release version's files, replacing what was recorded for the same name and
  /// version.
  [[nodiscard]] virtual Status put_release(const ReleaseRecord& release) = 0;
  /// Adds deployments (one transaction).
  [[nodiscard]] virtual Status put_deployments(const std::vector<Deployment>& deployments) = 0;
  /// Every node, each once, kind by kind (an export): those some edge leaves or enters.
  [[nodiscard]] virtual Status for_each_node(
      const std::function<Status(const NodeRef&)>& visit) = 0;
  /// Every edge, each as often as the edges_from of its tail gives it, kind by kind: the
  /// whole graph read table by table rather than node by node.
  [[nodiscard]] virtual Status for_each_edge(const std::function<Status(const Edge&)>& visit) = 0;
};

}  // namespace catena::graph
