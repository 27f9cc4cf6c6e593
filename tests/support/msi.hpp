#pragma once
// Test MSI installers built with msitools' wixl, and a test code-signing certificate to sign them
// with osslsigncode.
#include <string>

#include "support/tree.hpp"

namespace catena::test {

/// Writes `name`.msi into `dir` (a product with one file and the given comments); false when
/// wixl is missing or fails.
bool build_test_msi(TempDir& dir, const std::string& name, const std::string& comments);
/// The same with a payload of `payload_bytes` incompressible bytes, so the MSI is at least that
/// large (wixl puts the directory, and the CLSID that says "MSI", after the payload).
bool build_test_msi(TempDir& dir,
                    const std::string& name,
                    const std::string& comments,
                    size_t payload_bytes);

/// Writes `name`.msi into `dir`: a product installing `file` (a file name in `dir`, which is
/// also its MSI file key and so its name in the embedded cabinet).
bool build_msi_of(TempDir& dir, const std::string& name, const std::string& file);
/// The same with another file key (as WiX generates them, "filE3A1C0"): the cabinet names the
/// file by the key, the File table by `file`.
bool build_msi_of(TempDir& dir,
                  const std::string& name,
                  const std::string& file,
                  const std::string& key);

/// Writes signer.pem/signer.key into `dir`: a self-signed certificate for code signing.
bool make_test_signer(TempDir& dir);

}  // namespace catena::test
