// The JSON-schema recogniser and its token masks: accepted and rejected texts,
// and random walks over allowed tokens that must always end in a valid document.
#include "generate/json_constraint.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "core/error.h"
#include "gguf/file.h"
#include "support/test_paths.h"
#include "tokenizer/tokenizer.h"

namespace tandem::generate {
namespace {

using ojson = nlohmann::ordered_json;

const ojson kPersonSchema = ojson::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "maxLength": 12},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
    "ok": {"type": "boolean"},
    "color": {"enum": ["red", "green", 3]}
  },
  "required": ["name", "age"]
})");

bool accepts_whole(JsonConstraint c, const std::string& text) { return c.accept(text) && c.complete(); }

TEST(JsonConstraint, AnyObjectAcceptsObjectsOnly) {
  const auto c = JsonConstraint::any_object();
  EXPECT_TRUE(accepts_whole(c, R"({"a": [1, -2.5e3, "x\n\u00e9"], "b": {"c": null, "d": true}})"));
  EXPECT_TRUE(accepts_whole(c, "{}"));
  EXPECT_FALSE(JsonConstraint(c).accept("[1]"));
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"a" 1})"));
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"a": 01})"));
  EXPECT_FALSE(JsonConstraint(c).accept("{}x"));
  auto partial = c;
  EXPECT_TRUE(partial.accept(R"({"a": "unterminated)"));
  EXPECT_FALSE(partial.complete());
}

TEST(JsonConstraint, SchemaObjectsFollowPropertiesAndRequired) {
  const auto c = JsonConstraint::from_schema(kPersonSchema);
  EXPECT_TRUE(accepts_whole(c, R"({"name": "Bo", "age": 3})"));
  EXPECT_TRUE(accepts_whole(c, R"({"name":"Bo","age":-3,"tags":["a","b"],"color":"green"})"));
  EXPECT_TRUE(accepts_whole(c, R"({"name":"Bo","age":0,"score":1.5,"ok":false,"color":3})"));
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"age")"));              // name is required first
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"name":"Bo"})"));        // age is required
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"name":"Bo","age":3.5)"));
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"name":"Bo","age":3,"tags":["a","b","c"])"));
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"name":"Bo","age":3,"color":"blue")"));
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"name":"0123456789abc")"));  // maxLength 12
  EXPECT_FALSE(JsonConstraint(c).accept(R"({"name":"Bo","age":3,"extra":1)"));
}

TEST(JsonConstraint, NumericEnumThatIsAPrefixOfAnother) {
  const auto c = JsonConstraint::from_schema(ojson::parse(R"({"enum": [1, 12]})"));
  EXPECT_TRUE(accepts_whole(c, "1"));
  EXPECT_TRUE(accepts_whole(c, "12"));
  EXPECT_FALSE(JsonConstraint(c).accept("13"));
  EXPECT_TRUE(accepts_whole(JsonConstraint::from_schema(ojson::parse(R"({"type": "number"})")), "-0.25E+2"));
}

TEST(JsonConstraint, UnsupportedKeywordsAreErrors) {
  EXPECT_THROW(JsonConstraint::from_schema(ojson::parse(R"({"type": "string", "pattern": "^a"})")), Error);
  EXPECT_THROW(JsonConstraint::from_schema(ojson::parse(R"({"anyOf": []})")), Error);
  EXPECT_THROW(JsonConstraint::from_schema(ojson::parse(R"({"type": "object", "required": ["x"]})")), Error);
  EXPECT_THROW(JsonConstraint::from_schema(ojson::parse(R"({"type": "frobnicate"})")), Error);
  EXPECT_NO_THROW(JsonConstraint::from_schema(ojson::parse(R"({"type": "string", "description": "d"})")));
}

TEST(JsonConstraint, MaskAllowsOnlyContinuationsAndEndWhenComplete) {
  TokenTexts tokens;
  tokens.text = {"{", "}", "\"name\"", "\"", ":", " ", "Bo", "", "\"age\":", "7", "x"};
  tokens.end_of_generation.assign(tokens.text.size(), false);
  tokens.end_of_generation[7] = true;
  auto c = JsonConstraint::from_schema(kPersonSchema);
  std::vector<bool> allowed;
  EXPECT_EQ(c.fill_mask(tokens, allowed), 1u);
  EXPECT_TRUE(allowed[0]);
  ASSERT_TRUE(c.accept("{"));
  c.fill_mask(tokens, allowed);
  EXPECT_TRUE(allowed[2] && allowed[3] && allowed[5]);
  EXPECT_FALSE(allowed[1] || allowed[8] || allowed[7]);  // name is required before '}' or age
  ASSERT_TRUE(c.accept(R"("name":"Bo","age":7})"));
  EXPECT_EQ(c.fill_mask(tokens, allowed), 1u);
  EXPECT_TRUE(allowed[7]);
}

// Every character a JSON document could need, plus multi-character pieces.
TokenTexts synthetic_vocabulary() {
  TokenTexts tokens;
  for (int c = 0x20; c < 0x7f; ++c) tokens.text.push_back(std::string(1, char(c)));
  for (const char* piece : {"\n", "  ", "\":", "\",", "true", "null", "12", "\"name\"", "\"age\"", "red", "\"}",
                            "e", "é", "\\n", ", \""}) {
    tokens.text.push_back(piece);
  }
  tokens.end_of_generation.assign(tokens.text.size(), false);
  tokens.text.push_back("");
  tokens.end_of_generation.push_back(true);
  return tokens;
}

// Draws allowed tokens at random until the end token; the text must parse.
std::string random_walk(JsonConstraint c, const TokenTexts& tokens, std::mt19937& rng) {
  std::string out;
  std::vector<bool> allowed;
  for (int step = 0; step < 5000; ++step) {
    const size_t n_allowed = c.fill_mask(tokens, allowed);
    EXPECT_GT(n_allowed, 0u) << "dead end after: " << out;
    if (n_allowed == 0) return out;
    size_t pick = std::uniform_int_distribution<size_t>(0, n_allowed - 1)(rng);
    for (size_t id = 0; id < allowed.size(); ++id) {
      if (!allowed[id] || pick-- != 0) continue;
      if (tokens.end_of_generation[id]) return out;
      EXPECT_TRUE(c.accept(tokens.text[id]));
      out += tokens.text[id];
      break;
    }
  }
  ADD_FAILURE() << "no end after 5000 tokens: " << out;
  return out;
}

TEST(JsonConstraint, RandomWalksAlwaysEndInAValidDocument) {
  const TokenTexts tokens = synthetic_vocabulary();
  std::mt19937 rng(7);
  const auto person = JsonConstraint::from_schema(kPersonSchema);
  for (int walk = 0; walk < 100; ++walk) {
    const std::string text = random_walk(person, tokens, rng);
    ojson doc;
    ASSERT_NO_THROW(doc = ojson::parse(text)) << text;
    ASSERT_TRUE(doc.is_object()) << text;
    EXPECT_TRUE(doc["name"].is_string()) << text;
    EXPECT_TRUE(doc["age"].is_number_integer()) << text;
    if (doc.contains("tags")) {
      EXPECT_LE(doc["tags"].size(), 2u) << text;
    }
    if (doc.contains("ok")) {
      EXPECT_TRUE(doc["ok"].is_boolean()) << text;
    }
    for (const auto& [key, value] : doc.items()) EXPECT_TRUE(kPersonSchema["properties"].contains(key)) << text;
  }
  const auto any = JsonConstraint::any_object();
  for (int walk = 0; walk < 100; ++walk) {
    const std::string text = random_walk(any, tokens, rng);
    EXPECT_TRUE(ojson::parse(text, nullptr, false).is_object()) << text;
  }
}

TEST(JsonConstraint, RealVocabularyWalkParses) {
  auto file = gguf::File::open(test::shared_path("models/stories260K.gguf"));
  auto tokenizer = tokenizer::Tokenizer::from_gguf(file);
  const TokenTexts tokens = TokenTexts::from(*tokenizer);
  std::mt19937 rng(11);
  for (int walk = 0; walk < 20; ++walk) {
    const std::string text = random_walk(JsonConstraint::from_schema(kPersonSchema), tokens, rng);
    EXPECT_TRUE(ojson::parse(text, nullptr, false).is_object()) << text;
  }
}

// response_format schemas come from requests: seeded random schemas, with keywords of the
// wrong type and odd values among the right ones, build or are refused with tandem::Error;
// those that build lead a few random walks (this runs under ASan/UBSan in scripts/test.sh).
ojson random_schema(std::mt19937& rng, int depth) {
  const ojson odd[] = {nullptr, -1, 0, 1e300, "x", ojson::array(), ojson::object(), true, ojson::array({1, "a", nullptr})};
  auto value = [&] { return odd[rng() % std::size(odd)]; };
  ojson s = ojson::object();
  const char* types[] = {"object", "array", "string", "integer", "number", "boolean", "null", "frobnicate"};
  if (rng() % 8) s["type"] = types[rng() % std::size(types)];
  else s["type"] = value();
  if (depth > 0 && rng() % 2) {
    ojson props = ojson::object();
    for (int k = int(rng() % 4); k > 0; k--) props[std::string(1, char('a' + rng() % 26))] = random_schema(rng, depth - 1);
    s["properties"] = rng() % 6 ? props : value();
    if (rng() % 2) s["required"] = rng() % 3 ? ojson::array({"a", "b"}) : value();
  }
  if (depth > 0 && rng() % 3 == 0) s["items"] = rng() % 4 ? random_schema(rng, depth - 1) : value();
  if (rng() % 4 == 0) s["enum"] = rng() % 2 ? ojson::array({"red", 3, nullptr, ojson::array()}) : value();
  for (const char* key : {"minLength", "maxLength", "minItems", "maxItems", "minimum", "maximum"})
    if (rng() % 6 == 0) s[key] = rng() % 2 ? ojson(int(rng() % 5)) : value();
  if (rng() % 10 == 0) s["$ref"] = "#";
  if (rng() % 10 == 0) s["additionalProperties"] = value();
  return s;
}

TEST(JsonConstraint, RandomSchemasBuildOrAreRefused) {
  const TokenTexts tokens = synthetic_vocabulary();
  std::mt19937 rng(2212);
  int built = 0, refused = 0;
  for (int i = 0; i < 400; ++i) {
    const ojson schema = random_schema(rng, 3);
    std::optional<JsonConstraint> c;
    try {
      c = JsonConstraint::from_schema(schema, {.max_whitespace = 1});
      built++;
    } catch (const Error&) {
      refused++;
      continue;
    }
    // A walk may end anywhere the schema allows; only a crash or a non-document fails here.
    std::vector<bool> allowed;
    JsonConstraint walk = *c;
    for (int step = 0; step < 200; ++step) {
      const size_t n_allowed = walk.fill_mask(tokens, allowed);
      if (n_allowed == 0) break;
      size_t pick = rng() % n_allowed, id = 0;
      for (; id < allowed.size(); ++id)
        if (allowed[id] && pick-- == 0) break;
      if (tokens.end_of_generation[id]) break;
      ASSERT_TRUE(walk.accept(tokens.text[id])) << schema.dump();
    }
  }
  std::printf("  400 random schemas: %d built, %d refused\n", built, refused);
  EXPECT_GT(built, 0);
  EXPECT_GT(refused, 0);
}

}  // namespace
}  // namespace tandem::generate
