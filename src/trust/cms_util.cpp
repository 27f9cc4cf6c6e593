#include "cms_util.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <ctime>
#include <string_view>

#include "catena/core/digest.hpp"

namespace catena::trust::detail {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : std::string();
}

int64_t asn1_time_ns(const ASN1_TIME* time) {
  struct tm parts {};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return 0;
  return static_cast<int64_t>(timegm(&parts)) * 1000000000;
}

BioPtr content_bio(std::span<const unsigned char> bytes) {
  BioPtr content(BIO_new(BIO_f_buffer()));
  if (!content) return content;
  BIO* memory = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
  if (memory == nullptr) return nullptr;
  BIO_push(content.get(), memory);
  return content;
}

CertificateId certificate_id(X509* cert, const std::string& role) {
  CertificateId id;
  id.role = role;
  id.subject = name_text(X509_get_subject_name(cert));
  id.issuer = name_text(X509_get_issuer_name(cert));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  id.serial = to_hex(
      std::span(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial))));
  unsigned char thumbprint[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), thumbprint, &size) == 1) {
    id.thumbprint_sha256 = to_hex(std::span(thumbprint, size));
  }
  return id;
}

void add_certificates(STACK_OF(X509) * certs, const std::string& role, Signature& sig) {
  for (int idx = 0; idx < sk_X509_num(certs); ++idx) {
    X509* cert = sk_X509_value(certs, idx);
    // The thumbprint first: the names are printed only for a certificate not yet listed (the
    // built chain repeats the carried one).
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (X509_digest(cert, EVP_sha256(), digest, &size) != 1) continue;
    const std::string thumbprint = to_hex(std::span(digest, size));
    bool known = false;
    for (const CertificateId& c : sig.certificates) known |= c.thumbprint_sha256 == thumbprint;
    if (!known) sig.certificates.push_back(certificate_id(cert, role));
  }
}
void describe_signer(X509* signer, Signature& sig) {
  CertificateId id = certificate_id(signer, "signer");
  sig.subject = id.subject;
  sig.issuer = id.issuer;
  sig.serial = id.serial;
  sig.thumbprint_sha256 = id.thumbprint_sha256;
  sig.certificates.insert(sig.certificates.begin(), std::move(id));
}

namespace {

// Apple marks its code-signing certificate extensions (1.2.840.113635.100.6.*: Developer ID
// Application, Mac App Store ...) critical; OpenSSL does not know them. They name what the
// certificate is for and restrict nothing a chain check decides, so they alone do not fail it.
// Any other unknown critical extension still does.
int accept_known_critical(int ok, X509_STORE_CTX* ctx) {
  if (ok != 0 || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION) {
    return ok;
  }
  X509* cert = X509_STORE_CTX_get_current_cert(ctx);
  if (cert == nullptr) return ok;
  for (int idx = 0; idx < X509_get_ext_count(cert); ++idx) {
    X509_EXTENSION* ext = X509_get_ext(cert, idx);
    if (X509_EXTENSION_get_critical(ext) == 0 || X509_supported_extension(ext) == 1) continue;
    char oid[64];
    if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1) <= 0 ||
        !std::string_view(oid).starts_with("1.2.840.113635.100.6.")) {
      return ok;
    }
  }
  X509_STORE_CTX_set_error(ctx, X509_V_OK);
  return 1;
}

}  // namespace

void judge_chain(X509* signer,
                 STACK_OF(X509) * untrusted,
                 const TrustStore& store,
                 std::optional<int64_t> at_ns,
                 Signature& sig) {
  std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
      X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.impl ? store.impl->store : nullptr, signer,
                                  untrusted) != 1) {
    sig.chain = "error";
    sig.chain_detail = openssl_error();
    return;
  }
  X509_STORE_CTX_set_verify_cb(ctx.get(), accept_known_critical);
  if (at_ns) {
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()),
                               static_cast<time_t>(*at_ns / 1000000000));
  }
  const int ok = X509_verify_cert(ctx.get());
  const int error = X509_STORE_CTX_get_error(ctx.get());
  if (STACK_OF(X509)* built = X509_STORE_CTX_get1_chain(ctx.get())) {
    add_certificates(built, "chain", sig);
    sk_X509_pop_free(built, X509_free);
  }
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
  ERR_clear_error();
}

std::optional<Timestamp> read_rfc3161(std::span<const unsigned char> token_der,
                                      std::span<const unsigned char> signature_value) {
  // A token is CMS, not PKCS#7 as OpenSSL's PKCS7 type reads it: its certificate set may hold
  // choices PKCS7 rejects.
  const unsigned char* cursor = token_der.data();
  CmsPtr token(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(token_der.size())));
  if (!token) {
    ERR_clear_error();
    return std::nullopt;
  }
  ASN1_OCTET_STRING** content = CMS_get0_content(token.get());
  if (content == nullptr || *content == nullptr) return std::nullopt;
  const unsigned char* tst = ASN1_STRING_get0_data(*content);
  std::unique_ptr<TS_TST_INFO, Deleter<TS_TST_INFO, TS_TST_INFO_free>> info(
      d2i_TS_TST_INFO(nullptr, &tst, ASN1_STRING_length(*content)));
  if (!info) {
    ERR_clear_error();
    return std::nullopt;
  }
  Timestamp out;
  out.time_ns = asn1_time_ns(TS_TST_INFO_get_time(info.get()));
  STACK_OF(CMS_SignerInfo)* signer_infos = CMS_get0_SignerInfos(token.get());
  STACK_OF(X509)* certs = CMS_get1_certs(token.get());
  for (int idx = 0; certs != nullptr && idx < sk_X509_num(certs); ++idx) {
    out.certificates.push_back(certificate_id(sk_X509_value(certs, idx), "timestamp"));
  }
  if (sk_CMS_SignerInfo_num(signer_infos) > 0 && certs != nullptr) {
    CMS_SignerInfo* tsa = sk_CMS_SignerInfo_value(signer_infos, 0);
    for (int idx = 0; idx < sk_X509_num(certs); ++idx) {
      if (CMS_SignerInfo_cert_cmp(tsa, sk_X509_value(certs, idx)) == 0) {
        out.signer = name_text(X509_get_subject_name(sk_X509_value(certs, idx)));
      }
    }
  }
  if (certs != nullptr) sk_X509_pop_free(certs, X509_free);
  // The token's signature over its TSTInfo, and the imprint it stamps.
  X509_STORE* empty = X509_STORE_new();
  const bool signed_ok = empty != nullptr && CMS_verify(token.get(), nullptr, empty, nullptr,
                                                        nullptr, CMS_NO_SIGNER_CERT_VERIFY) == 1;
  X509_STORE_free(empty);
  bool imprint_ok = false;
  TS_MSG_IMPRINT* imprint = TS_TST_INFO_get_msg_imprint(info.get());
  X509_ALGOR* algorithm = imprint != nullptr ? TS_MSG_IMPRINT_get_algo(imprint) : nullptr;
  ASN1_OCTET_STRING* stamped = imprint != nullptr ? TS_MSG_IMPRINT_get_msg(imprint) : nullptr;
  const EVP_MD* md = algorithm != nullptr ? EVP_get_digestbyobj(algorithm->algorithm) : nullptr;
  if (md != nullptr && stamped != nullptr) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(signature_value.data(), signature_value.size(), digest, &size, md, nullptr) ==
        1) {
      imprint_ok = static_cast<int>(size) == ASN1_STRING_length(stamped) &&
                   std::memcmp(digest, ASN1_STRING_get0_data(stamped), size) == 0;
    }
  }
  out.verified = signed_ok && imprint_ok;
  ERR_clear_error();
  return out;
}

}  // namespace catena::trust::detail
