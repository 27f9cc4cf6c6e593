#include "provenance_store.hpp"

#include "catena/attest/provenance.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/time.hpp"

namespace catena::cli {

Result<int64_t> store_attestation(store::Store& store,
                                  std::string_view envelope,
                                  std::string_view statement,
                                  const std::string& source) {
  CATENA_TRY(attest::Provenance provenance, attest::parse_provenance(statement));
  attest::AttestationRecord record{.envelope_sha256 = sha256_of(std::as_bytes(std::span(envelope))),
                                   .host = provenance.host,
                                   .builder_id = provenance.builder_id,
                                   .step = provenance.step,
                                   .started_ns = provenance.started_ns,
                                   .finished_ns = provenance.finished_ns,
                                   .exit_code = provenance.exit_code,
                                   .stored_ns = now_ns(),
                                   .source = source};
  const auto add = [&](const std::string& role, const std::string& name, const std::string& hex) {
    auto digest = sha256_from_hex(hex);
    if (digest) record.digests.push_back({*digest, role, name});
  };
  for (const auto& [name, hex] : provenance.subjects) add("subject", name, hex);
  for (const auto& [name, hex] : provenance.materials) add("material", name, hex);
  for (const auto& tool : provenance.tools) add("tool", tool.path, tool.sha256);
  for (const auto& [name, hex] : provenance.libraries) add("library", name, hex);
  return store.put_attestation(record, envelope);
}

}  // namespace catena::cli
