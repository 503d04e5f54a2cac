// Text from users and from the network reaches the tokenizers and the chat templates: seeded
// random bytes (invalid UTF-8, control bytes, fragments of special tokens and template markup)
// must encode, decode and render or be refused with tandem::Error, never crash (this runs under
// ASan/UBSan in scripts/test.sh). Every vocabulary kind in ../shared/tokenizers is covered.
#include <gtest/gtest.h>

#include <random>

#include "core/error.h"
#include "gguf/file.h"
#include "support/test_paths.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace tandem::tokenizer {
namespace {

// Pieces that steer the matchers into their corners: special-token text, its fragments,
// broken UTF-8, combining marks, digits and whitespace runs for the pre-tokenizer regexes.
const char* const kPieces[] = {"<|im_start|>", "<|im_end|>", "<|im", "|>", "<s>", "</s>", "<|endoftext|>",
                               "[INST]", "<start_of_turn>", "\xe2\x96\x81", "\xc3", "\xa9", "\xf0\x9f\x99",
                               "\xff", "\xed\xa0\x80", "\xcc\x81", "  ", "\n\n", "\t", "\r\n", "123456", "'s",
                               "\xe4\xb8\xad\xe6\x96\x87", "{{", "}}", "{%", "%}", "\0", " a", "Z"};

std::string random_text(std::mt19937& rng, size_t max_parts) {
  std::string text;
  const size_t parts = rng() % max_parts;
  for (size_t i = 0; i < parts; i++) {
    if (rng() % 3 == 0) {
      text += char(rng());
    } else {
      const char* piece = kPieces[rng() % std::size(kPieces)];
      text += piece[0] ? std::string(piece) : std::string(1, '\0');
    }
  }
  return text;
}

struct Vocab {
  const char* path;  // under ../shared
};

class TokenizerFuzz : public testing::TestWithParam<Vocab> {};

TEST_P(TokenizerFuzz, RandomTextEncodesAndRandomIdsDecode) {
  const auto file = gguf::File::open(test::shared_path(GetParam().path));
  const auto tok = Tokenizer::from_gguf(file);
  std::mt19937 rng(1207);
  for (int i = 0; i < 150; i++) {
    const std::string text = random_text(rng, 40);
    for (bool special : {false, true}) {
      try {
        const auto ids = tok->encode(text, special, special);
        for (Token id : ids) ASSERT_TRUE(id >= 0 && id < tok->n_vocab()) << id;
        (void)tok->decode(ids, special);
      } catch (const Error&) {
      }
    }
  }
  // Any id sequence, special and byte tokens included, decodes (or is refused by name).
  for (int i = 0; i < 150; i++) {
    std::vector<Token> ids;
    for (size_t k = rng() % 30; k > 0; k--) ids.push_back(Token(rng() % uint32_t(tok->n_vocab())));
    if (rng() % 10 == 0) ids.push_back(Token(tok->n_vocab() + int(rng() % 5)));  // outside the vocabulary
    try {
      (void)tok->decode(ids, rng() % 2 == 0);
      for (Token id : ids) (void)tok->token_to_piece(id, true);
    } catch (const Error&) {
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Vocabularies, TokenizerFuzz,
    testing::Values(Vocab{"models/stories260K.gguf"}, Vocab{"conformance/qwen2/model-Q8_0.gguf"},
                    Vocab{"conformance/phi3/model-Q8_0.gguf"}, Vocab{"tokenizers/ggml-vocab-llama-spm.gguf"},
                    Vocab{"tokenizers/ggml-vocab-llama-bpe.gguf"}, Vocab{"tokenizers/ggml-vocab-gpt-2.gguf"},
                    Vocab{"tokenizers/ggml-vocab-qwen2.gguf"}, Vocab{"tokenizers/ggml-vocab-deepseek-coder.gguf"},
                    Vocab{"tokenizers/ggml-vocab-falcon.gguf"}, Vocab{"tokenizers/ggml-vocab-phi-3.gguf"}),
    [](const testing::TestParamInfo<Vocab>& info) {
      std::string name = info.param.path;
      for (char& c : name)
        if (!std::isalnum((unsigned char)c)) c = '_';
      return name;
    });

// Messages with random content through every template family, and mutated real template
// texts through detection: rendered or refused with tandem::Error.
TEST(ChatTemplateFuzz, RandomMessagesAndMutatedTemplates) {
  std::mt19937 rng(22);
  const char* roles[] = {"system", "user", "assistant", "tool", ""};
  int rendered = 0;
  for (const std::string& name : chat_template_names()) {
    for (int i = 0; i < 20; i++) {
      std::vector<ChatMessage> messages;
      for (size_t k = 1 + rng() % 4; k > 0; k--) messages.push_back({roles[rng() % (i % 5 == 0 ? 5 : 3)], random_text(rng, 12)});
      try {
        (void)apply_chat_template("", name, messages, rng() % 2 == 0, random_text(rng, 2), random_text(rng, 2));
        rendered++;
      } catch (const Error&) {
      }
    }
  }
  EXPECT_GT(rendered, 0);
  const auto qwen = gguf::File::open(test::shared_path("conformance/qwen2/model-Q8_0.gguf"));
  const std::string real = qwen.find_string("tokenizer.chat_template").value_or("");
  ASSERT_FALSE(real.empty());
  for (int i = 0; i < 300; i++) {
    std::string text = real;
    for (int k = 0; k < 3; k++) text[rng() % text.size()] = char(rng());
    if (rng() % 4 == 0) text.resize(rng() % text.size());
    try {
      (void)detect_chat_template(text);
      (void)apply_chat_template(text, "", {{"user", random_text(rng, 8)}}, true, "<s>", "</s>");
    } catch (const Error&) {
    }
  }
}

}  // namespace
}  // namespace tandem::tokenizer
