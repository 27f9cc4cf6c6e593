#pragma once
// Content analysers: each sees a file's bytes once, during the read that hashes them, and adds
// per-content facts (stored in `contents`, keyed by SHA-256) and findings. A new check of file
// content is a new row in the table in analysers.cpp plus its rules in docs/rules.md; it never
// reads the file again.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "catena/core/digest.hpp"
#include "catena/core/finding.hpp"
#include "catena/formats/image.hpp"

namespace catena::intel {
class YaraRules;
class SignerBlocklist;
class IndicatorIndex;
}  // namespace catena::intel

namespace catena::content {

struct ContentView {
  std::span<const std::byte> head;        // the first bytes, up to formats::kClassifyHeadBytes
  std::span<const std::byte> whole;       // every byte when the file is mapped or fits in one read
  uint64_t size = 0;                      // the file's size; whole is empty when it is not held
  const DigestValues* digests = nullptr;  // for the analysers that need only the digests
};

/// One section of an executable (PE section, ELF section with file bytes, Mach-O has none here)
/// and the Shannon entropy of its bytes in the file, in bits per byte.
struct SectionFacts {
  std::string name;
  uint64_t size = 0;
  double entropy = 0;
  bool code = false;  // executable (PE IMAGE_SCN_MEM_EXECUTE or CNT_CODE, ELF SHF_EXECINSTR)
};

/// What a release comparison asks of an executable (PE, ELF, Mach-O), from the content's one
/// parse: how to recognise its version and build, what it links and exposes, how its sections
/// look, and which network endpoints its strings name.
struct BinaryFacts {
  /// Version fields: PE "file_version" (VS_FIXEDFILEINFO) and its VERSIONINFO strings
  /// (ProductVersion, FileVersion, ProductName, CompanyName, OriginalFilename, ...); Mach-O
  /// "uuid", "dylib_version", "platform", "min_os", "sdk", "source_version" (of the first slice
  /// that has them); ELF "soname" and "build_id".
  std::map<std::string, std::string> version;
  std::vector<std::string> libraries;  // imported DLLs, NEEDED, linked dylibs
  std::vector<std::string> imports;    // PE: "KERNEL32.dll!CreateProcessW"
  std::vector<std::string> exports;    // PE named exports
  std::vector<SectionFacts> sections;
  std::vector<std::string> network_strings;
  bool network_strings_truncated = false;
  /// PE: SHA-256 over the Authenticode ranges (what a signature's digest covers), signed or not;
  /// and over the same ranges less what a rebuild changes (formats::rebuild_ranges).
  std::string authenticode_sha256;
  std::string rebuild_sha256;
};

struct ContentFacts {
  // Set by the caller.
  bool format_only = false;  // classify, and run no other analyser
  const intel::YaraRules* yara = nullptr;
  const intel::SignerBlocklist* blocked_signers = nullptr;
  const intel::IndicatorIndex* indicators = nullptr;
  uint64_t yara_max_bytes = 256ull << 20;
  int yara_timeout_seconds = 10;
  bool binary_facts = false;  // run the binary analyser (release inspection asks for it)
  // Set by the analysers.
  std::string format;
  // The content parsed by its format, the first time an analyser asks (parsed_image()); every
  // later analyser of the same read takes it instead of parsing again.
  std::optional<formats::ParsedImage> image;
  std::string signature;  // the verdict of catena sig, for formats it verifies
  std::string signer;     // the subject of the first signature's signer, when signed
  std::optional<BinaryFacts> binary;
  std::string details;  // the format's structure as a JSON object (ELF, PE), or empty
};

/// The analysers of the table, in the order they run. An analyser's result depends on the
/// content, its version and its inputs (trust store, rule files, blocklists); `component` names
/// all three ("yara=1/<rules digest>"), so a stored result is reused only while it holds.
inline constexpr size_t kAnalyserCount = 6;
std::string_view analyser_name(size_t index);

/// What an analyser reads. Head and Whole analysers run during the read of a content whose
/// result is not yet known, and their results are remembered by content. A Digests analyser
/// (indicator matching) runs for every file, read or reused, from its digests alone, and is
/// never remembered: a lookup costs less than a stored result, and its inputs (the feeds)
/// change between scans.
enum class Needs { Head, Whole, Digests };
Needs analyser_needs(size_t index);

/// The component string of each analyser this scan runs (empty for one it does not run).
std::array<std::string, kAnalyserCount> analyser_components(const ContentFacts& inputs);

/// Runs one analyser of the table over the view. The format analyser must have run (or
/// `facts.format` been set) before the others. `whole` is a private copy or a stable mapping
/// (core/mapped.hpp): an analyser may read any byte of it and is never jumped out of.
void run_analyser(size_t index,
                  const ContentView& view,
                  ContentFacts& facts,
                  std::vector<Finding>& findings);

/// Formats whose analysis costs (signature verification, structure parsing): their facts are
/// remembered by content so that no copy is analysed twice.
bool costly_format(std::string_view format);

}  // namespace catena::content
