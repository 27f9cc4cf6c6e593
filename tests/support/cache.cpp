#include "support/cache.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "support/run.hpp"

namespace catena::test {

std::string cache_dir() {
  const char* env = std::getenv("CATENA_TEST_CACHE");
  if (env != nullptr && *env != '\0') return env;
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : "") + "/.cache/catena-test-data";
}

std::string sarif_schema_errors(const std::string& sarif_path) {
  const std::string schema = cache_dir() + "/sarif-2.1.0.json";
  if (::access(schema.c_str(), R_OK) != 0) {
    return "missing schema " + schema + ": run scripts/fetch-test-data.sh";
  }
  const RunResult check =
      run_command({"/usr/bin/python3", "-c",
                   "import json,sys,jsonschema\n"
                   "schema=json.load(open(sys.argv[1])); doc=json.load(open(sys.argv[2]))\n"
                   "v=jsonschema.validators.validator_for(schema)(schema)\n"
                   "print('\\n'.join(e.message for e in v.iter_errors(doc)), end='')\n",
                   schema, sarif_path});
  if (check.exit_code != 0) return "validator failed: " + check.err;
  return check.out;
}

std::string sbom_schema_errors(const std::string& document_path, const std::string& schema) {
  // The schemas' own references (CycloneDX to its SPDX license list and JSF) resolve to the
  // copies beside them, never to the network.
  const RunResult check = run_command(
      {"/usr/bin/python3", "-c",
       "import json, os, sys, jsonschema\n"
       "folder, name, path = sys.argv[1:4]\n"
       "store = {}\n"
       "for n in os.listdir(folder):\n"
       "    if n.endswith('.json'):\n"
       "        s = json.load(open(os.path.join(folder, n)))\n"
       "        store[s.get('$id', n)] = s\n"
       "        store['http://cyclonedx.org/schema/' + n] = s\n"
       "schema = json.load(open(os.path.join(folder, name)))\n"
       "cls = jsonschema.validators.validator_for(schema)\n"
       "checker = getattr(cls, 'FORMAT_CHECKER', None) or jsonschema.draft7_format_checker\n"
       "v = cls(schema, resolver=jsonschema.RefResolver.from_schema(schema, store=store),\n"
       "        format_checker=checker)\n"
       "print('\\n'.join(e.message for e in v.iter_errors(json.load(open(path)))), end='')\n",
       std::string(CATENA_SOURCE_DIR) + "/tests/data/schemas", schema, document_path});
  if (check.exit_code != 0) return "validator failed: " + check.err;
  return check.out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::string out(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

}  // namespace catena::test
