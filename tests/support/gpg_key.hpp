#pragma once
// A throwaway OpenPGP signing key made by the real gpg in its own home, for archives signed as
// Debian signs its own.
#include <string>

#include "support/tree.hpp"

namespace catena::test {

class GpgKey {
 public:
  /// An ed25519 signing key for `uid`, exported as a binary keyring.
  explicit GpgKey(const std::string& uid);
  /// Both made, and the fingerprint read back.
  bool ok() const { return ok_ && fingerprint_.size() == 40; }
  std::string keyring() const { return home_ / "keyring.gpg"; }
  const std::string& fingerprint() const { return fingerprint_; }
  /// Clear-signs the file `in` into `out`; gpg's complaint, or empty.
  std::string sign_file(const std::string& in, const std::string& out) const;
  /// Clear-signs `text` into `out`; gpg's complaint, or empty.
  std::string sign_text(const std::string& text, const std::string& out) const;

 private:
  TempDir home_;
  bool ok_ = false;
  std::string fingerprint_;
};

}  // namespace catena::test
