// What inspect keeps of a release file and takes back: the same files, facts and findings as
// reading it again, indicators matched afresh, and a kept value that is damaged, stale or too
// large for the release's budget read again instead.
#include "catena/release/cache.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "catena/core/rules.hpp"
#include "catena/formats/image.hpp"
#include "catena/intel/index.hpp"
#include "catena/release/inspect.hpp"
#include "catena/store/store.hpp"
#include "support/cache.hpp"
#include "support/dmg_builder.hpp"
#include "support/macho_builder.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::release {
namespace {

// Locked: a directory release's workers use it at once.
class MemoryCache : public InspectionCache {
 public:
  std::optional<std::string> get_part(const Sha256& content, const std::string& key) override {
    const std::lock_guard lock(mutex_);
    ++gets;
    auto found = kept.find({content, key});
    if (found == kept.end()) return std::nullopt;
    return found->second;
  }
  void put_part(const Sha256& content, const std::string& key, std::string_view value) override {
    const std::lock_guard lock(mutex_);
    ++puts;
    kept[{content, key}] = std::string(value);
  }
  std::map<std::pair<Sha256, std::string>, std::string> kept;
  int gets = 0, puts = 0;

 private:
  std::mutex mutex_;
};

Inspection inspected(const std::string& path, const InspectOptions& options) {
  auto seen = inspect(path, options);
  EXPECT_TRUE(seen) << seen.error().describe();
  return seen ? *seen : Inspection{};
}

// Everything a person or a diff reads of an inspection, as text, in order.
std::string summary_of(const Inspection& seen) {
  nlohmann::json out = nlohmann::json::array();
  for (const ReleaseFile& f : seen.files) {
    nlohmann::json file = {{"path", f.path},       {"type", f.type},
                           {"size", f.size},       {"sha256", f.sha256 ? to_hex(*f.sha256) : ""},
                           {"format", f.format},   {"depth", f.depth},
                           {"archive", f.archive}, {"members", f.members},
                           {"opaque", f.opaque},   {"signature", f.signature},
                           {"signer", f.signer},   {"link", f.link_target}};
    if (f.binary) {
      file["version"] = f.binary->version;
      file["libraries"] = f.binary->libraries;
      file["imports"] = f.binary->imports;
      file["network"] = f.binary->network_strings;
      file["authenticode"] = f.binary->authenticode_sha256;
      for (const content::SectionFacts& s : f.binary->sections) {
        file["sections"].push_back({s.name, s.size, s.entropy, s.code});
      }
    }
    out.push_back(file);
  }
  for (const Finding& f : seen.findings) {
    out.push_back({{"rule", f.rule}, {"path", f.path}, {"evidence", f.evidence}});
  }
  out.push_back({seen.archives, seen.expanded_bytes, seen.bytes});
  return out.dump(1);
}

class InspectionCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::MachoSpec spec;
    dir_.write("payload/tool", test::build_macho(spec));
    dir_.write("payload/Installer.dmg", test::build_dmg({}));
    dir_.write("payload/readme.txt", "see https://updates.example.com/feed for news\n");
    dir_.write("release/notes.txt", "release notes\n");
    const test::RunResult r =
        test::run_command({"python3", "-c",
                           "import os, sys, zipfile\n"
                           "top = sys.argv[1]\n"
                           "with zipfile.ZipFile(os.path.join(top, 'release/app.zip'), 'w', "
                           "zipfile.ZIP_DEFLATED) as z:\n"
                           "    for name in ('tool', 'Installer.dmg', 'readme.txt'):\n"
                           "        z.write(os.path.join(top, 'payload', name), 'bin/' + name)\n"
                           "    z.writestr('../escape.txt', b'x')\n",
                           dir_.path()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string release() const { return dir_ / "release"; }
  test::TempDir dir_;
};

TEST_F(InspectionCacheTest, AKeptArchiveIsTakenBackAsItWasRead) {
  MemoryCache cache;
  const Inspection plain = inspected(release(), {});
  const Inspection first = inspected(release(), {.cache = &cache});
  EXPECT_EQ(cache.puts, 1);  // the archive; the loose text file is cheaper to read again
  EXPECT_EQ(first.reused, 0u);
  EXPECT_EQ(summary_of(first), summary_of(plain));

  const uint64_t parsed = formats::images_parsed();
  const Inspection second = inspected(release(), {.cache = &cache});
  EXPECT_EQ(second.reused, 1u);
  EXPECT_EQ(formats::images_parsed(), parsed);  // nothing inside the archive parsed again
  EXPECT_EQ(summary_of(second), summary_of(plain));
  bool unsafe = false;
  for (const Finding& f : second.findings) {
    unsafe |= f.rule == "RELEASE_UNSAFE_MEMBER_NAME" && f.path == "app.zip!/../escape.txt";
  }
  EXPECT_TRUE(unsafe);

  // The same file under another name, in another release: its paths follow its new name.
  dir_.write("other/renamed.zip", test::read_file(release() + "/app.zip"));
  const Inspection moved = inspected(dir_ / "other", {.cache = &cache});
  EXPECT_EQ(moved.reused, 1u);
  bool found = false;
  for (const ReleaseFile& f : moved.files) found |= f.path == "renamed.zip!/bin/tool";
  EXPECT_TRUE(found);
  bool escape = false;
  for (const Finding& f : moved.findings) {
    if (f.rule != "RELEASE_UNSAFE_MEMBER_NAME") continue;
    EXPECT_EQ(f.path, "renamed.zip!/../escape.txt");
    EXPECT_EQ(evidence_of(f, "archive"), "renamed.zip");
    escape = true;
  }
  EXPECT_TRUE(escape);
}

TEST_F(InspectionCacheTest, IndicatorsAreMatchedAfreshOnWhatWasKept) {
  MemoryCache cache;
  intel::IndicatorIndex before;
  before.add({.algorithm = "sha256", .digest = std::string(32, '\x01'), .label = "other"});
  InspectOptions options{.cache = &cache};
  options.analysis.indicators = &before;
  const Inspection first = inspected(release(), options);
  for (const Finding& f : first.findings) EXPECT_NE(f.rule, "IOC_MATCH");

  // A feed that names the Mach-O only now: the kept archive is not read, yet it is matched.
  const std::string tool = test::read_file(dir_ / "payload/tool");
  const Sha256 digest = sha256_of(std::as_bytes(std::span(tool.data(), tool.size())));
  intel::IndicatorIndex after;
  after.add({.algorithm = "sha256",
             .digest = std::string(reinterpret_cast<const char*>(digest.data()), digest.size()),
             .label = "trojan"});
  options.analysis.indicators = &after;
  const Inspection second = inspected(release(), options);
  EXPECT_EQ(second.reused, 1u);
  std::vector<std::string> matched;
  for (const Finding& f : second.findings) {
    if (f.rule == "IOC_MATCH") matched.push_back(f.path);
  }
  EXPECT_EQ(matched, std::vector<std::string>{"app.zip!/bin/tool"});
  // And the match is not kept: with the first feed again, it is gone.
  options.analysis.indicators = &before;
  for (const Finding& f : inspected(release(), options).findings) EXPECT_NE(f.rule, "IOC_MATCH");
}

TEST_F(InspectionCacheTest, OtherOptionsDamageAndTheBudgetMeanReadingAgain) {
  MemoryCache cache;
  const Inspection plain = inspected(release(), {});
  inspected(release(), {.cache = &cache});
  ASSERT_EQ(cache.kept.size(), 1u);

  // Every damaged value is a miss and the file is read again; the value read again is kept.
  auto& [key, value] = *cache.kept.begin();
  const std::string good = value;
  for (size_t cut : {size_t{0}, size_t{10}, good.size() / 2, good.size() - 1}) {
    value = good.substr(0, cut);
    const Inspection again = inspected(release(), {.cache = &cache});
    EXPECT_EQ(again.reused, 0u) << cut;
    EXPECT_EQ(summary_of(again), summary_of(plain)) << cut;
  }
  value = good + "x";
  EXPECT_EQ(inspected(release(), {.cache = &cache}).reused, 0u);
  EXPECT_TRUE(value == good);  // kept anew

  // Other limits: another key.
  EXPECT_EQ(inspected(release(), {.max_depth = 3, .cache = &cache}).reused, 0u);
  EXPECT_EQ(cache.kept.size(), 2u);

  // A part larger than what the release has left to expand is read again (and then stops at
  // the limit, which is the release's, so nothing is kept).
  InspectOptions tight{.cache = &cache};
  tight.limits.max_total_bytes = 1000;
  const int puts = cache.puts;
  const Inspection limited = inspected(release(), tight);
  EXPECT_EQ(limited.reused, 0u);
  bool limit = false;
  for (const Finding& f : limited.findings) limit |= f.rule == "RELEASE_ARCHIVE_LIMIT";
  EXPECT_TRUE(limit);
  EXPECT_EQ(cache.puts, puts);
}

// Several workers read a directory release's files: the same files, facts and findings, in
// the same order, as one reader, and each content still parsed once.
TEST_F(InspectionCacheTest, ReadingInParallelGivesWhatOneReaderGives) {
  const std::string zip = test::read_file(release() + "/app.zip");
  const std::string tool = test::read_file(dir_ / "payload/tool");
  for (int i = 0; i < 12; ++i) {
    const std::string n = std::to_string(i);
    dir_.write("release/copies/" + n + "/app.zip", zip);  // the same archive, many times
    dir_.write("release/copies/" + n + "/tool", tool);
    dir_.write("release/loose/" + n + ".txt", "loose file " + n + " http://host" + n + ".com\n");
  }
  std::filesystem::create_symlink("nowhere", release() + "/dangling");
  const uint64_t before_serial = formats::images_parsed();
  const Inspection serial = inspected(release(), {.jobs = 1});
  const uint64_t serial_parses = formats::images_parsed() - before_serial;
  EXPECT_GT(serial.files.size(), 60u);
  for (unsigned jobs : {2u, 3u, 8u}) {
    const uint64_t before = formats::images_parsed();
    const Inspection parallel = inspected(release(), {.jobs = jobs});
    EXPECT_EQ(formats::images_parsed() - before, serial_parses) << jobs;
    EXPECT_EQ(summary_of(parallel), summary_of(serial)) << jobs;
    MemoryCache cache;
    inspected(release(), {.cache = &cache, .jobs = jobs});
    const Inspection again = inspected(release(), {.cache = &cache, .jobs = jobs});
    EXPECT_EQ(again.reused, 13u) << jobs;  // app.zip and its twelve copies
    EXPECT_EQ(summary_of(again), summary_of(serial)) << jobs;
  }
}

// A release whose files fit the budget of expanded bytes one by one but not together: what
// the budget leaves out is what one reader, in the walk's order, leaves out.
TEST(InspectInParallel, ABudgetRunOutIsSpentInTheWalksOrder) {
  test::TempDir dir;
  const test::RunResult r =
      test::run_command({"python3", "-c",
                         "import os, sys, zipfile\n"
                         "for i in range(4):\n"
                         "    with zipfile.ZipFile(os.path.join(sys.argv[1], 'z%d.zip' % i), 'w', "
                         "zipfile.ZIP_DEFLATED) as z:\n"
                         "        z.writestr('part%d.txt' % i, ('zip %d ' % i) * 50000)\n",
                         dir.path()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  InspectOptions tight{.jobs = 1};
  tight.limits.max_total_bytes = 700'000;  // two of the four 300,000-byte members
  const Inspection serial = inspected(dir.path(), tight);
  std::vector<std::string> limited;
  for (const Finding& f : serial.findings) {
    if (f.rule == "RELEASE_ARCHIVE_LIMIT") limited.push_back(f.path);
  }
  std::sort(limited.begin(), limited.end());
  EXPECT_EQ(limited, (std::vector<std::string>{"z2.zip", "z3.zip"}));

  MemoryCache cache;
  InspectOptions parallel = tight;
  parallel.jobs = 4;
  parallel.cache = &cache;
  const Inspection first = inspected(dir.path(), parallel);
  EXPECT_EQ(summary_of(first), summary_of(serial));
  EXPECT_EQ(first.reused, 0u);  // parts kept by the parallel pass are not counted as reused
  const Inspection second = inspected(dir.path(), parallel);
  EXPECT_EQ(summary_of(second), summary_of(serial));
  EXPECT_EQ(second.reused, 2u);  // z0 and z1, kept by the first inspection
}

TEST(InspectionPart, EveryTruncationOrFlippedByteIsAnErrorOrAPart) {
  InspectionPart part;
  ReleaseFile file{.path = "", .type = "file", .size = 3, .sha256 = Sha256{}, .format = "zip"};
  part.files.push_back(file);
  file.path = "!/a";
  file.binary = std::make_shared<const content::BinaryFacts>(
      content::BinaryFacts{.version = {{"soname", "liba.so.1"}},
                           .imports = {"x"},
                           .sections = {{".text", 10, 6.5, true}}});
  part.files.push_back(file);
  part.digests.resize(2);
  part.findings.push_back(make_finding("RELEASE_UNSAFE_MEMBER_NAME", "!/a"));
  const std::string good = encode_part(part);
  auto decoded = decode_part(good);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->files[1].binary->sections[0].entropy, 6.5);
  EXPECT_EQ(decoded->findings[0].rule, "RELEASE_UNSAFE_MEMBER_NAME");
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(decode_part(good.substr(0, cut))) << cut;
  }
  for (size_t at = 0; at < good.size(); ++at) {
    std::string flipped = good;
    flipped[at] = static_cast<char>(flipped[at] ^ 0xff);
    (void)decode_part(flipped);  // either; never a read outside it (ASan)
  }
}

// The store keeps parts for the command: a second inspection of the same release reuses it.
TEST(InspectionCacheCli, TheStoreKeepsWhatTheCommandFound) {
  test::TempDir dir;
  dir.write("payload/tool", test::build_macho({}));
  const test::RunResult zipped = test::run_command(
      {"python3", "-m", "zipfile", "-c", dir / "release.zip", dir / "payload/tool"});
  ASSERT_EQ(zipped.exit_code, 0) << zipped.err;
  const std::string db = dir / "catena.db";
  const auto reused = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"release", "inspect", "--db", db, "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(dir / "release.zip");
    const test::RunResult r = test::run_catena(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out).value("reused", -1);
  };
  EXPECT_EQ(reused({}), 0);
  EXPECT_EQ(reused({}), 1);
  EXPECT_EQ(reused({"--no-cache"}), 0);
  EXPECT_EQ(reused({"--max-depth", "2"}), 0);
  auto store = store::Store::open(db, store::Store::Access::ReadOnly);
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->schema_version(), store::kSchemaVersion);
}

}  // namespace
}  // namespace catena::release
