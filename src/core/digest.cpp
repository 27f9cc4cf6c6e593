#include "catena/core/digest.hpp"

#include <openssl/evp.h>

#include <cstring>

namespace catena {
namespace {

// Fetching an EVP_MD is costly in OpenSSL 3; fetch each algorithm once per process.
const EVP_MD* fetched(const char* name) {
  struct Fetched {
    EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  };
  static const Fetched all;
  const std::string_view which(name);
  const EVP_MD* md = which == "SHA256" ? all.sha256 : which == "SHA1" ? all.sha1 : all.md5;
  CATENA_ASSERT(md != nullptr);
  return md;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

struct DigestSet::Contexts {
  EVP_MD_CTX* sha256 = nullptr;
  EVP_MD_CTX* sha1 = nullptr;
  EVP_MD_CTX* md5 = nullptr;
  ~Contexts() {
    EVP_MD_CTX_free(sha256);
    EVP_MD_CTX_free(sha1);
    EVP_MD_CTX_free(md5);
  }
};

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

Result<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return make_error(ErrorCode::Parse, "an odd number of hex digits");
  std::string out(hex.size() / 2, '\0');
  for (size_t byte_idx = 0; byte_idx < out.size(); ++byte_idx) {
    const int high = hex_value(hex[2 * byte_idx]);
    const int low = hex_value(hex[2 * byte_idx + 1]);
    if (high < 0 || low < 0) {
      return make_error(ErrorCode::Parse, "a non-hex character", 2 * byte_idx);
    }
    out[byte_idx] = static_cast<char>(high * 16 + low);
  }
  return out;
}

Result<Sha256> sha256_from_hex(std::string_view hex) {
  if (hex.size() != 64) {
    return make_error(ErrorCode::Parse, "SHA-256 must be 64 hex digits, got " +
                                            std::to_string(hex.size()) + " characters");
  }
  auto bytes = hex_decode(hex);
  if (!bytes) return make_error(ErrorCode::Parse, "SHA-256 has " + bytes.error().message);
  Sha256 out{};
  std::memcpy(out.data(), bytes->data(), out.size());
  return out;
}

DigestSet::DigestSet(unsigned algorithms)
    : contexts_(std::make_unique<Contexts>()), algorithms_(algorithms) {
  CATENA_ASSERT((algorithms_ & (kSha256 | kMd5 | kSha1)) != 0);
  if (algorithms_ & kSha256) contexts_->sha256 = EVP_MD_CTX_new();
  if (algorithms_ & kSha1) contexts_->sha1 = EVP_MD_CTX_new();
  if (algorithms_ & kMd5) contexts_->md5 = EVP_MD_CTX_new();
  reset();
}

DigestSet::~DigestSet() = default;

void DigestSet::reset() {
  if (contexts_->sha256)
    CATENA_ASSERT(EVP_DigestInit_ex2(contexts_->sha256, fetched("SHA256"), nullptr) == 1);
  if (contexts_->sha1)
    CATENA_ASSERT(EVP_DigestInit_ex2(contexts_->sha1, fetched("SHA1"), nullptr) == 1);
  if (contexts_->md5)
    CATENA_ASSERT(EVP_DigestInit_ex2(contexts_->md5, fetched("MD5"), nullptr) == 1);
}

void DigestSet::update(std::span<const std::byte> data) {
  if (data.empty()) return;
  if (contexts_->sha256)
    CATENA_ASSERT(EVP_DigestUpdate(contexts_->sha256, data.data(), data.size()) == 1);
  if (contexts_->sha1)
    CATENA_ASSERT(EVP_DigestUpdate(contexts_->sha1, data.data(), data.size()) == 1);
  if (contexts_->md5)
    CATENA_ASSERT(EVP_DigestUpdate(contexts_->md5, data.data(), data.size()) == 1);
}

DigestValues DigestSet::finish() {
  DigestValues out;
  unsigned length = 0;
  if (contexts_->sha256) {
    out.sha256.emplace();
    CATENA_ASSERT(EVP_DigestFinal_ex(contexts_->sha256, out.sha256->data(), &length) == 1);
  }
  if (contexts_->sha1) {
    out.sha1.emplace();
    CATENA_ASSERT(EVP_DigestFinal_ex(contexts_->sha1, out.sha1->data(), &length) == 1);
  }
  if (contexts_->md5) {
    out.md5.emplace();
    CATENA_ASSERT(EVP_DigestFinal_ex(contexts_->md5, out.md5->data(), &length) == 1);
  }
  reset();
  return out;
}

Sha256 sha256_of(std::span<const std::byte> data) {
  DigestSet digests;
  digests.update(data);
  return *digests.finish().sha256;
}

}  // namespace catena
