#include "catena/trust/openpgp.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <map>

#include "catena/core/digest.hpp"
#include "catena/core/time.hpp"
#include "catena/trust/strict_json.hpp"

namespace catena::trust {
namespace {

using nlohmann::json;

struct FreeKey {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct FreeCtx {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct FreeMdCtx {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct FreeBn {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct FreeBld {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct FreeParams {
  void operator()(OSSL_PARAM* params) const { OSSL_PARAM_free(params); }
};
using BnPtr = std::unique_ptr<BIGNUM, FreeBn>;

// OpenPGP public-key algorithm ids (RFC 4880 9.1) and the one hash the reference verifies.
constexpr uint8_t kRsa = 1, kRsaSignOnly = 3, kDsa = 17, kEdDsa = 22;
constexpr uint8_t kSha256 = 8;
// Ed25519's curve OID in OpenPGP (RFC 4880bis), and its point's 0x40 prefix.
constexpr uint8_t kEd25519Oid[] = {0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01};

enum class Algorithm { Rsa, Dsa, Ed25519 };

}  // namespace

struct GpgKey::Part {
  std::string keyid;
  Algorithm algorithm = Algorithm::Rsa;
  std::optional<int64_t> creation_time;
  std::optional<int64_t> validity_period;
  std::shared_ptr<EVP_PKEY> key;
};

namespace {

std::string strip_zeros(std::string bytes) {
  const size_t first = bytes.find_first_not_of('\0');
  return first == std::string::npos ? std::string() : bytes.substr(first);
}

// An OpenPGP multiprecision integer: a two-byte bit count, then the bytes.
void append_mpi(std::string& out, std::string_view bytes, size_t bits) {
  out += static_cast<char>(bits >> 8);
  out += static_cast<char>(bits & 0xff);
  out += bytes;
}

size_t bit_length(std::string_view bytes) {
  if (bytes.empty()) return 0;
  size_t bits = (bytes.size() - 1) * 8;
  for (auto top = static_cast<uint8_t>(bytes[0]); top != 0; top >>= 1) ++bits;
  return bits;
}

std::string fingerprint(std::string_view body) {
  std::string packet;
  packet += static_cast<char>(0x99);
  packet += static_cast<char>(body.size() >> 8);
  packet += static_cast<char>(body.size() & 0xff);
  packet += body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(packet.data(), packet.size(), digest, &length, EVP_sha1(), nullptr) != 1)
    return {};
  return to_hex(std::span<const uint8_t>(digest, length));
}

Result<std::string> hex_field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return make_error(ErrorCode::Parse, std::string("keyval.public has no hex \"") + name + "\"");
  }
  auto bytes = hex_decode(it->get_ref<const std::string&>());
  if (!bytes) return make_error(ErrorCode::Parse, std::string("\"") + name + "\" is not hex");
  return strip_zeros(std::move(*bytes));
}

std::optional<int64_t> int_field(const json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

Result<std::shared_ptr<EVP_PKEY>> from_numbers(
    const char* name, const std::vector<std::pair<const char*, std::string>>& numbers) {
  std::unique_ptr<OSSL_PARAM_BLD, FreeBld> build(OSSL_PARAM_BLD_new());
  std::vector<BnPtr> kept;
  if (!build) return make_error(ErrorCode::LimitExceeded, "out of memory");
  for (const auto& [param, bytes] : numbers) {
    kept.emplace_back(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()), nullptr));
    if (!kept.back() || OSSL_PARAM_BLD_push_BN(build.get(), param, kept.back().get()) != 1) {
      return make_error(ErrorCode::LimitExceeded, "out of memory");
    }
  }
  std::unique_ptr<OSSL_PARAM, FreeParams> params(OSSL_PARAM_BLD_to_param(build.get()));
  std::unique_ptr<EVP_PKEY_CTX, FreeCtx> ctx(EVP_PKEY_CTX_new_from_name(nullptr, name, nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return make_error(ErrorCode::Parse, std::string("not a valid ") + name + " public key");
  }
  return std::shared_ptr<EVP_PKEY>(key, FreeKey{});
}

// One key object (the primary or a subkey): its numbers made an OpenSSL key, its keyid checked
// against the fingerprint they give.
Result<GpgKey::Part> parse_part(const json& object) {
  if (!object.is_object()) return make_error(ErrorCode::Parse, "a GPG key is not an object");
  const auto text = [&](const char* name) -> std::string {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  GpgKey::Part part;
  part.keyid = text("keyid");
  if (part.keyid.size() != 40 || !hex_decode(part.keyid) ||
      part.keyid.find_first_of("ABCDEF") != std::string::npos) {
    return make_error(ErrorCode::Parse, "a GPG key's keyid is not 40 lower-case hex digits");
  }
  const std::string type = text("type"), method = text("method");
  static const std::map<std::string, std::pair<std::string, Algorithm>> kMethods = {
      {"rsa", {"pgp+rsa-pkcsv1.5", Algorithm::Rsa}},
      {"dsa", {"pgp+dsa-fips-180-2", Algorithm::Dsa}},
      {"eddsa", {"pgp+eddsa-ed25519", Algorithm::Ed25519}}};
  const auto kind = kMethods.find(type);
  if (kind == kMethods.end()) {
    return make_error(ErrorCode::Unsupported,
                      "GPG key " + part.keyid + " has type \"" + type + "\" (rsa, dsa or eddsa)");
  }
  if (method != kind->second.first) {
    return make_error(ErrorCode::Parse, "GPG key " + part.keyid + " of type " + type +
                                            " states method \"" + method + "\"");
  }
  part.algorithm = kind->second.second;
  part.creation_time = int_field(object, "creation_time");
  part.validity_period = int_field(object, "validity_period");
  const auto keyval = object.find("keyval");
  if (keyval == object.end() || !keyval->is_object()) {
    return make_error(ErrorCode::Parse, "GPG key " + part.keyid + " has no keyval");
  }
  if (const auto secret = keyval->find("private");
      secret != keyval->end() &&
      !(secret->is_string() && secret->get_ref<const std::string&>().empty())) {
    return make_error(ErrorCode::Parse, "GPG key " + part.keyid + " holds a private key");
  }
  const auto numbers = keyval->find("public");
  if (numbers == keyval->end() || !numbers->is_object()) {
    return make_error(ErrorCode::Parse, "GPG key " + part.keyid + " has no keyval.public");
  }
  if (!part.creation_time || *part.creation_time < 0 || *part.creation_time > 0xffffffffLL) {
    return make_error(ErrorCode::Parse, "GPG key " + part.keyid +
                                            " has no creation_time, so its fingerprint cannot "
                                            "be checked");
  }
  // The v4 public-key packet body the fingerprint is taken over; RSA's algorithm id is not kept
  // by securesystemslib, so each RSA id is tried.
  std::string head;
  head += '\x04';
  for (const int shift : {24, 16, 8, 0})
    head += static_cast<char>((*part.creation_time >> shift) & 0xff);
  std::vector<std::string> bodies;
  switch (part.algorithm) {
    case Algorithm::Rsa: {
      CATENA_TRY(const std::string n, hex_field(*numbers, "n"));
      CATENA_TRY(const std::string e, hex_field(*numbers, "e"));
      if (bit_length(n) < 2048) {
        return make_error(
            ErrorCode::Unsupported,
            "GPG key " + part.keyid + ": RSA keys shorter than 2048 bits are refused");
      }
      for (const uint8_t id : {kRsa, kRsaSignOnly}) {
        std::string body = head + static_cast<char>(id);
        append_mpi(body, n, bit_length(n));
        append_mpi(body, e, bit_length(e));
        bodies.push_back(std::move(body));
      }
      CATENA_TRY(part.key,
                 from_numbers("RSA", {{OSSL_PKEY_PARAM_RSA_N, n}, {OSSL_PKEY_PARAM_RSA_E, e}}));
      break;
    }
    case Algorithm::Dsa: {
      CATENA_TRY(const std::string p, hex_field(*numbers, "p"));
      CATENA_TRY(const std::string q, hex_field(*numbers, "q"));
      CATENA_TRY(const std::string g, hex_field(*numbers, "g"));
      CATENA_TRY(const std::string y, hex_field(*numbers, "y"));
      if (bit_length(p) < 2048) {
        return make_error(
            ErrorCode::Unsupported,
            "GPG key " + part.keyid + ": DSA keys shorter than 2048 bits are refused");
      }
      std::string body = head + static_cast<char>(kDsa);
      for (const std::string* number : {&p, &q, &g, &y})
        append_mpi(body, *number, bit_length(*number));
      bodies.push_back(std::move(body));
      CATENA_TRY(part.key, from_numbers("DSA", {{OSSL_PKEY_PARAM_FFC_P, p},
                                                {OSSL_PKEY_PARAM_FFC_Q, q},
                                                {OSSL_PKEY_PARAM_FFC_G, g},
                                                {OSSL_PKEY_PARAM_PUB_KEY, y}}));
      break;
    }
    case Algorithm::Ed25519: {
      const auto it = numbers->find("q");
      auto point = it != numbers->end() && it->is_string()
                       ? hex_decode(it->get<std::string>())
                       : Result<std::string>(make_error(ErrorCode::Parse, ""));
      if (!point || point->size() != 32) {
        return make_error(ErrorCode::Parse, "GPG key " + part.keyid + ": q is not 32 hex bytes");
      }
      std::string body = head + static_cast<char>(kEdDsa);
      body += static_cast<char>(sizeof kEd25519Oid);
      body.append(reinterpret_cast<const char*>(kEd25519Oid), sizeof kEd25519Oid);
      append_mpi(body, '\x40' + *point, 263);
      bodies.push_back(std::move(body));
      EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
          EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(point->data()), 32);
      if (key == nullptr)
        return make_error(ErrorCode::Parse, "GPG key " + part.keyid + ": not an Ed25519 point");
      part.key = std::shared_ptr<EVP_PKEY>(key, FreeKey{});
      break;
    }
  }
  bool matches = false;
  for (const std::string& body : bodies) matches = matches || fingerprint(body) == part.keyid;
  if (!matches) {
    return make_error(ErrorCode::Parse,
                      "GPG keyid " + part.keyid + " is not the fingerprint of its key");
  }
  return part;
}

std::array<unsigned char, 32> pgp_digest(std::string_view content, std::string_view headers) {
  std::array<unsigned char, 32> out{};
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  const unsigned char trailer[] = {0x04,
                                   0xff,
                                   static_cast<unsigned char>(headers.size() >> 24),
                                   static_cast<unsigned char>(headers.size() >> 16),
                                   static_cast<unsigned char>(headers.size() >> 8),
                                   static_cast<unsigned char>(headers.size())};
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), content.data(), content.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), headers.data(), headers.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), trailer, sizeof trailer) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out.data(), &length) != 1) {
    out.fill(0);
  }
  return out;
}

}  // namespace

bool GpgKey::looks_like_gpg_key(std::string_view text) {
  auto doc = parse_strict_json(text);
  if (!doc || !doc->is_object()) return false;
  const auto method = doc->find("method");
  return method != doc->end() && method->is_string() &&
         method->get_ref<const std::string&>().starts_with("pgp+");
}

Result<GpgKey> GpgKey::from_json(std::string_view text) {
  CATENA_TRY(const json doc, parse_strict_json(text));
  GpgKey out;
  CATENA_TRY(Part primary, parse_part(doc));
  out.parts_.push_back(std::make_shared<const Part>(std::move(primary)));
  if (const auto subkeys = doc.find("subkeys"); subkeys != doc.end() && !subkeys->is_null()) {
    if (!subkeys->is_object()) return make_error(ErrorCode::Parse, "\"subkeys\" is not an object");
    for (const auto& [keyid, object] : subkeys->items()) {
      CATENA_TRY(Part sub, parse_part(object));
      if (sub.keyid != keyid) {
        return make_error(ErrorCode::Parse, "subkey " + keyid + " states keyid " + sub.keyid);
      }
      out.parts_.push_back(std::make_shared<const Part>(std::move(sub)));
    }
  }
  return out;
}

const std::string& GpgKey::keyid() const { return parts_.front()->keyid; }

bool GpgKey::covers(std::string_view keyid) const {
  for (const auto& part : parts_) {
    if (part->keyid == keyid) return true;
  }
  return false;
}

std::optional<std::string> GpgKey::verify(std::string_view content,
                                          const GpgSignature& signature,
                                          int64_t now) const {
  const Part* part = nullptr;
  for (const auto& candidate : parts_) {
    if (candidate->keyid == signature.keyid) part = candidate.get();
  }
  if (part == nullptr) return "no signature by GPG key " + keyid();
  if (part->creation_time && part->validity_period && *part->validity_period > 0 &&
      *part->creation_time + *part->validity_period < now) {
    return "GPG key " + part->keyid + " expired at " +
           format_rfc3339((*part->creation_time + *part->validity_period) * 1'000'000'000);
  }
  const std::string_view headers = signature.other_headers;
  const auto byte = [&](size_t at) { return static_cast<uint8_t>(headers[at]); };
  if (headers.size() < 6 || byte(0) != 4 ||
      size_t{6} + (size_t{byte(4)} << 8 | byte(5)) != headers.size()) {
    return "GPG signature by " + part->keyid + " has malformed headers";
  }
  if (byte(1) != 0x00)
    return "GPG signature by " + part->keyid + " is not a binary-document signature";
  const bool algorithm_matches = part->algorithm == Algorithm::Rsa
                                     ? byte(2) == kRsa || byte(2) == kRsaSignOnly
                                 : part->algorithm == Algorithm::Dsa ? byte(2) == kDsa
                                                                     : byte(2) == kEdDsa;
  if (!algorithm_matches)
    return "GPG signature by " + part->keyid + " names another algorithm than its key's";
  if (byte(3) != kSha256) {
    return "GPG signature by " + part->keyid + " uses hash algorithm " + std::to_string(byte(3)) +
           " (in-toto verifies SHA-256 only)";
  }
  const auto digest = pgp_digest(content, headers);
  std::string sig = signature.signature;
  bool valid = false;
  if (part->algorithm == Algorithm::Ed25519) {
    std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
    valid = sig.size() == 64 && ctx &&
            EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, part->key.get()) == 1 &&
            EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                             sig.size(), digest.data(), digest.size()) == 1;
  } else {
    if (part->algorithm == Algorithm::Rsa) {
      // An MPI drops leading zeros; the RSA primitive wants the modulus's length.
      const auto size = static_cast<size_t>(EVP_PKEY_get_size(part->key.get()));
      if (sig.size() < size) sig.insert(0, size - sig.size(), '\0');
    }
    std::unique_ptr<EVP_PKEY_CTX, FreeCtx> ctx(EVP_PKEY_CTX_new(part->key.get(), nullptr));
    valid = ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
            (part->algorithm != Algorithm::Rsa ||
             EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1) &&
            EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) == 1 &&
            EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                            sig.size(), digest.data(), digest.size()) == 1;
  }
  if (!valid) return "invalid signature by GPG key " + part->keyid;
  return std::nullopt;
}

}  // namespace catena::trust
