#include "keys.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>

#include "catena/core/bytes.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/text.hpp"

namespace catena::access {
namespace {

// Passwords tools fill in by default: a keystore that opens with one of these is not protected.
constexpr std::string_view kDefaultKeystorePasswords[] = {"",         "android",  "changeit",
                                                          "changeme", "password", "123456"};

struct PemBlock {
  std::string label;
  bool encrypted_header = false;  // Proc-Type: 4,ENCRYPTED
  std::string der;                // empty when the body is not base64
};

constexpr size_t kMaxPemBlocks = 64;

std::vector<PemBlock> pem_blocks(std::string_view text) {
  std::vector<PemBlock> blocks;
  size_t pos = 0;
  while (blocks.size() < kMaxPemBlocks) {
    const size_t begin = text.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) break;
    const size_t label_end = text.find("-----", begin + 11);
    if (label_end == std::string_view::npos) break;
    PemBlock block;
    block.label = std::string(text.substr(begin + 11, label_end - begin - 11));
    const std::string end_marker = "-----END " + block.label + "-----";
    const size_t body_start = label_end + 5;
    const size_t end = text.find(end_marker, body_start);
    if (end == std::string_view::npos) break;
    std::string_view body = text.substr(body_start, end - body_start);
    std::string base64;
    TrimmedLines lines(body);
    while (auto next = lines.next()) {
      const std::string_view line = *next;
      if (line.find(':') != std::string_view::npos) {
        if (line.starts_with("Proc-Type:") && line.find("ENCRYPTED") != std::string_view::npos) {
          block.encrypted_header = true;
        }
        continue;
      }
      base64.append(line);
    }
    if (auto der = base64_decode(base64)) block.der = std::move(*der);
    blocks.push_back(std::move(block));
    pos = end + end_marker.size();
  }
  return blocks;
}

std::string ssh_base64_sha256(std::string_view bytes) {
  const Sha256 digest = sha256_of(std::as_bytes(std::span(bytes.data(), bytes.size())));
  std::string text =
      base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  while (!text.empty() && text.back() == '=') text.pop_back();
  return "SHA256:" + text;
}

std::string hex_sha256(std::string_view bytes) {
  const Sha256 digest = sha256_of(std::as_bytes(std::span(bytes.data(), bytes.size())));
  return to_hex(digest);
}

// Reads SSH wire-format fields (RFC 4251) from untrusted bytes.
class SshReader {
 public:
  explicit SshReader(std::string_view data) : data_(data) {}
  std::optional<uint32_t> u32() {
    if (data_.size() - pos_ < 4) return std::nullopt;
    const auto* p = reinterpret_cast<const unsigned char*>(data_.data() + pos_);
    pos_ += 4;
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
  }
  std::optional<std::string_view> string() {
    auto length = u32();
    if (!length || *length > data_.size() - pos_) return std::nullopt;
    std::string_view out = data_.substr(pos_, *length);
    pos_ += *length;
    return out;
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
};

unsigned mpint_bits(std::string_view mpint) {
  size_t i = 0;
  while (i < mpint.size() && mpint[i] == '\0') ++i;
  if (i == mpint.size()) return 0;
  unsigned bits = static_cast<unsigned>(mpint.size() - i) * 8;
  for (unsigned top = static_cast<unsigned char>(mpint[i]); (top & 0x80) == 0; top <<= 1) --bits;
  return bits;
}

// "ssh-ed25519 256", from the public key blob.
std::string ssh_key_type(std::string_view blob, bool* hardware) {
  SshReader reader(blob);
  auto type = reader.string();
  if (!type) return "unknown";
  std::string name(*type);
  *hardware = name.starts_with("sk-");
  if (name == "ssh-rsa") {
    auto e = reader.string();
    auto n = reader.string();
    if (e && n) return "rsa " + std::to_string(mpint_bits(*n));
    return "rsa";
  }
  if (name == "ssh-ed25519" || name.starts_with("sk-ssh-ed25519")) return name + " 256";
  if (name.starts_with("ecdsa-sha2-nistp")) return name + " " + name.substr(16);
  if (name.starts_with("sk-ecdsa-sha2-nistp256")) return name + " 256";
  if (name == "ssh-dss") return "dsa 1024";
  return name;
}

using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

std::optional<std::string> spki_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int length = i2d_PUBKEY(key, &der);
  if (length <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

std::string key_description(EVP_PKEY* key) {
  const char* name = EVP_PKEY_get0_type_name(key);
  return ascii_lower(name ? name : "key") + " " + std::to_string(EVP_PKEY_get_bits(key));
}

std::string subject_text(X509* cert) {
  char buffer[512];
  X509_NAME_oneline(X509_get_subject_name(cert), buffer, sizeof buffer);
  return buffer;
}

bool has_code_signing_eku(X509* cert) {
  const uint32_t flags = X509_get_extension_flags(cert);
  return (flags & EXFLAG_XKUSAGE) != 0 && (X509_get_extended_key_usage(cert) & XKU_CODE_SIGN) != 0;
}

PkeyPtr private_key_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())), EVP_PKEY_free);
  return key;
}

X509Ptr cert_from_der(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
}

// Fills signing facts from a certificate that belongs to the key.
void describe_certificate(Discovery& d, X509* cert) {
  d.target = subject_text(cert);
  const bool code_signing = has_code_signing_eku(cert);
  d.detail += std::string(d.detail.empty() ? "" : "; ") + "certificate " + d.target +
              (code_signing ? " with the code-signing EKU" : " without the code-signing EKU");
  d.signing = code_signing;
}

std::string_view skip_to_line_after(std::string_view text, std::string_view marker) {
  const size_t at = text.find(marker);
  if (at == std::string_view::npos) return {};
  const size_t nl = text.find('\n', at);
  return nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
}

std::string_view base_name_of(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string first_line(std::string_view text) {
  const size_t nl = text.find('\n');
  return std::string(trim_space(text.substr(0, nl)));
}

// Code-signing material with a secret in it.
Discovery signing_material(std::string kind, std::string target) {
  Discovery d;
  d.kind = std::move(kind);
  d.category = "signing";
  d.holds_secret = true;
  d.signing = true;
  d.target = std::move(target);
  return d;
}

}  // namespace

Discovery unparsed(std::string_view kind, std::string reason) {
  Discovery d;
  d.kind = "unparsed";
  d.category = std::string(kind);
  d.protection = "unknown";
  d.holds_secret = true;
  d.detail = std::move(reason);
  return d;
}

bool looks_like_pem_private_key(std::string_view content) {
  return content.find("-----BEGIN ") != std::string_view::npos &&
         content.find("PRIVATE KEY-----") != std::string_view::npos;
}

std::vector<Discovery> examine_ssh_key(std::string_view content, std::string_view comment) {
  std::vector<Discovery> out;
  for (const PemBlock& block : pem_blocks(content)) {
    if (block.label.find("PRIVATE KEY") == std::string::npos) continue;
    Discovery d;
    d.kind = "ssh-private-key";
    d.category = "ssh";
    d.holds_secret = true;
    d.account = std::string(comment);
    if (block.der.empty()) {
      out.push_back(unparsed("ssh", "the key's base64 body is malformed"));
      continue;
    }
    if (block.label == "OPENSSH PRIVATE KEY") {
      static constexpr std::string_view kMagic("openssh-key-v1\0", 15);
      if (!std::string_view(block.der).starts_with(kMagic)) {
        out.push_back(unparsed("ssh", "not an openssh-key-v1 key"));
        continue;
      }
      SshReader reader(std::string_view(block.der).substr(kMagic.size()));
      auto cipher = reader.string();
      auto kdf = reader.string();
      auto kdf_options = reader.string();
      auto count = reader.u32();
      auto public_blob = reader.string();
      if (!cipher || !kdf || !kdf_options || !count || *count < 1 || !public_blob) {
        out.push_back(unparsed("ssh", "truncated openssh-key-v1 key"));
        continue;
      }
      bool hardware = false;
      d.detail = ssh_key_type(*public_blob, &hardware);
      d.fingerprint = ssh_base64_sha256(*public_blob);
      d.protection = *cipher != "none" ? "passphrase" : hardware ? "hardware" : "none";
      if (*cipher != "none") d.detail += "; " + std::string(*cipher);
      out.push_back(std::move(d));
      continue;
    }
    // Legacy PEM (PKCS#1, SEC1, PKCS#8).
    if (block.encrypted_header || block.label == "ENCRYPTED PRIVATE KEY") {
      d.protection = "passphrase";
      d.detail = ascii_lower(block.label) + ", encrypted";
      d.fingerprint = "file-sha256:" + hex_sha256(block.der);
      out.push_back(std::move(d));
      continue;
    }
    PkeyPtr key = private_key_from_der(block.der);
    if (!key) {
      out.push_back(unparsed(
          "ssh", "an unencrypted " + ascii_lower(block.label) + " that OpenSSL cannot read"));
      continue;
    }
    d.protection = "none";
    d.detail = key_description(key.get());
    if (auto spki = spki_der(key.get())) d.fingerprint = "spki-sha256:" + hex_sha256(*spki);
    out.push_back(std::move(d));
  }
  if (out.empty()) out.push_back(unparsed("ssh", "no private key block"));
  return out;
}

std::vector<Discovery> examine_pem(std::string_view content,
                                   std::string_view sibling_certs,
                                   bool signing_hint) {
  std::vector<PemBlock> blocks = pem_blocks(content);
  std::vector<X509Ptr> certs;
  for (const PemBlock& block : blocks) {
    if (block.label != "CERTIFICATE" || block.der.empty()) continue;
    if (X509Ptr cert = cert_from_der(block.der)) certs.push_back(std::move(cert));
  }
  for (const PemBlock& block : pem_blocks(sibling_certs)) {
    if (block.label != "CERTIFICATE" || block.der.empty()) continue;
    if (X509Ptr cert = cert_from_der(block.der)) certs.push_back(std::move(cert));
  }
  std::vector<Discovery> out;
  for (const PemBlock& block : blocks) {
    if (block.label.find("PRIVATE KEY") == std::string::npos) continue;
    if (block.label == "OPENSSH PRIVATE KEY") {
      for (Discovery& d : examine_ssh_key(content, {})) out.push_back(std::move(d));
      continue;
    }
    Discovery d;
    d.kind = "private-key";
    d.category = "key";
    d.holds_secret = true;
    if (block.der.empty()) {
      out.push_back(unparsed("key", "the key's base64 body is malformed"));
      continue;
    }
    X509* matched = nullptr;
    if (block.encrypted_header || block.label == "ENCRYPTED PRIVATE KEY") {
      d.protection = "passphrase";
      d.detail = ascii_lower(block.label) + ", encrypted";
      d.fingerprint = "file-sha256:" + hex_sha256(block.der);
      // The public half is unknown: a lone certificate in the same file is taken as its own.
      if (certs.size() == 1) matched = certs.front().get();
    } else {
      PkeyPtr key = private_key_from_der(block.der);
      if (!key) {
        out.push_back(unparsed(
            "key", "an unencrypted " + ascii_lower(block.label) + " that OpenSSL cannot read"));
        continue;
      }
      d.protection = "none";
      d.detail = key_description(key.get());
      if (auto spki = spki_der(key.get())) d.fingerprint = "spki-sha256:" + hex_sha256(*spki);
      for (const X509Ptr& cert : certs) {
        if (X509_check_private_key(cert.get(), key.get()) == 1) {
          matched = cert.get();
          break;
        }
      }
    }
    if (matched != nullptr) {
      describe_certificate(d, matched);
    } else if (signing_hint) {
      d.signing = true;
      d.detail += "; no certificate, named for signing";
    }
    if (d.signing) {
      d.kind = "signing-key";
      d.category = "signing";
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<Discovery> examine_pkcs12(std::string_view content, bool signing_hint) {
  const auto* p = reinterpret_cast<const unsigned char*>(content.data());
  std::unique_ptr<PKCS12, decltype(&PKCS12_free)> p12(
      d2i_PKCS12(nullptr, &p, static_cast<long>(content.size())), PKCS12_free);
  if (!p12) return {unparsed("signing", "not a PKCS#12 file")};
  Discovery d;
  d.kind = "pkcs12";
  d.category = "signing";
  d.holds_secret = true;
  d.fingerprint = "file-sha256:" + hex_sha256(content);
  // An empty, absent or well-known default password is what "unprotected" means.
  std::optional<std::string> password;
  bool null_password = false;
  if (PKCS12_mac_present(p12.get()) == 0) {
    password = "";
  } else if (PKCS12_verify_mac(p12.get(), nullptr, 0) == 1) {
    password = "";
    null_password = true;
  } else {
    for (std::string_view candidate : kDefaultKeystorePasswords) {
      if (PKCS12_verify_mac(p12.get(), candidate.data(), static_cast<int>(candidate.size())) == 1) {
        password = std::string(candidate);
        break;
      }
    }
  }
  if (!password) {
    d.protection = "passphrase";
    d.signing = true;
    d.detail = "passphrase-protected; its certificate cannot be read without it";
    return {d};
  }
  d.protection = "none";
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  if (PKCS12_parse(p12.get(), null_password ? nullptr : password->c_str(), &key, &cert, &ca) != 1) {
    d.signing = true;
    d.detail = "opens without a real password, but its contents use a cipher OpenSSL cannot read";
    return {d};
  }
  PkeyPtr key_guard(key, EVP_PKEY_free);
  X509Ptr cert_guard(cert, X509_free);
  sk_X509_pop_free(ca, X509_free);
  d.detail = key ? key_description(key) : "no private key";
  if (!password->empty()) d.detail += "; opens with the default password \"" + *password + "\"";
  if (key == nullptr) {
    d.holds_secret = false;
    d.protection = "not-applicable";
  }
  if (key != nullptr) {
    if (auto spki = spki_der(key)) d.fingerprint = "spki-sha256:" + hex_sha256(*spki);
  }
  if (cert != nullptr) {
    describe_certificate(d, cert);
    // A certificate without any extended key usage (Android's, keytool's) signs what its
    // key is named for.
    if (!d.signing && (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0 && signing_hint) {
      d.signing = true;
    }
  } else {
    d.signing = true;
    d.detail += "; no certificate";
  }
  if (!d.signing) d.category = "key";
  return {d};
}

std::vector<Discovery> examine_gpg_keyfile(std::string_view name, std::string_view content) {
  Discovery d = signing_material("gpg-secret-key", "OpenPGP signing");
  std::string_view grip = name.substr(0, name.find('.'));
  d.fingerprint = "keygrip:" + std::string(grip);
  if (content.find("shadowed-private-key") != std::string_view::npos) {
    d.protection = "hardware";
    d.detail = "held on a smartcard or token";
  } else if (content.find("protected-private-key") != std::string_view::npos) {
    // A key imported without a passphrase stays "(protection none)" until its first use.
    // The extended key format may wrap the S-expression anywhere between tokens.
    bool clear = false;
    for (size_t at = content.find("(protection"); at != std::string_view::npos && !clear;
         at = content.find("(protection", at + 1)) {
      std::string_view rest = trim_space(content.substr(at + 11));
      clear = rest.starts_with("none");
    }
    d.protection = clear ? "none" : "passphrase";
  } else if (content.find("private-key") != std::string_view::npos) {
    d.protection = "none";
  } else {
    return {unparsed("signing", "not a GnuPG private key file")};
  }
  return {d};
}

std::vector<Discovery> examine_openpgp(std::string_view content) {
  std::string binary;
  if (content.find("-----BEGIN PGP PRIVATE KEY BLOCK-----") != std::string_view::npos) {
    std::string_view body = skip_to_line_after(content, "-----BEGIN PGP PRIVATE KEY BLOCK-----");
    // Armor headers end at the first blank line; the checksum line starts with '='.
    std::string base64;
    bool in_headers = true;
    TrimmedLines lines(body);
    while (auto next = lines.next()) {
      const std::string_view line = *next;
      if (in_headers) {
        if (line.find(':') != std::string_view::npos) continue;
        in_headers = false;
        if (line.empty()) continue;
      }
      if (line.starts_with("-----") || line.starts_with("=")) break;
      base64.append(line);
    }
    auto decoded = base64_decode(base64);
    if (!decoded) return {unparsed("signing", "the OpenPGP armor's base64 is malformed")};
    binary = std::move(*decoded);
  } else {
    binary = std::string(content);
  }
  Discovery d = signing_material("gpg-secret-key", "OpenPGP signing");
  ByteReader reader(binary.data(), binary.size());
  auto tag_byte = reader.read_be<uint8_t>(0);
  if (!tag_byte || (*tag_byte & 0x80) == 0) return {unparsed("signing", "not an OpenPGP packet")};
  uint64_t offset = 1;
  uint64_t length = 0;
  unsigned tag = 0;
  if ((*tag_byte & 0x40) != 0) {  // new format
    tag = *tag_byte & 0x3f;
    auto first = reader.read_be<uint8_t>(1);
    if (!first) return {unparsed("signing", "truncated OpenPGP packet")};
    if (*first < 192) {
      length = *first;
      offset = 2;
    } else if (*first < 224) {
      auto second = reader.read_be<uint8_t>(2);
      if (!second) return {unparsed("signing", "truncated OpenPGP packet")};
      length = ((uint64_t{*first} - 192) << 8) + *second + 192;
      offset = 3;
    } else if (*first == 255) {
      auto four = reader.read_be<uint32_t>(2);
      if (!four) return {unparsed("signing", "truncated OpenPGP packet")};
      length = *four;
      offset = 6;
    } else {
      return {unparsed("signing", "OpenPGP partial-length key packet")};
    }
  } else {  // old format
    tag = (*tag_byte >> 2) & 0x0f;
    const unsigned length_type = *tag_byte & 3;
    if (length_type == 3) return {unparsed("signing", "OpenPGP indeterminate-length packet")};
    const unsigned bytes = 1u << length_type;
    if (bytes == 1) {
      auto v = reader.read_be<uint8_t>(1);
      if (!v) return {unparsed("signing", "truncated OpenPGP packet")};
      length = *v;
    } else if (bytes == 2) {
      auto v = reader.read_be<uint16_t>(1);
      if (!v) return {unparsed("signing", "truncated OpenPGP packet")};
      length = *v;
    } else {
      auto v = reader.read_be<uint32_t>(1);
      if (!v) return {unparsed("signing", "truncated OpenPGP packet")};
      length = *v;
    }
    offset = 1 + bytes;
  }
  if (tag != 5) return {unparsed("signing", "the first OpenPGP packet is not a secret key")};
  auto packet = reader.bytes(offset, length);
  if (!packet) return {unparsed("signing", "truncated OpenPGP secret key packet")};
  ByteReader key(*packet);
  auto version = key.read_be<uint8_t>(0);
  auto algorithm = key.read_be<uint8_t>(5);
  if (!version || !algorithm) return {unparsed("signing", "truncated OpenPGP secret key packet")};
  if (*version != 4) {
    d.protection = "unknown";
    d.detail = "OpenPGP v" + std::to_string(*version) + " key";
    d.fingerprint = "file-sha256:" + hex_sha256(binary);
    return {d};
  }
  // The public part: MPIs, and for EC keys an OID (and ECDH's KDF parameters) first.
  uint64_t pos = 6;
  const auto skip_mpis = [&](unsigned count) -> bool {
    for (unsigned i = 0; i < count; ++i) {
      auto bits = key.read_be<uint16_t>(pos);
      if (!bits) return false;
      pos += 2 + (uint64_t{*bits} + 7) / 8;
    }
    return pos <= key.size();
  };
  const auto skip_short = [&]() -> bool {
    auto size = key.read_be<uint8_t>(pos);
    if (!size) return false;
    pos += 1 + *size;
    return pos <= key.size();
  };
  bool ok = false;
  switch (*algorithm) {
    case 1:
    case 2:
    case 3:
      ok = skip_mpis(2);
      d.detail = "OpenPGP RSA";
      break;
    case 17:
      ok = skip_mpis(4);
      d.detail = "OpenPGP DSA";
      break;
    case 16:
    case 20:
      ok = skip_mpis(3);
      d.detail = "OpenPGP Elgamal";
      break;
    case 18:
      ok = skip_short() && skip_mpis(1) && skip_short();
      d.detail = "OpenPGP ECDH";
      break;
    case 19:
      ok = skip_short() && skip_mpis(1);
      d.detail = "OpenPGP ECDSA";
      break;
    case 22:
      ok = skip_short() && skip_mpis(1);
      d.detail = "OpenPGP EdDSA";
      break;
    default:
      d.detail = "OpenPGP algorithm " + std::to_string(*algorithm);
      break;
  }
  auto usage = ok ? key.read_be<uint8_t>(pos) : Result<uint8_t>(tl::unexpected(Error{}));
  if (!ok || !usage) {
    d.protection = "unknown";
    d.fingerprint = "file-sha256:" + hex_sha256(binary);
    return {d};
  }
  d.protection = *usage == 0 ? "none" : "passphrase";
  // The v4 fingerprint: SHA-1 over 0x99, the public part's length and the public part.
  std::string hashed;
  hashed.push_back(static_cast<char>(0x99));
  hashed.push_back(static_cast<char>((pos >> 8) & 0xff));
  hashed.push_back(static_cast<char>(pos & 0xff));
  hashed.append(reinterpret_cast<const char*>(packet->data()), pos);
  unsigned char sha1[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(hashed.data()), hashed.size(), sha1);
  d.fingerprint = "openpgp:" + to_hex(std::span<const uint8_t>(sha1, sizeof sha1));
  return {d};
}

std::vector<Discovery> examine_minisign(std::string_view content, Secrets& secrets) {
  std::string_view rest = skip_to_line_after(content, "untrusted comment:");
  auto blob = base64_decode(first_line(rest));
  // sig alg, kdf alg, checksum alg (2 each), salt 32, opslimit 8, memlimit 8, keynum_sk 104.
  if (!blob || blob->size() != 158 || blob->substr(0, 2) != "Ed") {
    return {unparsed("signing", "not a minisign secret key")};
  }
  Discovery d = signing_material("minisign-secret-key", "minisign signing");
  const bool encrypted = blob->substr(2, 2) != std::string("\0\0", 2);
  d.protection = encrypted ? "passphrase" : "none";
  if (encrypted) {
    d.fingerprint = secrets.fingerprint(*blob);
  } else {
    // The key id is public (it is in the public key): 8 bytes after the salt and limits.
    std::string id = blob->substr(54, 8);
    std::reverse(id.begin(), id.end());
    d.fingerprint = "minisign:" + ascii_lower(to_hex(std::span<const uint8_t>(
                                      reinterpret_cast<const uint8_t*>(id.data()), id.size())));
  }
  return {d};
}

std::vector<Discovery> examine_signify(std::string_view content) {
  std::string_view rest = skip_to_line_after(content, "untrusted comment:");
  auto blob = base64_decode(first_line(rest));
  // pkalg 2, kdfalg 2, kdfrounds 4, salt 16, checksum 8, keynum 8, seckey 64.
  if (!blob || blob->size() != 104 || blob->substr(0, 4) != "EdBK") {
    return {unparsed("signing", "not a signify secret key")};
  }
  Discovery d = signing_material("signify-secret-key", "signify signing");
  const bool encrypted = blob->substr(4, 4) != std::string(4, '\0');
  d.protection = encrypted ? "passphrase" : "none";
  d.fingerprint = "signify:" + to_hex(std::span<const uint8_t>(
                                   reinterpret_cast<const uint8_t*>(blob->data() + 32), 8));
  return {d};
}

std::vector<Discovery> examine_cosign(std::string_view content, Secrets& secrets) {
  for (const PemBlock& block : pem_blocks(content)) {
    if (block.label != "ENCRYPTED COSIGN PRIVATE KEY" &&
        block.label != "ENCRYPTED SIGSTORE PRIVATE KEY") {
      continue;
    }
    Discovery d = signing_material("cosign-key", "sigstore signing");
    d.protection = "passphrase";
    d.detail = "encrypted (cosign also accepts an empty password, which is not tried)";
    d.fingerprint = secrets.fingerprint(block.der);
    return {d};
  }
  return {unparsed("signing", "not a cosign key")};
}

namespace {

std::string utf16be(std::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    out.push_back('\0');
    out.push_back(c);
  }
  return out;
}

std::string sha1_of(std::string_view a, std::string_view b) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &length) != 1) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(out), length);
}

// Sun's JKS key protector: the key XORed with a SHA-1 stream of password and salt, followed by
// SHA-1(password, key). Returns the PKCS#8 key when `password` opens it.
std::optional<std::string> jks_unprotect(std::string_view protected_key,
                                         std::string_view password) {
  if (protected_key.size() < 41) return std::nullopt;
  const std::string pw = utf16be(password);
  const std::string_view salt = protected_key.substr(0, 20);
  const std::string_view encrypted = protected_key.substr(20, protected_key.size() - 40);
  const std::string_view check = protected_key.substr(protected_key.size() - 20);
  std::string plain(encrypted);
  std::string digest(salt);
  for (size_t i = 0; i < plain.size(); i += 20) {
    digest = sha1_of(pw, digest);
    for (size_t j = 0; j < 20 && i + j < plain.size(); ++j) plain[i + j] ^= digest[j];
  }
  if (sha1_of(pw, plain) != check) return std::nullopt;
  return plain;
}

}  // namespace

std::vector<Discovery> examine_java_keystore(std::string_view path, std::string_view content) {
  if (!content.starts_with("\xfe\xed\xfe\xed") && !content.starts_with("\xce\xce\xce\xce")) {
    return examine_pkcs12(content, true);  // keytool writes PKCS#12 since Java 9
  }
  const bool jceks = content.starts_with("\xce");
  if (content.size() < 32) return {unparsed("signing", "truncated Java keystore")};
  Discovery d = signing_material("java-keystore", "Java keystore");
  d.holds_secret = false;
  d.protection = "not-applicable";
  d.fingerprint = "file-sha256:" + hex_sha256(content);
  // The store's integrity digest: SHA-1(password as UTF-16BE, "Mighty Aphrodite", contents).
  const std::string_view body = content.substr(0, content.size() - 20);
  const std::string_view stored = content.substr(content.size() - 20);
  std::optional<std::string> store_password;
  for (std::string_view candidate : kDefaultKeystorePasswords) {
    if (sha1_of(utf16be(candidate) + "Mighty Aphrodite", body) == stored) {
      store_password = std::string(candidate);
      break;
    }
  }
  ByteReader reader(content.data(), body.size());
  auto version = reader.read_be<uint32_t>(4);
  auto count = reader.read_be<uint32_t>(8);
  if (!version || !count || (*version != 1 && *version != 2)) {
    return {unparsed("signing", "not a Java keystore this reader knows")};
  }
  uint64_t pos = 12;
  const auto read_utf = [&]() -> std::optional<std::string> {
    auto length = reader.read_be<uint16_t>(pos);
    if (!length) return std::nullopt;
    auto bytes = reader.bytes(pos + 2, *length);
    if (!bytes) return std::nullopt;
    pos += 2 + *length;
    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  };
  const auto read_block = [&]() -> std::optional<std::string> {
    auto length = reader.read_be<uint32_t>(pos);
    if (!length) return std::nullopt;
    auto bytes = reader.bytes(pos + 4, *length);
    if (!bytes) return std::nullopt;
    pos += 4 + uint64_t{*length};
    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  };
  size_t keys = 0;
  size_t opened = 0;
  std::string opened_with;
  bool complete = true;
  constexpr uint32_t kMaxEntries = 4096;
  for (uint32_t i = 0; i < std::min(*count, kMaxEntries) && complete; ++i) {
    auto tag = reader.read_be<uint32_t>(pos);
    pos += 4;
    auto alias = read_utf();
    pos += 8;  // creation time
    if (!tag || !alias) {
      complete = false;
      break;
    }
    if (*tag == 1) {
      ++keys;
      auto protected_key = read_block();
      auto chain = reader.read_be<uint32_t>(pos);
      pos += 4;
      if (!protected_key || !chain) {
        complete = false;
        break;
      }
      X509Ptr first_cert(nullptr, X509_free);
      for (uint32_t c = 0; c < std::min(*chain, kMaxEntries); ++c) {
        if (*version == 2 && !read_utf()) complete = false;
        auto der = read_block();
        if (!der) complete = false;
        if (!complete) break;
        if (c == 0) first_cert = cert_from_der(*der);
      }
      // The EncryptedPrivateKeyInfo's octet string holds the protected key.
      const auto* p = reinterpret_cast<const unsigned char*>(protected_key->data());
      std::unique_ptr<X509_SIG, decltype(&X509_SIG_free)> info(
          d2i_X509_SIG(nullptr, &p, static_cast<long>(protected_key->size())), X509_SIG_free);
      if (info && !jceks) {
        const X509_ALGOR* algorithm = nullptr;
        const ASN1_OCTET_STRING* data = nullptr;
        X509_SIG_get0(info.get(), &algorithm, &data);
        const std::string_view blob(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                                    static_cast<size_t>(ASN1_STRING_length(data)));
        for (std::string_view candidate : kDefaultKeystorePasswords) {
          if (auto pkcs8 = jks_unprotect(blob, candidate)) {
            ++opened;
            opened_with = std::string(candidate);
            if (PkeyPtr key = private_key_from_der(*pkcs8);
                key && d.fingerprint.starts_with("file")) {
              if (auto spki = spki_der(key.get())) {
                d.fingerprint = "spki-sha256:" + hex_sha256(*spki);
              }
            }
            OPENSSL_cleanse(pkcs8->data(), pkcs8->size());
            break;
          }
        }
      }
      if (first_cert && d.target == "Java keystore") {
        d.target = subject_text(first_cert.get());
        const bool has_eku = (X509_get_extension_flags(first_cert.get()) & EXFLAG_XKUSAGE) != 0;
        // A certificate for TLS is not code signing; one without usages (Android's, keytool's
        // default) signs what it is used for.
        if (has_eku && !has_code_signing_eku(first_cert.get())) d.signing = false;
        if (base_name_of(path) == "debug.keystore") d.signing = false;
      }
    } else if (*tag == 2) {
      if (*version == 2 && !read_utf()) complete = false;
      if (!read_block()) complete = false;
    } else {
      // A JCEKS secret-key entry is a serialised Java object of no stated length: stop here.
      complete = false;
    }
  }
  d.detail = std::string(jceks ? "JCEKS" : "JKS") + " keystore, " + std::to_string(*count) +
             " entries, " + std::to_string(keys) + " private key" + (keys == 1 ? "" : "s");
  if (keys > 0) {
    d.holds_secret = true;
    d.protection = "passphrase";
  }
  if (store_password) {
    d.detail += "; the store opens with the default password \"" + *store_password + "\"";
  }
  if (opened > 0) {
    d.protection = "none";
    d.detail += "; a private key opens with the default password \"" + opened_with + "\"";
  } else if (keys > 0 && jceks && store_password) {
    d.protection = "unknown";
    d.detail += "; JCEKS key passwords are not checked";
  }
  if (!complete && keys == 0 && !store_password) {
    return {unparsed("signing", "a Java keystore that could not be read to the end")};
  }
  if (!d.signing) {
    d.category = "key";
    d.kind = "java-keystore";
  }
  return {d};
}

std::vector<Discovery> examine_putty(std::string_view content) {
  // "PuTTY-User-Key-File-3: ssh-ed25519", "Encryption: none", "Comment: ...",
  // "Public-Lines: N" and N lines of base64 of the public blob.
  std::string type, encryption, comment, public_base64;
  size_t public_lines = 0;
  TrimmedLines lines(content);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    if (public_lines > 0) {
      public_base64.append(line);
      --public_lines;
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view key = line.substr(0, colon);
    const std::string_view value = trim_space(line.substr(colon + 1));
    if (key.starts_with("PuTTY-User-Key-File-")) type = std::string(value);
    if (key == "Encryption") encryption = std::string(value);
    if (key == "Comment") comment = std::string(value);
    if (key == "Public-Lines") {
      size_t n = 0;
      for (char c : value)
        n = c >= '0' && c <= '9' && n < 1000 ? n * 10 + static_cast<size_t>(c - '0') : 1000;
      public_lines = n;
      if (n >= 1000) return {unparsed("ssh", "a PuTTY key with a malformed Public-Lines")};
    }
    if (key == "Private-Lines") break;
  }
  auto blob = base64_decode(public_base64);
  if (type.empty() || encryption.empty() || !blob || blob->empty()) {
    return {unparsed("ssh", "not a PuTTY private key")};
  }
  Discovery d;
  d.kind = "ssh-private-key";
  d.category = "ssh";
  d.holds_secret = true;
  d.account = comment;
  bool hardware = false;
  d.detail = ssh_key_type(*blob, &hardware) + "; PuTTY key";
  d.fingerprint = ssh_base64_sha256(*blob);
  d.protection = encryption == "none" ? "none" : "passphrase";
  if (encryption != "none") d.detail += "; " + encryption;
  return {d};
}

}  // namespace catena::access
