#include "catena/attest/provenance.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <set>

#include "catena/attest/artifacts.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/rules.hpp"
#include "catena/core/time.hpp"
#include "catena/trust/dsse.hpp"
#include "strict_json.hpp"

namespace catena::attest {
namespace {

using nlohmann::json;

std::string hex_of(std::string_view bytes) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

// Artifacts as ResourceDescriptors; a path JSON cannot carry goes to `unrecorded`, hex-encoded.
void add_descriptors(const Artifacts& artifacts,
                     const char* kind,
                     json& list,
                     std::vector<std::string>& unrecorded) {
  for (const auto& [path, hashes] : artifacts) {
    if (!is_utf8(path)) {
      unrecorded.push_back(std::string(kind) + " path-hex:" + hex_of(path));
      continue;
    }
    json digest = json::object();
    for (const auto& [algorithm, value] : hashes) digest[algorithm] = value;
    json entry = {{"name", path}, {"digest", digest}};
    if (kind != std::string_view("product")) entry["annotations"] = {{"kind", kind}};
    list.push_back(std::move(entry));
  }
}

std::optional<int64_t> parse_time(const json& object, const char* name) {
  return parse_rfc3339(string_member(object, name));
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

// A name JSON can carry, or "path-hex:" and its bytes: what ran is recorded with its digest
// whatever its name, so that a policy applies to it.
std::string json_name(const std::string& path) {
  return is_utf8(path) ? path : "path-hex:" + hex_of(path);
}

// A resource: by file URI when its name is text, by name and digest alone otherwise.
json resource(const std::string& path, json annotations) {
  json entry = {{"name", json_name(path)}, {"annotations", std::move(annotations)}};
  if (is_utf8(path)) entry["uri"] = "file://" + path;
  return entry;
}

// Why the record of what the build ran is not whole; empty when it is.
std::vector<std::string> incompleteness(const TraceResult& trace) {
  std::vector<std::string> out;
  if (!trace.traced) out.push_back("the build was not traced: " + trace.trace_error);
  out.insert(out.end(), trace.incomplete.begin(), trace.incomplete.end());
  for (const TracedExec& exec : trace.execs) {
    if (exec.sha256.empty()) {
      out.push_back("tool " + json_name(exec.path) + " (pid " + std::to_string(exec.pid) +
                    "): no digest" + (exec.error.empty() ? "" : " (" + exec.error + ")"));
    }
  }
  for (const TracedLibrary& library : trace.libraries) {
    if (library.sha256.empty()) out.push_back("library " + json_name(library.path) + ": no digest");
  }
  if (!trace.left_running.empty() && trace.left_running_action == LeftRunning::Detach) {
    out.push_back(std::to_string(trace.left_running.size()) +
                  " process(es) left running after the build: what they run next is not "
                  "recorded");
  }
  return out;
}

Result<std::string> build_statement(const AttestInput& input) {
  std::vector<std::string> unrecorded;
  json subjects = json::array();
  add_descriptors(input.products.artifacts, "product", subjects, unrecorded);
  json dependencies = json::array();
  add_descriptors(input.materials.artifacts, "material", dependencies, unrecorded);
  for (const TracedExec& exec : input.trace.execs) {
    json annotations = {{"kind", "tool"},
                        {"argv0", json_name(exec.argv0)},
                        {"pid", exec.pid},
                        {"parentPid", exec.parent_pid},
                        {"time", format_rfc3339(exec.time_ns)}};
    if (!exec.interpreter.empty()) annotations["interpreter"] = json_name(exec.interpreter);
    if (const auto owner = input.tool_packages.find({exec.path, exec.sha256});
        owner != input.tool_packages.end()) {
      if (!owner->second.package.empty()) annotations["package"] = owner->second.package;
      if (!owner->second.problem.empty()) annotations["packageProblem"] = owner->second.problem;
    }
    if (!exec.error.empty()) annotations["error"] = exec.error;
    json entry = resource(exec.path, std::move(annotations));
    if (!exec.sha256.empty()) entry["digest"] = {{"sha256", exec.sha256}};
    dependencies.push_back(std::move(entry));
    if (exec.script.empty()) continue;
    json script =
        resource(exec.script,
                 {{"kind", "script"}, {"pid", exec.pid}, {"interpreter", json_name(exec.path)}});
    if (!exec.script_sha256.empty()) script["digest"] = {{"sha256", exec.script_sha256}};
    dependencies.push_back(std::move(script));
  }
  for (const TracedLibrary& library : input.trace.libraries) {
    json entry = resource(library.path, {{"kind", "library"}});
    if (!library.sha256.empty()) entry["digest"] = {{"sha256", library.sha256}};
    dependencies.push_back(std::move(entry));
  }
  for (const std::string& error : input.materials.errors) unrecorded.push_back("material " + error);
  for (const std::string& error : input.products.errors) unrecorded.push_back("product " + error);

  json environment = json::object();
  for (const std::string& name : input.environment_names) {
    const auto value = input.environment_values.find(name);
    environment[name] =
        value != input.environment_values.end() ? json(value->second) : json(nullptr);
  }
  json trace = {{"traced", input.trace.traced},
                {"processes", input.trace.processes},
                {"executions", input.trace.execs.size()}};
  if (!input.trace.trace_error.empty()) trace["reason"] = input.trace.trace_error;
  if (!input.trace.left_running.empty()) {
    trace["leftRunning"] = input.trace.left_running;
    trace["leftRunningAction"] = input.trace.left_running_action == LeftRunning::Kill ? "killed"
                                 : input.trace.left_running_action == LeftRunning::Wait
                                     ? "traced to their end"
                                     : "detached";
  }
  const std::vector<std::string> missing = incompleteness(input.trace);
  trace["complete"] = missing.empty();
  if (!missing.empty()) {
    json reasons = json::array();
    for (const std::string& reason : missing) reasons.push_back(json_name(reason));
    trace["incomplete"] = std::move(reasons);
  }
  if (!input.trace.refused.empty()) {
    json refused = json::array();
    for (const std::string& attempt : input.trace.refused) refused.push_back(json_name(attempt));
    trace["refused"] = std::move(refused);
  }
  json result = {{"exitCode", input.trace.exit_code}};
  if (input.trace.signal != 0) result["signal"] = input.trace.signal;
  if (!input.trace.start_error.empty()) result["startError"] = input.trace.start_error;
  json host = {{"hostname", input.host}};
  if (input.last_scan) {
    host["lastScan"] = {{"id", input.last_scan->id},
                        {"digest", {{"sha256", input.last_scan->digest}}},
                        {"startedOn", format_rfc3339(input.last_scan->started_ns)}};
  }
  json byproducts = json::array({
      {{"name", "result"}, {"annotations", result}},
      {{"name", "trace"}, {"annotations", trace}},
      {{"name", "host"}, {"annotations", host}},
  });
  if (!unrecorded.empty()) {
    byproducts.push_back({{"name", "unrecorded"}, {"annotations", {{"entries", unrecorded}}}});
  }
  for (const std::string& arg : input.command) {
    if (!is_utf8(arg)) return make_error(ErrorCode::Unsupported, "a command argument is not UTF-8");
  }
  for (const std::string& text :
       {input.step, input.working_directory, input.host, input.builder_id}) {
    if (!is_utf8(text))
      return make_error(ErrorCode::Unsupported, "a name or path is not UTF-8: " + hex_of(text));
  }
  json statement = {
      {"_type", kStatementType},
      {"subject", subjects},
      {"predicateType", kSlsaProvenanceType},
      {"predicate",
       {{"buildDefinition",
         {{"buildType", kCatenaBuildType},
          {"externalParameters",
           {{"step", input.step},
            {"command", input.command},
            {"workingDirectory", input.working_directory}}},
          {"internalParameters", {{"environment", environment}}},
          {"resolvedDependencies", dependencies}}},
        {"runDetails",
         {{"builder", {{"id", input.builder_id}, {"version", {{"catena", input.catena_version}}}}},
          {"metadata",
           {{"invocationId",
             input.step + "@" + input.host + "/" + std::to_string(input.trace.started_ns)},
            {"startedOn", format_rfc3339(input.trace.started_ns)},
            {"finishedOn", format_rfc3339(input.trace.finished_ns)}}},
          {"byproducts", byproducts}}}}}};
  return statement.dump(2) + "\n";
}

Result<std::string> sign_envelope(const std::string& payload, const trust::SigningKey& key) {
  return trust::dsse_sign(kInTotoPayloadType, payload, key);
}

Result<VerifiedEnvelope> verify_envelope(std::string_view text,
                                         const std::vector<trust::VerifyingKey>& keys) {
  CATENA_TRY(trust::DsseOpened opened, trust::dsse_open(text, kInTotoPayloadType, keys));
  return VerifiedEnvelope{std::move(opened.payload), std::move(opened.verified_by),
                          std::move(opened.problems)};
}

namespace {

// Hex digests compared as numbers: a digest written in upper case is the same digest.
std::string sha256_of_descriptor(const json& descriptor) {
  const auto digest = descriptor.find("digest");
  std::string text = digest != descriptor.end() ? string_member(*digest, "sha256") : "";
  for (char& c : text) c = (c >= 'A' && c <= 'F') ? static_cast<char>(c - 'A' + 'a') : c;
  return text;
}

Result<StatementHead> head_of(const json& statement) {
  if (string_member(statement, "_type") != kStatementType) {
    return make_error(ErrorCode::Parse, "the payload is not an in-toto Statement v1");
  }
  const auto subject = statement.find("subject");
  const auto predicate = statement.find("predicate");
  if (subject == statement.end() || !subject->is_array() || predicate == statement.end() ||
      !predicate->is_object()) {
    return make_error(ErrorCode::Parse, "the Statement lacks subject or predicate");
  }
  StatementHead out{.predicate_type = string_member(statement, "predicateType"), .subjects = {}};
  for (const json& entry : *subject) {
    if (!entry.is_object()) return make_error(ErrorCode::Parse, "a subject is not an object");
    out.subjects.emplace_back(string_member(entry, "name"), sha256_of_descriptor(entry));
  }
  return out;
}

}  // namespace

Result<std::string> make_statement(std::string_view predicate_type,
                                   const std::vector<std::pair<std::string, std::string>>& subjects,
                                   std::string_view predicate_json) {
  CATENA_TRY(json predicate, parse_strict_json(predicate_json));
  if (!predicate.is_object()) return make_error(ErrorCode::Parse, "the predicate is not an object");
  json subject = json::array();
  for (const auto& [name, sha256] : subjects) {
    subject.push_back({{"name", json_name(name)}, {"digest", {{"sha256", sha256}}}});
  }
  const json statement = {{"_type", kStatementType},
                          {"subject", std::move(subject)},
                          {"predicateType", std::string(predicate_type)},
                          {"predicate", std::move(predicate)}};
  return statement.dump(2) + "\n";
}

Result<StatementHead> parse_statement_head(std::string_view statement_text) {
  CATENA_TRY(const json statement, parse_strict_json(statement_text));
  return head_of(statement);
}

Result<Provenance> parse_provenance(std::string_view statement_text) {
  CATENA_TRY(const json statement, parse_strict_json(statement_text));
  CATENA_TRY(StatementHead head, head_of(statement));
  if (head.predicate_type != kSlsaProvenanceType) {
    return make_error(ErrorCode::Parse, "the predicate is not SLSA Provenance v1");
  }
  const auto predicate = statement.find("predicate");
  Provenance out;
  out.subjects = std::move(head.subjects);
  const json empty = json::object();
  const auto member = [&](const json& object, const char* name) -> const json& {
    if (!object.is_object()) return empty;
    const auto it = object.find(name);
    return it != object.end() ? *it : empty;
  };
  const json& definition = member(*predicate, "buildDefinition");
  const json& run = member(*predicate, "runDetails");
  out.build_type = string_member(definition, "buildType");
  out.step = string_member(member(definition, "externalParameters"), "step");
  out.builder_id = string_member(member(run, "builder"), "id");
  if (out.builder_id.empty())
    return make_error(ErrorCode::Parse, "runDetails.builder.id is missing");
  const json& metadata = member(run, "metadata");
  out.started_ns = parse_time(metadata, "startedOn");
  out.finished_ns = parse_time(metadata, "finishedOn");
  const json& dependencies = member(definition, "resolvedDependencies");
  if (dependencies.is_array()) {
    for (const json& entry : dependencies) {
      const json& annotations = member(entry, "annotations");
      const std::string kind = string_member(annotations, "kind");
      std::string name = string_member(entry, "name");
      if (name.empty()) name = string_member(entry, "uri");
      if (kind == "tool" || kind == "script") {
        out.tools.push_back({name, sha256_of_descriptor(entry), string_member(annotations, "argv0"),
                             string_member(annotations, "package")});
      } else if (kind == "library") {
        out.libraries.emplace_back(name, sha256_of_descriptor(entry));
      } else {
        out.materials.emplace_back(name, sha256_of_descriptor(entry));
      }
    }
  }
  const json& byproducts = member(run, "byproducts");
  if (byproducts.is_array()) {
    for (const json& entry : byproducts) {
      const std::string name = string_member(entry, "name");
      const json& annotations = member(entry, "annotations");
      if (name == "result" && annotations.contains("exitCode") &&
          annotations["exitCode"].is_number_integer()) {
        out.exit_code = annotations["exitCode"].get<int64_t>();
      } else if (name == "trace" && annotations.contains("traced") &&
                 annotations["traced"].is_boolean()) {
        out.traced = annotations["traced"].get<bool>();
        if (annotations.contains("complete") && annotations["complete"].is_boolean()) {
          out.complete = annotations["complete"].get<bool>();
        }
        for (const char* list : {"incomplete", "refused"}) {
          if (!annotations.contains(list) || !annotations[list].is_array()) continue;
          for (const json& item : annotations[list]) {
            if (item.is_string()) {
              (std::string_view(list) == "refused" ? out.refused : out.incomplete)
                  .push_back(item.get<std::string>());
            }
          }
        }
        if (annotations.contains("leftRunning") && annotations["leftRunning"].is_array()) {
          out.left_running = annotations["leftRunning"].size();
        }
      } else if (name == "host") {
        out.host = string_member(annotations, "hostname");
      }
    }
  }
  return out;
}

Result<Policy> parse_policy(std::string_view toml_text) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return make_error(ErrorCode::Parse, std::string("policy: ") + std::string(e.description()) +
                                            " (line " + std::to_string(e.source().begin.line) +
                                            ")");
  }
  Policy policy;
  const auto strings = [](const toml::node* node, const std::string& key, bool digests,
                          std::vector<std::string>& out) -> Status {
    if (node == nullptr) return {};
    const toml::array* array = node->as_array();
    if (array == nullptr)
      return make_error(ErrorCode::Parse, "policy: " + key + " must be a list of strings");
    for (const toml::node& item : *array) {
      const auto value = item.value<std::string>();
      if (!value)
        return make_error(ErrorCode::Parse, "policy: " + key + " must be a list of strings");
      std::string text = *value;
      if (digests) {
        if (text.starts_with("sha256:")) text = text.substr(7);
        std::transform(text.begin(), text.end(), text.begin(), [](char c) {
          return c >= 'A' && c <= 'F' ? static_cast<char>(c - 'A' + 'a') : c;
        });
        if (!is_sha256_hex(text)) {
          return make_error(ErrorCode::Parse,
                            "policy: " + key + ": \"" + *value + "\" is not a SHA-256");
        }
      }
      out.push_back(std::move(text));
    }
    return {};
  };
  const auto boolean = [](const toml::node* node, const std::string& key, bool& out) -> Status {
    if (node == nullptr) return {};
    const auto value = node->value<bool>();
    if (!value || !node->is_boolean())
      return make_error(ErrorCode::Parse, "policy: " + key + " must be true or false");
    out = *value;
    return {};
  };
  static const std::map<std::string, std::set<std::string>> kKnown = {
      {"builder", {"ids", "hosts"}},
      {"materials", {"required", "forbidden"}},
      {"tools", {"allowed", "forbidden", "package_owned", "traced"}},
      {"libraries", {"allowed", "forbidden"}},
      {"run", {"success", "max_age_days", "allow_incomplete", "no_daemons"}},
  };
  for (const auto& [section, node] : table) {
    const std::string name(section.str());
    const auto known = kKnown.find(name);
    if (known == kKnown.end() || !node.is_table()) {
      return make_error(ErrorCode::Parse, "policy: unknown section [" + name + "]");
    }
    for (const auto& [key, value] : *node.as_table()) {
      if (!known->second.contains(std::string(key.str()))) {
        return make_error(ErrorCode::Parse,
                          "policy: unknown key " + name + "." + std::string(key.str()));
      }
    }
  }
  CATENA_TRY_STATUS(
      strings(table["builder"]["ids"].node(), "builder.ids", false, policy.builder_ids));
  CATENA_TRY_STATUS(
      strings(table["builder"]["hosts"].node(), "builder.hosts", false, policy.builder_hosts));
  CATENA_TRY_STATUS(strings(table["materials"]["required"].node(), "materials.required", true,
                            policy.required_materials));
  CATENA_TRY_STATUS(strings(table["materials"]["forbidden"].node(), "materials.forbidden", true,
                            policy.forbidden_materials));
  CATENA_TRY_STATUS(
      strings(table["tools"]["allowed"].node(), "tools.allowed", true, policy.allowed_tools));
  CATENA_TRY_STATUS(
      strings(table["tools"]["forbidden"].node(), "tools.forbidden", true, policy.forbidden_tools));
  CATENA_TRY_STATUS(boolean(table["tools"]["package_owned"].node(), "tools.package_owned",
                            policy.tools_package_owned));
  CATENA_TRY_STATUS(boolean(table["tools"]["traced"].node(), "tools.traced", policy.require_trace));
  CATENA_TRY_STATUS(boolean(table["run"]["success"].node(), "run.success", policy.require_success));
  CATENA_TRY_STATUS(boolean(table["run"]["allow_incomplete"].node(), "run.allow_incomplete",
                            policy.allow_incomplete));
  CATENA_TRY_STATUS(
      boolean(table["run"]["no_daemons"].node(), "run.no_daemons", policy.no_daemons));
  CATENA_TRY_STATUS(strings(table["libraries"]["allowed"].node(), "libraries.allowed", true,
                            policy.allowed_libraries));
  CATENA_TRY_STATUS(strings(table["libraries"]["forbidden"].node(), "libraries.forbidden", true,
                            policy.forbidden_libraries));
  if (const toml::node* age = table["run"]["max_age_days"].node()) {
    const auto days = age->value<int64_t>();
    if (!age->is_integer() || !days || *days < 0) {
      return make_error(ErrorCode::Parse,
                        "policy: run.max_age_days must be a whole number of days");
    }
    policy.max_age_seconds = *days * 86400;
  }
  return policy;
}

std::vector<Finding> check_policy(const Provenance& provenance,
                                  const Policy& policy,
                                  int64_t now_ns,
                                  const std::string& source) {
  std::vector<Finding> out;
  const auto violation = [&](const std::string& rule, const std::string& message) -> Finding& {
    Finding finding{.rule = "PROV_POLICY_VIOLATION",
                    .severity = Severity::High,
                    .path = source,
                    .message = message};
    finding.add_evidence("rule", rule);
    out.push_back(std::move(finding));
    return out.back();
  };
  if (!policy.builder_ids.empty() && std::find(policy.builder_ids.begin(), policy.builder_ids.end(),
                                               provenance.builder_id) == policy.builder_ids.end()) {
    violation("builder.ids", "The build ran on a builder the policy does not allow.")
        .add_evidence("builder_id", provenance.builder_id);
  }
  if (!policy.builder_hosts.empty() &&
      std::none_of(
          policy.builder_hosts.begin(), policy.builder_hosts.end(),
          [&](const std::string& pattern) { return fnmatch_python(pattern, provenance.host); })) {
    violation("builder.hosts", "The build ran on a host the policy does not allow.")
        .add_evidence("host", provenance.host.empty() ? "(not recorded)" : provenance.host);
  }
  std::set<std::string> materials;
  for (const auto& [name, digest] : provenance.materials) materials.insert(digest);
  for (const std::string& required : policy.required_materials) {
    if (!materials.contains(required)) {
      violation("materials.required",
                "A material the policy requires was not among the build's inputs.")
          .add_evidence("sha256", required);
    }
  }
  for (const auto& [name, digest] : provenance.materials) {
    if (std::find(policy.forbidden_materials.begin(), policy.forbidden_materials.end(), digest) !=
        policy.forbidden_materials.end()) {
      violation("materials.forbidden", "The build consumed a material the policy forbids.")
          .add_evidence("material", name)
          .add_evidence("sha256", digest);
    }
  }
  if (policy.require_trace && !provenance.traced) {
    violation("tools.traced",
              "The provenance does not record the tools the build ran (it was not traced).");
  }
  for (const ProvenanceTool& tool : provenance.tools) {
    const auto listed = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), tool.sha256) != list.end();
    };
    if (listed(policy.forbidden_tools)) {
      violation("tools.forbidden", "The build ran a tool whose digest the policy forbids.")
          .add_evidence("tool", tool.path)
          .add_evidence("sha256", tool.sha256);
    }
    if (!policy.allowed_tools.empty() && !listed(policy.allowed_tools)) {
      violation("tools.allowed", "The build ran a tool that is not in the policy's allowlist.")
          .add_evidence("tool", tool.path)
          .add_evidence("sha256", tool.sha256.empty() ? "(unread)" : tool.sha256);
    }
    if (policy.tools_package_owned && tool.package.empty()) {
      violation("tools.package_owned", "The build ran a tool that no installed package owns.")
          .add_evidence("tool", tool.path)
          .add_evidence("sha256", tool.sha256.empty() ? "(unread)" : tool.sha256);
    }
  }
  for (const auto& library : provenance.libraries) {
    const std::string& path = library.first;
    const std::string& digest = library.second;
    const auto listed = [&](const std::vector<std::string>& list) {
      return std::find(list.begin(), list.end(), digest) != list.end();
    };
    if (listed(policy.forbidden_libraries)) {
      violation("libraries.forbidden",
                "The build loaded a library whose digest the policy forbids.")
          .add_evidence("library", path)
          .add_evidence("sha256", digest);
    }
    if (!policy.allowed_libraries.empty() && !listed(policy.allowed_libraries)) {
      violation("libraries.allowed",
                "The build loaded a library that is not in the policy's allowlist.")
          .add_evidence("library", path)
          .add_evidence("sha256", digest.empty() ? "(unread)" : digest);
    }
  }
  if (policy.no_daemons && provenance.left_running > 0) {
    violation("run.no_daemons", "The build left processes running after it finished.")
        .add_evidence("processes", std::to_string(provenance.left_running));
  }
  if (policy.require_success && provenance.exit_code.value_or(-1) != 0) {
    violation("run.success", "The build command did not succeed.")
        .add_evidence("exit_code", provenance.exit_code ? std::to_string(*provenance.exit_code)
                                                        : "(not recorded)");
  }
  if (policy.max_age_seconds) {
    const std::optional<int64_t> finished =
        provenance.finished_ns ? provenance.finished_ns : provenance.started_ns;
    if (!finished || now_ns - *finished > *policy.max_age_seconds * 1'000'000'000) {
      violation("run.max_age_days", "The build is older than the policy allows.")
          .add_evidence("finished", finished ? format_rfc3339(*finished) : "(not recorded)");
    }
  }
  return out;
}

Result<ProvenanceCheck> verify_provenance(std::string_view envelope_text,
                                          const std::vector<trust::VerifyingKey>& keys,
                                          const std::vector<std::string>& artifacts,
                                          const Policy* policy,
                                          int64_t now_ns,
                                          const std::string& source) {
  ProvenanceCheck out;
  const auto finding = [&](const char* rule, std::string path, std::string message) {
    Finding f = make_finding(rule, std::move(path));
    f.message = std::move(message);
    return f;
  };
  auto opened = verify_envelope(envelope_text, keys);
  if (!opened) {
    out.findings.push_back(finding("PROV_SIGNATURE_INVALID", source,
                                   "The envelope cannot be verified: " + opened.error().message));
    return out;
  }
  for (const trust::VerifyingKey& key : keys) {
    if (std::find(opened->verified_by.begin(), opened->verified_by.end(), key.key_id()) !=
        opened->verified_by.end()) {
      continue;
    }
    Finding f = finding("PROV_SIGNATURE_INVALID", source,
                        "The envelope carries no valid signature by a required key.");
    f.add_evidence("key_id", key.key_id());
    for (const std::string& problem : opened->problems) f.add_evidence("signature", problem);
    out.findings.push_back(std::move(f));
  }
  // Only an authenticated payload is read further.
  if (!out.findings.empty()) return out;
  auto head = parse_statement_head(opened->payload);
  std::optional<Provenance> parsed;
  if (head && head->predicate_type == kSlsaProvenanceType) {
    auto provenance = parse_provenance(opened->payload);
    if (!provenance) {
      head = tl::unexpected(provenance.error());
    } else {
      parsed = std::move(*provenance);
    }
  } else if (head && head->predicate_type != kReleaseDiffType) {
    head = make_error(ErrorCode::Parse,
                      "its predicate type is neither SLSA Provenance v1 nor catena's release diff");
  }
  if (!head) {
    out.findings.push_back(finding("PROV_STATEMENT_MALFORMED", source,
                                   "The signed payload is not SLSA provenance or a release "
                                   "diff: " +
                                       head.error().message));
    return out;
  }
  for (const std::string& artifact : artifacts) {
    CATENA_TRY(const std::string digest, file_sha256(artifact));
    const bool listed = std::any_of(head->subjects.begin(), head->subjects.end(),
                                    [&](const auto& subject) { return subject.second == digest; });
    if (listed) continue;
    Finding f = finding("PROV_SUBJECT_MISMATCH", artifact,
                        parsed ? "The artifact's digest is not a subject of the provenance: it "
                                 "is not what this build produced."
                               : "The artifact's digest is not a subject of the release diff: "
                                 "it is not the release that was compared.");
    f.add_evidence("sha256", digest);
    f.add_evidence("provenance", source);
    out.findings.push_back(std::move(f));
  }
  out.head = std::move(*head);
  if (!parsed) {
    if (policy != nullptr) {
      Finding f = finding("PROV_POLICY_VIOLATION", source,
                          "A build policy was given, and the envelope holds a release diff, "
                          "not the provenance of a build.");
      f.add_evidence("rule", "predicate_type");
      f.add_evidence("predicate_type", out.head->predicate_type);
      out.findings.push_back(std::move(f));
    }
    sort_findings(out.findings);
    out.envelope = std::move(*opened);
    return out;
  }
  // catena's own provenance says whether it recorded everything the build ran; one that does
  // not (or an older one that does not say) is not verified unless the policy accepts it.
  if (parsed->build_type == kCatenaBuildType && parsed->complete != true &&
      (policy == nullptr || !policy->allow_incomplete)) {
    Finding f = finding("PROV_INCOMPLETE", source,
                        "The provenance does not record everything the build ran.");
    if (parsed->incomplete.empty()) f.add_evidence("reason", "(the provenance does not say)");
    for (const std::string& reason : parsed->incomplete) f.add_evidence("reason", reason);
    out.findings.push_back(std::move(f));
  }
  if (policy != nullptr) {
    auto violations = check_policy(*parsed, *policy, now_ns, source);
    out.findings.insert(out.findings.end(), violations.begin(), violations.end());
  }
  sort_findings(out.findings);
  out.envelope = std::move(*opened);
  out.provenance = std::move(*parsed);
  return out;
}

}  // namespace catena::attest
