#pragma once
/// Debian control data (deb822 paragraphs): the dpkg `status` file and apt's `Packages` indexes.
///
///   CATENA_TRY_STATUS(for_each_paragraph(text, [&](const Paragraph& p) {
///     std::string_view name = p.get("Package");
///     return true;  // false stops early
///   }));
///
/// Views point into the text given; a paragraph is valid only during its callback. Field names
/// compare case-insensitively, as dpkg compares them. A value keeps its continuation lines
/// (joined by '\n', each with its leading space); `continuation_lines` splits them.
#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::pkg {

/// A cap on the fields of one paragraph; real status paragraphs have about 20.
inline constexpr size_t kMaxFieldsPerParagraph = 4096;

struct Field {
  std::string_view name;
  std::string_view value;  // first line trimmed; continuation lines follow after '\n'
};

struct Paragraph {
  size_t first_line = 0;  // 1-based line number of the paragraph's first field
  std::vector<Field> fields;

  /// The value of the field, or empty when it is absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
};

/// Calls `on_paragraph` for each paragraph in order. Parse error naming the line for a line that
/// is neither a field nor a continuation, a continuation with no field before it, or a
/// paragraph over kMaxFieldsPerParagraph fields. Lines starting with '#' are comments (deb822).
[[nodiscard]] Result<void> for_each_paragraph(
    std::string_view text, const std::function<bool(const Paragraph&)>& on_paragraph);

/// The continuation lines of a multi-line value, without their leading whitespace; the first
/// line (often empty, as in "Conffiles:") is not included.
std::vector<std::string_view> continuation_lines(std::string_view value);

}  // namespace catena::pkg
