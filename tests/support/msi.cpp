#include "support/msi.hpp"

#include "support/run.hpp"

namespace catena::test {
namespace {

// A product of one component holding one file (`id` is its MSI file key, and so its name in the
// embedded cabinet), built by wixl in `dir`.
bool write_and_build(TempDir& dir,
                     const std::string& name,
                     const std::string& comments,
                     const std::string& id,
                     const std::string& source) {
  dir.write(name + ".wxs",
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            "<Wix xmlns=\"http://schemas.microsoft.com/wix/2006/wi\">\n"
            " <Product Id=\"12345678-1234-1234-1234-123456789011\" Name=\"Catena Test\" "
            "Language=\"1033\" Version=\"1.0.0\" Manufacturer=\"Catena Tests\" "
            "UpgradeCode=\"12345678-1234-1234-1234-123456789012\">\n"
            "  <Package InstallerVersion=\"200\" Compressed=\"yes\" Comments=\"" +
                comments +
                "\"/>\n"
                "  <Media Id=\"1\" Cabinet=\"data.cab\" EmbedCab=\"yes\"/>\n"
                "  <Directory Id=\"TARGETDIR\" Name=\"SourceDir\">\n"
                "   <Directory Id=\"ProgramFilesFolder\">\n"
                "    <Directory Id=\"INSTALLDIR\" Name=\"CatenaTest\">\n"
                "     <Component Id=\"Main\" Guid=\"12345678-1234-1234-1234-123456789013\">\n"
                "      <File Id=\"" +
                id + "\" Source=\"" + source +
                "\"/>\n"
                "     </Component>\n"
                "    </Directory>\n"
                "   </Directory>\n"
                "  </Directory>\n"
                "  <Feature Id=\"Complete\" Level=\"1\"><ComponentRef Id=\"Main\"/></Feature>\n"
                " </Product>\n"
                "</Wix>\n");
  // wixl finds sources relative to its working directory. TempDir paths need no quoting.
  return run_command({"sh", "-c",
                      "cd '" + dir.path() + "' && wixl -o '" + name + ".msi' '" + name + ".wxs'"})
             .exit_code == 0;
}

}  // namespace

bool build_test_msi(TempDir& dir, const std::string& name, const std::string& comments) {
  return build_test_msi(dir, name, comments, 0);
}

bool build_test_msi(TempDir& dir,
                    const std::string& name,
                    const std::string& comments,
                    size_t payload_bytes) {
  std::string payload = std::string(6000, 'x') + "catena test payload\n";
  // xorshift: incompressible, the same every run.
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  payload.reserve(payload.size() + payload_bytes);
  for (size_t i = 0; i < payload_bytes; ++i) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    payload.push_back(static_cast<char>(state & 0xff));
  }
  dir.write("tool.txt", payload);
  return write_and_build(dir, name, comments, "tool", "tool.txt");
}

bool build_msi_of(TempDir& dir, const std::string& name, const std::string& file) {
  return write_and_build(dir, name, "", file, file);
}

bool build_msi_of(TempDir& dir,
                  const std::string& name,
                  const std::string& file,
                  const std::string& key) {
  return write_and_build(dir, name, "", key, file);
}

bool make_test_signer(TempDir& dir) {
  return run_command({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                      dir / "signer.key", "-out", dir / "signer.pem", "-days", "30", "-subj",
                      "/CN=Catena Test Signer", "-addext", "extendedKeyUsage=codeSigning"})
             .exit_code == 0;
}

}  // namespace catena::test
