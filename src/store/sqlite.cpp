#include "sqlite.hpp"

#include "catena/core/text.hpp"

namespace catena::store {

tl::unexpected<Error> db_error(sqlite3* db, std::string_view what) {
  const int code = sqlite3_extended_errcode(db);
  std::string message(what);
  message += ": ";
  message += sqlite3_errmsg(db);
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    message += " (the store is locked by another process)";
  } else if ((code & 0xff) == SQLITE_READONLY) {
    message += " (the store is read-only)";
  } else if ((code & 0xff) == SQLITE_NOTADB || (code & 0xff) == SQLITE_CORRUPT) {
    message += " (the store file is damaged or is not a catena store)";
  }
  return make_error(ErrorCode::Db, std::move(message));
}

Status exec(sqlite3* db, std::string_view sql, std::string_view what) {
  const std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return db_error(db, what);
  }
  return {};
}

Result<int64_t> query_int(sqlite3* db, std::string_view sql, std::string_view what) {
  Statement stmt(db, sql);
  if (!stmt.ok()) return db_error(db, what);
  const int rc = sqlite3_step(stmt.get());
  if (rc != SQLITE_ROW) return db_error(db, what);
  return stmt.column_int(0);
}

// Evidence is stored as a JSON array of [key, value]; a value that is not UTF-8 is {"b64": ...}.
nlohmann::json encode_evidence(const Finding& f) {
  nlohmann::json evidence = nlohmann::json::array();
  for (const auto& [key, value] : f.evidence) {
    evidence.push_back({key, is_valid_utf8(value)
                                 ? nlohmann::json(value)
                                 : nlohmann::json({{"b64", base64_encode(value)}})});
  }
  return evidence;
}

void decode_evidence(const nlohmann::json& evidence, Finding& f) {
  if (!evidence.is_array()) return;
  for (const auto& pair : evidence) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string()) continue;
    std::string value;
    if (pair[1].is_string()) {
      value = pair[1].get<std::string>();
    } else if (pair[1].is_object() && pair[1].contains("b64") && pair[1]["b64"].is_string()) {
      value = base64_decode(pair[1]["b64"].get<std::string>()).value_or(std::string());
    }
    f.add_evidence(pair[0].get<std::string>(), std::move(value));
  }
}

// A content's finding, kept with its facts: no path (a content has many), tagged by analyser.
nlohmann::json encode_finding(const std::string& analyser, const Finding& f) {
  return {{"analyser", analyser},
          {"rule", f.rule},
          {"severity", severity_name(f.severity)},
          {"message", f.message},
          {"evidence", encode_evidence(f)}};
}

std::optional<Finding> decode_finding(const nlohmann::json& item) {
  if (!item.contains("rule") || !item["rule"].is_string() || !item.contains("severity") ||
      !item["severity"].is_string() || !item.contains("message") || !item["message"].is_string()) {
    return std::nullopt;
  }
  Finding f;
  f.rule = item["rule"].get<std::string>();
  auto severity = parse_severity(item["severity"].get<std::string>());
  if (!severity) return std::nullopt;
  f.severity = *severity;
  f.message = item["message"].get<std::string>();
  if (item.contains("evidence")) decode_evidence(item["evidence"], f);
  return f;
}

// Argument lists are stored as JSON arrays; an element that is not UTF-8 is {"b64": ...}.
std::string encode_string_list(const std::vector<std::string>& items) {
  nlohmann::json array = nlohmann::json::array();
  for (const std::string& item : items) {
    if (is_valid_utf8(item)) {
      array.push_back(item);
    } else {
      array.push_back({{"b64", base64_encode(item)}});
    }
  }
  return array.dump();
}

std::vector<std::string> decode_string_list(const std::string& text) {
  std::vector<std::string> out;
  const nlohmann::json array = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!array.is_array()) return out;
  for (const auto& item : array) {
    if (item.is_string()) {
      out.push_back(item.get<std::string>());
    } else if (item.is_object() && item.contains("b64") && item["b64"].is_string()) {
      auto decoded = base64_decode(item["b64"].get<std::string>());
      out.push_back(decoded ? *decoded : std::string());
    }
  }
  return out;
}

Result<ScanStatus> parse_status(const std::string& text) {
  for (ScanStatus s :
       {ScanStatus::Running, ScanStatus::Complete, ScanStatus::Interrupted, ScanStatus::Failed}) {
    if (text == scan_status_name(s)) return s;
  }
  return make_error(ErrorCode::Db, "unknown scan status in store: " + text);
}

FileType parse_file_type(std::string_view text) {
  for (FileType t : {FileType::Regular, FileType::Symlink, FileType::Fifo, FileType::Socket,
                     FileType::CharDevice, FileType::BlockDevice}) {
    if (text == file_type_name(t)) return t;
  }
  return FileType::Other;
}

FileRecord read_file_columns(const Statement& stmt, int first) {
  FileRecord r;
  r.path = stmt.column_text(first + 0);
  r.type = parse_file_type(stmt.column_text(first + 1));
  r.size = static_cast<uint64_t>(stmt.column_int(first + 2));
  r.mode = static_cast<uint32_t>(stmt.column_int(first + 3));
  r.uid = static_cast<uint32_t>(stmt.column_int(first + 4));
  r.gid = static_cast<uint32_t>(stmt.column_int(first + 5));
  r.mtime_ns = stmt.column_int(first + 6);
  r.ctime_ns = stmt.column_int(first + 7);
  r.inode = static_cast<uint64_t>(stmt.column_int(first + 8));
  r.device = static_cast<uint64_t>(stmt.column_int(first + 9));
  r.sha256 = stmt.column_digest<32>(first + 10);
  r.format = stmt.column_text(first + 11);
  r.package = stmt.column_text(first + 12);
  r.link_target = stmt.column_text(first + 13);
  r.changed = stmt.column_int(first + 14) != 0;
  r.md5 = stmt.column_digest<16>(first + 15);
  r.sha1 = stmt.column_digest<20>(first + 16);
  r.xattrs = stmt.column_text(first + 17);
  r.signature = stmt.column_text(first + 18);
  r.details = stmt.column_text(first + 19);
  return r;
}

}  // namespace catena::store
