#pragma once
// Private keys and signing material: what kind, whether a passphrase protects it, and a public
// fingerprint. Nothing here keeps or returns secret bytes.
#include <string>
#include <string_view>
#include <vector>

#include "catena/access/access.hpp"
#include "secrets.hpp"

namespace catena::access {

/// A discovery of `kind` that could not be read, with the reason in `detail`.
Discovery unparsed(std::string_view kind, std::string reason);

/// An OpenSSH private key ("BEGIN OPENSSH PRIVATE KEY") or a PEM key under ~/.ssh.
/// `comment` comes from the matching .pub file, if any.
std::vector<Discovery> examine_ssh_key(std::string_view content, std::string_view comment);
/// PEM text: private keys (PKCS#1, SEC1, PKCS#8, encrypted PKCS#8) and certificates; a key is
/// code-signing material when a certificate in the file (or `sibling_certs`) has the
/// code-signing EKU and matches it, or when no certificate is present and `signing_hint` says
/// the file is named for signing.
std::vector<Discovery> examine_pem(std::string_view content,
                                   std::string_view sibling_certs,
                                   bool signing_hint);
/// A PKCS#12 file (also a keystore keytool wrote). It is unprotected when it opens with no
/// password or a default one ("android", "changeit", ...). `signing_hint`: the file is named
/// for signing, so a certificate without extended key usage counts as code signing.
std::vector<Discovery> examine_pkcs12(std::string_view content, bool signing_hint);
/// A Java keystore (JKS or JCEKS; PKCS#12 ones go to examine_pkcs12): whether the store's
/// integrity password and each private key's password is empty or a default.
std::vector<Discovery> examine_java_keystore(std::string_view path, std::string_view content);
/// A PuTTY private key (.ppk, versions 2 and 3).
std::vector<Discovery> examine_putty(std::string_view content);
/// A GnuPG 2.1+ key file from private-keys-v1.d (`name` is its keygrip file name).
std::vector<Discovery> examine_gpg_keyfile(std::string_view name, std::string_view content);
/// An ASCII-armored OpenPGP secret key export, or a binary secret keyring (secring.gpg).
std::vector<Discovery> examine_openpgp(std::string_view content);
std::vector<Discovery> examine_minisign(std::string_view content, Secrets& secrets);
std::vector<Discovery> examine_signify(std::string_view content);
/// cosign/sigstore encrypted keys ("BEGIN ENCRYPTED COSIGN PRIVATE KEY").
std::vector<Discovery> examine_cosign(std::string_view content, Secrets& secrets);

bool looks_like_pem_private_key(std::string_view content);

}  // namespace catena::access
