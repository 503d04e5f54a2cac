#include "synth/synth.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "gguf/writer.h"
#include "model/arch.h"
#include "synth/random_weights.h"
#include "synth/vocab.h"

namespace tandem::synth {
namespace {

using quant::Type;

struct PlannedTensor {
  std::string name;
  Type type;
  std::vector<uint64_t> dims;  // ggml order
  float mean = 0, sigma = 0;
  std::vector<float> fixed;    // computed values (rope_freqs) instead of random ones
};

// Llama 3.1-style rope scaling as llama.cpp's converter writes rope_freqs.weight
// (factor 32, low/high frequency factors 1 and 4, original context 8192).
std::vector<float> llama3_rope_factors(const ModelShape& s) {
  const double factor = 32, low_freq_factor = 1, high_freq_factor = 4, original_ctx = 8192;
  const double low_wavelen = original_ctx / low_freq_factor, high_wavelen = original_ctx / high_freq_factor;
  std::vector<float> out;
  for (int i = 0; i < s.dim_head(); i += 2) {
    const double freq = 1.0 / std::pow((double)s.rope_base, (double)i / s.dim_head());
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) out.push_back(1.0f);
    else if (wavelen > low_wavelen) out.push_back((float)factor);
    else {
      const double smooth = (original_ctx / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      out.push_back((float)(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

class Planner {
 public:
  Planner(const ModelShape& s, const RecipeInfo& r, int n_layer, int n_vocab)
      : shape_(s), recipe_(r), n_layer_(n_layer), n_vocab_(n_vocab) {}

  std::vector<PlannedTensor> plan() {
    const model::Arch* arch = model::find_arch(shape_.arch);
    if (!arch) fail("synth: shape '", shape_.name, "' uses architecture '", shape_.arch, "', which Tandem does not know");
    const uint64_t d = shape_.n_embd, dq = (uint64_t)shape_.n_head * shape_.dim_head(),
                   dkv = (uint64_t)shape_.n_head_kv * shape_.dim_head(), ff = shape_.n_ff;
    matrix("token_embd.weight", Role::TokenEmbd, 0, d, n_vocab_);
    if (shape_.llama3_rope) {
      auto factors = llama3_rope_factors(shape_);
      out_.push_back({"rope_freqs.weight", Type::F32, {factors.size()}, 0, 0, factors});
    }
    for (int i = 0; i < n_layer_; i++) {
      const std::string p = "blk." + std::to_string(i) + ".";
      norm(p + "attn_norm.weight", d);
      if (arch->fused_qkv) {
        matrix(p + "attn_qkv.weight", Role::AttnQKV, i, d, dq + 2 * dkv);
      } else {
        matrix(p + "attn_q.weight", Role::AttnQ, i, d, dq);
        matrix(p + "attn_k.weight", Role::AttnK, i, d, dkv);
        matrix(p + "attn_v.weight", Role::AttnV, i, d, dkv);
        if (shape_.qkv_bias) {
          bias(p + "attn_q.bias", dq);
          bias(p + "attn_k.bias", dkv);
          bias(p + "attn_v.bias", dkv);
        }
      }
      matrix(p + "attn_output.weight", Role::AttnOutput, i, dq, d);
      if (arch->post_norms) norm(p + "post_attention_norm.weight", d);
      norm(p + "ffn_norm.weight", d);
      if (arch->fused_gate_up) {
        matrix(p + "ffn_up.weight", Role::FfnUp, i, d, 2 * ff);
      } else {
        matrix(p + "ffn_gate.weight", Role::FfnGate, i, d, ff);
        matrix(p + "ffn_up.weight", Role::FfnUp, i, d, ff);
      }
      matrix(p + "ffn_down.weight", Role::FfnDown, i, ff, d);
      if (arch->post_norms) norm(p + "post_ffw_norm.weight", d);
    }
    norm("output_norm.weight", d);
    if (!shape_.tied_output) matrix("output.weight", Role::Output, 0, d, n_vocab_);
    return std::move(out_);
  }

 private:
  const ModelShape& shape_;
  const RecipeInfo& recipe_;
  int n_layer_, n_vocab_;
  std::vector<PlannedTensor> out_;

  void matrix(const std::string& name, Role role, int layer, uint64_t row_len, uint64_t rows) {
    TensorSlot slot{role, layer, n_layer_, shape_.n_head / shape_.n_head_kv, row_len, !shape_.tied_output};
    out_.push_back({name, tensor_type(recipe_, slot), {row_len, rows}, 0.0f, (float)(1.0 / std::sqrt((double)row_len)), {}});
  }
  // 1-D tensors stay F32, as llama.cpp's converter and quantizer keep them.
  void norm(const std::string& name, uint64_t n) { out_.push_back({name, Type::F32, {n}, 1.0f, 0.02f, {}}); }
  void bias(const std::string& name, uint64_t n) { out_.push_back({name, Type::F32, {n}, 0.0f, 0.02f, {}}); }
};

Metadata model_metadata(const ModelShape& s, const RecipeInfo& r, int n_layer, int n_vocab, uint64_t seed) {
  const model::Arch* arch = model::find_arch(s.arch);
  const std::string a = std::string(s.arch) + ".";
  Metadata m;
  auto u32 = [&](const std::string& key, uint32_t v) { m.emplace_back(a + key, gguf::Value::u32(v)); };
  auto f32 = [&](const std::string& key, float v) { m.emplace_back(a + key, gguf::Value::f32(v)); };
  m.emplace_back("general.architecture", gguf::Value::string(std::string(s.arch)));
  m.emplace_back("general.name", gguf::Value::string("synthetic " + std::string(s.name) + " " + std::string(r.name)));
  m.emplace_back("general.description",
                 gguf::Value::string("random weights from tandem synth, seed " + std::to_string(seed) + ": for speed tests only"));
  m.emplace_back("general.file_type", gguf::Value::u32(r.file_type));
  if (quant::traits(r.base).block_elems > 1) m.emplace_back("general.quantization_version", gguf::Value::u32(2));
  u32("vocab_size", (uint32_t)n_vocab);
  u32("context_length", (uint32_t)s.n_ctx);
  u32("embedding_length", (uint32_t)s.n_embd);
  u32("block_count", (uint32_t)n_layer);
  u32("feed_forward_length", (uint32_t)s.n_ff);
  u32("attention.head_count", (uint32_t)s.n_head);
  u32("attention.head_count_kv", (uint32_t)s.n_head_kv);
  if (s.head_dim) {
    u32("attention.key_length", (uint32_t)s.head_dim);
    u32("attention.value_length", (uint32_t)s.head_dim);
  }
  f32("attention.layer_norm_rms_epsilon", s.rms_eps);
  f32("rope.freq_base", s.rope_base);
  u32("rope.dimension_count", (uint32_t)s.dim_head());
  if (s.sliding_window) u32("attention.sliding_window", (uint32_t)s.sliding_window);
  if (arch && arch->soft_caps) {
    f32("attn_logit_softcapping", 50.0f);
    f32("final_logit_softcapping", 30.0f);
  }
  return m;
}

uint64_t mix_seed(uint64_t seed, uint64_t a, uint64_t b) {
  Rng rng(seed ^ (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full));
  rng.next();
  return rng.next();
}

// Generates one tensor's bytes a batch of row chunks at a time (one chunk per pool
// share) and hands them to the writer in order. Chunk seeds depend only on the
// tensor and chunk index, so the file is the same for any thread count.
void produce(const PlannedTensor& t, size_t index, uint64_t seed, ThreadPool& pool, const gguf::Writer::Sink& sink) {
  if (!t.fixed.empty()) {
    sink(reinterpret_cast<const uint8_t*>(t.fixed.data()), t.fixed.size() * sizeof(float));
    return;
  }
  const auto& traits = quant::traits(t.type);
  const uint64_t row_len = t.dims[0], rows = t.dims.size() > 1 ? t.dims[1] : 1;
  const size_t bytes_per_row = quant::row_bytes(traits, row_len);
  constexpr uint64_t kChunkElements = 1 << 20;
  const uint64_t chunk_rows = std::max<uint64_t>(1, kChunkElements / row_len);
  const uint64_t n_chunks = (rows + chunk_rows - 1) / chunk_rows;
  const uint64_t batch = (uint64_t)pool.size() * 2;
  std::vector<std::vector<uint8_t>> buffers(batch);
  for (uint64_t first = 0; first < n_chunks; first += batch) {
    const uint64_t count = std::min(batch, n_chunks - first);
    pool.parallel_for((int64_t)count, [&](int64_t begin, int64_t end, int) {
      for (int64_t c = begin; c < end; c++) {
        const uint64_t chunk = first + c, row0 = chunk * chunk_rows, n_rows = std::min(chunk_rows, rows - row0);
        buffers[c].resize(n_rows * bytes_per_row);
        fill_random_rows(t.type, n_rows, row_len, t.mean, t.sigma, mix_seed(seed, index, chunk), buffers[c].data());
      }
    });
    for (uint64_t c = 0; c < count; c++) sink(buffers[c].data(), buffers[c].size());
  }
}

}  // namespace

SynthSummary synthesize(const SynthOptions& o, const std::string& out_path) {
  if (!o.shape || !o.recipe) fail("synth: a shape and a type are required");
  const ModelShape& s = *o.shape;
  if (o.layers < 0 || o.layers > s.n_layer) fail("synth: --layers must be 1..", s.n_layer, " for ", s.name, ", got ", o.layers);
  const int n_layer = o.layers ? o.layers : s.n_layer;

  Metadata tokenizer = o.vocab_path.empty() ? generated_tokenizer(o.generated_vocab ? o.generated_vocab : s.n_vocab) : copy_tokenizer(o.vocab_path);
  const int n_vocab = vocab_size(tokenizer);
  if (!o.vocab_path.empty() && n_vocab != s.n_vocab)
    std::fprintf(stderr, "synth: note: '%s' has %d tokens, %s has %d; the embedding follows the vocabulary\n",
                 o.vocab_path.c_str(), n_vocab, std::string(s.name).c_str(), s.n_vocab);

  gguf::Writer writer;
  for (auto& [key, value] : model_metadata(s, *o.recipe, n_layer, n_vocab, o.seed)) writer.set(key, std::move(value));
  for (auto& [key, value] : tokenizer) writer.set(key, std::move(value));

  const std::vector<PlannedTensor> tensors = Planner(s, *o.recipe, n_layer, n_vocab).plan();
  SynthSummary summary;
  summary.n_vocab = n_vocab;
  for (const auto& t : tensors) {
    writer.declare_tensor(t.name, t.type, t.dims);
    uint64_t n = 1;
    for (uint64_t d : t.dims) n *= d;
    summary.n_params += n;
    summary.tensor_bytes += quant::row_bytes(quant::traits(t.type), n);
    summary.n_tensors++;
  }
  ThreadPool pool(o.threads);
  writer.write_streaming(out_path, [&](size_t index, const gguf::Writer::Sink& sink) {
    produce(tensors[index], index, o.seed, pool, sink);
  });
  return summary;
}

}  // namespace tandem::synth
