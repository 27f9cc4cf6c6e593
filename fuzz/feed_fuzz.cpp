#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catena/intel/feed.hpp"
#include "stix_pattern.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto format : {catena::intel::FeedFormat::Auto, catena::intel::FeedFormat::Plain,
                      catena::intel::FeedFormat::Csv, catena::intel::FeedFormat::Json}) {
    (void)catena::intel::parse_feed(text, format, {});
  }
  (void)catena::intel::stix_comparisons(text);  // patterns reach it nested in JSON only rarely
  return 0;
}
