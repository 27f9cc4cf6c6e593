#include <cstddef>
#include <cstdint>
#include <string_view>

#include "catena/pkg/control.hpp"
#include "catena/pkg/database.hpp"
#include "catena/pkg/dpkg.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)catena::pkg::parse_list(text);
  (void)catena::pkg::parse_diversions(text);
  (void)catena::pkg::parse_md5sums(text);
  (void)catena::pkg::parse_status(text);
  (void)catena::pkg::for_each_paragraph(text, [](const catena::pkg::Paragraph& p) {
    (void)catena::pkg::continuation_lines(p.get("Conffiles"));
    return true;
  });
  return 0;
}
