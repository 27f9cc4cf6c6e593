#include "catena/attest/artifacts.hpp"

#include <dirent.h>
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

std::string join(std::string_view dir, std::string_view name) {
  if (dir == ".") return std::string(name);
  std::string out(dir);
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

struct Walk {
  const ArtifactOptions& options;
  std::vector<std::string> files;
  std::vector<std::string> errors;

  void directory(const std::string& dir) {
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) {
      errors.push_back(dir + ": cannot list: " + errno_text(errno));
      return;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(handle)) {
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(handle);
    for (const std::string& name : names) {
      const std::string path = join(dir, name);
      if (is_excluded(path, options.exclude)) continue;
      struct stat link_info {};
      if (::lstat(path.c_str(), &link_info) != 0) {
        errors.push_back(path + ": " + errno_text(errno));
        continue;
      }
      if (S_ISDIR(link_info.st_mode)) {
        directory(path);
        continue;
      }
      // Symlinks to files are followed, symlinks to directories are not (os.walk's default).
      struct stat info {};
      if (::stat(path.c_str(), &info) != 0) continue;  // a broken symlink, as in-toto skips
      if (S_ISREG(info.st_mode)) files.push_back(path);
    }
  }
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
  Walk walk{options};
  for (const std::string& given : paths) {
    const std::string path = normpath(given);
    if (is_excluded(path, options.exclude)) continue;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
      walk.errors.push_back(path + ": " + errno_text(errno));
    } else if (S_ISDIR(info.st_mode)) {
      walk.directory(path);
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
