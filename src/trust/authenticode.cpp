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

#include <ctime>

#include "catena/core/digest.hpp"

namespace catena::trust {

struct TrustStore::Impl {
  X509_STORE* store = nullptr;
  ~Impl() { X509_STORE_free(store); }
};

namespace {

constexpr const char* kSpcIndirectData = "1.3.6.1.4.1.311.2.1.4";
constexpr const char* kNestedSignature = "1.3.6.1.4.1.311.2.4.1";
constexpr const char* kRfc3161Timestamp = "1.3.6.1.4.1.311.3.3.1";
constexpr const char* kSystemBundle = "/etc/ssl/certs/ca-certificates.crt";

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7, PKCS7_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;
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

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

int64_t asn1_time_ns(const ASN1_TIME* time) {
  struct tm parts {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
  return static_cast<int64_t>(timegm(&parts)) * 1000000000;
}

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

// The time of a timestamp countersignature, and who signed it; nullopt when there is none.
std::optional<std::pair<int64_t, std::string>> timestamp_of(PKCS7_SIGNER_INFO* signer) {
  // An RFC 3161 token is CMS, not PKCS#7 as OpenSSL's PKCS7 type reads it: its certificate
  // set may hold choices PKCS7 rejects.
  for (const auto& der : attribute_values(signer, kRfc3161Timestamp)) {
    const unsigned char* cursor = der.data();
    std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo, CMS_ContentInfo_free>> token(
        d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(der.size())));
    if (!token) continue;
    ASN1_OCTET_STRING** content = CMS_get0_content(token.get());
    if (content == nullptr || *content == nullptr) continue;
    const unsigned char* tst = ASN1_STRING_get0_data(*content);
    std::unique_ptr<TS_TST_INFO, Deleter<TS_TST_INFO, TS_TST_INFO_free>> info(
        d2i_TS_TST_INFO(nullptr, &tst, ASN1_STRING_length(*content)));
    if (!info) continue;
    std::string who;
    STACK_OF(CMS_SignerInfo)* signer_infos = CMS_get0_SignerInfos(token.get());
    STACK_OF(X509)* certs = CMS_get1_certs(token.get());
    if (sk_CMS_SignerInfo_num(signer_infos) > 0 && certs != nullptr) {
      CMS_SignerInfo* tsa = sk_CMS_SignerInfo_value(signer_infos, 0);
      for (int idx = 0; idx < sk_X509_num(certs); ++idx) {
        if (CMS_SignerInfo_cert_cmp(tsa, sk_X509_value(certs, idx)) == 0) {
          who = name_text(X509_get_subject_name(sk_X509_value(certs, idx)));
        }
      }
    }
    if (certs != nullptr) sk_X509_pop_free(certs, X509_free);
    ERR_clear_error();
    return std::make_pair(asn1_time_ns(TS_TST_INFO_get_time(info.get())), who);
  }
  // A legacy countersignature: a SignerInfo whose signed attributes carry the signing time.
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
    return std::make_pair(asn1_time_ns(when->value.utctime),
                          name_text(counter->issuer_and_serial->issuer));
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

void verify_one(std::span<const std::byte> file,
                const formats::PeInfo& pe,
                const TrustStore& store,
                std::span<const unsigned char> der,
                int depth,
                std::vector<Signature>& out);

void verify_pkcs7(std::span<const std::byte> file,
                  const formats::PeInfo& pe,
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
    sig.file_digest = file_digest(file, pe, md);
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
  if (signer != nullptr) {
    sig.subject = name_text(X509_get_subject_name(signer));
    sig.issuer = name_text(X509_get_issuer_name(signer));
    const ASN1_INTEGER* serial = X509_get0_serialNumber(signer);
    sig.serial = hex_of(
        std::span(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial))));
    unsigned char thumbprint[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(signer, EVP_sha256(), thumbprint, &size) == 1) {
      sig.thumbprint_sha256 = hex_of(std::span(thumbprint, size));
    }
  }
  // The signer's signature over the signed attributes, whose message digest covers the
  // content of SpcIndirectDataContent (its value, without the SEQUENCE header).
  {
    // A buffer BIO in front of the memory one: given a bare memory BIO, OpenSSL 3.0's
    // PKCS7_verify copies it into a BIO of its own that it leaks when verification fails.
    BioPtr content(BIO_new(BIO_f_buffer()));
    if (content) {
      BIO* memory = BIO_new_mem_buf(outer->content.data(), static_cast<int>(outer->content.size()));
      if (memory == nullptr) {
        content.reset();
      } else {
        BIO_push(content.get(), memory);
      }
    }
    X509_STORE* empty = X509_STORE_new();
    sig.signature_ok = content && PKCS7_verify(p7, nullptr, empty, content.get(), nullptr,
                                               PKCS7_NOVERIFY | PKCS7_BINARY) == 1;
    X509_STORE_free(empty);
    ERR_clear_error();
  }
  if (signer_info != nullptr) {
    if (auto stamp = timestamp_of(signer_info)) {
      sig.timestamp_ns = stamp->first;
      sig.timestamp_signer = stamp->second;
    }
  }
  // The chain, at the timestamp's time when there is one.
  if (signer == nullptr) {
    sig.chain = "error";
    sig.chain_detail = "no signer certificate in the signature";
  } else {
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (ctx && X509_STORE_CTX_init(ctx.get(), store.impl ? store.impl->store : nullptr, signer,
                                   p7->d.sign->cert) == 1) {
      if (sig.timestamp_ns) {
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                                   static_cast<time_t>(*sig.timestamp_ns / 1000000000));
      }
      const int ok = X509_verify_cert(ctx.get());
      const int error = X509_STORE_CTX_get_error(ctx.get());
      if (ok == 1) {
        sig.chain = "trusted";
      } else if (error == X509_V_ERR_CERT_HAS_EXPIRED) {
        sig.chain = "expired";
      } else if (error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                 error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
                 error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                 error == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT) {
        sig.chain = "untrusted";
      } else {
        sig.chain = "error";
      }
      if (ok != 1) sig.chain_detail = X509_verify_cert_error_string(error);
      if (ok == 1 && (X509_get_extension_flags(signer) & EXFLAG_XKUSAGE) != 0 &&
          (X509_get_extended_key_usage(signer) & XKU_CODE_SIGN) == 0) {
        sig.chain = "bad_eku";
        sig.chain_detail = "the signer certificate is not for code signing";
      }
    } else {
      sig.chain = "error";
      sig.chain_detail = openssl_error();
    }
    ERR_clear_error();
  }
  if (signers != nullptr) sk_X509_free(signers);
  std::vector<std::vector<unsigned char>> nested =
      signer_info != nullptr ? attribute_values(signer_info, kNestedSignature)
                             : std::vector<std::vector<unsigned char>>{};
  out.push_back(std::move(sig));
  for (const auto& der : nested) verify_one(file, pe, store, der, depth + 1, out);
}

void verify_one(std::span<const std::byte> file,
                const formats::PeInfo& pe,
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
  verify_pkcs7(file, pe, store, p7.get(), depth, out);
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
    verify_one(file, pe, store, blob, 0, out);
  }
  return out;
}

}  // namespace catena::trust
