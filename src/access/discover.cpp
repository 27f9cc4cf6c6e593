#include <fnmatch.h>
#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <set>

#include "catena/access/access.hpp"
#include "catena/core/text.hpp"
#include "readers.hpp"
#include "secrets.hpp"
#include "walk.hpp"

namespace catena::access {
namespace {

std::string target_host(const Discovery& d) {
  if (d.target.find("://") != std::string::npos || d.target.find('@') != std::string::npos) {
    return parse_url(d.target).host;
  }
  std::string host = ascii_lower(d.target);
  const size_t slash = host.find('/');
  if (slash != std::string::npos) host = host.substr(0, slash);
  const size_t colon = host.rfind(':');
  if (colon != std::string::npos && host.find(':') == colon) host = host.substr(0, colon);
  return host;
}

bool matches_any(const std::vector<std::string>& patterns, std::string_view text) {
  const std::string lower = ascii_lower(text);
  for (const std::string& pattern : patterns) {
    if (::fnmatch(ascii_lower(pattern).c_str(), lower.c_str(), 0) == 0) return true;
  }
  return false;
}

std::string repository_of(const Discovery& d) {
  UrlParts url = parse_url(d.target);
  std::string path = url.path;
  if (path.ends_with(".git")) path.resize(path.size() - 4);
  while (!path.empty() && path.back() == '/') path.pop_back();
  return url.host + "/" + path;
}

bool is_default_ssh_key_name(std::string_view path) {
  const std::string_view name = base_name(path);
  return name == "id_rsa" || name == "id_ed25519" || name == "id_ecdsa" || name == "id_dsa" ||
         name == "id_ecdsa_sk" || name == "id_ed25519_sk" || name == "id_xmss";
}

std::string home_of(std::string_view path) {
  const size_t ssh = path.find("/.ssh/");
  return ssh == std::string_view::npos ? std::string() : std::string(path.substr(0, ssh));
}

}  // namespace
Result<Inventory> parse_inventory(std::string_view toml_text) {
  toml::table table;
  try {
    table = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    return tl::unexpected(Error{ErrorCode::Parse,
                                "not valid TOML: " + std::string(e.description()) + " at line " +
                                    std::to_string(e.source().begin.line),
                                {}});
  }
  Inventory inventory;
  const toml::table* build = table["build"].as_table();
  if (build == nullptr) {
    if (table.contains("build")) {
      return tl::unexpected(Error{ErrorCode::Parse, "[build] must be a table", {}});
    }
    return inventory;
  }
  inventory.declared = true;
  for (const auto& [key, value] : *build) {
    std::vector<std::string>* list = nullptr;
    if (key == "hosts") list = &inventory.hosts;
    if (key == "registries") list = &inventory.registries;
    if (key == "repositories") list = &inventory.repositories;
    if (key == "signing_identities") list = &inventory.signing_identities;
    if (list == nullptr) {
      return tl::unexpected(Error{ErrorCode::Parse,
                                  "unknown key build." + std::string(key.str()) +
                                      " (expected hosts, registries, repositories, "
                                      "signing_identities)",
                                  {}});
    }
    const toml::array* array = value.as_array();
    if (array == nullptr) {
      return tl::unexpected(Error{
          ErrorCode::Parse, "build." + std::string(key.str()) + " must be a list of strings", {}});
    }
    for (const toml::node& item : *array) {
      const auto* text = item.as_string();
      if (text == nullptr) {
        return tl::unexpected(
            Error{ErrorCode::Parse,
                  "build." + std::string(key.str()) + " must be a list of strings",
                  {}});
      }
      list->push_back(text->get());
    }
  }
  return inventory;
}

void classify(std::vector<Discovery>& discoveries, const Inventory& inventory) {
  for (Discovery& d : discoveries) {
    bool critical = false;
    if (d.kind == "unparsed") {
      critical = false;
    } else if (d.category == "signing") {
      // Signing material is the build's identity; a config naming a module or key id is not.
      critical = d.holds_secret || d.kind == "pkcs11-module" ||
                 (inventory.declared && matches_any(inventory.signing_identities, d.account));
      if (inventory.declared && !d.target.empty() &&
          matches_any(inventory.signing_identities, d.target)) {
        critical = true;
      }
    } else if (d.category == "ci") {
      critical = true;
    } else if (!inventory.declared) {
      critical = d.category == "publish" && d.holds_secret;
    } else if (d.category == "publish") {
      critical = matches_any(inventory.registries, target_host(d)) ||
                 matches_any(inventory.hosts, target_host(d));
    } else if (d.category == "source") {
      critical = matches_any(inventory.hosts, target_host(d)) ||
                 matches_any(inventory.repositories, repository_of(d));
    } else if (d.category == "ssh" || d.category == "cloud") {
      critical = d.kind != "ssh-private-key" && matches_any(inventory.hosts, target_host(d));
    } else if (d.category == "key" && !d.target.empty()) {
      critical = matches_any(inventory.signing_identities, d.target);
    }
    d.build_critical = critical;
  }
  // An SSH key reaches what its home's configuration sends it to: the hosts naming it as their
  // IdentityFile, or, for a default key name, any host that names none and every known host.
  // Hosts are grouped by home first, so this stays linear in the number of discoveries.
  std::map<std::string, std::vector<const Discovery*>> critical_hosts;
  for (const Discovery& host : discoveries) {
    if (host.build_critical && (host.kind == "ssh-host" || host.kind == "ssh-known-host")) {
      critical_hosts[home_of(host.path)].push_back(&host);
    }
  }
  constexpr size_t kMaxListedHosts = 16;
  for (Discovery& key : discoveries) {
    if (key.kind != "ssh-private-key") continue;
    auto hosts = critical_hosts.find(home_of(key.path));
    if (hosts == critical_hosts.end()) continue;
    const std::string_view key_name = base_name(key.path);
    std::set<std::string> seen;
    std::vector<std::string> reached;
    for (const Discovery* host : hosts->second) {
      const size_t identity = host->detail.find("identity ");
      bool uses = false;
      if (host->kind == "ssh-host" && identity != std::string::npos) {
        std::string file = host->detail.substr(identity + 9);
        file = file.substr(0, file.find(';'));
        uses = base_name(file) == key_name;
      } else {
        uses = is_default_ssh_key_name(key.path);
      }
      if (uses && seen.insert(host->target).second) reached.push_back(host->target);
    }
    if (!reached.empty()) {
      key.build_critical = true;
      key.target.clear();
      for (size_t i = 0; i < reached.size() && i < kMaxListedHosts; ++i) {
        key.target += (key.target.empty() ? "" : ", ") + reached[i];
      }
      if (reached.size() > kMaxListedHosts) {
        key.target += " and " + std::to_string(reached.size() - kMaxListedHosts) + " more";
      }
    }
  }
  std::sort(discoveries.begin(), discoveries.end(), [](const Discovery& a, const Discovery& b) {
    return std::tie(a.path, a.kind, a.target) < std::tie(b.path, b.kind, b.target);
  });
}

bool holds_build_access(const std::vector<Discovery>& discoveries) {
  return std::any_of(discoveries.begin(), discoveries.end(),
                     [](const Discovery& d) { return d.build_critical; });
}

std::vector<Finding> access_findings(const std::vector<Discovery>& discoveries) {
  std::vector<Finding> out;
  std::set<std::string> readable_reported;
  for (const Discovery& d : discoveries) {
    const auto add_common = [&](Finding& f) {
      f.add_evidence("kind", d.kind);
      if (!d.target.empty()) f.add_evidence("target", d.target);
      if (!d.fingerprint.empty()) f.add_evidence("fingerprint", d.fingerprint);
      if (!d.owner.empty()) f.add_evidence("owner", d.owner);
    };
    if (d.kind == "unparsed") {
      Finding f{.rule = "ACCESS_FILE_UNPARSED", .severity = Severity::Info, .path = d.path};
      f.message = "A file that may hold access to the build could not be examined.";
      f.add_evidence("reason", d.detail);
      out.push_back(std::move(f));
      continue;
    }
    if (d.signing && d.holds_secret && d.protection == "none") {
      Finding f{
          .rule = "ACCESS_SIGNING_KEY_UNPROTECTED", .severity = Severity::Critical, .path = d.path};
      f.message =
          "Code-signing material is stored without a passphrase: anyone who can read "
          "this file can sign as its owner.";
      add_common(f);
      if (!d.detail.empty()) f.add_evidence("detail", d.detail);
      out.push_back(std::move(f));
    }
    if (d.kind == "ssh-private-key" && d.protection == "none") {
      Finding f{.rule = "ACCESS_SSH_KEY_UNPROTECTED",
                .severity = d.build_critical ? Severity::High : Severity::Medium,
                .path = d.path};
      f.message = d.build_critical
                      ? "An SSH private key without a passphrase reaches a build-critical host."
                      : "An SSH private key is stored without a passphrase.";
      add_common(f);
      if (!d.detail.empty()) f.add_evidence("key", d.detail);
      out.push_back(std::move(f));
    }
    if (d.kind == "signing-script" && d.holds_secret) {
      Finding f{
          .rule = "ACCESS_SIGNING_PASSWORD_IN_SCRIPT", .severity = Severity::High, .path = d.path};
      f.message = "A script passes a literal password to a code-signing tool.";
      add_common(f);
      out.push_back(std::move(f));
    }
    if (d.holds_secret && (d.mode & 0044) != 0 && readable_reported.insert(d.path).second) {
      const bool world = (d.mode & 0004) != 0;
      Finding f{.rule = "ACCESS_CREDENTIAL_WORLD_READABLE",
                .severity = world ? Severity::High : Severity::Medium,
                .path = d.path};
      f.message = world ? "A credential file is readable by every user of the host."
                        : "A credential file is readable by its group.";
      char mode[8];
      std::snprintf(mode, sizeof mode, "%04o", d.mode & 07777);
      f.add_evidence("mode", mode);
      add_common(f);
      out.push_back(std::move(f));
    }
  }
  return out;
}

Report discover(const Options& options, const Inventory& inventory) {
  Report report;
  walk(options, report);
  classify(report.discoveries, inventory);
  report.findings = access_findings(report.discoveries);
  for (Finding& f : report.limits) report.findings.push_back(std::move(f));
  report.limits.clear();
  return report;
}

std::vector<Finding> shared_credential_findings(
    const std::vector<Discovery>& discoveries,
    const std::map<std::string, std::vector<std::string>>& other_hosts) {
  std::vector<Finding> out;
  std::set<std::pair<std::string, std::string>> reported;  // (path, fingerprint)
  for (const Discovery& d : discoveries) {
    if (!d.holds_secret || d.fingerprint.empty()) continue;
    auto others = other_hosts.find(d.fingerprint);
    if (others == other_hosts.end() || others->second.empty()) continue;
    if (!reported.emplace(d.path, d.fingerprint).second) continue;
    Finding f{.rule = "ACCESS_SHARED_CREDENTIAL",
              .severity = d.build_critical ? Severity::High : Severity::Medium,
              .path = d.path};
    f.message = "The same credential is recorded on other hosts: one theft reaches all of them.";
    f.add_evidence("kind", d.kind);
    if (!d.target.empty()) f.add_evidence("target", d.target);
    f.add_evidence("fingerprint", d.fingerprint);
    std::string list;
    for (const std::string& other : others->second) list += (list.empty() ? "" : ", ") + other;
    f.add_evidence("other_hosts", list);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace catena::access