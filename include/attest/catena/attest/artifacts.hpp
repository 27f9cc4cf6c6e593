#pragma once
/// Artifacts as in-toto records them: relative paths (normalised like Python's
/// os.path.normpath, directories walked recursively without following symlinked
/// directories) mapped to their digests.
///
///   CATENA_TRY(ArtifactSet set, record_artifacts({"src", "Makefile"}, {}));
///   set.artifacts["src/main.c"]["sha256"]  // lower-case hex
#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::attest {

using Hashes = std::map<std::string, std::string>;  // algorithm -> lower-case hex
using Artifacts = std::map<std::string, Hashes>;    // path -> hashes

/// in-toto's default exclusions (settings.ARTIFACT_EXCLUDE_PATTERNS).
inline const std::vector<std::string> kIntotoDefaultExcludes = {"*.link*", ".git", "*.pyc", "*~"};

struct ArtifactOptions {
  /// A pattern without '/' excludes every file or directory whose name matches it; one with
  /// '/' is matched against the whole recorded path. Matching is fnmatch_python's.
  std::vector<std::string> exclude = kIntotoDefaultExcludes;
  unsigned jobs = 0;  // 0: one per core
  const std::atomic<bool>* cancel = nullptr;
};

struct ArtifactSet {
  Artifacts artifacts;
  /// Files that could not be read, "path: reason". Nothing is dropped silently.
  std::vector<std::string> errors;
};

/// Records `paths` (files or directories). A path that does not exist is an error entry, as
/// is an unreadable file; Io error only for a failure to list the working directory.
[[nodiscard]] Result<ArtifactSet> record_artifacts(const std::vector<std::string>& paths,
                                                   const ArtifactOptions& options);

/// Python's os.path.normpath for POSIX paths.
std::string normpath(std::string_view path);

/// A pattern compiled once for fnmatch_python's matching of many names.
class FnmatchPattern {
 public:
  explicit FnmatchPattern(std::string_view pattern);
  bool matches(std::string_view name) const;

  struct Token {
    enum Kind { Literal, Any, Star, Set } kind = Literal;
    uint32_t ch = 0;
    bool negated = false;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
  };

 private:
  std::vector<Token> tokens_;
  // "literal*" (the commonest rule pattern, "src/*"): a prefix test, no token walk.
  bool prefix_star_ = false;
  std::string prefix_;
};

/// Python's fnmatch.fnmatchcase: '*' matches any run of characters including '/', '?' one
/// character, "[seq]" / "[!seq]" a set with ranges; '\' is an ordinary character and an
/// unclosed '[' a literal.
bool fnmatch_python(std::string_view pattern, std::string_view name);

/// True when `text` is well-formed UTF-8 (JSON can carry it as is).
bool is_utf8(std::string_view text);

/// The SHA-256 (hex) of one regular file, read as record_artifacts reads.
[[nodiscard]] Result<std::string> file_sha256(const std::string& path);

}  // namespace catena::attest
