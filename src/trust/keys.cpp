#include "catena/trust/keys.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>

#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"

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

// Ed25519 signs the message itself; ECDSA a SHA-256 of it.
const EVP_MD* digest_for(EVP_PKEY* key) {
  return EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
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
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error(ErrorCode::Io, "out of memory");
  KeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    // A private key holds its public half.
    BioPtr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    key.reset(PEM_read_bio_PrivateKey(again.get(), nullptr, nullptr, nullptr));
  }
  if (!key) return make_error(ErrorCode::Parse, "not a PEM public or private key");
  const int id = EVP_PKEY_get_base_id(key.get());
  if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_EC) {
    return make_error(ErrorCode::Unsupported, "only Ed25519 and ECDSA keys are supported");
  }
  VerifyingKey out;
  out.key_id_ = key_id_of(key.get());
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

Result<VerifyingKey> VerifyingKey::load(const std::string& path) {
  CATENA_TRY(std::string text, read_small_file(path, kMaxKeyFileBytes));
  auto key = from_pem(text);
  if (!key) return make_error(key.error().code, path + ": " + key.error().message);
  return key;
}

bool VerifyingKey::verify(std::string_view message, std::string_view signature) const {
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(impl_->key.get()), nullptr,
                                   impl_->key.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<SigningKey> SigningKey::load(const std::string& path) {
  CATENA_TRY(std::string text, read_small_file(path, kMaxKeyFileBytes));
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  OPENSSL_cleanse(text.data(), text.size());
  if (!key) return make_error(ErrorCode::Parse, path + ": not a PEM private key (or encrypted)");
  const int id = EVP_PKEY_get_base_id(key.get());
  if (id != EVP_PKEY_ED25519 && id != EVP_PKEY_EC) {
    return make_error(ErrorCode::Unsupported, path + ": only Ed25519 and ECDSA keys are supported");
  }
  SigningKey out;
  out.key_id_ = key_id_of(key.get());
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

Result<std::string> SigningKey::sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(impl_->key.get()), nullptr,
                                 impl_->key.get()) != 1) {
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
