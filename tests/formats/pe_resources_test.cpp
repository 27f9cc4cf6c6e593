// PE imported functions, exports, resources, VERSIONINFO and section entropy on real Microsoft
// DLLs, compared with pefile (the Python library analysts use), and on damaged copies.
#include <dirent.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "catena/formats/pe.hpp"
#include "support/cache.hpp"
#include "support/matchers.hpp"
#include "support/run.hpp"
#include "support/tree.hpp"

namespace catena::formats {
namespace {

using test::cache_dir;
using test::IsOk;
using test::read_file;

std::vector<std::string> cached_pe_files() {
  std::vector<std::string> out;
  const std::string dir = cache_dir() + "/pe";
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.ends_with(".dll")) out.push_back(dir + "/" + name);
    }
    ::closedir(d);
  }
  for (const char* name : {"/npm/vsce-sign.exe", "/npm/7za.exe"}) {
    if (std::ifstream(cache_dir() + name).good()) out.push_back(cache_dir() + name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

constexpr const char* kPefileScript = R"(
import json, sys, pefile
pe = pefile.PE(sys.argv[1])
out = {"export_name": "", "exports": [], "strings": {}, "fixed": "",
       "entropy": [s.get_entropy() for s in pe.sections]}
if hasattr(pe, "DIRECTORY_ENTRY_EXPORT"):
    e = pe.DIRECTORY_ENTRY_EXPORT
    out["export_name"] = (e.name or b"").decode("latin-1")
    out["exports"] = [s.name.decode("latin-1") for s in e.symbols if s.name]
for info in getattr(pe, "FileInfo", []) or []:
    for fi in info:
        if fi.Key == b"StringFileInfo":
            for table in fi.StringTable[:1]:
                for k, v in table.entries.items():
                    out["strings"][k.decode("utf-8")] = v.decode("utf-8")
if hasattr(pe, "VS_FIXEDFILEINFO"):
    f = pe.VS_FIXEDFILEINFO[0]
    out["fixed"] = "%d.%d.%d.%d" % (f.FileVersionMS >> 16, f.FileVersionMS & 0xffff,
                                    f.FileVersionLS >> 16, f.FileVersionLS & 0xffff)
out["imports"] = []
for attr in ("DIRECTORY_ENTRY_IMPORT", "DIRECTORY_ENTRY_DELAY_IMPORT"):
    for entry in getattr(pe, attr, []):
        dll = entry.dll.decode("latin-1")
        for imp in entry.imports:
            # pefile names some ordinals from its own table; the file says only the number.
            by_ordinal = imp.import_by_ordinal or not imp.name
            name = "#%d" % imp.ordinal if by_ordinal else imp.name.decode("latin-1")
            out["imports"].append(dll + "!" + name)
print(json.dumps(out))
)";

TEST(PeResources, ExportsAndVersionInfoAgreeWithPefile) {
  const std::vector<std::string> files = cached_pe_files();
  if (files.empty()) CATENA_MISSING() << "no PE files in " << cache_dir();
  test::TempDir dir;
  dir.write("peer.py", kPefileScript);
  size_t with_version = 0, with_exports = 0, with_imports = 0;
  for (const std::string& path : files) {
    const test::RunResult peer = test::run_command({"/usr/bin/python3", dir / "peer.py", path});
    if (peer.exit_code != 0) CATENA_MISSING() << "pefile unavailable: " << peer.err;
    const auto theirs = nlohmann::json::parse(peer.out);
    const std::string bytes = read_file(path);
    auto pe = parse_pe(bytes_of(bytes));
    ASSERT_THAT(pe, IsOk()) << path;
    EXPECT_TRUE(pe->layout_problems.empty()) << path << ": " << pe->layout_problems.front();
    EXPECT_EQ(pe->export_name, theirs["export_name"].get<std::string>()) << path;
    std::vector<std::string> names;
    for (const std::string& name : pe->exports) {
      if (!name.empty()) names.push_back(name);
    }
    EXPECT_EQ(names, theirs["exports"].get<std::vector<std::string>>()) << path;
    EXPECT_EQ(pe->fixed_file_version, theirs["fixed"].get<std::string>()) << path;
    const auto imports = theirs["imports"].get<std::vector<std::string>>();
    EXPECT_EQ(pe->imported_functions.size(), imports.size()) << path;
    for (size_t idx = 0; idx < std::min(imports.size(), pe->imported_functions.size()); ++idx) {
      ASSERT_EQ(pe->imported_functions[idx], imports[idx]) << path << " import " << idx;
    }
    with_imports += pe->imported_functions.empty() ? 0 : 1;
    EXPECT_EQ(pe->version_info, (theirs["strings"].get<std::map<std::string, std::string>>()))
        << path;
    const auto entropies = theirs["entropy"].get<std::vector<double>>();
    ASSERT_EQ(entropies.size(), pe->sections.size()) << path;
    for (size_t idx = 0; idx < entropies.size(); ++idx) {
      EXPECT_NEAR(pe_section_entropy(bytes_of(bytes), pe->sections[idx]), entropies[idx], 1e-9)
          << path << " section " << pe->sections[idx].name;
    }
    with_version += pe->version_info.contains("OriginalFilename") ? 1 : 0;
    with_exports += pe->exports.empty() ? 0 : 1;
  }
  EXPECT_GT(with_version, 0u);
  EXPECT_GT(with_exports, 0u);
  EXPECT_GT(with_imports, 0u);
}

TEST(PeResources, HostileTablesAreBounded) {
  const std::vector<std::string> files = cached_pe_files();
  if (files.empty()) CATENA_MISSING() << "no PE files in " << cache_dir();
  std::string bytes;
  std::optional<PeInfo> original;
  for (const std::string& path : files) {
    bytes = read_file(path);
    auto pe = parse_pe(bytes_of(bytes));
    if (pe && pe->version_info.contains("CompanyName") && !pe->exports.empty()) {
      original = *pe;
      break;
    }
  }
  ASSERT_TRUE(original.has_value());
  const auto le32 = [&](uint64_t at) {
    uint32_t v = 0;
    for (int idx = 0; idx < 4; ++idx)
      v |= uint32_t{static_cast<uint8_t>(bytes[at + idx])} << (8 * idx);
    return v;
  };
  const auto put32 = [](std::string& s, uint64_t at, uint32_t v) {
    for (int idx = 0; idx < 4; ++idx) s[at + idx] = static_cast<char>((v >> (8 * idx)) & 0xff);
  };
  const uint64_t e_lfanew = le32(0x3c);
  const uint64_t optional = e_lfanew + 24;
  const bool plus = static_cast<uint8_t>(bytes[optional + 1]) == 0x02;
  const uint64_t directories = optional + (plus ? 112 : 96);
  // The resource root's first entry made to point at the root itself.
  const auto resources = pe_rva_to_offset(*original, le32(directories + 16), bytes.size());
  ASSERT_TRUE(resources.has_value());
  std::string looped = bytes;
  put32(looped, *resources + 16 + 4, 0x80000000u);
  auto parsed = parse_pe(bytes_of(looped));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_FALSE(parsed->layout_problems.empty());
  // An export directory claiming four billion names.
  const auto exports = pe_rva_to_offset(*original, le32(directories), bytes.size());
  ASSERT_TRUE(exports.has_value());
  std::string many = bytes;
  put32(many, *exports + 24, 0xffffffffu);
  parsed = parse_pe(bytes_of(many));
  ASSERT_THAT(parsed, IsOk());
  EXPECT_TRUE(parsed->exports.empty());
  EXPECT_FALSE(parsed->layout_problems.empty());
}

}  // namespace
}  // namespace catena::formats
