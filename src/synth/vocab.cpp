#include "synth/vocab.h"

#include <cstdio>
#include <unordered_map>

#include "core/error.h"
#include "gguf/file.h"

namespace tandem::synth {

Metadata copy_tokenizer(const std::string& path) {
  auto file = gguf::File::open(path);
  Metadata out;
  for (const auto& [key, value] : file.metadata())
    if (key.rfind("tokenizer.", 0) == 0) out.emplace_back(key, value);
  if (out.empty()) fail("'", path, "' has no tokenizer.* metadata to copy");
  return out;
}

Metadata generated_tokenizer(int n_vocab) {
  constexpr int kSpecial = 3, kBytes = 256;
  if (n_vocab < kSpecial + kBytes) fail("a generated vocabulary needs at least ", kSpecial + kBytes, " tokens, got ", n_vocab);
  enum TokenType : int64_t { Normal = 1, Unknown = 2, Control = 3, Byte = 6 };
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int64_t> types = {Unknown, Control, Control};
  for (int b = 0; b < kBytes; b++) {
    char piece[8];
    std::snprintf(piece, sizeof piece, "<0x%02X>", b);
    tokens.push_back(piece);
    types.push_back(Byte);
  }
  // U+2581 is SentencePiece's word-start marker.
  for (int i = (int)tokens.size(); i < n_vocab; i++) {
    tokens.push_back("\xe2\x96\x81w" + std::to_string(i));
    types.push_back(Normal);
  }
  std::vector<double> scores(tokens.size());
  for (size_t i = 0; i < scores.size(); i++) scores[i] = -(double)i;

  Metadata out;
  out.emplace_back("tokenizer.ggml.model", gguf::Value::string("llama"));
  out.emplace_back("tokenizer.ggml.tokens", gguf::Value::strings(std::move(tokens)));
  out.emplace_back("tokenizer.ggml.scores", gguf::Value::f32s(std::move(scores)));
  out.emplace_back("tokenizer.ggml.token_type", gguf::Value::i32s(std::move(types)));
  out.emplace_back("tokenizer.ggml.bos_token_id", gguf::Value::u32(1));
  out.emplace_back("tokenizer.ggml.eos_token_id", gguf::Value::u32(2));
  out.emplace_back("tokenizer.ggml.unknown_token_id", gguf::Value::u32(0));
  out.emplace_back("tokenizer.ggml.add_bos_token", gguf::Value::boolean(true));
  return out;
}

Metadata slice_tokenizer(Metadata tokenizer, const VocabSlice& slice) {
  if (slice.keep == 0 && slice.add.empty() && slice.special.empty()) return tokenizer;
  auto find = [&](const std::string& key) -> gguf::Value* {
    for (auto& [k, v] : tokenizer)
      if (k == key) return &v;
    return nullptr;
  };
  gguf::Value* tokens_value = find("tokenizer.ggml.tokens");
  if (!tokens_value) fail("tokenizer metadata has no tokenizer.ggml.tokens");
  const auto old_tokens = std::get<std::vector<std::string>>(tokens_value->data);
  if (slice.keep < 0 || slice.keep > (int)old_tokens.size())
    fail("vocabulary slice of ", slice.keep, " tokens, but the vocabulary has ", old_tokens.size());
  gguf::Value* types_value = find("tokenizer.ggml.token_type");
  gguf::Value* scores_value = find("tokenizer.ggml.scores");
  const std::vector<int64_t> old_types = types_value ? std::get<std::vector<int64_t>>(types_value->data) : std::vector<int64_t>();
  const std::vector<double> old_scores = scores_value ? std::get<std::vector<double>>(scores_value->data) : std::vector<double>();

  std::unordered_map<std::string, int> old_id, new_id;
  for (int i = (int)old_tokens.size() - 1; i >= 0; i--) old_id[old_tokens[i]] = i;  // first occurrence wins
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  std::vector<double> scores;
  auto push = [&](const std::string& text, int source_id, int type) {
    if (new_id.count(text)) return;
    new_id[text] = (int)tokens.size();
    tokens.push_back(text);
    types.push_back(source_id >= 0 && !old_types.empty() ? old_types[source_id] : type);
    scores.push_back(source_id >= 0 && !old_scores.empty() ? old_scores[source_id] : 0.0);
  };
  const int keep = slice.keep ? slice.keep : (int)old_tokens.size();
  for (int i = 0; i < keep; i++) push(old_tokens[i], i, 1);
  for (const AddedToken& t : slice.add) {
    const auto it = old_id.find(t.text);
    push(t.text, it == old_id.end() ? -1 : it->second, t.type);
  }
  tokens_value->data = tokens;
  if (types_value) types_value->data = types;
  if (scores_value) scores_value->data = scores;

  if (gguf::Value* merges_value = find("tokenizer.ggml.merges")) {
    std::vector<std::string> merges;
    for (const std::string& merge : std::get<std::vector<std::string>>(merges_value->data)) {
      const size_t space = merge.find(' ', 1);
      if (space == std::string::npos) continue;
      const std::string left = merge.substr(0, space), right = merge.substr(space + 1);
      if (new_id.count(left) && new_id.count(right) && new_id.count(left + right)) merges.push_back(merge);
    }
    merges_value->data = merges;
  }

  // Special ids follow their token's text; one whose token was cut is dropped.
  Metadata out;
  const std::string id_prefix = "tokenizer.ggml.", id_suffix = "_token_id";
  auto is_id_key = [&](const std::string& key) {
    return key.rfind(id_prefix, 0) == 0 && key.size() > id_suffix.size() &&
           key.compare(key.size() - id_suffix.size(), id_suffix.size(), id_suffix) == 0;
  };
  for (auto& [key, value] : tokenizer) {
    if (is_id_key(key)) {
      const auto* id = std::get_if<uint64_t>(&value.data);
      if (!id || *id >= old_tokens.size() || !new_id.count(old_tokens[*id])) continue;
      out.emplace_back(key, gguf::Value::u32((uint32_t)new_id[old_tokens[*id]]));
    } else {
      out.emplace_back(key, std::move(value));
    }
  }
  for (const auto& [name, text] : slice.special) {
    const auto it = new_id.find(text);
    if (it == new_id.end()) fail("special token '", name, "' = '", text, "' is not in the sliced vocabulary");
    const std::string key = id_prefix + name + id_suffix;
    bool replaced = false;
    for (auto& [k, v] : out)
      if (k == key) v = gguf::Value::u32((uint32_t)it->second), replaced = true;
    if (!replaced) out.emplace_back(key, gguf::Value::u32((uint32_t)it->second));
  }
  return out;
}

int vocab_size(const Metadata& tokenizer) {
  for (const auto& [key, value] : tokenizer)
    if (key == "tokenizer.ggml.tokens") return (int)value.array_size();
  fail("tokenizer metadata has no tokenizer.ggml.tokens");
}

}  // namespace tandem::synth
