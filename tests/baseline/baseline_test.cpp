#include "catena/baseline/baseline.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <thread>

#include "catena/core/text.hpp"
#include "catena/store/store.hpp"
#include "catena/trust/dsse.hpp"
#include "support/dpkg_root.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"

namespace catena::baseline {
namespace {

using test::HasError;
using test::HasErrorContaining;
using test::IsOk;

std::string evidence(const Finding& f, const std::string& key) {
  for (const auto& [k, v] : f.evidence) {
    if (k == key) return v;
  }
  return "<none>";
}

class BaselineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open_memory();
    ASSERT_THAT(opened, IsOk());
    store_ = std::move(*opened);
  }
  Options options_for(std::vector<std::string> paths, unsigned attributes = kAllAttributes) {
    Rule rule;
    rule.paths = std::move(paths);
    rule.attributes = attributes;
    Options options{.name = "test", .config = Config{{rule}}, .host = "testhost"};
    options.dpkg.root = tree_.path();  // no dpkg database there unless a test makes one
    return options;
  }
  std::map<std::string, std::optional<Finding>> by_path(const CheckReport& report) {
    std::map<std::string, std::optional<Finding>> out;
    for (Finding& f : test::all(report.findings)) out[f.path] = std::move(f);
    return out;
  }

  std::unique_ptr<store::Store> store_;
  test::TempDir tree_;
};

TEST_F(BaselineTest, NothingChangedNothingReported) {
  tree_.write("bin/a", "a", 0755);
  tree_.symlink("bin/link", "a");
  const Options options = options_for({tree_ / "bin"});
  auto made = create(*store_, options);
  ASSERT_THAT(made, IsOk());
  EXPECT_EQ(made->host, "testhost");
  auto report = check(*store_, options);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->findings.empty());
}

// A check reads only what changed since the last read; a rewrite that puts the mtime back is
// still found (ctime), and --full reads everything.
TEST_F(BaselineTest, ASecondCheckReadsOnlyWhatChanged) {
  tree_.write("bin/a", "aaaa", 0755);
  tree_.write("bin/b", "bbbb", 0755);
  // Files changed within 2 s of being read are read again (racy): wait that out.
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  Options options = options_for({tree_ / "bin"});
  ASSERT_THAT(create(*store_, options), IsOk());
  auto quiet = check(*store_, options);
  ASSERT_THAT(quiet, IsOk());
  EXPECT_EQ(quiet->files_read, 0u);
  EXPECT_EQ(quiet->files_reused, 2u);
  EXPECT_TRUE(quiet->findings.empty());

  const std::string a = tree_ / "bin/a";
  struct stat before {};
  ASSERT_EQ(::stat(a.c_str(), &before), 0);
  tree_.write("bin/a", "AAAA", 0755);
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, a.c_str(), times, 0), 0);
  auto changed = check(*store_, options);
  ASSERT_THAT(changed, IsOk());
  EXPECT_EQ(changed->files_read, 1u);
  ASSERT_EQ(changed->findings.size(), 1u);
  EXPECT_EQ(test::all(changed->findings)[0].rule, "FILE_CHANGED");
  EXPECT_EQ(test::all(changed->findings)[0].path, a);

  options.full = true;
  auto full = check(*store_, options);
  ASSERT_THAT(full, IsOk());
  EXPECT_EQ(full->files_read, 2u);
  EXPECT_EQ(full->findings.size(), 1u);
}

TEST_F(BaselineTest, ReportsAddedRemovedAndEveryChangedAttribute) {
  tree_.write("bin/content", "old", 0755);
  tree_.write("bin/mode", "m", 0755);
  tree_.write("bin/removed", "r", 0755);
  tree_.symlink("bin/link", "content");
  const Options options = options_for({tree_ / "bin"});
  ASSERT_THAT(create(*store_, options), IsOk());
  tree_.write("bin/content", "new!", 0755);
  ::chmod((tree_ / "bin/mode").c_str(), 04755);
  ASSERT_EQ(::unlink((tree_ / "bin/removed").c_str()), 0);
  ASSERT_EQ(::unlink((tree_ / "bin/link").c_str()), 0);
  tree_.symlink("bin/link", "mode");
  tree_.write("bin/added", "x", 0755);
  auto report = check(*store_, options);
  ASSERT_THAT(report, IsOk());
  const auto found = by_path(*report);
  ASSERT_EQ(found.size(), 5u);
  EXPECT_EQ(found.at(tree_ / "bin/added")->rule, "FILE_ADDED");
  EXPECT_EQ(found.at(tree_ / "bin/added")->severity, Severity::High);
  EXPECT_EQ(found.at(tree_ / "bin/removed")->rule, "FILE_REMOVED");
  const Finding& content = *found.at(tree_ / "bin/content");
  EXPECT_EQ(content.rule, "FILE_CHANGED");
  EXPECT_NE(evidence(content, "changed").find("sha256"), std::string::npos);
  EXPECT_EQ(evidence(content, "size before"), "3");
  EXPECT_EQ(evidence(content, "size after"), "4");
  EXPECT_EQ(evidence(content, "sha256 after"), test::sha256_hex("new!"));
  EXPECT_EQ(evidence(*found.at(tree_ / "bin/mode"), "mode before"), "0755");
  EXPECT_EQ(evidence(*found.at(tree_ / "bin/mode"), "mode after"), "4755");
  EXPECT_EQ(evidence(*found.at(tree_ / "bin/link"), "link_target after"), "mode");
}

TEST_F(BaselineTest, WatchesOnlyTheAttributesItsRuleNames) {
  tree_.write("bin/a", "a", 0755);
  const Options options = options_for({tree_ / "bin"}, kContent);
  ASSERT_THAT(create(*store_, options), IsOk());
  ::chmod((tree_ / "bin/a").c_str(), 0700);  // mode and ctime change, content does not
  auto quiet = check(*store_, options);
  ASSERT_THAT(quiet, IsOk());
  EXPECT_TRUE(quiet->findings.empty());
  tree_.write("bin/a", "b", 0700);
  auto loud = check(*store_, options);
  ASSERT_THAT(loud, IsOk());
  ASSERT_EQ(loud->findings.size(), 1u);
  EXPECT_EQ(evidence(test::all(loud->findings)[0], "changed"), "sha256");
}

TEST_F(BaselineTest, ExcludesByGlobAndRegex) {
  Options options = options_for({tree_ / "bin"});
  options.config.rules[0].excludes = {"*.log"};
  options.config.rules[0].exclude_regexes = {"/cache/[0-9]+$"};
  tree_.write("bin/tool", "t", 0755);
  ASSERT_THAT(create(*store_, options), IsOk());
  tree_.write("bin/run.log", "noise");
  tree_.write("bin/cache/42", "noise");
  tree_.write("bin/cache/keep", "x");
  auto report = check(*store_, options);
  ASSERT_THAT(report, IsOk());
  ASSERT_EQ(report->findings.size(), 1u);
  EXPECT_EQ(test::all(report->findings)[0].path, tree_ / "bin/cache/keep");
}

TEST_F(BaselineTest, APackageUpgradeExplainsItsChangesAndNothingElse) {
  test::FakeDpkgRoot root;
  root.install({.name = "tool",
                .version = "1.0",
                .files = {{"/usr/bin/tool", "v1"}, {"/usr/bin/other", "o"}}});
  Options options = options_for({root / "usr/bin"});
  options.dpkg.root = root.path();
  ASSERT_THAT(create(*store_, options), IsOk());
  // The upgrade: new content, new md5sums, new version in status; plus a planted change.
  root.install(
      {.name = "tool",
       .version = "2.0",
       .files = {{"/usr/bin/tool", "v2"}, {"/usr/bin/other", "o"}, {"/usr/bin/new", "n"}}});
  {
    // install() appends a paragraph; keep only the upgraded one, as dpkg would.
    root.dir().write("var/lib/dpkg/status",
                     "Package: tool\nStatus: install ok installed\nArchitecture: amd64\n"
                     "Version: 2.0\n\n");
  }
  root.dir().write("usr/bin/other", "trojan", 0755);
  auto report = check(*store_, options);
  ASSERT_THAT(report, IsOk());
  const auto found = by_path(*report);
  ASSERT_EQ(found.size(), 3u);
  const Finding& tool = *found.at(root / "usr/bin/tool");
  EXPECT_EQ(tool.rule, "FILE_CHANGED_BY_PACKAGE");
  EXPECT_EQ(tool.severity, Severity::Info);
  EXPECT_EQ(evidence(tool, "version_before"), "1.0");
  EXPECT_EQ(evidence(tool, "version_now"), "2.0");
  EXPECT_EQ(found.at(root / "usr/bin/new")->rule, "FILE_CHANGED_BY_PACKAGE");
  EXPECT_EQ(found.at(root / "usr/bin/other")->rule, "FILE_CHANGED");
  EXPECT_EQ(found.at(root / "usr/bin/other")->severity, Severity::High);

  // update --accept-packages folds in the upgrade only: the planted change is still reported.
  Options accept = options;
  accept.accept_packages = true;
  ASSERT_THAT(update(*store_, accept), IsOk());
  auto after = check(*store_, options);
  ASSERT_THAT(after, IsOk());
  ASSERT_EQ(after->findings.size(), 1u);
  EXPECT_EQ(test::all(after->findings)[0].path, root / "usr/bin/other");
  EXPECT_EQ(test::all(after->findings)[0].rule, "FILE_CHANGED");

  // A plain update accepts everything.
  ASSERT_THAT(update(*store_, options), IsOk());
  auto clean = check(*store_, options);
  ASSERT_THAT(clean, IsOk());
  EXPECT_TRUE(clean->findings.empty());
}

TEST_F(BaselineTest, ABaselineBelongsToItsHost) {
  tree_.write("bin/a", "a");
  Options options = options_for({tree_ / "bin"});
  ASSERT_THAT(create(*store_, options), IsOk());
  options.host = "otherhost";
  EXPECT_THAT(check(*store_, options), HasErrorContaining(ErrorCode::NotFound, "otherhost"));
}

TEST(BaselineConfig, ParsesTomlAndRejectsWhatItDoesNotKnow) {
  auto config = parse_config(R"toml(
# system tools, everything watched
[[rule]]
paths = ["/usr/bin", "/usr/sbin"]
exclude = ["*.pyc"]

[[rule]]
paths = ["/etc"]
exclude_regex = ["^/etc/.*\\.bak$"]
attributes = ["content", "mode", "uid", "gid", "xattrs"]
)toml");
  ASSERT_THAT(config, IsOk());
  ASSERT_EQ(config->rules.size(), 2u);
  EXPECT_EQ(config->rules[0].attributes, kAllAttributes);
  EXPECT_EQ(config->rules[1].attributes, kContent | kMode | kUid | kGid | kXattrs);
  EXPECT_EQ(attribute_names(config->rules[1].attributes),
            (std::vector<std::string>{"content", "mode", "uid", "gid", "xattrs"}));
  auto round_trip = config_from_json(config_to_json(*config));
  ASSERT_THAT(round_trip, IsOk());
  EXPECT_EQ(round_trip->rules[1].exclude_regexes, config->rules[1].exclude_regexes);

  EXPECT_THAT(parse_config("[[rule]]\npaths = [\"/x\"]\nattributes = [\"colour\"]\n"),
              HasErrorContaining(ErrorCode::Usage, "colour"));
  EXPECT_THAT(parse_config("[[rule]]\npaths = [\"/x\"]\nwatch = true\n"),
              HasErrorContaining(ErrorCode::Usage, "watch"));
  EXPECT_THAT(parse_config("[[rule]]\npaths = [\"relative\"]\n"),
              HasErrorContaining(ErrorCode::Usage, "absolute"));
  EXPECT_THAT(parse_config("[[rule]]\npaths = [\"/x\"]\nexclude_regex = [\"(\"]\n"),
              HasErrorContaining(ErrorCode::Usage, "regular expression"));
  EXPECT_THAT(parse_config("[[rule]\npaths = 1\n"), HasErrorContaining(ErrorCode::Parse, "line 1"));
  EXPECT_THAT(parse_config("other = 1\n"), HasError(ErrorCode::Usage));
  EXPECT_THAT(parse_config(""), HasError(ErrorCode::Usage));
}

}  // namespace
}  // namespace catena::baseline

namespace catena::baseline {
namespace {

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::Store::open_memory();
    ASSERT_THAT(opened, test::IsOk());
    store_ = std::move(*opened);
    ASSERT_THAT(trust::generate_key_files(keys_ / "k", trust::KeyType::Ed25519), test::IsOk());
    ASSERT_THAT(trust::generate_key_files(keys_ / "other", trust::KeyType::Ed25519), test::IsOk());
    tree_.write("bin/a", "a", 0755);
    Rule rule;
    rule.paths = {tree_ / "bin"};
    options_ = Options{.name = "t", .config = Config{{rule}}, .host = "testhost"};
    options_.dpkg.root = tree_.path();
    ASSERT_THAT(create(*store_, options_), test::IsOk());
    auto key = trust::SigningKey::load(keys_ / "k");
    ASSERT_THAT(key, test::IsOk());
    auto text = export_signed(*store_, options_, *key);
    ASSERT_THAT(text, test::IsOk());
    exported_ = *text;
  }
  Result<CheckReport> check_with(const std::string& key_name, const std::string& text) {
    auto key = trust::VerifyingKey::load(keys_ / (key_name + ".pub"));
    EXPECT_THAT(key, test::IsOk());
    return check_exported(*store_, text, *key, options_);
  }

  std::unique_ptr<store::Store> store_;
  test::TempDir tree_;
  test::TempDir keys_;
  Options options_;
  std::string exported_;
};

TEST_F(ExportTest, AnExportedBaselineChecksLikeTheStoredOne) {
  auto clean = check_with("k", exported_);
  ASSERT_THAT(clean, test::IsOk());
  EXPECT_TRUE(clean->findings.empty());
  tree_.write("bin/a", "trojan", 0755);
  auto changed = check_with("k", exported_);
  ASSERT_THAT(changed, test::IsOk());
  ASSERT_EQ(changed->findings.size(), 1u);
  EXPECT_EQ(test::all(changed->findings)[0].rule, "FILE_CHANGED");
}

// An older export signed by the right key (the attacker kept yesterday's file) is a rollback
// once this store has seen a newer one: the check says so, and names the signer and sequence.
TEST_F(ExportTest, AnOlderExportIsARollback) {
  auto key = trust::SigningKey::load(keys_ / "k");
  ASSERT_THAT(key, test::IsOk());
  auto newer = export_signed(*store_, options_, *key);
  ASSERT_THAT(newer, test::IsOk());
  auto current = check_with("k", *newer);
  ASSERT_THAT(current, test::IsOk());
  EXPECT_TRUE(current->findings.empty());
  EXPECT_EQ(current->sequence, 2);
  EXPECT_EQ(current->signer, key->key_id());
  EXPECT_GT(current->exported_ns, 0);
  auto rolled_back = check_with("k", exported_);
  ASSERT_THAT(rolled_back, test::IsOk());
  const auto findings = test::all(rolled_back->findings);
  ASSERT_EQ(findings.size(), 1u);
  EXPECT_EQ(findings[0].rule, "BASELINE_ROLLBACK");
  EXPECT_EQ(rolled_back->sequence, 1);
  // A store that has seen only the older one takes it as the newest.
  auto fresh = store::Store::open_memory();
  ASSERT_THAT(fresh, test::IsOk());
  auto verifying = trust::VerifyingKey::load(keys_ / "k.pub");
  ASSERT_THAT(verifying, test::IsOk());
  ASSERT_THAT(create(**fresh, options_), test::IsOk());
  auto first = check_exported(**fresh, exported_, *verifying, options_);
  ASSERT_THAT(first, test::IsOk());
  EXPECT_TRUE(first->findings.empty());
}

// The signed payload is read as strictly as the envelope: a key given twice is refused, not
// read last-wins.
TEST_F(ExportTest, ASignedPayloadWithADuplicateKeyIsRefused) {
  auto key = trust::SigningKey::load(keys_ / "k");
  ASSERT_THAT(key, test::IsOk());
  const std::string payload =
      "{\"format\":\"catena-baseline\",\"version\":1,\"host\":\"elsewhere\","
      "\"host\":\"testhost\",\"records\":[],\"config\":{},\"packages\":{}}";
  auto envelope = trust::dsse_sign(kExportPayloadType, payload, *key);
  ASSERT_THAT(envelope, test::IsOk());
  EXPECT_THAT(check_with("k", *envelope), test::HasErrorContaining(ErrorCode::Parse, "duplicate"));
}

TEST_F(ExportTest, RefusesABaselineWhoseSignatureDoesNotVerify) {
  EXPECT_THAT(check_with("other", exported_),
              test::HasErrorContaining(ErrorCode::Usage, "does not verify"));
  // Change one character of the signed payload.
  std::string tampered = exported_;
  const size_t payload = tampered.find("\"payload\": \"") + 30;
  tampered[payload] = tampered[payload] == 'A' ? 'B' : 'A';
  EXPECT_THAT(check_with("k", tampered),
              test::HasErrorContaining(ErrorCode::Usage, "does not verify"));
  EXPECT_THAT(check_with("k", "{not json"), test::HasError(ErrorCode::Parse));
}

TEST_F(ExportTest, RefusesABaselineOfAnotherHostOrVersion) {
  options_.host = "elsewhere";
  EXPECT_THAT(check_with("k", exported_),
              test::HasErrorContaining(ErrorCode::Usage, "taken on host 'testhost'"));
  options_.host = "testhost";
  // A correctly signed payload of a future format version.
  auto key = trust::SigningKey::load(keys_ / "k");
  ASSERT_THAT(key, test::IsOk());
  const std::string payload =
      "{\"format\":\"catena-baseline\",\"version\":99,\"host\":\"testhost\"}";
  auto sig = key->sign(trust::dsse_pae(kExportPayloadType, payload));
  ASSERT_THAT(sig, test::IsOk());
  const std::string envelope = "{\"payloadType\":\"" + std::string(kExportPayloadType) +
                               "\",\"payload\":\"" + base64_encode(payload) +
                               "\",\"signatures\":[{\"sig\":\"" + base64_encode(*sig) + "\"}]}";
  EXPECT_THAT(check_with("k", envelope),
              test::HasErrorContaining(ErrorCode::Usage, "format version 99"));
}

}  // namespace
}  // namespace catena::baseline
