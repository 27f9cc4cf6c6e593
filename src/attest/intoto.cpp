#include "catena/attest/intoto.hpp"

#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/time.hpp"
#include "catena/trust/dsse.hpp"
#include "strict_json.hpp"

extern char** environ;

namespace catena::attest {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxMetadataBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxKeyFileBytes = 1 << 20;

// Reported to the verdict: which check failed, on what, and why.
struct Failure {
  std::string check;
  std::string item;
  std::string rule;
  std::string reason;
};

std::string hex_of(std::string_view bytes) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// Signed metadata is read with simdjson: its DOM is built in one pass at several hundred
// MB/s, and strings are views into the parser, so a link of 10,000 artifacts costs no
// allocation per artifact.
namespace sj = simdjson;

constexpr std::string_view kDssePayloadType = "application/vnd.in-toto+json";

// A signature as a metablock or an envelope carries it; a GPG one also has its packet headers.
struct Signature {
  std::string bytes;
  std::string other_headers;
  bool gpg = false;
};

// What a metablock or a DSSE envelope says; `signed_part` points into the parser and is valid
// until its next parse. `signed_bytes` is what the signatures sign: the canonical JSON of
// "signed", or for an envelope the pre-authentication encoding of its payload.
struct Metablock {
  sj::dom::element signed_part;
  std::map<std::string, Signature> signatures;  // keyid -> signature
  std::string signed_bytes;
  bool dsse = false;
};

std::optional<sj::dom::element> member(sj::dom::element object, std::string_view name) {
  sj::dom::element value;
  if (!object.is_object() || object[name].get(value)) return std::nullopt;
  return value;
}

std::string_view string_view_of(sj::dom::element object, std::string_view name) {
  const auto value = member(object, name);
  std::string_view text;
  if (!value || value->get(text)) return {};
  return text;
}

std::string string_of(sj::dom::element object, std::string_view name) {
  return std::string(string_view_of(object, name));
}

// True when an object (not its children) names a key twice.
bool has_duplicate_keys(sj::dom::element element) {
  sj::dom::object object;
  if (element.get(object)) return false;
  std::vector<std::string_view> keys;
  for (const auto field : object) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

// `text` must have SIMDJSON_PADDING readable bytes after its end (see read_padded), so the
// parser reads it in place instead of copying it.
Result<Metablock> parse_metablock(std::string_view text, sj::dom::parser& parser) {
  Metablock out;
  // The depth cap bounds the canonical encoder's recursion.
  if (parser.max_depth() != kMaxJsonDepth || parser.capacity() < text.size()) {
    if (parser.allocate(std::max<size_t>(text.size(), 64), kMaxJsonDepth) != sj::SUCCESS) {
      return make_error(ErrorCode::LimitExceeded, "metadata too large to parse");
    }
  }
  sj::dom::element doc;
  if (const auto error = parser.parse(text.data(), text.size(), false).get(doc); error) {
    return make_error(ErrorCode::Parse, std::string("malformed JSON: ") + sj::error_message(error));
  }
  if (!doc.is_object()) return make_error(ErrorCode::Parse, "metadata is not a JSON object");
  if (has_duplicate_keys(doc))
    return make_error(ErrorCode::Parse, "duplicate JSON key in metadata");
  out.dsse = member(doc, "payloadType").has_value();
  const auto signatures = member(doc, "signatures");
  sj::dom::array list;
  if (!signatures || signatures->get(list)) {
    return make_error(ErrorCode::Parse, "metadata has no \"signatures\" list");
  }
  for (const auto signature : list) {
    if (has_duplicate_keys(signature))
      return make_error(ErrorCode::Parse, "duplicate JSON key in a signature");
    // A DSSE signature may leave its keyid out; it is then tried with every key.
    const std::string keyid = string_of(signature, "keyid");
    Signature entry;
    if (out.dsse) {
      auto bytes = trust::dsse_base64_decode(std::string(string_view_of(signature, "sig")));
      if (!bytes || bytes->empty()) {
        return make_error(ErrorCode::Parse, "an envelope's signature is not base64");
      }
      entry.bytes = std::move(*bytes);
    } else if (member(signature, "other_headers")) {
      // gpg's, as securesystemslib writes it: the signature packet's hashed part and value.
      auto headers = hex_decode(string_view_of(signature, "other_headers"));
      auto bytes = hex_decode(string_view_of(signature, "signature"));
      if (keyid.empty() || !headers || !bytes || bytes->empty()) {
        return make_error(ErrorCode::Parse,
                          "a GPG signature lacks a keyid, or its "
                          "\"other_headers\" or \"signature\" is not hex");
      }
      entry = {std::move(*bytes), std::move(*headers), true};
    } else {
      const std::string_view sig = string_view_of(signature, "sig");
      if (keyid.empty() || sig.empty()) {
        return make_error(ErrorCode::Parse, "a signature lacks \"keyid\" or \"sig\"");
      }
      auto bytes = hex_decode(sig);
      if (!bytes) return make_error(ErrorCode::Parse, "signature of " + keyid + " is not hex");
      entry.bytes = std::move(*bytes);
    }
    if (!out.signatures.emplace(keyid, std::move(entry)).second) {
      return make_error(ErrorCode::Parse, "two signatures by keyid " +
                                              (keyid.empty() ? std::string("(none)") : keyid));
    }
  }
  if (out.dsse) {
    // The payload is what was signed, byte for byte; it is parsed only after the check of
    // its type, into the same parser (the envelope is no longer needed).
    if (string_view_of(doc, "payloadType") != kDssePayloadType) {
      return make_error(ErrorCode::Parse,
                        "the envelope's payloadType is not " + std::string(kDssePayloadType));
    }
    CATENA_TRY(std::string payload,
               trust::dsse_base64_decode(std::string(string_view_of(doc, "payload"))));
    if (payload.empty()) return make_error(ErrorCode::Parse, "the envelope has no payload");
    out.signed_bytes = trust::dsse_pae(kDssePayloadType, payload);
    const size_t size = payload.size();
    payload.append(sj::SIMDJSON_PADDING, '\0');
    if (parser.capacity() < size &&
        parser.allocate(std::max<size_t>(size, 64), kMaxJsonDepth) != sj::SUCCESS) {
      return make_error(ErrorCode::LimitExceeded, "metadata too large to parse");
    }
    sj::dom::element inner;
    if (const auto error = parser.parse(payload.data(), size, false).get(inner); error) {
      return make_error(
          ErrorCode::Parse,
          std::string("the envelope's payload is malformed JSON: ") + sj::error_message(error));
    }
    if (!inner.is_object()) return make_error(ErrorCode::Parse, "the payload is not an object");
    // Read as the signed part of a metablock; encoding it checks it as one (no duplicate
    // key at any depth, no float).
    std::string canonical;
    CATENA_TRY_STATUS(encode_canonical(inner, canonical));
    out.signed_part = inner;
    return out;
  }
  const auto signed_part = member(doc, "signed");
  if (!signed_part || !signed_part->is_object()) {
    return make_error(ErrorCode::Parse, "metadata has no \"signed\" object");
  }
  out.signed_part = *signed_part;
  out.signed_bytes.reserve(text.size());
  CATENA_TRY_STATUS(encode_canonical(out.signed_part, out.signed_bytes));
  return out;
}

// "No signature" and "invalid signature" are different failures for the reader.
// A metadata file with the zero padding simdjson reads past the end; the view excludes it.
Result<std::string> read_padded(const std::string& path) {
  CATENA_TRY(std::string text, read_small_file(path, kMaxMetadataBytes));
  text.append(sj::SIMDJSON_PADDING, '\0');
  return text;
}

std::string_view unpadded(const std::string& text) {
  return std::string_view(text).substr(0, text.size() - sj::SIMDJSON_PADDING);
}

std::optional<std::string> signature_problem(const std::map<std::string, Signature>& signatures,
                                             const std::string& signed_bytes,
                                             bool dsse,
                                             const IntotoKey& key,
                                             int64_t now) {
  if (const trust::GpgKey* gpg = key.gpg()) {
    for (const auto& [keyid, signature] : signatures) {
      if (!signature.gpg || !gpg->covers(keyid)) continue;
      return gpg->verify(signed_bytes, {keyid, signature.other_headers, signature.bytes}, now);
    }
    return "no GPG signature by key " + key.keyid() + (dsse ? " (an envelope carries none)" : "");
  }
  const trust::VerifyingKey& sslib = *key.sslib();
  auto it = signatures.find(sslib.sslib().keyid);
  if (it == signatures.end() && dsse) it = signatures.find(sslib.key_id());
  if (it == signatures.end() && dsse) it = signatures.find("");
  if (it == signatures.end()) return "no signature by key " + sslib.sslib().keyid;
  if (it->second.gpg || !sslib.verify(signed_bytes, it->second.bytes)) {
    return "invalid signature by key " + sslib.sslib().keyid;
  }
  return std::nullopt;
}

struct Rule {
  enum Type { Match, Create, Delete, Modify, Allow, Disallow, Require } type = Allow;
  std::string pattern;
  std::optional<FnmatchPattern> compiled;
  std::string source_prefix;
  std::string dest_type;  // "materials" or "products"
  std::string dest_prefix;
  std::string dest_name;
  std::string text;  // the rule as written, for messages
};

std::string lower(std::string text) {
  for (char& c : text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return text;
}

Result<Rule> unpack_rule(sj::dom::element value) {
  sj::dom::array array;
  if (value.get(array)) return make_error(ErrorCode::Parse, "an artifact rule is not a list");
  std::vector<std::string> parts;
  for (const auto part : array) {
    std::string_view text;
    if (part.get(text)) return make_error(ErrorCode::Parse, "an artifact rule holds a non-string");
    parts.emplace_back(text);
  }
  Rule rule;
  for (size_t i = 0; i < parts.size(); ++i) rule.text += (i ? " " : "") + parts[i];
  std::vector<std::string> low;
  for (const auto& part : parts) low.push_back(lower(part));
  static const std::map<std::string, Rule::Type> kGeneric = {
      {"create", Rule::Create}, {"delete", Rule::Delete},     {"modify", Rule::Modify},
      {"allow", Rule::Allow},   {"disallow", Rule::Disallow}, {"require", Rule::Require}};
  if (parts.size() < 2) return make_error(ErrorCode::Parse, "malformed rule '" + rule.text + "'");
  rule.pattern = parts[1];
  rule.compiled.emplace(rule.pattern);
  if (const auto it = kGeneric.find(low[0]); it != kGeneric.end()) {
    if (parts.size() != 2)
      return make_error(ErrorCode::Parse, "malformed rule '" + rule.text + "'");
    rule.type = it->second;
    return rule;
  }
  if (low[0] != "match") return make_error(ErrorCode::Parse, "unknown rule '" + rule.text + "'");
  rule.type = Rule::Match;
  const size_t n = parts.size();
  if (n == 10 && low[2] == "in" && low[4] == "with" && low[6] == "in" && low[8] == "from") {
    rule.source_prefix = parts[3];
    rule.dest_type = low[5];
    rule.dest_prefix = parts[7];
    rule.dest_name = parts[9];
  } else if (n == 8 && low[2] == "in" && low[4] == "with" && low[6] == "from") {
    rule.source_prefix = parts[3];
    rule.dest_type = low[5];
    rule.dest_name = parts[7];
  } else if (n == 8 && low[2] == "with" && low[4] == "in" && low[6] == "from") {
    rule.dest_type = low[3];
    rule.dest_prefix = parts[5];
    rule.dest_name = parts[7];
  } else if (n == 6 && low[2] == "with" && low[4] == "from") {
    rule.dest_type = low[3];
    rule.dest_name = parts[5];
  } else {
    return make_error(ErrorCode::Parse, "malformed rule '" + rule.text + "'");
  }
  if (rule.dest_type != "materials" && rule.dest_type != "products") {
    return make_error(ErrorCode::Parse,
                      "rule '" + rule.text + "' must match MATERIALS or PRODUCTS");
  }
  return rule;
}

struct Item {
  std::string name;
  bool inspection = false;
  int64_t threshold = 1;
  std::vector<std::string> pubkeys;
  std::vector<std::string> expected_command;
  std::vector<std::string> run;
  std::vector<Rule> material_rules;
  std::vector<Rule> product_rules;
};

struct Layout {
  int64_t expires = 0;
  std::string expires_text;
  std::map<std::string, Result<IntotoKey>> keys;
  std::vector<Item> steps;
  std::vector<Item> inspections;
};

// "YYYY-MM-DDTHH:MM:SSZ", the only form the reference's schema allows.
std::optional<int64_t> parse_expires(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  const auto number = [&](size_t at, size_t length) -> std::optional<int> {
    int value = 0;
    for (size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  const auto year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 ||
      *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  return static_cast<int64_t>(::timegm(&tm));
}

Result<std::vector<std::string>> string_list(sj::dom::element object,
                                             const char* name,
                                             bool required) {
  std::vector<std::string> out;
  const auto value = member(object, name);
  if (!value) {
    if (required) return make_error(ErrorCode::Parse, std::string("missing \"") + name + "\"");
    return out;
  }
  sj::dom::array array;
  if (value->get(array)) {
    return make_error(ErrorCode::Parse, std::string("\"") + name + "\" is not a list");
  }
  for (const auto item : array) {
    std::string_view text;
    if (item.get(text)) {
      return make_error(ErrorCode::Parse, std::string("\"") + name + "\" holds a non-string");
    }
    out.emplace_back(text);
  }
  return out;
}

Result<std::vector<Rule>> rules_of(sj::dom::element object, const char* name) {
  std::vector<Rule> out;
  const auto value = member(object, name);
  if (!value) return out;
  sj::dom::array array;
  if (value->get(array)) {
    return make_error(ErrorCode::Parse, std::string("\"") + name + "\" is not a list");
  }
  for (const auto item : array) {
    CATENA_TRY(Rule rule, unpack_rule(item));
    out.push_back(std::move(rule));
  }
  return out;
}

Result<Item> parse_item(sj::dom::element value, bool inspection) {
  if (!value.is_object()) return make_error(ErrorCode::Parse, "a step is not an object");
  Item item;
  item.inspection = inspection;
  item.name = string_of(value, "name");
  if (item.name.empty()) return make_error(ErrorCode::Parse, "a step or inspection has no name");
  const std::string type = string_of(value, "_type");
  if (type != (inspection ? "inspection" : "step")) {
    return make_error(ErrorCode::Parse, "'" + item.name + "' has _type \"" + type + "\"");
  }
  CATENA_TRY(item.material_rules, rules_of(value, "expected_materials"));
  CATENA_TRY(item.product_rules, rules_of(value, "expected_products"));
  if (inspection) {
    CATENA_TRY(item.run, string_list(value, "run", true));
    return item;
  }
  CATENA_TRY(item.pubkeys, string_list(value, "pubkeys", true));
  CATENA_TRY(item.expected_command, string_list(value, "expected_command", false));
  const auto threshold = member(value, "threshold");
  int64_t number = 0;
  if (!threshold || !threshold->is_int64() || threshold->get(number)) {
    return make_error(ErrorCode::Parse, "step '" + item.name + "' has no integer threshold");
  }
  // Below one, a step would pass with no link at all (the reference then fails on an empty
  // list): refused as malformed.
  if (number < 1) {
    return make_error(ErrorCode::Parse, "step '" + item.name + "' has a threshold below 1");
  }
  item.threshold = number;
  return item;
}

Result<Layout> parse_layout(sj::dom::element signed_part) {
  if (string_view_of(signed_part, "_type") != "layout") {
    return make_error(ErrorCode::Parse, "the layout's _type is not \"layout\"");
  }
  Layout layout;
  layout.expires_text = string_of(signed_part, "expires");
  const auto expires = parse_expires(layout.expires_text);
  if (!expires) return make_error(ErrorCode::Parse, "\"expires\" is not YYYY-MM-DDTHH:MM:SSZ");
  layout.expires = *expires;
  if (const auto keys = member(signed_part, "keys")) {
    sj::dom::object object;
    if (keys->get(object)) return make_error(ErrorCode::Parse, "\"keys\" is not an object");
    for (const auto field : object) {
      const std::string keyid(field.key);
      const sj::dom::element key = field.value;
      const auto keyval = member(key, "keyval");
      // As the reference, a layout that carries a private key is refused whole: its owner
      // published a secret, and nothing it vouches for can be trusted to be theirs alone.
      const auto secret = keyval ? member(*keyval, "private") : std::nullopt;
      std::string_view secret_text;
      if (secret && (secret->get(secret_text) || !secret_text.empty())) {
        return make_error(ErrorCode::Parse, "key " + keyid + " in the layout holds a private key");
      }
      Result<IntotoKey> loaded = make_error(ErrorCode::Parse, "");
      if (member(key, "method")) {
        // securesystemslib's GPG key: "method" is "pgp+...", the numbers are in keyval.public.
        auto gpg = trust::GpgKey::from_json(sj::to_string(key));
        loaded = gpg ? Result<IntotoKey>(IntotoKey(std::move(*gpg)))
                     : Result<IntotoKey>(tl::unexpected(gpg.error()));
        if (loaded && loaded->keyid() != keyid) {
          loaded =
              make_error(ErrorCode::Parse, "GPG key " + keyid + " states keyid " + loaded->keyid());
        }
      } else {
        const std::string public_value = keyval ? string_of(*keyval, "public") : std::string();
        auto sslib = trust::VerifyingKey::from_sslib(string_of(key, "keytype"),
                                                     string_of(key, "scheme"), public_value);
        loaded = sslib ? Result<IntotoKey>(IntotoKey(std::move(*sslib)))
                       : Result<IntotoKey>(tl::unexpected(sslib.error()));
        if (loaded && loaded->keyid() != keyid) {
          loaded = make_error(ErrorCode::Parse, "keyid " + keyid + " is not the id of its key (" +
                                                    loaded->keyid() + ")");
        } else if (loaded && string_of(key, "keyid") != keyid) {
          loaded = make_error(ErrorCode::Parse, "key " + keyid + " states another keyid");
        }
      }
      layout.keys.emplace(keyid, std::move(loaded));
    }
  }
  std::set<std::string> names;
  for (const char* field : {"steps", "inspect"}) {
    const auto list = member(signed_part, field);
    if (!list) continue;
    sj::dom::array array;
    if (list->get(array)) {
      return make_error(ErrorCode::Parse, std::string("\"") + field + "\" is not a list");
    }
    for (const auto value : array) {
      CATENA_TRY(Item item, parse_item(value, std::string_view(field) == "inspect"));
      if (!names.insert(item.name).second) {
        return make_error(ErrorCode::Parse,
                          "two steps or inspections are named '" + item.name + "'");
      }
      (item.inspection ? layout.inspections : layout.steps).push_back(std::move(item));
    }
  }
  return layout;
}

// Strings of a link copied out of the parser, so that one parser serves every file: blocks
// never move, so views into them stay valid.
class Arena {
 public:
  std::string_view keep(std::string_view text) {
    if (blocks_.empty() || used_ + text.size() > block_size_) {
      block_size_ = std::max<size_t>(text.size(), 1 << 20);
      blocks_.push_back(std::make_unique<char[]>(block_size_));
      used_ = 0;
    }
    char* at = blocks_.back().get() + used_;
    std::copy(text.begin(), text.end(), at);
    used_ += text.size();
    return {at, text.size()};
  }

 private:
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = 0;
  size_t block_size_ = 0;
};

// An artifact as a link lists it. Nearly every artifact has one hash: it is held inline.
struct ArtifactView {
  std::string_view path;
  std::string_view algorithm, digest;                               // the first, by algorithm
  std::vector<std::pair<std::string_view, std::string_view>> more;  // the others, sorted
  bool same_hashes(const ArtifactView& other) const {
    return algorithm == other.algorithm && digest == other.digest && more == other.more;
  }
  bool operator==(const ArtifactView&) const = default;
};

struct Link {
  std::string name;
  std::vector<std::string> command;
  std::vector<ArtifactView> materials;  // sorted by path
  std::vector<ArtifactView> products;   // sorted by path
  // Keep what the views point into alive (Arenas; a sublayout's summary has two).
  std::vector<std::shared_ptr<const void>> owners;

  static const ArtifactView* find(const std::vector<ArtifactView>& list, std::string_view path) {
    const auto it =
        std::lower_bound(list.begin(), list.end(), path,
                         [](const ArtifactView& a, std::string_view p) { return a.path < p; });
    return it != list.end() && it->path == path ? &*it : nullptr;
  }
  // Rules walk sorted lists in order, so the next match is usually at or just after the last:
  // try there before searching.
  static const ArtifactView* find(const std::vector<ArtifactView>& list,
                                  std::string_view path,
                                  size_t& hint) {
    for (size_t at = hint; at < list.size() && at < hint + 2; ++at) {
      if (list[at].path == path) {
        hint = at + 1;
        return &list[at];
      }
    }
    const ArtifactView* found = find(list, path);
    if (found != nullptr) hint = static_cast<size_t>(found - list.data()) + 1;
    return found;
  }
};

Result<std::vector<ArtifactView>> parse_artifacts(sj::dom::element object,
                                                  const char* field,
                                                  Arena& arena) {
  std::vector<ArtifactView> out;
  const auto value = member(object, field);
  if (!value) return out;
  sj::dom::object artifacts;
  if (value->get(artifacts)) {
    return make_error(ErrorCode::Parse, std::string("\"") + field + "\" is not an object");
  }
  out.reserve(artifacts.size());
  std::vector<std::pair<std::string_view, std::string_view>> hashes;
  for (const auto entry : artifacts) {
    sj::dom::object list;
    if (entry.value.get(list)) {
      return make_error(ErrorCode::Parse,
                        "hashes of '" + std::string(entry.key) + "' are not an object");
    }
    hashes.clear();
    for (const auto hash : list) {
      std::string_view digest;
      if (hash.value.get(digest)) {
        return make_error(ErrorCode::Parse,
                          "a hash of '" + std::string(entry.key) + "' is not a string");
      }
      hashes.emplace_back(arena.keep(hash.key), arena.keep(digest));
    }
    std::sort(hashes.begin(), hashes.end());
    ArtifactView view{arena.keep(entry.key), {}, {}, {}};
    if (!hashes.empty()) {
      view.algorithm = hashes.front().first;
      view.digest = hashes.front().second;
      view.more.assign(hashes.begin() + 1, hashes.end());
    }
    out.push_back(std::move(view));
  }
  const auto by_path = [](const ArtifactView& a, const ArtifactView& b) { return a.path < b.path; };
  if (!std::is_sorted(out.begin(), out.end(), by_path)) std::sort(out.begin(), out.end(), by_path);
  return out;
}

Result<Link> parse_link(sj::dom::element signed_part) {
  if (string_of(signed_part, "_type") != "link") {
    return make_error(ErrorCode::Parse, "_type is not \"link\"");
  }
  Link link;
  link.name = string_of(signed_part, "name");
  CATENA_TRY(link.command, string_list(signed_part, "command", false));
  auto arena = std::make_shared<Arena>();
  CATENA_TRY(link.materials, parse_artifacts(signed_part, "materials", *arena));
  CATENA_TRY(link.products, parse_artifacts(signed_part, "products", *arena));
  link.owners.push_back(std::move(arena));
  return link;
}

// Views of artifacts recorded here (an inspection's), owning their strings.
Link link_of(std::string name,
             std::vector<std::string> command,
             Artifacts materials,
             Artifacts products) {
  auto owned =
      std::make_shared<std::pair<Artifacts, Artifacts>>(std::move(materials), std::move(products));
  const auto views = [](const Artifacts& artifacts) {
    std::vector<ArtifactView> out;
    for (const auto& [path, hashes] : artifacts) {
      ArtifactView view{path, {}, {}, {}};
      for (const auto& [algorithm, digest] : hashes) {
        if (view.algorithm.empty()) {
          view.algorithm = algorithm;
          view.digest = digest;
        } else {
          view.more.emplace_back(algorithm, digest);
        }
      }
      out.push_back(std::move(view));
    }
    return out;  // std::map: already sorted
  };
  Link link{
      std::move(name), std::move(command), views(owned->first), views(owned->second), {owned}};
  return link;
}

std::string path_join(std::string_view a, std::string_view b) {
  std::string out;
  if (!b.empty() && b.front() == '/') {
    out = b;
  } else {
    out = a;
    if (!out.empty() && out.back() != '/') out += '/';
    out += b;
  }
  for (char& c : out) c = c == '\\' ? '/' : c;
  return out;
}

std::string list_text(const std::vector<std::string_view>& paths) {
  std::string out;
  size_t shown = 0;
  for (const std::string_view path : paths) {
    if (shown == 10) {
      out += ", … (" + std::to_string(paths.size()) + " in all)";
      break;
    }
    out += (shown++ ? ", " : "");
    out += path;
  }
  return out;
}

// The reference's verify_item_rules: rules applied in order to a queue of artifacts, each
// rule consuming what it matched; DISALLOW and REQUIRE fail on what is left.
std::optional<Failure> verify_rules(const Item& item,
                                    bool products,
                                    const std::map<std::string, Link>& links) {
  const Link& link = links.at(item.name);
  const std::vector<ArtifactView>& source = products ? link.products : link.materials;
  std::vector<char> alive(source.size(), 1);  // the queue: source order, consumed ones cleared
  const auto matching = [&](const Rule& rule) {
    std::vector<size_t> out;
    for (size_t i = 0; i < source.size(); ++i) {
      if (alive[i] && rule.compiled->matches(source[i].path)) out.push_back(i);
    }
    return out;
  };
  const auto failure = [&](const Rule& rule, const std::string& what) {
    return Failure{"rules", item.name, rule.text,
                   std::string(item.inspection ? "inspection '" : "step '") + item.name + "': " +
                       (products ? "product" : "material") + " rule '" + rule.text + "' " + what};
  };
  for (const Rule& rule : products ? item.product_rules : item.material_rules) {
    std::vector<size_t> consumed;
    size_t material_hint = 0, product_hint = 0;
    switch (rule.type) {
      case Rule::Match: {
        const auto dest = links.find(rule.dest_name);
        if (dest == links.end()) break;
        const std::vector<ArtifactView>& dest_artifacts =
            rule.dest_type == "materials" ? dest->second.materials : dest->second.products;
        const std::string prefix =
            rule.source_prefix.empty() ? "" : path_join(rule.source_prefix, "");
        size_t dest_hint = 0;
        for (size_t i = 0; i < source.size(); ++i) {
          if (!alive[i]) continue;
          const std::string_view path = source[i].path;
          if (!prefix.empty() && !path.starts_with(prefix)) continue;
          const std::string_view relative = path.substr(prefix.size());
          if (!rule.compiled->matches(relative)) continue;
          const ArtifactView* source_artifact = &source[i];
          if (!rule.source_prefix.empty() && path_join(rule.source_prefix, relative) != path) {
            source_artifact = Link::find(source, path_join(rule.source_prefix, relative));
          }
          const ArtifactView* dest_artifact =
              rule.dest_prefix.empty()
                  ? Link::find(dest_artifacts, relative, dest_hint)
                  : Link::find(dest_artifacts, path_join(rule.dest_prefix, relative), dest_hint);
          if (source_artifact == nullptr || dest_artifact == nullptr) continue;
          if (source_artifact->same_hashes(*dest_artifact)) {
            consumed.push_back(static_cast<size_t>(source_artifact - source.data()));
          }
        }
        break;
      }
      // CREATE, DELETE and MODIFY differ only in what must hold of the path's material and
      // product.
      case Rule::Create:
      case Rule::Delete:
      case Rule::Modify:
        for (const size_t i : matching(rule)) {
          const ArtifactView* material = Link::find(link.materials, source[i].path, material_hint);
          const ArtifactView* product = Link::find(link.products, source[i].path, product_hint);
          const bool holds =
              rule.type == Rule::Create ? product != nullptr && material == nullptr
              : rule.type == Rule::Delete
                  ? material != nullptr && product == nullptr
                  : material != nullptr && product != nullptr && !material->same_hashes(*product);
          if (holds) consumed.push_back(i);
        }
        break;
      case Rule::Allow:
        consumed = matching(rule);
        break;
      case Rule::Disallow:
        if (const auto matched = matching(rule); !matched.empty()) {
          std::vector<std::string_view> paths;
          for (const size_t i : matched) paths.push_back(source[i].path);
          return failure(rule, "matched " + list_text(paths));
        }
        break;
      case Rule::Require: {
        const ArtifactView* found = Link::find(source, rule.pattern);
        if (found == nullptr || !alive[static_cast<size_t>(found - source.data())]) {
          return failure(rule, "did not find " + rule.pattern);
        }
        break;
      }
    }
    for (const size_t i : consumed) alive[i] = 0;
  }
  return std::nullopt;
}

// Runs an inspection's command (the user asked for it) with in-toto's recording of ".".
Result<Link> run_inspection(const Item& item) {
  if (item.run.empty())
    return make_error(ErrorCode::Parse, "inspection '" + item.name + "' has no command");
  ArtifactOptions options;
  CATENA_TRY(ArtifactSet before, record_artifacts({"."}, options));
  std::vector<char*> argv;
  for (const std::string& arg : item.run) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (const int err = ::posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
      err != 0) {
    return make_io_error("cannot run inspection '" + item.name + "' (" + item.run[0] + ")", err);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return make_io_error("cannot wait for inspection '" + item.name + "'", errno);
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) {
    return make_error(ErrorCode::Io,
                      "inspection '" + item.name + "' exited with " + std::to_string(code));
  }
  CATENA_TRY(ArtifactSet after, record_artifacts({"."}, options));
  return link_of(item.name, item.run, std::move(before.artifacts), std::move(after.artifacts));
}

// Sublayouts nest as deep as their owners delegate; real chains use one or two levels.
constexpr int kMaxSublayoutDepth = 8;

struct Chain {
  const IntotoVerifyOptions& options;
  sj::dom::parser& parser;
  IntotoVerdict& verdict;
  int64_t now = 0;
};

// A link file of a step, read before the next file is parsed into the shared parser: a link
// is copied out, a sublayout kept as text to be parsed when it is verified.
struct Found {
  std::string keyid;
  std::map<std::string, Signature> signatures;
  std::string signed_bytes;
  bool dsse = false;
  Result<Link> link = make_error(ErrorCode::Parse, "not read");
  std::string sublayout;  // the padded text of a link file that holds a layout
};

std::optional<Failure> verify_layout(Chain& chain,
                                     const Metablock& block,
                                     const std::vector<IntotoKey>& layout_keys,
                                     const std::string& link_dir,
                                     int depth,
                                     Link& summary);

// A sublayout is verified as the reference does it: with the one key of the functionary who
// signed it, against the links in "<step>.<keyid8>/" under the superlayout's link directory;
// what stands for it in the superlayout is its summary link (first step's materials, last
// step's products and command), under the step's name.
std::optional<Failure> verify_sublayout(Chain& chain,
                                        const Item& step,
                                        const Found& candidate,
                                        const IntotoKey& key,
                                        const std::string& link_dir,
                                        int depth,
                                        Link& summary) {
  const auto failed = [&](std::string check, std::string reason) {
    return Failure{
        std::move(check), step.name, "",
        "sublayout of step '" + step.name + "' by " + candidate.keyid + ": " + std::move(reason)};
  };
  if (depth + 1 > kMaxSublayoutDepth) {
    return failed("format", "sublayouts nested deeper than " + std::to_string(kMaxSublayoutDepth));
  }
  auto block = parse_metablock(unpadded(candidate.sublayout), chain.parser);
  if (!block) return failed("format", block.error().message);
  const std::string sub_dir = path_join(link_dir, step.name + "." + candidate.keyid.substr(0, 8));
  if (auto failure = verify_layout(chain, *block, {key}, sub_dir, depth + 1, summary)) {
    return Failure{
        failure->check, failure->item.empty() ? step.name : failure->item, failure->rule,
        "sublayout of step '" + step.name + "' by " + candidate.keyid + ": " + failure->reason};
  }
  summary.name = step.name;
  return std::nullopt;
}

std::optional<Failure> verify_layout(Chain& chain,
                                     const Metablock& block,
                                     const std::vector<IntotoKey>& layout_keys,
                                     const std::string& link_dir,
                                     int depth,
                                     Link& summary) {
  IntotoVerdict& verdict = chain.verdict;
  for (const IntotoKey& key : layout_keys) {
    if (auto problem =
            signature_problem(block.signatures, block.signed_bytes, block.dsse, key, chain.now)) {
      return Failure{"signature", "", "", "layout: " + *problem};
    }
  }
  auto layout = parse_layout(block.signed_part);
  if (!layout) return Failure{"format", "", "", "layout: " + layout.error().message};
  for (const Item& inspection : layout->inspections) {
    verdict.inspections.push_back({inspection.name, inspection.run});
  }
  if (layout->expires < chain.now) {
    return Failure{"expiry", "", "", "layout expired at " + layout->expires_text};
  }

  std::map<std::string, Link> chosen;
  for (const Item& step : layout->steps) {
    std::vector<Found> found;
    for (const std::string& keyid : step.pubkeys) {
      const std::string path = path_join(link_dir, intoto_link_filename(step.name, keyid));
      // A link that is not there is not counted, as in the reference; one that cannot be
      // read fails verification.
      if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) continue;
      auto text = read_padded(path);
      if (!text) {
        return Failure{"format", step.name, "",
                       "step '" + step.name + "': " + text.error().message};
      }
      auto parsed = parse_metablock(unpadded(*text), chain.parser);
      if (!parsed) return Failure{"format", step.name, "", path + ": " + parsed.error().message};
      Found entry{keyid, std::move(parsed->signatures), std::move(parsed->signed_bytes),
                  parsed->dsse};
      if (string_view_of(parsed->signed_part, "_type") == "layout") {
        entry.sublayout = std::move(*text);
      } else {
        entry.link = parse_link(parsed->signed_part);
      }
      found.push_back(std::move(entry));
    }
    if (static_cast<int64_t>(found.size()) < step.threshold) {
      return Failure{"links", step.name, "",
                     "step '" + step.name + "' requires " + std::to_string(step.threshold) +
                         " link metadata file(s), found " + std::to_string(found.size())};
    }
    std::vector<std::pair<std::string, Link>> verified;
    std::set<std::string> signers;
    for (Found& candidate : found) {
      const std::string& keyid = candidate.keyid;
      const auto key = layout->keys.find(keyid);
      if (key == layout->keys.end()) {
        verdict.warnings.push_back("step '" + step.name + "': key " + keyid +
                                   " is not in the layout's keys");
        continue;
      }
      if (!key->second) {
        verdict.warnings.push_back("step '" + step.name + "': key " + keyid + ": " +
                                   key->second.error().message);
        continue;
      }
      if (auto problem = signature_problem(candidate.signatures, candidate.signed_bytes,
                                           candidate.dsse, *key->second, chain.now)) {
        verdict.warnings.push_back("step '" + step.name + "': skipped a link: " + *problem);
        continue;
      }
      if (!candidate.sublayout.empty()) {
        Link sub_summary;
        if (auto failure = verify_sublayout(chain, step, candidate, *key->second, link_dir, depth,
                                            sub_summary)) {
          return failure;
        }
        candidate.link = std::move(sub_summary);
      }
      Result<Link>& link = candidate.link;
      if (!link) {
        return Failure{"format", step.name, "",
                       "step '" + step.name + "': link by " + keyid + ": " + link.error().message};
      }
      if (link->name != step.name) {
        verdict.warnings.push_back("step '" + step.name + "': skipped a link by " + keyid +
                                   " named '" + link->name + "'");
        continue;
      }
      if (!signers.insert(keyid).second) continue;
      verified.emplace_back(keyid, std::move(*link));
    }
    if (static_cast<int64_t>(verified.size()) < step.threshold) {
      return Failure{"threshold", step.name, "",
                     "step '" + step.name + "' requires at least " +
                         std::to_string(step.threshold) +
                         " links validly signed by different authorized functionaries, found " +
                         std::to_string(verified.size())};
    }
    if (verified.empty()) {
      return Failure{"threshold", step.name, "", "step '" + step.name + "' has no verified link"};
    }
    if (!step.expected_command.empty() &&
        verified.front().second.command != step.expected_command) {
      verdict.warnings.push_back("step '" + step.name +
                                 "': the command run differs from the expected command");
    }
    if (step.threshold > 1) {
      for (const auto& [keyid, link] : verified) {
        if (link.materials != verified.front().second.materials ||
            link.products != verified.front().second.products) {
          return Failure{"threshold", step.name, "",
                         "step '" + step.name + "': links by " + verified.front().first + " and " +
                             keyid + " have different artifacts"};
        }
      }
    }
    chosen.emplace(step.name, std::move(verified.front().second));
  }

  for (const Item& step : layout->steps) {
    for (const bool products : {false, true}) {
      if (auto failure = verify_rules(step, products, chosen)) return failure;
    }
  }
  if (!layout->steps.empty()) {
    const Link& first = chosen.at(layout->steps.front().name);
    const Link& last = chosen.at(layout->steps.back().name);
    summary.materials = first.materials;
    summary.products = last.products;
    summary.command = last.command;
    summary.owners = first.owners;
    summary.owners.insert(summary.owners.end(), last.owners.begin(), last.owners.end());
  }
  if (layout->inspections.empty()) return std::nullopt;
  if (!chain.options.run_inspections) {
    std::string names;
    for (const Item& inspection : layout->inspections)
      names += (names.empty() ? "" : ", ") + inspection.name;
    return Failure{
        "inspection", "", "",
        "the layout has inspections (" + names + "); they were not run (--run-inspections)"};
  }
  for (const Item& inspection : layout->inspections) {
    auto link = run_inspection(inspection);
    if (!link) return Failure{"inspection", inspection.name, "", link.error().message};
    chosen.insert_or_assign(inspection.name, std::move(*link));
  }
  for (const Item& inspection : layout->inspections) {
    for (const bool products : {false, true}) {
      if (auto failure = verify_rules(inspection, products, chosen)) return failure;
    }
  }
  return std::nullopt;
}

json artifacts_json(const Artifacts& artifacts, std::vector<std::string>& unrecorded) {
  json out = json::object();
  for (const auto& [path, hashes] : artifacts) {
    if (!is_utf8(path)) {
      unrecorded.push_back("path-hex:" + hex_of(path));
      continue;
    }
    json& entry = out[path];
    entry = json::object();
    for (const auto& [algorithm, digest] : hashes) entry[algorithm] = digest;
  }
  return out;
}

}  // namespace

Result<IntotoKey> IntotoKey::load(const std::string& path) {
  CATENA_TRY(const std::string text, read_small_file(path, kMaxKeyFileBytes));
  if (trust::GpgKey::looks_like_gpg_key(text)) {
    auto gpg = trust::GpgKey::from_json(text);
    if (!gpg) return make_error(gpg.error().code, path + ": " + gpg.error().message);
    return IntotoKey(std::move(*gpg));
  }
  CATENA_TRY(trust::VerifyingKey key, trust::VerifyingKey::load(path));
  return IntotoKey(std::move(key));
}

const std::string& IntotoKey::keyid() const {
  if (const trust::GpgKey* key = gpg()) return key->keyid();
  return sslib()->sslib().keyid;
}

std::string intoto_link_filename(const std::string& step, const std::string& keyid) {
  return step + "." + keyid.substr(0, 8) + ".link";
}

Result<IntotoVerdict> verify_intoto(const IntotoVerifyOptions& options) {
  if (options.layout_keys.empty())
    return make_error(ErrorCode::Usage, "at least one layout key is needed");
  CATENA_TRY(std::string text, read_padded(options.layout_path));
  IntotoVerdict verdict;
  sj::dom::parser parser;
  auto block = parse_metablock(unpadded(text), parser);
  std::optional<Failure> failure;
  if (!block) {
    failure = Failure{"format", "", "", options.layout_path + ": " + block.error().message};
  } else {
    Chain chain{options, parser, verdict,
                options.now != 0 ? options.now : now_ns() / 1'000'000'000};
    Link summary;
    failure = verify_layout(chain, *block, options.layout_keys, options.link_dir, 0, summary);
  }
  if (failure) {
    verdict.check = std::move(failure->check);
    verdict.item = std::move(failure->item);
    verdict.rule = std::move(failure->rule);
    verdict.reason = std::move(failure->reason);
    return verdict;
  }
  verdict.passed = true;
  return verdict;
}

Result<std::string> write_intoto_link(const IntotoLink& link, const trust::SigningKey& key) {
  std::vector<std::string> unrecorded = link.unrecorded;
  json signed_part = {{"_type", "link"}, {"name", link.name}, {"environment", json::object()}};
  signed_part["command"] = link.command;
  signed_part["materials"] = artifacts_json(link.materials, unrecorded);
  signed_part["products"] = artifacts_json(link.products, unrecorded);
  signed_part["byproducts"] = {{"return-value", link.return_value}};
  signed_part["byproducts"]["catena-traced"] = link.traced;
  json tools = json::array();
  for (const TracedExec& exec : link.tools) {
    if (!is_utf8(exec.path) || !is_utf8(exec.argv0) || !is_utf8(exec.script)) {
      unrecorded.push_back("tool path-hex:" + hex_of(exec.path));
      continue;
    }
    json tool = {{"path", exec.path},
                 {"sha256", exec.sha256},
                 {"argv0", exec.argv0},
                 {"pid", exec.pid},
                 {"parent", exec.parent_pid}};
    if (!exec.script.empty()) {
      tool["script"] = exec.script;
      tool["script-sha256"] = exec.script_sha256;
    }
    tools.push_back(std::move(tool));
  }
  signed_part["byproducts"]["catena-tools"] = std::move(tools);
  if (!unrecorded.empty()) signed_part["byproducts"]["catena-unrecorded"] = unrecorded;
  for (const std::string& arg : link.command) {
    if (!is_utf8(arg))
      return make_error(ErrorCode::Unsupported, "the command has an argument that is not UTF-8");
  }
  if (!is_utf8(link.name)) return make_error(ErrorCode::Usage, "the step name is not UTF-8");
  CATENA_TRY(const std::string canonical, canonical_json(signed_part));
  CATENA_TRY(const std::string signature, key.sign(canonical));
  json doc = {{"signed", signed_part}};
  doc["signatures"] = json::array({{{"keyid", key.sslib().keyid}, {"sig", hex_of(signature)}}});
  return doc.dump(1) + "\n";
}

}  // namespace catena::attest
