// graph::GraphStore: the supply-chain graph read from what scans, access scans, attestations,
// release manifests and deployments recorded. Each node's edges are one or two indexed
// queries, so a query reads the store in proportion to what it reaches.
#include <algorithm>

#include "catena/core/text.hpp"
#include "catena/store/store.hpp"
#include "graph_edges.hpp"
#include "sqlite.hpp"

namespace catena::store {
namespace {

using graph::Edge;
using graph::kOpen;
using graph::NodeKind;
using graph::NodeRef;
using namespace graph_rows;

constexpr std::string_view kWhat = "cannot read the graph";

// The rows of a statement the store keeps prepared: reset, bind, step. A statement that could
// not be prepared is SQLite's error.
template <typename Row, typename... Args>
Status each_row(sqlite3* db, Statement* stmt, Row&& row, const Args&... args) {
  if (stmt == nullptr) return db_error(db, kWhat);
  stmt->reset();
  sqlite3_clear_bindings(stmt->get());
  bind_all(*stmt, args...);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt->get())) == SQLITE_ROW) row(static_cast<const Statement&>(*stmt));
  const bool done = rc == SQLITE_DONE;
  stmt->reset();  // its read ends now, not at the next use
  if (!done) return db_error(db, kWhat);
  return {};
}

// One source of host names, looked up by name_keys (?1 exact, ?2 label, ?3..?4 range).
std::string fmt_select(std::string_view table, std::string_view column) {
  const std::string c(column);
  return "SELECT " + c + " FROM " + std::string(table) + " WHERE " + c + " = ?1 OR " + c +
         " = ?2 OR (" + c + " >= ?3 AND " + c + " < ?4)";
}

// The names a host might be recorded under for a target host `wanted` (lowercase): itself,
// its first label when it has more, and — for a short name — every name it is the first label
// of, as the range [wanted + ".", wanted + "/"). Each is an indexed lookup.
struct NameKeys {
  std::string exact, label, range_from, range_to;
};
NameKeys name_keys(const std::string& wanted) {
  NameKeys k{.exact = wanted, .label = wanted, .range_from = "", .range_to = ""};
  if (const size_t dot = wanted.find('.'); dot != std::string::npos) {
    k.label = wanted.substr(0, dot);
  } else {
    k.range_from = wanted + ".";
    k.range_to = wanted + "/";
  }
  return k;
}

}  // namespace

Status Store::begin_read() {
  // Pages read through a mapping rather than a pread each: the graph reads many small rows.
  CATENA_TRY_STATUS(exec(db_, "PRAGMA mmap_size = 4294967296", "cannot map the store"));
  return exec(db_, "BEGIN", "cannot start a read transaction");
}

void Store::end_read() { (void)exec(db_, "COMMIT", "cannot end a read transaction"); }

void Store::StatementDeleter::operator()(Statement* stmt) const { delete stmt; }

Statement* Store::graph_statement(const std::string& sql) {
  auto& kept = graph_statements_[sql];
  if (!kept) {
    std::unique_ptr<Statement, StatementDeleter> stmt(new Statement(db_, sql));
    if (!stmt->ok()) return nullptr;
    kept = std::move(stmt);
  }
  return kept.get();
}

Result<std::vector<std::string>> Store::graph_hosts_named(const std::string& wanted) {
  std::vector<std::string> out;
  if (wanted.empty()) return out;
  const NameKeys k = name_keys(wanted);
  std::string sql;
  for (const auto& [table, column] : {std::pair{"hosts", "name"}, std::pair{"access_reach", "host"},
                                      std::pair{"attestations", "host"}}) {
    if (!sql.empty()) sql += " UNION ";
    sql += fmt_select(table, column);
  }
  CATENA_TRY_STATUS(each_row(
      db_, graph_statement(sql + " ORDER BY 1"),
      [&](const Statement& row) {
        std::string name = row.column_text(0);
        if (graph::names_host(wanted, name)) out.push_back(std::move(name));
      },
      k.exact, k.label, k.range_from, k.range_to));
  return out;
}

Result<std::vector<Edge>> Store::edges_from(const NodeRef& node) {
  std::vector<Edge> out;
  switch (node.kind) {
    case NodeKind::Content: {
      auto digest = sha256_from_hex(node.key);
      if (!digest) return out;
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT h.name, f.path, s.started_ns, u.started_ns, f.scan_id FROM files f "
              "JOIN scans s ON s.id = f.scan_id JOIN hosts h ON h.id = s.host_id "
              "LEFT JOIN scans u ON u.id = f.until_scan_id WHERE f.sha256 = ? "
              "ORDER BY s.started_ns, f.id"),
          [&](const Statement& row) {
            out.push_back(make_edge(
                node, {NodeKind::Occurrence, row.column_text(0) + "|" + row.column_text(1)},
                "lay-at", row.column_int(2), until_of(row, 3), scan_evidence(row.column_int(4))));
          },
          *digest));
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT a.id, d.role, d.name, " + std::string(kBuildTime) +
              ", a.step FROM attestation_digests d JOIN attestations a ON a.id = "
              "d.attestation_id WHERE d.sha256 = ? AND d.role <> 'subject' ORDER BY a.id"),
          [&](const Statement& row) {
            const int64_t at = row.column_int(3);
            out.push_back(make_edge(node, {NodeKind::Build, std::to_string(row.column_int(0))},
                                    "used-by", at, at + 1,
                                    use_evidence(std::to_string(row.column_int(0)),
                                                 row.column_text(1), row.column_text(2))));
          },
          *digest));
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT r.name, r.version, r.released_ns, f.path FROM release_files f "
                          "JOIN releases r "
                          "ON r.id = f.release_id WHERE f.sha256 = ? ORDER BY r.released_ns, r.id"),
          [&](const Statement& row) {
            out.push_back(
                make_edge(node, {NodeKind::Release, row.column_text(0) + "|" + row.column_text(1)},
                          "shipped-in", row.column_int(2), row.column_int(2) + 1,
                          manifest_evidence(row.column_text(3))));
          },
          *digest));
      // An archive a release shipped holds its members: what reaches the one reaches them.
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT DISTINCT c.sha256, p.path, c.path FROM release_files p JOIN release_files c "
              "ON "
              "c.release_id = p.release_id AND c.path > p.path || '!/' AND c.path < p.path || '!0' "
              "WHERE p.sha256 = ? ORDER BY 3"),
          [&](const Statement& row) {
            auto member = row.column_digest<32>(0);
            const std::string parent = row.column_text(1), child = row.column_text(2);
            if (!member || child.find("!/", parent.size() + 2) != std::string::npos) return;
            out.push_back(make_edge(node, {NodeKind::Content, to_hex(*member)}, "contains",
                                    graph::kBeginning, kOpen, manifest_evidence(child)));
          },
          *digest));
      break;
    }
    case NodeKind::Occurrence: {
      auto [host, path] = split_key(node.key);
      out.push_back(make_edge(node, {NodeKind::Host, host}, "on", graph::kBeginning, kOpen, ""));
      break;
    }
    case NodeKind::Host: {
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT account, MIN(first_ns) FROM access_reach WHERE host = ? GROUP BY account "
              "ORDER BY account"),
          [&](const Statement& row) {
            out.push_back(make_edge(node, {NodeKind::Account, node.key + "|" + row.column_text(0)},
                                    "home", row.column_int(1), kOpen, "access scan"));
          },
          node.key));
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT a.id, " + std::string(kBuildTime) +
                          ", a.step FROM attestations a WHERE a.host = ? ORDER BY 2, a.id"),
          [&](const Statement& row) {
            const int64_t at = row.column_int(1);
            out.push_back(make_edge(
                node, {NodeKind::Build, std::to_string(row.column_int(0))}, "ran", at, at + 1,
                ran_evidence(std::to_string(row.column_int(0)), row.column_text(2))));
          },
          node.key));
      break;
    }
    case NodeKind::Account: {
      auto [host, account] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT credential, target, kind, path, first_ns, until_ns FROM access_reach "
              "WHERE host = ? AND account = ? ORDER BY first_ns, id"),
          [&](const Statement& row) {
            const std::string credential = row.column_text(0);
            const std::string evidence =
                access_evidence(host, row.column_text(3), row.column_text(2));
            if (!credential.empty()) {
              out.push_back(make_edge(node, {NodeKind::Credential, credential}, "holds",
                                      row.column_int(4), until_of(row, 5), evidence));
            } else if (!row.column_text(1).empty()) {
              out.push_back(make_edge(node, {NodeKind::Target, row.column_text(1)},
                                      "reached-before", row.column_int(4), until_of(row, 5),
                                      evidence));
            }
          },
          host, account));
      break;
    }
    case NodeKind::Credential:
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT target, kind, path, host, first_ns, until_ns FROM access_reach "
                          "WHERE credential = ? AND target <> '' ORDER BY first_ns, id"),
          [&](const Statement& row) {
            out.push_back(make_edge(
                node, {NodeKind::Target, row.column_text(0)}, "reaches", row.column_int(4),
                until_of(row, 5),
                access_evidence(row.column_text(3), row.column_text(2), row.column_text(1))));
          },
          node.key));
      break;
    case NodeKind::Target: {
      CATENA_TRY(const std::vector<std::string> hosts,
                 graph_hosts_named(graph::target_host(node.key)));
      for (const std::string& host : hosts) {
        out.push_back(make_edge(node, {NodeKind::Host, host}, "names", graph::kBeginning, kOpen,
                                "the target names the host"));
      }
      break;
    }
    case NodeKind::Build: {
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT d.name, COALESCE(a.finished_ns, a.started_ns, a.stored_ns) FROM "
                          "attestation_digests d JOIN attestations a ON a.id = d.attestation_id "
                          "WHERE d.attestation_id = ? AND d.role = 'subject' ORDER BY d.name"),
          [&](const Statement& row) {
            const int64_t at = row.column_int(1);
            out.push_back(make_edge(node, {NodeKind::Artifact, node.key + "|" + row.column_text(0)},
                                    "produced", at, at + 1, attestation_evidence(node.key)));
          },
          node.key));
      break;
    }
    case NodeKind::Artifact: {
      auto [build, name] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT d.sha256, COALESCE(a.finished_ns, a.started_ns, a.stored_ns) FROM "
              "attestation_digests d JOIN attestations a ON a.id = d.attestation_id WHERE "
              "d.attestation_id = ? AND d.name = ? AND d.role = 'subject'"),
          [&](const Statement& row) {
            auto digest = row.column_digest<32>(0);
            if (!digest) return;
            out.push_back(make_edge(node, {NodeKind::Content, to_hex(*digest)}, "is",
                                    row.column_int(1), kOpen, attestation_evidence(build)));
          },
          build, name));
      break;
    }
    case NodeKind::Release: {
      auto [name, version] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT site, installed_ns, removed_ns, source FROM deployments WHERE "
                          "release_name = ? "
                          "AND release_version = ? ORDER BY installed_ns, id"),
          [&](const Statement& row) {
            out.push_back(make_edge(node, {NodeKind::Deployment, row.column_text(0)},
                                    "installed-at", row.column_int(1), until_of(row, 2),
                                    row.column_text(3)));
          },
          name, version));
      break;
    }
    case NodeKind::Package: {
      // The files it installed, wherever and while they lay there: as sole owner (indexed),
      // then among several owners ("a, b", few).
      const auto installs = [&](const Statement& row) {
        out.push_back(make_edge(
            node, {NodeKind::Occurrence, row.column_text(0) + "|" + row.column_text(1)}, "installs",
            row.column_int(2), until_of(row, 3), package_evidence(row.column_int(4))));
      };
      constexpr std::string_view kFiles =
          "SELECT h.name, f.path, s.started_ns, u.started_ns, f.scan_id FROM files f "
          "JOIN scans s ON s.id = f.scan_id JOIN hosts h ON h.id = s.host_id "
          "LEFT JOIN scans u ON u.id = f.until_scan_id WHERE f.sha256 IS NOT NULL AND ";
      CATENA_TRY_STATUS(
          each_row(db_,
                   graph_statement(std::string(kFiles) + "f.package <> '' AND f.package = ? "
                                                         "ORDER BY s.started_ns, f.id"),
                   installs, node.key));
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(std::string(kFiles) +
                          "f.package LIKE '%, %' AND instr(', ' || f.package || ', ', ', ' || ? "
                          "|| ', ') > 0 ORDER BY s.started_ns, f.id"),
          installs, node.key));
      break;
    }
    case NodeKind::Deployment:
      break;
  }
  return out;
}

Result<std::vector<Edge>> Store::edges_to(const NodeRef& node) {
  std::vector<Edge> out;
  switch (node.kind) {
    case NodeKind::Content: {
      auto digest = sha256_from_hex(node.key);
      if (!digest) return out;
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT d.attestation_id, d.name, COALESCE(a.finished_ns, a.started_ns, "
              "a.stored_ns) FROM attestation_digests d JOIN attestations a ON a.id = "
              "d.attestation_id WHERE d.sha256 = ? AND d.role = 'subject' ORDER BY 1, 2"),
          [&](const Statement& row) {
            const std::string build = std::to_string(row.column_int(0));
            out.push_back(make_edge({NodeKind::Artifact, build + "|" + row.column_text(1)}, node,
                                    "is", row.column_int(2), kOpen, attestation_evidence(build)));
          },
          *digest));
      // The archives a release shipped it in.
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT DISTINCT p.sha256, c.path FROM release_files c JOIN release_files p ON "
              "p.release_id = c.release_id AND c.path > p.path || '!/' AND c.path < p.path || '!0' "
              "WHERE c.sha256 = ? ORDER BY 2"),
          [&](const Statement& row) {
            auto parent = row.column_digest<32>(0);
            if (!parent) return;
            out.push_back(make_edge({NodeKind::Content, to_hex(*parent)}, node, "contains",
                                    graph::kBeginning, kOpen,
                                    manifest_evidence(row.column_text(1))));
          },
          *digest));
      break;
    }
    case NodeKind::Occurrence: {
      // Found with its host's programs (below): taken from there, not looked up by path.
      if (auto kept = graph_occurrences_in_.find(node.key); kept != graph_occurrences_in_.end()) {
        return kept->second;
      }
      auto [host, path] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT f.sha256, s.started_ns, u.started_ns, f.scan_id, f.package FROM scans s "
              "JOIN files f ON f.scan_id = s.id LEFT JOIN scans u ON u.id = f.until_scan_id "
              "WHERE s.host_id = (SELECT id FROM hosts WHERE name = ?) AND f.path = ? AND "
              "f.sha256 IS NOT NULL ORDER BY s.started_ns, f.id"),
          [&](const Statement& row) {
            auto digest = row.column_digest<32>(0);
            if (!digest) return;
            out.push_back(make_edge({NodeKind::Content, to_hex(*digest)}, node, "lay-at",
                                    row.column_int(1), until_of(row, 2),
                                    scan_evidence(row.column_int(3))));
            for (std::string& owner : owners_of(row.column_text(4))) {
              out.push_back(make_edge({NodeKind::Package, std::move(owner)}, node, "installs",
                                      row.column_int(1), until_of(row, 2),
                                      package_evidence(row.column_int(3))));
            }
          },
          host, Blob{path}));
      break;
    }
    case NodeKind::Host: {
      // The programs that lay on it (one occurrence per path), and the targets that name it.
      // Each occurrence's own edges (the contents that lay there, and while) come with it and
      // are kept, so that following them back reads the host's files once, not once a path.
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT f.path, f.sha256, s.started_ns, u.started_ns, f.scan_id, f.package FROM "
              "scans s "
              "JOIN files f ON f.scan_id = s.id JOIN contents c ON c.sha256 = f.sha256 "
              "LEFT JOIN scans u ON u.id = f.until_scan_id WHERE s.host_id = (SELECT id FROM "
              "hosts WHERE name = ?) AND c.format IN " +
              std::string(kProgramFormats) + " ORDER BY f.path, s.started_ns, f.id"),
          [&](const Statement& row) {
            auto digest = row.column_digest<32>(1);
            if (!digest) return;
            const NodeRef occurrence{NodeKind::Occurrence, node.key + "|" + row.column_text(0)};
            auto& in = graph_occurrences_in_[occurrence.key];
            if (in.empty()) {
              out.push_back(make_edge(occurrence, node, "on", graph::kBeginning, kOpen, ""));
            }
            in.push_back(make_edge({NodeKind::Content, to_hex(*digest)}, occurrence, "lay-at",
                                   row.column_int(2), until_of(row, 3),
                                   scan_evidence(row.column_int(4))));
            for (std::string& owner : owners_of(row.column_text(5))) {
              in.push_back(make_edge({NodeKind::Package, std::move(owner)}, occurrence, "installs",
                                     row.column_int(2), until_of(row, 3),
                                     package_evidence(row.column_int(4))));
            }
          },
          node.key));
      std::vector<std::string> targets;
      std::string wanted = node.key;
      for (char& ch : wanted) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
      const NameKeys k = name_keys(wanted);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT DISTINCT target FROM access_reach WHERE target_host = ?1 OR target_host = ?2 "
              "OR (target_host >= ?3 AND target_host < ?4) ORDER BY 1"),
          [&](const Statement& row) { targets.push_back(row.column_text(0)); }, k.exact, k.label,
          k.range_from, k.range_to));
      for (const std::string& target : targets) {
        if (graph::names_host(graph::target_host(target), node.key)) {
          out.push_back(make_edge({NodeKind::Target, target}, node, "names", graph::kBeginning,
                                  kOpen, "the target names the host"));
        }
      }
      break;
    }
    case NodeKind::Account: {
      auto [host, account] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT MIN(first_ns) FROM access_reach WHERE host = ? AND account = ?"),
          [&](const Statement& row) {
            if (row.column_is_null(0)) return;
            out.push_back(make_edge({NodeKind::Host, host}, node, "home", row.column_int(0), kOpen,
                                    "access scan"));
          },
          host, account));
      break;
    }
    case NodeKind::Credential:
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT host, account, kind, path, first_ns, until_ns FROM access_reach WHERE "
              "credential = ? ORDER BY first_ns, id"),
          [&](const Statement& row) {
            const std::string host = row.column_text(0);
            out.push_back(make_edge({NodeKind::Account, host + "|" + row.column_text(1)}, node,
                                    "holds", row.column_int(4), until_of(row, 5),
                                    access_evidence(host, row.column_text(3), row.column_text(2))));
          },
          node.key));
      break;
    case NodeKind::Target:
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT host, account, credential, kind, path, first_ns, until_ns FROM access_reach "
              "WHERE target = ? ORDER BY first_ns, id"),
          [&](const Statement& row) {
            const std::string host = row.column_text(0);
            const std::string credential = row.column_text(2);
            const std::string evidence =
                access_evidence(host, row.column_text(4), row.column_text(3));
            if (credential.empty()) {
              out.push_back(make_edge({NodeKind::Account, host + "|" + row.column_text(1)}, node,
                                      "reached-before", row.column_int(5), until_of(row, 6),
                                      evidence));
            } else {
              out.push_back(make_edge({NodeKind::Credential, credential}, node, "reaches",
                                      row.column_int(5), until_of(row, 6), evidence));
            }
          },
          node.key));
      break;
    case NodeKind::Build:
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement("SELECT a.host, " + std::string(kBuildTime) +
                          ", a.step FROM attestations a WHERE a.id = ?"),
          [&](const Statement& row) {
            const int64_t at = row.column_int(1);
            out.push_back(make_edge({NodeKind::Host, row.column_text(0)}, node, "ran", at, at + 1,
                                    ran_evidence(node.key, row.column_text(2))));
          },
          node.key));
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT d.sha256, d.role, d.name, " + std::string(kBuildTime) +
              " FROM attestation_digests d JOIN attestations a ON a.id = d.attestation_id "
              "WHERE d.attestation_id = ? AND d.role <> 'subject' ORDER BY d.role, d.name"),
          [&](const Statement& row) {
            auto digest = row.column_digest<32>(0);
            if (!digest) return;
            const int64_t at = row.column_int(3);
            out.push_back(
                make_edge({NodeKind::Content, to_hex(*digest)}, node, "used-by", at, at + 1,
                          use_evidence(node.key, row.column_text(1), row.column_text(2))));
          },
          node.key));
      break;
    case NodeKind::Artifact: {
      auto [build, name] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT COALESCE(a.finished_ns, a.started_ns, a.stored_ns) FROM attestations a "
              "WHERE a.id = ?"),
          [&](const Statement& row) {
            const int64_t at = row.column_int(0);
            out.push_back(make_edge({NodeKind::Build, build}, node, "produced", at, at + 1,
                                    attestation_evidence(build)));
          },
          build));
      break;
    }
    case NodeKind::Release: {
      auto [name, version] = split_key(node.key);
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT f.sha256, f.path, r.released_ns FROM releases r JOIN release_files f ON "
              "f.release_id = r.id WHERE r.name = ? AND r.version = ? ORDER BY f.path"),
          [&](const Statement& row) {
            auto digest = row.column_digest<32>(0);
            if (!digest) return;
            out.push_back(make_edge({NodeKind::Content, to_hex(*digest)}, node, "shipped-in",
                                    row.column_int(2), row.column_int(2) + 1,
                                    manifest_evidence(row.column_text(1))));
          },
          name, version));
      break;
    }
    case NodeKind::Deployment:
      CATENA_TRY_STATUS(each_row(
          db_,
          graph_statement(
              "SELECT release_name, release_version, installed_ns, removed_ns, source FROM "
              "deployments WHERE site = ? ORDER BY installed_ns, id"),
          [&](const Statement& row) {
            out.push_back(
                make_edge({NodeKind::Release, row.column_text(0) + "|" + row.column_text(1)}, node,
                          "installed-at", row.column_int(2), until_of(row, 3), row.column_text(4)));
          },
          node.key));
      break;
    case NodeKind::Package:
      break;
  }
  return out;
}

Result<std::optional<int64_t>> Store::first_seen(const NodeRef& node) {
  std::optional<int64_t> out;
  if (node.kind != NodeKind::Content) return out;
  auto digest = sha256_from_hex(node.key);
  if (!digest) return out;
  CATENA_TRY_STATUS(each_row(
      db_, graph_statement("SELECT first_seen_ns FROM contents WHERE sha256 = ?"),
      [&](const Statement& row) { out = row.column_int(0); }, *digest));
  return out;
}

Result<std::vector<std::string>> Store::marks(const NodeRef& node) {
  std::vector<std::string> out;
  if (node.kind == NodeKind::Content) {
    auto digest = sha256_from_hex(node.key);
    if (!digest) return out;
    // Indicators by any digest kept of it; the analysers' high and critical findings (YARA,
    // blocked signers, signature anomalies), as the scan that read it recorded them.
    std::string md5, sha1, findings;
    CATENA_TRY_STATUS(each_row(
        db_, graph_statement("SELECT md5, sha1, findings FROM contents WHERE sha256 = ?"),
        [&](const Statement& row) {
          md5 = row.column_text(0);
          sha1 = row.column_text(1);
          findings = row.column_text(2);
        },
        *digest));
    CATENA_TRY_STATUS(each_row(
        db_,
        graph_statement(
            "SELECT DISTINCT i.label, f.name FROM indicators i JOIN feeds f ON f.id = i.feed_id "
            "WHERE (i.algorithm = 'sha256' AND i.digest = ?) OR (i.algorithm = 'md5' AND i.digest "
            "= "
            "?) OR (i.algorithm = 'sha1' AND i.digest = ?) ORDER BY 2, 1"),
        [&](const Statement& row) {
          out.push_back("indicator: " + escape_for_terminal(row.column_text(0)) + " (feed " +
                        escape_for_terminal(row.column_text(1)) + ")");
        },
        *digest, Blob{md5}, Blob{sha1}));
    const nlohmann::json list = nlohmann::json::parse(findings, nullptr, false);
    if (list.is_array()) {
      for (const nlohmann::json& item : list) {
        auto f = decode_finding(item);
        if (f && f->severity >= Severity::High) out.push_back(f->rule);
      }
    }
  } else if (node.kind == NodeKind::Host) {
    CATENA_TRY_STATUS(each_row(
        db_,
        graph_statement(
            "SELECT s.id, (SELECT COUNT(*) FROM findings f WHERE f.scan_id = s.id AND f.severity = "
            "'critical'), (SELECT COUNT(*) FROM findings f WHERE f.scan_id = s.id AND f.severity = "
            "'high') FROM scans s WHERE s.host_id = (SELECT id FROM hosts WHERE name = ?) AND "
            "s.kind = 'audit' AND s.status = 'complete' ORDER BY s.id DESC LIMIT 1"),
        [&](const Statement& row) {
          const int64_t critical = row.column_int(1), high = row.column_int(2);
          if (critical + high == 0) return;
          out.push_back("audit " + std::to_string(row.column_int(0)) + ": " +
                        std::to_string(critical) + " critical, " + std::to_string(high) +
                        " high findings");
        },
        node.key));
  }
  return out;
}

Status Store::put_release(const graph::ReleaseRecord& release) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  constexpr std::string_view kPut = "cannot record the release";
  CATENA_TRY_STATUS(run(db_, kPut, "DELETE FROM releases WHERE name = ? AND version = ?",
                        release.name, release.version));
  CATENA_TRY_STATUS(
      run(db_, kPut, "INSERT INTO releases(name, version, released_ns, source) VALUES(?, ?, ?, ?)",
          release.name, release.version, release.released_ns, release.source));
  const int64_t id = sqlite3_last_insert_rowid(db_);
  Statement insert(db_, "INSERT INTO release_files(release_id, path, sha256) VALUES(?, ?, ?)");
  if (!insert.ok()) return db_error(db_, kPut);
  for (const graph::ReleaseFileRecord& f : release.files) {
    CATENA_TRY_STATUS(run_again(db_, insert, kPut, id, f.path, f.sha256));
  }
  return txn.commit();
}

Status Store::put_deployments(const std::vector<graph::Deployment>& deployments) {
  Transaction txn(db_);
  CATENA_TRY_STATUS(txn.begin());
  constexpr std::string_view kPut = "cannot record deployments";
  Statement insert(db_,
                   "INSERT INTO deployments(site, release_name, release_version, installed_ns, "
                   "removed_ns, source) VALUES(?, ?, ?, ?, ?, ?)");
  if (!insert.ok()) return db_error(db_, kPut);
  for (const graph::Deployment& d : deployments) {
    CATENA_TRY_STATUS(run_again(db_, insert, kPut, d.site, d.release_name, d.release_version,
                                d.installed_ns, d.removed_ns, d.source));
  }
  return txn.commit();
}

}  // namespace catena::store
