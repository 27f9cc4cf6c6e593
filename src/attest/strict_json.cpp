#include "strict_json.hpp"

#include <algorithm>
#include <set>
#include <vector>

namespace catena::attest {
// securesystemslib's canonical JSON; refuses floats and duplicate keys.
Status encode_canonical(simdjson::dom::element element, std::string& out) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object object;
      if (element.get(object)) return make_error(ErrorCode::Parse, "malformed JSON object");
      std::vector<std::pair<std::string_view, simdjson::dom::element>> fields;
      for (const auto field : object) fields.emplace_back(field.key, field.value);
      // Writers usually sort keys already: checking costs one comparison per key.
      const auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
      if (!std::is_sorted(fields.begin(), fields.end(), by_key)) {
        std::sort(fields.begin(), fields.end(), by_key);
      }
      out += '{';
      for (size_t i = 0; i < fields.size(); ++i) {
        if (i > 0) {
          if (fields[i].first == fields[i - 1].first) {
            return make_error(ErrorCode::Parse,
                              "duplicate JSON key \"" + std::string(fields[i].first) + "\"");
          }
          out += ',';
        }
        canonical_quote(fields[i].first, out);
        out += ':';
        CATENA_TRY_STATUS(encode_canonical(fields[i].second, out));
      }
      out += '}';
      return {};
    }
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array array;
      if (element.get(array)) return make_error(ErrorCode::Parse, "malformed JSON array");
      out += '[';
      bool first = true;
      for (const auto item : array) {
        if (!first) out += ',';
        first = false;
        CATENA_TRY_STATUS(encode_canonical(item, out));
      }
      out += ']';
      return {};
    }
    case simdjson::dom::element_type::STRING: {
      std::string_view text;
      if (element.get(text)) return make_error(ErrorCode::Parse, "malformed JSON string");
      canonical_quote(text, out);
      return {};
    }
    case simdjson::dom::element_type::INT64: {
      int64_t value = 0;
      if (element.get(value)) return make_error(ErrorCode::Parse, "malformed JSON number");
      out += std::to_string(value);
      return {};
    }
    case simdjson::dom::element_type::UINT64: {
      uint64_t value = 0;
      if (element.get(value)) return make_error(ErrorCode::Parse, "malformed JSON number");
      out += std::to_string(value);
      return {};
    }
    case simdjson::dom::element_type::DOUBLE:
      return make_error(ErrorCode::Parse, "canonical JSON has no floating-point numbers");
    case simdjson::dom::element_type::BOOL: {
      bool value = false;
      if (element.get(value)) return make_error(ErrorCode::Parse, "malformed JSON boolean");
      out += value ? "true" : "false";
      return {};
    }
    case simdjson::dom::element_type::NULL_VALUE:
      out += "null";
      return {};
  }
  return make_error(ErrorCode::Parse, "unknown JSON value");
}

Result<std::string> canonical_json(const nlohmann::json& value) {
  // One encoder for signing and verifying: the value is written as JSON text, read back as the
  // verifier reads a metablock, and encoded by the verifier's encoder, so what is signed is
  // byte for byte what a verification recomputes.
  std::string text;
  try {
    text = value.dump();
  } catch (const nlohmann::json::exception& e) {
    return make_error(ErrorCode::Parse, std::string("not JSON text: ") + e.what());
  }
  simdjson::dom::parser parser(text.size() + 64);
  if (parser.allocate(text.size() + 64, kMaxJsonDepth) != simdjson::SUCCESS) {
    return make_error(ErrorCode::LimitExceeded, "metadata too large to encode");
  }
  simdjson::dom::element root;
  if (const auto error = parser.parse(text).get(root); error) {
    return make_error(ErrorCode::Parse,
                      std::string("canonical JSON: ") + simdjson::error_message(error));
  }
  std::string out;
  out.reserve(text.size());
  CATENA_TRY_STATUS(encode_canonical(root, out));
  return out;
}

std::string string_member(const nlohmann::json& object, std::string_view name) {
  if (!object.is_object()) return {};
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace catena::attest
