// Byte-level BPE (tokenizer.ggml.model = "gpt2"): the pre-tokenizer cuts the
// text into words, each word's bytes are mapped to printable codepoints, and
// adjacent pieces are merged in the order of tokenizer.ggml.merges.
#include <queue>

#include "core/error.h"
#include "gguf/file.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace tandem::tokenizer {

namespace {

class BpeTokenizer final : public VocabTokenizer {
 public:
  BpeTokenizer(Vocab vocab, Pretokenizer pretokenizer, const std::vector<std::string>& merges)
      : VocabTokenizer(std::move(vocab)), pretokenizer_(std::move(pretokenizer)) {
    merge_ranks_.reserve(merges.size());
    for (size_t i = 0; i < merges.size(); ++i) {
      // "left right", split at the first space after the first byte.
      if (merges[i].find(' ', 1) == std::string::npos) continue;
      merge_ranks_.emplace(merges[i], (int)i);
    }
  }

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<Token>& out) const override;

  std::string normal_piece(const std::string& text) const override {
    std::string bytes;
    for (uint32_t cp : unicode::decode_lenient(text)) {
      const int byte = unicode::unicode_to_byte(cp);
      if (byte >= 0) bytes.push_back((char)byte);
      else unicode::append_utf8(bytes, cp);  // not a byte-level token: keep its text
    }
    return bytes;
  }

 private:
  Pretokenizer pretokenizer_;
  StringMap<int> merge_ranks_;

  void encode_word(const std::string& word, std::vector<Token>& out) const;
};

struct Symbol {
  int prev, next;
  uint32_t offset, length;
};

struct Bigram {
  int left, right;
  int rank;
  uint32_t left_length, right_length;
  // Lowest rank first; among equals, the leftmost.
  bool operator<(const Bigram& other) const {
    return rank > other.rank || (rank == other.rank && left > other.left);
  }
};

void BpeTokenizer::encode_text(std::string_view text, bool, std::vector<Token>& out) const {
  std::string word;
  for (const std::string& raw_word : pretokenizer_.split(text)) {
    word.clear();
    for (unsigned char byte : raw_word) word += unicode::byte_to_unicode(byte);
    encode_word(word, out);
  }
}

void BpeTokenizer::encode_word(const std::string& word, std::vector<Token>& out) const {
  if (pretokenizer_.ignore_merges()) {
    if (Token id = vocab_.find(word); id >= 0) {
      out.push_back(id);
      return;
    }
  }
  std::vector<Symbol> symbols;
  for (uint32_t offset = 0; offset < word.size();) {
    const uint32_t length =
        (uint32_t)std::min(unicode::sequence_length((unsigned char)word[offset]), word.size() - offset);
    const int index = (int)symbols.size();
    symbols.push_back({index - 1, offset + length == word.size() ? -1 : index + 1, offset, length});
    offset += length;
  }

  std::priority_queue<Bigram> queue;
  std::string key;
  auto try_add = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[left];
    const Symbol& r = symbols[right];
    key.assign(word, l.offset, l.length);
    key.push_back(' ');
    key.append(word, r.offset, r.length);
    auto it = merge_ranks_.find(key);
    if (it == merge_ranks_.end()) return;
    queue.push({left, right, it->second, l.length, r.length});
  };
  for (int i = 1; i < (int)symbols.size(); ++i) try_add(i - 1, i);

  while (!queue.empty()) {
    const Bigram bigram = queue.top();
    queue.pop();
    Symbol& left = symbols[bigram.left];
    Symbol& right = symbols[bigram.right];
    if (left.length != bigram.left_length || right.length != bigram.right_length || right.length == 0) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = bigram.left;
    try_add(left.prev, bigram.left);
    try_add(bigram.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i != -1; i = symbols[i].next) {
    const std::string_view piece(word.data() + symbols[i].offset, symbols[i].length);
    if (Token id = vocab_.find(piece); id >= 0) {
      out.push_back(id);
      continue;
    }
    // llama.cpp's fallback: single bytes of the piece that happen to be tokens.
    for (char byte : piece) {
      if (Token id = vocab_.find(std::string_view(&byte, 1)); id >= 0) out.push_back(id);
    }
  }
}

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(const gguf::File& file) {
  // A GGUF without tokenizer.ggml.pre predates pre-tokenizer names; llama.cpp falls back to "default".
  Pretokenizer pretokenizer = Pretokenizer::for_name(file.find_string("tokenizer.ggml.pre").value_or("default"));
  if (!file.has("tokenizer.ggml.merges")) fail("BPE tokenizer has no tokenizer.ggml.merges");
  const auto& merges = file.get_strings("tokenizer.ggml.merges");
  Vocab vocab = load_vocab(file, VocabDefaults{11, 11, -1, pretokenizer.adds_bos_by_default()});
  return std::make_unique<BpeTokenizer>(std::move(vocab), std::move(pretokenizer), merges);
}

}  // namespace tandem::tokenizer
