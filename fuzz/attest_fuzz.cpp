// Provenance and in-toto inputs: DSSE envelopes, Statements, policies, GPG keys, and in-toto
// layouts, read as they are (a metablock or an envelope) and, when the input is a JSON object,
// signed on the fly as a layout's "signed" part so that the layout parser and rule unpacking
// are reached, not only the signature check.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "../src/attest/strict_json.hpp"
#include "catena/attest/artifacts.hpp"
#include "catena/attest/intoto.hpp"
#include "catena/attest/provenance.hpp"
#include "catena/core/digest.hpp"
#include "catena/trust/dsse.hpp"
#include "catena/trust/openpgp.hpp"

namespace {

struct Fixture {
  std::string dir;
  std::optional<catena::trust::SigningKey> key;
  std::optional<catena::trust::VerifyingKey> pub;
  Fixture() {
    char pattern[] = "/tmp/catena-attest-fuzz-XXXXXX";
    dir = ::mkdtemp(pattern);
    (void)catena::trust::generate_key_files(dir + "/k", catena::trust::KeyType::Ed25519);
    if (auto k = catena::trust::SigningKey::load(dir + "/k")) key = *k;
    if (auto p = catena::trust::VerifyingKey::load(dir + "/k.pub")) pub = *p;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture fixture;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)catena::attest::parse_provenance(text);
  (void)catena::attest::parse_policy(text);
  if (fixture.pub)
    (void)catena::trust::dsse_open(text, "application/vnd.in-toto+json", {*fixture.pub});
  const size_t split = text.find('\n');
  if (split != std::string_view::npos) {
    (void)catena::attest::fnmatch_python(text.substr(0, split), text.substr(split + 1));
  }
  (void)catena::attest::normpath(text);
  (void)catena::trust::GpgKey::from_json(text);
  // The input itself as the root layout: metablocks, DSSE envelopes and GPG signatures are
  // parsed before any signature can fail.
  if (fixture.pub) {
    const std::string raw = fixture.dir + "/raw.layout";
    std::ofstream(raw, std::ios::trunc) << text;
    catena::attest::IntotoVerifyOptions raw_options{
        .layout_path = raw, .layout_keys = {*fixture.pub}, .link_dir = fixture.dir};
    (void)catena::attest::verify_intoto(raw_options);
  }
  auto doc = catena::attest::parse_strict_json(text);
  if (!doc || !doc->is_object() || !fixture.key) return 0;
  auto canonical = catena::attest::canonical_json(*doc);
  if (!canonical) return 0;
  auto sig = fixture.key->sign(*canonical);
  if (!sig) return 0;
  const nlohmann::json layout = {
      {"signed", *doc},
      {"signatures",
       {{{"keyid", fixture.key->sslib().keyid},
         {"sig", catena::to_hex(
                     std::span(reinterpret_cast<const uint8_t*>(sig->data()), sig->size()))}}}}};
  const std::string path = fixture.dir + "/root.layout";
  std::ofstream(path, std::ios::trunc) << layout.dump();
  catena::attest::IntotoVerifyOptions options{
      .layout_path = path, .layout_keys = {*fixture.pub}, .link_dir = fixture.dir};
  (void)catena::attest::verify_intoto(options);
  return 0;
}
