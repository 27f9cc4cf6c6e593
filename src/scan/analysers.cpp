#include "analysers.hpp"

#include <array>
#include <string_view>

#include "catena/formats/format.hpp"
#include "catena/trust/sig.hpp"

namespace catena::scan {
namespace {

using AnalyseFn = void (*)(const ContentView&, ContentFacts&, std::vector<Finding>&);

struct Analyser {
  std::string_view name;
  AnalyseFn analyse;
};

void analyse_format(const ContentView& view, ContentFacts& facts, std::vector<Finding>&) {
  facts.format = std::string(formats::format_name(formats::classify_format(view.head)));
}

// PE signatures: the verdict is a per-content fact; the structural anomalies (PE_*) are findings.
// Whether a signer is trusted depends on roots the scan was not given, so it is left to the
// stored verdict and to `catena sig --trust`.
void analyse_signature(const ContentView& view,
                       ContentFacts& facts,
                       std::vector<Finding>& findings) {
  if (facts.format != "pe" || view.whole.empty()) return;
  static const trust::TrustStore store = [] {
    auto loaded = trust::TrustStore::load({});
    return loaded ? *loaded : trust::TrustStore{};
  }();
  trust::SigReport report = trust::check_signatures("", view.whole, store);
  facts.signature = report.verdict;
  for (Finding& f : report.findings) {
    if (f.rule.starts_with("PE_")) findings.push_back(std::move(f));
  }
}

// One explicit table, run in order; no self-registration.
constexpr std::array<Analyser, 2> kAnalysers = {{
    {"format", analyse_format},
    {"signature", analyse_signature},
}};

}  // namespace

void analyse_content(const ContentView& view, ContentFacts& facts, std::vector<Finding>& findings) {
  for (const Analyser& analyser : kAnalysers) analyser.analyse(view, facts, findings);
}

}  // namespace catena::scan
