#pragma once
// What every signature format shares once its signed bytes are known: who the signer is, whether
// its chain reaches the trust store (at the time of a verified timestamp, when there is one), and
// what an RFC 3161 timestamp token says. Authenticode (PE, MSI), Mach-O CMS and kernel-module
// PKCS#7 verification all judge signers through these, so they agree.
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include <memory>
#include <optional>
#include <span>
#include <string>

#include "catena/trust/authenticode.hpp"

namespace catena::trust {

struct TrustStore::Impl {
  X509_STORE* store = nullptr;
  ~Impl() { X509_STORE_free(store); }
};

namespace detail {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7, PKCS7_free>>;
using CmsPtr = std::unique_ptr<CMS_ContentInfo, Deleter<CMS_ContentInfo, CMS_ContentInfo_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

std::string openssl_error();
std::string name_text(const X509_NAME* name);
int64_t asn1_time_ns(const ASN1_TIME* time);

/// A memory BIO over `bytes` behind a buffer BIO. OpenSSL 3.0's PKCS7_verify copies a bare
/// memory BIO into one of its own that it leaks when verification fails.
BioPtr content_bio(std::span<const unsigned char> bytes);

/// subject, issuer, serial and SHA-256 thumbprint of the signer certificate.
void describe_signer(X509* signer, Signature& sig);

/// chain and chain_detail: the signer's chain to the store through `untrusted` intermediates
/// (the certificates of the chain it built are added to sig.certificates),
/// at `at_ns` (a verified timestamp) or now; bad_eku when the certificate has an extended key
/// usage without code signing.
void judge_chain(X509* signer,
                 STACK_OF(X509) * untrusted,
                 const TrustStore& store,
                 std::optional<int64_t> at_ns,
                 Signature& sig);

struct Timestamp {
  int64_t time_ns = 0;
  std::string signer;
  bool verified = false;  // the token's signature holds and it stamps `signature_value`
  std::vector<CertificateId> certificates;  // the token's, role "timestamp"
};

CertificateId certificate_id(X509* cert, const std::string& role);

/// Adds each certificate of `certs` not yet listed (by thumbprint) with `role`.
void add_certificates(STACK_OF(X509) * certs, const std::string& role, Signature& sig);

/// An RFC 3161 TimeStampToken (DER of its ContentInfo): its time, its signer, and whether its
/// own signature holds and its message imprint is the digest of `signature_value` (the stamped
/// SignerInfo's signature, as RFC 3161 appendix A and Authenticode both stamp).
std::optional<Timestamp> read_rfc3161(std::span<const unsigned char> token,
                                      std::span<const unsigned char> signature_value);

}  // namespace detail
}  // namespace catena::trust
