#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "gguf/file.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"

namespace tandem::tokenizer {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const gguf::File& file) {
  const auto model = file.find_string("tokenizer.ggml.model");
  if (!model) fail("model has no tokenizer (tokenizer.ggml.model is missing)");
  if (*model == "llama") return make_spm_tokenizer(file);
  if (*model == "gpt2") return make_bpe_tokenizer(file);
  fail("unsupported tokenizer.ggml.model = '", *model, "' (supported: llama, gpt2)");
}

std::string Tokenizer::decode(const std::vector<Token>& ids, bool special) const {
  std::string text;
  for (Token id : ids) text += token_to_piece(id, special);
  return text;
}

namespace {
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
}

std::string Utf8Stream::push(std::string_view bytes) {
  pending_.append(bytes);
  std::string out;
  size_t i = 0;
  while (i < pending_.size()) {
    const auto step = unicode::next_utf8(std::string_view(pending_).substr(i));
    if (step.kind == unicode::Utf8Step::Incomplete) break;
    if (step.kind == unicode::Utf8Step::Complete) out.append(pending_, i, step.length);
    else out.append(kReplacement);
    i += step.length;
  }
  pending_.erase(0, i);
  return out;
}

std::string Utf8Stream::flush() {
  std::string out = push("");
  if (!pending_.empty()) out.append(kReplacement);
  pending_.clear();
  return out;
}

}  // namespace tandem::tokenizer
