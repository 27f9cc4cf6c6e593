#include "strict_json.hpp"

#include <set>
#include <vector>

namespace catena::attest {
namespace {

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
      canonical_quote(value.get_ref<const std::string&>(), out);
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
        canonical_quote(key, out);
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
