#include "analysers.hpp"

#include <array>
#include <string_view>

#include "catena/formats/format.hpp"

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

// One explicit table, run in order; no self-registration.
constexpr std::array<Analyser, 1> kAnalysers = {{
    {"format", analyse_format},
}};

}  // namespace

void analyse_content(const ContentView& view, ContentFacts& facts, std::vector<Finding>& findings) {
  for (const Analyser& analyser : kAnalysers) analyser.analyse(view, facts, findings);
}

}  // namespace catena::scan
