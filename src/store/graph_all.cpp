// The whole graph, table by table (an export): each kind of node with one query, each kind of
// edge with one query over its table, rather than a few queries per node as a walk does. The
// edges are those edges_from gives (graph_edges.hpp builds both from the same rows).
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

constexpr std::string_view kWhat = "cannot export the graph";

// The scans a file row held from and until, with its host: the occurrence edges' rows.
constexpr std::string_view kFileRows =
    "FROM files f JOIN scans s ON s.id = f.scan_id JOIN hosts h ON h.id = s.host_id "
    "LEFT JOIN scans u ON u.id = f.until_scan_id WHERE f.sha256 IS NOT NULL";

}  // namespace

Status Store::for_each_node(const std::function<Status(const NodeRef&)>& visit) {
  // One query per kind, each giving a key once.
  const std::pair<NodeKind, std::string> kinds[] = {
      {NodeKind::Host,
       "SELECT name FROM hosts UNION SELECT host FROM access_reach UNION SELECT host FROM "
       "attestations WHERE host <> '' ORDER BY 1"},
      {NodeKind::Account, "SELECT DISTINCT host || '|' || account FROM access_reach ORDER BY 1"},
      {NodeKind::Credential,
       "SELECT DISTINCT credential FROM access_reach WHERE credential <> '' ORDER BY 1"},
      {NodeKind::Target, "SELECT DISTINCT target FROM access_reach WHERE target <> '' ORDER BY 1"},
      {NodeKind::Content,
       "SELECT sha256 FROM files WHERE sha256 IS NOT NULL UNION SELECT sha256 FROM "
       "attestation_digests UNION SELECT sha256 FROM release_files ORDER BY 1"},
      {NodeKind::Occurrence, "SELECT DISTINCT h.name || '|' || CAST(f.path AS TEXT) " +
                                 std::string(kFileRows) + " ORDER BY 1"},
      {NodeKind::Package,
       "SELECT DISTINCT package FROM files WHERE package <> '' AND sha256 IS NOT NULL"},
      {NodeKind::Build, "SELECT id FROM attestations ORDER BY id"},
      {NodeKind::Artifact,
       "SELECT DISTINCT attestation_id || '|' || name FROM attestation_digests WHERE role = "
       "'subject' ORDER BY 1"},
      {NodeKind::Release, "SELECT name || '|' || version FROM releases ORDER BY 1"},
      {NodeKind::Deployment, "SELECT DISTINCT site FROM deployments ORDER BY 1"},
  };
  for (const auto& [kind, sql] : kinds) {
    const NodeKind k = kind;
    std::vector<std::string> packages;
    if (Status done = for_each_row(db_, kWhat, sql,
                                   [&](const Statement& row) -> Status {
                                     if (k == NodeKind::Content) {
                                       auto digest = row.column_digest<32>(0);
                                       if (!digest) return {};
                                       return visit({k, to_hex(*digest)});
                                     }
                                     if (k == NodeKind::Build)
                                       return visit({k, std::to_string(row.column_int(0))});
                                     if (k == NodeKind::Package) {
                                       // "a, b" names two packages, each of which may also own
                                       // files alone.
                                       for (std::string& owner : owners_of(row.column_text(0))) {
                                         packages.push_back(std::move(owner));
                                       }
                                       return {};
                                     }
                                     return visit({k, row.column_text(0)});
                                   });
        !done)
      return done;
    std::sort(packages.begin(), packages.end());
    packages.erase(std::unique(packages.begin(), packages.end()), packages.end());
    for (const std::string& name : packages) CATENA_TRY_STATUS(visit({k, name}));
  }
  return {};
}

Status Store::for_each_edge(const std::function<Status(const Edge&)>& visit) {
  // content -lay-at-> occurrence, package -installs-> occurrence, occurrence -on-> host.
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT f.sha256, h.name, f.path, s.started_ns, u.started_ns, f.scan_id, f.package " +
              std::string(kFileRows) + " ORDER BY h.name, f.path, s.started_ns, f.id",
          [&](const Statement& row) -> Status {
            auto digest = row.column_digest<32>(0);
            if (!digest) return {};
            const NodeRef occurrence{NodeKind::Occurrence,
                                     row.column_text(1) + "|" + row.column_text(2)};
            CATENA_TRY_STATUS(visit(make_edge({NodeKind::Content, to_hex(*digest)}, occurrence,
                                              "lay-at", row.column_int(3), until_of(row, 4),
                                              scan_evidence(row.column_int(5)))));
            for (std::string& owner : owners_of(row.column_text(6))) {
              CATENA_TRY_STATUS(visit(make_edge({NodeKind::Package, std::move(owner)}, occurrence,
                                                "installs", row.column_int(3), until_of(row, 4),
                                                package_evidence(row.column_int(5)))));
            }
            return {};
          });
      !done)
    return done;
  if (Status done = for_each_row(
          db_, kWhat, "SELECT DISTINCT h.name, f.path " + std::string(kFileRows) + " ORDER BY 1, 2",
          [&](const Statement& row) -> Status {
            return visit(make_edge(
                {NodeKind::Occurrence, row.column_text(0) + "|" + row.column_text(1)},
                {NodeKind::Host, row.column_text(0)}, "on", graph::kBeginning, kOpen, ""));
          });
      !done)
    return done;
  // content -used-by-> build, build -produced-> artifact, artifact -is-> content,
  // host -ran-> build.
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT d.sha256, a.id, d.role, d.name, " + std::string(kBuildTime) + ", " +
              std::string(kProductTime) +
              " FROM attestation_digests d JOIN attestations a ON a.id = d.attestation_id ORDER BY "
              "a.id, d.role, d.name",
          [&](const Statement& row) -> Status {
            auto digest = row.column_digest<32>(0);
            if (!digest) return {};
            const std::string id = std::to_string(row.column_int(1));
            const std::string role = row.column_text(2), name = row.column_text(3);
            const NodeRef content{NodeKind::Content, to_hex(*digest)};
            if (role != "subject") {
              const int64_t at = row.column_int(4);
              return visit(make_edge(content, {NodeKind::Build, id}, "used-by", at, at + 1,
                                     use_evidence(id, role, name)));
            }
            const int64_t at = row.column_int(5);
            const NodeRef artifact{NodeKind::Artifact, id + "|" + name};
            CATENA_TRY_STATUS(visit(make_edge({NodeKind::Build, id}, artifact, "produced", at,
                                              at + 1, attestation_evidence(id))));
            return visit(make_edge(artifact, content, "is", at, kOpen, attestation_evidence(id)));
          });
      !done)
    return done;
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT a.host, a.id, " + std::string(kBuildTime) +
              ", a.step FROM attestations a WHERE a.host <> '' ORDER BY 1, 3, 2",
          [&](const Statement& row) -> Status {
            const std::string id = std::to_string(row.column_int(1));
            const int64_t at = row.column_int(2);
            return visit(make_edge({NodeKind::Host, row.column_text(0)}, {NodeKind::Build, id},
                                   "ran", at, at + 1, ran_evidence(id, row.column_text(3))));
          });
      !done)
    return done;
  // content -shipped-in-> release, release -installed-at-> deployment, and an archive a
  // release shipped -contains-> its members (one level: each member's own archive holds it).
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT f.sha256, r.name, r.version, r.released_ns, f.path FROM release_files f JOIN "
          "releases r ON r.id = f.release_id ORDER BY r.id, f.path",
          [&](const Statement& row) -> Status {
            auto digest = row.column_digest<32>(0);
            if (!digest) return {};
            const int64_t at = row.column_int(3);
            return visit(
                make_edge({NodeKind::Content, to_hex(*digest)},
                          {NodeKind::Release, row.column_text(1) + "|" + row.column_text(2)},
                          "shipped-in", at, at + 1, manifest_evidence(row.column_text(4))));
          });
      !done)
    return done;
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT DISTINCT p.sha256, c.sha256, p.path, c.path FROM release_files p JOIN "
          "release_files c ON c.release_id = p.release_id AND c.path > p.path || '!/' AND "
          "c.path < p.path || '!0' ORDER BY 1, 4",
          [&](const Statement& row) -> Status {
            auto parent = row.column_digest<32>(0);
            auto member = row.column_digest<32>(1);
            const std::string outer = row.column_text(2), inner = row.column_text(3);
            if (!parent || !member || inner.find("!/", outer.size() + 2) != std::string::npos) {
              return {};
            }
            return visit(make_edge({NodeKind::Content, to_hex(*parent)},
                                   {NodeKind::Content, to_hex(*member)}, "contains",
                                   graph::kBeginning, kOpen, manifest_evidence(inner)));
          });
      !done)
    return done;
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT release_name, release_version, site, installed_ns, removed_ns, source FROM "
          "deployments ORDER BY installed_ns, id",
          [&](const Statement& row) -> Status {
            return visit(
                make_edge({NodeKind::Release, row.column_text(0) + "|" + row.column_text(1)},
                          {NodeKind::Deployment, row.column_text(2)}, "installed-at",
                          row.column_int(3), until_of(row, 4), row.column_text(5)));
          });
      !done)
    return done;
  // host -home-> account -holds-> credential -reaches-> target -names-> host; an account
  // -reached-before-> a target it reached through no credential (known_hosts).
  if (Status done =
          for_each_row(db_, kWhat,
                       "SELECT host, account, MIN(first_ns) FROM access_reach GROUP BY host, "
                       "account ORDER BY 1, 2",
                       [&](const Statement& row) -> Status {
                         return visit(make_edge(
                             {NodeKind::Host, row.column_text(0)},
                             {NodeKind::Account, row.column_text(0) + "|" + row.column_text(1)},
                             "home", row.column_int(2), kOpen, "access scan"));
                       });
      !done)
    return done;
  if (Status done = for_each_row(
          db_, kWhat,
          "SELECT host, account, credential, target, kind, path, first_ns, until_ns FROM "
          "access_reach ORDER BY host, account, first_ns, id",
          [&](const Statement& row) -> Status {
            const std::string host = row.column_text(0), credential = row.column_text(2),
                              target = row.column_text(3);
            const NodeRef account{NodeKind::Account, host + "|" + row.column_text(1)};
            const std::string evidence =
                access_evidence(host, row.column_text(5), row.column_text(4));
            const int64_t from = row.column_int(6), until = until_of(row, 7);
            if (!credential.empty()) {
              CATENA_TRY_STATUS(visit(make_edge(account, {NodeKind::Credential, credential},
                                                "holds", from, until, evidence)));
              if (!target.empty()) {
                return visit(make_edge({NodeKind::Credential, credential},
                                       {NodeKind::Target, target}, "reaches", from, until,
                                       evidence));
              }
            } else if (!target.empty()) {
              return visit(make_edge(account, {NodeKind::Target, target}, "reached-before", from,
                                     until, evidence));
            }
            return {};
          });
      !done)
    return done;
  std::vector<std::string> targets;
  if (Status done = for_each_row(
          db_, kWhat, "SELECT DISTINCT target FROM access_reach WHERE target <> '' ORDER BY 1",
          [&](const Statement& row) { targets.push_back(row.column_text(0)); });
      !done)
    return done;
  for (const std::string& target : targets) {
    CATENA_TRY(const std::vector<std::string> hosts, graph_hosts_named(graph::target_host(target)));
    for (const std::string& host : hosts) {
      CATENA_TRY_STATUS(visit(make_edge({NodeKind::Target, target}, {NodeKind::Host, host}, "names",
                                        graph::kBeginning, kOpen, "the target names the host")));
    }
  }
  return {};
}

}  // namespace catena::store
