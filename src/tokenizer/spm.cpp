// SentencePiece-style tokenizer (tokenizer.ggml.model = "llama"): spaces become
// U+2581, then adjacent pieces are merged greedily by vocabulary score; pieces
// that are not tokens fall back to <0xNN> byte tokens.
#include <queue>

#include "gguf/file.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace tandem::tokenizer {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581

class SpmTokenizer final : public VocabTokenizer {
 public:
  SpmTokenizer(Vocab vocab, bool add_space_prefix) : VocabTokenizer(std::move(vocab)), add_space_prefix_(add_space_prefix) {
    for (int b = 0; b < 256; ++b) byte_tokens_[b] = find_byte_token((uint8_t)b);
  }

 protected:
  void encode_text(std::string_view raw, bool after_special, std::vector<Token>& out) const override;

  std::string normal_piece(const std::string& text) const override {
    std::string result;
    for (size_t i = 0; i < text.size();) {
      if (text.compare(i, kSpaceMarker.size(), kSpaceMarker) == 0) {
        result.push_back(' ');
        i += kSpaceMarker.size();
      } else {
        result.push_back(text[i++]);
      }
    }
    return result;
  }

 private:
  bool add_space_prefix_;
  Token byte_tokens_[256];

  Token find_byte_token(uint8_t byte) const {
    static const char* hex = "0123456789ABCDEF";
    const char name[6] = {'<', '0', 'x', hex[byte >> 4], hex[byte & 15], '>'};
    Token id = vocab_.find(std::string_view(name, 6));
    if (id < 0) id = vocab_.find(std::string_view((const char*)&byte, 1));
    return id >= 0 ? id : vocab_.unk;
  }
};

struct Symbol {
  int prev, next;
  size_t offset, length;
};

struct Bigram {
  int left, right;
  float score;
  size_t length;
  // Highest score first; among equals, the leftmost.
  bool operator<(const Bigram& other) const {
    return score < other.score || (score == other.score && left > other.left);
  }
};

void SpmTokenizer::encode_text(std::string_view raw, bool after_special, std::vector<Token>& out) const {
  std::string text;
  text.reserve(raw.size() * 3 + 3);
  if (add_space_prefix_ && after_special) text.append(kSpaceMarker);
  for (char c : raw) {
    if (c == ' ') text.append(kSpaceMarker);
    else text.push_back(c);
  }

  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    const size_t length = std::min(unicode::sequence_length((unsigned char)text[offset]), text.size() - offset);
    const int index = (int)symbols.size();
    symbols.push_back({index - 1, offset + length == text.size() ? -1 : index + 1, offset, length});
    offset += length;
  }

  std::priority_queue<Bigram> queue;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const std::string_view merged(text.data() + symbols[left].offset, symbols[left].length + symbols[right].length);
    const Token id = vocab_.find(merged);
    if (id < 0) return;
    queue.push({left, right, vocab_.scores[id], merged.size()});
  };
  for (int i = 1; i < (int)symbols.size(); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != bigram.length) continue;  // stale
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece(text.data() + symbols[i].offset, symbols[i].length);
    const Token id = vocab_.find(piece);
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (unsigned char byte : piece) {
      if (byte_tokens_[byte] >= 0) out.push_back(byte_tokens_[byte]);
    }
  }
}

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(const gguf::File& file) {
  Vocab vocab = load_vocab(file, VocabDefaults{1, 2, 0, true});
  const bool add_space_prefix = file.find_bool("tokenizer.ggml.add_space_prefix").value_or(true);
  return std::make_unique<SpmTokenizer>(std::move(vocab), add_space_prefix);
}

}  // namespace tandem::tokenizer
