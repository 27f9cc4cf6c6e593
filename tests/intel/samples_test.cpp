// Feeds in the shapes MISP, PyMISP and STIX producers write, built by
// scripts/make-intel-samples.py with what each holds counted in Python: the import must take
// every hash each holds and name, by reason, everything it left out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;

TEST(IntelSamples, EachShapeImportsWhatItHoldsAndCountsWhatItLeftOut) {
  test::TempDir dir;
  const auto made = test::run_command(
      {"/usr/bin/python3", std::string(CATENA_SOURCE_DIR) + "/scripts/make-intel-samples.py",
       dir.path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::ifstream in(dir / "expected.json");
  const json expected = json::parse(in);
  ASSERT_GE(expected.size(), 7u);
  for (const auto& [name, want] : expected.items()) {
    const std::string file = want.value("file", name);
    const std::string db = dir / (name + ".db");
    std::vector<std::string> args = {"intel", "import", dir / (file + ".json"), "--feed", name,
                                     "--db",  db,       "--summary-format",     "json"};
    for (const auto& option : want.value("options", json::array())) {
      args.push_back(option.get<std::string>());
    }
    const auto imported = test::run_catena(args);
    ASSERT_EQ(imported.exit_code, 0) << name << ": " << imported.err;
    const json got = json::parse(imported.out);
    EXPECT_EQ(got["imported"], want["imported"]) << name;
    EXPECT_EQ(got["duplicates"], want["duplicates"]) << name;
    EXPECT_EQ(got["not_for_detection"], want["not_for_detection"]) << name;
    EXPECT_EQ(got["skipped_by"], want["skipped_by"]) << name;
    EXPECT_EQ(got["shape"], want["shape"]) << name;
    // What the summary says was imported is what the store holds.
    const auto listed = test::run_catena({"intel", "list", "--db", db, "--format", "json"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_EQ(json::parse(listed.out)[0]["indicators"], want["imported"]) << name;
  }
}

}  // namespace
}  // namespace catena
