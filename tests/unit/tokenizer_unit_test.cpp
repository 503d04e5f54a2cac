// Small, hand-built vocabularies (GGUFs written in memory) for the parts the
// shared vectors do not pin down: errors, special tokens, pieces, streaming.
#include <gtest/gtest.h>

#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "tokenizer/regex.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace tandem::tokenizer {
namespace {

using gguf::Value;

gguf::File parse(const gguf::Writer& writer) { return gguf::File::parse(MappedFile::from_bytes(writer.to_bytes())); }

// Byte-level BPE over "a", "b", "ab", "Ġ" plus two special tokens.
gguf::Writer tiny_bpe(const std::string& pre) {
  gguf::Writer w;
  w.set("tokenizer.ggml.model", Value::string("gpt2"));
  w.set("tokenizer.ggml.pre", Value::string(pre));
  w.set("tokenizer.ggml.tokens", Value::strings({"a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "ab", "<|end|>", "<tool>"}));
  w.set("tokenizer.ggml.token_type", Value::i32s({1, 1, 1, 1, 1, 3, 4}));
  w.set("tokenizer.ggml.merges", Value::strings({"a b", "\xC4\xA0 ab"}));
  w.set("tokenizer.ggml.bos_token_id", Value::u32(5));
  w.set("tokenizer.ggml.eos_token_id", Value::u32(5));
  return w;
}

TEST(TokenizerErrors, UnknownModelNamesValueAndSupported) {
  auto w = tiny_bpe("gpt-2");
  w.set("tokenizer.ggml.model", Value::string("wordpiece-x"));
  try {
    Tokenizer::from_gguf(parse(w));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("wordpiece-x"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gpt2"), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, UnknownPreTokenizerNamesValueAndSupported) {
  try {
    Tokenizer::from_gguf(parse(tiny_bpe("no-such-pre")));
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-pre"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("qwen2"), std::string::npos) << e.what();
  }
}

TEST(TokenizerErrors, MissingVocabulary) {
  gguf::Writer w;
  w.set("general.architecture", Value::string("llama"));
  EXPECT_THROW(Tokenizer::from_gguf(parse(w)), Error);
  w.set("tokenizer.ggml.model", Value::string("llama"));
  EXPECT_THROW(Tokenizer::from_gguf(parse(w)), Error);
}

TEST(TokenizerErrors, OutOfRangeIds) {
  const auto tok = Tokenizer::from_gguf(parse(tiny_bpe("gpt-2")));
  EXPECT_THROW(tok->token_to_piece(7, true), Error);
  EXPECT_THROW(tok->text(-1), Error);
}

TEST(TinyBpe, MergesAndSpecialTokens) {
  const auto tok = Tokenizer::from_gguf(parse(tiny_bpe("gpt-2")));
  EXPECT_EQ(tok->encode("ab ab", false, false), (std::vector<Token>{2, 4}));
  // Control text is plain text unless parse_special; user-defined text always matches.
  EXPECT_EQ(tok->encode("ab<|end|>", false, true), (std::vector<Token>{2, 5}));
  EXPECT_NE(tok->encode("ab<|end|>", false, false), (std::vector<Token>{2, 5}));
  EXPECT_EQ(tok->encode("<tool>ab", false, false), (std::vector<Token>{6, 2}));
  EXPECT_EQ(tok->token_to_piece(5, false), "");
  EXPECT_EQ(tok->token_to_piece(5, true), "<|end|>");
  EXPECT_EQ(tok->token_to_piece(4, false), " ab");
  EXPECT_TRUE(tok->is_end_of_generation(5));
  EXPECT_EQ(tok->find("ab"), 2);
  EXPECT_EQ(tok->find("zz"), -1);
  EXPECT_EQ(tok->kind(6), TokenKind::UserDefined);
  EXPECT_FALSE(tok->add_bos());  // byte-level BPE adds no BOS unless the file says so
}

TEST(TinyBpe, Llama3PreAddsBosByDefault) {
  const auto tok = Tokenizer::from_gguf(parse(tiny_bpe("llama-bpe")));
  EXPECT_TRUE(tok->add_bos());
  EXPECT_EQ(tok->encode("ab", true, false), (std::vector<Token>{5, 2}));
}

TEST(SplitRegexTest, FollowsEcmaScriptOrderAndCategories) {
  auto split = [](const char* pattern, const std::string& text) {
    const auto cps = unicode::decode_lenient(text);
    std::vector<uint16_t> flags;
    for (uint32_t cp : cps) flags.push_back(unicode::flags(cp));
    std::vector<size_t> lengths;
    SplitRegex(pattern).split(cps, flags, 0, cps.size(), lengths);
    return lengths;
  };
  EXPECT_EQ(split(R"( ?\p{L}+|\s+(?!\S)|\s+)", "ab   cd "), (std::vector<size_t>{2, 2, 3, 1}));
  EXPECT_EQ(split(R"(\p{N}{1,3})", "12345x"), (std::vector<size_t>{3, 2, 1}));
  EXPECT_EQ(split(R"(\p{L}+)", "\xC3\xA9t\xC3\xA9!"), (std::vector<size_t>{3, 1}));  // "été!"
  EXPECT_EQ(split(R"(\s+$)", "a  b  "), (std::vector<size_t>{4, 2}));
  // Quantified groups (GPT-4o's split), greedy with backtracking; an empty iteration ends the loop.
  EXPECT_EQ(split(R"((ab)+)", "ababa"), (std::vector<size_t>{4, 1}));
  EXPECT_EQ(split(R"((ab)*b)", "ababb"), (std::vector<size_t>{5}));
  EXPECT_EQ(split(R"(((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+)", "HTTPServer camelCaseX"), (std::vector<size_t>{10, 1, 5, 4, 1}));
  EXPECT_EQ(split(R"((a?)*b)", "aab"), (std::vector<size_t>{3}));
  EXPECT_EQ(split(R"((ab){2})", "ababab"), (std::vector<size_t>{4, 2}));
  EXPECT_THROW(SplitRegex("a+?"), Error);
  EXPECT_THROW(SplitRegex("(ab)+?"), Error);
  EXPECT_THROW(SplitRegex("(?=a)+"), Error);
  EXPECT_THROW(SplitRegex("[ab"), Error);
}

TEST(Utf8StreamTest, HoldsBackSplitCharacters) {
  Utf8Stream stream;
  const std::string euro = "\xE2\x82\xAC";       // 3 bytes
  const std::string emoji = "\xF0\x9F\x98\x80";  // 4 bytes
  EXPECT_EQ(stream.push("a" + euro.substr(0, 1)), "a");
  EXPECT_EQ(stream.push(euro.substr(1, 1)), "");
  EXPECT_EQ(stream.push(euro.substr(2) + emoji.substr(0, 2)), euro);
  EXPECT_EQ(stream.push(emoji.substr(2)), emoji);
  EXPECT_EQ(stream.flush(), "");
}

TEST(Utf8StreamTest, InvalidBytesBecomeReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  Utf8Stream stream;
  EXPECT_EQ(stream.push("a\xFF" "b"), "a" + fffd + "b");
  EXPECT_EQ(stream.push("\xC3(" ), fffd + "(");      // lead byte without its continuation
  EXPECT_EQ(stream.push("\xED\xA0\x80"), fffd + fffd + fffd);  // surrogate: not valid UTF-8
  EXPECT_EQ(stream.push("\xE2\x82"), "");
  EXPECT_EQ(stream.flush(), fffd);                    // incomplete tail at the end
  EXPECT_EQ(stream.flush(), "");
}

TEST(Utf8StreamTest, StreamsDecodedTokensOfRealVocabulary) {
  // Byte-fallback tokens split a multi-byte character across pieces.
  gguf::Writer w;
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  w.set("tokenizer.ggml.model", Value::string("llama"));
  w.set("tokenizer.ggml.tokens", Value::strings(tokens));
  w.set("tokenizer.ggml.token_type", Value::i32s(types));
  w.set("tokenizer.ggml.scores", Value::f32s(std::vector<double>(tokens.size(), 0.0)));
  w.set("tokenizer.ggml.add_space_prefix", Value::boolean(false));
  const auto tok = Tokenizer::from_gguf(parse(w));
  const std::string text = "\xE2\x82\xAC\xF0\x9F\x98\x80";
  const auto ids = tok->encode(text, false, false);
  ASSERT_EQ(ids.size(), text.size());  // one byte token per byte
  Utf8Stream stream;
  std::string streamed;
  for (Token id : ids) {
    const std::string piece = stream.push(tok->token_to_piece(id, false));
    EXPECT_TRUE(piece.empty() || piece == "\xE2\x82\xAC" || piece == "\xF0\x9F\x98\x80");
    streamed += piece;
  }
  streamed += stream.flush();
  EXPECT_EQ(streamed, text);
}

}  // namespace
}  // namespace tandem::tokenizer
