#include "memory/plan.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/error.h"
#include "gguf/file.h"
#include "model/weights.h"

namespace tandem::memory {
namespace {

// Fixed costs, measured on this machine with bench/memory (docs/memory.md): the process
// itself (binary, C++ runtime, thread stacks touched) and the tokenizer's tables per
// vocabulary entry (the parsed GGUF arrays plus the tokenizer's own strings and hash
// maps) and per merge: `tandem tokenize` peaks at 10.0 MiB on tinyllama (32000 entries)
// and 50.7 MiB on qwen2.5 (151936 entries, 151387 merges). The CLI's shared libraries count
// too: the assistant's document readers (poppler with its image and font libraries, libxml2
// with ICU) and libedit added 1.5-3.4 MiB of peak RSS to `tandem run`.
constexpr uint64_t kProcessBytes = 11ull << 20;
// Kernel scratch: the legacy tile's prepared activation rows (1.25 bytes per value of a
// batch row, one buffer shared by the threads since session 4; per thread before), and
// since session 6 Q6_K's (1.07 bytes per value; a second buffer only in a call that mixes
// the two layouts, Q4_K_M's q/k/v at n_embd wide), each thread's decoded weight rows (a
// panel of 16-24 rows since session 5: ~0.2 MiB at 5632 wide) and attention tiles, and
// the decode kernels' regrouped row;
// counted as 2 bytes per value of the widest batch row for 2 threads (fitted on
// bench/memory's models in session 3; session 4's table is within -0.37..+0.50%).
constexpr uint64_t kKernelScratchBytesPerValue = 2 * 2;
constexpr uint64_t kBytesPerVocabEntry = 152;
// The sampler's per-vocabulary buffers at their largest (generate/sampler.h): candidates
// (id, logit), their double weights, the penalised logits.
constexpr uint64_t kSamplerBytesPerVocabEntry = 8 + 8 + 4;
constexpr uint64_t kBytesPerMerge = 128;
// Heap the allocator keeps after a forward pass's temporaries (per-call rows, attention
// scores, per-thread activation buffers) are freed: fitted on the bench/memory models as
// three batch x n_embd float arrays (tinyllama +6.1 MiB, qwen2.5 +2.1 MiB, stories ~0).
constexpr uint64_t kSlackBatchArrays = 3;
// Quantized activations are ~1.07 bytes per value (Q8_0 / Q8_K rows); 9/8 bounds both.
// BF16 matrices read bf16 rows where the CPU has AVX512-BF16: 2 bytes per value, counted
// whenever the model has them.
constexpr double kActivationBytesPerValue = 9.0 / 8.0, kBf16ActivationBytesPerValue = 2.0;

uint64_t floats(uint64_t n) { return n * sizeof(float); }

}  // namespace

uint64_t ModelLayout::weight_bytes() const {
  uint64_t total = 0;
  for (const WeightGroup& g : weights) total += g.bytes;
  return total;
}

ModelLayout layout_from_gguf(const gguf::File& f) {
  ModelLayout m;
  m.arch = f.get_string("general.architecture");
  if (const model::Arch* arch = model::find_arch(m.arch)) m.local_rope = arch->local_rope;
  const std::string p = m.arch + ".";
  m.n_embd = int(f.get_uint(p + "embedding_length"));
  m.n_layer = int(f.get_uint(p + "block_count"));
  m.n_head = int(f.get_uint(p + "attention.head_count"));
  m.n_head_kv = int(f.find_uint(p + "attention.head_count_kv").value_or(uint64_t(m.n_head)));
  m.n_ff = int(f.get_uint(p + "feed_forward_length"));
  m.n_ctx_train = int(f.find_uint(p + "context_length").value_or(2048));
  if (m.n_head <= 0 || m.n_head_kv <= 0) fail("'", f.path(), "': head counts must be positive");
  m.head_dim = int(f.find_uint(p + "attention.key_length").value_or(uint64_t(m.n_embd / m.n_head)));
  if (const auto* tokens = f.find("tokenizer.ggml.tokens")) m.n_vocab = int(tokens->array_size());
  if (const auto* merges = f.find("tokenizer.ggml.merges")) m.n_merges = merges->array_size();
  std::map<quant::Type, WeightGroup> groups;
  for (const auto& t : f.tensors()) {
    WeightGroup& g = groups[t.type];
    g.type = t.type;
    g.n_tensors++;
    g.bytes += t.n_bytes;
    if (t.name.find("attn_qkv.weight") != std::string::npos) m.fused_qkv = true;
    if (t.name == "blk.0.ffn_up.weight" && !f.find_tensor("blk.0.ffn_gate.weight")) m.fused_gate_up = true;
    if (m.n_vocab == 0 && t.name == "token_embd.weight" && t.dims.size() > 1) m.n_vocab = int(t.dims[1]);
    if (model::repacked_at_load(t.name, t.type, !f.find_tensor("output.weight"))) m.repacked_bytes += t.n_bytes;
  }
  for (const auto& [type, g] : groups) m.weights.push_back(g);
  m.header_bytes = f.data_offset();
  return m;
}

int default_context(const ModelLayout& m) { return std::min(m.n_ctx_train > 0 ? m.n_ctx_train : 4096, 4096); }

Plan make_plan(const ModelLayout& m, const PlanOptions& o) {
  Plan plan;
  plan.n_ctx = o.n_ctx > 0 ? o.n_ctx : default_context(m);
  plan.kv_type = o.kv_type;
  plan.weights = m.weights;
  plan.weights_bytes = m.weight_bytes();
  plan.repacked_bytes = m.repacked_bytes;

  // KV cache: K and V rows of n_head_kv x head_dim values per layer and position.
  const uint64_t n_ctx = uint64_t(plan.n_ctx);
  const uint64_t dkv = uint64_t(m.n_embd_kv()), dq = uint64_t(m.n_embd_q());
  plan.kv_bytes_per_token = 2 * uint64_t(m.n_layer) * quant::row_bytes(quant::traits(o.kv_type), dkv);
  plan.kv_bytes = plan.kv_bytes_per_token * n_ctx;

  // Scratch of one forward pass (model/forward.cpp), sized for a full batch.
  const uint64_t batch = uint64_t(std::min(o.n_batch, plan.n_ctx));
  const uint64_t d = uint64_t(m.n_embd), ff = uint64_t(m.n_ff), vocab = uint64_t(m.n_vocab);
  auto& c = plan.compute;
  c.emplace_back("residual + normed (x, h)", floats(2 * batch * d));
  c.emplace_back("q + attention output", floats(2 * batch * dq));
  c.emplace_back("k + v of the batch", floats(2 * batch * dkv));
  if (m.fused_qkv) c.emplace_back("fused qkv", floats(batch * (dq + 2 * dkv)));
  c.emplace_back("ffn gate + up", floats(2 * batch * ff));
  if (m.fused_gate_up) c.emplace_back("fused gate|up", floats(batch * 2 * ff));
  c.emplace_back("logits", floats((o.all_logits ? batch : 1) * vocab));
  c.emplace_back("rope angles (cos, sin per row)", floats((m.local_rope ? 2 : 1) * batch * uint64_t(m.head_dim)));  // rope_dims <= head_dim
  // Attention reads the cache rows in place (kernels/attention.h); its per-thread tile
  // buffers (a few hundred KiB at most) fit in the process overhead: no KV-sized scratch.
  const uint64_t widest = std::max({d, ff, dq});
  const bool bf16_rows = std::any_of(m.weights.begin(), m.weights.end(),
                                     [](const WeightGroup& g) { return g.type == quant::Type::BF16; });
  c.emplace_back("quantized activations",
                 uint64_t(std::ceil(batch * widest * (kActivationBytesPerValue + (bf16_rows ? kBf16ActivationBytesPerValue : 0)))));
  for (const auto& part : c) plan.compute_bytes += part.second;

  auto& v = plan.overhead;
  v.emplace_back("process (binary, runtime)", kProcessBytes);
  v.emplace_back("kernel scratch (2 threads' tiles)", kKernelScratchBytesPerValue * batch * widest);
  v.emplace_back("GGUF header (mapped)", m.header_bytes);
  v.emplace_back("tokenizer tables", uint64_t(m.n_vocab) * kBytesPerVocabEntry + m.n_merges * kBytesPerMerge);
  v.emplace_back("sampler buffers", uint64_t(m.n_vocab) * kSamplerBytesPerVocabEntry);
  v.emplace_back("allocator slack (3 x batch x n_embd floats)", floats(kSlackBatchArrays * batch * d));
  for (const auto& part : v) plan.overhead_bytes += part.second;

  plan.total_bytes = plan.weights_bytes + plan.kv_bytes + plan.compute_bytes + plan.overhead_bytes;
  return plan;
}

int largest_context(const ModelLayout& m, PlanOptions o, uint64_t budget, int max_ctx) {
  constexpr int kStep = 256;
  int best = 0;
  // Memory grows with the context, so a binary search over multiples of kStep suffices.
  int lo = 1, hi = max_ctx / kStep;
  while (lo <= hi) {
    const int mid = lo + (hi - lo) / 2;
    o.n_ctx = mid * kStep;
    if (make_plan(m, o).total_bytes <= budget) {
      best = o.n_ctx;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

uint64_t parse_size(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    fail("'", text, "' is not a size (examples: 4GiB, 512MiB, 1.5G, 800M, 123456)");
  }
  std::string unit = text.substr(used);
  for (char& ch : unit) ch = char(std::toupper((unsigned char)ch));
  if (!unit.empty() && unit.back() == 'B') unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'I') unit.pop_back();  // KiB/MiB/GiB: binary, like K/M/G
  static const std::map<std::string, double> kUnits = {
      {"", 1}, {"K", 1024.0}, {"M", 1048576.0}, {"G", 1073741824.0}, {"T", 1099511627776.0}};
  const auto it = kUnits.find(unit);
  if (it == kUnits.end() || value < 0) fail("'", text, "' is not a size (examples: 4GiB, 512MiB, 1.5G, 800M, 123456)");
  return uint64_t(value * it->second);
}

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double b = double(bytes);
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, u++;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", b, units[u]);
  return buf;
}

}  // namespace tandem::memory
