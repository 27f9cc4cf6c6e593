#include "catena/graph/deployments.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"

namespace catena::graph {
namespace {

constexpr size_t kMaxDeployments = 1'000'000;
constexpr size_t kMaxField = 4096;

// One CSV record's fields (RFC 4180: quoted fields, "" for a quote inside one), from `at`;
// `at` moves past the record's line end. Error text when a quote is left open.
Result<std::vector<std::string>> csv_record(std::string_view text, size_t& at) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  while (at < text.size()) {
    const char c = text[at++];
    if (quoted) {
      if (c == '"' && at < text.size() && text[at] == '"') {
        fields.back().push_back('"');
        ++at;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      fields.back().push_back(c);
    }
    if (fields.back().size() > kMaxField) {
      return make_error(ErrorCode::Parse, "a field longer than " + std::to_string(kMaxField));
    }
  }
  if (quoted) return make_error(ErrorCode::Parse, "a quoted field is not closed");
  return fields;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// The fields by column name into a deployment; `where` prefixes every error.
Result<Deployment> deployment_of(const std::map<std::string, std::string>& fields,
                                 const std::string& where) {
  const auto field = [&](const char* name) -> std::string {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : trim(it->second);
  };
  Deployment d{.site = field("site"),
               .release_name = field("release"),
               .release_version = field("version"),
               .installed_ns = 0,
               .removed_ns = std::nullopt,
               .source = where};
  for (const auto& [name, value] : {std::pair<const char*, const std::string&>{"site", d.site},
                                    {"release", d.release_name},
                                    {"version", d.release_version}}) {
    if (value.empty()) return make_error(ErrorCode::Parse, where + ": no " + name);
  }
  const std::string installed = field("installed_at");
  auto at = parse_when(installed);
  if (!at) {
    return make_error(ErrorCode::Parse, where + ": installed_at '" +
                                            escape_for_terminal(installed) +
                                            "' is not a date (YYYY-MM-DD) or an RFC 3339 time");
  }
  d.installed_ns = *at;
  if (const std::string removed = field("removed_at"); !removed.empty()) {
    auto until = parse_when(removed);
    if (!until) {
      return make_error(ErrorCode::Parse, where + ": removed_at '" + escape_for_terminal(removed) +
                                              "' is not a date (YYYY-MM-DD) or an RFC 3339 time");
    }
    if (*until < d.installed_ns) {
      return make_error(ErrorCode::Parse, where + ": removed_at is before installed_at");
    }
    d.removed_ns = *until;
  }
  return d;
}

Result<std::vector<Deployment>> parse_csv(std::string_view text, const std::string& source) {
  size_t at = 0;
  auto header = csv_record(text, at);
  if (!header) return make_error(ErrorCode::Parse, source + ":1: " + header.error().message);
  std::vector<std::string> columns;
  for (const std::string& name : *header) columns.push_back(trim(name));
  for (const char* needed : {"site", "release", "version", "installed_at"}) {
    if (std::find(columns.begin(), columns.end(), needed) == columns.end()) {
      return make_error(ErrorCode::Parse, source + ":1: the header has no column '" +
                                              std::string(needed) +
                                              "' (site,release,version,installed_at,removed_at)");
    }
  }
  std::vector<Deployment> out;
  size_t line = 1;
  while (at < text.size()) {
    ++line;
    const std::string where = source + ":" + std::to_string(line);
    auto record = csv_record(text, at);
    if (!record) return make_error(ErrorCode::Parse, where + ": " + record.error().message);
    if (record->size() == 1 && trim((*record)[0]).empty()) continue;  // a blank line
    if (record->size() > columns.size()) {
      return make_error(ErrorCode::Parse, where + ": " + std::to_string(record->size()) +
                                              " fields, the header has " +
                                              std::to_string(columns.size()));
    }
    std::map<std::string, std::string> fields;
    for (size_t i = 0; i < record->size(); ++i) fields[columns[i]] = std::move((*record)[i]);
    CATENA_TRY(Deployment d, deployment_of(fields, where));
    if (out.size() == kMaxDeployments) {
      return make_error(ErrorCode::Parse,
                        where + ": more than " + std::to_string(kMaxDeployments) + " deployments");
    }
    out.push_back(std::move(d));
  }
  return out;
}

Result<std::vector<Deployment>> parse_json(std::string_view text, const std::string& source) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error(ErrorCode::Parse, source + ": not valid JSON");
  if (!doc.is_array()) {
    return make_error(ErrorCode::Parse, source + ": not an array of deployments");
  }
  if (doc.size() > kMaxDeployments) {
    return make_error(ErrorCode::Parse,
                      source + ": more than " + std::to_string(kMaxDeployments) + " deployments");
  }
  std::vector<Deployment> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const std::string where = source + "[" + std::to_string(i) + "]";
    const nlohmann::json& item = doc[i];
    if (!item.is_object()) return make_error(ErrorCode::Parse, where + ": not an object");
    std::map<std::string, std::string> fields;
    for (const auto& [key, value] : item.items()) {
      if (value.is_null()) continue;
      if (!value.is_string()) {
        return make_error(ErrorCode::Parse,
                          where + ": " + escape_for_terminal(key) + " is not a string");
      }
      fields[key] = value.get<std::string>();
    }
    CATENA_TRY(Deployment d, deployment_of(fields, where));
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace

std::optional<int64_t> parse_when(std::string_view text) {
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    return parse_rfc3339(std::string(text) + "T00:00:00Z");
  }
  return parse_rfc3339(text);
}

Result<std::vector<Deployment>> parse_deployments(std::string_view text,
                                                  const std::string& source) {
  size_t first = 0;
  while (first < text.size() && (text[first] == ' ' || text[first] == '\t' || text[first] == '\r' ||
                                 text[first] == '\n')) {
    ++first;
  }
  if (first < text.size() && (text[first] == '[' || text[first] == '{')) {
    return parse_json(text, source);
  }
  return parse_csv(text, source);
}

}  // namespace catena::graph
