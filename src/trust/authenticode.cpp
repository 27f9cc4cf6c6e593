#include "catena/trust/authenticode.hpp"

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <functional>

#include "catena/core/digest.hpp"
#include "cms_util.hpp"

namespace catena::trust {

namespace {

using namespace detail;

constexpr const char* kSpcIndirectData = "1.3.6.1.4.1.311.2.1.4";
constexpr const char* kNestedSignature = "1.3.6.1.4.1.311.2.4.1";
constexpr const char* kRfc3161Timestamp = "1.3.6.1.4.1.311.3.3.1";
constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

using ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<ASN1_OBJECT, ASN1_OBJECT_free>>;

// One DER element: its tag, where its content is, and its full extent.
struct Der {
  uint8_t tag = 0;
  std::span<const unsigned char> content;
  std::span<const unsigned char> whole;
};

std::optional<Der> read_der(std::span<const unsigned char> bytes) {
  if (bytes.size() < 2) return std::nullopt;
  Der out;
  out.tag = bytes[0];
  uint64_t length = bytes[1];
  size_t header = 2;
  if (length >= 0x80) {
    const size_t count = length & 0x7f;
    if (count == 0 || count > 4 || bytes.size() < 2 + count) return std::nullopt;
    length = 0;
    for (size_t idx = 0; idx < count; ++idx) length = (length << 8) | bytes[2 + idx];
    header += count;
  }
  if (length > bytes.size() - header) return std::nullopt;
  out.content = bytes.subspan(header, length);
  out.whole = bytes.subspan(0, header + length);
  return out;
}

std::string hex_of(std::span<const unsigned char> bytes) { return to_hex(bytes); }

// The unauthenticated attribute `oid` of the signer, as DER of each value in its SET.
std::vector<std::vector<unsigned char>> attribute_values(PKCS7_SIGNER_INFO* signer,
                                                         const char* oid) {
  std::vector<std::vector<unsigned char>> out;
  ObjectPtr object(OBJ_txt2obj(oid, 1));
  if (!object) return out;
  STACK_OF(X509_ATTRIBUTE)* attributes = signer->unauth_attr;
  for (int idx = 0; idx < sk_X509_ATTRIBUTE_num(attributes); ++idx) {
    X509_ATTRIBUTE* attribute = sk_X509_ATTRIBUTE_value(attributes, idx);
    if (OBJ_cmp(X509_ATTRIBUTE_get0_object(attribute), object.get()) != 0) continue;
    for (int value_idx = 0; value_idx < X509_ATTRIBUTE_count(attribute); ++value_idx) {
      ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attribute, value_idx);
      if (value == nullptr || value->type != V_ASN1_SEQUENCE) continue;
      const ASN1_STRING* sequence = value->value.sequence;
      const unsigned char* data = ASN1_STRING_get0_data(sequence);
      out.emplace_back(data, data + ASN1_STRING_length(sequence));
    }
  }
  return out;
}

// A legacy countersignature holds when its message digest is the digest of the stamped signature
// and its signer (a certificate of the outer signature's set) signed its attributes.
bool verify_countersignature(PKCS7* p7,
                             PKCS7_SIGNER_INFO* counter,
                             std::span<const unsigned char> stamped) {
  const EVP_MD* md = EVP_get_digestbyobj(counter->digest_alg->algorithm);
  ASN1_TYPE* digest_attribute = PKCS7_get_signed_attribute(counter, NID_pkcs9_messageDigest);
  if (md == nullptr || digest_attribute == nullptr ||
      digest_attribute->type != V_ASN1_OCTET_STRING) {
    return false;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(stamped.data(), stamped.size(), digest, &size, md, nullptr) != 1) return false;
  const ASN1_OCTET_STRING* recorded = digest_attribute->value.octet_string;
  if (ASN1_STRING_length(recorded) != static_cast<int>(size) ||
      std::memcmp(ASN1_STRING_get0_data(recorded), digest, size) != 0) {
    return false;
  }
  X509* cert = X509_find_by_issuer_and_serial(p7->d.sign->cert, counter->issuer_and_serial->issuer,
                                              counter->issuer_and_serial->serial);
  if (cert == nullptr) return false;
  unsigned char* attributes = nullptr;
  const int length = ASN1_item_i2d(reinterpret_cast<ASN1_VALUE*>(counter->auth_attr), &attributes,
                                   ASN1_ITEM_rptr(PKCS7_ATTR_VERIFY));
  if (length <= 0) return false;
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, X509_get0_pubkey(cert)) == 1 &&
      EVP_DigestVerify(ctx.get(), ASN1_STRING_get0_data(counter->enc_digest),
                       static_cast<size_t>(ASN1_STRING_length(counter->enc_digest)), attributes,
                       static_cast<size_t>(length)) == 1;
  OPENSSL_free(attributes);
  return ok;
}

// The signer's timestamp: an RFC 3161 token, or a legacy PKCS#9 countersignature (a SignerInfo
// whose signed attributes carry the signing time and the digest of the stamped signature).
std::optional<Timestamp> timestamp_of(PKCS7* p7, PKCS7_SIGNER_INFO* signer) {
  const std::span<const unsigned char> stamped(
      ASN1_STRING_get0_data(signer->enc_digest),
      static_cast<size_t>(ASN1_STRING_length(signer->enc_digest)));
  for (const auto& der : attribute_values(signer, kRfc3161Timestamp)) {
    if (auto stamp = read_rfc3161(der, stamped)) return stamp;
  }
  STACK_OF(X509_ATTRIBUTE)* attributes = signer->unauth_attr;
  for (int idx = 0; idx < sk_X509_ATTRIBUTE_num(attributes); ++idx) {
    X509_ATTRIBUTE* attribute = sk_X509_ATTRIBUTE_value(attributes, idx);
    if (OBJ_obj2nid(X509_ATTRIBUTE_get0_object(attribute)) != NID_pkcs9_countersignature) continue;
    ASN1_TYPE* value = X509_ATTRIBUTE_get0_type(attribute, 0);
    if (value == nullptr || value->type != V_ASN1_SEQUENCE) continue;
    const unsigned char* cursor = ASN1_STRING_get0_data(value->value.sequence);
    std::unique_ptr<PKCS7_SIGNER_INFO, Deleter<PKCS7_SIGNER_INFO, PKCS7_SIGNER_INFO_free>> counter(
        d2i_PKCS7_SIGNER_INFO(nullptr, &cursor, ASN1_STRING_length(value->value.sequence)));
    if (!counter) continue;
    ASN1_TYPE* when = PKCS7_get_signed_attribute(counter.get(), NID_pkcs9_signingTime);
    if (when == nullptr || (when->type != V_ASN1_UTCTIME && when->type != V_ASN1_GENERALIZEDTIME)) {
      continue;
    }
    Timestamp out;
    out.time_ns = asn1_time_ns(when->value.utctime);
    out.signer = name_text(counter->issuer_and_serial->issuer);
    out.verified = verify_countersignature(p7, counter.get(), stamped);
    ERR_clear_error();
    return out;
  }
  return std::nullopt;
}

std::string file_digest(std::span<const std::byte> file,
                        const formats::PeInfo& pe,
                        const EVP_MD* md) {
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return {};
  for (const auto& [offset, length] : formats::authenticode_ranges(pe, file.size())) {
    EVP_DigestUpdate(ctx.get(), file.data() + offset, length);
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &size) != 1) return {};
  return hex_of(std::span(out, size));
}

// The file's digest under `md`, as the signature format defines it ("" when it cannot be made).
using DigestFn = std::function<std::string(const EVP_MD*)>;

void verify_one(const DigestFn& digest_of,
                const TrustStore& store,
                std::span<const unsigned char> der,
                int depth,
                std::vector<Signature>& out);

void verify_pkcs7(const DigestFn& digest_of,
                  const TrustStore& store,
                  PKCS7* p7,
                  int depth,
                  std::vector<Signature>& out) {
  Signature sig;
  sig.depth = depth;
  if (!PKCS7_type_is_signed(p7) || p7->d.sign == nullptr || p7->d.sign->contents == nullptr) {
    sig.error = "not a PKCS#7 SignedData";
    out.push_back(std::move(sig));
    return;
  }
  PKCS7* contents = p7->d.sign->contents;
  ObjectPtr indirect(OBJ_txt2obj(kSpcIndirectData, 1));
  if (OBJ_cmp(contents->type, indirect.get()) != 0 || contents->d.other == nullptr ||
      contents->d.other->type != V_ASN1_SEQUENCE) {
    sig.error = "the signed content is not SpcIndirectDataContent";
    out.push_back(std::move(sig));
    return;
  }
  const ASN1_STRING* sequence = contents->d.other->value.sequence;
  const std::span<const unsigned char> indirect_der(
      ASN1_STRING_get0_data(sequence), static_cast<size_t>(ASN1_STRING_length(sequence)));
  // SpcIndirectDataContent ::= SEQUENCE { data SpcAttributeTypeAndOptionalValue,
  //                                       messageDigest DigestInfo }
  const auto outer = read_der(indirect_der);
  const auto data = outer ? read_der(outer->content) : std::nullopt;
  const auto digest_info =
      data ? read_der(outer->content.subspan(data->whole.size())) : std::nullopt;
  const auto algorithm = digest_info ? read_der(digest_info->content) : std::nullopt;
  const auto oid = algorithm ? read_der(algorithm->content) : std::nullopt;
  const auto digest =
      algorithm ? read_der(digest_info->content.subspan(algorithm->whole.size())) : std::nullopt;
  if (!digest || !oid || oid->tag != 0x06 || digest->tag != 0x04) {
    sig.error = "SpcIndirectDataContent is malformed";
    out.push_back(std::move(sig));
    return;
  }
  const unsigned char* oid_cursor = oid->whole.data();
  ObjectPtr digest_object(
      d2i_ASN1_OBJECT(nullptr, &oid_cursor, static_cast<long>(oid->whole.size())));
  const EVP_MD* md = digest_object ? EVP_get_digestbyobj(digest_object.get()) : nullptr;
  sig.signed_digest = hex_of(digest->content);
  if (md != nullptr) {
    sig.digest_algorithm = OBJ_nid2sn(EVP_MD_get_type(md));
    for (char& c : sig.digest_algorithm)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    sig.file_digest = digest_of(md);
    sig.digest_ok = !sig.file_digest.empty() && sig.file_digest == sig.signed_digest;
  } else {
    sig.digest_algorithm = "unknown";
  }

  STACK_OF(PKCS7_SIGNER_INFO)* signers_info = PKCS7_get_signer_info(p7);
  PKCS7_SIGNER_INFO* signer_info = sk_PKCS7_SIGNER_INFO_num(signers_info) > 0
                                       ? sk_PKCS7_SIGNER_INFO_value(signers_info, 0)
                                       : nullptr;
  STACK_OF(X509)* signers = PKCS7_get0_signers(p7, nullptr, 0);
  X509* signer =
      signers != nullptr && sk_X509_num(signers) > 0 ? sk_X509_value(signers, 0) : nullptr;
  ERR_clear_error();
  if (signer != nullptr) describe_signer(signer, sig);
  // The signer's signature over the signed attributes, whose message digest covers the
  // content of SpcIndirectDataContent (its value, without the SEQUENCE header).
  {
    BioPtr content = content_bio(outer->content);
    X509_STORE* empty = X509_STORE_new();
    sig.signature_ok = content && empty != nullptr &&
                       PKCS7_verify(p7, nullptr, empty, content.get(), nullptr,
                                    PKCS7_NOVERIFY | PKCS7_BINARY) == 1;
    X509_STORE_free(empty);
    ERR_clear_error();
  }
  if (signer_info != nullptr) {
    if (auto stamp = timestamp_of(p7, signer_info)) {
      sig.timestamp_ns = stamp->time_ns;
      sig.timestamp_signer = stamp->signer;
      sig.timestamp_verified = stamp->verified;
      sig.certificates.insert(sig.certificates.end(), stamp->certificates.begin(),
                              stamp->certificates.end());
    }
  }
  add_certificates(p7->d.sign->cert, "chain", sig);
  // The chain, at the timestamp's time when there is a verified one.
  if (signer == nullptr) {
    sig.chain = "error";
    sig.chain_detail = "no signer certificate in the signature";
  } else {
    judge_chain(signer, p7->d.sign->cert, store,
                sig.timestamp_verified ? sig.timestamp_ns : std::nullopt, sig);
  }
  if (signers != nullptr) sk_X509_free(signers);
  std::vector<std::vector<unsigned char>> nested =
      signer_info != nullptr ? attribute_values(signer_info, kNestedSignature)
                             : std::vector<std::vector<unsigned char>>{};
  out.push_back(std::move(sig));
  for (const auto& der : nested) verify_one(digest_of, store, der, depth + 1, out);
}

// The file's digest under `md`, as the signature format defines it ("" when it cannot be made).
using DigestFn = std::function<std::string(const EVP_MD*)>;

void verify_one(const DigestFn& digest_of,
                const TrustStore& store,
                std::span<const unsigned char> der,
                int depth,
                std::vector<Signature>& out) {
  if (depth > kMaxSignatureDepth) return;
  const unsigned char* cursor = der.data();
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &cursor, static_cast<long>(der.size())));
  if (!p7) {
    ERR_clear_error();
    Signature sig;
    sig.depth = depth;
    sig.error = "the signature is not valid PKCS#7 DER";
    out.push_back(std::move(sig));
    return;
  }
  verify_pkcs7(digest_of, store, p7.get(), depth, out);
}

// MSI: the streams' contents in a fixed order (each storage's children sorted by raw UTF-16
// name, longer first on a tie; a storage's CLSID after its children), without the signature
// streams at the root. With MsiDigitalSignatureEx, the digest of the entries' metadata (names,
// sizes, CLSIDs, state bits, times) comes first.
constexpr std::string_view kMsiSignature = "\\x05DigitalSignature";
constexpr std::string_view kMsiSignatureEx = "\\x05MsiDigitalSignatureEx";

std::vector<uint32_t> msi_sorted_children(const formats::OleFile& ole, uint32_t storage) {
  std::vector<uint32_t> children = ole.entries[storage].children;
  std::sort(children.begin(), children.end(), [&](uint32_t a, uint32_t b) {
    const std::string& x = ole.entries[a].raw_name;
    const std::string& y = ole.entries[b].raw_name;
    const int diff = std::memcmp(x.data(), y.data(), std::min(x.size(), y.size()));
    if (diff != 0) return diff < 0;
    return x.size() > y.size();
  });
  return children;
}

bool msi_skipped(const formats::OleFile& ole, uint32_t storage, uint32_t child) {
  return storage == 0 &&
         (ole.entries[child].name == kMsiSignature || ole.entries[child].name == kMsiSignatureEx);
}

void msi_prehash_entry(const formats::OleEntry& e, EVP_MD_CTX* ctx) {
  if (e.type != formats::kOleRoot && e.raw_name.size() >= 2) {
    EVP_DigestUpdate(ctx, e.raw_name.data(), e.raw_name.size() - 2);
  }
  if (e.type != formats::kOleStream) {
    EVP_DigestUpdate(ctx, e.clsid.data(), e.clsid.size());
  } else {
    const uint32_t size = static_cast<uint32_t>(e.size);
    const unsigned char le[4] = {
        static_cast<unsigned char>(size), static_cast<unsigned char>(size >> 8),
        static_cast<unsigned char>(size >> 16), static_cast<unsigned char>(size >> 24)};
    EVP_DigestUpdate(ctx, le, sizeof(le));
  }
  const unsigned char state[4] = {static_cast<unsigned char>(e.state_bits),
                                  static_cast<unsigned char>(e.state_bits >> 8),
                                  static_cast<unsigned char>(e.state_bits >> 16),
                                  static_cast<unsigned char>(e.state_bits >> 24)};
  EVP_DigestUpdate(ctx, state, sizeof(state));
  if (e.type != formats::kOleRoot) {
    EVP_DigestUpdate(ctx, e.created.data(), e.created.size());
    EVP_DigestUpdate(ctx, e.modified.data(), e.modified.size());
  }
}

void msi_prehash_dir(const formats::OleFile& ole, uint32_t storage, EVP_MD_CTX* ctx) {
  msi_prehash_entry(ole.entries[storage], ctx);
  for (uint32_t child : msi_sorted_children(ole, storage)) {
    if (msi_skipped(ole, storage, child)) continue;
    if (ole.entries[child].type == formats::kOleStream) msi_prehash_entry(ole.entries[child], ctx);
    if (ole.entries[child].type == formats::kOleStorage) msi_prehash_dir(ole, child, ctx);
  }
}

bool msi_hash_dir(const formats::OleFile& ole,
                  std::span<const std::byte> file,
                  uint32_t storage,
                  EVP_MD_CTX* ctx) {
  for (uint32_t child : msi_sorted_children(ole, storage)) {
    if (msi_skipped(ole, storage, child)) continue;
    const formats::OleEntry& e = ole.entries[child];
    if (e.type == formats::kOleStream) {
      auto data = formats::read_ole_stream(ole, file, child);
      if (!data) return false;
      EVP_DigestUpdate(ctx, data->data(), data->size());
    } else if (e.type == formats::kOleStorage && !msi_hash_dir(ole, file, child, ctx)) {
      return false;
    }
  }
  EVP_DigestUpdate(ctx, ole.entries[storage].clsid.data(), ole.entries[storage].clsid.size());
  return true;
}

std::string msi_digest(std::span<const std::byte> file,
                       const formats::OleFile& ole,
                       bool extended,
                       const EVP_MD* md) {
  std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) return {};
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (extended) {
    std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>> pre(EVP_MD_CTX_new());
    if (!pre || EVP_DigestInit_ex(pre.get(), md, nullptr) != 1) return {};
    msi_prehash_dir(ole, 0, pre.get());
    if (EVP_DigestFinal_ex(pre.get(), out, &size) != 1) return {};
    EVP_DigestUpdate(ctx.get(), out, size);
  }
  if (!msi_hash_dir(ole, file, 0, ctx.get())) return {};
  if (EVP_DigestFinal_ex(ctx.get(), out, &size) != 1) return {};
  return hex_of(std::span(out, size));
}

}  // namespace

Result<TrustStore> TrustStore::load(const std::vector<std::string>& extra, bool system) {
  auto holder = std::make_shared<Impl>();
  holder->store = X509_STORE_new();
  if (holder->store == nullptr) return make_error(ErrorCode::Io, "out of memory");
  X509_STORE* raw = holder->store;
  if (system && X509_STORE_load_file(raw, kSystemBundle) != 1) ERR_clear_error();
  for (const std::string& path : extra) {
    if (X509_STORE_load_file(raw, path.c_str()) != 1) {
      const std::string why = openssl_error();
      return make_error(ErrorCode::Parse, path + ": not a PEM certificate file (" + why + ")");
    }
  }
  TrustStore out;
  out.impl = std::move(holder);
  return out;
}

std::vector<Signature> verify_authenticode(std::span<const std::byte> file,
                                           const formats::PeInfo& pe,
                                           const TrustStore& store) {
  std::vector<Signature> out;
  for (const formats::PeCertificate& c : pe.certificates) {
    if (c.type != formats::kWinCertTypePkcsSignedData) continue;
    const auto blob = std::span(reinterpret_cast<const unsigned char*>(c.blob.data()),
                                c.der_length != 0 ? c.der_length : c.blob.size());
    verify_one([&](const EVP_MD* md) { return file_digest(file, pe, md); }, store, blob, 0, out);
  }
  return out;
}

std::vector<Signature> verify_msi_authenticode(std::span<const std::byte> file,
                                               const formats::OleFile& ole,
                                               const TrustStore& store) {
  std::vector<Signature> out;
  const long index = formats::find_ole_child(ole, 0, kMsiSignature);
  if (index < 0) return out;
  auto blob = formats::read_ole_stream(ole, file, static_cast<size_t>(index));
  if (!blob) {
    Signature sig;
    sig.kind = "msi";
    sig.error = "the DigitalSignature stream cannot be read: " + blob.error().describe();
    out.push_back(std::move(sig));
    return out;
  }
  const bool extended = formats::find_ole_child(ole, 0, kMsiSignatureEx) >= 0;
  verify_one([&](const EVP_MD* md) { return msi_digest(file, ole, extended, md); }, store,
             std::span(reinterpret_cast<const unsigned char*>(blob->data()), blob->size()), 0, out);
  for (Signature& s : out) s.kind = "msi";
  return out;
}

}  // namespace catena::trust
