#pragma once
// Private HTML helpers of the report module, shared by the audit page and the release diff
// page: escaping, the page's head and style, bar charts and finding rows.
#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "catena/core/finding.hpp"

namespace catena::report {

// Attacker bytes made valid UTF-8 and escaped for text and attribute values.
std::string html(std::string_view bytes);
std::string upper_ascii(std::string_view text);
std::string severity_class(Severity s);
void put(std::FILE* out, const std::string& text);

// The page up to and including <main>: a Content-Security-Policy that allows nothing but the
// inline style, so that no byte of the page can load or run anything.
void put_page_head(std::FILE* out, const std::string& title);
extern const std::string_view kPageStyle;

inline constexpr std::array<Severity, 5> kSeverities = {
    Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info};
std::string_view severity_fill(Severity s);

// Horizontal bars, one per (label, value, colour), as inline SVG.
std::string bar_chart(const std::vector<std::tuple<std::string, uint64_t, std::string>>& bars);

// Two charts: findings by severity, and by rule (the ten largest).
std::string finding_charts(const FindingCounts& counts,
                           const std::map<std::string, uint64_t>& by_rule);

// A finding as a row of a kFindingHead table; `anchor` gives the row the id "f<number>".
std::string finding_row(uint64_t number, const Finding& f, bool is_new, bool anchor);
extern const std::string_view kFindingHead;

}  // namespace catena::report
