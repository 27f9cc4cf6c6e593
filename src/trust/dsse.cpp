#include "catena/trust/dsse.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "catena/core/text.hpp"
#include "catena/trust/strict_json.hpp"

namespace catena::trust {
namespace {

using nlohmann::json;

std::string string_at(const json& object, const char* name) {
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

// Either alphabet, padding optional: DSSE leaves the choice to the signer.
Result<std::string> dsse_base64_decode(std::string text) {
  const bool standard = text.find_first_of("+/") != std::string::npos;
  const bool url_safe = text.find_first_of("-_") != std::string::npos;
  if (standard && url_safe) return make_error(ErrorCode::Parse, "base64 mixes two alphabets");
  for (char& c : text) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  if (text.size() % 4 == 1) return make_error(ErrorCode::Parse, "invalid base64 length");
  while (text.size() % 4 != 0) text += '=';
  return base64_decode(text);
}

Result<std::string> dsse_sign(std::string_view payload_type,
                              std::string_view payload,
                              const SigningKey& key) {
  CATENA_TRY(const std::string signature, key.sign(dsse_pae(payload_type, payload)));
  const json envelope = {
      {"payloadType", std::string(payload_type)},
      {"payload", base64_encode(payload)},
      {"signatures", json::array({{{"keyid", key.key_id()}, {"sig", base64_encode(signature)}}})}};
  return envelope.dump(2) + "\n";
}

Result<DsseOpened> dsse_open(std::string_view envelope,
                             std::string_view payload_type,
                             const std::vector<VerifyingKey>& keys) {
  // Strict: an envelope with two "payload" keys must not verify one and be read as the other.
  auto parsed = parse_strict_json(envelope);
  if (!parsed)
    return make_error(ErrorCode::Parse, "not a DSSE envelope: " + parsed.error().message);
  const json doc = std::move(*parsed);
  if (!doc.is_object()) {
    return make_error(ErrorCode::Parse, "not a DSSE envelope (not a JSON object)");
  }
  const auto payload_it = doc.find("payload");
  const auto type_it = doc.find("payloadType");
  const auto signatures_it = doc.find("signatures");
  if (payload_it == doc.end() || !payload_it->is_string() || type_it == doc.end() ||
      !type_it->is_string() || signatures_it == doc.end() || !signatures_it->is_array()) {
    return make_error(ErrorCode::Parse, "not a DSSE envelope (payload, payloadType, signatures)");
  }
  const std::string type = type_it->get<std::string>();
  if (type != payload_type) {
    return make_error(ErrorCode::Parse, "the envelope's payloadType is \"" + type + "\", not \"" +
                                            std::string(payload_type) + "\"");
  }
  if (signatures_it->empty()) return make_error(ErrorCode::Parse, "the envelope has no signature");
  DsseOpened out;
  CATENA_TRY(out.payload, dsse_base64_decode(payload_it->get<std::string>()));
  // PAE binds the type too: a payload signed as another type does not verify here.
  const std::string pae = dsse_pae(type, out.payload);
  std::set<std::string> keyids;
  for (const json& signature : *signatures_it) {
    if (!signature.is_object()) return make_error(ErrorCode::Parse, "a signature is not an object");
    const std::string keyid = string_at(signature, "keyid");
    if (!keyid.empty() && !keyids.insert(keyid).second) {
      return make_error(ErrorCode::Parse, "two signatures name keyid " + keyid);
    }
    auto sig = dsse_base64_decode(string_at(signature, "sig"));
    if (!sig || sig->empty()) {
      out.problems.push_back("signature " + (keyid.empty() ? std::string("without keyid") : keyid) +
                             ": not base64");
      continue;
    }
    bool verified = false;
    for (const VerifyingKey& key : keys) {
      if (!keyid.empty() && keyid != key.key_id() && keyid != key.sslib().keyid) continue;
      if (key.verify(pae, *sig)) {
        verified = true;
        if (std::find(out.verified_by.begin(), out.verified_by.end(), key.key_id()) ==
            out.verified_by.end()) {
          out.verified_by.push_back(key.key_id());
        }
      }
    }
    if (!verified) {
      out.problems.push_back("signature " + (keyid.empty() ? std::string("without keyid") : keyid) +
                             ": no given key verifies it");
    }
  }
  return out;
}

}  // namespace catena::trust
