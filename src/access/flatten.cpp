#include "flatten.hpp"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <toml++/toml.h>
#include <yaml.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "catena/core/text.hpp"

namespace catena::access {
namespace {

tl::unexpected<Error> parse_error(std::string message) {
  return tl::unexpected(Error{ErrorCode::Parse, std::move(message), {}});
}

// Tracks the key path of a tree read as events: mappings and sequences nest.
class PathStack {
 public:
  bool push(bool sequence) {
    if (frames_.size() >= kMaxDepth) return false;
    frames_.push_back({.sequence = sequence});
    keys_.emplace_back(sequence ? "0" : "");
    return true;
  }
  void pop() {
    if (frames_.empty()) return;
    frames_.pop_back();
    keys_.pop_back();
    if (in_sequence()) ++frames_.back().index;
  }
  void set_key(std::string key) {
    if (!keys_.empty()) keys_.back() = std::move(key);
  }
  void scalar(Entries& out, std::string value) {
    enter_item();
    out.push_back({keys_, std::move(value)});
    if (in_sequence()) ++frames_.back().index;
  }
  // A sequence item's index is its key.
  void enter_item() {
    if (in_sequence()) keys_.back() = std::to_string(frames_.back().index);
  }
  bool empty() const { return frames_.empty(); }
  bool in_sequence() const { return !frames_.empty() && frames_.back().sequence; }

 private:
  struct Frame {
    bool sequence = false;
    size_t index = 0;
  };
  std::vector<Frame> frames_;
  std::vector<std::string> keys_;
};

class JsonFlattener : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit JsonFlattener(Entries& out) : out_(out) {}
  bool null() override { return value("null"); }
  bool boolean(bool v) override { return value(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return value(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& text) override { return value(text); }
  bool string(string_t& v) override { return value(std::move(v)); }
  bool binary(binary_t&) override { return value(""); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t& k) override {
    stack_.set_key(std::move(k));
    return true;
  }
  bool end_object() override {
    stack_.pop();
    return true;
  }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override {
    stack_.pop();
    return true;
  }
  bool parse_error(std::size_t position,
                   const std::string&,
                   const nlohmann::detail::exception&) override {
    error_ = "not valid JSON (at byte " + std::to_string(position) + ")";
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  bool value(std::string v) {
    stack_.scalar(out_, std::move(v));
    return true;
  }
  bool open(bool sequence) {
    stack_.enter_item();
    if (!stack_.push(sequence)) {
      error_ = "nested deeper than " + std::to_string(kMaxDepth) + " levels";
      return false;
    }
    return true;
  }
  Entries& out_;
  PathStack stack_;
  std::string error_;
};

void walk_toml(const toml::node& node, std::vector<std::string>& keys, Entries& out, size_t depth) {
  if (depth > kMaxDepth) return;
  if (const toml::table* table = node.as_table()) {
    for (const auto& [key, child] : *table) {
      keys.emplace_back(key.str());
      walk_toml(child, keys, out, depth + 1);
      keys.pop_back();
    }
  } else if (const toml::array* array = node.as_array()) {
    for (size_t i = 0; i < array->size(); ++i) {
      keys.push_back(std::to_string(i));
      walk_toml(*array->get(i), keys, out, depth + 1);
      keys.pop_back();
    }
  } else if (const auto* s = node.as_string()) {
    out.push_back({keys, s->get()});
  } else if (const auto* i = node.as_integer()) {
    out.push_back({keys, std::to_string(i->get())});
  } else if (const auto* b = node.as_boolean()) {
    out.push_back({keys, b->get() ? "true" : "false"});
  } else {
    out.push_back({keys, ""});
  }
}

std::string unquote(std::string_view value) {
  value = trim_space(value);
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
      value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return std::string(value);
}

}  // namespace

Result<Entries> flatten_json(std::string_view text) {
  Entries out;
  JsonFlattener flattener(out);
  const bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &flattener,
                                            nlohmann::json::input_format_t::json, true, true);
  if (!ok) return parse_error(flattener.error().empty() ? "not valid JSON" : flattener.error());
  return out;
}

Result<Entries> flatten_yaml(std::string_view text) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return parse_error("cannot start the YAML parser");
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()),
                               text.size());
  Entries out;
  PathStack stack;
  // Within a mapping, scalars alternate key, value; a container as a key is skipped.
  std::vector<bool> expect_key;
  size_t documents = 0;
  for (;;) {
    yaml_event_t event;
    if (yaml_parser_parse(&parser, &event) == 0) {
      std::string reason = parser.problem != nullptr ? parser.problem : "malformed";
      return parse_error("not valid YAML (" + reason + " at line " +
                         std::to_string(parser.problem_mark.line + 1) + ")");
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> event_guard(&event, yaml_event_delete);
    const auto after_value = [&] {
      if (!expect_key.empty() && !stack.in_sequence()) expect_key.back() = true;
    };
    switch (event.type) {
      case YAML_STREAM_END_EVENT:
        return out;
      case YAML_DOCUMENT_START_EVENT:
        // Only the first document matters for configuration files.
        if (++documents > 1) return out;
        break;
      case YAML_MAPPING_START_EVENT:
      case YAML_SEQUENCE_START_EVENT: {
        if (!expect_key.empty() && !stack.in_sequence() && expect_key.back()) {
          return parse_error("YAML mapping keys that are not scalars are not supported");
        }
        stack.enter_item();
        if (!stack.push(event.type == YAML_SEQUENCE_START_EVENT)) {
          return parse_error("YAML nested deeper than " + std::to_string(kMaxDepth) + " levels");
        }
        expect_key.push_back(true);
        break;
      }
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT:
        stack.pop();
        expect_key.pop_back();
        after_value();
        break;
      case YAML_SCALAR_EVENT:
      case YAML_ALIAS_EVENT: {
        std::string value;
        if (event.type == YAML_SCALAR_EVENT) {
          value.assign(reinterpret_cast<const char*>(event.data.scalar.value),
                       event.data.scalar.length);
        }
        if (stack.empty()) break;  // a document that is a bare scalar
        if (!stack.in_sequence() && expect_key.back()) {
          stack.set_key(std::move(value));
          expect_key.back() = false;
        } else {
          stack.scalar(out, std::move(value));
          after_value();
        }
        break;
      }
      default:
        break;
    }
  }
}

Result<Entries> flatten_toml(std::string_view text) {
  toml::table table;
  try {
    table = toml::parse(text);
  } catch (const toml::parse_error& e) {
    // Only the position: toml++'s description may quote the bytes it saw, part of a secret.
    return parse_error("not valid TOML (at line " + std::to_string(e.source().begin.line) +
                       ", column " + std::to_string(e.source().begin.column) + ")");
  }
  Entries out;
  std::vector<std::string> keys;
  walk_toml(table, keys, out, 0);
  return out;
}

Result<Entries> flatten_ini(std::string_view text) {
  Entries out;
  std::vector<std::string> section;
  TrimmedLines lines(text);
  while (auto next = lines.next()) {
    const std::string_view line = *next;
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      const size_t close = line.rfind(']');
      if (close == std::string_view::npos) {
        return parse_error("unterminated section header at line " + std::to_string(lines.number()));
      }
      std::string_view inner = trim_space(line.substr(1, close - 1));
      section.clear();
      const size_t quote = inner.find('"');
      if (quote != std::string_view::npos) {
        section.emplace_back(trim_space(inner.substr(0, quote)));
        section.push_back(unquote(inner.substr(quote)));
      } else {
        section.emplace_back(inner);
      }
      continue;
    }
    size_t sep = line.find('=');
    const size_t colon = line.find(':');
    // `key: value` (pip) unless the colon belongs to a key such as `//host:8080/:_authToken`.
    if (sep == std::string_view::npos) sep = colon;
    std::vector<std::string> keys = section;
    if (sep == std::string_view::npos) {
      keys.emplace_back(line);  // git's valueless boolean
      out.push_back({std::move(keys), "true"});
      continue;
    }
    keys.emplace_back(trim_space(line.substr(0, sep)));
    out.push_back({std::move(keys), unquote(line.substr(sep + 1))});
  }
  return out;
}

Result<Entries> flatten_git_config(std::string_view text) {
  Entries out;
  std::vector<std::string> section;
  size_t pos = 0;
  size_t line = 1;
  const auto at_end = [&] { return pos >= text.size(); };
  // "\r\n" reads as "\n", as git's reader does.
  const auto next = [&]() -> int {
    if (at_end()) return '\n';
    char c = text[pos++];
    if (c == '\r' && !at_end() && text[pos] == '\n') c = text[pos++];
    if (c == '\n') ++line;
    return static_cast<unsigned char>(c);
  };
  const auto is_space = [](int c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
  };
  const auto error = [&](std::string_view what) {
    return parse_error("not valid git configuration (" + std::string(what) + " at line " +
                       std::to_string(line) + ")");
  };
  while (!at_end()) {
    int c = next();
    if (c == '\n' || is_space(c)) continue;
    if (c == '#' || c == ';') {
      while (!at_end() && next() != '\n') {
      }
      continue;
    }
    if (c == '[') {
      section.clear();
      std::string name;
      while (true) {
        if (at_end()) return error("unterminated section header");
        c = next();
        if (c == ']' || c == '"' || is_space(c) || c == '\n') break;
        name.push_back(static_cast<char>(c));
      }
      if (c == '\n') return error("unterminated section header");
      // [section.sub] is the old spelling of [section "sub"].
      const size_t dot = name.find('.');
      section.push_back(ascii_lower(name.substr(0, dot)));
      if (dot != std::string::npos) section.push_back(ascii_lower(name.substr(dot + 1)));
      while (is_space(c)) c = next();
      if (c == '"') {
        std::string sub;
        while (true) {
          if (at_end()) return error("unterminated subsection");
          c = next();
          if (c == '\n') return error("unterminated subsection");
          if (c == '"') break;
          if (c == '\\') {
            if (at_end()) return error("unterminated subsection");
            c = next();
            if (c == '\n') return error("unterminated subsection");
          }
          sub.push_back(static_cast<char>(c));
        }
        section.push_back(std::move(sub));
        c = next();
      }
      if (c != ']') return error("malformed section header");
      continue;
    }
    // A variable: name, then '=' and a value, or nothing (a boolean true).
    std::string key(1, static_cast<char>(c));
    while (!at_end()) {
      c = next();
      if (c == '=' || c == '\n' || is_space(c) || c == '#' || c == ';') break;
      key.push_back(static_cast<char>(c));
    }
    while (is_space(c)) c = next();
    std::vector<std::string> keys = section;
    keys.push_back(ascii_lower(key));
    if (c != '=') {
      // Rest of the line is a comment (or nothing).
      while (c != '\n' && !at_end()) c = next();
      out.push_back({std::move(keys), "true"});
      continue;
    }
    std::string value;
    bool quote = false;
    bool comment = false;
    size_t spaces = 0;
    while (true) {
      c = next();
      if (c == '\n') {
        if (quote) return error("unterminated quote");
        break;
      }
      if (comment) continue;
      if (is_space(c) && !quote) {
        if (!value.empty()) ++spaces;
        continue;
      }
      if (!quote && (c == ';' || c == '#')) {
        comment = true;
        continue;
      }
      value.append(spaces, ' ');
      spaces = 0;
      if (c == '\\') {
        if (at_end()) return error("backslash at the end");
        c = next();
        if (c == '\n') continue;  // a continuation
        if (c == 't')
          c = '\t';
        else if (c == 'b')
          c = '\b';
        else if (c == 'n')
          c = '\n';
        else if (c != '\\' && c != '"')
          return error("unknown escape");
        value.push_back(static_cast<char>(c));
        continue;
      }
      if (c == '"') {
        quote = !quote;
        continue;
      }
      value.push_back(static_cast<char>(c));
    }
    out.push_back({std::move(keys), std::move(value)});
  }
  return out;
}

Result<Entries> flatten_xml(std::string_view text) {
  if (text.size() > static_cast<size_t>(INT32_MAX)) return parse_error("XML too large");
  xmlDocPtr doc =
      xmlReadMemory(text.data(), static_cast<int>(text.size()), "credential.xml", nullptr,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
  if (doc == nullptr) return parse_error("not valid XML");
  std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> guard(doc, xmlFreeDoc);
  Entries out;
  struct Item {
    xmlNodePtr node;
    std::vector<std::string> keys;
    uint32_t parent = 0;
  };
  std::vector<Item> pending;
  uint32_t next_id = 0;
  if (xmlNodePtr root = xmlDocGetRootElement(doc)) pending.push_back({root, {}, 0});
  while (!pending.empty()) {
    Item item = std::move(pending.back());
    pending.pop_back();
    if (item.node->type != XML_ELEMENT_NODE) continue;
    const uint32_t id = ++next_id;
    item.keys.emplace_back(reinterpret_cast<const char*>(item.node->name));
    if (item.keys.size() > kMaxDepth) return parse_error("XML nested too deeply");
    for (xmlAttrPtr attr = item.node->properties; attr != nullptr; attr = attr->next) {
      xmlChar* value = xmlNodeListGetString(doc, attr->children, 1);
      std::vector<std::string> keys = item.keys;
      keys.push_back(std::string("@") + reinterpret_cast<const char*>(attr->name));
      out.push_back(
          {std::move(keys), value ? reinterpret_cast<const char*>(value) : "", id, item.parent});
      xmlFree(value);
    }
    bool has_element_child = false;
    std::string own_text;
    for (xmlNodePtr child = item.node->children; child != nullptr; child = child->next) {
      if (child->type == XML_ELEMENT_NODE) {
        has_element_child = true;
      } else if ((child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE) &&
                 child->content != nullptr) {
        own_text += reinterpret_cast<const char*>(child->content);
      }
    }
    if (!has_element_child) {
      out.push_back({item.keys, std::string(trim_space(own_text)), id, item.parent});
    }
    // Children in document order: push in reverse.
    std::vector<xmlNodePtr> children;
    for (xmlNodePtr child = item.node->children; child != nullptr; child = child->next) {
      if (child->type == XML_ELEMENT_NODE) children.push_back(child);
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      pending.push_back({*it, item.keys, id});
    }
  }
  return out;
}

std::string value_at(const Entries& entries, std::initializer_list<std::string_view> keys) {
  for (const Entry& e : entries) {
    if (e.keys.size() != keys.size()) continue;
    if (std::equal(e.keys.begin(), e.keys.end(), keys.begin())) return e.value;
  }
  return {};
}

}  // namespace catena::access
