// `catena graph blast|origin|path|import-deployments`: the supply-chain graph the store holds,
// queried through time.
#include "catena/core/fs.hpp"
#include "catena/core/text.hpp"
#include "catena/graph/deployments.hpp"
#include "catena/graph/graph.hpp"
#include "catena/report/render.hpp"
#include "catena/store/store.hpp"
#include "commands.hpp"
#include "common.hpp"

namespace catena::cli {
namespace {

constexpr uint64_t kMaxDeploymentFile = 256ULL << 20;

struct GraphOptions {
  OutputOptions output;
  std::string sha256, host, credential, node;  // the node a query starts from
  std::string from, to;                        // path
  std::string since, until;
  unsigned depth = 16;
  std::string file;  // import-deployments
  std::string html;  // blast, origin: also this page
  std::string export_format = "json";
  std::string out_file;   // export: this file rather than stdout
  bool backward = false;  // export: the origin of the start rather than its blast
};

void add_start_options(CLI::App& sub, GraphOptions& options) {
  auto* sha = sub.add_option("--sha256", options.sha256, "A content, by its SHA-256");
  auto* host = sub.add_option("--host", options.host, "A host, by its name as recorded");
  auto* credential =
      sub.add_option("--credential", options.credential,
                     "A credential, by its fingerprint (`catena access list` shows them)");
  auto* node = sub.add_option("--node", options.node,
                              "Any node as KIND:KEY (host:dev-ws, build:12, release:app|1.2)");
  std::vector<CLI::Option*> all = {sha, host, credential, node};
  for (CLI::Option* a : all) {
    for (CLI::Option* b : all) {
      if (a != b) a->excludes(b);
    }
  }
}

void add_time_options(CLI::App& sub, GraphOptions& options) {
  sub.add_option("--since", options.since,
                 "When exposure starts (YYYY-MM-DD or RFC 3339; default the start's first "
                 "appearance)");
  sub.add_option("--until", options.until, "Follow no hop taken after this time");
  sub.add_option("--depth", options.depth, "Hops followed from the start (default 16)")
      ->check(CLI::Range(1u, 1000u));
}

void add_html_option(CLI::App& sub, GraphOptions& options) {
  sub.add_option("--html", options.html,
                 "Also write one self-contained HTML page: the reached graph drawn left to right "
                 "by time, then every node with its path");
}

Result<graph::NodeRef> start_of(const GraphOptions& options) {
  if (!options.sha256.empty()) {
    CATENA_TRY(const Sha256 digest, sha256_from_hex(options.sha256));
    return graph::NodeRef{graph::NodeKind::Content, to_hex(digest)};
  }
  if (!options.host.empty()) return graph::NodeRef{graph::NodeKind::Host, options.host};
  if (!options.credential.empty()) {
    return graph::NodeRef{graph::NodeKind::Credential, options.credential};
  }
  if (!options.node.empty()) {
    auto node = graph::parse_node_name(options.node);
    if (!node) {
      return make_error(ErrorCode::Usage, "--node " + escape_for_terminal(options.node) +
                                              ": expected KIND:KEY, KIND one of host, account, "
                                              "credential, target, content, occurrence, "
                                              "package, build, artifact, release, deployment");
    }
    if (node->kind == graph::NodeKind::Content) {
      CATENA_TRY(const Sha256 digest, sha256_from_hex(node->key));
      node->key = to_hex(digest);
    }
    return *node;
  }
  return make_error(ErrorCode::Usage, "name a start: --sha256, --host, --credential or --node");
}

Result<graph::QueryOptions> query_of(const GraphOptions& options) {
  graph::QueryOptions query{.max_depth = options.depth};
  for (const auto& [text, slot, name] : {std::tuple{&options.since, &query.since, "--since"},
                                         std::tuple{&options.until, &query.until, "--until"}}) {
    if (text->empty()) continue;
    auto at = graph::parse_when(*text);
    if (!at) {
      return make_error(ErrorCode::Usage, std::string(name) + " " + escape_for_terminal(*text) +
                                              ": expected YYYY-MM-DD or an RFC 3339 time");
    }
    *slot = *at;
  }
  return query;
}

// The whole graph, node by node then edge by edge as the store gives them; or a query's answer.
Status write_export(std::FILE* out,
                    store::Store& store,
                    const GraphOptions& options,
                    const graph::QueryOptions& query,
                    report::GraphFormat format) {
  const bool whole = options.sha256.empty() && options.host.empty() && options.credential.empty() &&
                     options.node.empty();
  if (!whole) {
    CATENA_TRY(const graph::NodeRef start, start_of(options));
    CATENA_TRY(const graph::Reach reach, options.backward ? graph::origin(store, start, query)
                                                          : graph::blast(store, start, query));
    report::write_reach_graph(out, reach, format);
    return {};
  }
  report::GraphWriter writer(out, format);
  CATENA_TRY_STATUS(store.for_each_node([&](const graph::NodeRef& node) -> Status {
    CATENA_TRY(const std::vector<std::string> marks, store.marks(node));
    writer.node(node, marks);
    return {};
  }));
  CATENA_TRY_STATUS(store.for_each_edge([&](const graph::Edge& edge) -> Status {
    writer.edge(edge);
    return {};
  }));
  writer.finish();
  return {};
}

int export_graph(store::Store& store,
                 const GraphOptions& options,
                 const graph::QueryOptions& query) {
  auto format = report::parse_graph_format(options.export_format);
  if (!format) return fail(format.error());
  if (options.out_file.empty()) {
    auto written = write_export(stdout, store, options, query, *format);
    std::fflush(stdout);
    if (!written) return fail(written.error());
    if (std::ferror(stdout)) return fail(Error{ErrorCode::Io, "cannot write the export", {}});
    return kExitOk;
  }
  auto written = write_file_atomically(options.out_file, 0644, [&](std::FILE* out) {
    return write_export(out, store, options, query, *format);
  });
  if (!written) return fail(written.error());
  return kExitOk;
}

}  // namespace

Runner register_graph(CLI::App& app) {
  auto options = std::make_shared<GraphOptions>();
  CLI::App* group = app.add_subcommand(
      "graph",
      "The supply-chain graph over hosts, credentials, builds, releases and sites, with time: "
      "what a tool, host or credential reached, and what led to an artifact");
  group->require_subcommand(1);

  CLI::App* blast = group->add_subcommand(
      "blast",
      "Everything the start reached, forward through time: each hop taken no earlier than the "
      "moment the one before it was reached and while it held; each node with the earliest "
      "time it was reached and the path that explains it");
  add_start_options(*blast, *options);
  add_time_options(*blast, *options);
  add_html_option(*blast, *options);
  add_output_options(*blast, options->output, /*with_fail_on=*/false, /*sarif=*/false);

  CLI::App* origin = group->add_subcommand(
      "origin",
      "What could have led to the start (an artifact, a release file), backward through time: "
      "the builds, hosts, programs and credentials, each with the latest moment it could have "
      "been reached and still led there");
  add_start_options(*origin, *options);
  add_time_options(*origin, *options);
  add_html_option(*origin, *options);
  add_output_options(*origin, options->output, /*with_fail_on=*/false, /*sarif=*/false);

  CLI::App* path = group->add_subcommand(
      "path", "The time-respecting paths between two nodes, fewest hops first");
  path->add_option("--from", options->from, "KIND:KEY")->required();
  path->add_option("--to", options->to, "KIND:KEY")->required();
  add_time_options(*path, *options);
  add_output_options(*path, options->output, /*with_fail_on=*/false, /*sarif=*/false);

  CLI::App* exported = group->add_subcommand(
      "export",
      "The graph for other tools: the whole graph the store holds, or with a start the answer "
      "of its blast (or --origin); json (catena's), dot (GraphViz) or opengraph (BloodHound)");
  exported->add_option("--format", options->export_format, "json, dot or opengraph")
      ->capture_default_str();
  exported->add_option("-o,--output", options->out_file, "Write to this file (default stdout)");
  add_start_options(*exported, *options);
  exported->add_flag("--origin", options->backward,
                     "With a start: what led to it rather than what it reached");
  add_time_options(*exported, *options);
  exported->add_option("--db", options->output.db, "The store");

  CLI::App* deployments = group->add_subcommand(
      "import-deployments",
      "Record which site installed which release and when: CSV with a header "
      "(site,release,version,installed_at,removed_at) or a JSON array of such objects");
  deployments->add_option("file", options->file, "The deployments file")->required();
  deployments->add_option("--db", options->output.db, "The store");

  return [=]() -> int {
    if (!group->parsed()) return -1;
    if (deployments->parsed()) {
      auto text = read_small_file(options->file, kMaxDeploymentFile);
      if (!text) return fail(text.error());
      auto parsed = graph::parse_deployments(*text, options->file);
      if (!parsed) return fail(parsed.error());
      auto store = open_store(options->output, store::Store::Access::ReadWrite);
      if (!store) return fail(store.error());
      if (auto put = (*store)->put_deployments(*parsed); !put) return fail(put.error());
      if (!options->output.quiet) {
        std::printf("%zu deployment%s recorded\n", parsed->size(), parsed->size() == 1 ? "" : "s");
      }
      return kExitOk;
    }
    auto format = report::parse_format(options->output.format);
    if (!format) return fail(format.error());
    auto query = query_of(*options);
    if (!query) return fail(query.error());
    auto store = open_store(options->output, store::Store::Access::ReadOnly);
    if (!store) return fail(store.error());
    // The whole query reads one snapshot, locking the file once.
    if (auto began = (*store)->begin_read(); !began) return fail(began.error());
    struct EndRead {
      store::Store& store;
      ~EndRead() { store.end_read(); }
    } end_read{**store};
    if (exported->parsed()) return export_graph(**store, *options, *query);
    if (path->parsed()) {
      auto from = graph::parse_node_name(options->from);
      auto to = graph::parse_node_name(options->to);
      if (!from || !to) {
        return fail(Error{ErrorCode::Usage, "--from and --to take KIND:KEY (host:dev-ws)", {}});
      }
      auto found = graph::paths(**store, *from, *to, *query);
      if (!found) return fail(found.error());
      auto printed = report::write_paths(stdout, *from, *to, *found, *format);
      if (!printed) return fail(printed.error());
      return kExitOk;
    }
    auto start = start_of(*options);
    if (!start) return fail(start.error());
    const bool backward = origin->parsed();
    auto reach =
        backward ? graph::origin(**store, *start, *query) : graph::blast(**store, *start, *query);
    if (!reach) return fail(reach.error());
    auto printed = report::write_reach(stdout, *reach, backward, *format);
    std::fflush(stdout);
    if (!printed) return fail(printed.error());
    if (!options->html.empty()) {
      auto written = write_file_atomically(options->html, 0644, [&](std::FILE* out) {
        return report::write_reach_html(out, *reach, backward);
      });
      if (!written) return fail(written.error());
    }
    return kExitOk;
  };
}

}  // namespace catena::cli
