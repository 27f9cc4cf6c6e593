#pragma once
/// Renderers for everything catena prints: scan and audit reports, findings, inventory records
/// and occurrences, as table, json, jsonl or SARIF 2.1.0.
///
/// JSON is always valid UTF-8: a path that is not UTF-8 is given as `path` (escaped, readable)
/// plus `path_b64` (its exact bytes). Table output escapes control characters and the Unicode
/// format characters that can disguise text, and is coloured only when asked.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "catena/access/discovery.hpp"
#include "catena/core/finding.hpp"
#include "catena/core/result.hpp"
#include "catena/graph/graph.hpp"
#include "catena/release/diff.hpp"
#include "catena/release/inspect.hpp"
#include "catena/scan/scan_store.hpp"

namespace catena::report {

enum class Format { Table, Json, Jsonl, Sarif };
/// "table", "json", "jsonl", "sarif"; Usage error otherwise.
[[nodiscard]] Result<Format> parse_format(std::string_view text);

struct Style {
  bool color = false;
  bool all = false;  // every finding in full, not grouped
  size_t width = 0;  // the terminal's columns, to fit paths into; 0: no limit
};

/// A rule of the audit's standard and how the host fared: "pass", "fail" or "advice".
struct AuditRule {
  std::string id;
  std::string title;
  std::string status;
  uint64_t count = 0;                // findings that break the rule
  std::vector<FindingRef> examples;  // the first of them, by their number in the report
};

/// Build access found on the host and, for an audit, the verdict of the standard.
struct AccessSection {
  bool examined = true;  // false: access was not looked for (the standard is enforced)
  bool build_access = false;
  std::vector<access::Discovery> discoveries;
  uint64_t files_examined = 0;
  std::string standard;  // empty: no standard was evaluated (`access scan`)
  std::string verdict;   // "pass", "fail" or "advice"
  std::vector<AuditRule> rules;
};

/// One audit of the host, for the trend of its findings.
struct AuditPoint {
  int64_t scan_id = 0;
  int64_t started_ns = 0;
  FindingCounts counts;
};

/// What a scan, an audit or a check reports.
struct ScanCounts {
  bool full_pass = true;
  std::vector<std::pair<std::string, uint64_t>> analyser_runs;
};

struct ScanReport {
  std::string command;  // "scan", "audit", "packages verify"
  int64_t scan_id = 0;  // 0 when nothing was stored
  std::string host;
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  scan::ScanStatus status = scan::ScanStatus::Complete;
  scan::ScanTotals totals;
  std::vector<std::string> roots;
  FindingStream findings;  // most severe first; a scan's are read from the store as printed
  Severity fail_on = Severity::High;
  std::string store_path;
  /// Named counts of what was checked ("packages": "849"), printed after the totals.
  std::vector<std::pair<std::string, std::string>> summary;
  /// False for reports of checks that scan no files: no file totals are printed.
  bool show_totals = true;
  std::optional<AccessSection> access;
  /// For scans and audits: whether every file was read, and how many contents each analyser
  /// examined (totals.files_read and files_reused say how many files were read or reused).
  std::optional<ScanCounts> scan_counts;
  /// Against the host's earlier audit: each finding new or open, and those resolved since.
  std::optional<FindingComparison> comparison;
  /// The host's audits up to this one, oldest first (the HTML page draws their trend).
  std::vector<AuditPoint> history;
};

/// "pass" when no finding is at or above fail_on and the scan completed, "fail" when one is,
/// "incomplete" when the scan did not complete and nothing failed.
std::string_view verdict(const ScanReport& report);

/// Writes the report to `out` in `format`. The SARIF and json forms are one document; jsonl is
/// one finding per line. Findings are written as they are read, never held together; an error
/// when they cannot be read (the output is then cut short).
[[nodiscard]] Status write_scan_report(std::FILE* out,
                                       const ScanReport& report,
                                       Format format,
                                       Style style);

/// A single self-contained HTML page of the report (no scripts, no external resources):
/// verdict, build access, the standard's rules, findings with evidence, inventory summary.
[[nodiscard]] Status write_html_report(std::FILE* out, const ScanReport& report);

/// A streaming writer of inventory records (json: one array; jsonl: one object per line).
class InventoryWriter {
 public:
  InventoryWriter(std::FILE* out, Format format);
  void add(const scan::FileRecord& record);
  void add(const scan::Occurrence& occurrence);
  void finish();

 private:
  void write_json(const std::string& object);

  std::FILE* out_;
  Format format_;
  size_t count_ = 0;
};

/// The scans of the store, one row or object each.
void write_scan_list(std::FILE* out, const std::vector<scan::ScanRecord>& scans, Format format);

/// The overall verdict: the standard's when one was evaluated ("fail" when it failed), else
/// verdict(); findings at or above fail_on always fail.
std::string_view overall_verdict(const ScanReport& report);

/// Findings that belong together: one rule, and what they are about — the package (packaged
/// files; beneath one rewritten directory when the evidence names one), the signer (signature
/// findings), the directory of the path (unowned files, access discoveries, everything else
/// with a path), else the rule alone (findings about the host or about packages as a whole).
struct FindingGroup {
  std::string rule;
  Severity severity = Severity::Info;  // the most severe member's
  std::string by;                      // "package", "signer", "directory" or "rule"
  std::string key;                     // the package name, signer or directory; "" by rule
  std::string within;  // the directory a language package manager rewrote (evidence group_root)
  /// Evidence `explanation` that every member carries (why they changed together), or empty.
  std::string explanation;
  uint64_t count = 0;
  /// Numbers of the findings (1 = the first) in report order: all of them, or the first few.
  std::vector<uint64_t> members;
  std::vector<Finding> first;  // the first few members themselves, when kept
};

/// Groups findings as they stream past, holding per group only its count, member numbers and
/// its first `keep` findings: memory grows with the groups, not the findings.
class FindingGrouper {
 public:
  /// `keep`: findings held per group; `all_numbers`: members lists every number (else `keep`).
  FindingGrouper(size_t keep, bool all_numbers) : keep_(keep), all_numbers_(all_numbers) {}
  void add(uint64_t number, const Finding& finding);
  /// Most severe first, then the largest, then by rule and key.
  std::vector<FindingGroup> finish() &&;

 private:
  size_t keep_;
  bool all_numbers_;
  std::vector<FindingGroup> groups_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, size_t> index_;
};

/// The groups of `findings` (in report order) with every member's number.
std::vector<FindingGroup> group_findings(const std::vector<Finding>& findings);

/// What a report says beyond its scan's record and findings (the command, fail-on, the steps'
/// lines, the scan's counts, build access and the standard's verdict, the audit it was
/// compared with), as a JSON text to keep with the scan.
std::string report_context_json(const ScanReport& report);
/// Sets those parts of `report` from a kept context; returns the scan id it was compared with.
/// Parse error when the text is not such a context.
[[nodiscard]] Result<std::optional<int64_t>> apply_report_context(ScanReport& report,
                                                                  std::string_view text);

/// `catena release inspect`: every file with its nesting, size, SHA-256 and format, then the
/// findings (json: one document; jsonl: a record per file, per finding, then a summary; sarif
/// is taken as json).
[[nodiscard]] Status write_inspection(std::FILE* out,
                                      const release::Inspection& inspection,
                                      Format format);

/// `catena graph blast` and `origin`: each node reached with its time and the path that
/// explains it (table: a node per line, its path beneath; json: one document).
[[nodiscard]] Status write_reach(std::FILE* out,
                                 const graph::Reach& reach,
                                 bool backward,
                                 Format format);
/// The same as one self-contained HTML page (no script, no external resource): an SVG of the
/// reached subgraph laid out left to right by time, each node coloured by kind and ringed where
/// it matched intelligence, then every node with its path.
[[nodiscard]] Status write_reach_html(std::FILE* out, const graph::Reach& reach, bool backward);
/// `catena graph path`: each time-respecting path, fewest hops first.
[[nodiscard]] Status write_paths(std::FILE* out,
                                 const graph::NodeRef& from,
                                 const graph::NodeRef& to,
                                 const std::vector<graph::Path>& paths,
                                 Format format);

/// `catena graph export`: a graph in another tool's terms, streamed (the whole graph of a
/// large store is never held): every node first, then every edge.
///   json       catena's own: {"nodes": [{kind, key, marks}], "edges": [{from, to, kind,
///              valid_from, valid_to, evidence}]} (times in ns; null: unbounded)
///   dot        GraphViz: a digraph, nodes coloured by kind, marked nodes outlined red, each
///              edge labelled with its kind and its window in a tooltip
///   opengraph  BloodHound's OpenGraph JSON: kinds CTN_Host, CTN_Content, ... and CTN_LayAt,
///              CTN_Holds, ...; the window and evidence as edge properties
enum class GraphFormat { Json, Dot, OpenGraph };
[[nodiscard]] Result<GraphFormat> parse_graph_format(std::string_view name);

class GraphWriter {
 public:
  GraphWriter(std::FILE* out, GraphFormat format) : out_(out), format_(format) {}
  /// `at`: a query's time for it (blast: reached; origin: the latest it could be), else none.
  void node(const graph::NodeRef& node,
            const std::vector<std::string>& marks,
            std::optional<int64_t> at = std::nullopt);
  void edge(const graph::Edge& edge);
  /// Closes the document; call once, after the last edge.
  void finish();

 private:
  void open_section(int section);
  std::FILE* out_;
  GraphFormat format_;
  int section_ = 0;   // 0: nothing written; 1: nodes; 2: edges
  size_t items_ = 0;  // in the open section
};

/// A query's answer (blast, origin) as a graph: its nodes with their marks and times, and the
/// tree's edges.
void write_reach_graph(std::FILE* out, const graph::Reach& reach, GraphFormat format);

/// A finding as a JSON object text (used by json, jsonl and tests).
/// `catena release diff`: the counts, each change with the rules it gave, then the findings
/// (json: one document; jsonl: a record per change, per finding, then a summary; sarif: the
/// findings).
[[nodiscard]] Status write_release_diff(std::FILE* out,
                                        const release::ReleaseDiff& diff,
                                        Format format);
/// The diff as `--format json` prints it: the predicate of a signed release diff.
std::string release_diff_json(const release::ReleaseDiff& diff);
/// The diff as one self-contained HTML page (no script, no external resource): the verdict at
/// `fail_on`, the counts, each change with its rules, build steps and both sides, the findings.
[[nodiscard]] Status write_release_diff_html(std::FILE* out,
                                             const release::ReleaseDiff& diff,
                                             Severity fail_on);

std::string finding_json(const Finding& finding);
/// An inventory record as a JSON object text.
std::string record_json(const scan::FileRecord& record);

}  // namespace catena::report
