#include "catena/intel/feed.hpp"

#include <cctype>
#include <functional>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "catena/core/text.hpp"
#include "catena/core/time.hpp"
#include "stix_pattern.hpp"

namespace catena::intel {
namespace {

using nlohmann::json;

Error parse_error(std::string message) { return Error{ErrorCode::Parse, std::move(message), {}}; }

// Lines without their terminators (LF or CRLF); a UTF-8 byte-order mark at the start is dropped.
std::vector<std::string_view> split_lines(std::string_view text) {
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.ends_with('\r')) line.remove_suffix(1);
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

// One CSV record (RFC 4180: quoted fields may hold commas and doubled quotes).
Result<std::vector<std::string>> split_csv(std::string_view line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t idx = 0; idx < line.size(); ++idx) {
    const char c = line[idx];
    if (quoted) {
      if (c == '"' && idx + 1 < line.size() && line[idx + 1] == '"') {
        fields.back() += '"';
        ++idx;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return tl::unexpected(parse_error("an unterminated quoted field"));
  return fields;
}

class Collector {
 public:
  explicit Collector(FeedContents& out) : out_(out) {}
  // False for a duplicate (counted).
  bool add(Indicator indicator) {
    const auto key = std::make_pair(indicator.algorithm, indicator.digest);
    if (!seen_.insert(key).second) {
      ++out_.duplicates;
      return false;
    }
    out_.indicators.push_back(std::move(indicator));
    return true;
  }

 private:
  FeedContents& out_;
  std::set<std::pair<HashAlgorithm, std::string>> seen_;
};

// Counts an entry left out, by reason; `hash` when it held a file hash (an import that keeps
// none of those fails instead of importing nothing in silence).
void skip(FeedContents& out, const std::string& reason, bool hash = false) {
  ++out.skipped;
  ++out.skipped_by[reason];
  if (hash) ++out.hashes_skipped;
}

// A MISP flag as MISP and PyMISP write them: true, 1, "1" or "true".
bool misp_flag(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return false;
  const json& v = object[key];
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<int64_t>() != 0;
  if (v.is_string()) return v.get<std::string>() == "1" || v.get<std::string>() == "true";
  return false;
}

std::string string_field(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return {};
  return object[key].get<std::string>();
}

// "where.key", or "key" at the top.
std::string child_path(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

// An event without its {"Event": …} wrapper: it has what MISP writes on every event.
bool looks_like_misp_event(const json& j) {
  if (!j.is_object() || j.contains("type")) return false;  // a STIX object has a type
  return j.contains("Attribute") || j.contains("Object") ||
         (j.contains("info") && (j.contains("uuid") || j.contains("date") ||
                                 j.contains("threat_level_id") || j.contains("analysis")));
}

}  // namespace

// Plain and CSV feeds, one line at a time: the same code reads a feed held in memory and one
// streamed from a file.
class LineFeedParser {
 public:
  LineFeedParser(FeedFormat format, FeedOptions options)
      : csv_(format == FeedFormat::Csv), options_(std::move(options)) {}

  Status line(std::string_view text,
              size_t number,
              const std::function<Status(Indicator&&)>& emit,
              uint64_t& skipped) {
    if (number == 1 && text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
    if (text.ends_with('\r')) text.remove_suffix(1);
    return csv_ ? csv_line(text, number, emit, skipped) : plain_line(text, number, emit, skipped);
  }
  Status finish() const {
    if (csv_ && !header_seen_) return tl::unexpected(parse_error("line 1: no header"));
    return {};
  }

 private:
  Status plain_line(std::string_view line,
                    size_t number,
                    const std::function<Status(Indicator&&)>& emit,
                    uint64_t& skipped) {
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim_space(line);
    if (line.empty()) {
      ++skipped;
      return {};
    }
    // The digest, then optionally a label (as sha256sum prints: "digest  name").
    const size_t space = line.find_first_of(" \t");
    auto digest = parse_hex_digest(line.substr(0, space));
    if (!digest) {
      return tl::unexpected(
          parse_error("line " + std::to_string(number) + ": " + digest.error().message));
    }
    Indicator indicator;
    indicator.algorithm = digest->first;
    indicator.digest = std::move(digest->second);
    if (space != std::string_view::npos) {
      std::string_view label = trim_space(line.substr(space));
      if (label.starts_with('*')) label.remove_prefix(1);
      indicator.label = std::string(label);
    }
    return emit(std::move(indicator));
  }

  Status header(std::string_view line) {
    auto fields = split_csv(line);
    if (!fields) return tl::unexpected(parse_error("line 1: " + fields.error().message));
    std::vector<std::string> names;
    for (const std::string& name : *fields) names.push_back(ascii_lower(trim_space(name)));
    const auto find_column = [&](std::initializer_list<std::string_view> candidates) -> long {
      for (std::string_view candidate : candidates) {
        for (size_t idx = 0; idx < names.size(); ++idx) {
          if (names[idx] == candidate) return static_cast<long>(idx);
        }
      }
      return -1;
    };
    if (!options_.column.empty()) {
      hash_column_ = find_column({ascii_lower(options_.column)});
      if (hash_column_ < 0) {
        return tl::unexpected(parse_error("line 1: no column named '" + options_.column + "'"));
      }
    } else {
      hash_column_ = find_column(
          {"sha256", "sha-256", "hash", "sha1", "sha-1", "md5", "ioc", "indicator", "value"});
      if (hash_column_ < 0) {
        return tl::unexpected(parse_error("line 1: no hash column (name one with --column)"));
      }
    }
    label_column_ = find_column({"label", "description", "name", "filename", "comment"});
    reference_column_ = find_column({"sources", "source", "reference", "references", "url"});
    header_seen_ = true;
    return {};
  }

  Status csv_line(std::string_view line,
                  size_t number,
                  const std::function<Status(Indicator&&)>& emit,
                  uint64_t& skipped) {
    if (!header_seen_) return header(line);
    if (trim_space(line).empty()) {
      ++skipped;
      return {};
    }
    const std::string where = "line " + std::to_string(number) + ": ";
    auto fields = split_csv(line);
    if (!fields) return tl::unexpected(parse_error(where + fields.error().message));
    if (static_cast<size_t>(hash_column_) >= fields->size()) {
      return tl::unexpected(parse_error(where + "fewer fields than the header"));
    }
    auto digest = parse_hex_digest(trim_space((*fields)[static_cast<size_t>(hash_column_)]));
    if (!digest) return tl::unexpected(parse_error(where + digest.error().message));
    Indicator indicator;
    indicator.algorithm = digest->first;
    indicator.digest = std::move(digest->second);
    if (label_column_ >= 0 && static_cast<size_t>(label_column_) < fields->size()) {
      indicator.label = std::string(trim_space((*fields)[static_cast<size_t>(label_column_)]));
    }
    if (reference_column_ >= 0 && static_cast<size_t>(reference_column_) < fields->size()) {
      indicator.reference =
          std::string(trim_space((*fields)[static_cast<size_t>(reference_column_)]));
    }
    return emit(std::move(indicator));
  }

  bool csv_;
  FeedOptions options_;
  bool header_seen_ = false;
  long hash_column_ = -1, label_column_ = -1, reference_column_ = -1;
};

namespace {

Status parse_lines(std::string_view text,
                   FeedFormat format,
                   const FeedOptions& options,
                   FeedContents& out) {
  Collector collect(out);
  LineFeedParser parser(format, options);
  const auto lines = split_lines(text);
  const std::function<Status(Indicator &&)> emit = [&](Indicator&& i) -> Status {
    collect.add(std::move(i));
    return {};
  };
  for (size_t idx = 0; idx < lines.size(); ++idx) {
    CATENA_TRY_STATUS(parser.line(lines[idx], idx + 1, emit, out.skipped));
  }
  return parser.finish();
}

bool is_recorded_hash(const std::string& name) {
  return name == "sha-256" || name == "sha256" || name == "sha-1" || name == "sha1" ||
         name == "md5";
}

// STIX 2.1: every indicator whose pattern compares a file's MD5, SHA-1 or SHA-256 with '='
// gives one indicator per such comparison, however the pattern combines them. Everything else
// is left out and counted by reason, one comparison or one object at a time: a clause catena
// cannot use costs that clause, never the rest of the bundle.
Status parse_stix(const json& doc, const FeedOptions& options, FeedContents& out) {
  Collector collect(out);
  if (!doc.is_object() || string_field(doc, "type") != "bundle" || !doc.contains("objects") ||
      !doc["objects"].is_array()) {
    return tl::unexpected(parse_error("$: not a STIX 2.1 bundle (type \"bundle\" with objects)"));
  }
  const int64_t now = options.now_ns != 0 ? options.now_ns : now_ns();
  const json& objects = doc["objects"];
  for (size_t idx = 0; idx < objects.size(); ++idx) {
    const json& object = objects[idx];
    const std::string where = "objects[" + std::to_string(idx) + "]";
    if (!object.is_object() || !object.contains("type") || !object["type"].is_string()) {
      return tl::unexpected(parse_error(where + ": an object without a type"));
    }
    if (object["type"] != "indicator") {
      skip(out, "not an indicator");
      continue;
    }
    const std::string language =
        object.contains("pattern_type") ? string_field(object, "pattern_type") : "stix";
    if (language != "stix") {
      skip(out, "not a STIX pattern");
      continue;
    }
    const std::string pattern = string_field(object, "pattern");
    // Whether the indicator held a file hash, for the lifecycle reasons below.
    const bool names_hashes = ascii_lower(pattern).find("file:hashes.") != std::string::npos;
    if (pattern.empty()) {
      skip(out, "no pattern");
      continue;
    }
    if (misp_flag(object, "revoked")) {
      skip(out, "revoked", names_hashes);
      continue;
    }
    if (!options.include_expired) {
      const auto until = parse_rfc3339(string_field(object, "valid_until"));
      if (until && *until <= now) {
        skip(out, "expired (valid_until)", names_hashes);
        continue;
      }
    }
    auto comparisons = stix_comparisons(pattern);
    if (!comparisons) {
      skip(out, "pattern not understood", names_hashes);
      continue;
    }
    std::string label = string_field(object, "name");
    if (label.empty()) label = string_field(object, "description");
    std::string reference;
    if (object.contains("external_references") && object["external_references"].is_array()) {
      for (const json& ref : object["external_references"]) {
        const std::string name = string_field(ref, "source_name");
        if (name.empty()) continue;
        reference += (reference.empty() ? "" : ";") + name;
      }
    }
    bool any = false;     // a hash of this indicator was imported
    bool hashed = false;  // ... or left out with its reason
    for (const PatternComparison& c : *comparisons) {
      if (c.object != "file" || !c.property.starts_with("hashes.")) continue;
      hashed = true;
      const std::string name = c.property.substr(std::string_view("hashes.").size());
      if (c.op != "=" || c.negated || !c.string_value) {
        skip(out, "hash comparison other than '='", true);
      } else if (!is_recorded_hash(name)) {
        skip(out, "hash catena does not record (" + name + ")", true);
      } else if (auto digest = parse_hex_digest(trim_space(c.value)); !digest) {
        skip(out, "not a hex digest", true);
      } else {
        collect.add(Indicator{digest->first, std::move(digest->second), label, reference});
        any = true;
      }
    }
    if (!any && !hashed) skip(out, "not a file hash");
  }
  return {};
}

// MISP attribute types that carry a file hash: the hash alone, or "name|hash".
bool is_misp_hash_type(std::string_view type) {
  return type == "md5" || type == "sha1" || type == "sha256" || type == "filename|md5" ||
         type == "filename|sha1" || type == "filename|sha256" || type == "malware-sample";
}

// MISP: an event's attributes (and its objects' attributes) of hash types, or of
// filename|hash types whose value is "name|hash". Other attribute types are counted as skipped.
Status parse_misp_attributes(const json& attributes,
                             const std::string& where,
                             const std::string& event_label,
                             const std::string& reference,
                             const FeedOptions& options,
                             Collector& collect,
                             FeedContents& out) {
  if (!attributes.is_array()) return tl::unexpected(parse_error(where + ": not an array"));
  for (size_t idx = 0; idx < attributes.size(); ++idx) {
    const json& a = attributes[idx];
    const std::string at = where + "[" + std::to_string(idx) + "]";
    if (!a.is_object() || !a.contains("type") || !a["type"].is_string()) {
      return tl::unexpected(parse_error(at + ".type: missing"));
    }
    const std::string type = a["type"].get<std::string>();
    const bool named = type == "filename|md5" || type == "filename|sha1" ||
                       type == "filename|sha256" || type == "malware-sample";
    if (!is_misp_hash_type(type)) {
      skip(out, "not a file hash");
      continue;
    }
    if (misp_flag(a, "deleted")) {
      skip(out, "deleted", true);
      continue;
    }
    const bool for_detection = misp_flag(a, "to_ids");
    if (options.to_ids_only && !for_detection) {
      skip(out, "not for detection (to_ids false)", true);
      continue;
    }
    // A value catena cannot read costs that attribute only, with its reason.
    if (!a.contains("value") || !a["value"].is_string()) {
      skip(out, "no value", true);
      continue;
    }
    std::string value = a["value"].get<std::string>();
    std::string label = a.contains("comment") && a["comment"].is_string() &&
                                !a["comment"].get<std::string>().empty()
                            ? a["comment"].get<std::string>()
                            : event_label;
    if (named) {
      const size_t bar = value.rfind('|');
      if (bar == std::string::npos) {
        skip(out, "not \"filename|hash\"", true);
        continue;
      }
      label = value.substr(0, bar) + (label.empty() ? "" : " (" + label + ")");
      value = value.substr(bar + 1);
    }
    auto digest = parse_hex_digest(trim_space(value));
    if (!digest) {
      skip(out, "not a hex digest", true);
      continue;
    }
    if (collect.add(Indicator{digest->first, std::move(digest->second), label, reference}) &&
        !for_detection) {
      ++out.not_for_detection;
    }
  }
  return {};
}

// The events of a MISP document in every shape MISP and PyMISP write: {"Event": …}, the bare
// event (PyMISP's to_json), {"response": [ … ]} of either (a search result), or a JSON array
// of either. `shape` says which was found.
Status misp_events(const json& doc,
                   std::vector<std::pair<std::string, const json*>>& events,
                   std::string& shape) {
  const auto one = [&](const json& item, const std::string& where) -> Status {
    if (item.is_object() && item.contains("Event")) {
      events.emplace_back(child_path(where, "Event"), &item["Event"]);
      return {};
    }
    if (looks_like_misp_event(item)) {
      events.emplace_back(where, &item);
      return {};
    }
    return tl::unexpected(parse_error(
        (where.empty() ? "$" : where) +
        ": not a MISP event ({\"Event\": ...}, or an event with Attribute, Object or info)"));
  };
  const auto many = [&](const json& items, const std::string& where) -> Status {
    for (size_t idx = 0; idx < items.size(); ++idx) {
      CATENA_TRY_STATUS(one(items[idx], where + "[" + std::to_string(idx) + "]"));
    }
    return {};
  };
  if (doc.is_object() && doc.contains("response")) {
    if (!doc["response"].is_array()) {
      return tl::unexpected(parse_error("response: not an array"));
    }
    shape = "search response of " + std::to_string(doc["response"].size()) + " events";
    return many(doc["response"], "response");
  }
  if (doc.is_array()) {
    shape = "array of " + std::to_string(doc.size()) + " events";
    return many(doc, "");
  }
  shape = doc.is_object() && doc.contains("Event") ? "event" : "bare event";
  return one(doc, "");
}

Status parse_misp(const json& doc, const FeedOptions& options, FeedContents& out) {
  Collector collect(out);
  std::vector<std::pair<std::string, const json*>> events;
  CATENA_TRY_STATUS(misp_events(doc, events, out.shape));
  for (const auto& [where, event] : events) {
    if (!event->is_object()) {
      return tl::unexpected(parse_error((where.empty() ? "$" : where) + ": not an object"));
    }
    const std::string info = string_field(*event, "info");
    std::string id = string_field(*event, "uuid");
    if (id.empty()) id = string_field(*event, "id");
    const std::string reference = "MISP event " + id + (info.empty() ? "" : ": " + info);
    if (event->contains("Attribute")) {
      CATENA_TRY_STATUS(parse_misp_attributes((*event)["Attribute"], child_path(where, "Attribute"),
                                              info, reference, options, collect, out));
    }
    if (event->contains("Object")) {
      const json& objects = (*event)["Object"];
      if (!objects.is_array()) {
        return tl::unexpected(parse_error(child_path(where, "Object") + ": not an array"));
      }
      for (size_t idx = 0; idx < objects.size(); ++idx) {
        const std::string at = child_path(where, "Object") + "[" + std::to_string(idx) + "]";
        if (!objects[idx].is_object()) return tl::unexpected(parse_error(at + ": not an object"));
        if (!objects[idx].contains("Attribute")) continue;
        if (misp_flag(objects[idx], "deleted")) {
          // Every attribute of a deleted object goes with it.
          const json& attributes = objects[idx]["Attribute"];
          for (size_t k = 0; attributes.is_array() && k < attributes.size(); ++k) {
            const std::string type = string_field(attributes[k], "type");
            skip(out, "deleted", is_misp_hash_type(type));
          }
          continue;
        }
        CATENA_TRY_STATUS(parse_misp_attributes(objects[idx]["Attribute"], at + ".Attribute", info,
                                                reference, options, collect, out));
      }
    }
  }
  return {};
}

}  // namespace

std::string_view algorithm_name(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::Md5:
      return "md5";
    case HashAlgorithm::Sha1:
      return "sha1";
    case HashAlgorithm::Sha256:
      return "sha256";
  }
  return "sha256";
}

std::string_view feed_format_name(FeedFormat format) {
  switch (format) {
    case FeedFormat::Auto:
      return "auto";
    case FeedFormat::Plain:
      return "plain";
    case FeedFormat::Csv:
      return "csv";
    case FeedFormat::Stix:
      return "stix";
    case FeedFormat::Misp:
      return "misp";
    case FeedFormat::Json:
      return "json";
  }
  return "auto";
}

Result<std::pair<HashAlgorithm, std::string>> parse_hex_digest(std::string_view hex) {
  HashAlgorithm algorithm;
  switch (hex.size()) {
    case 32:
      algorithm = HashAlgorithm::Md5;
      break;
    case 40:
      algorithm = HashAlgorithm::Sha1;
      break;
    case 64:
      algorithm = HashAlgorithm::Sha256;
      break;
    default:
      return tl::unexpected(parse_error("'" + std::string(hex.substr(0, 80)) +
                                        "' is not an MD5, SHA-1 or SHA-256 hex digest"));
  }
  std::string bytes;
  bytes.reserve(hex.size() / 2);
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t idx = 0; idx < hex.size(); idx += 2) {
    const int high = nibble(hex[idx]);
    const int low = nibble(hex[idx + 1]);
    if (high < 0 || low < 0) {
      return tl::unexpected(parse_error("'" + std::string(hex) + "' is not hexadecimal"));
    }
    bytes += static_cast<char>((high << 4) | low);
  }
  return std::make_pair(algorithm, std::move(bytes));
}

Result<FeedContents> parse_feed(std::string_view text,
                                FeedFormat format,
                                const FeedOptions& options) {
  if (format == FeedFormat::Auto) {
    std::string_view start = text;
    if (start.starts_with("\xef\xbb\xbf")) start.remove_prefix(3);
    start = trim_space(start);
    if (start.starts_with('{') || start.starts_with('[')) {
      format = FeedFormat::Json;
    } else {
      const std::string_view first = start.substr(0, start.find('\n'));
      format = first.find(',') != std::string_view::npos ? FeedFormat::Csv : FeedFormat::Plain;
    }
  }
  FeedContents out;
  out.format = format;
  Status status;
  if (format == FeedFormat::Stix || format == FeedFormat::Misp || format == FeedFormat::Json) {
    if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);
    const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return tl::unexpected(parse_error("$: not valid JSON"));
    if (format == FeedFormat::Json) {
      const bool misp = doc.is_array() ||
                        (doc.is_object() && (doc.contains("Event") || doc.contains("response"))) ||
                        looks_like_misp_event(doc);
      format = misp ? FeedFormat::Misp : FeedFormat::Stix;
      out.format = format;
    }
    status =
        format == FeedFormat::Misp ? parse_misp(doc, options, out) : parse_stix(doc, options, out);
    if (format == FeedFormat::Stix && status) out.shape = "bundle";
  } else {
    status = parse_lines(text, format, options, out);
  }
  if (!status) return tl::unexpected(status.error());
  if (out.indicators.empty() && out.hashes_skipped > 0) {
    std::string reasons;
    for (const auto& [reason, count] : out.skipped_by) {
      reasons += (reasons.empty() ? "" : ", ") + reason + ": " + std::to_string(count);
    }
    return tl::unexpected(
        parse_error("no indicator to import: every file hash was left out (" + reasons + ")"));
  }
  return out;
}

Result<StreamStats> stream_feed(std::istream& in,
                                FeedFormat format,
                                const FeedOptions& options,
                                const std::function<Status(Indicator&&)>& sink) {
  StreamStats stats;
  std::string pending;
  std::vector<char> chunk(1 << 16);
  size_t number = 0;
  std::optional<LineFeedParser> parser;
  const std::function<Status(Indicator &&)> emit = [&](Indicator&& i) -> Status {
    ++stats.indicators;
    return sink(std::move(i));
  };
  const auto take = [&](std::string_view line) -> Status {
    ++number;
    if (!parser) {
      // Auto: the first line decides, as parse_feed decides on the whole text.
      if (format == FeedFormat::Auto) {
        format = line.find(',') != std::string_view::npos ? FeedFormat::Csv : FeedFormat::Plain;
      }
      stats.format = format;
      parser.emplace(format, options);
    }
    return parser->line(line, number, emit, stats.skipped);
  };
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) break;
    size_t start = 0;
    for (size_t idx = 0; idx < got; ++idx) {
      if (chunk[idx] != '\n') continue;
      if (pending.empty()) {
        CATENA_TRY_STATUS(take(std::string_view(chunk.data() + start, idx - start)));
      } else {
        pending.append(chunk.data() + start, idx - start);
        CATENA_TRY_STATUS(take(pending));
        pending.clear();
      }
      start = idx + 1;
    }
    pending.append(chunk.data() + start, got - start);
    if (pending.size() > kMaxFeedLine) {
      return tl::unexpected(parse_error("line " + std::to_string(number + 1) + ": longer than " +
                                        std::to_string(kMaxFeedLine) + " bytes"));
    }
  }
  if (in.bad()) return make_error(ErrorCode::Io, "the feed cannot be read");
  if (!pending.empty()) CATENA_TRY_STATUS(take(pending));
  if (!parser) {
    stats.format = format == FeedFormat::Auto ? FeedFormat::Plain : format;
    parser.emplace(stats.format, options);
  }
  CATENA_TRY_STATUS(parser->finish());
  return stats;
}

}  // namespace catena::intel
