#include "catena/content/analysers.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string_view>

#include "catena/core/rules.hpp"
#include "catena/formats/elf.hpp"
#include "catena/formats/format.hpp"
#include "catena/formats/macho.hpp"
#include "catena/formats/ole.hpp"
#include "catena/formats/pe.hpp"
#include "catena/formats/strings.hpp"
#include "catena/intel/index.hpp"
#include "catena/intel/signers.hpp"
#include "catena/intel/yara.hpp"
#include "catena/trust/sig.hpp"

namespace catena::content {
namespace {

using AnalyseFn = void (*)(const ContentView&, ContentFacts&, std::vector<Finding>&);

// The content parsed once by its format, whichever analyser asks first.
const formats::ParsedImage& parsed_image(const ContentView& view, ContentFacts& facts) {
  if (!facts.image) {
    const auto format = formats::parse_format_name(facts.format);
    facts.image = formats::parse_image(view.whole, format.value_or(formats::FileFormat::Other));
  }
  return *facts.image;
}

struct Analyser {
  std::string_view name;
  int version;
  Needs needs;
  AnalyseFn analyse;
};

void analyse_format(const ContentView& view, ContentFacts& facts, std::vector<Finding>&) {
  // The whole content when there is one: an MSI's directory (and root CLSID) is often at its
  // end, far beyond the head. Classification reads fixed offsets only, so this costs nothing.
  facts.format = std::string(
      formats::format_name(formats::classify_format(view.whole.empty() ? view.head : view.whole)));
}

// PE and Mach-O signatures: the verdict is a per-content fact; the structural anomalies (PE_*) are
// findings. Whether a signer is trusted depends on roots the scan was not given, so it is left to
// the stored verdict and to `catena sig --trust`.
void analyse_signature(const ContentView& view,
                       ContentFacts& facts,
                       std::vector<Finding>& findings) {
  if (view.whole.empty()) return;
  constexpr std::string_view kModuleMagic = "~Module signature appended~\n";
  const bool signed_module =
      facts.format == "elf" && view.whole.size() > kModuleMagic.size() &&
      std::memcmp(view.whole.data() + view.whole.size() - kModuleMagic.size(), kModuleMagic.data(),
                  kModuleMagic.size()) == 0;
  if (facts.format != "pe" && facts.format != "macho" && facts.format != "macho_fat" &&
      facts.format != "msi" && facts.format != "dmg" && !signed_module) {
    return;
  }
  static const trust::TrustStore store = [] {
    auto loaded = trust::TrustStore::load({});
    return loaded ? *loaded : trust::TrustStore{};
  }();
  trust::SigReport report = trust::check_signatures("", view.whole, parsed_image(view, facts),
                                                    store, /*finding_digests=*/false);
  if (facts.blocked_signers != nullptr) facts.blocked_signers->judge(report);
  facts.signature = report.verdict;
  for (const trust::Signature& signature : report.signatures) {
    if (signature.depth == 0 && !signature.subject.empty()) {
      facts.signer = signature.subject;
      break;
    }
  }
  for (Finding& f : report.findings) {
    if (f.rule.starts_with("PE_") || f.rule.starts_with("MACHO_") || f.rule.starts_with("MSI_") ||
        f.rule.starts_with("MODULE_") || f.rule.starts_with("DMG_") ||
        f.rule == "SIG_SIGNATURE_INVALID" || f.rule == "SIG_SIGNER_BLOCKED") {
      findings.push_back(std::move(f));
    }
  }
}

// The structure that matters for supply-chain questions: what an executable loads and from
// where, and how to recognise its build.
void analyse_structure(const ContentView& view, ContentFacts& facts, std::vector<Finding>&) {
  if (view.whole.empty()) return;
  nlohmann::json out;
  const formats::ParsedImage& image = parsed_image(view, facts);
  if (image.elf) {
    const auto& elf = *image.elf;
    if (!elf) return;
    out = {{"class", elf->is64 ? 64 : 32},
           {"endian", elf->big_endian ? "big" : "little"},
           {"type", elf->type},
           {"machine", elf->machine},
           {"needed", elf->needed}};
    if (!elf->interpreter.empty()) out["interpreter"] = elf->interpreter;
    if (!elf->soname.empty()) out["soname"] = elf->soname;
    if (!elf->rpath.empty()) out["rpath"] = elf->rpath;
    if (!elf->runpath.empty()) out["runpath"] = elf->runpath;
    if (!elf->build_id.empty()) out["build_id"] = elf->build_id;
    if (elf->module_signature) out["module_signature_bytes"] = elf->module_signature_length;
  } else if (image.pe) {
    const auto& pe = *image.pe;
    if (!pe) return;
    out = {{"machine", pe->machine},
           {"pe32_plus", pe->pe32_plus},
           {"dll", pe->is_dll()},
           {"subsystem", pe->subsystem},
           {"sections", pe->sections.size()},
           {"imports", pe->imports},
           {"certificates", pe->certificates.size()},
           {"resources", pe->resource_count}};
    if (!pe->export_name.empty()) out["export_name"] = pe->export_name;
    if (!pe->exports.empty()) out["exports"] = pe->exports.size();
    if (!pe->fixed_file_version.empty()) out["file_version"] = pe->fixed_file_version;
    if (!pe->version_info.empty()) out["version_info"] = pe->version_info;
  } else if (image.macho) {
    const auto& macho = *image.macho;
    if (!macho) return;
    nlohmann::json slices = nlohmann::json::array();
    for (const formats::MachoSlice& slice : macho->slices) {
      nlohmann::json item = {{"arch", formats::macho_cpu_name(slice.cpu_type)},
                             {"file_type", slice.file_type},
                             {"dylibs", slice.dylibs},
                             {"rpaths", slice.rpaths}};
      if (!slice.install_name.empty()) item["install_name"] = slice.install_name;
      if (!slice.uuid.empty()) item["uuid"] = slice.uuid;
      if (slice.signature && !slice.signature->code_directories.empty()) {
        const auto& cd = slice.signature->code_directories.front();
        item["identifier"] = cd.identifier;
        if (!cd.team_id.empty()) item["team_id"] = cd.team_id;
      }
      slices.push_back(std::move(item));
    }
    out = {{"fat", macho->fat}, {"slices", std::move(slices)}};
  } else if (image.ole) {
    const auto& ole = *image.ole;
    if (!ole) return;
    nlohmann::json streams = nlohmann::json::array();
    for (uint32_t id : ole->entries[0].children) {
      // Tables ("!...") are many and say little; the other streams are the payload.
      if (!ole->entries[id].name.starts_with("!")) streams.push_back(ole->entries[id].name);
    }
    out = {{"streams", std::move(streams)}};
    const long summary = formats::find_ole_child(*ole, 0, "\\x05SummaryInformation");
    if (summary >= 0) {
      if (auto data = formats::read_ole_stream(*ole, view.whole, static_cast<size_t>(summary))) {
        if (auto properties = formats::parse_summary_information(*data)) {
          out["summary"] = *properties;
        }
      }
    }
  } else {
    return;
  }
  facts.details = out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string hex_digest_of_ranges(std::span<const std::byte> bytes,
                                 const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  DigestSet digest(DigestSet::kSha256);
  for (const auto& [offset, length] : ranges) digest.update(bytes.subspan(offset, length));
  const DigestValues values = digest.finish();
  return to_hex(*values.sha256);
}

// What a release comparison needs of an executable, from its one parse (opt-in: a host scan
// does not ask for section entropy and strings of every binary).
void analyse_binary(const ContentView& view, ContentFacts& facts, std::vector<Finding>&) {
  if (!facts.binary_facts || view.whole.empty()) return;
  const formats::ParsedImage& image = parsed_image(view, facts);
  BinaryFacts out;
  if (image.pe && *image.pe) {
    const formats::PeInfo& pe = **image.pe;
    if (!pe.fixed_file_version.empty()) out.version["file_version"] = pe.fixed_file_version;
    for (const auto& [key, value] : pe.version_info) out.version[key] = value;
    out.libraries = pe.imports;
    out.imports = pe.imported_functions;
    out.exports = pe.exports;
    for (const formats::PeSection& section : pe.sections) {
      out.sections.push_back({.name = section.name,
                              .size = section.raw_size,
                              .entropy = formats::pe_section_entropy(view.whole, section),
                              .code = (section.characteristics & 0x20000020) != 0});
    }
    out.authenticode_sha256 =
        hex_digest_of_ranges(view.whole, formats::authenticode_ranges(pe, view.whole.size()));
    out.rebuild_sha256 = hex_digest_of_ranges(view.whole, formats::rebuild_ranges(pe, view.whole));
  } else if (image.elf && *image.elf) {
    const formats::ElfInfo& elf = **image.elf;
    if (!elf.soname.empty()) out.version["soname"] = elf.soname;
    if (!elf.build_id.empty()) out.version["build_id"] = elf.build_id;
    out.libraries = elf.needed;
    formats::ElfSymbols symbols = formats::elf_dynamic_symbols(view.whole, elf);
    out.imports = std::move(symbols.imports);
    out.exports = std::move(symbols.exports);
    for (const formats::ElfSection& section : elf.sections) {
      constexpr uint32_t kShtNobits = 8;
      if (section.type == kShtNobits || section.type == 0 || section.size == 0 ||
          section.offset >= view.whole.size()) {
        continue;
      }
      const uint64_t size = std::min<uint64_t>(section.size, view.whole.size() - section.offset);
      out.sections.push_back({.name = section.name,
                              .size = size,
                              .entropy = formats::entropy(view.whole.subspan(section.offset, size)),
                              .code = (section.flags & 0x4) != 0});
    }
  } else if (image.macho && *image.macho) {
    for (const formats::MachoSlice& slice : (**image.macho).slices) {
      const auto put = [&](const char* key, const std::string& value) {
        if (!value.empty() && !out.version.contains(key)) out.version[key] = value;
      };
      put("uuid", slice.uuid);
      put("dylib_version", slice.dylib_version);
      put("platform", slice.platform);
      put("min_os", slice.min_os);
      put("sdk", slice.sdk);
      put("source_version", slice.source_version);
      for (const std::string& dylib : slice.dylibs) {
        if (std::find(out.libraries.begin(), out.libraries.end(), dylib) == out.libraries.end()) {
          out.libraries.push_back(dylib);
        }
      }
    }
  } else {
    return;
  }
  formats::NetworkStrings strings = formats::network_strings(view.whole);
  out.network_strings = std::move(strings.values);
  out.network_strings_truncated = strings.truncated;
  facts.binary = std::move(out);
}

// YARA rules over the bytes already held; a file that is not held (read in chunks on a retry),
// too large, or that times out is reported as skipped, never silently passed.
void analyse_yara(const ContentView& view, ContentFacts& facts, std::vector<Finding>& findings) {
  if (facts.yara == nullptr) return;
  const auto skipped = [&](const std::string& reason) {
    Finding f = make_finding("YARA_SKIPPED", "");
    f.add_evidence("reason", reason);
    findings.push_back(std::move(f));
  };
  if (view.size > facts.yara_max_bytes) {
    skipped("larger than the YARA size cap (" + std::to_string(facts.yara_max_bytes) + " bytes)");
    return;
  }
  if (view.whole.size() != view.size) {
    skipped("not held in memory in one piece (the file changed while read)");
    return;
  }
  auto matches = facts.yara->scan(view.whole, facts.yara_timeout_seconds);
  if (!matches) {
    skipped(matches.error().code == ErrorCode::Interrupted
                ? "timed out after " + std::to_string(facts.yara_timeout_seconds) + " s"
                : matches.error().message);
    return;
  }
  for (const intel::YaraMatch& m : *matches) {
    Finding f = make_finding("YARA_MATCH", "");
    for (const auto& [key, value] : m.meta) {
      if (key != "severity") continue;
      if (auto severity = parse_severity(value)) f.severity = *severity;
    }
    f.add_evidence("rule", m.rule);
    if (!m.ns.empty() && m.ns != "default") f.add_evidence("namespace", m.ns);
    std::string tags;
    for (const std::string& tag : m.tags) tags += (tags.empty() ? "" : " ") + tag;
    if (!tags.empty()) f.add_evidence("tags", tags);
    for (const auto& [key, value] : m.meta) f.add_evidence("meta." + key, value);
    findings.push_back(std::move(f));
  }
}

// Indicators of compromise: the content's digests against the feeds' hashes (IOC_MATCH).
void analyse_ioc(const ContentView& view, ContentFacts& facts, std::vector<Finding>& findings) {
  if (facts.indicators == nullptr || facts.indicators->empty() || view.digests == nullptr) return;
  const auto raw = [](const auto& digest) {
    return digest ? std::string_view(reinterpret_cast<const char*>(digest->data()), digest->size())
                  : std::string_view();
  };
  const DigestValues& d = *view.digests;
  for (Finding& f : facts.indicators->match("", raw(d.sha256), raw(d.md5), raw(d.sha1))) {
    findings.push_back(std::move(f));
  }
}

// One explicit table, run in order; no self-registration. A change to what an analyser
// concludes raises its version, so that stored results of the old one are not reused.
constexpr std::array<Analyser, kAnalyserCount> kAnalysers = {{
    {"format", 1, Needs::Head, analyse_format},
    {"signature", 1, Needs::Whole, analyse_signature},
    {"structure", 1, Needs::Whole, analyse_structure},
    {"binary", 1, Needs::Whole, analyse_binary},
    {"yara", 1, Needs::Whole, analyse_yara},
    {"ioc", 1, Needs::Digests, analyse_ioc},
}};

}  // namespace

std::string_view analyser_name(size_t index) { return kAnalysers.at(index).name; }

Needs analyser_needs(size_t index) { return kAnalysers.at(index).needs; }

std::array<std::string, kAnalyserCount> analyser_components(const ContentFacts& inputs) {
  std::array<std::string, kAnalyserCount> out;
  for (size_t i = 0; i < kAnalysers.size(); ++i) {
    const Analyser& analyser = kAnalysers[i];
    if (analyser.needs == Needs::Digests) continue;  // run for every file, never remembered
    std::string inputs_text;
    if (analyser.name == "signature" || analyser.name == "structure") {
      // --no-analysis keeps the format (the inventory needs it) and YARA (asked for by name).
      if (inputs.format_only) continue;
      if (analyser.name == "signature" && inputs.blocked_signers != nullptr &&
          !inputs.blocked_signers->empty()) {
        inputs_text = inputs.blocked_signers->identity();
      }
    } else if (analyser.name == "binary") {
      if (!inputs.binary_facts) continue;
    } else if (analyser.name == "yara") {
      if (inputs.yara == nullptr) continue;
      inputs_text = inputs.yara->identity() + "/" + std::to_string(inputs.yara_max_bytes) + "/" +
                    std::to_string(inputs.yara_timeout_seconds);
    }
    out[i] = std::string(analyser.name) + "=" + std::to_string(analyser.version) +
             (inputs_text.empty() ? "" : "/" + inputs_text);
  }
  return out;
}

void run_analyser(size_t index,
                  const ContentView& view,
                  ContentFacts& facts,
                  std::vector<Finding>& findings) {
  kAnalysers.at(index).analyse(view, facts, findings);
}

bool costly_format(std::string_view format) {
  return format == "elf" || format == "pe" || format == "macho" || format == "macho_fat" ||
         format == "msi";
}

}  // namespace catena::content
