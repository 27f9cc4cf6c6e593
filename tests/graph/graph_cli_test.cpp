// The graph read from what real commands recorded: scans of a workstation before and after an
// installer arrived, an access scan of its home (an SSH key its config uses for the build
// host), builds attested on the build host before and after, the releases they made recorded
// by `release inspect --store`, and deployments imported from a CSV. Each source gives its
// edges, and blast and origin answer through time.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "answer.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/time.hpp"
#include "catena/graph/deployments.hpp"
#include "catena/store/store.hpp"
#include "catena/trust/keys.hpp"
#include "support/browser.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::graph {
namespace {

using nlohmann::json;
using test_answer::by_node;
using test_answer::path_of;

test::RunResult run_in(const std::string& dir, std::vector<std::string> argv) {
  std::vector<std::string> wrapped = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return test::run_command(wrapped);
}

// Time moves on between steps, so that "before" and "after" are told apart by the clock.
void tick() { std::this_thread::sleep_for(std::chrono::milliseconds(20)); }

class GraphCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_ / "store.db";
    dir_.write("ws/home/dev/notes.txt", "nothing yet\n");
    dir_.write("ws/home/dev/.ssh/config", "Host build\n  HostName build-01\n  User ci\n");
    const test::RunResult keygen = test::run_command({"ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                                                      "-f", dir_ / "ws/home/dev/.ssh/id_ed25519"});
    ASSERT_EQ(keygen.exit_code, 0) << keygen.err;
    ASSERT_THAT(trust::generate_key_files(dir_ / "key", trust::KeyType::Ed25519), test::IsOk());
    dir_.write("b/src/main.c", "int main(void) { return 0; }\n");
    dir_.write("b/plugin.dll", "MZ original plugin\n");
  }

  test::RunResult catena(std::vector<std::string> args) {
    args.push_back("--db");
    args.push_back(db_);
    return test::run_catena(args);
  }

  // A build on build-01 that zips its source and plugin into release-N/app.zip.
  void build(const std::string& n) {
    const std::string out = "release-" + n;
    const test::RunResult r =
        run_in(dir_ / "b", {CATENA_BINARY, "attest", "--step", "build-" + n, "--host", "build-01",
                            "--key", dir_ / "key", "--db", db_, "-m", "src", "-p", out, "--", "sh",
                            "-c", "mkdir -p " + out + " && cp src/main.c plugin.dll " + out + "/"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  void record_release(const std::string& n) {
    const test::RunResult r = catena({"release", "inspect", "--store", "--name", "app", "--version",
                                      n, "--format", "json", dir_ / "b/release-" + n});
    ASSERT_LE(r.exit_code, 1) << r.err;
  }

  test::TempDir dir_;
  std::string db_;
};

TEST_F(GraphCli, EachSourceGivesItsEdgesAndBlastFollowsTime) {
  ASSERT_EQ(catena({"scan", "--host", "dev-ws", dir_ / "ws"}).exit_code, 0);
  ASSERT_EQ(
      catena({"access", "scan", "--host", "dev-ws", "--home", dir_ / "ws/home/dev", "--no-system"})
          .exit_code,
      0);
  ASSERT_EQ(catena({"scan", "--host", "build-01", dir_ / "b"}).exit_code, 0);
  tick();
  build("1");
  record_release("1");
  tick();
  // The installer arrives on the workstation; the next scan sees it.
  const std::string installer = "#!/bin/sh\n# X_TRADER installer, trojanized\n";
  dir_.write("ws/home/dev/Downloads/x_trader_install.sh", installer);
  ASSERT_EQ(catena({"scan", "--host", "dev-ws", dir_ / "ws"}).exit_code, 0);
  tick();
  dir_.write("b/plugin.dll", "MZ plugin with injected code\n");
  build("2");
  record_release("2");
  const std::string installed_1 = format_rfc3339(now_ns() - 3'600'000'000'000);
  dir_.write("deployments.csv",
             "site,release,version,installed_at,removed_at\n"
             "old-customer,app,1," +
                 installed_1 +
                 ",\n"
                 "new-customer,app,2,2099-01-01,\n");
  const test::RunResult imported =
      catena({"graph", "import-deployments", dir_ / "deployments.csv"});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.out.find("2 deployments"), std::string::npos);

  const std::string sha = test::sha256_hex(installer);
  const test::RunResult blast = catena({"graph", "blast", "--sha256", sha, "--format", "json"});
  ASSERT_EQ(blast.exit_code, 0) << blast.err;
  const json blast_answer = json::parse(blast.out);
  const auto reached = by_node(blast_answer);
  EXPECT_TRUE(reached.contains("host:dev-ws")) << blast.out;
  EXPECT_TRUE(reached.contains("account:dev-ws|root")) << blast.out;
  EXPECT_TRUE(reached.contains("target:build-01")) << blast.out;
  EXPECT_TRUE(reached.contains("host:build-01")) << blast.out;
  size_t credentials = 0, builds = 0;
  for (const auto& [name, node] : reached) {
    credentials += name.starts_with("credential:SHA256:");
    builds += name.starts_with("build:");
  }
  EXPECT_EQ(credentials, 1u);
  EXPECT_EQ(builds, 1u);  // the second build only: the first ran before the installer came
  const std::string dll_2 = test::sha256_hex("MZ plugin with injected code\n");
  const std::string dll_1 = test::sha256_hex("MZ original plugin\n");
  EXPECT_TRUE(reached.contains("content:" + dll_2)) << blast.out;
  EXPECT_FALSE(reached.contains("content:" + dll_1)) << blast.out;
  EXPECT_TRUE(reached.contains("release:app|2")) << blast.out;
  EXPECT_FALSE(reached.contains("release:app|1")) << blast.out;
  EXPECT_TRUE(reached.contains("deployment:new-customer")) << blast.out;
  EXPECT_FALSE(reached.contains("deployment:old-customer")) << blast.out;
  // The path to the second release, each edge with its evidence.
  const json& release = reached.at("release:app|2");
  std::vector<std::string> kinds;
  const json release_path = path_of(blast_answer, release);
  for (const json& e : release_path) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"lay-at", "on", "home", "holds", "reaches", "names",
                                             "ran", "produced", "is", "shipped-in"}));
  EXPECT_NE(release_path[0]["evidence"].get<std::string>().find("scan "), std::string::npos);
  EXPECT_EQ(release["hops"], 10);

  // Backward from the injected DLL: the build, its host, the key and the installer, which an
  // indicator names and so leads the answer.
  dir_.write("feed.csv", "sha256,label,source\n" + sha + ",trojanized X_TRADER,unit test\n");
  ASSERT_EQ(catena({"intel", "import", dir_ / "feed.csv", "--feed", "csv"}).exit_code, 0);
  const test::RunResult origin = catena({"graph", "origin", "--sha256", dll_2, "--format", "json"});
  ASSERT_EQ(origin.exit_code, 0) << origin.err;
  const json answer = json::parse(origin.out);
  const auto led = by_node(answer);
  EXPECT_TRUE(led.contains("host:build-01")) << origin.out;
  EXPECT_TRUE(led.contains("host:dev-ws")) << origin.out;
  ASSERT_GE(answer["nodes"].size(), 2u);
  EXPECT_EQ(answer["nodes"][1]["key"], sha) << origin.out;
  ASSERT_EQ(answer["nodes"][1]["marks"].size(), 1u);
  EXPECT_NE(answer["nodes"][1]["marks"][0].get<std::string>().find("trojanized X_TRADER"),
            std::string::npos);

  // The table names the same, with paths beneath each node.
  const test::RunResult table = catena({"graph", "blast", "--sha256", sha});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("release:app|2"), std::string::npos);
  EXPECT_NE(table.out.find("-[shipped-in]->"), std::string::npos);

  // The page: the picture and every node, as Chromium shows them.
  const std::string page = dir_ / "blast.html";
  ASSERT_EQ(catena({"graph", "blast", "--sha256", sha, "--html", page}).exit_code, 0);
  const std::string html = test::read_file(page);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  const test::RenderedPage shown = test::render_page(page, dir_.path(), "graph-blast.png", 1400);
  if (!shown.rendered) CATENA_MISSING() << shown.error;
  EXPECT_NE(shown.text.find("nodes reached"), std::string::npos) << shown.text;
  EXPECT_NE(shown.text.find("release:app|2"), std::string::npos) << shown.text;
  EXPECT_NE(shown.text.find("deployment:new-customer"), std::string::npos) << shown.text;
  EXPECT_EQ(shown.text.find("release:app|1"), std::string::npos);
  const std::string origin_page = dir_ / "origin.html";
  ASSERT_EQ(catena({"graph", "origin", "--sha256", dll_2, "--html", origin_page}).exit_code, 0);
  const test::RenderedPage back =
      test::render_page(origin_page, dir_.path(), "graph-origin.png", 1400);
  if (!back.rendered) CATENA_MISSING() << back.error;
  EXPECT_NE(back.text.find("1 node matched intelligence"), std::string::npos) << back.text;
  EXPECT_NE(back.text.find("trojanized"), std::string::npos) << back.text;  // the mark

  // A path query, and what is never seen.
  const test::RunResult path =
      catena({"graph", "path", "--from", "host:dev-ws", "--to", "deployment:new-customer",
              "--since", format_rfc3339(now_ns() - 60'000'000'000)});
  ASSERT_EQ(path.exit_code, 0) << path.err;
  EXPECT_NE(path.out.find("hops, arriving"), std::string::npos) << path.out;
  const test::RunResult unknown = catena({"graph", "blast", "--sha256", std::string(64, '0')});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("not in the graph"), std::string::npos) << unknown.err;
}

// A whole store exported: the store's table-by-table reading gives exactly the edges its
// node-by-node reading does, and each format is read back by what reads it (GraphViz for DOT,
// the OpenGraph rules for BloodHound's JSON).
TEST_F(GraphCli, ExportGivesTheWholeGraphInEachFormat) {
  ASSERT_EQ(catena({"scan", "--host", "dev-ws", dir_ / "ws"}).exit_code, 0);
  ASSERT_EQ(
      catena({"access", "scan", "--host", "dev-ws", "--home", dir_ / "ws/home/dev", "--no-system"})
          .exit_code,
      0);
  // Files this machine's dpkg says two packages own (dpkg, dpkg-dev): package nodes.
  ASSERT_EQ(catena({"scan", "--host", "pkg-host", "/usr/share/dpkg"}).exit_code, 0);
  tick();
  build("1");
  record_release("1");
  dir_.write("deployments.csv", "site,release,version,installed_at\ncustomer,app,1,2099-01-01\n");
  ASSERT_EQ(catena({"graph", "import-deployments", dir_ / "deployments.csv"}).exit_code, 0);

  std::set<std::string> nodes;
  std::multiset<std::string> table_edges, node_edges;
  const auto line = [](const Edge& e) {
    return node_name(e.from) + " -" + e.kind + "-> " + node_name(e.to) + " [" +
           std::to_string(e.valid_from) + ", " + std::to_string(e.valid_to) + ") " + e.evidence;
  };
  {
    auto store = store::Store::open(db_, store::Store::Access::ReadOnly);
    ASSERT_THAT(store, test::IsOk());
    ASSERT_THAT((*store)->for_each_node([&](const NodeRef& node) -> Status {
      EXPECT_TRUE(nodes.insert(node_name(node)).second) << node_name(node) << " twice";
      auto from = (*store)->edges_from(node);
      if (!from) return tl::unexpected(from.error());
      for (const Edge& e : *from) node_edges.insert(line(e));
      return {};
    }),
                test::IsOk());
    ASSERT_THAT((*store)->for_each_edge([&](const Edge& e) -> Status {
      table_edges.insert(line(e));
      EXPECT_TRUE(nodes.contains(node_name(e.from))) << line(e);
      EXPECT_TRUE(nodes.contains(node_name(e.to))) << line(e);
      return {};
    }),
                test::IsOk());
  }
  EXPECT_EQ(table_edges, node_edges);
  for (const std::string kind : {"host:", "account:", "credential:", "target:", "content:",
                                 "occurrence:", "package:", "build:", "artifact:", "release:",
                                 "deployment:"}) {
    EXPECT_TRUE(std::any_of(nodes.begin(), nodes.end(),
                            [&](const std::string& n) { return n.starts_with(kind); }))
        << "no " << kind << " node";
  }
  EXPECT_TRUE(nodes.contains("package:dpkg"));
  EXPECT_TRUE(nodes.contains("package:dpkg-dev"));
  EXPECT_TRUE(std::any_of(table_edges.begin(), table_edges.end(), [](const std::string& e) {
    return e.starts_with("package:dpkg -installs-> occurrence:pkg-host|/usr/share/dpkg/cputable [");
  }));

  // catena's json: the same nodes and edges.
  const test::RunResult exported = catena({"graph", "export", "--format", "json"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  const json doc = json::parse(exported.out);
  EXPECT_EQ(doc["nodes"].size(), nodes.size());
  EXPECT_EQ(doc["edges"].size(), table_edges.size());

  // DOT, drawn by GraphViz.
  const std::string dot_file = dir_ / "graph.dot";
  ASSERT_EQ(catena({"graph", "export", "--format", "dot", "-o", dot_file}).exit_code, 0);
  const test::RunResult drawn = test::run_command({"dot", "-Tsvg", dot_file});
  if (drawn.exit_code == 127) CATENA_MISSING() << "GraphViz (dot) is not installed";
  ASSERT_EQ(drawn.exit_code, 0) << drawn.err;
  EXPECT_NE(drawn.out.find("<svg"), std::string::npos);
  EXPECT_NE(drawn.out.find("host:dev&#45;ws"), std::string::npos) << "each node by its name";
  EXPECT_NE(drawn.out.find("installs"), std::string::npos);

  // OpenGraph: unique node ids, every edge between listed nodes matched by id, namespaced
  // kinds, properties of primitive values or arrays of one primitive type.
  const test::RunResult open_graph = catena({"graph", "export", "--format", "opengraph"});
  ASSERT_EQ(open_graph.exit_code, 0) << open_graph.err;
  const json og = json::parse(open_graph.out);
  EXPECT_TRUE(og["metadata"]["source_kind"].is_string());
  std::set<std::string> ids;
  const auto primitive_properties = [](const json& properties) {
    for (const auto& [key, value] : properties.items()) {
      if (value.is_array()) {
        for (const json& item : value) {
          if (!item.is_string()) return false;
        }
      } else if (!value.is_string() && !value.is_number() && !value.is_boolean()) {
        return false;
      }
    }
    return true;
  };
  for (const json& n : og["graph"]["nodes"]) {
    EXPECT_TRUE(ids.insert(n["id"].get<std::string>()).second) << n.dump();
    ASSERT_FALSE(n["kinds"].empty());
    EXPECT_TRUE(n["kinds"][0].get<std::string>().starts_with("CTN_")) << n.dump();
    EXPECT_TRUE(primitive_properties(n["properties"])) << n.dump();
  }
  EXPECT_EQ(ids, nodes);
  for (const json& e : og["graph"]["edges"]) {
    EXPECT_TRUE(ids.contains(e["start"]["value"].get<std::string>())) << e.dump();
    EXPECT_TRUE(ids.contains(e["end"]["value"].get<std::string>())) << e.dump();
    EXPECT_EQ(e["start"]["match_by"], "id");
    EXPECT_TRUE(e["kind"].get<std::string>().starts_with("CTN_")) << e.dump();
    EXPECT_TRUE(primitive_properties(e["properties"])) << e.dump();
  }
  EXPECT_EQ(og["graph"]["edges"].size(), table_edges.size());

  // A query's answer exported: the package's files, the host they lay on.
  const test::RunResult answer = catena(
      {"graph", "export", "--format", "json", "--node", "package:dpkg-dev", "--depth", "2"});
  ASSERT_EQ(answer.exit_code, 0) << answer.err;
  const json reached = json::parse(answer.out);
  std::set<std::string> reached_ids;
  for (const json& n : reached["nodes"]) reached_ids.insert(n["id"].get<std::string>());
  EXPECT_TRUE(reached_ids.contains("host:pkg-host")) << answer.out;
  EXPECT_TRUE(reached_ids.contains("occurrence:pkg-host|/usr/share/dpkg/buildflags.mk"))
      << answer.out;
  EXPECT_FALSE(reached_ids.contains("occurrence:pkg-host|/usr/share/dpkg/cputable")) << answer.out;
  EXPECT_EQ(reached["edges"].size(), reached["nodes"].size() - 1);  // a tree
  const test::RunResult bad = catena({"graph", "export", "--format", "graphml"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("json, dot or opengraph"), std::string::npos) << bad.err;
}

TEST(GraphDeployments, ErrorsNameTheLine) {
  auto good = parse_deployments(
      "site,release,version,installed_at,removed_at\n"
      "\"acme, inc\",app,1.0,2023-03-01,2023-04-01T12:00:00Z\n"
      "\n"
      "other,app,1.1,2023-05-01,\n",
      "d.csv");
  ASSERT_TRUE(good) << good.error().describe();
  ASSERT_EQ(good->size(), 2u);
  EXPECT_EQ((*good)[0].site, "acme, inc");
  EXPECT_EQ((*good)[0].removed_ns, parse_when("2023-04-01T12:00:00Z"));
  EXPECT_EQ((*good)[1].source, "d.csv:4");
  EXPECT_FALSE((*good)[1].removed_ns);

  const std::pair<std::string, std::string> bad[] = {
      {"site,release,version\nx,y,z\n", "d.csv:1: the header has no column 'installed_at'"},
      {"site,release,version,installed_at\nx,y,z,yesterday\n", "d.csv:2: installed_at"},
      {"site,release,version,installed_at\nx,y,z,2023-01-01\n,y,z,2023-01-01\n",
       "d.csv:3: no site"},
      {"site,release,version,installed_at,removed_at\nx,y,z,2023-02-01,2023-01-01\n",
       "d.csv:2: removed_at is before installed_at"},
      {"site,release,version,installed_at\nx,y,z,2023-01-01,extra\n", "d.csv:2: 5 fields"},
      {"site,release,version,installed_at\n\"x,y,z,2023-01-01\n", "d.csv:2: a quoted field"},
      {"\"site,release", "d.csv:1: a quoted field"},
      {"[{\"site\":\"x\",\"release\":\"y\",\"version\":1,\"installed_at\":\"2023-01-01\"}]",
       "d.csv[0]: version is not a string"},
      {"{\"site\":\"x\"}", "not an array"},
      {"[1]", "d.csv[0]: not an object"},
      {"[{", "not valid JSON"},
  };
  for (const auto& [text, message] : bad) {
    auto parsed = parse_deployments(text, "d.csv");
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.error().message.find(message), std::string::npos)
        << parsed.error().message << " / " << message;
  }
  auto json_form = parse_deployments(
      R"([{"site":"a","release":"app","version":"2","installed_at":"2023-01-01","removed_at":null}])",
      "d.json");
  ASSERT_TRUE(json_form);
  EXPECT_EQ(json_form->at(0).release_version, "2");
  EXPECT_EQ(parse_when("2023-01-01"), parse_when("2023-01-01T00:00:00Z"));
  EXPECT_FALSE(parse_when("2023-1-1"));
}

}  // namespace
}  // namespace catena::graph
