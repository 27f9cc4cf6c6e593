#include "catena/core/text.hpp"

#include <array>
#include <cstdio>

namespace catena {
namespace {

// Decodes one UTF-8 sequence at `pos`; returns its length, or 0 if it is not well-formed.
size_t utf8_sequence(std::string_view text, size_t pos, uint32_t* code_point) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(text[i]); };
  const uint8_t lead = byte(pos);
  size_t length = 0;
  uint32_t cp = 0;
  uint32_t min = 0;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if ((lead & 0xe0) == 0xc0) {
    length = 2, cp = lead & 0x1fu, min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3, cp = lead & 0x0fu, min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4, cp = lead & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  if (length > text.size() - pos) return 0;
  for (size_t i = 1; i < length; ++i) {
    const uint8_t next = byte(pos + i);
    if ((next & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (next & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  *code_point = cp;
  return length;
}

// Code points that change how surrounding text is displayed without showing themselves.
bool is_deceptive_format_char(uint32_t cp) {
  return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
         (cp >= 0x80 && cp <= 0x9f);
}

void append_hex_byte(std::string& out, uint8_t b) {
  char buffer[5];
  std::snprintf(buffer, sizeof buffer, "\\x%02x", b);
  out += buffer;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    uint32_t cp = 0;
    const size_t length = utf8_sequence(text, pos, &cp);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

std::string escape_for_terminal(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t pos = 0; pos < bytes.size();) {
    uint32_t cp = 0;
    const size_t length = utf8_sequence(bytes, pos, &cp);
    if (length == 0) {
      append_hex_byte(out, static_cast<uint8_t>(bytes[pos]));
      pos += 1;
      continue;
    }
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp < 0x20 || cp == 0x7f) {
      append_hex_byte(out, static_cast<uint8_t>(cp));
    } else if (is_deceptive_format_char(cp)) {
      char buffer[16];
      std::snprintf(buffer, sizeof buffer, "\\u{%04x}", cp);
      out += buffer;
    } else {
      out.append(bytes.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

std::string json_path_text(std::string_view bytes, bool* needs_b64) {
  // A path printed as itself never holds a backslash, so it can never equal the escaped form
  // of another (a name with the byte 0xfe and a name spelling "\xfe" print differently).
  const bool plain = is_valid_utf8(bytes) && bytes.find('\\') == std::string_view::npos;
  *needs_b64 = !plain;
  return plain ? std::string(bytes) : escape_for_terminal(bytes);
}

std::string base64_encode(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t pos = 0;
  for (; bytes.size() - pos >= 3; pos += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos + 1])) << 8 |
                       static_cast<uint8_t>(bytes[pos + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const size_t rest = bytes.size() - pos;
  if (rest > 0) {
    uint32_t v = static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos])) << 16;
    if (rest == 2) v |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[pos + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  const auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) {
    return make_error(ErrorCode::Parse, "base64 length is not a multiple of 4");
  }
  std::string out;
  for (size_t pos = 0; pos < text.size(); pos += 4) {
    uint32_t v = 0;
    int padding = 0;
    for (size_t i = 0; i < 4; ++i) {
      const char c = text[pos + i];
      if (c == '=' && pos + 4 == text.size() && i >= 2) {
        ++padding;
        v <<= 6;
        continue;
      }
      const int d = value(c);
      if (d < 0 || padding > 0) return make_error(ErrorCode::Parse, "invalid base64", pos + i);
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out += static_cast<char>((v >> 16) & 0xff);
    if (padding < 2) out += static_cast<char>((v >> 8) & 0xff);
    if (padding < 1) out += static_cast<char>(v & 0xff);
  }
  return out;
}

std::string percent_encode_path(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (const char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '/';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      char buffer[4];
      std::snprintf(buffer, sizeof buffer, "%%%02X", c);
      out += buffer;
    }
  }
  return out;
}

std::string human_bytes(uint64_t bytes) {
  static constexpr std::array<const char*, 6> kUnits = {"B", "kB", "MB", "GB", "TB", "PB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000.0 && unit + 1 < kUnits.size()) {
    value /= 1000.0;
    ++unit;
  }
  char buffer[32];
  if (unit == 0) {
    std::snprintf(buffer, sizeof buffer, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buffer, sizeof buffer, "%.1f %s", value, kUnits[unit]);
  }
  return buffer;
}

std::string_view trim_space(std::string_view text) {
  const auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
  };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string_view> Lines::next() {
  if (pos_ >= text_.size()) return std::nullopt;
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  offset_ = pos_;
  const std::string_view line = text_.substr(pos_, end - pos_);
  pos_ = end + 1;
  ++number_;
  return line;
}

std::optional<std::string_view> TrimmedLines::next() {
  const auto line = lines_.next();
  if (!line) return std::nullopt;
  return trim_space(*line);
}

}  // namespace catena
