#pragma once
// The real-world test data scripts/fetch-test-data.sh caches, and reading files whole.
#include <string>

namespace catena::test {

/// $CATENA_TEST_CACHE, else ~/.cache/catena-test-data.
std::string cache_dir();

/// Validates a SARIF file against the cached SARIF 2.1.0 schema (python3-jsonschema): the
/// validation errors, one per line; "missing schema ..." when the schema is not cached.
std::string sarif_schema_errors(const std::string& sarif_path);

/// Validates an SBOM against the official JSON schema kept in tests/data/schemas
/// ("bom-1.6.schema.json", "spdx-2.3.schema.json"): the errors, one per line.
std::string sbom_schema_errors(const std::string& document_path, const std::string& schema);

/// The whole file; empty when it cannot be read.
std::string read_file(const std::string& path);

}  // namespace catena::test
