// catena baseline end to end: create, check, update, list, delete, configs, and audit.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena {
namespace {

using nlohmann::json;
using test::run_catena;

class BaselineCli : public ::testing::Test {
 protected:
  test::RunResult catena(std::vector<std::string> args) {
    args.push_back("--db");
    args.push_back(work_ / "c.db");
    return run_catena(args);
  }
  test::TempDir work_;
};

TEST_F(BaselineCli, CreateCheckUpdateListDelete) {
  work_.write("tools/a", "a", 0755);
  test::RunResult r = catena({"baseline", "create", "--name", "tools", work_ / "tools"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("1 files"), std::string::npos) << r.out;

  r = catena({"baseline", "check", "--name", "tools", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["verdict"], "pass");

  work_.write("tools/planted", "#!/bin/sh\n", 0755);
  r = catena({"baseline", "check", "--name", "tools", "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  json doc = json::parse(r.out);
  ASSERT_EQ(doc["findings"].size(), 1u);
  EXPECT_EQ(doc["findings"][0]["rule"], "FILE_ADDED");
  EXPECT_EQ(doc["summary"]["baseline"], "tools");
  EXPECT_EQ(catena({"baseline", "check", "--name", "tools", "--fail-on", "critical"}).exit_code, 0);

  r = catena({"baseline", "update", "--name", "tools"});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // it reports what it folded in
  EXPECT_EQ(catena({"baseline", "check", "--name", "tools"}).exit_code, 0);

  r = catena({"baseline", "list", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  doc = json::parse(r.out);
  ASSERT_EQ(doc.size(), 1u);
  EXPECT_EQ(doc[0]["name"], "tools");

  EXPECT_EQ(catena({"baseline", "delete", "--name", "tools"}).exit_code, 0);
  r = catena({"baseline", "check", "--name", "tools"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no baseline named 'tools'"), std::string::npos) << r.err;
  EXPECT_EQ(catena({"baseline", "delete", "--name", "tools"}).exit_code, 2);
}

TEST_F(BaselineCli, ConfigFilesAndTheirErrors) {
  work_.write("tools/a", "a", 0755);
  work_.write("tools/a.log", "log", 0644);
  work_.write("good.toml", "[[rule]]\npaths = [\"" + (work_ / "tools") +
                               "\"]\nexclude = [\"*.log\"]\nattributes = [\"content\"]\n");
  test::RunResult r =
      catena({"baseline", "create", "--name", "t", "--config", work_ / "good.toml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  work_.write("tools/a.log", "more log", 0644);
  ::chmod((work_ / "tools/a").c_str(), 0700);
  EXPECT_EQ(catena({"baseline", "check", "--name", "t"}).exit_code, 0);

  work_.write("bad.toml", "[[rule]]\npaths = [\"/x\"]\nattributes = [\"colour\"]\n");
  r = catena({"baseline", "create", "--name", "u", "--config", work_ / "bad.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown attribute 'colour'"), std::string::npos) << r.err;
  work_.write("broken.toml", "[[rule]\n");
  r = catena({"baseline", "create", "--name", "u", "--config", work_ / "broken.toml"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("broken.toml: line 1"), std::string::npos) << r.err;
  r = catena({"baseline", "create", "--name", "u", "--config", work_ / "good.toml", "/tmp"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(BaselineCli, AuditChecksTheHostsBaselines) {
  work_.write("tools/a", "a", 0755);
  work_.mkdir("home");
  ASSERT_EQ(catena({"baseline", "create", "--name", "tools", work_ / "tools"}).exit_code, 0);
  work_.write("tools/a", "trojan", 0755);
  const test::RunResult r =
      catena({"audit", "--format", "json", "--no-dpkg", "--path", work_ / "tools", "--home",
              work_ / "home", "--system-dir", work_ / "tools"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(doc["summary"]["baseline"], "tools: 1 findings");
  bool changed = false;
  for (const json& f : doc["findings"]) changed |= f["rule"] == "FILE_CHANGED";
  EXPECT_TRUE(changed);
}

TEST_F(BaselineCli, ExportSignedAndCheckAgainstTheFile) {
  work_.write("tools/a", "a", 0755);
  test::RunResult r = run_catena({"key", "generate", "--out", work_ / "key"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.size(), 65u);  // the key id and a newline
  EXPECT_EQ(run_catena({"key", "id", work_ / "key.pub"}).out, r.out);
  EXPECT_EQ(run_catena({"key", "generate", "--out", work_ / "key"}).exit_code, 2);
  ASSERT_EQ(run_catena({"key", "generate", "--out", work_ / "other", "--type", "ecdsa"}).exit_code,
            0);

  ASSERT_EQ(catena({"baseline", "create", "--name", "tools", work_ / "tools"}).exit_code, 0);
  r = catena({"baseline", "export", "--name", "tools", "--sign", work_ / "key", "--out",
              work_ / "tools.dsse"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The store's copy may be lost or altered; the file is what counts now.
  ASSERT_EQ(catena({"baseline", "delete", "--name", "tools"}).exit_code, 0);
  work_.write("tools/a", "trojan", 0755);
  r = catena({"baseline", "check", "--baseline", work_ / "tools.dsse", "--verify-key",
              work_ / "key.pub", "--format", "json"});
  ASSERT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(json::parse(r.out)["findings"][0]["rule"], "FILE_CHANGED");

  r = catena({"baseline", "check", "--baseline", work_ / "tools.dsse", "--verify-key",
              work_ / "other.pub"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not verify"), std::string::npos) << r.err;
  EXPECT_EQ(catena({"baseline", "check", "--baseline", work_ / "tools.dsse"}).exit_code, 2);
  EXPECT_EQ(catena({"baseline", "export", "--name", "tools", "--sign", work_ / "key", "--out",
                    work_ / "tools.dsse"})
                .exit_code,
            2);  // no such baseline any more, and the file exists
}

}  // namespace
}  // namespace catena
