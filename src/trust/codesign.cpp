#include "catena/trust/codesign.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>

#include "catena/core/bytes.hpp"
#include "catena/core/digest.hpp"
#include "cms_util.hpp"

namespace catena::trust {
namespace {

using namespace detail;

constexpr size_t kMaxReportedMismatches = 8;

const EVP_MD* hash_md(uint8_t hash_type) {
  switch (hash_type) {
    case 1:
      return EVP_sha1();
    case 2:
    case 3:  // SHA-256 truncated to 20 bytes
      return EVP_sha256();
    case 4:
      return EVP_sha384();
    default:
      return nullptr;
  }
}

std::string hash_name(uint8_t hash_type) {
  switch (hash_type) {
    case 1:
      return "sha1";
    case 2:
      return "sha256";
    case 3:
      return "sha256-truncated";
    case 4:
      return "sha384";
    default:
      return "unknown(" + std::to_string(hash_type) + ")";
  }
}

// `bytes` hashed with `md` equals the first `size` bytes of `expected`.
bool hash_matches(const EVP_MD* md,
                  std::span<const std::byte> bytes,
                  std::span<const std::byte> expected) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, md, nullptr) != 1) return false;
  return expected.size() <= size && std::memcmp(digest, expected.data(), expected.size()) == 0;
}

std::string special_slot_name(uint32_t slot) {
  switch (slot) {
    case formats::kCsSlotRequirements:
      return "requirements";
    case formats::kCsSlotEntitlements:
      return "entitlements";
    case formats::kCsSlotDerEntitlements:
      return "DER entitlements";
    default:
      return "slot " + std::to_string(slot);
  }
}

bool all_zero(std::span<const std::byte> bytes) {
  for (std::byte b : bytes) {
    if (b != std::byte{0}) return false;
  }
  return true;
}

// Code pages and special slots of one CodeDirectory against the slice.
// `trailer`: a disk image's trailer as its special slot 6 hashes it; empty for a Mach-O.
void check_code_directory(std::span<const std::byte> slice,
                          const formats::MachoSignature& signature,
                          const formats::MachoCodeDirectory& cd,
                          std::span<const std::byte> trailer,
                          Signature& sig) {
  const std::string where = cd.slot == 0 ? "" : " (CodeDirectory " + std::to_string(cd.slot) + ")";
  const EVP_MD* md = hash_md(cd.hash_type);
  if (md == nullptr || cd.hash_size == 0 || cd.hash_size > EVP_MD_get_size(md)) {
    sig.mismatches.push_back("unsupported hash type " + std::to_string(cd.hash_type) + where);
    return;
  }
  if (cd.scatter) {
    sig.mismatches.push_back("scatter vectors are not supported; pages not checked" + where);
    return;
  }
  if (cd.code_limit > slice.size()) {
    sig.mismatches.push_back("the code limit lies beyond the signed bytes" + where);
    return;
  }
  const uint64_t page = cd.page_size_log2 == 0 ? std::max<uint64_t>(cd.code_limit, 1)
                                               : uint64_t{1} << cd.page_size_log2;
  const uint64_t pages = (cd.code_limit + page - 1) / page;
  if (pages != cd.code_slots) {
    sig.mismatches.push_back("the CodeDirectory has " + std::to_string(cd.code_slots) +
                             " page hashes for " + std::to_string(pages) + " pages" + where);
  }
  const auto hashes = cd.bytes.subspan(static_cast<size_t>(cd.hash_offset));
  size_t reported = 0, bad = 0;
  for (uint64_t index = 0; index < std::min<uint64_t>(pages, cd.code_slots); ++index) {
    const uint64_t start = index * page;
    const uint64_t length = std::min(page, cd.code_limit - start);
    const auto expected = hashes.subspan(static_cast<size_t>(index * cd.hash_size), cd.hash_size);
    ++sig.pages_checked;
    if (hash_matches(md, slice.subspan(static_cast<size_t>(start), static_cast<size_t>(length)),
                     expected)) {
      continue;
    }
    ++bad;
    if (reported++ < kMaxReportedMismatches) {
      sig.mismatches.push_back("code page " + std::to_string(index) + " (offset " +
                               std::to_string(start) + ")" + where);
    }
  }
  if (bad > kMaxReportedMismatches) {
    sig.mismatches.push_back(std::to_string(bad - kMaxReportedMismatches) + " more code pages" +
                             where);
  }
  // Blobs of the signature itself that the CodeDirectory vouches for through special slots.
  for (uint32_t slot : {formats::kCsSlotRequirements, formats::kCsSlotEntitlements,
                        formats::kCsSlotDerEntitlements}) {
    const formats::MachoBlob* blob = nullptr;
    for (const formats::MachoBlob& b : signature.blobs) {
      if (b.type == slot && !b.bytes.empty()) blob = &b;
    }
    if (slot > cd.special_slots) {
      if (blob != nullptr) {
        sig.mismatches.push_back("the " + special_slot_name(slot) +
                                 " blob is not covered by the CodeDirectory" + where);
      }
      continue;
    }
    const auto expected = cd.bytes.subspan(
        static_cast<size_t>(cd.hash_offset - uint64_t{slot} * cd.hash_size), cd.hash_size);
    const bool ok = blob != nullptr ? hash_matches(md, blob->bytes, expected) : all_zero(expected);
    if (!ok)
      sig.mismatches.push_back("special slot " + std::to_string(slot) + " (" +
                               special_slot_name(slot) + ")" + where);
  }
  // A disk image's trailer holds the offsets of everything else: unhashed, it could be moved.
  if (!trailer.empty()) {
    if (cd.special_slots < formats::kCsSlotRepSpecific) {
      sig.mismatches.push_back("the disk image's trailer is not covered by the CodeDirectory" +
                               where);
    } else if (!hash_matches(
                   md, trailer,
                   cd.bytes.subspan(
                       static_cast<size_t>(cd.hash_offset -
                                           uint64_t{formats::kCsSlotRepSpecific} * cd.hash_size),
                       cd.hash_size))) {
      sig.mismatches.push_back("special slot 6 (the disk image's trailer)" + where);
    }
  }
}

// The CMS SignedData over the first CodeDirectory: its signature, signer, timestamp and chain.
void check_cms(std::span<const std::byte> cms_der,
               std::span<const std::byte> code_directory,
               const TrustStore& store,
               Signature& sig) {
  const auto* cursor = reinterpret_cast<const unsigned char*>(cms_der.data());
  CmsPtr cms(d2i_CMS_ContentInfo(nullptr, &cursor, static_cast<long>(cms_der.size())));
  if (!cms || OBJ_obj2nid(CMS_get0_type(cms.get())) != NID_pkcs7_signed) {
    ERR_clear_error();
    sig.error = "the CMS signature is not a DER SignedData";
    return;
  }
  STACK_OF(CMS_SignerInfo)* infos = CMS_get0_SignerInfos(cms.get());
  if (sk_CMS_SignerInfo_num(infos) < 1) {
    sig.error = "the CMS signature has no signer";
    return;
  }
  CMS_set1_signers_certs(cms.get(), nullptr, 0);
  ERR_clear_error();
  CMS_SignerInfo* info = sk_CMS_SignerInfo_value(infos, 0);
  X509* signer = nullptr;
  CMS_SignerInfo_get0_algs(info, nullptr, &signer, nullptr, nullptr);
  {
    BioPtr content = content_bio(std::span(
        reinterpret_cast<const unsigned char*>(code_directory.data()), code_directory.size()));
    X509_STORE* empty = X509_STORE_new();
    sig.signature_ok = content && empty != nullptr &&
                       CMS_verify(cms.get(), nullptr, empty, content.get(), nullptr,
                                  CMS_NO_SIGNER_CERT_VERIFY | CMS_BINARY) == 1;
    X509_STORE_free(empty);
    ERR_clear_error();
  }
  const ASN1_OCTET_STRING* value = CMS_SignerInfo_get0_signature(info);
  const int stamp_at = CMS_unsigned_get_attr_by_NID(info, NID_id_smime_aa_timeStampToken, -1);
  if (stamp_at >= 0 && value != nullptr) {
    ASN1_TYPE* token = X509_ATTRIBUTE_get0_type(CMS_unsigned_get_attr(info, stamp_at), 0);
    if (token != nullptr && token->type == V_ASN1_SEQUENCE) {
      const auto der = std::span(ASN1_STRING_get0_data(token->value.sequence),
                                 static_cast<size_t>(ASN1_STRING_length(token->value.sequence)));
      const auto stamped =
          std::span(ASN1_STRING_get0_data(value), static_cast<size_t>(ASN1_STRING_length(value)));
      if (auto stamp = read_rfc3161(der, stamped)) {
        sig.timestamp_ns = stamp->time_ns;
        sig.timestamp_signer = stamp->signer;
        sig.timestamp_verified = stamp->verified;
        sig.certificates.insert(sig.certificates.end(), stamp->certificates.begin(),
                                stamp->certificates.end());
      }
    }
  }
  if (signer == nullptr) {
    sig.chain = "error";
    sig.chain_detail = "no signer certificate in the signature";
    return;
  }
  describe_signer(signer, sig);
  STACK_OF(X509)* certs = CMS_get1_certs(cms.get());
  add_certificates(certs, "chain", sig);
  judge_chain(signer, certs, store, sig.timestamp_verified ? sig.timestamp_ns : std::nullopt, sig);
  if (certs != nullptr) sk_X509_pop_free(certs, X509_free);
  ERR_clear_error();
}

}  // namespace

namespace {

// One embedded signature: `image` is what it signs around (a Mach-O slice, or a disk image up to
// its trailer), at `base` in the file; the superblob lies within it. `sig` comes with its kind
// and architecture.
Signature verify_embedded(std::span<const std::byte> image,
                          uint64_t base,
                          const formats::MachoSignature& signature,
                          std::span<const std::byte> trailer,
                          const TrustStore& store,
                          Signature sig) {
  if (signature.code_directories.empty()) {
    sig.error = "the code signature has no readable CodeDirectory";
    return sig;
  }
  const formats::MachoCodeDirectory& primary = signature.code_directories.front();
  sig.identifier = primary.identifier;
  sig.team_id = primary.team_id;
  sig.digest_algorithm = hash_name(primary.hash_type);
  // The code hashes run over the bytes before the signature, never into it.
  const auto signed_bytes = image.first(static_cast<size_t>(signature.offset));
  for (const formats::MachoCodeDirectory& cd : signature.code_directories) {
    check_code_directory(signed_bytes, signature, cd, trailer, sig);
  }
  if (const EVP_MD* md = hash_md(primary.hash_type)) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(primary.bytes.data(), primary.bytes.size(), digest, &size, md, nullptr) == 1) {
      sig.cdhash = to_hex(std::span(digest, std::min(size, 20u)));
    }
  }
  sig.digest_ok = sig.mismatches.empty();
  // Bytes the signature does not cover: between the code limit and the signature, and after
  // the superblob's own length inside its space (zero padding is expected there).
  if (primary.code_limit < signature.offset &&
      !all_zero(image.subspan(static_cast<size_t>(primary.code_limit),
                              static_cast<size_t>(signature.offset - primary.code_limit)))) {
    sig.uncovered.push_back({base + primary.code_limit, signature.offset - primary.code_limit});
  }
  const uint64_t super_end = signature.offset + signature.size;
  uint64_t used = 0;
  if (auto length = ByteReader(image).read_be<uint32_t>(signature.offset + 4)) used = *length;
  if (used < signature.size &&
      !all_zero(image.subspan(static_cast<size_t>(signature.offset + used),
                              static_cast<size_t>(signature.size - used)))) {
    sig.uncovered.push_back({base + signature.offset + used, signature.size - used});
  }
  if (super_end < image.size() && !all_zero(image.subspan(static_cast<size_t>(super_end)))) {
    sig.uncovered.push_back({base + super_end, image.size() - super_end});
  }
  if (signature.cms.empty()) {
    sig.adhoc = true;
    sig.signature_ok = true;
    sig.chain = "untrusted";
    sig.chain_detail = "ad-hoc signature: hashes without a signer";
  } else {
    check_cms(signature.cms, primary.bytes, store, sig);
  }
  return sig;
}

}  // namespace

std::vector<Signature> verify_macho(std::span<const std::byte> file,
                                    const formats::MachoInfo& macho,
                                    const TrustStore& store) {
  std::vector<Signature> out;
  for (const formats::MachoSlice& slice : macho.slices) {
    if (!slice.signature || !fits_in(file.size(), slice.offset, slice.size)) continue;
    Signature sig;
    sig.kind = "macho";
    sig.arch = formats::macho_cpu_name(slice.cpu_type);
    out.push_back(verify_embedded(
        file.subspan(static_cast<size_t>(slice.offset), static_cast<size_t>(slice.size)),
        slice.offset, *slice.signature, {}, store, std::move(sig)));
  }
  return out;
}

std::vector<Signature> verify_dmg(std::span<const std::byte> file,
                                  const formats::DmgInfo& dmg,
                                  const TrustStore& store) {
  if (!dmg.signature || dmg.trailer_offset + formats::kDmgTrailerSize != file.size()) return {};
  // The trailer as it was when the CodeDirectory was made: the signature's size not yet known.
  std::array<std::byte, formats::kDmgTrailerSize> trailer{};
  std::copy_n(file.begin() + static_cast<std::ptrdiff_t>(dmg.trailer_offset), trailer.size(),
              trailer.begin());
  std::fill_n(trailer.begin() + formats::kDmgSignatureSizeField, 8, std::byte{0});
  Signature sig;
  sig.kind = "dmg";
  return {verify_embedded(file.first(static_cast<size_t>(dmg.trailer_offset)), 0, *dmg.signature,
                          trailer, store, std::move(sig))};
}

std::vector<Signature> verify_module_signature(std::span<const std::byte> file,
                                               const formats::ElfInfo& elf,
                                               const TrustStore& store) {
  std::vector<Signature> out;
  if (!elf.module_signature) return out;
  constexpr uint64_t kTrailer = 12 + 28;  // struct module_signature, then the magic
  Signature sig;
  sig.kind = "kernel-module";
  const uint64_t length = elf.module_signature_length;
  if (file.size() < kTrailer || length > file.size() - kTrailer) {
    sig.error = "the module signature's length exceeds the file";
    out.push_back(std::move(sig));
    return out;
  }
  const uint64_t signed_end = file.size() - kTrailer - length;
  const auto id_type = static_cast<uint8_t>(file[static_cast<size_t>(file.size() - kTrailer + 2)]);
  if (id_type != 2) {  // PKEY_ID_PKCS7; the others were never used by mainline kernels
    sig.error = "the module signature is not PKCS#7 (id type " + std::to_string(id_type) + ")";
    out.push_back(std::move(sig));
    return out;
  }
  const auto* der = reinterpret_cast<const unsigned char*>(file.data() + signed_end);
  const unsigned char* cursor = der;
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &cursor, static_cast<long>(length)));
  if (!p7 || !PKCS7_type_is_signed(p7.get())) {
    ERR_clear_error();
    sig.error = "the module signature is not a DER PKCS#7 SignedData";
    out.push_back(std::move(sig));
    return out;
  }
  STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(p7.get());
  if (sk_PKCS7_SIGNER_INFO_num(infos) < 1) {
    sig.error = "the module signature has no signer";
    out.push_back(std::move(sig));
    return out;
  }
  PKCS7_SIGNER_INFO* info = sk_PKCS7_SIGNER_INFO_value(infos, 0);
  const EVP_MD* md = EVP_get_digestbyobj(info->digest_alg->algorithm);
  sig.digest_algorithm = md != nullptr ? OBJ_nid2sn(EVP_MD_get_type(md)) : "unknown";
  for (char& c : sig.digest_algorithm) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  sig.issuer = name_text(info->issuer_and_serial->issuer);
  const ASN1_INTEGER* serial = info->issuer_and_serial->serial;
  sig.serial = to_hex(
      std::span(ASN1_STRING_get0_data(serial), static_cast<size_t>(ASN1_STRING_length(serial))));
  // The signer: in the signature (rare) or among the trusted certificates.
  X509* signer = X509_find_by_issuer_and_serial(p7->d.sign->cert, info->issuer_and_serial->issuer,
                                                info->issuer_and_serial->serial);
  X509Ptr held;
  if (signer == nullptr && store.impl) {
    STACK_OF(X509)* trusted = X509_STORE_get1_all_certs(store.impl->store);
    X509* found = X509_find_by_issuer_and_serial(trusted, info->issuer_and_serial->issuer,
                                                 info->issuer_and_serial->serial);
    if (found != nullptr && X509_up_ref(found) == 1) held.reset(found);
    sk_X509_pop_free(trusted, X509_free);
    signer = held.get();
  }
  if (signer == nullptr) {
    sig.verifiable = false;
    sig.chain = "untrusted";
    sig.chain_detail =
        "the signer's certificate is not in the trust store (a module signature carries none)";
    out.push_back(std::move(sig));
    return out;
  }
  describe_signer(signer, sig);
  {
    STACK_OF(X509)* certs = sk_X509_new_null();
    if (certs != nullptr) sk_X509_push(certs, signer);
    BioPtr content = content_bio(std::span(reinterpret_cast<const unsigned char*>(file.data()),
                                           static_cast<size_t>(signed_end)));
    X509_STORE* empty = X509_STORE_new();
    sig.signature_ok = certs != nullptr && content && empty != nullptr &&
                       PKCS7_verify(p7.get(), certs, empty, content.get(), nullptr,
                                    PKCS7_NOVERIFY | PKCS7_BINARY) == 1;
    X509_STORE_free(empty);
    sk_X509_free(certs);
    ERR_clear_error();
  }
  // The digest is inside the signature; a module changed after signing fails signature_ok.
  sig.digest_ok = sig.signature_ok;
  judge_chain(signer, p7->d.sign->cert, store, std::nullopt, sig);
  out.push_back(std::move(sig));
  return out;
}

}  // namespace catena::trust
