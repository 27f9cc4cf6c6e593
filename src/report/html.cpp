// The audit as one HTML page a person opens in a browser: inline CSS only, no scripts and no
// external resources (a Content-Security-Policy forbids them), every attacker-influenced byte
// escaped.
#include <fmt/format.h>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "catena/report/render.hpp"
#include "json_util.hpp"

namespace catena::report {
namespace {

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

constexpr std::string_view kStyle = R"css(
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
)css";

std::string upper_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  return out;
}

std::string severity_class(Severity s) { return std::string(severity_name(s)); }

void put(std::FILE* out, const std::string& text) { std::fputs(text.c_str(), out); }

}  // namespace

Status write_html_report(std::FILE* out, const ScanReport& report) {
  const std::string_view overall = overall_verdict(report);
  const std::string title = "catena " + report.command + " of " + report.host;
  put(out,
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">\n<meta name=\"viewport\" "
      "content=\"width=device-width,initial-scale=1\">\n<title>" +
          html(title) + "</title>\n<style>" + std::string(kStyle) +
          "</style></head>\n<body><main>\n");
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
      put(out, "<h2>Standard: " + html(access.standard) + "</h2>\n");
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
                     (refs.empty() ? "none" : refs) + "</td></tr>\n");
      }
      put(out, "</table>\n");
    }
  }

  put(out, "<h2>Findings (" + std::to_string(report.findings.size()) + ")</h2>\n");
  if (report.findings.empty()) {
    put(out, "<p>No findings.</p>\n");
  } else {
    put(out,
        "<table><tr><th>#</th><th>severity</th><th>rule</th><th>path and evidence</th></tr>\n");
    uint64_t number = 0;
    CATENA_TRY_STATUS(report.findings.for_each([&](const Finding& f) {
      const uint64_t i = number++;
      std::string evidence;
      for (const auto& [key, value] : f.evidence) {
        evidence +=
            "<br><span class=\"ev\">" + html(key) + ": <code>" + html(value) + "</code></span>";
      }
      put(out, "<tr id=\"f" + std::to_string(i + 1) + "\"><td>" + std::to_string(i + 1) +
                   "</td><td class=\"sev " + severity_class(f.severity) + "\">" +
                   html(severity_name(f.severity)) + "</td><td>" + html(f.rule) +
                   "</td><td><span class=\"mono\"><code>" + html(f.path) + "</code></span><br>" +
                   html(f.message) + evidence + "</td></tr>\n");
    }));
    put(out, "</table>\n");
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
