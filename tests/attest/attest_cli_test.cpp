// catena attest and catena provenance: the envelope, what it records, its verification
// (signatures, subjects, policy), storage and lookup; links the reference accepts; hostile
// and broken input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "catena/attest/provenance.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/trust/dsse.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::attest {
namespace {

using nlohmann::json;
using test::IsOk;
using ::testing::HasSubstr;
using ::testing::Not;

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Runs argv in `dir`.
test::RunResult run_in(const std::string& dir, std::vector<std::string> argv) {
  std::vector<std::string> wrapped = {"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return test::run_command(wrapped);
}

json statement_of(const std::string& envelope_path) {
  const json envelope = json::parse(test::read_file(envelope_path));
  auto payload = base64_decode(envelope["payload"].get<std::string>());
  return json::parse(*payload);
}

class Attest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(trust::generate_key_files(dir_ / "key", trust::KeyType::Ed25519), IsOk());
    ASSERT_THAT(trust::generate_key_files(dir_ / "other", trust::KeyType::EcdsaP256), IsOk());
    dir_.write("src/main.c", "int main(void) { return 0; }\n");
  }
  test::RunResult attest(const std::vector<std::string>& command,
                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {CATENA_BINARY, "attest", "--step", "build",
                                     "--key",       "key",    "--db",   dir_ / "store.db",
                                     "-m",          "src",    "-p",     "out.bin"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.emplace_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return run_in(dir_.path(), argv);
  }
  test::RunResult verify(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {"provenance", "verify", "--key", dir_ / "key.pub",
                                     dir_ / "build.intoto.json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return test::run_catena(argv);
  }
  test::TempDir dir_;
};

TEST_F(Attest, RecordsMaterialsProductsAndEveryToolRun) {
  const auto run = attest({"sh", "-c", "cat src/main.c > out.bin; /usr/bin/env true"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json statement = statement_of(dir_ / "build.intoto.json");
  EXPECT_EQ(statement["_type"], "https://in-toto.io/Statement/v1");
  EXPECT_EQ(statement["predicateType"], "https://slsa.dev/provenance/v1");
  ASSERT_EQ(statement["subject"].size(), 1u);
  EXPECT_EQ(statement["subject"][0]["name"], "out.bin");
  EXPECT_EQ(statement["subject"][0]["digest"]["sha256"],
            test::sha256_hex("int main(void) { return 0; }\n"));
  const json& definition = statement["predicate"]["buildDefinition"];
  EXPECT_EQ(definition["externalParameters"]["command"][0], "sh");
  std::set<std::string> tools;
  bool material = false;
  for (const json& dependency : definition["resolvedDependencies"]) {
    const std::string kind = dependency["annotations"]["kind"];
    if (kind == "tool") {
      tools.insert(dependency["name"].get<std::string>());
      EXPECT_EQ(dependency["digest"]["sha256"].get<std::string>().size(), 64u);
    }
    if (kind == "material" && dependency["name"] == "src/main.c") material = true;
  }
  EXPECT_TRUE(material);
  EXPECT_TRUE(tools.contains(*canonical_path("/bin/sh")));
  EXPECT_TRUE(tools.contains(*canonical_path("/bin/cat")));
  EXPECT_TRUE(tools.contains(*canonical_path("/usr/bin/env")));
  EXPECT_TRUE(tools.contains(*canonical_path("/bin/true")));
  // Environment: names always, values only where allowlisted.
  const json& environment = definition["internalParameters"]["environment"];
  EXPECT_TRUE(environment.contains("PATH"));
  EXPECT_TRUE(environment["PATH"].is_string());
  if (environment.contains("HOME")) {
    EXPECT_TRUE(environment["HOME"].is_null());
  }
  const auto ok = verify({"--artifact", dir_ / "out.bin"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

TEST_F(Attest, TiesTheBuildToTheHostsLastScan) {
  const auto scan = test::run_catena({"scan", dir_ / "src", "--db", dir_ / "store.db", "--quiet"});
  ASSERT_NE(scan.exit_code, 2) << scan.err;
  ASSERT_EQ(attest({"true"}).exit_code, 0);
  const json statement = statement_of(dir_ / "build.intoto.json");
  json host;
  for (const json& b : statement["predicate"]["runDetails"]["byproducts"]) {
    if (b["name"] == "host") host = b["annotations"];
  }
  EXPECT_EQ(host["hostname"], host_name());
  ASSERT_TRUE(host.contains("lastScan")) << host.dump();
  EXPECT_EQ(host["lastScan"]["id"], 1);
  EXPECT_EQ(host["lastScan"]["digest"]["sha256"].get<std::string>().size(), 64u);
  // Without a scan in the store there is nothing to tie to, and nothing is invented.
  ASSERT_EQ(run_in(dir_.path(), {CATENA_BINARY, "attest", "--step", "build", "--key", "key", "--db",
                                 dir_ / "empty.db", "--", "true"})
                .exit_code,
            0);
  const json bare = statement_of(dir_ / "build.intoto.json");
  EXPECT_THAT(bare["predicate"]["runDetails"]["byproducts"].dump(), Not(HasSubstr("lastScan")));
}

TEST_F(Attest, SecretValuesInTheEnvironmentAreNeverRecorded) {
  const std::string secret = "s3cr3t-token-value-9f8e7d";
  const auto run =
      test::run_command({"/bin/sh", "-c", "cd \"$0\" && API_TOKEN=" + secret + " exec \"$@\"",
                         dir_.path(), CATENA_BINARY, "attest", "--step", "build", "--key", "key",
                         "--db", dir_ / "store.db", "--", "sh", "-c", "true"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string envelope = test::read_file(dir_ / "build.intoto.json");
  const json statement = statement_of(dir_ / "build.intoto.json");
  EXPECT_TRUE(
      statement["predicate"]["buildDefinition"]["internalParameters"]["environment"].contains(
          "API_TOKEN"));
  EXPECT_THAT(statement.dump(), Not(HasSubstr(secret)));
  EXPECT_THAT(test::read_file(dir_ / "store.db"), Not(HasSubstr(secret)));
  EXPECT_THAT(run.out + run.err, Not(HasSubstr(secret)));
}

TEST_F(Attest, FailedOrKilledCommandStillAttestsAndPassesItsStatusOn) {
  auto failed = attest({"sh", "-c", "exit 3"});
  EXPECT_EQ(failed.exit_code, 3);
  json statement = statement_of(dir_ / "build.intoto.json");
  std::string text = statement["predicate"]["runDetails"]["byproducts"].dump();
  EXPECT_THAT(text, HasSubstr("\"exitCode\":3"));
  auto killed = attest({"sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(killed.exit_code, 128 + 9);
  statement = statement_of(dir_ / "build.intoto.json");
  EXPECT_THAT(statement["predicate"]["runDetails"]["byproducts"].dump(), HasSubstr("\"signal\":9"));
  // A policy requiring success refuses it.
  write_text(dir_ / "policy.toml", "[run]\nsuccess = true\n");
  const auto result = verify({"--policy", dir_ / "policy.toml"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.out, HasSubstr("rule=run.success"));
  // A daemon left behind does not keep catena waiting; the attestation lists it, and says it
  // was ended.
  auto daemon = attest({"sh", "-c", "sleep 30 & echo x > out.bin"});
  EXPECT_EQ(daemon.exit_code, 0) << daemon.err;
  statement = statement_of(dir_ / "build.intoto.json");
  const std::string byproducts = statement["predicate"]["runDetails"]["byproducts"].dump();
  EXPECT_THAT(byproducts, HasSubstr("leftRunning"));
  EXPECT_THAT(byproducts, HasSubstr("\"leftRunningAction\":\"killed\""));
  const json trace_annotations = [&] {
    for (const json& b : statement["predicate"]["runDetails"]["byproducts"]) {
      if (b["name"] == "trace") return b["annotations"];
    }
    return json();
  }();
  for (const json& pid : trace_annotations["leftRunning"]) ::kill(pid.get<pid_t>(), SIGKILL);
}

TEST_F(Attest, TamperedWrongKeyOrWrongTypeEnvelopesFail) {
  ASSERT_EQ(attest({"sh", "-c", "echo built > out.bin"}).exit_code, 0);
  const std::string good = test::read_file(dir_ / "build.intoto.json");
  const json envelope = json::parse(good);
  // A valid signature, but not by the key asked for.
  auto other = test::run_catena(
      {"provenance", "verify", "--key", dir_ / "other.pub", dir_ / "build.intoto.json"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.out, HasSubstr("PROV_SIGNATURE_INVALID"));
  const auto with = [&](const std::function<void(json&)>& change) {
    json copy = envelope;
    change(copy);
    write_text(dir_ / "build.intoto.json", copy.dump());
    return verify({});
  };
  std::string payload = *base64_decode(envelope["payload"].get<std::string>());
  const std::vector<std::pair<std::string, std::function<void(json&)>>> breakages = {
      {"payload changed",
       [&](json& e) {
         std::string changed = payload;
         changed.replace(changed.find("out.bin"), 7, "evi.bin");
         e["payload"] = base64_encode(changed);
       }},
      {"payload re-serialised",
       [&](json& e) { e["payload"] = base64_encode(json::parse(payload).dump()); }},
      {"payloadType changed",
       [&](json& e) { e["payloadType"] = "application/vnd.catena.baseline+json"; }},
      {"no signatures", [&](json& e) { e["signatures"] = json::array(); }},
      {"duplicate signatures", [&](json& e) { e["signatures"].push_back(e["signatures"][0]); }},
      {"signature garbled",
       [&](json& e) { e["signatures"][0]["sig"] = base64_encode("not a signature"); }},
      {"not base64", [&](json& e) { e["payload"] = "%%%"; }},
      {"not an object", [&](json& e) { e = json::array(); }},
  };
  for (const auto& [what, change] : breakages) {
    const auto result = with(change);
    EXPECT_EQ(result.exit_code, 1) << what << ": " << result.out << result.err;
    EXPECT_THAT(result.out, HasSubstr("PROV_SIGNATURE_INVALID")) << what;
  }
  write_text(dir_ / "build.intoto.json", "{\"payload\": ");
  EXPECT_EQ(verify({}).exit_code, 1);
  write_text(dir_ / "build.intoto.json", good);
  // An artifact that is not a subject.
  dir_.write("out.bin", "tampered\n");
  const auto mismatch = verify({"--artifact", dir_ / "out.bin"});
  EXPECT_EQ(mismatch.exit_code, 1);
  EXPECT_THAT(mismatch.out, HasSubstr("PROV_SUBJECT_MISMATCH"));
}

TEST_F(Attest, PolicyRulesEachFail) {
  ASSERT_EQ(attest({"sh", "-c", "cat src/main.c > out.bin"}).exit_code, 0);
  const std::string cat = *canonical_path("/bin/cat");
  const std::string cat_digest = test::sha256_hex(test::read_file(cat));
  const std::string main_digest = test::sha256_hex(test::read_file(dir_ / "src/main.c"));
  const std::string zeros(64, '0');
  const std::vector<std::pair<std::string, std::string>> policies = {
      {"builder.ids", "[builder]\nids = [\"urn:other\"]\n"},
      {"builder.hosts", "[builder]\nhosts = [\"build-*\"]\n"},
      {"materials.required", "[materials]\nrequired = [\"" + zeros + "\"]\n"},
      {"materials.forbidden", "[materials]\nforbidden = [\"sha256:" + main_digest + "\"]\n"},
      {"tools.forbidden", "[tools]\nforbidden = [\"" + cat_digest + "\"]\n"},
      {"tools.allowed", "[tools]\nallowed = [\"" + cat_digest + "\"]\n"},
  };
  for (const auto& [rule, text] : policies) {
    write_text(dir_ / "policy.toml", text);
    const auto result = verify({"--policy", dir_ / "policy.toml"});
    EXPECT_EQ(result.exit_code, 1) << rule << ": " << result.out;
    EXPECT_THAT(result.out, HasSubstr("rule=" + rule));
  }
  // What the build really was passes.
  write_text(dir_ / "policy.toml",
             "[materials]\nrequired = [\"" + main_digest +
                 "\"]\n[tools]\ntraced = true\n[run]\nsuccess = true\nmax_age_days = 1\n");
  const auto pass = verify({"--policy", dir_ / "policy.toml"});
  EXPECT_EQ(pass.exit_code, 0) << pass.out;
  // Broken policies are usage errors that name the problem.
  for (const auto& [text, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"[tools]\nforbiden = []\n", "tools.forbiden"},
           {"[tools]\nforbidden = [\"abc\"]\n", "not a SHA-256"},
           {"[run]\nmax_age_days = \"x\"\n", "max_age_days"},
           {"[[[", "policy"}}) {
    write_text(dir_ / "policy.toml", text);
    const auto result = verify({"--policy", dir_ / "policy.toml"});
    EXPECT_EQ(result.exit_code, 2) << text;
    EXPECT_THAT(result.err, HasSubstr(fragment)) << text;
  }
}

// What could not be recorded fails verification unless the policy accepts it: an untraced
// build, a process left running. A tool whose path is not text is still recorded with its
// digest, so a policy forbidding it applies.
TEST_F(Attest, AnIncompleteRecordFailsClosed) {
  ASSERT_EQ(attest({"sh", "-c", "cat src/main.c > out.bin"}, {"--no-trace"}).exit_code, 0);
  const json untraced = statement_of(dir_ / "build.intoto.json");
  json trace;
  for (const json& byproduct : untraced["predicate"]["runDetails"]["byproducts"]) {
    if (byproduct["name"] == "trace") trace = byproduct["annotations"];
  }
  EXPECT_EQ(trace["complete"], false);
  EXPECT_THAT(trace["incomplete"][0].get<std::string>(), HasSubstr("not traced"));
  const auto failed = verify({});
  EXPECT_EQ(failed.exit_code, 1) << failed.out;
  EXPECT_THAT(failed.out, HasSubstr("PROV_INCOMPLETE"));
  write_text(dir_ / "policy.toml", "[run]\nallow_incomplete = true\n");
  EXPECT_EQ(verify({"--policy", dir_ / "policy.toml"}).exit_code, 0);

  // A daemon left behind and ended: the record is whole, and run.no_daemons names it.
  const std::vector<std::string> with_daemon = {
      "sh", "-c", "cat src/main.c > out.bin; sleep 30 >/dev/null 2>&1 & exit 0"};
  ASSERT_EQ(attest(with_daemon).exit_code, 0);
  EXPECT_EQ(verify({}).exit_code, 0) << verify({}).out;
  write_text(dir_ / "policy.toml", "[run]\nno_daemons = true\n");
  auto daemon = verify({"--policy", dir_ / "policy.toml"});
  EXPECT_EQ(daemon.exit_code, 1);
  EXPECT_THAT(daemon.out, HasSubstr("rule=run.no_daemons"));
  // One let go: the record is incomplete.
  ASSERT_EQ(attest(with_daemon, {"--left-running", "detach"}).exit_code, 0);
  EXPECT_THAT(verify({}).out, HasSubstr("left running"));
  write_text(dir_ / "policy.toml", "[run]\nallow_incomplete = true\nno_daemons = true\n");
  daemon = verify({"--policy", dir_ / "policy.toml"});
  EXPECT_EQ(daemon.exit_code, 1);
  EXPECT_THAT(daemon.out, HasSubstr("rule=run.no_daemons"));

  // A copy of cat under a name that is not UTF-8: recorded as path-hex with its digest.
  const std::string odd = dir_ / "odd\xff";
  std::filesystem::copy_file("/bin/cat", odd);
  // The command names it by a glob: catena refuses a command line that is not text.
  ASSERT_EQ(attest({"sh", "-c", "./odd* src/main.c > out.bin"}).exit_code, 0);
  const std::string cat_digest = test::sha256_hex(test::read_file("/bin/cat"));
  std::string upper = cat_digest;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  write_text(dir_ / "policy.toml", "[tools]\nforbidden = [\"" + upper + "\"]\n");
  const auto forbidden = verify({"--policy", dir_ / "policy.toml"});
  EXPECT_EQ(forbidden.exit_code, 1) << forbidden.out;
  EXPECT_THAT(forbidden.out, HasSubstr("rule=tools.forbidden"));
  EXPECT_THAT(forbidden.out, HasSubstr("path-hex:"));
}

// A build that tries to take the signing key: the key file, catena's command line, its
// memory, a ptrace attach. Run as another account (--build-user), it gets none of them, and
// the attestation records the attach it tried; run as root, catena says the key is exposed.
TEST_F(Attest, TheBuildCannotTakeTheKey) {
  if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "--build-user needs root";
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0777), 0);
  const std::string key_text = test::read_file(dir_ / "key");
  ASSERT_FALSE(key_text.empty());
  const std::string thief =
      "cat key > stolen-file 2>/dev/null; "
      "tr '\\0' ' ' < /proc/$PPID/cmdline > cmdline.txt; "
      "python3 -c \"import ctypes, sys\n"
      "ppid = int(sys.argv[1])\n"
      "try:\n    open('/proc/%d/mem' % ppid, 'rb'); print('mem opened')\n"
      "except OSError as e:\n    print('mem denied', e.errno)\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "print('attach', libc.ptrace(16, ppid, 0, 0), ctypes.get_errno())\n\" $PPID > tries.txt; "
      "cat src/main.c > out.bin";
  const auto run = attest({"sh", "-c", thief}, {"--build-user", "nobody"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, Not(HasSubstr("can read the signing key")));
  EXPECT_THAT(run.err, HasSubstr("refused"));
  EXPECT_EQ(test::read_file(dir_ / "stolen-file"), "");
  const std::string cmdline = test::read_file(dir_ / "cmdline.txt");
  EXPECT_THAT(cmdline, HasSubstr("--key ***"));
  EXPECT_THAT(cmdline, Not(HasSubstr("--key key")));
  const std::string tries = test::read_file(dir_ / "tries.txt");
  EXPECT_THAT(tries, HasSubstr("mem denied"));
  EXPECT_THAT(tries, HasSubstr("attach -1 1"));  // EPERM
  json trace;
  const json statement = statement_of(dir_ / "build.intoto.json");
  for (const json& b : statement["predicate"]["runDetails"]["byproducts"]) {
    if (b["name"] == "trace") trace = b["annotations"];
  }
  ASSERT_TRUE(trace.contains("refused")) << trace.dump();
  EXPECT_THAT(trace["refused"][0].get<std::string>(), HasSubstr("ptrace attach"));
  EXPECT_EQ(verify({}).exit_code, 0);
  // Run as root, the build could read everything: catena says so.
  const auto as_root = attest({"sh", "-c", "cat src/main.c > out.bin"});
  EXPECT_THAT(as_root.err, HasSubstr("the build runs as root"));
  // --key-fd: the key from a descriptor, which the build does not inherit.
  const auto from_fd =
      run_in(dir_.path(), {"/bin/sh", "-c",
                           std::string(CATENA_BINARY) +
                               " attest --step build --key-fd 3 --no-store -p out.bin -- sh -c "
                               "'ls -l /proc/self/fd > fds.txt' 3< key"});
  ASSERT_EQ(from_fd.exit_code, 0) << from_fd.err;
  ASSERT_THAT(test::read_file(dir_ / "fds.txt"), HasSubstr(" 0 -> "));
  EXPECT_THAT(test::read_file(dir_ / "fds.txt"), Not(HasSubstr("-> " + dir_ / "key")));
  EXPECT_EQ(verify({}).exit_code, 0);
}

// catena run by an ordinary account: it makes itself non-dumpable before reading the key, yet
// still traces the build (the child makes itself traceable again before the tracer attaches)
// and installs its filter (with no_new_privs, which an unprivileged filter needs).
TEST_F(Attest, AnOrdinaryAccountTracesItsBuildToo) {
  if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "switching to another account needs root";
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0777), 0);
  ASSERT_EQ(::chown((dir_ / "key").c_str(), 65534, 65534), 0);  // nobody
  const auto run =
      run_in(dir_.path(), {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                           CATENA_BINARY, "attest", "--step", "build", "--key", "key", "--no-store",
                           "-p", "out.bin", "--", "sh", "-c", "cat src/main.c > out.bin"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err, HasSubstr("can read the signing key"));
  const json statement = statement_of(dir_ / "build.intoto.json");
  json trace;
  for (const json& b : statement["predicate"]["runDetails"]["byproducts"]) {
    if (b["name"] == "trace") trace = b["annotations"];
  }
  EXPECT_EQ(trace["traced"], true) << trace.dump();
  EXPECT_EQ(trace["complete"], true) << trace.dump();
  EXPECT_EQ(verify({}).exit_code, 0);
}

// A file bind-mounted over a packaged program in a private mount namespace runs under the
// package's path: it is no package's, because its bytes are not what the package shipped.
TEST_F(Attest, APackagedPathWithOtherBytesIsNoPackagesTool) {
  if (::geteuid() != 0) CATENA_SKIP_ENVIRONMENT() << "mount namespaces need root";
  if (!std::filesystem::exists("/var/lib/dpkg/info/coreutils.md5sums")) {
    CATENA_SKIP_ENVIRONMENT() << "not a Debian system with coreutils";
  }
  // A chroot's root is no mount point: a private mount namespace cannot be made there.
  if (test::run_command({"unshare", "-m", "--propagation", "private", "true"}).exit_code != 0) {
    CATENA_SKIP_ENVIRONMENT() << "unshare -m refused here";
  }
  std::filesystem::copy_file("/bin/echo", dir_ / "payload");
  const auto run = attest({"sh", "-c",
                           "/usr/bin/true && unshare -m --propagation private sh -c 'mount "
                           "--bind payload /usr/bin/true && /usr/bin/true' && cat src/main.c > "
                           "out.bin"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const json statement = statement_of(dir_ / "build.intoto.json");
  const std::string echo_digest = test::sha256_hex(test::read_file("/bin/echo"));
  int genuine = 0, impostor = 0;
  for (const json& d : statement["predicate"]["buildDefinition"]["resolvedDependencies"]) {
    if (d.value("name", "") != "/usr/bin/true") continue;
    const json& a = d["annotations"];
    if (d["digest"]["sha256"] == echo_digest) {
      ++impostor;
      EXPECT_FALSE(a.contains("package")) << a.dump();
      EXPECT_THAT(a.value("packageProblem", ""), HasSubstr("coreutils shipped other bytes"));
    } else {
      ++genuine;
      EXPECT_EQ(a.value("package", ""), "coreutils") << a.dump();
    }
  }
  EXPECT_EQ(genuine, 1);
  EXPECT_EQ(impostor, 1);
  write_text(dir_ / "policy.toml", "[tools]\npackage_owned = true\n");
  const auto verdict = verify({"--policy", dir_ / "policy.toml"});
  EXPECT_EQ(verdict.exit_code, 1);
  EXPECT_THAT(verdict.out, HasSubstr("tool=/usr/bin/true"));
}

// A statement signed with a digest written in upper case is the same digest to the policy.
TEST(ProvenancePolicy, DigestsAreComparedAsNumbers) {
  const std::string digest(64, 'a');
  std::string upper(64, 'A');
  const json statement = {{"_type", kStatementType},
                          {"subject", json::array()},
                          {"predicateType", kSlsaProvenanceType},
                          {"predicate",
                           {{"buildDefinition",
                             {{"buildType", kCatenaBuildType},
                              {"resolvedDependencies",
                               {{{"name", "/tmp/payload"},
                                 {"digest", {{"sha256", upper}}},
                                 {"annotations", {{"kind", "tool"}}}},
                                {{"name", "/tmp/libpayload.so"},
                                 {"digest", {{"sha256", upper}}},
                                 {"annotations", {{"kind", "library"}}}}}}}},
                            {"runDetails", {{"builder", {{"id", "urn:x"}}}}}}}};
  auto parsed = parse_provenance(statement.dump());
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  auto policy = parse_policy("[tools]\nforbidden = [\"" + digest +
                             "\"]\n[libraries]\nforbidden = [\"" + digest + "\"]\n");
  ASSERT_TRUE(policy.has_value());
  std::set<std::string> rules;
  for (const Finding& f : check_policy(*parsed, *policy, now_ns(), "p.json")) {
    for (const auto& [key, value] : f.evidence) {
      if (key == "rule") rules.insert(value);
    }
  }
  EXPECT_EQ(rules, (std::set<std::string>{"tools.forbidden", "libraries.forbidden"}));
}

TEST(ProvenancePolicy, PackageOwnershipAndAgeFromTheStatement) {
  Provenance provenance;
  provenance.builder_id = "urn:catena:host:b1";
  provenance.host = "b1";
  provenance.tools = {{"/usr/bin/gcc-12", std::string(64, 'a'), "gcc", "gcc-12"},
                      {"/tmp/evil/cc1", std::string(64, 'b'), "cc1", ""}};
  provenance.finished_ns = now_ns() - int64_t{3} * 86400 * 1'000'000'000;
  auto policy = parse_policy("[tools]\npackage_owned = true\n[run]\nmax_age_days = 2\n");
  ASSERT_TRUE(policy.has_value());
  const auto findings = check_policy(provenance, *policy, now_ns(), "p.json");
  ASSERT_EQ(findings.size(), 2u);
  std::set<std::string> rules;
  for (const Finding& f : findings) {
    for (const auto& [key, value] : f.evidence) {
      if (key == "rule") rules.insert(value);
      if (key == "tool") {
        EXPECT_EQ(value, "/tmp/evil/cc1");
      }
    }
  }
  EXPECT_EQ(rules, (std::set<std::string>{"tools.package_owned", "run.max_age_days"}));
}

TEST_F(Attest, StoredAndFoundByProductAndByTool) {
  ASSERT_EQ(attest({"sh", "-c", "cat src/main.c src/main.c > out.bin"}).exit_code, 0);
  const auto by_product = test::run_catena({"provenance", "find", "--db", dir_ / "store.db",
                                            "--file", dir_ / "out.bin", "--format", "json"});
  ASSERT_EQ(by_product.exit_code, 0) << by_product.err;
  const json hits = json::parse(by_product.out);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["role"], "subject");
  EXPECT_EQ(hits[0]["step"], "build");
  EXPECT_EQ(hits[0]["host"], host_name());
  const auto by_tool =
      test::run_catena({"provenance", "find", "--db", dir_ / "store.db", "--file", "/bin/cat"});
  EXPECT_THAT(by_tool.out, HasSubstr("tool " + *canonical_path("/bin/cat")));
  const auto none = test::run_catena(
      {"provenance", "find", "--db", dir_ / "store.db", "--sha256", std::string(64, 'e')});
  EXPECT_THAT(none.out, HasSubstr("no stored build"));
  // Importing the same envelope again keeps one copy; a wrongly signed one is refused.
  const auto again = test::run_catena({"provenance", "import", "--db", dir_ / "store.db", "--key",
                                       dir_ / "key.pub", dir_ / "build.intoto.json"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  const auto refused = test::run_catena({"provenance", "import", "--db", dir_ / "store.db", "--key",
                                         dir_ / "other.pub", dir_ / "build.intoto.json"});
  EXPECT_EQ(refused.exit_code, 1);
  const auto list =
      test::run_catena({"provenance", "list", "--db", dir_ / "store.db", "--format", "json"});
  EXPECT_EQ(json::parse(list.out).size(), 1u);
}

TEST_F(Attest, NonUtf8AndManyMaterialsLoseNothing) {
  dir_.write("src/\xff\xfe.c", "odd\n");
  // Created by one Python process: 100,000 writes through the sanitised test binary are slow.
  const auto made =
      test::run_command({"/usr/bin/python3", "-c",
                         "import os, sys\n"
                         "for i in range(100000):\n"
                         "    d = os.path.join(sys.argv[1], 'src/many', str(i % 100))\n"
                         "    os.makedirs(d, exist_ok=True)\n"
                         "    open(os.path.join(d, str(i)), 'w').write('x')\n",
                         dir_.path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  // Without the store: storing and verifying an envelope this large are measured in bench/.
  const auto run = attest({"true"}, {"--no-store"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // Counted in the text: parsing 20 MB of JSON in the sanitised test binary is slow.
  const json envelope = json::parse(test::read_file(dir_ / "build.intoto.json"));
  const std::string payload = *base64_decode(envelope["payload"].get<std::string>());
  size_t materials = 0;
  for (size_t at = payload.find("\"kind\": \"material\""); at != std::string::npos;
       at = payload.find("\"kind\": \"material\"", at + 1)) {
    ++materials;
  }
  EXPECT_EQ(materials, 100001u);
  EXPECT_THAT(payload, HasSubstr("material path-hex:7372632ffffe2e63"));
}

TEST(AttestLinks, CatenaLinksPassTheReferenceVerifier) {
  test::TempDir dir;
  const auto made = test::run_command(
      {"/usr/bin/python3", std::string(CATENA_SOURCE_DIR) + "/tests/attest/intoto_chain.py",
       "catena-link", dir.path()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string work = dir / "work";
  // alice's key is an RSA PEM file, carol's a securesystemslib JSON Ed25519 file.
  ASSERT_EQ(run_in(work, {CATENA_BINARY, "attest", "--format", "intoto-link", "--step", "build",
                          "--key", "../alice", "-m", "src", "-p", "out.txt", "--out", "..", "--",
                          "sh", "-c", "echo hi > out.txt"})
                .exit_code,
            0);
  ASSERT_EQ(run_in(work, {CATENA_BINARY, "attest", "--format", "intoto-link", "--step", "package",
                          "--key", "../carol", "-m", "out.txt", "-p", "out.tar", "--out", "..",
                          "--", "tar", "cf", "out.tar", "out.txt"})
                .exit_code,
            0);
  // The link carries the programs the step really ran, which in-toto passes through.
  bool link_names_sh = false;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (!entry.path().filename().string().starts_with("build.")) continue;
    const json link = json::parse(test::read_file(entry.path()));
    EXPECT_EQ(link["signed"]["byproducts"]["catena-traced"], true);
    for (const json& tool : link["signed"]["byproducts"]["catena-tools"]) {
      if (tool["path"] == *canonical_path("/bin/sh")) link_names_sh = true;
    }
  }
  EXPECT_TRUE(link_names_sh);
  const auto reference = run_in(
      dir.path(), {"in-toto-verify", "-l", "root.layout", "-k", "layout-key.pub", "-t", "ed25519"});
  EXPECT_EQ(reference.exit_code, 0) << reference.err;
  const auto ours = run_in(dir.path(), {CATENA_BINARY, "intoto", "verify", "--layout",
                                        "root.layout", "--layout-key", "layout-key.pub"});
  EXPECT_EQ(ours.exit_code, 0) << ours.out;
  // The product altered between the steps: both verifiers refuse the chain.
  write_text(work + "/out.txt", "altered\n");
  ASSERT_EQ(run_in(work, {CATENA_BINARY, "attest", "--format", "intoto-link", "--step", "package",
                          "--key", "../carol", "-m", "out.txt", "-p", "out.tar", "--out", "..",
                          "--", "tar", "cf", "out.tar", "out.txt"})
                .exit_code,
            0);
  EXPECT_EQ(run_in(dir.path(),
                   {"in-toto-verify", "-l", "root.layout", "-k", "layout-key.pub", "-t", "ed25519"})
                .exit_code,
            1);
  const auto refused = run_in(dir.path(), {CATENA_BINARY, "intoto", "verify", "--layout",
                                           "root.layout", "--layout-key", "layout-key.pub"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.out, HasSubstr("step 'package'"));
}

}  // namespace
}  // namespace catena::attest
