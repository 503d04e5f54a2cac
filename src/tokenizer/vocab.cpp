#include "tokenizer/vocab.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "core/error.h"
#include "gguf/file.h"

namespace tandem::tokenizer {

namespace {

// Token texts that end generation; llama.cpp also forces them to CONTROL, so
// that plain text spelling them is never read as the token.
const char* const kEndOfGenerationTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
    "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "[e~[",
    // fill-in-the-middle padding, repository and file separators
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>", "<fim-repo>",
    "<REPO>", "<reponame>", "<|file_sep|>",
};

bool is_ascii_space(char c) { return std::isspace((unsigned char)c) != 0 && (unsigned char)c < 0x80; }

std::string lowercase(std::string s) {
  for (char& c : s) c = (char)std::tolower((unsigned char)c);
  return s;
}

}  // namespace

Vocab load_vocab(const gguf::File& file, const VocabDefaults& defaults) {
  if (!file.has("tokenizer.ggml.tokens")) fail("model has no tokenizer vocabulary (tokenizer.ggml.tokens is missing)");
  Vocab v;
  v.texts = file.get_strings("tokenizer.ggml.tokens");
  const size_t n = v.texts.size();
  if (n == 0) fail("tokenizer.ggml.tokens is empty");

  v.scores.assign(n, 0.0f);
  if (file.has("tokenizer.ggml.scores")) {
    const auto scores = file.get_floats("tokenizer.ggml.scores");
    if (scores.size() < n) fail("tokenizer.ggml.scores has ", scores.size(), " entries for ", n, " tokens");
    for (size_t i = 0; i < n; ++i) v.scores[i] = (float)scores[i];
  }
  v.kinds.assign(n, TokenKind::Normal);
  if (file.has("tokenizer.ggml.token_type")) {
    const auto types = file.get_ints("tokenizer.ggml.token_type");
    if (types.size() < n) fail("tokenizer.ggml.token_type has ", types.size(), " entries for ", n, " tokens");
    for (size_t i = 0; i < n; ++i) {
      v.kinds[i] = (types[i] >= 0 && types[i] <= 6) ? (TokenKind)types[i] : TokenKind::Undefined;
    }
  }
  v.ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (v.texts[i].empty()) v.texts[i] = "[EMPTY_" + std::to_string(i) + "]";
    auto [it, inserted] = v.ids.emplace(v.texts[i], (Token)i);
    if (!inserted) fail("duplicate token in vocabulary: '", v.texts[i], "' has ids ", it->second, " and ", i);
  }

  // An id outside the vocabulary is ignored, as llama.cpp does (stories260K stores 0xFFFFFFFF).
  auto in_range = [&](Token id) { return id >= 0 && (size_t)id < n ? id : -1; };
  auto read_id = [&](const char* key, Token fallback) {
    auto value = file.find_uint(key);
    return (value && *value < n) ? (Token)*value : in_range(fallback);
  };
  v.bos = read_id("tokenizer.ggml.bos_token_id", defaults.bos);
  v.eos = read_id("tokenizer.ggml.eos_token_id", defaults.eos);
  v.eot = read_id("tokenizer.ggml.eot_token_id", -1);
  v.eom = read_id("tokenizer.ggml.eom_token_id", -1);
  v.unk = read_id("tokenizer.ggml.unknown_token_id", defaults.unk);
  v.pad = read_id("tokenizer.ggml.padding_token_id", -1);
  v.add_bos = file.find_bool("tokenizer.ggml.add_bos_token").value_or(defaults.add_bos);
  v.add_eos = file.find_bool("tokenizer.ggml.add_eos_token").value_or(false);
  if (v.add_bos && v.bos < 0) fail("tokenizer.ggml.add_bos_token is true but the model has no BOS token");
  if (v.add_eos && v.eos < 0) fail("tokenizer.ggml.add_eos_token is true but the model has no EOS token");

  for (const char* text : kEndOfGenerationTexts) {
    const Token id = v.find(text);
    if (id < 0) continue;
    v.end_of_generation.insert(id);
    v.kinds[id] = TokenKind::Control;
  }
  for (Token id : {v.eos, v.eot, v.eom}) {
    if (id >= 0) v.end_of_generation.insert(id);
  }

  for (size_t i = 0; i < n; ++i) {
    const TokenKind k = v.kinds[i];
    if (k == TokenKind::Control || k == TokenKind::UserDefined || k == TokenKind::Unknown) {
      v.special_by_length.push_back((Token)i);
    }
  }
  std::stable_sort(v.special_by_length.begin(), v.special_by_length.end(),
                   [&](Token a, Token b) { return v.texts[a].size() > v.texts[b].size(); });

  // Phi-3's special tokens swallow the whitespace after them (llama.cpp keys this on the model name).
  v.strip_flags.assign(n, 0);
  const std::string name = lowercase(file.find_string("general.name").value_or(""));
  if (name.find("phi-3") != std::string::npos || name.find("phi3") != std::string::npos) {
    for (Token id : v.special_by_length) v.strip_flags[id] |= Vocab::kStripRight;
    if (Token id = v.find("</s>"); id >= 0) v.strip_flags[id] |= Vocab::kStripRight;
    for (const char* text : {"<unk>", "<s>", "<|endoftext|>"}) {
      if (Token id = v.find(text); id >= 0) v.strip_flags[id] &= (uint8_t)~Vocab::kStripRight;
    }
  }
  return v;
}

size_t VocabTokenizer::checked(Token id) const {
  if (id < 0 || (size_t)id >= vocab_.texts.size()) {
    fail("token id ", id, " is outside the vocabulary (", vocab_.texts.size(), " tokens)");
  }
  return (size_t)id;
}

std::vector<Token> VocabTokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  struct Fragment {
    Token token;  // -1: plain text text[offset, offset + length)
    size_t offset, length;
  };
  std::vector<Fragment> fragments, next;
  if (!text.empty()) fragments.push_back({-1, 0, text.size()});

  // Longest special tokens first, each splitting the plain-text fragments left so far.
  for (Token id : vocab_.special_by_length) {
    const TokenKind k = vocab_.kinds[id];
    if (!parse_special && (k == TokenKind::Control || k == TokenKind::Unknown)) continue;
    const std::string& special = vocab_.texts[id];
    const uint8_t strip = vocab_.strip_flags[id];
    next.clear();
    bool found_any = false;
    for (const Fragment& fragment : fragments) {
      if (fragment.token >= 0) {
        next.push_back(fragment);
        continue;
      }
      size_t begin = fragment.offset;
      const size_t end = fragment.offset + fragment.length;
      while (begin < end) {
        const size_t match = text.substr(0, end).find(special, begin);
        if (match == std::string_view::npos) break;
        found_any = true;
        size_t left_end = match;
        if (strip & Vocab::kStripLeft) {
          while (left_end > begin && is_ascii_space(text[left_end - 1])) --left_end;
        }
        if (left_end > begin) next.push_back({-1, begin, left_end - begin});
        next.push_back({id, 0, 0});
        begin = match + special.size();
        if (strip & Vocab::kStripRight) {
          while (begin < end && is_ascii_space(text[begin])) ++begin;
        }
      }
      if (end > begin) next.push_back({-1, begin, end - begin});
    }
    if (found_any) fragments.swap(next);
  }

  std::vector<Token> out;
  if (add_special && vocab_.add_bos) out.push_back(vocab_.bos);
  bool after_special = true;
  for (const Fragment& fragment : fragments) {
    if (fragment.token >= 0) {
      out.push_back(fragment.token);
      after_special = true;
    } else {
      encode_text(text.substr(fragment.offset, fragment.length), after_special, out);
      after_special = false;
    }
  }
  if (add_special && vocab_.add_eos) out.push_back(vocab_.eos);
  return out;
}

std::string VocabTokenizer::token_to_piece(Token id, bool special) const {
  const std::string& text = vocab_.texts[checked(id)];
  switch (vocab_.kinds[id]) {
    case TokenKind::Control:
    case TokenKind::Unknown:
      return special ? text : std::string();
    case TokenKind::UserDefined:
      return text;
    case TokenKind::Normal:
      return normal_piece(text);
    case TokenKind::Byte:
      if (text.size() == 6 && text.compare(0, 3, "<0x") == 0) {
        return std::string(1, (char)std::strtol(text.substr(3, 2).c_str(), nullptr, 16));
      }
      return std::string();
    default:  // undefined and unused tokens render as nothing
      return std::string();
  }
}

}  // namespace tandem::tokenizer
