#include "catena/attest/artifacts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <mutex>
#include <thread>

#include "catena/core/content.hpp"
#include "catena/core/digest.hpp"
#include "catena/core/fs.hpp"
#include "catena/core/parallel.hpp"
#include "catena/core/walk.hpp"

namespace catena::attest {
namespace {

// The code point at `i` of UTF-8 text, advancing `i`; an invalid byte reads as U+DC00+byte,
// as Python's surrogateescape reads it, so that it still matches only itself.
uint32_t next_code_point(std::string_view text, size_t& i) {
  const auto byte = static_cast<uint8_t>(text[i]);
  size_t length = 0;
  uint32_t value = 0;
  if (byte < 0x80) {
    ++i;
    return byte;
  }
  if ((byte & 0xE0) == 0xC0) {
    length = 2;
    value = byte & 0x1Fu;
  } else if ((byte & 0xF0) == 0xE0) {
    length = 3;
    value = byte & 0x0Fu;
  } else if ((byte & 0xF8) == 0xF0) {
    length = 4;
    value = byte & 0x07u;
  }
  bool valid = length > 0 && i + length <= text.size();
  for (size_t k = 1; valid && k < length; ++k) {
    const auto next = static_cast<uint8_t>(text[i + k]);
    if ((next & 0xC0) != 0x80) valid = false;
    value = (value << 6) | (next & 0x3Fu);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if (valid && ((length == 2 && value < 0x80) || (length == 3 && value < 0x800) ||
                (length == 4 && (value < 0x10000 || value > 0x10FFFF)) ||
                (value >= 0xD800 && value <= 0xDFFF))) {
    valid = false;
  }
  if (!valid) {
    ++i;
    return 0xDC00u + byte;
  }
  i += length;
  return value;
}

std::vector<uint32_t> code_points(std::string_view text) {
  std::vector<uint32_t> out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) out.push_back(next_code_point(text, i));
  return out;
}

using Token = FnmatchPattern::Token;

bool token_matches(const Token& token, uint32_t c) {
  switch (token.kind) {
    case Token::Literal:
      return c == token.ch;
    case Token::Any:
      return true;
    case Token::Set: {
      bool in = false;
      for (const auto& [low, high] : token.ranges) in = in || (c >= low && c <= high);
      return in != token.negated;
    }
    case Token::Star:
      break;
  }
  return false;
}

std::vector<Token> tokenize(const std::vector<uint32_t>& pat) {
  std::vector<Token> out;
  const size_t n = pat.size();
  size_t i = 0;
  while (i < n) {
    const uint32_t c = pat[i++];
    if (c == '*') {
      if (out.empty() || out.back().kind != Token::Star) out.push_back({Token::Star});
    } else if (c == '?') {
      out.push_back({Token::Any});
    } else if (c == '[') {
      size_t j = i;
      if (j < n && pat[j] == '!') ++j;
      if (j < n && pat[j] == ']') ++j;
      while (j < n && pat[j] != ']') ++j;
      if (j >= n) {
        out.push_back({Token::Literal, '['});
        continue;
      }
      Token set{Token::Set};
      size_t k = i;
      if (pat[k] == '!') {
        set.negated = true;
        ++k;
      }
      while (k < j) {
        if (k + 2 < j && pat[k + 1] == '-') {
          if (pat[k] <= pat[k + 2]) set.ranges.emplace_back(pat[k], pat[k + 2]);
          k += 3;
        } else {
          set.ranges.emplace_back(pat[k], pat[k]);
          ++k;
        }
      }
      // An empty set never matches and an empty negated one matches any character, as in
      // Python.
      out.push_back(std::move(set));
      i = j + 1;
    } else {
      out.push_back({Token::Literal, c});
    }
  }
  return out;
}

bool is_excluded(std::string_view path, const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    if (pattern.find('/') != std::string::npos) {
      if (fnmatch_python(pattern, path)) return true;
      continue;
    }
    size_t start = 0;
    while (start <= path.size()) {
      const size_t end = std::min(path.find('/', start), path.size());
      if (fnmatch_python(pattern, path.substr(start, end - start))) return true;
      start = end + 1;
    }
  }
  return false;
}

// A build tree deeper than this is not a build tree; its deeper directories are unrecorded
// (named in the provenance), and the walk holds at most this many descriptors.
constexpr unsigned kMaxArtifactDepth = 256;

// Materials and products as in-toto records them: every regular file, symlinks to files
// followed, symlinks to directories not (os.walk's default), excluded paths left out.
class ArtifactWalk : public WalkVisitor {
 public:
  explicit ArtifactWalk(const ArtifactOptions& options) : options_(options) {}

  void file(const WalkEntry& entry) override {
    if (is_excluded(entry.path, options_.exclude)) return;
    if (entry.is_regular()) {
      files.push_back(entry.path);
      return;
    }
    if (entry.type != DT_LNK) return;
    struct stat target {};
    const std::string name(entry.name);
    if (::fstatat(entry.dir_fd, name.c_str(), &target, 0) != 0) return;  // broken, as in-toto
    if (S_ISREG(target.st_mode)) files.push_back(entry.path);
  }
  bool wants(const WalkEntry& entry) override { return !is_excluded(entry.path, options_.exclude); }
  void problem(const std::string& path, WalkProblem problem, int error) override {
    errors.push_back(path + ": " + describe_walk_problem(problem, error));
  }

  std::vector<std::string> files;
  std::vector<std::string> errors;

 private:
  const ArtifactOptions& options_;
};

}  // namespace

FnmatchPattern::FnmatchPattern(std::string_view pattern)
    : tokens_(tokenize(code_points(pattern))) {}

// Greedy with backtracking to the last star; names are decoded as they are read.
bool FnmatchPattern::matches(std::string_view name) const {
  if (prefix_star_) return name.starts_with(prefix_);
  size_t t = 0, p = 0;
  size_t star = SIZE_MAX, star_text = 0;
  while (t < name.size()) {
    if (p < tokens_.size() && tokens_[p].kind == Token::Star) {
      star = p++;
      star_text = t;
      continue;
    }
    size_t next = t;
    const uint32_t c = next_code_point(name, next);
    if (p < tokens_.size() && token_matches(tokens_[p], c)) {
      ++p;
      t = next;
    } else if (star != SIZE_MAX) {
      p = star + 1;
      size_t after = star_text;
      next_code_point(name, after);
      star_text = t = after;
    } else {
      return false;
    }
  }
  while (p < tokens_.size() && tokens_[p].kind == Token::Star) ++p;
  return p == tokens_.size();
}

bool fnmatch_python(std::string_view pattern, std::string_view name) {
  return FnmatchPattern(pattern).matches(name);
}

bool is_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    // Only invalid bytes read as U+DC80..U+DCFF: valid UTF-8 never encodes a surrogate.
    const uint32_t c = next_code_point(text, i);
    if (c >= 0xDC80 && c <= 0xDCFF) return false;
  }
  return true;
}

std::string normpath(std::string_view path) {
  if (path.empty()) return ".";
  const bool absolute = path.front() == '/';
  // POSIX keeps exactly two leading slashes; Python does too.
  const bool two =
      absolute && path.size() > 1 && path[1] == '/' && (path.size() == 2 || path[2] != '/');
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    // A leading ".." of a relative path stays; otherwise ".." removes the part before it.
    const bool keep = (!absolute && parts.empty()) || (!parts.empty() && parts.back() == "..");
    if (part == ".." && !keep) {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out = absolute ? (two ? "//" : "/") : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

Result<ArtifactSet> record_artifacts(const std::vector<std::string>& paths,
                                     const ArtifactOptions& options) {
  ArtifactWalk walk(options);
  // A build tree is walked wherever its files are (one_file_system off), as deep as a build
  // can sensibly go; a deeper directory is an error of the attestation, never a silent gap.
  const WalkOptions tree{
      .max_depth = kMaxArtifactDepth, .one_file_system = false, .cancel = options.cancel};
  for (const std::string& given : paths) {
    const std::string path = normpath(given);
    if (is_excluded(path, options.exclude)) continue;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      walk.errors.push_back(path + ": " + errno_text(errno));
    } else if (S_ISDIR(info.st_mode)) {
      // A named directory is followed if it is a symlink, as in-toto does; below it nothing is.
      const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NONBLOCK));
      if (!fd.valid()) {
        walk.errors.push_back(path + ": " + errno_text(errno));
        continue;
      }
      walk_tree(fd.get(), path == "." ? "" : path, tree, walk);
    } else if (S_ISREG(info.st_mode)) {
      walk.files.push_back(path);
    } else {
      walk.errors.push_back(path + ": not a regular file or directory");
    }
  }
  std::vector<std::string> digests(walk.files.size());
  std::vector<std::string> failures(walk.files.size());
  const unsigned jobs =
      options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
  parallel_for<NoState>(walk.files.size(), jobs, options.cancel, [&](size_t i, NoState&) {
    // Followed as in-toto follows them: the walk kept only links to regular files.
    const FileContent content = read_content(AT_FDCWD, walk.files[i], {.follow = true});
    if (content.status != FileContent::Status::Read) {
      failures[i] = content.status == FileContent::Status::Unreadable ? errno_text(content.error)
                                                                      : describe_failure(content);
      return;
    }
    digests[i] = to_hex(*content.digests.sha256);
  });
  if (options.cancel != nullptr && options.cancel->load()) {
    return make_error(ErrorCode::Interrupted, "interrupted while hashing artifacts");
  }
  ArtifactSet out;
  out.errors = std::move(walk.errors);
  for (size_t i = 0; i < walk.files.size(); ++i) {
    if (!failures[i].empty()) {
      out.errors.push_back(walk.files[i] + ": " + failures[i]);
    } else {
      out.artifacts[walk.files[i]]["sha256"] = std::move(digests[i]);
    }
  }
  return out;
}

// Streamed, not read whole: an artifact can be a multi-gigabyte image.
Result<std::string> file_sha256(const std::string& path) {
  ArtifactOptions options;
  options.exclude.clear();
  CATENA_TRY(ArtifactSet set, record_artifacts({path}, options));
  if (!set.errors.empty()) return make_error(ErrorCode::Io, set.errors.front());
  if (set.artifacts.size() != 1) return make_error(ErrorCode::Usage, path + " is not a file");
  return set.artifacts.begin()->second.at("sha256");
}

}  // namespace catena::attest
