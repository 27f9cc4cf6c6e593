#include "catena/intel/index.hpp"

#include "catena/core/digest.hpp"
#include "catena/core/rules.hpp"

namespace catena::intel {

Status IndicatorIndex::load(IntelStore& store) {
  return store.for_each_indicator([this](intel::IndicatorRecord&& i) { add(std::move(i)); });
}

void IndicatorIndex::add(intel::IndicatorRecord indicator) {
  has_md5_ = has_md5_ || indicator.algorithm == "md5";
  has_sha1_ = has_sha1_ || indicator.algorithm == "sha1";
  std::string key = indicator.algorithm + ":" + indicator.digest;
  by_digest_[std::move(key)].push_back(std::move(indicator));
  ++count_;
}

std::vector<Finding> IndicatorIndex::match(const std::string& path,
                                           std::string_view sha256,
                                           std::string_view md5,
                                           std::string_view sha1) const {
  std::vector<Finding> out;
  if (count_ == 0) return out;
  for (const auto& [algorithm, digest] :
       {std::pair<std::string_view, std::string_view>{"sha256", sha256},
        {"md5", md5},
        {"sha1", sha1}}) {
    if (digest.empty()) continue;
    auto found = by_digest_.find(std::string(algorithm) + ":" + std::string(digest));
    if (found == by_digest_.end()) continue;
    for (const intel::IndicatorRecord& i : found->second) {
      Finding f = make_finding("IOC_MATCH", path);
      f.add_evidence("feed", i.feed);
      f.add_evidence("algorithm", i.algorithm);
      f.add_evidence(
          "indicator",
          to_hex(std::span(reinterpret_cast<const uint8_t*>(i.digest.data()), i.digest.size())));
      if (!i.label.empty()) f.add_evidence("label", i.label);
      if (!i.reference.empty()) f.add_evidence("source", i.reference);
      out.push_back(std::move(f));
    }
  }
  return out;
}

}  // namespace catena::intel
