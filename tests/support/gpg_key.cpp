#include "support/gpg_key.hpp"

#include <sys/stat.h>

#include <fstream>

#include "support/run.hpp"

namespace catena::test {

GpgKey::GpgKey(const std::string& uid) {
  ::chmod(home_.path().c_str(), 0700);
  ok_ = run_command({"gpg", "--homedir", home_.path(), "--batch", "--pinentry-mode", "loopback",
                     "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"})
                .exit_code == 0 &&
        run_command({"gpg", "--homedir", home_.path(), "--batch", "--export", "-o", keyring()})
                .exit_code == 0;
  const RunResult listed =
      run_command({"gpg", "--homedir", home_.path(), "--batch", "--with-colons", "--list-keys"});
  const size_t fpr = listed.out.find("\nfpr:");
  if (fpr != std::string::npos) {
    const size_t start = listed.out.find_first_not_of(':', fpr + 5);
    fingerprint_ = listed.out.substr(start, listed.out.find(':', start) - start);
  }
}

std::string GpgKey::sign_file(const std::string& in, const std::string& out) const {
  const RunResult r = run_command(
      {"gpg", "--homedir", home_.path(), "--batch", "--yes", "--clearsign", "-o", out, in});
  return r.exit_code == 0 ? "" : r.err;
}

std::string GpgKey::sign_text(const std::string& text, const std::string& out) const {
  const std::string in = home_ / "Release";
  std::ofstream(in, std::ios::binary) << text;
  return sign_file(in, out);
}

}  // namespace catena::test
