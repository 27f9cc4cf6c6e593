#pragma once
/// Text helpers for byte-exact paths and for printing attacker-chosen bytes safely.
///
/// Paths are std::string holding the exact bytes the kernel gave us; they may be any bytes but
/// NUL. Before a path reaches a person or a JSON document it goes through one of these, each of
/// which is injective: no two distinct byte strings produce the same output.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "catena/core/result.hpp"

namespace catena {

/// True when `text` is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// A readable, injective, pure-ASCII-safe rendering for terminals: backslash becomes `\\`,
/// control characters `\n`, `\t`, `\xNN`, bytes that are not valid UTF-8 `\xNN`, and Unicode
/// format characters that reorder or hide text (bidi overrides, zero-width) `\u{NNNN}`.
std::string escape_for_terminal(std::string_view bytes);

/// The `path` member of a JSON record: the bytes themselves when they are valid UTF-8, else
/// escape_for_terminal(). `needs_b64` says whether `path_b64` must accompany it.
std::string json_path_text(std::string_view bytes, bool* needs_b64);

std::string base64_encode(std::string_view bytes);
[[nodiscard]] Result<std::string> base64_decode(std::string_view text);

/// RFC 3986 percent-encoding of every byte outside the unreserved set and '/'.
std::string percent_encode_path(std::string_view bytes);

/// "1.5 GB", "12 kB": decimal units for human output.
std::string human_bytes(uint64_t bytes);

/// `text` without leading and trailing ASCII white space (space, tab, CR, LF, FF, VT).
std::string_view trim_space(std::string_view text);

/// Reads text line by line ('\n'-separated), each line exactly as it is (no byte removed: a
/// path in a dpkg list may end in a space). A final '\n' ends the last line; it starts none.
///   Lines lines(text);
///   while (auto line = lines.next()) { ... lines.number(), lines.offset() ... }
class Lines {
 public:
  explicit Lines(std::string_view text) : text_(text) {}
  /// The next line, or nullopt after the last.
  std::optional<std::string_view> next();
  /// The 1-based number of the line next() returned last.
  size_t number() const { return number_; }
  /// Where in the text the line next() returned last begins.
  size_t offset() const { return offset_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t number_ = 0;
  size_t offset_ = 0;
};

/// Reads text line by line ('\n'-separated), each line without surrounding white space:
///   TrimmedLines lines(text);
///   while (auto line = lines.next()) { ... lines.number() ... }
class TrimmedLines {
 public:
  explicit TrimmedLines(std::string_view text) : lines_(text) {}
  /// The next line, or nullopt after the last.
  std::optional<std::string_view> next();
  /// The 1-based number of the line next() returned last.
  size_t number() const { return lines_.number(); }

 private:
  Lines lines_;
};

/// `text` with ASCII letters in lower case (other bytes unchanged, whatever the locale).
std::string ascii_lower(std::string_view text);

}  // namespace catena
