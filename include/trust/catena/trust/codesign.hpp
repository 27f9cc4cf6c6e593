#pragma once
/// Mach-O code signatures (Apple's embedded signature), verified on any platform: every
/// CodeDirectory's code-page hashes against the slice, the hashes of the requirements and
/// entitlements it covers, and the CMS signature over the CodeDirectory with its signer's chain.
///
///   CATENA_TRY(formats::MachoInfo macho, formats::parse_macho(bytes));
///   std::vector<Signature> sigs = verify_macho(bytes, macho, store);  // one per signed slice
///
/// An ad-hoc signature (hashes, no CMS) proves integrity only: `adhoc` is set and its chain is
/// `untrusted`. Hashes of files outside the binary (Info.plist, CodeResources of a bundle) cannot
/// be checked from the binary alone and are not reported as mismatches.
#include <span>
#include <vector>

#include "catena/formats/dmg.hpp"
#include "catena/formats/elf.hpp"
#include "catena/formats/macho.hpp"
#include "catena/trust/authenticode.hpp"

namespace catena::trust {

std::vector<Signature> verify_macho(std::span<const std::byte> file,
                                    const formats::MachoInfo& macho,
                                    const TrustStore& store);

/// An Apple disk image's code signature (see formats/dmg.hpp): the CodeDirectory's one code hash
/// over the image up to the signature, its special slot 6 over the trailer, and the CMS
/// signature, as for a Mach-O. Empty when the image is not signed. Bytes between the signature
/// and the trailer are `uncovered`.
std::vector<Signature> verify_dmg(std::span<const std::byte> file,
                                  const formats::DmgInfo& dmg,
                                  const TrustStore& store);

/// A Linux kernel module's appended signature: PKCS#7 over the module's bytes before it, as
/// scripts/sign-file writes it. Such a signature carries no certificate (the kernel's keyring
/// holds it): the signer is looked up by issuer and serial among the trust store's certificates
/// (`--trust` the signing certificate). Without it the signature cannot be checked, and the
/// result says so (`verifiable` false) instead of calling it valid or invalid.
std::vector<Signature> verify_module_signature(std::span<const std::byte> file,
                                               const formats::ElfInfo& elf,
                                               const TrustStore& store);

}  // namespace catena::trust
