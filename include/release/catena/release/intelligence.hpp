#pragma once
/// What a scan matches each file of a release against, loaded once for a run's inspections: the
/// store's indicators and blocked signers, and YARA rules. Kept apart from inspect.hpp so that
/// what only reads inspections (reports) does not need the intelligence module's headers.
///
///   release::Intelligence intelligence;
///   CATENA_TRY_STATUS(intelligence.load(store.get(), {"rules/"}));
///   intelligence.apply(options.analysis);   // then release::inspect(path, options)
#include <optional>
#include <string>
#include <vector>

#include "catena/content/analysers.hpp"
#include "catena/core/result.hpp"
#include "catena/intel/index.hpp"
#include "catena/intel/intel_store.hpp"
#include "catena/intel/signers.hpp"
#include "catena/intel/yara.hpp"

namespace catena::release {

/// What a scan matches each file against, loaded once for a run's inspections: the store's
/// indicators and blocked signers, and YARA rules.
struct Intelligence {
  intel::IndicatorIndex indicators;
  intel::SignerBlocklist blocked_signers;
  std::optional<intel::YaraRules> yara;
  /// `store` may be null (no indicators, no blocked signers). A rule that does not compile is
  /// an error before anything is read.
  [[nodiscard]] Status load(intel::IntelStore* store, const std::vector<std::string>& yara_paths);
  /// Points the analysers' inputs at what was loaded (which must outlive them).
  void apply(content::ContentFacts& inputs) const;
};

}  // namespace catena::release
