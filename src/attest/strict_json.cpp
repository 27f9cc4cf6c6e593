#include "strict_json.hpp"

#include <set>
#include <vector>

namespace catena::attest {
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

void quote(std::string_view text, std::string& out) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

bool encode(const nlohmann::json& value, std::string& out) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      out += "null";
      return true;
    case nlohmann::json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return true;
    case nlohmann::json::value_t::number_integer:
      out += std::to_string(value.get<int64_t>());
      return true;
    case nlohmann::json::value_t::number_unsigned:
      out += std::to_string(value.get<uint64_t>());
      return true;
    case nlohmann::json::value_t::string:
      quote(value.get_ref<const std::string&>(), out);
      return true;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : value) {
        if (!first) out += ',';
        first = false;
        if (!encode(item, out)) return false;
      }
      out += ']';
      return true;
    }
    case nlohmann::json::value_t::object: {
      // nlohmann's object is a std::map: byte order, which for UTF-8 is code-point order.
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.items()) {
        if (!first) out += ',';
        first = false;
        quote(key, out);
        out += ':';
        if (!encode(item, out)) return false;
      }
      out += '}';
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

Result<nlohmann::json> parse_strict_json(std::string_view text) {
  if (!nesting_within(text, kMaxJsonDepth)) {
    return make_error(ErrorCode::LimitExceeded,
                      "JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  }
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  const auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    switch (event) {
      case nlohmann::json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case nlohmann::json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case nlohmann::json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty()) {
          duplicate = parsed.get<std::string>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    nlohmann::json doc = nlohmann::json::parse(text, callback, true);
    if (!duplicate.empty()) {
      return make_error(ErrorCode::Parse, "duplicate JSON key \"" + duplicate + "\"");
    }
    return doc;
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::Parse, std::string("malformed JSON: ") + e.what());
  }
}

Result<std::string> canonical_json(const nlohmann::json& value) {
  std::string out;
  if (!encode(value, out)) {
    return make_error(ErrorCode::Parse, "canonical JSON has no floating-point numbers");
  }
  return out;
}

std::string string_member(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return {};
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace catena::attest
