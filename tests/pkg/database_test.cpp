#include "catena/pkg/database.hpp"

#include <gtest/gtest.h>

#include "catena/pkg/control.hpp"
#include "support/dpkg_root.hpp"
#include "support/matchers.hpp"

namespace catena::pkg {
namespace {

using test::HasError;
using test::HasErrorContaining;
using test::IsOk;

TEST(ControlParagraphs, SplitsFieldsAndContinuations) {
  std::vector<std::pair<size_t, std::string>> seen;
  auto parsed = for_each_paragraph(
      "Package: a\nDescription: first\n second line\n\n\n# comment\npackage: b\nStatus: x y z\n",
      [&](const Paragraph& p) {
        seen.emplace_back(p.first_line, std::string(p.get("PACKAGE")));
        if (seen.size() == 1) {
          EXPECT_EQ(p.get("Description"), "first\n second line");
          EXPECT_EQ(continuation_lines(p.get("Description")),
                    std::vector<std::string_view>{"second line"});
          EXPECT_FALSE(p.has("Status"));
        }
        return true;
      });
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(seen, (std::vector<std::pair<size_t, std::string>>{{1, "a"}, {7, "b"}}));
}

TEST(ControlParagraphs, NamesTheLineOfAnError) {
  const auto ignore = [](const Paragraph&) { return true; };
  EXPECT_THAT(for_each_paragraph("Package: a\nno colon here\n", ignore),
              HasErrorContaining(ErrorCode::Parse, "line 2"));
  EXPECT_THAT(for_each_paragraph(" leading continuation\n", ignore),
              HasErrorContaining(ErrorCode::Parse, "line 1"));
  EXPECT_THAT(for_each_paragraph(": empty name\n", ignore), HasError(ErrorCode::Parse));
}

TEST(ControlParagraphs, StopsWhenAsked) {
  int calls = 0;
  auto parsed =
      for_each_paragraph("A: 1\n\nA: 2\n\nA: 3\n", [&](const Paragraph&) { return ++calls < 2; });
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(calls, 2);
}

TEST(ParseStatus, ReadsPackagesAndConffiles) {
  auto packages = parse_status(
      "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nMulti-Arch: same\n"
      "Version: 2.36-9\nConffiles:\n /etc/ld.so.conf.d/x86_64-linux-gnu.conf "
      "d4e7a7b88a71b5ffd9e2644e71a0cfab\n"
      " /etc/with space.conf 0123456789abcdef0123456789abcdef obsolete\n"
      " /etc/new.conf newconffile remove-on-upgrade\n\n"
      "Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n");
  ASSERT_THAT(packages, IsOk());
  ASSERT_EQ(packages->size(), 2u);
  const InstalledPackage& libc = (*packages)[0];
  EXPECT_EQ(libc.qualified_name(), "libc6:amd64");
  EXPECT_EQ(libc.state, "installed");
  ASSERT_EQ(libc.conffiles.size(), 3u);
  EXPECT_EQ(libc.conffiles[1].path, "/etc/with space.conf");
  EXPECT_TRUE(libc.conffiles[1].obsolete);
  EXPECT_EQ(libc.conffiles[2].hash, "newconffile");
  EXPECT_TRUE(libc.conffiles[2].remove_on_upgrade);
  EXPECT_EQ((*packages)[1].qualified_name(), "gone");
  EXPECT_TRUE((*packages)[1].has_files());
}

TEST(ParseStatus, RejectsDamagedText) {
  EXPECT_THAT(parse_status("Package: a\nStatus: install ok installed\nVersi"),
              HasErrorContaining(ErrorCode::Parse, "truncated"));
  EXPECT_THAT(parse_status("Status: install ok installed\n\n"),
              HasErrorContaining(ErrorCode::Parse, "no Package"));
  EXPECT_THAT(parse_status("Package: a\nStatus: installed\n\n"),
              HasErrorContaining(ErrorCode::Parse, "Status"));
  EXPECT_THAT(parse_status("Package: a\nStatus: install ok installed\nConffiles:\n /etc/x\n\n"),
              HasErrorContaining(ErrorCode::Parse, "hash"));
  EXPECT_THAT(parse_status("Package: a\nStatus: install ok installed\nConffiles:\n etc/x 00\n\n"),
              HasErrorContaining(ErrorCode::Parse, "absolute"));
}

TEST(ParseMd5sums, ReadsPathsWithSpacesAndKeepsBadLines) {
  const Md5sums parsed = parse_md5sums(
      "d41d8cd98f00b204e9800998ecf8427e  usr/bin/with space\n"
      "D41D8CD98F00B204E9800998ECF8427E *usr/bin/binary-mode\n"
      "zz1d8cd98f00b204e9800998ecf8427e  usr/bin/bad-hash\n"
      "d41d8cd98f00b204e9800998ecf8427e usr/bin/one-space\n"
      "d41d8cd98f00b204\n"
      "\n");
  ASSERT_EQ(parsed.entries.size(), 2u);
  EXPECT_EQ(parsed.entries[0].path, "/usr/bin/with space");
  EXPECT_EQ(parsed.entries[1].md5, "d41d8cd98f00b204e9800998ecf8427e");
  ASSERT_EQ(parsed.bad_lines.size(), 3u);
  EXPECT_EQ(parsed.bad_lines[0].line, 3u);
  EXPECT_EQ(parsed.bad_lines[1].line, 4u);
  EXPECT_EQ(parsed.bad_lines[2].line, 5u);
}

TEST(DpkgDatabase, AppliesTheJournalAndNamesMultiarchInfoFiles) {
  test::FakeDpkgRoot root;
  root.install({.name = "libz", .multi_arch = "same", .files = {{"/usr/lib/libz.so", "z"}}});
  root.install({.name = "tool", .files = {{"/usr/bin/tool", "t"}}});
  root.dir().write("var/lib/dpkg/updates/0001",
                   "Package: tool\nStatus: install ok installed\nArchitecture: amd64\n"
                   "Version: 2.0\n\nPackage: newer\nStatus: install ok unpacked\n"
                   "Architecture: all\nVersion: 1\n\n");
  auto db = DpkgDatabase::open({.root = root.path()});
  ASSERT_THAT(db, IsOk());
  ASSERT_EQ(db->packages().size(), 3u);
  EXPECT_EQ(db->packages()[1].version, "2.0");
  EXPECT_EQ(db->packages()[2].name, "newer");
  EXPECT_EQ(db->info_path(db->packages()[0], "list"), root.admin() + "/info/libz:amd64.list");
  EXPECT_THAT(db->read_info(db->packages()[0], "list"), IsOk());
  EXPECT_THAT(db->read_info(db->packages()[2], "list"), HasError(ErrorCode::NotFound));
  // A database of format 0 (no info/format) predates multiarch names.
  ::unlink((root.admin() + "/info/format").c_str());
  auto old = DpkgDatabase::open({.root = root.path()});
  ASSERT_THAT(old, IsOk());
  EXPECT_EQ(old->info_path(old->packages()[0], "list"), root.admin() + "/info/libz.list");
}

TEST(DpkgDatabase, ReportsMissingAndDamagedStatus) {
  test::TempDir empty;
  EXPECT_THAT(DpkgDatabase::open({.root = empty.path()}), HasError(ErrorCode::NotFound));
  test::FakeDpkgRoot root;
  root.dir().write("var/lib/dpkg/status", "Package: a\nStatus: install ok installed\nVer");
  EXPECT_THAT(DpkgDatabase::open({.root = root.path()}),
              HasErrorContaining(ErrorCode::Parse, "status"));
  root.dir().write("var/lib/dpkg/status", "");
  root.dir().write("var/lib/dpkg/diversions", "/usr/bin/a\n/usr/bin/a.real\n");
  EXPECT_THAT(DpkgDatabase::open({.root = root.path()}),
              HasErrorContaining(ErrorCode::Parse, "diversions"));
}

}  // namespace
}  // namespace catena::pkg
