// Time-respecting queries on small graphs made by hand, each built so that a query that
// ignored time, kept a later arrival or walked a cycle forever would answer otherwise.
#include "catena/graph/graph.hpp"

#include <gtest/gtest.h>

#include <map>

namespace catena::graph {
namespace {

NodeRef content(const std::string& key) { return {NodeKind::Content, key}; }
NodeRef host(const std::string& key) { return {NodeKind::Host, key}; }
NodeRef credential(const std::string& key) { return {NodeKind::Credential, key}; }
NodeRef build(const std::string& key) { return {NodeKind::Build, key}; }
NodeRef release(const std::string& key) { return {NodeKind::Release, key}; }

Edge edge(NodeRef from, NodeRef to, int64_t valid_from, int64_t valid_to = kOpen) {
  return {.from = std::move(from),
          .to = std::move(to),
          .kind = "e",
          .valid_from = valid_from,
          .valid_to = valid_to,
          .evidence = {}};
}
// Something that happened at one moment (a build ran, a release shipped).
Edge event(NodeRef from, NodeRef to, int64_t at) { return edge(from, to, at, at + 1); }

std::map<std::string, int64_t> arrivals(const Reach& reach) {
  std::map<std::string, int64_t> out;
  for (const Reached& r : reach.nodes) out[node_name(r.node)] = r.at;
  return out;
}

std::vector<std::string> hops_of(const std::vector<Edge>& path) {
  std::vector<std::string> out;
  for (const Edge& e : path) out.push_back(node_name(e.to));
  return out;
}

TEST(GraphNames, RoundTripAndRejectTheUnknown) {
  const NodeRef n{NodeKind::Occurrence, "dev-ws|/opt/x_trader/setup.exe"};
  EXPECT_EQ(node_name(n), "occurrence:dev-ws|/opt/x_trader/setup.exe");
  EXPECT_EQ(parse_node_name(node_name(n)), n);
  EXPECT_FALSE(parse_node_name("nothing"));
  EXPECT_FALSE(parse_node_name("planet:earth"));
  EXPECT_FALSE(parse_node_name("host:"));
  for (const auto kind :
       {NodeKind::Host, NodeKind::Account, NodeKind::Credential, NodeKind::Target,
        NodeKind::Content, NodeKind::Occurrence, NodeKind::Package, NodeKind::Build,
        NodeKind::Artifact, NodeKind::Release, NodeKind::Deployment}) {
    EXPECT_EQ(parse_node_kind(node_kind_name(kind)), kind);
  }
}

TEST(GraphNames, TargetsNameHostsAsSshAndRemotesDo) {
  EXPECT_EQ(target_host("ssh://git@Build-01.corp:2222/org/repo.git"), "build-01.corp");
  EXPECT_EQ(target_host("git@build-01:org/repo.git"), "build-01");
  EXPECT_EQ(target_host("https://registry.npmjs.org/"), "registry.npmjs.org");
  EXPECT_EQ(target_host("build-01."), "build-01");
  EXPECT_EQ(target_host("[::1]:22"), "[::1]:22");
  EXPECT_TRUE(names_host("build-01", "build-01"));
  EXPECT_TRUE(names_host("build-01", "Build-01.corp.example"));  // short alias, full record
  EXPECT_TRUE(names_host("build-01.corp.example", "build-01"));  // full name, short record
  EXPECT_FALSE(names_host("build-01.corp.example", "build-01.other.example"));
  EXPECT_FALSE(names_host("build-0", "build-01"));
  EXPECT_FALSE(names_host("", "build-01"));
}

// The installer arrives at 100: the build of 50 on the host it reached is not reached, the
// build of 150 is, and so is what that build produced.
TEST(GraphBlast, AHopBeforeArrivalIsNotTaken) {
  MemoryGraph g;
  g.add(edge(content("installer"), host("dev-ws"), 100));
  g.add(edge(host("dev-ws"), credential("ssh-key"), 0));
  g.add(edge(credential("ssh-key"), host("build-01"), 0));
  g.add(event(host("build-01"), build("b1"), 50));
  g.add(event(host("build-01"), build("b2"), 150));
  g.add(event(build("b1"), content("app-1.zip"), 60));
  g.add(event(build("b2"), content("app-2.zip"), 160));
  auto reach = blast(g, content("installer"), {});
  ASSERT_TRUE(reach) << reach.error().describe();
  EXPECT_EQ(reach->start_at, 100);  // no first appearance recorded: its earliest edge
  const auto at = arrivals(*reach);
  EXPECT_EQ(at.at("host:build-01"), 100);
  EXPECT_EQ(at.at("build:b2"), 150);
  EXPECT_EQ(at.at("content:app-2.zip"), 160);
  EXPECT_FALSE(at.contains("build:b1"));
  EXPECT_FALSE(at.contains("content:app-1.zip"));
  const Reached& zip = reach->nodes.back();
  ASSERT_EQ(node_name(zip.node), "content:app-2.zip");
  EXPECT_EQ(zip.hops, 5u);
  EXPECT_EQ(hops_of(path_to(*reach, reach->nodes.size() - 1)),
            (std::vector<std::string>{"host:dev-ws", "credential:ssh-key", "host:build-01",
                                      "build:b2", "content:app-2.zip"}));
  EXPECT_EQ(reach->nodes.front().node, content("installer"));
}

// A credential removed from the host at 120: a host reached at 130 does not reach it; one
// reached at 110 does, at 110. A window opening later is entered when it opens.
TEST(GraphBlast, WindowsThatCloseAreNotEntered) {
  MemoryGraph g;
  g.add(edge(content("late"), host("a"), 130));
  g.add(edge(content("early"), host("a"), 110));
  g.add(edge(host("a"), credential("k"), 0, 120));
  g.add(edge(host("a"), credential("later"), 500, 600));
  const auto late = blast(g, content("late"), {});
  ASSERT_TRUE(late);
  EXPECT_FALSE(arrivals(*late).contains("credential:k"));
  EXPECT_EQ(arrivals(*late).at("credential:later"), 500);
  const auto early = blast(g, content("early"), {});
  ASSERT_TRUE(early);
  EXPECT_EQ(arrivals(*early).at("credential:k"), 110);
  // --since moves exposure: from 125 even the early content misses the credential.
  const auto since = blast(g, content("early"), {.since = 125});
  ASSERT_TRUE(since);
  EXPECT_FALSE(arrivals(*since).contains("credential:k"));
}

// Two ways to the release: a short one that opens late and a longer one that arrives first.
// The earliest arrival is kept, with its own path; `paths` gives both, fewest hops first.
TEST(GraphBlast, TheEarliestOfTwoPathsIsKept) {
  MemoryGraph g;
  g.add(edge(content("c"), host("h"), 10));
  g.add(edge(host("h"), release("r"), 300));  // direct, from 300
  g.add(edge(host("h"), build("b"), 20));
  g.add(edge(build("b"), host("h2"), 30));
  g.add(edge(host("h2"), release("r"), 40));
  auto reach = blast(g, content("c"), {});
  ASSERT_TRUE(reach);
  for (size_t i = 0; i < reach->nodes.size(); ++i) {
    if (reach->nodes[i].node != release("r")) continue;
    EXPECT_EQ(reach->nodes[i].at, 40);
    EXPECT_EQ(hops_of(path_to(*reach, i)),
              (std::vector<std::string>{"host:h", "build:b", "host:h2", "release:r"}));
    // The tree: its parent is the node its last edge came from.
    EXPECT_EQ(reach->nodes[reach->nodes[i].parent].node, host("h2"));
    EXPECT_EQ(reach->nodes[i].via.from, host("h2"));
  }
  auto found = paths(g, content("c"), release("r"), {});
  ASSERT_TRUE(found);
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].arrives_at, 300);
  EXPECT_EQ((*found)[0].edges.size(), 2u);
  EXPECT_EQ((*found)[1].arrives_at, 40);
  EXPECT_EQ((*found)[1].edges.size(), 4u);
  // A path that cannot be time-respecting is none.
  auto none = paths(g, build("b"), content("c"), {});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

// A build that consumes its own earlier product: the cycle is walked once and the query ends.
TEST(GraphBlast, ACycleEndsAndAnUnknownNodeIsNotFound) {
  MemoryGraph g;
  g.add(edge(content("tool"), build("b"), 10));
  g.add(event(build("b"), content("out"), 20));
  g.add(edge(content("out"), build("b"), 20));
  g.add(event(build("b"), content("out2"), 30));
  auto reach = blast(g, content("tool"), {});
  ASSERT_TRUE(reach);
  EXPECT_EQ(reach->nodes.size(), 4u);
  EXPECT_EQ(arrivals(*reach).at("content:out2"), 30);

  MemoryGraph empty;
  auto missing = blast(empty, content("never"), {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_FALSE(origin(empty, content("never"), {}));
  // A node with a recorded first appearance and no edges reaches only itself.
  empty.set_first_seen(content("alone"), 5);
  auto alone = blast(empty, content("alone"), {});
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->nodes.size(), 1u);
  EXPECT_EQ(alone->start_at, 5);
}

TEST(GraphBlast, UntilDepthAndSizeBoundTheAnswer) {
  MemoryGraph g;
  for (int i = 0; i < 10; ++i) {
    g.add(edge(host("h" + std::to_string(i)), host("h" + std::to_string(i + 1)), i * 10));
  }
  auto all = blast(g, host("h0"), {.since = 0});
  ASSERT_TRUE(all);
  EXPECT_EQ(all->nodes.size(), 11u);
  auto until = blast(g, host("h0"), {.since = 0, .until = 45});
  ASSERT_TRUE(until);
  EXPECT_EQ(until->nodes.size(), 6u);  // h0 and the hops taken at 0..40
  auto shallow = blast(g, host("h0"), {.since = 0, .max_depth = 3});
  ASSERT_TRUE(shallow);
  EXPECT_EQ(shallow->nodes.size(), 4u);
  auto small = blast(g, host("h0"), {.since = 0, .max_nodes = 5});
  ASSERT_TRUE(small);
  EXPECT_EQ(small->nodes.size(), 5u);
  EXPECT_TRUE(small->truncated);
}

// Backward: what could have led to the injected DLL by the time it was produced. The build of
// 150 did (its host was reached through the key from the workstation the installer was on);
// the installer that arrived only at 400 did not.
TEST(GraphOrigin, LeadsBackThroughTimeOnly) {
  MemoryGraph g;
  g.add(edge(content("installer"), host("dev-ws"), 100));
  g.add(edge(content("late-tool"), host("dev-ws"), 400));
  g.add(edge(host("dev-ws"), credential("ssh-key"), 0));
  g.add(edge(credential("ssh-key"), host("build-01"), 0));
  g.add(event(host("build-01"), build("b2"), 150));
  g.add(event(build("b2"), content("ffmpeg.dll"), 160));
  g.set_first_seen(content("ffmpeg.dll"), 160);
  g.mark(content("installer"), "indicator: 3CX X_TRADER installer");
  auto back = origin(g, content("ffmpeg.dll"), {});
  ASSERT_TRUE(back) << back.error().describe();
  // What matched intelligence leads, as the likely patient zero.
  ASSERT_GE(back->nodes.size(), 2u);
  EXPECT_EQ(back->nodes[1].node, content("installer"));
  EXPECT_EQ(back->nodes[1].marks, std::vector<std::string>{"indicator: 3CX X_TRADER installer"});
  const auto latest = arrivals(*back);
  EXPECT_EQ(latest.at("build:b2"), 160);  // reached by the moment it produced the DLL
  EXPECT_EQ(latest.at("host:build-01"), 150);
  EXPECT_EQ(latest.at("content:installer"), 150);
  EXPECT_FALSE(latest.contains("content:late-tool"));
  for (size_t i = 0; i < back->nodes.size(); ++i) {
    if (back->nodes[i].node != content("installer")) continue;
    const std::vector<Edge> path = path_to(*back, i);
    ASSERT_EQ(path.size(), 5u);
    EXPECT_EQ(path.front().from, content("installer"));
    EXPECT_EQ(path.back().to, content("ffmpeg.dll"));
  }
}

}  // namespace
}  // namespace catena::graph
