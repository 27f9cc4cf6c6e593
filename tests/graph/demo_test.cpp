// `make demo`: scripts/demo-3cx.sh run with this build's catena, and every fact the 3CX chain
// must show checked in its answers.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "answer.hpp"
#include "support/browser.hpp"
#include "support/cache.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::graph {
namespace {

using nlohmann::json;
using test_answer::by_node;
using test_answer::path_of;

std::string last_evidence(const json& node) {
  return node["via"].is_null() ? "" : node["via"]["evidence"].get<std::string>();
}

TEST(Demo3cx, TheInstallerReachesTheSecondReleaseAndItsCustomersOnly) {
  if (test::read_file(test::cache_dir() + "/pe/x86-msvcp140.dll").empty()) {
    CATENA_MISSING() << "run scripts/fetch-test-data.sh (the demo's signed DLL)";
  }
  test::TempDir dir;
  const test::RunResult demo =
      test::run_command({std::string(CATENA_SOURCE_DIR) + "/scripts/demo-3cx.sh", dir / "out"},
                        {.env = {{"CATENA", CATENA_BINARY}}});
  ASSERT_EQ(demo.exit_code, 0) << demo.out << demo.err;
  const std::string digests = test::read_file(dir / "out/digests.txt");
  const std::string installer = digests.substr(0, 64);
  const std::string injected = digests.substr(65, 64);

  const json blast = json::parse(test::read_file(dir / "out/blast.json"));
  EXPECT_EQ(blast["start"]["key"], installer);
  const auto reached = by_node(blast);
  for (const char* name :
       {"host:dev-ws", "target:build-01", "host:build-01", "release:3cx-desktop|18.12.416",
        "deployment:acme-corp", "deployment:globex"}) {
    ASSERT_TRUE(reached.contains(name)) << name << "\n" << demo.out;
    const json path = path_of(blast, reached.at(name));
    ASSERT_FALSE(path.empty()) << name;
    EXPECT_EQ(path.front()["from"]["key"], installer) << name;             // each path starts at it
    EXPECT_EQ(path.back()["to"]["key"], reached.at(name)["key"]) << name;  // and ends at it
  }
  EXPECT_TRUE(reached.contains("content:" + injected)) << demo.out;
  EXPECT_FALSE(reached.contains("release:3cx-desktop|18.12.407")) << demo.out;
  EXPECT_FALSE(reached.contains("deployment:early-customer")) << demo.out;
  size_t credentials = 0;
  std::vector<std::string> builds;
  for (const auto& [name, node] : reached) {
    if (name.starts_with("credential:")) ++credentials;
    if (name.starts_with("build:")) builds.push_back(last_evidence(node));
  }
  EXPECT_GE(credentials, 1u);                // the SSH key to build-01
  ASSERT_EQ(builds.size(), 1u) << demo.out;  // the second build only
  EXPECT_NE(builds[0].find("step build-18.12.416"), std::string::npos) << builds[0];
  // The installer itself is marked by the YARA rule its certificate table matches.
  ASSERT_FALSE(blast["nodes"].empty());
  EXPECT_FALSE(blast["nodes"][0]["marks"].empty()) << blast["nodes"][0].dump();

  // Back from the injected DLL: build-01, the workstation and the installer, which leads.
  const json origin = json::parse(test::read_file(dir / "out/origin.json"));
  const auto led = by_node(origin);
  EXPECT_TRUE(led.contains("host:build-01"));
  EXPECT_TRUE(led.contains("host:dev-ws"));
  ASSERT_GE(origin["nodes"].size(), 2u);
  EXPECT_EQ(origin["nodes"][1]["key"], installer) << origin.dump(1);

  // The release diff saw the same version with other bytes.
  const std::string diff = test::read_file(dir / "out/release-diff.txt");
  EXPECT_NE(diff.find("RELEASE_SAME_VERSION_DIFFERENT_BYTES"), std::string::npos) << diff;

  // The picture, as a person sees it.
  const test::RenderedPage page =
      test::render_page(dir / "out/blast.html", dir.path(), "demo-3cx-blast.png", 1400);
  if (!page.rendered) CATENA_MISSING() << page.error;
  EXPECT_NE(page.text.find("host:build-01"), std::string::npos) << page.text;
  EXPECT_NE(page.text.find("deployment:globex"), std::string::npos) << page.text;
}

}  // namespace
}  // namespace catena::graph
