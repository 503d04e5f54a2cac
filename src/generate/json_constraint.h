// Constrained decoding for JSON: a JSON Schema (subset) compiled into a pushdown
// recogniser over bytes, and from it a per-step token mask that allows only tokens
// whose text keeps the output a valid prefix of a document matching the schema.
//
// Supported schema keywords: type (object, array, string, number, integer,
// boolean, null, or a list of these), properties, required, additionalProperties
// (false is the default behaviour: only listed properties), items, minItems,
// maxItems, minLength, maxLength, enum, const. Ignored annotations: title,
// description, default, examples, format, $schema. Anything else (pattern, $ref,
// anyOf, ...) -> tandem::Error, so a request never gets output that silently does
// not validate.
//
// Properties are generated in schema order; optional ones may be skipped.
// Every document is bounded (string length, array length, digits, whitespace,
// nesting of free-form values), so a constrained generation always finishes.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::tokenizer {
class Tokenizer;
}

namespace tandem::generate {

struct JsonLimits {
  int max_string_length = 64;  // characters, when the schema gives no maxLength
  int max_array_items = 8;     // when the schema gives no maxItems
  int max_free_properties = 8; // keys of an object without "properties"
  int max_free_depth = 3;      // nesting of free-form values (json_object mode)
  int max_number_digits = 12;
  int max_whitespace = 8;  // consecutive whitespace bytes between tokens

  // What requests get (server, CLI, C API): one whitespace byte per gap, because small
  // models otherwise fill documents with blank lines.
  static JsonLimits for_requests() { return {.max_whitespace = 1}; }
};

// The text of every token, computed once per tokenizer.
struct TokenTexts {
  std::vector<std::string> text;        // token_to_piece(id, false); empty for control tokens
  std::vector<bool> end_of_generation;  // allowed only when the document is complete
  static TokenTexts from(const tokenizer::Tokenizer& tokenizer);
};

class JsonConstraint {
 public:
  // Any JSON object (OpenAI's response_format json_object).
  static JsonConstraint any_object(const JsonLimits& limits = {});
  // A document matching `schema`; unsupported keywords -> tandem::Error.
  static JsonConstraint from_schema(const nlohmann::ordered_json& schema, const JsonLimits& limits = {});
  // The same from schema text; text that is not JSON -> tandem::Error.
  static JsonConstraint from_schema_text(std::string_view schema, const JsonLimits& limits = JsonLimits::for_requests());

  // Consumes text; false (state unchanged) if it cannot continue a valid document.
  bool accept(std::string_view text);
  // The text so far is a whole document.
  bool complete() const;
  // allowed[id]: the token keeps the output valid. Returns how many are allowed.
  size_t fill_mask(const TokenTexts& tokens, std::vector<bool>& allowed) const;

  struct Schema;  // compiled nodes, shared between copies
  struct Frame;
  struct Stack;

  JsonConstraint(const JsonConstraint&);
  JsonConstraint& operator=(const JsonConstraint&);
  ~JsonConstraint();

 private:
  JsonConstraint(std::shared_ptr<const Schema> schema);
  std::shared_ptr<const Schema> schema_;
  std::unique_ptr<Stack> stack_;
};

}  // namespace tandem::generate
