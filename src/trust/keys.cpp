#include "catena/trust/keys.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/trust/strict_json.hpp"

namespace catena::trust {
namespace {

struct FreeKey {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, FreeKey>;
struct FreeBio {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using BioPtr = std::unique_ptr<BIO, FreeBio>;
struct FreeMdCtx {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

constexpr uint64_t kMaxKeyFileBytes = 64 * 1024;

std::string key_id_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return {};
  const std::string id =
      to_hex(sha256_of(std::as_bytes(std::span(der, static_cast<size_t>(length)))));
  OPENSSL_free(der);
  return id;
}

Result<void> write_new_file(const std::string& path, std::string_view text, mode_t mode) {
  const UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd.valid()) {
    if (errno == EEXIST) return make_error(ErrorCode::Usage, path + " already exists");
    return make_io_error("cannot create " + path, errno);
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_io_error("cannot write " + path, errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return make_io_error("cannot sync " + path, errno);
  return {};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

}  // namespace

struct VerifyingKey::Impl {
  KeyPtr key;
};
struct SigningKey::Impl {
  KeyPtr key;
};

namespace {

// Only key kinds catena can sign or verify with one fixed scheme each.
Result<KeyType> classify(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return KeyType::Ed25519;
    case EVP_PKEY_EC: {
      char group[64] = {};
      size_t length = 0;
      if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) == 1 &&
          std::string_view(group, length) == "prime256v1") {
        return KeyType::EcdsaP256;
      }
      return make_error(ErrorCode::Unsupported, "only P-256 ECDSA keys are supported");
    }
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < 2048) {
        return make_error(ErrorCode::Unsupported, "RSA keys shorter than 2048 bits are refused");
      }
      return KeyType::Rsa;
    default:
      return make_error(ErrorCode::Unsupported,
                        "only Ed25519, ECDSA P-256 and RSA keys are supported");
  }
}

std::string public_pem_of(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return {};
  return bio_text(bio.get());
}

// The text of the first "PUBLIC KEY" PEM block, header to footer, as securesystemslib
// extracts it from an RSA public key file.
std::string extract_public_pem(std::string_view text) {
  constexpr std::string_view kHeader = "-----BEGIN PUBLIC KEY-----";
  constexpr std::string_view kFooter = "-----END PUBLIC KEY-----";
  const size_t start = text.find(kHeader);
  if (start == std::string_view::npos) return {};
  const size_t end = text.find(kFooter, start);
  if (end == std::string_view::npos) return {};
  return std::string(text.substr(start, end + kFooter.size() - start));
}

SslibKey describe_sslib(EVP_PKEY* key, KeyType type, std::string_view source_text) {
  SslibKey out;
  switch (type) {
    case KeyType::Ed25519: {
      uint8_t raw[32];
      size_t length = sizeof raw;
      if (EVP_PKEY_get_raw_public_key(key, raw, &length) == 1 && length == sizeof raw) {
        out.public_value = to_hex(std::span<const uint8_t>(raw, length));
      }
      out.keytype = "ed25519";
      out.scheme = "ed25519";
      break;
    }
    case KeyType::EcdsaP256:
      out.keytype = "ecdsa";
      out.scheme = "ecdsa-sha2-nistp256";
      out.public_value = public_pem_of(key);
      break;
    case KeyType::Rsa: {
      out.keytype = "rsa";
      out.scheme = "rsassa-pss-sha256";
      out.public_value = extract_public_pem(source_text);
      if (out.public_value.empty()) out.public_value = extract_public_pem(public_pem_of(key));
      break;
    }
  }
  out.keyid = sslib_keyid(out.keytype, out.scheme, out.public_value);
  return out;
}

// Ed25519 signs the message itself; ECDSA and RSA-PSS a SHA-256 of it. RSA verification
// accepts any PSS salt length, as securesystemslib does; signing uses the digest's length.
bool set_padding(EVP_PKEY_CTX* ctx, KeyType type, bool signing) {
  if (type != KeyType::Rsa) return true;
  return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(
             ctx, signing ? RSA_PSS_SALTLEN_DIGEST : RSA_PSS_SALTLEN_AUTO) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1;
}

const EVP_MD* digest_for(KeyType type) { return type == KeyType::Ed25519 ? nullptr : EVP_sha256(); }

std::string json_quote(std::string_view text) {
  std::string out;
  canonical_quote(text, out);
  return out;
}

KeyPtr read_pem_public(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return KeyPtr(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

KeyPtr read_pem_private(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  // An empty passphrase callback: an encrypted key fails instead of prompting.
  return KeyPtr(bio ? PEM_read_bio_PrivateKey(
                          bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr)
                    : nullptr);
}

struct SslibFile {
  std::string keytype, scheme, public_value, private_value;
};

// A securesystemslib JSON key file: {"keytype", "scheme", "keyval": {"public", "private"?}}.
Result<SslibFile> parse_sslib_file(std::string_view text) {
  const auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return make_error(ErrorCode::Parse, "not a PEM key or a securesystemslib JSON key");
  }
  const auto string_at = [](const nlohmann::json& object, const char* name) -> std::string {
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  SslibFile out;
  out.keytype = string_at(doc, "keytype");
  out.scheme = string_at(doc, "scheme");
  const auto keyval = doc.find("keyval");
  if (keyval != doc.end() && keyval->is_object()) {
    out.public_value = string_at(*keyval, "public");
    out.private_value = string_at(*keyval, "private");
  }
  if (out.keytype.empty() || out.scheme.empty() || out.public_value.empty()) {
    return make_error(ErrorCode::Parse,
                      "securesystemslib key lacks keytype, scheme or keyval.public");
  }
  return out;
}

bool looks_like_json(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && text[first] == '{';
}

Result<KeyPtr> ed25519_from_hex(std::string_view hex, bool is_private) {
  auto bytes = hex.size() == 64 ? hex_decode(hex) : make_error(ErrorCode::Parse, "");
  if (!bytes) return make_error(ErrorCode::Parse, "an Ed25519 key is 64 hex digits");
  const auto* raw = reinterpret_cast<const uint8_t*>(bytes->data());
  KeyPtr key(is_private ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, raw, 32)
                        : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, 32));
  OPENSSL_cleanse(bytes->data(), bytes->size());
  if (!key) return make_error(ErrorCode::Parse, "not a valid Ed25519 key");
  return key;
}

// The key type a securesystemslib keytype/scheme pair names; anything else is refused.
Result<KeyType> sslib_type(std::string_view keytype, std::string_view scheme) {
  if (keytype == "ed25519" && scheme == "ed25519") return KeyType::Ed25519;
  if (keytype == "rsa" && scheme == "rsassa-pss-sha256") return KeyType::Rsa;
  if ((keytype == "ecdsa" || keytype == "ecdsa-sha2-nistp256") && scheme == "ecdsa-sha2-nistp256") {
    return KeyType::EcdsaP256;
  }
  return make_error(ErrorCode::Unsupported, "unsupported key type and scheme: " +
                                                std::string(keytype) + "/" + std::string(scheme));
}

}  // namespace

std::string sslib_keyid(std::string_view keytype,
                        std::string_view scheme,
                        std::string_view public_value) {
  const std::string canonical = R"({"keyid_hash_algorithms":["sha256","sha512"],"keytype":)" +
                                json_quote(keytype) + R"(,"keyval":{"public":)" +
                                json_quote(public_value) + R"(},"scheme":)" + json_quote(scheme) +
                                "}";
  return to_hex(sha256_of(std::as_bytes(std::span(canonical))));
}

std::string dsse_pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

Result<void> generate_key_files(const std::string& path, KeyType type) {
  if (type == KeyType::Rsa)
    return make_error(ErrorCode::Usage, "catena generates Ed25519 or ECDSA keys");
  if (::access(path.c_str(), F_OK) == 0 || ::access((path + ".pub").c_str(), F_OK) == 0) {
    return make_error(ErrorCode::Usage, path + " or " + path + ".pub already exists");
  }
  KeyPtr key(type == KeyType::Ed25519 ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                      : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return make_error(ErrorCode::Io, "key generation failed");
  BioPtr private_pem(BIO_new(BIO_s_mem()));
  BioPtr public_pem(BIO_new(BIO_s_mem()));
  if (!private_pem || !public_pem ||
      PEM_write_bio_PrivateKey(private_pem.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_pem.get(), key.get()) != 1) {
    return make_error(ErrorCode::Io, "cannot encode the key");
  }
  CATENA_TRY_STATUS(write_new_file(path, bio_text(private_pem.get()), 0600));
  return write_new_file(path + ".pub", bio_text(public_pem.get()), 0644);
}

Result<VerifyingKey> VerifyingKey::from_pem(std::string_view pem) {
  KeyPtr key = read_pem_public(pem);
  // A private key holds its public half.
  if (!key) key = read_pem_private(pem);
  if (!key) return make_error(ErrorCode::Parse, "not a PEM public or private key");
  CATENA_TRY(const KeyType type, classify(key.get()));
  VerifyingKey out;
  out.type_ = type;
  out.key_id_ = key_id_of(key.get());
  out.sslib_ = describe_sslib(key.get(), type, pem);
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

Result<VerifyingKey> VerifyingKey::from_sslib(std::string_view keytype,
                                              std::string_view scheme,
                                              std::string_view public_value) {
  CATENA_TRY(const KeyType stated, sslib_type(keytype, scheme));
  KeyPtr key;
  if (stated == KeyType::Ed25519) {
    CATENA_TRY(key, ed25519_from_hex(public_value, false));
  } else {
    key = read_pem_public(public_value);
    if (!key) return make_error(ErrorCode::Parse, "keyval.public is not a PEM public key");
  }
  CATENA_TRY(const KeyType actual, classify(key.get()));
  if (actual != stated) {
    return make_error(ErrorCode::Parse,
                      "the key material is not of keytype " + std::string(keytype));
  }
  VerifyingKey out;
  out.type_ = actual;
  out.key_id_ = key_id_of(key.get());
  out.sslib_ = SslibKey{std::string(keytype), std::string(scheme), std::string(public_value),
                        sslib_keyid(keytype, scheme, public_value)};
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

namespace {

// A key file is one PEM block and nothing else: text around it, or a second key after it, is
// something two readers could take differently (OpenSSL reads the first block and stops).
Result<std::string_view> single_pem_block(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  const size_t last = text.find_last_not_of(" \t\r\n");
  if (first == std::string_view::npos) return make_error(ErrorCode::Parse, "empty key file");
  text = text.substr(first, last - first + 1);
  size_t blocks = 0;
  for (size_t at = text.find("-----BEGIN "); at != std::string_view::npos;
       at = text.find("-----BEGIN ", at + 1)) {
    ++blocks;
  }
  if (blocks != 1 || !text.starts_with("-----BEGIN ") || !text.ends_with("-----") ||
      text.rfind("-----END ") == std::string_view::npos) {
    return make_error(ErrorCode::Parse,
                      blocks > 1 ? "more than one PEM block (one key per file)"
                                 : "text before or after the PEM block, or no PEM block");
  }
  return text;
}

}  // namespace

Result<VerifyingKey> VerifyingKey::load(const std::string& path) {
  CATENA_TRY(std::string text, read_small_file(path, kMaxKeyFileBytes));
  Result<VerifyingKey> key = make_error(ErrorCode::Parse, "");
  if (!looks_like_json(text)) {
    auto single = single_pem_block(text);
    if (!single) {
      OPENSSL_cleanse(text.data(), text.size());
      return make_error(ErrorCode::Parse, path + ": " + single.error().message);
    }
    // What OpenSSL reads is the block alone (it takes no indented BEGIN line).
    std::string block(*single);
    OPENSSL_cleanse(text.data(), text.size());
    text = std::move(block);
  }
  if (looks_like_json(text)) {
    auto file = parse_sslib_file(text);
    if (file) {
      key = from_sslib(file->keytype, file->scheme, file->public_value);
      OPENSSL_cleanse(file->private_value.data(), file->private_value.size());
    } else {
      key = tl::unexpected(file.error());
    }
  } else {
    key = from_pem(text);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) return make_error(key.error().code, path + ": " + key.error().message);
  return key;
}

bool VerifyingKey::verify(std::string_view message, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx ||
      EVP_DigestVerifyInit(ctx.get(), &pctx, digest_for(type_), nullptr, impl_->key.get()) != 1 ||
      !set_padding(pctx, type_, false)) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<SigningKey> SigningKey::load(const std::string& path) {
  CATENA_TRY(std::string text, read_small_file(path, kMaxKeyFileBytes));
  return from_text(std::move(text), path);
}

Result<SigningKey> SigningKey::load_fd(int fd, const std::string& name) {
  std::string text;
  char buffer[4096];
  while (text.size() <= kMaxKeyFileBytes) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      OPENSSL_cleanse(buffer, sizeof buffer);
      OPENSSL_cleanse(text.data(), text.size());
      return make_io_error("cannot read " + name, err);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  OPENSSL_cleanse(buffer, sizeof buffer);
  if (text.size() > kMaxKeyFileBytes) {
    OPENSSL_cleanse(text.data(), text.size());
    return make_error(ErrorCode::LimitExceeded, name + ": larger than a key");
  }
  return from_text(std::move(text), name);
}

Result<SigningKey> SigningKey::from_text(std::string text, const std::string& path) {
  KeyPtr key;
  std::string error = "not a PEM private key (or encrypted)";
  if (looks_like_json(text)) {
    auto file = parse_sslib_file(text);
    if (!file) {
      error = file.error().message;
    } else if (file->private_value.empty()) {
      error = "the securesystemslib key holds no private key (or it is encrypted)";
    } else if (auto stated = sslib_type(file->keytype, file->scheme); !stated) {
      error = stated.error().message;
    } else if (*stated == KeyType::Ed25519) {
      auto raw = ed25519_from_hex(file->private_value, true);
      if (raw)
        key = std::move(*raw);
      else
        error = raw.error().message;
    } else {
      key = read_pem_private(file->private_value);
    }
    if (file) OPENSSL_cleanse(file->private_value.data(), file->private_value.size());
  } else {
    key = read_pem_private(text);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) return make_error(ErrorCode::Parse, path + ": " + error);
  auto type = classify(key.get());
  if (!type) return make_error(type.error().code, path + ": " + type.error().message);
  SigningKey out;
  out.type_ = *type;
  out.key_id_ = key_id_of(key.get());
  out.sslib_ = describe_sslib(key.get(), *type, {});
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

Result<std::string> SigningKey::sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), &pctx, digest_for(type_), nullptr, impl_->key.get()) != 1 ||
      !set_padding(pctx, type_, true)) {
    return make_error(ErrorCode::Io, "cannot start signing");
  }
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, message.size()) != 1) {
    return make_error(ErrorCode::Io, "cannot sign");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     message.size()) != 1) {
    return make_error(ErrorCode::Io, "cannot sign");
  }
  signature.resize(length);
  return signature;
}

}  // namespace catena::trust
