#include "catena/pkg/control.hpp"

#include <string>

#include "catena/core/text.hpp"

namespace catena::pkg {
namespace {

bool equal_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t char_idx = 0; char_idx < a.size(); ++char_idx) {
    char x = a[char_idx];
    char y = b[char_idx];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  return text;
}

Error line_error(size_t line, const std::string& what) {
  return Error{ErrorCode::Parse, "line " + std::to_string(line) + ": " + what, {}};
}

}  // namespace

std::string_view Paragraph::get(std::string_view name) const {
  for (const Field& field : fields) {
    if (equal_ignoring_case(field.name, name)) return field.value;
  }
  return {};
}

bool Paragraph::has(std::string_view name) const {
  for (const Field& field : fields) {
    if (equal_ignoring_case(field.name, name)) return true;
  }
  return false;
}

Result<void> for_each_paragraph(std::string_view text,
                                const std::function<bool(const Paragraph&)>& on_paragraph) {
  Paragraph paragraph;
  // Where the current field's value starts and ends in `text`, so continuations extend it.
  size_t value_begin = 0;
  size_t value_end = 0;
  bool in_field = false;
  const auto close_field = [&] {
    if (in_field) paragraph.fields.back().value = text.substr(value_begin, value_end - value_begin);
    in_field = false;
  };
  const auto flush = [&]() -> bool {
    close_field();
    if (paragraph.fields.empty()) return true;
    const bool more = on_paragraph(paragraph);
    paragraph.fields.clear();
    return more;
  };

  Lines lines(text);
  while (auto next = lines.next()) {
    const size_t line_number = lines.number();
    const size_t line_begin = lines.offset();
    const std::string_view line = *next;
    if (trim(line).empty()) {
      if (!flush()) return {};
      continue;
    }
    if (line.front() == '#') continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (!in_field)
        return tl::unexpected(line_error(line_number, "continuation line outside a field"));
      value_end = line_begin + line.size();
      while (value_end > line_begin && text[value_end - 1] == '\r') --value_end;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return tl::unexpected(line_error(line_number, "expected 'Field: value'"));
    }
    close_field();
    if (paragraph.fields.size() >= kMaxFieldsPerParagraph) {
      return tl::unexpected(line_error(line_number, "too many fields in one paragraph"));
    }
    if (paragraph.fields.empty()) paragraph.first_line = line_number;
    const std::string_view name = trim(line.substr(0, colon));
    const std::string_view first = trim(line.substr(colon + 1));
    paragraph.fields.push_back({name, first});
    value_begin =
        first.empty() ? line_begin + line.size() : static_cast<size_t>(first.data() - text.data());
    value_end = first.empty() ? value_begin : value_begin + first.size();
    in_field = true;
  }
  flush();
  return {};
}

std::vector<std::string_view> continuation_lines(std::string_view value) {
  std::vector<std::string_view> out;
  const size_t first_end = value.find('\n');
  if (first_end == std::string_view::npos) return out;
  // Trimmed as a control field is (space, tab; CR at the end), not as free text.
  Lines lines(value.substr(first_end + 1));
  while (auto line = lines.next()) {
    const std::string_view trimmed = trim(*line);
    if (!trimmed.empty()) out.push_back(trimmed);
  }
  return out;
}

}  // namespace catena::pkg
