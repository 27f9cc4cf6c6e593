// The audit as one HTML page a person opens in a browser: inline CSS and inline SVG only, no
// scripts and no external resources (a Content-Security-Policy forbids them), every
// attacker-influenced byte escaped. It leads with the verdict, build access and the standard's
// rules, then pictures (by severity, by rule, this host over its audits), the new findings, and
// every finding in collapsible groups. Rows leave their closing tags out (HTML allows it) to
// keep a page of 10,000 findings small.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/report/render.hpp"
#include "html_util.hpp"
#include "json_util.hpp"

namespace catena::report {

std::string html(std::string_view bytes) {
  const std::string text = utf8_text(bytes);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const std::string_view kPageStyle = R"css(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2330;background:#f5f6f8}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
.meta{color:#5b6474}
.verdict{display:inline-block;padding:6px 14px;border-radius:6px;font-weight:700;font-size:18px;margin:12px 0;color:#fff}
.pass{background:#1f7a3a}.fail{background:#b3261e}.advice,.incomplete{background:#9a6700}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e3e6eb;vertical-align:top}
th{background:#eceef2;font-weight:600}
td.mono,code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12.5px;word-break:break-all}
.status{font-weight:700}.status.pass{color:#1f7a3a;background:none}.status.fail{color:#b3261e;background:none}.status.advice{color:#9a6700;background:none}.status.skipped{color:#57606a;background:none}
.sev{font-weight:700;text-transform:uppercase;font-size:12px}
.critical{color:#7f0000}.high{color:#b3261e}.medium{color:#9a6700}.low{color:#2f5f8a}.info{color:#5b6474}
.crit{font-weight:700;color:#b3261e}
.rid{white-space:nowrap}
.ev{color:#3d4452;font-size:12.5px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:8px 14px;min-width:90px}
.card b{display:block;font-size:20px}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{background:#fff;border:1px solid #e3e6eb;border-radius:6px;padding:8px}
.chart h3{font-size:13px;margin:0 0 4px;color:#5b6474}
svg text{font:11px system-ui,sans-serif;fill:#1d2330}
.graph{overflow-x:auto}.graph svg text{fill:#fff;font-size:10px}.graph svg text.kind{font-size:9px;opacity:.85}.graph svg text.axis{fill:#5b6474;font-size:10px}
details{background:#fff;border:1px solid #e3e6eb;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:6px 10px}
details table{margin:0}
.why{color:#3d4452;font-size:12.5px;margin:2px 0 0 18px}
.new{background:#fde8e6;color:#b3261e;font-size:11px;font-weight:700;padding:0 4px;border-radius:3px}
.count{color:#5b6474}
.ft td:nth-child(3){width:34%}.ft td:nth-child(4){width:10%}
.ct td:nth-child(3){width:24%}.ct td:nth-child(5),.ct td:nth-child(6){width:20%}
.nb{white-space:nowrap}
.legend-all{color:#2f5f8a}.legend-high{color:#b3261e}
)css";

void put(std::FILE* out, const std::string& text) { std::fputs(text.c_str(), out); }

void put_page_head(std::FILE* out, const std::string& title) {
  put(out,
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n<meta name=\"viewport\" "
      "content=\"width=device-width,initial-scale=1\">\n<title>" +
          html(title) + "</title>\n<style>" + std::string(kPageStyle) +
          "</style></head>\n<body><main>\n");
}

std::string upper_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  return out;
}

std::string severity_class(Severity s) { return std::string(severity_name(s)); }

std::string_view severity_fill(Severity s) {
  switch (s) {
    case Severity::Critical:
      return "#7f0000";
    case Severity::High:
      return "#b3261e";
    case Severity::Medium:
      return "#c98a00";
    case Severity::Low:
      return "#2f5f8a";
    case Severity::Info:
      return "#8a93a3";
  }
  return "#8a93a3";
}

// Horizontal bars, one per (label, value, colour): findings by severity, by rule.
std::string bar_chart(const std::vector<std::tuple<std::string, uint64_t, std::string>>& bars) {
  constexpr int kBar = 220, kRow = 18;
  // Wide enough for the longest label (about 7 px a character at 11 px), so none is cut.
  int label_width = 120;
  uint64_t most = 1;
  for (const auto& bar : bars) {
    most = std::max(most, std::get<1>(bar));
    label_width = std::max(
        label_width, static_cast<int>(std::min<size_t>(std::get<0>(bar).size(), 60)) * 7 + 10);
  }
  const int height = static_cast<int>(bars.size()) * kRow + 4;
  std::string svg = fmt::format(
      "<svg width=\"{}\" height=\"{}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">",
      label_width + kBar + 60, height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& [label, value, fill] = bars[i];
    const int y = static_cast<int>(i) * kRow + 2;
    const int width = value == 0 ? 0 : std::max(1, static_cast<int>(value * kBar / most));
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><rect x=\"{}\" y=\"{}\" "
        "width=\"{}\" height=\"{}\" fill=\"{}\"><title>{}: {}</title></rect><text x=\"{}\" "
        "y=\"{}\">{}</text>",
        label_width - 6, y + 12, html(label), label_width, y + 2, width, kRow - 5, fill,
        html(label), value, label_width + width + 4, y + 12, value);
  }
  return svg + "</svg>";
}

std::string finding_charts(const FindingCounts& counts,
                           const std::map<std::string, uint64_t>& by_rule) {
  std::vector<std::tuple<std::string, uint64_t, std::string>> bars;
  for (Severity s : kSeverities) {
    bars.emplace_back(std::string(severity_name(s)), counts.by_severity[static_cast<size_t>(s)],
                      std::string(severity_fill(s)));
  }
  std::string out =
      "<div class=\"chart\"><h3>Findings by severity</h3>" + bar_chart(bars) + "</div>";
  std::vector<std::pair<std::string, uint64_t>> rules(by_rule.begin(), by_rule.end());
  std::stable_sort(rules.begin(), rules.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  constexpr size_t kRulesShown = 10;
  bars.clear();
  for (size_t i = 0; i < rules.size() && i < kRulesShown; ++i) {
    bars.emplace_back(rules[i].first, rules[i].second, "#2f5f8a");
  }
  const std::string more = rules.size() > kRulesShown
                               ? fmt::format(" (the {} largest of {})", kRulesShown, rules.size())
                               : std::string();
  return out + "<div class=\"chart\"><h3>Findings by rule" + more + "</h3>" +
         (bars.empty() ? std::string("none") : bar_chart(bars)) + "</div>";
}

namespace {

// This host's findings over its audits, one point per audit: all findings, and those at high
// or above.
std::string trend_chart(const std::vector<AuditPoint>& history) {
  constexpr int kWidth = 520, kHeight = 150, kLeft = 44, kBottom = 22, kTop = 8;
  uint64_t most = 1;
  for (const AuditPoint& p : history) most = std::max(most, p.counts.total);
  const auto x = [&](size_t i) {
    return history.size() == 1
               ? kLeft + (kWidth - kLeft) / 2
               : kLeft + static_cast<int>(i * (kWidth - kLeft - 10) / (history.size() - 1));
  };
  const auto y = [&](uint64_t value) {
    return kTop + static_cast<int>((most - value) * (kHeight - kTop - kBottom) / most);
  };
  std::string svg = fmt::format(
      "<svg width=\"{}\" height=\"{}\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">"
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#c5cad3\"/>"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">0</text>",
      kWidth, kHeight, kLeft, kHeight - kBottom, kWidth, kHeight - kBottom, kLeft - 4, kTop + 8,
      most, kLeft - 4, kHeight - kBottom);
  for (const bool severe : {false, true}) {
    std::string points;
    for (size_t i = 0; i < history.size(); ++i) {
      const FindingCounts& c = history[i].counts;
      const uint64_t value = severe ? c.at_least(Severity::High) : c.total;
      points += fmt::format("{},{} ", x(i), y(value));
    }
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>",
                       severe ? "#b3261e" : "#2f5f8a", points);
  }
  for (size_t i = 0; i < history.size(); ++i) {
    const AuditPoint& p = history[i];
    svg += fmt::format(
        "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"#2f5f8a\"><title>audit {} of {}: {} "
        "findings, {} high or above</title></circle>",
        x(i), y(p.counts.total), p.scan_id, html(format_rfc3339(p.started_ns).substr(0, 10)),
        p.counts.total, p.counts.at_least(Severity::High));
  }
  if (!history.empty()) {
    svg += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", kLeft, kHeight - 6,
                       html(format_rfc3339(history.front().started_ns).substr(0, 10)));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>", kWidth - 4,
                       kHeight - 6, html(format_rfc3339(history.back().started_ns).substr(0, 10)));
  }
  return svg + "</svg>";
}

std::string group_title_html(const FindingGroup& g) {
  const std::string count = std::to_string(g.count);
  if (g.by == "package") {
    return count + (g.count == 1 ? " file" : " files") + " of package <code>" + html(g.key) +
           "</code>" + (g.within.empty() ? "" : " under <code>" + html(g.within) + "</code>");
  }
  if (g.by == "signer") return count + " signed by <code>" + html(g.key) + "</code>";
  if (g.by == "directory") return count + " in <code>" + html(g.key) + "</code>";
  return count + (g.count == 1 ? " finding" : " findings");
}

}  // namespace

// One finding as a table row: number, severity, subject, package, message and evidence. The
// explanation is its group's, said once above the rows.
std::string finding_row(uint64_t number, const Finding& f, bool is_new, bool anchor) {
  std::string evidence;
  std::string package;
  for (const auto& [key, value] : f.evidence) {
    if (key == "explanation" || key == "group_root") continue;
    if (key == "package") package = value;
    evidence += (evidence.empty() ? "" : "; ") + html(key) + ": <code>" + html(value) + "</code>";
  }
  return (anchor ? "<tr id=\"f" + std::to_string(number) + "\">" : std::string("<tr>")) + "<td>" +
         std::to_string(number) + (is_new ? " <span class=\"new\">new</span>" : "") +
         "<td class=\"sev " + std::string(severity_name(f.severity)) + "\">" +
         std::string(severity_name(f.severity)) + "<td class=\"mono\"><code>" +
         html(finding_subject(f)) + "</code><td>" + html(package) + "<td>" + html(f.message) +
         (evidence.empty() ? "" : "<br><span class=\"ev\">" + evidence + "</span>") + "\n";
}

const std::string_view kFindingHead =
    "<table class=\"ft\"><tr><th>#</th><th>severity</th><th>path</th><th>package</th><th>what and "
    "evidence</th></tr>\n";

Status write_html_report(std::FILE* out, const ScanReport& report) {
  const std::string_view overall = overall_verdict(report);
  const std::string title = "catena " + report.command + " of " + report.host;
  put_page_head(out, title);
  put(out, "<h1>" + html(title) + "</h1>\n");
  put(out, "<div class=\"meta\">" + html(format_rfc3339(report.started_ns)) + " to " +
               html(format_rfc3339(report.finished_ns)) + " &middot; scan " +
               std::to_string(report.scan_id) + " &middot; " +
               html(scan::scan_status_name(report.status)) + "</div>\n");
  size_t skipped = 0;
  if (report.access) {
    for (const AuditRule& rule : report.access->rules) skipped += rule.status == "skipped" ? 1 : 0;
  }
  const std::string incomplete = skipped == 0
                                     ? std::string()
                                     : " (incomplete: " + std::to_string(skipped) + " rule" +
                                           (skipped == 1 ? "" : "s") + " not examined)";
  put(out, "<div class=\"verdict " + std::string(overall) + "\" id=\"verdict\">Verdict: " +
               html(upper_ascii(overall)) + html(incomplete) + "</div>\n");

  // The findings, grouped; every one is held, as a page shows them all.
  FindingGrouper grouper(SIZE_MAX, true);
  std::map<std::string, uint64_t> by_rule;
  uint64_t seen = 0;
  CATENA_TRY_STATUS(report.findings.for_each([&](const Finding& f) {
    grouper.add(++seen, f);
    ++by_rule[f.rule];
  }));
  const std::vector<FindingGroup> groups = std::move(grouper).finish();
  const FindingComparison* comparison = report.comparison ? &*report.comparison : nullptr;

  const FindingCounts& counts = report.findings.counts();
  put(out, "<div class=\"cards\"><div class=\"card\"><b>" + std::to_string(counts.total) +
               "</b>findings</div>");
  for (Severity s : kSeverities) {
    put(out, "<div class=\"card\"><b class=\"" + severity_class(s) + "\">" +
                 std::to_string(counts.by_severity[static_cast<size_t>(s)]) + "</b>" +
                 std::string(severity_name(s)) + "</div>");
  }
  if (comparison != nullptr) {
    put(out, fmt::format("<div class=\"card\"><b>{}</b>new since audit {}</div><div "
                         "class=\"card\"><b>{}</b>still open</div><div "
                         "class=\"card\"><b>{}</b>resolved</div>",
                         comparison->new_count, comparison->scan_id, comparison->open_count,
                         comparison->resolved.size()));
  }
  put(out, "</div>\n");

  if (report.access) {
    const AccessSection& access = *report.access;
    put(out, "<h2>Build access</h2>\n");
    if (!access.examined) {
      put(out, "<p>Build access was not examined: the host is held to the standard.</p>\n");
    } else if (access.build_access) {
      put(out, "<p>This host <strong>holds build access</strong> via:</p>\n<ul>\n");
      for (const access::Discovery& d : access.discoveries) {
        if (!d.build_critical) continue;
        put(out, "<li><code>" + html(d.kind) + "</code> " + html(d.path) +
                     (d.target.empty() ? "" : " &rarr; " + html(d.target)) + "</li>\n");
      }
      put(out, "</ul>\n");
    } else {
      put(out,
          "<p>No build access was found on this host: the standard's rules below are "
          "advice.</p>\n");
    }
    if (!access.standard.empty()) {
      size_t passed = 0;
      for (const AuditRule& rule : access.rules) passed += rule.status == "pass" ? 1 : 0;
      put(out, "<h2>Standard: " + html(access.standard) + " &middot; " + std::to_string(passed) +
                   " of " + std::to_string(access.rules.size()) + " rules pass</h2>\n");
      put(out, "<table><tr><th>status</th><th>rule</th><th>findings</th></tr>\n");
      for (const AuditRule& rule : access.rules) {
        std::string refs;
        for (const FindingRef& f : rule.examples) {
          if (!refs.empty()) refs += ", ";
          refs += "<a href=\"#f" + std::to_string(f.id) + "\">#" + std::to_string(f.id) + " " +
                  html(f.rule) + "</a>";
        }
        if (rule.count > rule.examples.size()) {
          refs += " and " + std::to_string(rule.count - rule.examples.size()) + " more";
        }
        put(out, "<tr><td class=\"status " + html(rule.status) + "\">" +
                     html(upper_ascii(rule.status)) + "</td><td><strong class=\"rid\">" +
                     html(rule.id) + "</strong><br>" + html(rule.title) + "</td><td>" +
                     (rule.count == 0 ? "none" : std::to_string(rule.count) + ": " + refs) +
                     "</td></tr>\n");
      }
      put(out, "</table>\n");
    }
  }

  // Pictures: by severity, by rule (the ten largest), and this host over its audits.
  put(out, "<h2>At a glance</h2>\n<div class=\"charts\">");
  {
    put(out, finding_charts(counts, by_rule));
    if (!report.history.empty()) {
      put(out, "<div class=\"chart\"><h3>This host's findings over its last " +
                   std::to_string(report.history.size()) +
                   " audits: <span class=\"legend-all\">all</span>, <span "
                   "class=\"legend-high\">high or above</span></h3>" +
                   trend_chart(report.history) + "</div>");
    }
  }
  put(out, "</div>\n");

  if (comparison != nullptr) {
    put(out, "<h2 id=\"new\">New since audit " + std::to_string(comparison->scan_id) + " (" +
                 std::to_string(comparison->new_count) + ")</h2>\n");
    if (comparison->new_count == 0) {
      put(out, "<p>Nothing new.</p>\n");
    } else {
      put(out, std::string(kFindingHead));
      uint64_t number = 0;
      CATENA_TRY_STATUS(report.findings.for_each([&](const Finding& f) {
        ++number;
        if (comparison->is_new(f)) put(out, finding_row(number, f, true, false));
      }));
      put(out, "</table>\n");
    }
  }

  put(out, "<h2 id=\"groups\">Findings (" + std::to_string(counts.total) + ") in " +
               std::to_string(groups.size()) + " groups</h2>\n");
  if (groups.empty()) put(out, "<p>No findings.</p>\n");
  constexpr size_t kOpenGroup = 3;
  for (const FindingGroup& g : groups) {
    put(out,
        std::string("<details") + (g.count <= kOpenGroup ? " open" : "") +
            "><summary><span class=\"sev " + severity_class(g.severity) + "\">" +
            html(severity_name(g.severity)) + "</span> <strong>" + html(g.rule) + "</strong> " +
            group_title_html(g) +
            (g.explanation.empty() ? "" : "<div class=\"why\">" + html(g.explanation) + "</div>") +
            "</summary>\n" + std::string(kFindingHead));
    for (size_t i = 0; i < g.first.size(); ++i) {
      const bool is_new = comparison != nullptr && comparison->is_new(g.first[i]);
      put(out, finding_row(g.members[i], g.first[i], is_new, true));
    }
    put(out, "</table></details>\n");
  }

  if (comparison != nullptr && !comparison->resolved.empty()) {
    put(out, "<h2>Resolved since audit " + std::to_string(comparison->scan_id) + " (" +
                 std::to_string(comparison->resolved.size()) + ")</h2>\n");
    put(out, "<details><summary>" + std::to_string(comparison->resolved.size()) +
                 " findings of the earlier audit are gone</summary>\n" + std::string(kFindingHead));
    uint64_t number = 0;
    for (const Finding& f : comparison->resolved) put(out, finding_row(++number, f, false, false));
    put(out, "</table></details>\n");
  }

  if (report.access && !report.access->discoveries.empty()) {
    const AccessSection& access = *report.access;
    put(out,
        "<h2>Build access discoveries (" + std::to_string(access.discoveries.size()) + ")</h2>\n");
    put(out,
        "<table><tr><th>kind</th><th>reaches</th><th>account</th><th>file</th><th>owner, "
        "mode</th><th>protection</th><th>fingerprint</th><th>build-critical</th></tr>\n");
    for (const access::Discovery& d : access.discoveries) {
      put(out, "<tr><td>" + html(d.kind) + "</td><td class=\"mono\">" + html(d.target) +
                   "</td><td>" + html(d.account) + "</td><td class=\"mono\">" + html(d.path) +
                   "</td><td>" + html(d.owner) + fmt::format(" {:04o}", d.mode & 07777) +
                   "</td><td>" + html(d.protection) + "</td><td class=\"mono\">" +
                   html(d.fingerprint) + "</td><td>" +
                   (d.build_critical ? "<span class=\"crit\">yes</span>" : "no") + "</td></tr>\n");
    }
    put(out, "</table>\n");
  }
  put(out, "<h2>Inventory</h2>\n<table>\n");
  if (report.show_totals) {
    put(out, "<tr><th>files</th><td>" + std::to_string(report.totals.files) + " (" +
                 html(human_bytes(report.totals.bytes)) + "), " +
                 std::to_string(report.totals.errors) + " errors</td></tr>\n");
  }
  for (const std::string& root : report.roots) {
    put(out, "<tr><th>scanned</th><td class=\"mono\">" + html(root) + "</td></tr>\n");
  }
  for (const auto& [key, value] : report.summary) {
    put(out, "<tr><th>" + html(key) + "</th><td>" + html(value) + "</td></tr>\n");
  }
  if (!report.store_path.empty()) {
    put(out, "<tr><th>store</th><td class=\"mono\">" + html(report.store_path) + "</td></tr>\n");
  }
  put(out, "</table>\n<p class=\"meta\">catena " CATENA_VERSION "</p>\n</main></body></html>\n");
  return {};
}

}  // namespace catena::report
