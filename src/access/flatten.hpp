#pragma once
// Credential files come in JSON, YAML, TOML, INI and XML. Each is read by its own parser into
// the same flat list of (key path, scalar value) pairs, so the code that recognises a credential
// looks at one shape. Every reader bounds nesting depth and treats the text as hostile.
#include <string>
#include <string_view>
#include <vector>

#include "catena/core/result.hpp"

namespace catena::access {

struct Entry {
  std::vector<std::string> keys;  // mapping keys; sequence items as their decimal index
  std::string value;              // the scalar, as text
  // XML only: the element the value belongs to (its text or attribute) and that element's
  // parent, numbered in document order, so repeated siblings (<add key= value=>) stay apart.
  uint32_t element = 0;
  uint32_t parent = 0;
};
using Entries = std::vector<Entry>;

inline constexpr size_t kMaxDepth = 64;

[[nodiscard]] Result<Entries> flatten_json(std::string_view text);
/// YAML through libyaml's event parser: aliases are not followed (no expansion bombs).
[[nodiscard]] Result<Entries> flatten_yaml(std::string_view text);
[[nodiscard]] Result<Entries> flatten_toml(std::string_view text);
/// INI as git, npm, pip, the AWS CLI and Buildkite write it: `[section]` or
/// `[section "sub"]` (keys {section, sub, key}), `key = value` or `key: value`, `#`/`;`
/// comments, surrounding quotes removed. Lines before any section have the key alone.
[[nodiscard]] Result<Entries> flatten_ini(std::string_view text);
/// Git's configuration syntax (git-config(1)): `[section "sub"]` with `\"` and `\\` escapes,
/// values with quotes, escapes and backslash-newline continuations, and `#`/`;` comments
/// anywhere outside quotes. Keys {section, sub, key} (section and key in lower case).
[[nodiscard]] Result<Entries> flatten_git_config(std::string_view text);
/// XML through libxml2 without network, DTD loading or entity substitution: elements give
/// their text, attributes `@name`.
[[nodiscard]] Result<Entries> flatten_xml(std::string_view text);

/// The value at exactly `keys`, or empty.
std::string value_at(const Entries& entries, std::initializer_list<std::string_view> keys);

}  // namespace catena::access
