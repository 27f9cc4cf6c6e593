#include "catena/core/text.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "support/matchers.hpp"

namespace catena {
namespace {

TEST(Utf8, ValidatesStrictly) {
  struct Case {
    std::string text;
    bool valid;
  };
  for (const Case& c : std::vector<Case>{{"plain", true},
                                         {"caf\xc3\xa9", true},
                                         {"\xf0\x9f\x98\x80", true},
                                         {"\xff", false},
                                         {"\xc0\xaf", false},          // overlong '/'
                                         {"\xed\xa0\x80", false},      // surrogate
                                         {"\xf4\x90\x80\x80", false},  // > U+10FFFF
                                         {"\xe2\x82", false},          // truncated
                                         {std::string("a\0b", 3), true}}) {
    EXPECT_EQ(is_valid_utf8(c.text), c.valid) << escape_for_terminal(c.text);
  }
}

TEST(EscapeForTerminal, EscapesControlsInvalidBytesAndBidi) {
  EXPECT_EQ(escape_for_terminal("a\nb\tc\x1b[31m"), "a\\nb\\tc\\x1b[31m");
  EXPECT_EQ(escape_for_terminal("x\xffy"), "x\\xffy");
  EXPECT_EQ(escape_for_terminal("evil\xe2\x80\xaetxt.exe"), "evil\\u{202e}txt.exe");
  EXPECT_EQ(escape_for_terminal("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escape_for_terminal("back\\slash"), "back\\\\slash");
}

TEST(EscapeForTerminal, IsInjective) {
  // Strings built to collide under a naive escaper.
  const std::vector<std::string> inputs = {"\\x41", "\x41",  "\\\\x41",   "\xff",         "\\xff",
                                           "a\nb",  "a\\nb", "\\u{202e}", "\xe2\x80\xae", ""};
  std::set<std::string> seen;
  for (const std::string& input : inputs)
    EXPECT_TRUE(seen.insert(escape_for_terminal(input)).second) << input;
}

TEST(JsonPathText, FlagsOnlyInvalidUtf8) {
  bool needs_b64 = true;
  EXPECT_EQ(json_path_text("/usr/bin/ls", &needs_b64), "/usr/bin/ls");
  EXPECT_FALSE(needs_b64);
  EXPECT_EQ(json_path_text("/tmp/\xfe", &needs_b64), "/tmp/\\xfe");
  EXPECT_TRUE(needs_b64);
  // A name that spells the escape is not printed the same as the byte it spells.
  EXPECT_EQ(json_path_text("/tmp/\\xfe", &needs_b64), "/tmp/\\\\xfe");
  EXPECT_TRUE(needs_b64);
  EXPECT_NE(json_path_text("/tmp/\\xfe", &needs_b64), json_path_text("/tmp/\xfe", &needs_b64));
}

TEST(Base64, RoundTripsEveryLength) {
  std::string data;
  for (int length = 0; length < 64; ++length) {
    auto decoded = base64_decode(base64_encode(data));
    ASSERT_THAT(decoded, test::IsOk());
    EXPECT_EQ(*decoded, data);
    data.push_back(static_cast<char>(length * 37 + 200));
  }
  EXPECT_EQ(base64_encode("foob"), "Zm9vYg==");
  EXPECT_THAT(base64_decode("Zm9"), test::HasError(ErrorCode::Parse));
  EXPECT_THAT(base64_decode("Zm=v"), test::HasError(ErrorCode::Parse));
  EXPECT_THAT(base64_decode("Zm9v!A=="), test::HasError(ErrorCode::Parse));
}

TEST(PercentEncodePath, KeepsSlashesAndEncodesTheRest) {
  EXPECT_EQ(percent_encode_path("/a b/\xff%"), "/a%20b/%FF%25");
}

TEST(HumanBytes, UsesDecimalUnits) {
  EXPECT_EQ(human_bytes(999), "999 B");
  EXPECT_EQ(human_bytes(1500000), "1.5 MB");
}

}  // namespace
}  // namespace catena

namespace catena {
namespace {

TEST(TrimmedLines, YieldsEachLineTrimmedAndNumbered) {
  TrimmedLines lines("  a \r\n\n\tb\nlast");
  std::vector<std::string> seen;
  while (auto line = lines.next()) seen.emplace_back(*line);
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "", "b", "last"}));
  EXPECT_EQ(lines.number(), 4u);
  TrimmedLines empty("");
  EXPECT_FALSE(empty.next());
  TrimmedLines trailing("x\n");
  EXPECT_EQ(*trailing.next(), "x");
  EXPECT_FALSE(trailing.next());  // no phantom empty line after the last newline
}

}  // namespace
}  // namespace catena

namespace catena {
namespace {

TEST(Lines, KeepEveryByteOfEachLine) {
  // A dpkg list may name "/usr/bin/a " (trailing space) or a path with a CR: nothing is trimmed.
  const std::string_view text = "/usr/bin/a \n\n\t/x\r\n/last";
  Lines lines(text);
  std::vector<std::pair<std::string_view, size_t>> got;
  while (auto line = lines.next()) {
    EXPECT_EQ(text.substr(lines.offset(), line->size()), *line);
    got.emplace_back(*line, lines.number());
  }
  const std::vector<std::pair<std::string_view, size_t>> want = {
      {"/usr/bin/a ", 1}, {"", 2}, {"\t/x\r", 3}, {"/last", 4}};
  EXPECT_EQ(got, want);
}

TEST(Lines, AFinalNewlineEndsTheLastLineAndStartsNone) {
  Lines one("a\n");
  EXPECT_EQ(one.next(), std::optional<std::string_view>("a"));
  EXPECT_EQ(one.next(), std::nullopt);
  Lines none("");
  EXPECT_EQ(none.next(), std::nullopt);
  Lines blank("\n");
  EXPECT_EQ(blank.next(), std::optional<std::string_view>(""));
  EXPECT_EQ(blank.next(), std::nullopt);
}

}  // namespace
}  // namespace catena
