#include "catena/trust/keys.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {

Runner register_key(CLI::App& app) {
  CLI::App* group =
      app.add_subcommand("key", "Signing keys for exported baselines and attestations");
  group->require_subcommand(1);
  struct Options {
    std::string out;
    std::string type = "ed25519";
    std::string public_key;
    bool intoto = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* generate =
      group->add_subcommand("generate", "Write a key pair: NAME (private, mode 0600) and NAME.pub");
  generate->add_option("--out", options->out, "NAME of the files")->required();
  generate->add_option("--type", options->type, "ed25519 (default) or ecdsa (P-256)")
      ->check(CLI::IsMember({"ed25519", "ecdsa"}));
  CLI::App* id = group->add_subcommand(
      "id", "Print a public key's id (SHA-256 of its DER SubjectPublicKeyInfo)");
  id->add_option("key", options->public_key,
                 "Public key: PEM, or a securesystemslib JSON key (in-toto-keygen)")
      ->required();
  id->add_flag("--intoto", options->intoto,
               "Print the in-toto (securesystemslib) key id instead, as links and layouts use");
  return [group, generate, id, options]() -> int {
    if (!group->parsed()) return -1;
    if (generate->parsed()) {
      const auto type =
          options->type == "ecdsa" ? trust::KeyType::EcdsaP256 : trust::KeyType::Ed25519;
      if (auto made = trust::generate_key_files(options->out, type); !made)
        return fail(made.error());
      auto key = trust::VerifyingKey::load(options->out + ".pub");
      if (!key) return fail(key.error());
      std::printf("%s\n", key->key_id().c_str());
      return kExitOk;
    }
    if (id->parsed()) {
      auto key = trust::VerifyingKey::load(options->public_key);
      if (!key) return fail(key.error());
      std::printf("%s\n", options->intoto ? key->sslib().keyid.c_str() : key->key_id().c_str());
      return kExitOk;
    }
    return -1;
  };
}

}  // namespace catena::cli
