#pragma once
/// `catena audit`: where this machine keeps executables and developer tools, scanned with every
/// check catena has.
///
/// The places: every directory on PATH, /usr/lib, /usr/libexec, /usr/local and /opt, and in
/// each user's home (every account in the passwd database whose home exists, plus $HOME) the
/// per-user tool directories: ~/.local, ~/.cargo/bin, ~/.rustup/toolchains, ~/go/bin,
/// ~/.npm-global, ~/.yarn/bin, ~/.deno/bin, ~/.bun/bin, ~/.nvm/versions, ~/.pyenv/versions,
/// ~/.sdkman/candidates, and the global npm prefix named by `prefix=` in ~/.npmrc (read, never
/// executed). Places that do not exist are skipped; places inside others are scanned once.
#include <string>
#include <utility>
#include <vector>

#include "catena/core/finding.hpp"
#include "catena/scan/scanner.hpp"

namespace catena::audit {

struct AuditPlaces {
  std::string path_env;                  // the PATH to audit
  std::vector<std::string> homes;        // home directories to look in
  std::vector<std::string> system_dirs;  // default: /usr/lib, /usr/libexec, /usr/local, /opt
};

/// The places of this machine: $PATH, the passwd homes plus $HOME, the system directories.
AuditPlaces this_machine();

/// The homes to look for build access in: those of `places` that exist and are not system
/// directories (/, /usr, /bin, /dev, /proc, /run, /var/spool, /var/cache, ... are the homes of
/// daemon accounts). /var/lib homes stay: CI agents run as accounts living there.
std::vector<std::string> access_homes(const AuditPlaces& places);

/// The existing directories to scan for `places`, canonical and de-duplicated. A per-user tool
/// directory is a place its user chose: it is followed only to a directory the home's owner
/// owns inside the home (an .npmrc `prefix`: to one the home's owner owns, anywhere); anything
/// else (`~/.cargo/bin -> /usr/share`, `prefix=/`) is not scanned and is named in `refused`
/// with the reason, unless it lies in a place scanned anyway (PATH, the system directories).
struct AuditRoots {
  std::vector<std::string> roots;
  std::vector<std::pair<std::string, std::string>> refused;  // the place, why
};
AuditRoots audit_roots(const AuditPlaces& places);

/// AUDIT_PLACE_NOT_FOLLOWED, one per refused place.
std::vector<Finding> refused_place_findings(const AuditRoots& roots);

}  // namespace catena::audit
