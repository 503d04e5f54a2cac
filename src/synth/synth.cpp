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
  std::vector<float> fixed;    // computed values (rope factors) instead of random ones
};

// Llama 3.1-style rope scaling as llama.cpp's converter writes rope_freqs.weight
// (factor 32, low/high frequency factors 1 and 4, original context 8192).
std::vector<float> llama3_rope_factors(const ModelShape& s) {
  const double factor = 32, low_freq_factor = 1, high_freq_factor = 4, original_ctx = 8192;
  const double low_wavelen = original_ctx / low_freq_factor, high_wavelen = original_ctx / high_freq_factor;
  std::vector<float> out;
  for (int i = 0; i < s.dim_rope(); i += 2) {
    const double freq = 1.0 / std::pow((double)s.rope_base, (double)i / s.dim_rope());
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

// Phi-3-style long-context factors: short ones near 1, long ones rising to the context
// ratio over the low frequencies, the form the published factors have.
std::vector<float> longrope_factors(const ModelShape& s, bool long_factors) {
  const int n = s.dim_rope() / 2;
  const double ratio = (double)s.n_ctx / s.longrope_ctx;
  std::vector<float> out(n);
  for (int i = 0; i < n; i++) out[i] = long_factors ? (float)(1.0 + (ratio - 1.0) * i / std::max(1, n - 1)) : 1.0f;
  return out;
}

Role role_of(TensorKind kind) {
  switch (kind) {
    case TensorKind::TokenEmbd: return Role::TokenEmbd;
    case TensorKind::Output: return Role::Output;
    case TensorKind::AttnQ: return Role::AttnQ;
    case TensorKind::AttnK: return Role::AttnK;
    case TensorKind::AttnV: return Role::AttnV;
    case TensorKind::AttnQKV: return Role::AttnQKV;
    case TensorKind::AttnOutput: return Role::AttnOutput;
    case TensorKind::FfnGate: return Role::FfnGate;
    case TensorKind::FfnUp: return Role::FfnUp;
    default: return Role::FfnDown;
  }
}

// Types and value distributions for the shape's tensors. Vectors stay F32, as llama.cpp's
// converter and quantizer keep them.
std::vector<PlannedTensor> plan_tensors(const ModelShape& s, const SynthOptions& o, int n_layer, int n_vocab) {
  std::vector<PlannedTensor> out;
  for (ShapeTensor& t : shape_tensors(s, n_layer, n_vocab)) {
    PlannedTensor p{.name = t.name, .type = Type::F32, .dims = t.dims, .fixed = {}};
    switch (t.kind) {
      case TensorKind::Norm: p.mean = 1.0f, p.sigma = 0.02f; break;
      case TensorKind::OutputNorm: p.mean = o.output_norm_mean, p.sigma = o.output_norm_sigma; break;
      case TensorKind::Bias: p.sigma = 0.02f; break;
      case TensorKind::RopeFreqs: p.fixed = llama3_rope_factors(s); break;
      case TensorKind::RopeFactorsLong: p.fixed = longrope_factors(s, true); break;
      case TensorKind::RopeFactorsShort: p.fixed = longrope_factors(s, false); break;
      default: {
        const TensorSlot slot{role_of(t.kind), t.layer, n_layer, s.n_head / s.n_head_kv, t.dims[0], !s.tied_output};
        p.type = tensor_type(*o.recipe, slot);
        p.sigma = (float)(1.0 / std::sqrt((double)t.dims[0]));
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

Metadata model_metadata(const ModelShape& s, const RecipeInfo& r, int n_layer, int n_vocab, uint64_t seed) {
  const model::Arch* arch = model::find_arch(s.arch);
  const std::string a = s.arch + ".";
  Metadata m;
  auto u32 = [&](const std::string& key, uint32_t v) { m.emplace_back(a + key, gguf::Value::u32(v)); };
  auto f32 = [&](const std::string& key, float v) { m.emplace_back(a + key, gguf::Value::f32(v)); };
  m.emplace_back("general.architecture", gguf::Value::string(s.arch));
  m.emplace_back("general.name", gguf::Value::string("synthetic " + s.name + " " + std::string(r.name)));
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
  u32("rope.dimension_count", (uint32_t)s.dim_rope());
  if (s.rope_scale > 0) {
    m.emplace_back(a + "rope.scaling.type", gguf::Value::string("linear"));
    f32("rope.scaling.factor", s.rope_scale);
  }
  if (s.longrope_ctx) {  // as the converter writes Phi-3's: sqrt(1 + ln(ctx ratio) / ln(original context))
    u32("rope.scaling.original_context_length", (uint32_t)s.longrope_ctx);
    const double ratio = (double)s.n_ctx / s.longrope_ctx;
    f32("rope.scaling.attn_factor", ratio > 1 ? (float)std::sqrt(1 + std::log(ratio) / std::log((double)s.longrope_ctx)) : 1.0f);
  }
  if (s.sliding_window) u32("attention.sliding_window", (uint32_t)s.sliding_window);
  if (arch && arch->attn_soft_cap) {
    f32("attn_logit_softcapping", 50.0f);
    f32("final_logit_softcapping", 30.0f);
  }
  if (arch && arch->scales == model::StreamScales::Mup) {  // MiniCPM-2B: scale_emb 12, scale_depth 1.4, dim_model_base 256
    f32("embedding_scale", 12.0f);
    f32("residual_scale", 1.4f / std::sqrt((float)s.n_layer));
    f32("logit_scale", (float)s.n_embd / 256.0f);
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

  Metadata tokenizer = o.vocab_path.empty() ? generated_tokenizer(o.generated_vocab ? o.generated_vocab : s.n_vocab)
                                            : slice_tokenizer(copy_tokenizer(o.vocab_path), o.vocab_slice);
  const int n_vocab = vocab_size(tokenizer);
  if (!o.vocab_path.empty() && n_vocab != s.n_vocab && o.vocab_slice.keep == 0)
    std::fprintf(stderr, "synth: note: '%s' has %d tokens, %s has %d; the embedding follows the vocabulary\n",
                 o.vocab_path.c_str(), n_vocab, s.name.c_str(), s.n_vocab);

  gguf::Writer writer;
  for (auto& [key, value] : model_metadata(s, *o.recipe, n_layer, n_vocab, o.seed)) writer.set(key, std::move(value));
  for (auto& [key, value] : tokenizer) writer.set(key, std::move(value));
  for (const auto& [key, value] : o.extra_metadata) writer.set(key, value);

  const std::vector<PlannedTensor> tensors = plan_tensors(s, o, n_layer, n_vocab);
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
