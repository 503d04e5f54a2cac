// The vocabulary shared by both tokenizer algorithms, and the base class that
// implements everything except the algorithm itself: special-token splitting,
// BOS/EOS, pieces, lookups. Semantics follow llama.cpp's llama-vocab.cpp.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace tandem::tokenizer {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class Value>
using StringMap = std::unordered_map<std::string, Value, StringHash, std::equal_to<>>;

struct Vocab {
  std::vector<std::string> texts;
  std::vector<float> scores;
  std::vector<TokenKind> kinds;
  std::vector<uint8_t> strip_flags;  // kStripLeft / kStripRight: whitespace eaten next to a special token
  StringMap<Token> ids;
  Token bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  std::unordered_set<Token> end_of_generation;
  std::vector<Token> special_by_length;  // control, user-defined and unknown tokens, longest text first

  static constexpr uint8_t kStripLeft = 1, kStripRight = 2;

  Token find(std::string_view text) const {
    auto it = ids.find(text);
    return it == ids.end() ? -1 : it->second;
  }
};

// Per-algorithm defaults that llama.cpp applies before reading the GGUF keys.
struct VocabDefaults {
  Token bos, eos, unk;
  bool add_bos;
};

// Reads tokenizer.ggml.{tokens,scores,token_type,*_token_id,add_*_token} and
// derives end-of-generation tokens and the special-token list.
Vocab load_vocab(const gguf::File& file, const VocabDefaults& defaults);

class VocabTokenizer : public Tokenizer {
 public:
  explicit VocabTokenizer(Vocab vocab) : vocab_(std::move(vocab)) {}

  std::vector<Token> encode(std::string_view text, bool add_special, bool parse_special) const override;
  std::string token_to_piece(Token id, bool special) const override;

  int32_t n_vocab() const override { return (int32_t)vocab_.texts.size(); }
  Token bos() const override { return vocab_.bos; }
  Token eos() const override { return vocab_.eos; }
  bool add_bos() const override { return vocab_.add_bos; }
  bool add_eos() const override { return vocab_.add_eos; }
  bool is_end_of_generation(Token id) const override { return vocab_.end_of_generation.count(id) > 0; }
  TokenKind kind(Token id) const override { return vocab_.kinds[checked(id)]; }
  const std::string& text(Token id) const override { return vocab_.texts[checked(id)]; }
  Token find(std::string_view text) const override { return vocab_.find(text); }

 protected:
  // Tokenizes one run of plain text; `after_special` is true at the start of the
  // input and right after a special token.
  virtual void encode_text(std::string_view text, bool after_special, std::vector<Token>& out) const = 0;
  // The bytes a NORMAL token stands for.
  virtual std::string normal_piece(const std::string& text) const = 0;

  size_t checked(Token id) const;
  const Vocab vocab_;
};

std::unique_ptr<Tokenizer> make_spm_tokenizer(const gguf::File& file);
std::unique_ptr<Tokenizer> make_bpe_tokenizer(const gguf::File& file);

}  // namespace tandem::tokenizer
