#include "catena/formats/strings.hpp"

#include <algorithm>
#include <array>
#include <set>
#include <string_view>

namespace catena::formats {
namespace {

bool printable(unsigned char c) { return c >= 0x20 && c < 0x7f; }

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.';
}

bool url_char(char c) {
  return printable(static_cast<unsigned char>(c)) && c != ' ' && c != '"' && c != '\'' &&
         c != '<' && c != '>' && c != '`' && c != '\\' && c != '{' && c != '}' && c != '|' &&
         c != '^';
}

// Top-level domains that name hosts in practice and rarely end a file or member name: ".so",
// ".sh", ".pl", ".md", ".rs", ".py"-like ones are left out, as they are file extensions far
// more often than hosts.
bool known_tld(std::string_view tld) {
  static constexpr std::array<std::string_view, 44> kTlds = {
      "app",   "au",   "biz",  "br",    "ca", "cc",   "cf",  "ch",    "club",   "cn",  "com",
      "cloud", "de",   "dev",  "eu",    "fr", "ga",   "gov", "gq",    "info",   "io",  "ir",
      "jp",    "kp",   "kr",   "live",  "ml", "net",  "nl",  "onion", "online", "org", "pw",
      "ru",    "shop", "site", "space", "su", "tech", "tk",  "top",   "uk",     "us",  "xyz"};
  return std::find(kTlds.begin(), kTlds.end(), tld) != kTlds.end();
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A dotted name of at least two labels whose last is a known TLD and whose labels are not empty.
bool host_name(std::string_view name) {
  if (name.size() < 4 || name.size() > 253 || name.front() == '.' || name.back() == '.' ||
      name.front() == '-') {
    return false;
  }
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || name.find("..") != std::string_view::npos) return false;
  const std::string tld = lower(name.substr(dot + 1));
  if (!known_tld(tld)) return false;
  // Not "1.2.3.com"-like digits only before the TLD.
  return std::any_of(name.begin(), name.begin() + static_cast<long>(dot),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
}

// A dotted quad that names a host: not a network or broadcast address (last octet 0 or 255,
// which version numbers such as "2.0.6.0" also end in), and not under the object identifier
// arcs X.509 and CMS strings are full of (1.2., 1.3., 2.5., 2.16., 2.23., 2.113.).
bool ipv4(std::string_view text) {
  for (std::string_view arc : {"1.2.", "1.3.", "2.5.", "2.16.", "2.23.", "2.113."}) {
    if (text.starts_with(arc)) return false;
  }
  if (text.ends_with(".0") || text.ends_with(".255")) return false;
  int parts = 0;
  size_t at = 0;
  while (at <= text.size()) {
    size_t end = text.find('.', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view part = text.substr(at, end - at);
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return false;
    int value = 0;
    for (char c : part) {
      if (c < '0' || c > '9') return false;
      value = value * 10 + (c - '0');
    }
    if (value > 255 || (parts == 0 && value == 0)) return false;
    ++parts;
    at = end + 1;
  }
  return parts == 4;
}

class Collector {
 public:
  explicit Collector(size_t max) : max_(max) {}

  void run(std::string_view s) {
    size_t covered = 0;  // URLs' own characters are not searched again for host names
    for (size_t at = s.find("://"); at != std::string_view::npos; at = s.find("://", at + 3)) {
      size_t start = at;
      while (start > 0 && ((s[start - 1] >= 'a' && s[start - 1] <= 'z') ||
                           (s[start - 1] >= 'A' && s[start - 1] <= 'Z'))) {
        --start;
      }
      const std::string scheme = lower(s.substr(start, at - start));
      if (scheme != "http" && scheme != "https" && scheme != "ftp" && scheme != "ws" &&
          scheme != "wss") {
        continue;
      }
      size_t end = at + 3;
      while (end < s.size() && url_char(s[end])) ++end;
      size_t host_end = at + 3;
      while (host_end < end && host_char(s[host_end])) ++host_end;
      if (host_end == at + 3) continue;
      add(std::string(s.substr(start, end - start)));
      const std::string_view host = s.substr(at + 3, host_end - at - 3);
      if (host_name(host)) add(lower(host));
      if (ipv4(host)) add(std::string(host));
      covered = std::max(covered, end);
    }
    // Host names and addresses: maximal runs of host characters, outside URLs.
    size_t at = 0;
    while (at < s.size()) {
      if (!host_char(s[at]) || at < covered) {
        ++at;
        continue;
      }
      size_t end = at;
      while (end < s.size() && host_char(s[end])) ++end;
      // A token glued to a path or e-mail part still counts; one preceded by a letter of a
      // larger word cannot occur (the run is maximal).
      std::string_view token = s.substr(at, end - at);
      while (!token.empty() && (token.back() == '.' || token.back() == '-')) {
        token.remove_suffix(1);
      }
      if (ipv4(token)) {
        add(std::string(token));
      } else if (host_name(token)) {
        add(lower(token));
      }
      at = end;
    }
  }

  NetworkStrings finish() {
    return {.values = std::vector<std::string>(values_.begin(), values_.end()),
            .truncated = truncated_};
  }

 private:
  void add(std::string value) {
    if (values_.size() >= max_ && !values_.contains(value)) {
      truncated_ = true;
      return;
    }
    values_.insert(std::move(value));
  }

  size_t max_;
  std::set<std::string> values_;
  bool truncated_ = false;
};

}  // namespace

NetworkStrings network_strings(std::span<const std::byte> bytes, size_t max_values) {
  Collector collector(max_values);
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t size = bytes.size();
  static constexpr auto kPrintable = [] {
    std::array<bool, 256> table{};
    for (size_t c = 0x20; c < 0x7f; ++c) table[c] = true;
    return table;
  }();
  // One pass over the bytes: an ASCII run, and a UTF-16LE run of ASCII characters (a
  // printable byte and a zero) at either alignment, is looked at where it ends. A run longer
  // than kMaxStringRun is looked at in pieces. Past max_values, the values kept are the first
  // met in that order.
  std::string text;
  const auto end_ascii = [&](size_t start, size_t length) {
    for (size_t at = start; length - (at - start) >= kMinStringRun; at += kMaxStringRun) {
      const size_t left = length - (at - start);
      collector.run(std::string_view(reinterpret_cast<const char*>(data + at),
                                     std::min(left, kMaxStringRun)));
      if (left <= kMaxStringRun) break;
    }
  };
  const auto end_wide = [&](size_t start, size_t characters) {
    for (size_t at = 0; characters - at >= kMinStringRun; at += kMaxStringRun) {
      text.clear();
      const size_t count = std::min(characters - at, kMaxStringRun);
      for (size_t k = 0; k < count; ++k)
        text.push_back(static_cast<char>(data[start + 2 * (at + k)]));
      collector.run(text);
      if (characters - at <= kMaxStringRun) break;
    }
  };
  size_t ascii_start = 0, ascii_length = 0;
  size_t wide_start[2] = {0, 0}, wide_characters[2] = {0, 0};
  for (size_t i = 0; i < size; ++i) {
    const bool printable_byte = kPrintable[data[i]];
    if (printable_byte) {
      if (ascii_length++ == 0) ascii_start = i;
    } else if (ascii_length != 0) {
      if (ascii_length >= kMinStringRun) end_ascii(ascii_start, ascii_length);
      ascii_length = 0;
    }
    // The pair that starts here continues, or ends, the run of its alignment.
    size_t& characters = wide_characters[i & 1];
    if (printable_byte && i + 1 < size && data[i + 1] == 0) {
      if (characters++ == 0) wide_start[i & 1] = i;
    } else if (characters != 0) {
      if (characters >= kMinStringRun) end_wide(wide_start[i & 1], characters);
      characters = 0;
    }
  }
  if (ascii_length >= kMinStringRun) end_ascii(ascii_start, ascii_length);
  for (size_t parity = 0; parity < 2; ++parity) {
    if (wide_characters[parity] >= kMinStringRun) {
      end_wide(wide_start[parity], wide_characters[parity]);
    }
  }
  return collector.finish();
}

}  // namespace catena::formats
