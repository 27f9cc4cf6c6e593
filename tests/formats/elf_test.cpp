#include "catena/formats/elf.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::formats {
namespace {

using test::HasError;
using test::IsOk;

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// What readelf says of the same file: NEEDED, SONAME, RPATH, RUNPATH, interpreter, build-id.
struct Readelf {
  std::vector<std::string> needed;
  std::string soname, rpath, runpath, interpreter, build_id;
};

Readelf readelf(const std::string& path) {
  Readelf out;
  const std::string dynamic = test::run_command({"readelf", "-d", "-W", path}).out;
  const std::regex entry(R"(\((NEEDED|SONAME|RPATH|RUNPATH)\)\s+[^\[]*\[(.*)\])");
  std::istringstream lines(dynamic);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, entry)) continue;
    if (m[1] == "NEEDED") out.needed.push_back(m[2]);
    if (m[1] == "SONAME") out.soname = m[2];
    if (m[1] == "RPATH") out.rpath = m[2];
    if (m[1] == "RUNPATH") out.runpath = m[2];
  }
  const std::string program = test::run_command({"readelf", "-l", "-W", path}).out;
  std::smatch m;
  if (std::regex_search(program, m, std::regex(R"(Requesting program interpreter: ([^\]]+)\])"))) {
    out.interpreter = m[1];
  }
  const std::string notes = test::run_command({"readelf", "-n", "-W", path}).out;
  if (std::regex_search(notes, m, std::regex(R"(Build ID: ([0-9a-f]+))"))) out.build_id = m[1];
  return out;
}

TEST(ElfParity, AgreesWithReadelfOnThisMachinesBinaries) {
  int compared = 0;
  for (const char* path :
       {"/usr/bin/ls", "/usr/bin/git", "/usr/bin/cmake", "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libarchive.so.13",
        "/usr/lib32/libgcc_s.so.1", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"}) {
    if (::access(path, R_OK) != 0) continue;
    const std::string content = test::read_file(path);
    auto elf = parse_elf(bytes_of(content));
    ASSERT_THAT(elf, IsOk()) << path;
    const Readelf peer = readelf(path);
    EXPECT_EQ(elf->needed, peer.needed) << path;
    EXPECT_EQ(elf->soname, peer.soname) << path;
    EXPECT_EQ(elf->rpath, peer.rpath) << path;
    EXPECT_EQ(elf->runpath, peer.runpath) << path;
    EXPECT_EQ(elf->interpreter, peer.interpreter) << path;
    EXPECT_EQ(elf->build_id, peer.build_id) << path;
    EXPECT_TRUE(elf->problems.empty()) << path << ": " << elf->problems[0];
    EXPECT_FALSE(elf->sections.empty()) << path;
    ++compared;
  }
  EXPECT_GE(compared, 4);
}

// A big-endian ELF32 executable with one PT_INTERP segment, built byte by byte.
std::string big_endian_elf32() {
  std::string f(0x100, '\0');
  f[0] = 0x7f;
  f.replace(1, 3, "ELF");
  f[4] = 1;  // ELFCLASS32
  f[5] = 2;  // ELFDATA2MSB
  f[6] = 1;
  const auto be16 = [&](size_t at, uint16_t v) {
    f[at] = static_cast<char>(v >> 8);
    f[at + 1] = static_cast<char>(v & 0xff);
  };
  const auto be32 = [&](size_t at, uint32_t v) {
    for (int idx = 0; idx < 4; ++idx) f[at + idx] = static_cast<char>((v >> (24 - 8 * idx)) & 0xff);
  };
  be16(16, 2);     // ET_EXEC
  be16(18, 8);     // EM_MIPS
  be32(28, 0x34);  // e_phoff
  be16(42, 32);    // e_phentsize
  be16(44, 1);     // e_phnum
  be32(0x34, 3);   // PT_INTERP
  be32(0x34 + 4, 0x80);
  be32(0x34 + 16, 14);
  f.replace(0x80, 14, std::string("/lib/ld.so.1\0\0", 14));
  return f;
}

// nm's dynamic symbols of a file: undefined ones, or defined global ones, names without version.
std::vector<std::string> nm_dynamic(const std::string& path, bool undefined) {
  const test::RunResult nm =
      test::run_command({"nm", "-D", undefined ? "--undefined-only" : "--defined-only", path});
  std::vector<std::string> out;
  std::istringstream lines(nm.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::vector<std::string> tokens;
    for (std::string token; fields >> token;) tokens.push_back(token);
    if (tokens.size() < 2) continue;
    const std::string& type = tokens[tokens.size() - 2];
    // Lower-case types are local symbols, except weak (w, v), IFUNC (i) and unique (u).
    if (type.size() == 1 && std::islower(static_cast<unsigned char>(type[0])) &&
        std::string("wviu").find(type[0]) == std::string::npos) {
      continue;
    }
    std::string name = tokens.back();
    name = name.substr(0, name.find('@'));
    out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

TEST(ElfParity, DynamicSymbolsAgreeWithNm) {
  size_t compared = 0;
  for (const char* path :
       {"/bin/ls", "/usr/bin/sha256sum", "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
        "/usr/lib/x86_64-linux-gnu/libstdc++.so.6"}) {
    std::error_code ec;
    const std::string real = std::filesystem::canonical(path, ec).string();
    if (ec) continue;
    const std::string content = test::read_file(real);
    auto elf = parse_elf(bytes_of(content));
    ASSERT_THAT(elf, IsOk()) << path;
    const ElfSymbols symbols = elf_dynamic_symbols(bytes_of(content), *elf);
    EXPECT_TRUE(symbols.problems.empty()) << path;
    EXPECT_EQ(symbols.imports, nm_dynamic(real, true)) << path;
    EXPECT_EQ(symbols.exports, nm_dynamic(real, false)) << path;
    ++compared;
  }
  EXPECT_GE(compared, 4u);
}

TEST(Elf, HostileSymbolTablesAreProblemsNotReads) {
  const std::string content = test::read_file("/bin/ls");
  auto elf = parse_elf(bytes_of(content));
  ASSERT_THAT(elf, IsOk());
  for (ElfSection& s : elf->sections) {
    if (s.type != 11) continue;
    ElfInfo bent = *elf;
    for (ElfSection& t : bent.sections) {
      if (t.type == 11) t.size = content.size();  // past the end
    }
    EXPECT_EQ(elf_dynamic_symbols(bytes_of(content), bent).problems.size(), 1u);
    bent = *elf;
    for (ElfSection& t : bent.sections) {
      if (t.type == 11) t.link = 60000;  // no such string table
    }
    EXPECT_EQ(elf_dynamic_symbols(bytes_of(content), bent).problems.size(), 1u);
    bent = *elf;
    for (ElfSection& t : bent.sections) {
      if (t.type == 11) t.entsize = 7;
    }
    EXPECT_EQ(elf_dynamic_symbols(bytes_of(content), bent).problems.size(), 1u);
    // Names pointing past their table are skipped, never read.
    std::string damaged = content;
    for (uint64_t at = s.offset + 24; at + 24 <= s.offset + s.size; at += 24) {
      damaged[at] = '\xff';
      damaged[at + 1] = '\xff';
      damaged[at + 2] = '\xff';
      damaged[at + 3] = '\x7f';
    }
    const ElfSymbols none = elf_dynamic_symbols(bytes_of(damaged), *elf);
    EXPECT_TRUE(none.imports.empty());
    EXPECT_TRUE(none.exports.empty());
    return;
  }
  ADD_FAILURE() << "/bin/ls has no .dynsym";
}

TEST(Elf, ReadsBigEndian32Bit) {
  auto elf = parse_elf(bytes_of(big_endian_elf32()));
  ASSERT_THAT(elf, IsOk());
  EXPECT_FALSE(elf->is64);
  EXPECT_TRUE(elf->big_endian);
  EXPECT_EQ(elf->machine, 8);
  EXPECT_EQ(elf->interpreter, "/lib/ld.so.1");
}

TEST(Elf, FindsAnAppendedModuleSignature) {
  std::string module = big_endian_elf32();
  const std::string pkcs7(300, '\x30');
  module += pkcs7;
  std::string info(12, '\0');
  info[6] = 2;  // PKEY_ID_PKCS7
  info[8] = 0;
  info[9] = 0;
  info[10] = static_cast<char>(pkcs7.size() >> 8);
  info[11] = static_cast<char>(pkcs7.size() & 0xff);
  module += info + "~Module signature appended~\n";
  auto elf = parse_elf(bytes_of(module));
  ASSERT_THAT(elf, IsOk());
  EXPECT_TRUE(elf->module_signature);
  EXPECT_EQ(elf->module_signature_length, pkcs7.size());
}

TEST(Elf, HostileHeadersAreErrorsOrProblems) {
  EXPECT_THAT(parse_elf(bytes_of("\x7f"
                                 "ELF")),
              HasError(ErrorCode::Truncated));
  EXPECT_THAT(parse_elf(bytes_of("MZ")), HasError(ErrorCode::BadMagic));
  std::string f = big_endian_elf32();
  f[44] = static_cast<char>(0xff);  // 65,280+ program headers
  EXPECT_THAT(parse_elf(bytes_of(f)), HasError(ErrorCode::LimitExceeded));
  f = big_endian_elf32();
  f[0x34 + 4] = 0x7f;  // PT_INTERP's offset far past the end
  auto elf = parse_elf(bytes_of(f));
  ASSERT_THAT(elf, IsOk());
  EXPECT_FALSE(elf->problems.empty());
  EXPECT_TRUE(elf->interpreter.empty());
  f = big_endian_elf32() + "~Module signature appended~\n";
  elf = parse_elf(bytes_of(f));
  ASSERT_THAT(elf, IsOk());
  EXPECT_FALSE(elf->module_signature);
}

}  // namespace
}  // namespace catena::formats

namespace catena::formats {
namespace {

TEST(Elf, ReadsTheDynamicSectionThroughTheLoadSegments) {
  const std::string seed =
      test::read_file(std::string(CATENA_SOURCE_DIR) + "/fuzz/corpus/elf/le64-dynamic");
  auto elf = parse_elf(bytes_of(seed));
  ASSERT_THAT(elf, IsOk());
  EXPECT_TRUE(elf->is64);
  EXPECT_FALSE(elf->big_endian);
  EXPECT_EQ(elf->needed, std::vector<std::string>{"libc.so.6"});
  EXPECT_EQ(elf->soname, "libx.so");
}

// Every input the ELF fuzzer failed on, and its seeds, parse without a crash.
TEST(ElfRegressions, EveryStoredInputParses) {
  size_t replayed = 0;
  for (const char* dir : {"/tests/data/regress/elf", "/fuzz/corpus/elf"}) {
    const std::filesystem::path root = std::string(CATENA_SOURCE_DIR) + dir;
    if (!std::filesystem::exists(root)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      (void)parse_elf(bytes_of(test::read_file(entry.path())));
      ++replayed;
    }
  }
  EXPECT_GE(replayed, 3u);
}

}  // namespace
}  // namespace catena::formats

namespace catena::formats {
namespace {

// The scan keeps each executable's structure with its content: what it loads and its build-id.
TEST(ScanDetails, TheInventoryCarriesElfStructure) {
  if (::access("/usr/bin/ls", R_OK) != 0) CATENA_MISSING() << "no /usr/bin/ls";
  test::TempDir dir;
  dir.write("tree/ls", test::read_file("/usr/bin/ls"), 0755);
  const test::RunResult scan = test::run_catena(
      {"scan", dir / "tree", "--db", dir / "c.db", "--no-dpkg", "--quiet", "--format", "json"});
  ASSERT_LE(scan.exit_code, 1) << scan.err;
  const test::RunResult list =
      test::run_catena({"inventory", "list", "--db", dir / "c.db", "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const nlohmann::json doc = nlohmann::json::parse(list.out);
  ASSERT_EQ(doc.size(), 1u);
  const nlohmann::json& details = doc[0]["details"];
  const Readelf peer = readelf("/usr/bin/ls");
  EXPECT_EQ(details["interpreter"], peer.interpreter);
  EXPECT_EQ(details["needed"].get<std::vector<std::string>>(), peer.needed);
  EXPECT_EQ(details["build_id"], peer.build_id);
  EXPECT_EQ(details["class"], 64);
}

}  // namespace
}  // namespace catena::formats
