#include "generate/json_constraint.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {
namespace {

constexpr int kMaxDepth = 32;     // frames on the recogniser stack
constexpr int kMaxLiterals = 64;  // enum values / object properties (one bit each)

enum class Kind : uint8_t { Document, Any, Object, Array, String, Number, Literals };

// Phases of the container frames; scalars use their own small counters.
enum Phase : uint8_t {
  kOpen = 0,     // expects the opening bracket / quote / first character
  kAfterOpen,    // after '{' or '['
  kAfterComma,
  kInKey,        // matching one of the schema's property names
  kWaitKey,      // a free-form key string is on top of this frame
  kColon,
  kBeforeValue,
  kWaitValue,    // a value (or array item) is on top of this frame
  kAfterValue,
  kComplete,     // the document frame after its value
};

struct Node {
  Kind kind = Kind::Any;
  // Object: properties in schema order (names JSON-encoded with their quotes).
  std::vector<std::string> keys;
  std::vector<int> values;
  std::vector<bool> required;
  int free_value = -1;  // >= 0: an object with arbitrary keys whose values are this node
  int max_properties = 0;
  // Array
  int items = -1, min_items = 0, max_items = 0;
  // String
  int min_length = 0, max_length = 0;
  // Number
  bool integer = false;
  // Literals: the serialized JSON text of each allowed value (enum, const, true/false, null).
  std::vector<std::string> literals;
  // Any: what '{' and '[' open (-1 at the nesting limit).
  int any_object = -1, any_array = -1;
};

bool is_ws(unsigned char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool is_hex(unsigned char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

}  // namespace

struct JsonConstraint::Schema {
  std::vector<Node> nodes;
  JsonLimits limits;
  int root = -1;  // the Document node
  int any_string = -1, any_number = -1, any_literal = -1;
  std::map<int, int> any_by_depth;

  int add(Node node) {
    nodes.push_back(std::move(node));
    return int(nodes.size()) - 1;
  }

  int string_node(int min_length, int max_length) {
    Node n;
    n.kind = Kind::String;
    n.min_length = min_length;
    n.max_length = max_length;
    return add(std::move(n));
  }

  void add_scalars() {
    any_string = string_node(0, limits.max_string_length);
    Node number;
    number.kind = Kind::Number;
    any_number = add(std::move(number));
    Node literal;
    literal.kind = Kind::Literals;
    literal.literals = {"true", "false", "null"};
    any_literal = add(std::move(literal));
  }

  int free_object(int value_node) {
    Node n;
    n.kind = Kind::Object;
    n.free_value = value_node;
    n.max_properties = limits.max_free_properties;
    return add(std::move(n));
  }

  int array_of(int item_node, int min_items, int max_items) {
    Node n;
    n.kind = Kind::Array;
    n.items = item_node;
    n.min_items = min_items;
    n.max_items = max_items;
    return add(std::move(n));
  }

  // Any JSON value with at most `depth` levels of nesting below it.
  int any(int depth) {
    if (auto it = any_by_depth.find(depth); it != any_by_depth.end()) return it->second;
    Node n;
    n.kind = Kind::Any;
    if (depth > 0) {
      const int child = any(depth - 1);
      n.any_object = free_object(child);
      n.any_array = array_of(child, 0, limits.max_array_items);
    }
    return any_by_depth[depth] = add(std::move(n));
  }

  int compile(const nlohmann::ordered_json& s, int depth);
  int compile_object(const nlohmann::ordered_json& s, int depth);
};

namespace {

int non_negative_int(const nlohmann::ordered_json& s, const char* key, int fallback) {
  if (!s.contains(key)) return fallback;
  const auto& v = s[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100000) {
    fail("json_schema: '", key, "' must be a non-negative integer, got ", v.dump());
  }
  return int(v.get<int64_t>());
}

const std::set<std::string> kSupported = {"type", "properties", "required", "additionalProperties", "items",
                                          "minItems", "maxItems", "minLength", "maxLength", "enum", "const"};
const std::set<std::string> kAnnotations = {"title", "description", "default", "examples", "format", "$schema",
                                            "$id", "$comment", "strict", "name"};

}  // namespace

int JsonConstraint::Schema::compile_object(const nlohmann::ordered_json& s, int depth) {
  Node n;
  n.kind = Kind::Object;
  if (s.contains("properties")) {
    const auto& props = s["properties"];
    if (!props.is_object()) fail("json_schema: 'properties' must be an object");
    if (props.size() > size_t(kMaxLiterals)) fail("json_schema: more than ", kMaxLiterals, " properties");
    for (const auto& [name, sub] : props.items()) {
      n.keys.push_back(nlohmann::ordered_json(name).dump());
      n.values.push_back(compile(sub, depth + 1));
      n.required.push_back(false);
    }
  }
  if (s.contains("required")) {
    const auto& req = s["required"];
    if (!req.is_array()) fail("json_schema: 'required' must be an array of property names");
    for (const auto& name : req) {
      if (!name.is_string()) fail("json_schema: 'required' must hold strings, got ", name.dump());
      const std::string key = nlohmann::ordered_json(name).dump();
      auto it = std::find(n.keys.begin(), n.keys.end(), key);
      if (it == n.keys.end()) fail("json_schema: required property ", key, " is not in 'properties'");
      n.required[size_t(it - n.keys.begin())] = true;
    }
  }
  if (n.keys.empty()) {
    // No listed properties: arbitrary keys, values from additionalProperties when it is a schema.
    int value = any(limits.max_free_depth - 1);
    if (s.contains("additionalProperties") && s["additionalProperties"].is_object()) {
      value = compile(s["additionalProperties"], depth + 1);
    }
    return free_object(value);
  }
  // Extra properties (additionalProperties: true) are simply never generated.
  return add(std::move(n));
}

int JsonConstraint::Schema::compile(const nlohmann::ordered_json& s, int depth) {
  if (depth > kMaxDepth - 4) fail("json_schema: nested deeper than ", kMaxDepth - 4, " levels");
  if (s.is_boolean() && s.get<bool>()) return any(limits.max_free_depth);
  if (!s.is_object()) fail("json_schema: a schema must be an object, got ", s.dump());
  for (const auto& [key, value] : s.items()) {
    if (!kSupported.count(key) && !kAnnotations.count(key)) {
      fail("json_schema: keyword '", key, "' is not supported (supported: type, properties, required, "
           "additionalProperties, items, minItems, maxItems, minLength, maxLength, enum, const)");
    }
  }
  if (s.contains("const") || s.contains("enum")) {
    Node n;
    n.kind = Kind::Literals;
    if (s.contains("const")) {
      n.literals.push_back(s["const"].dump());
    } else {
      const auto& values = s["enum"];
      if (!values.is_array() || values.empty() || values.size() > size_t(kMaxLiterals)) {
        fail("json_schema: 'enum' must be an array of 1 to ", kMaxLiterals, " values");
      }
      for (const auto& v : values) n.literals.push_back(v.dump());
    }
    return add(std::move(n));
  }

  std::string type;
  if (s.contains("type")) {
    const auto& t = s["type"];
    if (t.is_array() && t.size() == 1 && t[0].is_string()) {
      type = t[0].get<std::string>();
    } else if (t.is_string()) {
      type = t.get<std::string>();
    } else {
      fail("json_schema: 'type' must be one type name (unions are not supported), got ", t.dump());
    }
  } else if (s.contains("properties")) {
    type = "object";
  } else if (s.contains("items")) {
    type = "array";
  } else {
    return any(limits.max_free_depth);
  }

  if (type == "object") return compile_object(s, depth);
  if (type == "array") {
    const int min_items = non_negative_int(s, "minItems", 0);
    const int max_items = non_negative_int(s, "maxItems", std::max(limits.max_array_items, min_items));
    if (max_items < min_items) fail("json_schema: maxItems is below minItems");
    const int item = s.contains("items") ? compile(s["items"], depth + 1) : any(limits.max_free_depth - 1);
    return array_of(item, min_items, max_items);
  }
  if (type == "string") {
    const int min_length = non_negative_int(s, "minLength", 0);
    const int max_length = non_negative_int(s, "maxLength", std::max(limits.max_string_length, min_length));
    if (max_length < min_length) fail("json_schema: maxLength is below minLength");
    return string_node(min_length, max_length);
  }
  if (type == "number" || type == "integer") {
    Node n;
    n.kind = Kind::Number;
    n.integer = type == "integer";
    return add(std::move(n));
  }
  Node n;
  n.kind = Kind::Literals;
  if (type == "boolean") {
    n.literals = {"true", "false"};
  } else if (type == "null") {
    n.literals = {"null"};
  } else {
    fail("json_schema: unknown type '", type, "'");
  }
  return add(std::move(n));
}

struct JsonConstraint::Frame {
  int32_t node;
  Phase phase;
  uint8_t ws;      // consecutive whitespace bytes
  int32_t count;   // characters, items, digits or properties so far
  int32_t pos;     // position inside a literal or key; escape/exponent digits
  int32_t last_property;
  uint64_t candidates;  // literals or keys still possible
};

struct JsonConstraint::Stack {
  int size = 0;
  std::array<Frame, kMaxDepth> frames;

  void copy_from(const Stack& other) {
    size = other.size;
    std::copy_n(other.frames.begin(), size, frames.begin());
  }
};

namespace {

using Schema = JsonConstraint::Schema;
using Frame = JsonConstraint::Frame;
using Stack = JsonConstraint::Stack;

enum class Step { Consumed, Reject, Done, PopRetry, Retry };

uint64_t all_bits(size_t n) { return n >= 64 ? ~uint64_t(0) : (uint64_t(1) << n) - 1; }

Frame fresh_frame(const Schema& s, int node) {
  Frame f{node, kOpen, 0, 0, 0, -1, 0};
  if (s.nodes[size_t(node)].kind == Kind::Literals) f.candidates = all_bits(s.nodes[size_t(node)].literals.size());
  return f;
}

bool push(const Schema& s, Stack& st, int node) {
  if (st.size == kMaxDepth) return false;
  st.frames[size_t(st.size++)] = fresh_frame(s, node);
  return true;
}

void child_finished(Frame& parent) {
  if (parent.phase == kWaitKey) {
    parent.phase = kColon;
    ++parent.count;
  } else if (parent.phase == kWaitValue) {
    parent.phase = kAfterValue;
  } else if (parent.phase == kOpen) {  // the document
    parent.phase = kComplete;
  }
}

void pop(Stack& st) {
  --st.size;
  if (st.size > 0) child_finished(st.frames[size_t(st.size - 1)]);
}

// Keys that may come next: the following properties in schema order, up to the
// first required one not yet written.
uint64_t allowed_keys(const Node& n, const Frame& f) {
  uint64_t mask = 0;
  for (size_t i = size_t(f.last_property + 1); i < n.keys.size(); ++i) {
    mask |= uint64_t(1) << i;
    if (n.required[i]) break;
  }
  return mask;
}

bool required_done(const Node& n, const Frame& f) {
  for (size_t i = size_t(f.last_property + 1); i < n.required.size(); ++i) {
    if (n.required[i]) return false;
  }
  return true;
}

bool literal_can_end(const Node& n, const Frame& f) {
  for (size_t i = 0; i < n.literals.size(); ++i) {
    if ((f.candidates >> i & 1) && n.literals[i].size() == size_t(f.pos)) return true;
  }
  return false;
}

bool can_end(const Schema& s, const Frame& f) {
  const Node& n = s.nodes[size_t(f.node)];
  if (n.kind == Kind::Number) return f.phase == 2 || f.phase == 3 || f.phase == 5 || f.phase == 8;
  if (n.kind == Kind::Literals) return literal_can_end(n, f);
  return false;
}

Step whitespace(const Schema& s, Frame& f) {
  if (f.ws >= s.limits.max_whitespace) return Step::Reject;
  ++f.ws;
  return Step::Consumed;
}

struct Utf8Lead {
  int continuation;  // bytes that follow; 0: not a valid lead byte
  unsigned char low, high;  // range of the first continuation byte (no overlongs, no surrogates)
};

Utf8Lead utf8_lead(unsigned char c) {
  if (c >= 0xC2 && c <= 0xDF) return {1, 0x80, 0xBF};
  if (c == 0xE0) return {2, 0xA0, 0xBF};
  if (c == 0xED) return {2, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {2, 0x80, 0xBF};
  if (c == 0xF0) return {3, 0x90, 0xBF};
  if (c >= 0xF1 && c <= 0xF3) return {3, 0x80, 0xBF};
  if (c == 0xF4) return {3, 0x80, 0x8F};
  return {0, 0, 0};
}

Step step_string(const Node& n, Frame& f, unsigned char c) {
  switch (f.phase) {
    case 0:
      if (c != '"') return Step::Reject;
      f.phase = Phase(1);
      return Step::Consumed;
    case 1:
      if (f.pos > 0) {  // inside a multi-byte character: candidates holds the next byte's range
        if (c < (f.candidates & 0xFF) || c > (f.candidates >> 8)) return Step::Reject;
        --f.pos;
        f.candidates = 0xBF80;
        return Step::Consumed;
      }
      if (c == '"') return f.count >= n.min_length ? Step::Done : Step::Reject;
      if (c < 0x20) return Step::Reject;
      if (f.count >= n.max_length) return Step::Reject;
      if (c >= 0x80) {  // only well-formed UTF-8, so the document always parses
        const Utf8Lead lead = utf8_lead(c);
        if (lead.continuation == 0) return Step::Reject;
        f.pos = lead.continuation;
        f.candidates = uint64_t(lead.low) | uint64_t(lead.high) << 8;
        ++f.count;
        return Step::Consumed;
      }
      if (c == '\\') {
        f.phase = Phase(2);
        return Step::Consumed;
      }
      ++f.count;
      return Step::Consumed;
    case 2:
      if (c == 'u') {
        f.phase = Phase(3);
        f.pos = 0;
        return Step::Consumed;
      }
      if (std::string_view("\"\\/bfnrt").find(char(c)) == std::string_view::npos) return Step::Reject;
      ++f.count;
      f.phase = Phase(1);
      return Step::Consumed;
    default:
      if (!is_hex(c)) return Step::Reject;
      // No surrogates (\uD800-\uDFFF): a lone one does not parse.
      if (f.pos == 0) f.candidates = (c == 'd' || c == 'D');
      if (f.pos == 1 && f.candidates && !(c >= '0' && c <= '7')) return Step::Reject;
      if (++f.pos == 4) {
        f.pos = 0;
        ++f.count;
        f.phase = Phase(1);
      }
      return Step::Consumed;
  }
}

// Phases: 0 start, 1 after '-', 2 integer digits, 3 after a leading 0, 4 after '.',
// 5 fraction digits, 6 after 'e', 7 after the exponent sign, 8 exponent digits.
Step step_number(const Schema& s, const Node& n, Frame& f, unsigned char c) {
  const bool digit = is_digit(c);
  const bool room = f.count < s.limits.max_number_digits;
  auto go = [&](int phase, bool counts_digit) {
    f.phase = Phase(phase);
    if (counts_digit) ++f.count;
    return Step::Consumed;
  };
  switch (int(f.phase)) {
    case 0:
      if (c == '-') return go(1, false);
      [[fallthrough]];
    case 1:
      if (c == '0') return go(3, true);
      if (digit) return go(2, true);
      return Step::Reject;
    case 2:
      if (digit && room) return go(2, true);
      [[fallthrough]];
    case 3:
      if (c == '.' && !n.integer) return go(4, false);
      if ((c == 'e' || c == 'E') && !n.integer) return go(6, false);
      return Step::PopRetry;
    case 4:
      return digit && room ? go(5, true) : Step::Reject;
    case 5:
      if (digit && room) return go(5, true);
      if (c == 'e' || c == 'E') return go(6, false);
      return Step::PopRetry;
    case 6:
      if (c == '+' || c == '-') return go(7, false);
      [[fallthrough]];
    case 7:
      if (!digit) return Step::Reject;
      f.pos = 1;
      return go(8, false);
    default:
      if (digit && f.pos < 2) {  // |exponent| < 100 stays within double range
        ++f.pos;
        return Step::Consumed;
      }
      return Step::PopRetry;
  }
}

Step step_literal(const Node& n, Frame& f, unsigned char c) {
  uint64_t next = 0;
  bool longer = false;
  for (size_t i = 0; i < n.literals.size(); ++i) {
    if (!(f.candidates >> i & 1)) continue;
    const std::string& lit = n.literals[i];
    if (size_t(f.pos) < lit.size() && (unsigned char)lit[size_t(f.pos)] == c) {
      next |= uint64_t(1) << i;
      if (lit.size() > size_t(f.pos) + 1) longer = true;
    }
  }
  if (next == 0) return literal_can_end(n, f) ? Step::PopRetry : Step::Reject;
  f.candidates = next;
  ++f.pos;
  return longer ? Step::Consumed : Step::Done;
}

Step step_object(const Schema& s, Stack& st, const Node& n, Frame& f, unsigned char c) {
  const bool free_keys = n.free_value >= 0;
  if (f.phase != kOpen && f.phase != kInKey && is_ws(c)) return whitespace(s, f);
  f.ws = 0;
  switch (f.phase) {
    case kOpen:
      if (c != '{') return Step::Reject;
      f.phase = kAfterOpen;
      return Step::Consumed;
    case kAfterOpen:
    case kAfterComma:
      if (c == '}' && f.phase == kAfterOpen) return required_done(n, f) ? Step::Done : Step::Reject;
      if (c != '"') return Step::Reject;
      if (free_keys) {
        if (f.count >= n.max_properties) return Step::Reject;
        f.phase = kWaitKey;
        return push(s, st, s.any_string) ? Step::Retry : Step::Reject;
      }
      f.candidates = allowed_keys(n, f);
      if (f.candidates == 0) return Step::Reject;
      f.pos = 1;
      f.phase = kInKey;
      return Step::Consumed;
    case kInKey: {
      uint64_t next = 0;
      int finished = -1;
      for (size_t i = 0; i < n.keys.size(); ++i) {
        if (!(f.candidates >> i & 1)) continue;
        const std::string& key = n.keys[i];
        if (size_t(f.pos) < key.size() && (unsigned char)key[size_t(f.pos)] == c) {
          next |= uint64_t(1) << i;
          if (key.size() == size_t(f.pos) + 1) finished = int(i);
        }
      }
      if (next == 0) return Step::Reject;
      f.candidates = next;
      ++f.pos;
      if (finished >= 0) {  // a closing quote ends exactly one key
        f.last_property = finished;
        ++f.count;
        f.phase = kColon;
      }
      return Step::Consumed;
    }
    case kColon:
      if (c != ':') return Step::Reject;
      f.phase = kBeforeValue;
      return Step::Consumed;
    case kBeforeValue:
      f.phase = kWaitValue;
      return push(s, st, free_keys ? n.free_value : n.values[size_t(f.last_property)]) ? Step::Retry : Step::Reject;
    case kAfterValue:
      if (c == '}') return required_done(n, f) ? Step::Done : Step::Reject;
      if (c != ',') return Step::Reject;
      if (free_keys ? f.count >= n.max_properties : allowed_keys(n, f) == 0) return Step::Reject;
      f.phase = kAfterComma;
      return Step::Consumed;
    default:
      return Step::Reject;
  }
}

Step step_array(const Schema& s, Stack& st, const Node& n, Frame& f, unsigned char c) {
  if (f.phase != kOpen && is_ws(c)) return whitespace(s, f);
  f.ws = 0;
  auto start_item = [&] {
    if (f.count >= n.max_items) return Step::Reject;
    ++f.count;
    f.phase = kWaitValue;
    return push(s, st, n.items) ? Step::Retry : Step::Reject;
  };
  switch (f.phase) {
    case kOpen:
      if (c != '[') return Step::Reject;
      f.phase = kAfterOpen;
      return Step::Consumed;
    case kAfterOpen:
      if (c == ']') return n.min_items == 0 ? Step::Done : Step::Reject;
      return start_item();
    case kAfterComma:
      return start_item();
    case kAfterValue:
      if (c == ']') return f.count >= n.min_items ? Step::Done : Step::Reject;
      if (c != ',' || f.count >= n.max_items) return Step::Reject;
      f.phase = kAfterComma;
      return Step::Consumed;
    default:
      return Step::Reject;
  }
}

// Any value: the first character decides which kind of frame replaces this one.
Step step_any(const Schema& s, const Node& n, Frame& f, unsigned char c) {
  int node = -1;
  if (c == '{') node = n.any_object;
  else if (c == '[') node = n.any_array;
  else if (c == '"') node = s.any_string;
  else if (c == '-' || is_digit(c)) node = s.any_number;
  else if (c == 't' || c == 'f' || c == 'n') node = s.any_literal;
  if (node < 0) return Step::Reject;
  f = fresh_frame(s, node);
  return Step::Retry;
}

Step step(const Schema& s, Stack& st, unsigned char c) {
  Frame& f = st.frames[size_t(st.size - 1)];
  const Node& n = s.nodes[size_t(f.node)];
  switch (n.kind) {
    case Kind::Document:
      if (f.phase != kOpen) return Step::Reject;
      return push(s, st, n.items) ? Step::Retry : Step::Reject;
    case Kind::Any: return step_any(s, n, f, c);
    case Kind::Object: return step_object(s, st, n, f, c);
    case Kind::Array: return step_array(s, st, n, f, c);
    case Kind::String: return step_string(n, f, c);
    case Kind::Number: return step_number(s, n, f, c);
    case Kind::Literals: return step_literal(n, f, c);
  }
  return Step::Reject;
}

bool feed(const Schema& s, Stack& st, unsigned char c) {
  // Each retry either pops or pushes/replaces a frame, so this is bounded.
  for (int guard = 0; guard < 4 * kMaxDepth; ++guard) {
    if (st.size == 0) return false;
    switch (step(s, st, c)) {
      case Step::Consumed: return true;
      case Step::Reject: return false;
      case Step::Done: pop(st); return true;
      case Step::PopRetry: pop(st); break;
      case Step::Retry: break;
    }
  }
  return false;
}

bool feed_all(const Schema& s, Stack& st, std::string_view text) {
  for (char c : text) {
    if (!feed(s, st, (unsigned char)c)) return false;
  }
  return true;
}

std::shared_ptr<Schema> new_schema(const JsonLimits& limits) {
  auto s = std::make_shared<Schema>();
  s->limits = limits;
  s->limits.max_free_depth = std::max(1, limits.max_free_depth);
  s->add_scalars();
  return s;
}

void set_root(Schema& s, int value) {
  Node doc;
  doc.kind = Kind::Document;
  doc.items = value;
  s.root = s.add(std::move(doc));
}

}  // namespace

TokenTexts TokenTexts::from(const tokenizer::Tokenizer& tokenizer) {
  TokenTexts t;
  const int32_t n = tokenizer.n_vocab();
  t.text.resize(size_t(n));
  t.end_of_generation.resize(size_t(n));
  for (int32_t id = 0; id < n; ++id) {
    t.end_of_generation[size_t(id)] = tokenizer.is_end_of_generation(id);
    if (tokenizer.kind(id) != tokenizer::TokenKind::Control) t.text[size_t(id)] = tokenizer.token_to_piece(id, false);
  }
  return t;
}

JsonConstraint::JsonConstraint(std::shared_ptr<const Schema> schema)
    : schema_(std::move(schema)), stack_(std::make_unique<Stack>()) {
  push(*schema_, *stack_, schema_->root);
}

JsonConstraint::JsonConstraint(const JsonConstraint& other)
    : schema_(other.schema_), stack_(std::make_unique<Stack>()) {
  stack_->copy_from(*other.stack_);
}

JsonConstraint& JsonConstraint::operator=(const JsonConstraint& other) {
  schema_ = other.schema_;
  stack_->copy_from(*other.stack_);
  return *this;
}

JsonConstraint::~JsonConstraint() = default;

JsonConstraint JsonConstraint::any_object(const JsonLimits& limits) {
  auto s = new_schema(limits);
  set_root(*s, s->free_object(s->any(s->limits.max_free_depth - 1)));
  return JsonConstraint(std::move(s));
}

JsonConstraint JsonConstraint::from_schema_text(std::string_view schema, const JsonLimits& limits) {
  const auto parsed = nlohmann::ordered_json::parse(schema, nullptr, false);
  if (parsed.is_discarded()) fail("the JSON schema is not valid JSON");
  return from_schema(parsed, limits);
}

JsonConstraint JsonConstraint::from_schema(const nlohmann::ordered_json& schema, const JsonLimits& limits) {
  auto s = new_schema(limits);
  set_root(*s, s->compile(schema, 0));
  return JsonConstraint(std::move(s));
}

bool JsonConstraint::accept(std::string_view text) {
  Stack trial;
  trial.copy_from(*stack_);
  if (!feed_all(*schema_, trial, text)) return false;
  stack_->copy_from(trial);
  return true;
}

bool JsonConstraint::complete() const {
  Stack st;
  st.copy_from(*stack_);
  // End of input ends a number or a literal that could also continue (enum 1 vs 12).
  while (st.size > 1) {
    if (!can_end(*schema_, st.frames[size_t(st.size - 1)])) return false;
    pop(st);
  }
  return st.size == 1 && st.frames[0].phase == kComplete;
}

size_t JsonConstraint::fill_mask(const TokenTexts& tokens, std::vector<bool>& allowed) const {
  const size_t n = tokens.text.size();
  allowed.assign(n, false);
  const bool done = complete();
  std::array<int8_t, 256> first_byte_ok;  // -1: not tried yet
  first_byte_ok.fill(-1);
  Stack trial;
  size_t count = 0;
  for (size_t id = 0; id < n; ++id) {
    if (tokens.end_of_generation[id]) {
      allowed[id] = done;
      count += done;
      continue;
    }
    const std::string& text = tokens.text[id];
    if (text.empty() || done) continue;
    int8_t& first = first_byte_ok[(unsigned char)text[0]];
    if (first < 0) {
      trial.copy_from(*stack_);
      first = feed(*schema_, trial, (unsigned char)text[0]) ? 1 : 0;
    }
    if (!first) continue;
    trial.copy_from(*stack_);
    if (feed_all(*schema_, trial, text)) {
      allowed[id] = true;
      ++count;
    }
  }
  return count;
}

}  // namespace tandem::generate
