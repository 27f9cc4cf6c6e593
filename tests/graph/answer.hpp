#pragma once
// Reading `catena graph blast|origin --format json` answers in tests.
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace catena::graph::test_answer {

// A node's whole path in a json answer: its `via` edges, following `parent` to the start.
inline nlohmann::json path_of(const nlohmann::json& answer, const nlohmann::json& node) {
  nlohmann::json edges = nlohmann::json::array();
  for (const nlohmann::json* at = &node; !(*at)["parent"].is_null();
       at = &answer["nodes"][(*at)["parent"].get<size_t>()]) {
    edges.insert(edges.begin(), (*at)["via"]);
  }
  return edges;
}

// The answer's nodes by "kind:key".
inline std::map<std::string, nlohmann::json> by_node(const nlohmann::json& answer) {
  std::map<std::string, nlohmann::json> out;
  for (const nlohmann::json& n : answer["nodes"]) {
    out[n["kind"].get<std::string>() + ":" + n["key"].get<std::string>()] = n;
  }
  return out;
}

}  // namespace catena::graph::test_answer
