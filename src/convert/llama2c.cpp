#include "convert/llama2c.h"

#include <array>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"

namespace tandem::convert {
namespace {

using gguf::Value;
using gguf::ValueType;

// llama2.c's tokenizer.bin always carries SentencePiece's fixed special ids.
constexpr uint32_t kUnknownId = 0, kBosId = 1, kEosId = 2;
constexpr uint32_t kNoToken = 0xFFFFFFFF;  // llama.cpp's "-1" for absent separator/padding
constexpr float kRmsEpsilon = 1e-5f;       // llama2.c's RMSNorm eps is hard-coded
// llama.cpp's token types.
enum TokenType : int64_t { kNormal = 1, kUnknown = 2, kControl = 3, kByte = 6 };

struct Config {
  uint64_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
  bool shared_classifier;
  uint64_t head_size() const { return dim / n_heads; }
  uint64_t kv_dim() const { return dim / n_heads * n_kv_heads; }
};

// The weight arrays of a checkpoint, in file order. Per-layer arrays are stacked.
enum Section { kEmbed, kAttnNorm, kWq, kWk, kWv, kWo, kFfnNorm, kW1, kW2, kW3, kFinalNorm, kFreqCis, kClassifier, kSectionCount };

struct Shape {
  uint64_t cols;  // contiguous (ggml dims[0])
  uint64_t rows;  // 1 for vectors
};

Shape section_shape(Section s, const Config& c) {
  switch (s) {
    case kEmbed: case kClassifier: return {c.dim, c.vocab_size};
    case kAttnNorm: case kFfnNorm: case kFinalNorm: return {c.dim, 1};
    case kWq: case kWo: return {c.dim, c.dim};
    case kWk: case kWv: return {c.dim, c.kv_dim()};
    case kW1: case kW3: return {c.dim, c.hidden_dim};
    case kW2: return {c.hidden_dim, c.dim};
    case kFreqCis: return {c.head_size(), c.seq_len};  // real and imaginary halves, each seq_len x head_size/2
    default: fail("internal: bad llama2.c section");
  }
}

bool per_layer(Section s) { return s != kEmbed && s != kFinalNorm && s != kFreqCis && s != kClassifier; }

uint64_t checked_mul(uint64_t a, uint64_t b, const std::string& path) {
  if (b != 0 && a > std::numeric_limits<uint64_t>::max() / b)
    fail("llama2.c checkpoint '", path, "': header describes an impossibly large model");
  return a * b;
}

Config read_config(const MappedFile& file) {
  constexpr size_t kFields = 7;
  const std::array<const char*, kFields> names = {"dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"};
  if (file.size() < kFields * 4)
    fail("llama2.c checkpoint '", file.path(), "': ", file.size(), " bytes is too short for the 28-byte header");
  std::array<int32_t, kFields> raw;
  std::memcpy(raw.data(), file.data(), sizeof(raw));
  for (size_t i = 0; i < kFields; i++)
    if (raw[i] == 0 || (raw[i] < 0 && i != 5) || raw[i] == std::numeric_limits<int32_t>::min())
      fail("llama2.c checkpoint '", file.path(), "': header field ", names[i], " = ", raw[i], " is invalid");
  Config c;
  c.dim = (uint64_t)raw[0];
  c.hidden_dim = (uint64_t)raw[1];
  c.n_layers = (uint64_t)raw[2];
  c.n_heads = (uint64_t)raw[3];
  c.n_kv_heads = (uint64_t)raw[4];
  c.shared_classifier = raw[5] > 0;  // the export marks a separate classifier by negating vocab_size
  c.vocab_size = (uint64_t)(raw[5] < 0 ? -(int64_t)raw[5] : raw[5]);
  c.seq_len = (uint64_t)raw[6];
  if (c.dim % c.n_heads != 0 || c.head_size() % 2 != 0)
    fail("llama2.c checkpoint '", file.path(), "': dim ", c.dim, " does not split into ", c.n_heads, " heads of even size");
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0)
    fail("llama2.c checkpoint '", file.path(), "': n_kv_heads ", c.n_kv_heads, " does not divide n_heads ", c.n_heads);
  return c;
}

// Byte offset of every section; the last entry is the expected file size.
std::array<uint64_t, kSectionCount + 1> section_offsets(const Config& c, const std::string& path) {
  std::array<uint64_t, kSectionCount + 1> offsets{};
  uint64_t at = 7 * 4;
  for (int s = 0; s < kSectionCount; s++) {
    offsets[s] = at;
    if (s == kClassifier && c.shared_classifier) continue;
    const Shape shape = section_shape((Section)s, c);
    const uint64_t floats = checked_mul(checked_mul(shape.cols, shape.rows, path), per_layer((Section)s) ? c.n_layers : 1, path);
    const uint64_t bytes = checked_mul(floats, 4, path);
    if (at > std::numeric_limits<uint64_t>::max() - bytes)
      fail("llama2.c checkpoint '", path, "': header describes an impossibly large model");
    at += bytes;
  }
  offsets[kSectionCount] = at;
  return offsets;
}

struct Token {
  std::string text;
  float score;
  int64_t type;
};

bool is_byte_token(const std::string& text) {
  auto hex = [](char ch) { return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'F') || (ch >= 'a' && ch <= 'f'); };
  return text.size() == 6 && text.compare(0, 3, "<0x") == 0 && hex(text[3]) && hex(text[4]) && text[5] == '>';
}

// SentencePiece marks spaces with U+2581 in its vocabulary; tokenizer.bin stores plain spaces.
std::string escape_spaces(const std::string& text) {
  std::string out;
  for (char ch : text) {
    if (ch == ' ') out += "\xe2\x96\x81";
    else out += ch;
  }
  return out;
}

std::vector<Token> read_tokenizer(const std::string& path, uint64_t vocab_size) {
  const auto file = MappedFile::open(path);
  const uint8_t* data = file->data();
  const uint64_t size = file->size();
  uint64_t pos = 0;
  auto take = [&](void* dst, uint64_t n, const std::string& field) {
    if (n > size - pos)
      fail("llama2.c tokenizer '", path, "': truncated at offset ", pos, " reading ", field, " (vocab_size ", vocab_size, ")");
    std::memcpy(dst, data + pos, n);
    pos += n;
  };
  int32_t max_token_length;
  take(&max_token_length, 4, "max_token_length");
  if (max_token_length <= 0) fail("llama2.c tokenizer '", path, "': max_token_length ", max_token_length, " is invalid");

  std::vector<Token> tokens;
  tokens.reserve(std::min<uint64_t>(vocab_size, size / 8));
  for (uint64_t id = 0; id < vocab_size; id++) {
    const std::string field = "token " + std::to_string(id);
    float score;
    int32_t length;
    take(&score, 4, field + " score");
    take(&length, 4, field + " length");
    if (length < 0) fail("llama2.c tokenizer '", path, "': ", field, " has negative length ", length);
    std::string text((size_t)std::min<uint64_t>((uint64_t)length, size - pos), '\0');
    take(text.data(), (uint64_t)length, field + " text");

    int64_t type = kNormal;
    if (id == kUnknownId) text = "<unk>", type = kUnknown;
    else if (id == kBosId) text = "<s>", type = kControl;
    else if (id == kEosId) text = "</s>", type = kControl;
    else if (text.empty()) type = kControl;
    else if (is_byte_token(text)) type = kByte;
    tokens.push_back({escape_spaces(text), score, type});
  }
  if (pos != size)
    fail("llama2.c tokenizer '", path, "': ", size - pos, " bytes left after ", vocab_size,
         " tokens (does it belong to a model with another vocab_size?)");
  return tokens;
}

void set_tokenizer(gguf::Writer& w, const std::vector<Token>& tokens) {
  std::vector<std::string> texts;
  std::vector<double> scores;
  std::vector<int64_t> types;
  for (const auto& t : tokens) {
    texts.push_back(t.text);
    scores.push_back(t.score);
    types.push_back(t.type);
  }
  w.set("tokenizer.ggml.tokens", Value::strings(std::move(texts)));
  w.set("tokenizer.ggml.scores", Value::f32s(std::move(scores)));
  w.set("tokenizer.ggml.token_type", Value::i32s(std::move(types)));
  w.set("tokenizer.ggml.model", Value::string("llama"));
}

uint32_t as_u32(uint64_t v, const char* what) {
  if (v > std::numeric_limits<uint32_t>::max()) fail("llama2.c: ", what, " ", v, " does not fit in u32");
  return (uint32_t)v;
}

}  // namespace

gguf::Writer llama2c_to_gguf(const std::string& model_bin, const std::string& tokenizer_bin, const Llama2cOptions& options) {
  const auto model = MappedFile::open(model_bin);
  if (model->size() >= 4 && std::memcmp(model->data(), "GGUF", 4) == 0)
    fail("'", model_bin, "' is not a llama2.c checkpoint: it is a GGUF file already (tandem run -m ", model_bin, ")");
  Config c;
  std::array<uint64_t, kSectionCount + 1> offsets;
  try {  // a header that does not describe a model, or a size that does not match it
    c = read_config(*model);
    offsets = section_offsets(c, model_bin);
    if (model->size() != offsets[kSectionCount])
      fail("llama2.c checkpoint '", model_bin, "': expected ", offsets[kSectionCount], " bytes for dim=", c.dim,
           " hidden_dim=", c.hidden_dim, " n_layers=", c.n_layers, " n_heads=", c.n_heads, " n_kv_heads=", c.n_kv_heads,
           " vocab_size=", c.vocab_size, c.shared_classifier ? " (shared classifier)" : " (separate classifier)",
           " seq_len=", c.seq_len, ", file has ", model->size(), model->size() < offsets[kSectionCount] ? " (truncated)" : "");
  } catch (const Error& error) {
    fail("'", model_bin, "' is not a llama2.c checkpoint (", error.what(), ")");
  }

  gguf::Writer w;
  set_tokenizer(w, read_tokenizer(tokenizer_bin, c.vocab_size));
  w.set("general.architecture", Value::string("llama"));
  w.set("general.name", Value::string("llama"));
  w.set("tokenizer.ggml.unknown_token_id", Value::u32(kUnknownId));
  w.set("tokenizer.ggml.bos_token_id", Value::u32(kBosId));
  w.set("tokenizer.ggml.eos_token_id", Value::u32(kEosId));
  w.set("tokenizer.ggml.seperator_token_id", Value::u32(kNoToken));  // sic: the key llama.cpp reads
  w.set("tokenizer.ggml.padding_token_id", Value::u32(kNoToken));
  w.set("llama.context_length", Value::u32(options.context_length.value_or(as_u32(c.seq_len, "seq_len"))));
  w.set("llama.embedding_length", Value::u32(as_u32(c.dim, "dim")));
  w.set("llama.feed_forward_length", Value::u32(as_u32(c.hidden_dim, "hidden_dim")));
  w.set("llama.attention.head_count", Value::u32(as_u32(c.n_heads, "n_heads")));
  w.set("llama.attention.head_count_kv", Value::u32(as_u32(c.n_kv_heads, "n_kv_heads")));
  w.set("llama.block_count", Value::u32(as_u32(c.n_layers, "n_layers")));
  // llama.cpp's converter caps this at 64, which would make heads larger than 64
  // rotate only partly; llama2.c rotates the whole head.
  w.set("llama.rope.dimension_count", Value::u32(as_u32(c.head_size(), "head size")));
  w.set("llama.attention.layer_norm_rms_epsilon", Value::f32(kRmsEpsilon));

  auto add = [&](const std::string& name, Section s, uint64_t layer) {
    const Shape shape = section_shape(s, c);
    const uint64_t bytes = shape.cols * shape.rows * 4;
    const uint8_t* start = model->data() + offsets[s] + layer * bytes;
    std::vector<uint64_t> dims = {shape.cols};
    if (shape.rows > 1) dims.push_back(shape.rows);
    w.add_tensor(name, quant::Type::F32, std::move(dims), std::vector<uint8_t>(start, start + bytes));
  };
  // Tensor order follows llama.cpp's converter so that the output matches its files.
  add("token_embd.weight", kEmbed, 0);
  add("output_norm.weight", kFinalNorm, 0);
  add("output.weight", c.shared_classifier ? kEmbed : kClassifier, 0);
  struct LayerTensor {
    const char* suffix;
    Section section;
  };
  constexpr std::array kLayerTensors = {
      LayerTensor{"attn_q", kWq},         LayerTensor{"attn_k", kWk},       LayerTensor{"attn_v", kWv},
      LayerTensor{"attn_output", kWo},    LayerTensor{"attn_norm", kAttnNorm}, LayerTensor{"ffn_gate", kW1},
      LayerTensor{"ffn_down", kW2},       LayerTensor{"ffn_up", kW3},       LayerTensor{"ffn_norm", kFfnNorm},
  };
  for (uint64_t layer = 0; layer < c.n_layers; layer++)
    for (const auto& t : kLayerTensors)
      add("blk." + std::to_string(layer) + "." + t.suffix + ".weight", t.section, layer);
  return w;
}

void convert_llama2c(const std::string& model_bin, const std::string& tokenizer_bin, const std::string& out_gguf,
                     const Llama2cOptions& options) {
  llama2c_to_gguf(model_bin, tokenizer_bin, options).write(out_gguf);
}

}  // namespace tandem::convert
