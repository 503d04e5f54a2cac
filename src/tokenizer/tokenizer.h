// Text <-> token ids, built from the tokenizer stored in a GGUF file's metadata
// (tokenizer.ggml.*). Two algorithms: SentencePiece-style (`llama`) and
// byte-level BPE (`gpt2`) with the pre-tokenizer named by tokenizer.ggml.pre.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tandem::gguf {
class File;
}

namespace tandem::tokenizer {

using Token = int32_t;

enum class TokenKind : int32_t {  // values as tokenizer.ggml.token_type stores them
  Undefined = 0, Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6,
};

class Tokenizer {
 public:
  // Errors (tandem::Error) for a missing vocabulary or an unknown model / pre-tokenizer.
  static std::unique_ptr<Tokenizer> from_gguf(const gguf::File& file);
  virtual ~Tokenizer() = default;

  // add_special: BOS (and EOS) as the model's flags say. parse_special: text that
  // spells a control token becomes that token; otherwise it is plain text.
  virtual std::vector<Token> encode(std::string_view text, bool add_special, bool parse_special) const = 0;
  // The bytes of one token. Control tokens render as their text only when `special`.
  virtual std::string token_to_piece(Token id, bool special) const = 0;
  std::string decode(const std::vector<Token>& ids, bool special) const;

  virtual int32_t n_vocab() const = 0;
  virtual Token bos() const = 0;  // -1 when the model has none
  virtual Token eos() const = 0;
  virtual bool add_bos() const = 0;
  virtual bool add_eos() const = 0;
  virtual bool is_end_of_generation(Token id) const = 0;  // eos, eot, <|im_end|>, <end_of_turn>, ...
  virtual TokenKind kind(Token id) const = 0;
  virtual const std::string& text(Token id) const = 0;  // raw vocabulary entry
  virtual Token find(std::string_view text) const = 0;  // -1 when absent
};

// Streams token pieces out as valid UTF-8: bytes of an incomplete character are
// held back until the character completes; invalid sequences become U+FFFD.
class Utf8Stream {
 public:
  std::string push(std::string_view bytes);
  std::string flush();  // whatever is left, incomplete tail as U+FFFD

 private:
  std::string pending_;
};

}  // namespace tandem::tokenizer
