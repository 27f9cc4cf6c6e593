// A STIX 2.1 pattern read as a sequence of comparisons: enough to take each file-hash equality
// as an indicator and to say why every other comparison was not, without judging the whole
// pattern by its worst clause. Grammar: STIX 2.1 part 5 (patterning), comparison expressions
// `object-path operator value` joined by AND/OR inside [ ], observations joined by
// AND/OR/FOLLOWEDBY with WITHIN/REPEATS/START..STOP qualifiers.
#include "stix_pattern.hpp"

#include <cctype>

#include "catena/core/text.hpp"

namespace catena::intel {
namespace {

enum class Kind { Path, Word, String, Typed, Number, Operator, Punct };

struct Token {
  Kind kind;
  std::string text;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ':' ||
         c == '.';
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

class Tokenizer {
 public:
  explicit Tokenizer(std::string_view pattern) : p_(pattern) {}

  Result<std::vector<Token>> run() {
    std::vector<Token> out;
    while (at_ < p_.size()) {
      const char c = p_[at_];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++at_;
      } else if (c == '[' || c == ']' || c == '(' || c == ')' || c == ',') {
        out.push_back({Kind::Punct, std::string(1, c)});
        ++at_;
      } else if (c == '\'') {
        CATENA_TRY(std::string text, quoted());
        out.push_back({Kind::String, std::move(text)});
      } else if ((c == 't' || c == 'h' || c == 'b') && next_is('\'')) {
        ++at_;  // a timestamp, hex or binary literal: a value, never a hash string
        CATENA_TRY(std::string text, quoted());
        out.push_back({Kind::Typed, std::move(text)});
      } else if (c == '=' || c == '!' || c == '<' || c == '>') {
        std::string op(1, c);
        ++at_;
        if (at_ < p_.size() && p_[at_] == '=') {
          op += '=';
          ++at_;
        }
        if (op == "!") return error("'!' without '='");
        out.push_back({Kind::Operator, std::move(op)});
      } else if (std::isdigit(static_cast<unsigned char>(c)) ||
                 (c == '-' && at_ + 1 < p_.size() &&
                  std::isdigit(static_cast<unsigned char>(p_[at_ + 1])))) {
        std::string number(1, c);
        ++at_;
        while (at_ < p_.size() && (std::isalnum(static_cast<unsigned char>(p_[at_])) ||
                                   p_[at_] == '.' || p_[at_] == '+' || p_[at_] == '-')) {
          number += p_[at_++];
        }
        out.push_back({Kind::Number, std::move(number)});
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        CATENA_TRY(Token word, path_or_word());
        out.push_back(std::move(word));
      } else {
        return error("an unexpected character '" + std::string(1, c) + "'");
      }
    }
    return out;
  }

 private:
  bool next_is(char c) const { return at_ + 1 < p_.size() && p_[at_ + 1] == c; }

  tl::unexpected<Error> error(std::string what) const {
    return tl::unexpected(Error{ErrorCode::Parse, what + " at offset " + std::to_string(at_), {}});
  }

  // A quoted string from p_[at_] == '\'', with \' and \\ escapes.
  Result<std::string> quoted() {
    std::string out;
    const size_t start = at_++;
    while (at_ < p_.size()) {
      const char c = p_[at_++];
      if (c == '\\' && at_ < p_.size()) {
        out += p_[at_++];
      } else if (c == '\'') {
        return out;
      } else {
        out += c;
      }
    }
    at_ = start;
    return error("an unterminated string");
  }

  // An object path (file:hashes.'SHA-256', x:list[*].name) or a keyword (AND, LIKE, true).
  Result<Token> path_or_word() {
    std::string text;
    bool path = false;
    while (at_ < p_.size()) {
      const char c = p_[at_];
      if (is_word_char(c)) {
        path = path || c == ':';
        text += c;
        ++at_;
      } else if (c == '\'' && !text.empty() && text.back() == '.') {
        CATENA_TRY(std::string part, quoted());
        text += part;
      } else if (c == '[' && path) {
        // A list index, [*] or [3]; anything else ends the path.
        const size_t close = p_.find(']', at_);
        if (close == std::string_view::npos) return error("an unclosed index");
        const std::string_view index = p_.substr(at_ + 1, close - at_ - 1);
        bool valid = !index.empty();
        for (const char d : index) {
          valid = valid && (d == '*' || std::isdigit(static_cast<unsigned char>(d)));
        }
        if (!valid) break;
        text.append(p_.substr(at_, close - at_ + 1));
        at_ = close + 1;
      } else {
        break;
      }
    }
    return Token{path ? Kind::Path : Kind::Word, std::move(text)};
  }

  std::string_view p_;
  size_t at_ = 0;
};

bool is_word_operator(const std::string& word) {
  return word == "LIKE" || word == "MATCHES" || word == "IN" || word == "ISSUBSET" ||
         word == "ISSUPERSET";
}

}  // namespace

Result<std::vector<PatternComparison>> stix_comparisons(std::string_view pattern) {
  CATENA_TRY(std::vector<Token> tokens, Tokenizer(pattern).run());
  std::vector<PatternComparison> out;
  const auto split_path = [](const std::string& path, PatternComparison& c) {
    const size_t colon = path.find(':');
    c.object = ascii_lower(path.substr(0, colon));
    c.property = ascii_lower(path.substr(colon + 1));
  };
  for (size_t k = 0; k < tokens.size(); ++k) {
    if (tokens[k].kind == Kind::Word && upper(tokens[k].text) == "EXISTS" &&
        k + 1 < tokens.size() && tokens[k + 1].kind == Kind::Path) {
      PatternComparison c;
      split_path(tokens[k + 1].text, c);
      c.op = "EXISTS";
      out.push_back(std::move(c));
      ++k;
      continue;
    }
    if (tokens[k].kind != Kind::Path) continue;
    PatternComparison c;
    split_path(tokens[k].text, c);
    size_t j = k + 1;
    if (j < tokens.size() && tokens[j].kind == Kind::Word && upper(tokens[j].text) == "NOT") {
      c.negated = true;
      ++j;
    }
    if (j < tokens.size() && tokens[j].kind == Kind::Operator) {
      c.op = tokens[j].text;
    } else if (j < tokens.size() && tokens[j].kind == Kind::Word &&
               is_word_operator(upper(tokens[j].text))) {
      c.op = upper(tokens[j].text);
    } else {
      return tl::unexpected(Error{
          ErrorCode::Parse, "a comparison of " + tokens[k].text + " without an operator", {}});
    }
    ++j;
    if (j < tokens.size() && tokens[j].kind == Kind::String) {
      c.string_value = true;
      c.value = tokens[j].text;
    } else if (j < tokens.size() && tokens[j].kind == Kind::Punct && tokens[j].text == "(") {
      while (j < tokens.size() && !(tokens[j].kind == Kind::Punct && tokens[j].text == ")")) ++j;
      c.value = "(list)";
    } else if (j < tokens.size()) {
      c.value = tokens[j].text;
    }
    out.push_back(std::move(c));
    k = j;
  }
  return out;
}

}  // namespace catena::intel
