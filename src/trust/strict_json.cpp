#include "catena/trust/strict_json.hpp"

#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace catena::trust {
namespace {

// Depth before parsing: nlohmann's parser recurses, so hostile nesting must stop here.
bool nesting_within(std::string_view text, size_t limit) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// Builds the DOM as nlohmann's own parser does, refusing an object key seen twice.
struct DuplicateKeyCheck {
  using json = nlohmann::json;
  explicit DuplicateKeyCheck(json& out) : dom(out, true) {}
  bool null() { return dom.null(); }
  bool boolean(bool value) { return dom.boolean(value); }
  bool number_integer(json::number_integer_t value) { return dom.number_integer(value); }
  bool number_unsigned(json::number_unsigned_t value) { return dom.number_unsigned(value); }
  bool number_float(json::number_float_t value, const json::string_t& text) {
    return dom.number_float(value, text);
  }
  bool string(json::string_t& value) { return dom.string(value); }
  bool binary(json::binary_t& value) { return dom.binary(value); }
  bool start_object(std::size_t size) {
    keys.emplace_back();
    return dom.start_object(size);
  }
  bool key(json::string_t& value) {
    if (!keys.empty() && !keys.back().insert(value).second) {
      if (duplicate.empty()) duplicate = value;
      return false;  // stops the parse
    }
    return dom.key(value);
  }
  bool end_object() {
    if (!keys.empty()) keys.pop_back();
    return dom.end_object();
  }
  bool start_array(std::size_t size) { return dom.start_array(size); }
  bool end_array() { return dom.end_array(); }
  bool parse_error(std::size_t position,
                   const std::string& token,
                   const nlohmann::detail::exception& e) {
    return dom.parse_error(position, token, e);
  }

  nlohmann::detail::json_sax_dom_parser<json> dom;
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
};

}  // namespace

Result<nlohmann::json> parse_strict_json(std::string_view text) {
  if (!nesting_within(text, kMaxJsonDepth)) {
    return make_error(ErrorCode::LimitExceeded,
                      "JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  // nlohmann's callback parser re-scans a container at every child's end (quadratic in
  // 100,000-entry lists), so duplicates are caught by a SAX handler over its DOM builder.
  nlohmann::json doc;
  DuplicateKeyCheck handler(doc);
  try {
    const bool ok =
        nlohmann::json::sax_parse(text, &handler, nlohmann::json::input_format_t::json, true);
    if (!handler.duplicate.empty()) {
      return make_error(ErrorCode::Parse, "duplicate JSON key \"" + handler.duplicate + "\"");
    }
    if (!ok) return make_error(ErrorCode::Parse, "malformed JSON");
    return doc;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::Parse, std::string("malformed JSON: ") + e.what());
  }
}

void canonical_quote(std::string_view text, std::string& out) {
  out += '"';
  // Paths and digests rarely hold a quote or backslash: memchr finds out at memory speed.
  if (std::memchr(text.data(), '"', text.size()) == nullptr &&
      std::memchr(text.data(), '\\', text.size()) == nullptr) {
    out.append(text);
  } else {
    for (const char c : text) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
  }
  out += '"';
}

}  // namespace catena::trust
