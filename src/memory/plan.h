// The memory of a run, predicted before anything is loaded: mapped weights, the KV
// cache, the forward pass's scratch buffers and fixed overheads. The model is read
// from a GGUF header only (never tensor data), so planning a 13B file is instant.
// See docs/memory.md for the model and its measured accuracy.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "quant/types.h"

namespace tandem::gguf {
class File;
}

namespace tandem::memory {

struct WeightGroup {
  quant::Type type;
  int n_tensors = 0;
  uint64_t bytes = 0;
};

// What the plan needs to know about a model.
struct ModelLayout {
  std::string arch;
  int n_vocab = 0, n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, head_dim = 0, n_ff = 0;
  int n_ctx_train = 0;              // 0: unknown
  bool fused_qkv = false;           // one attn_qkv matrix (phi3)
  bool fused_gate_up = false;       // ffn_up holds [gate | up] (phi3)
  bool local_rope = false;          // local layers rotate by their own angles (gemma3): a second table
  std::vector<WeightGroup> weights;  // tensor data by type
  uint64_t repacked_bytes = 0;      // of which moved into a repacked layout at load (see below)
  uint64_t header_bytes = 0;        // metadata + tensor table: mapped and read at load
  uint64_t n_merges = 0;            // BPE merges (the tokenizer keeps a table of them)

  int n_embd_q() const { return n_head * head_dim; }
  int n_embd_kv() const { return n_head_kv * head_dim; }
  uint64_t weight_bytes() const;
};

// From the header of an open GGUF file; an Error names a missing hyper-parameter.
ModelLayout layout_from_gguf(const gguf::File& file);

struct PlanOptions {
  int n_ctx = 0;                        // 0: what a run picks (training context, capped at 4096)
  quant::Type kv_type = quant::Type::F16;
  int n_batch = 256;                    // prompt tokens per forward pass (forward.cpp's kMaxBatch)
  bool all_logits = false;              // keep logits of every batch position (perplexity), not just the last
};

struct Plan {
  int n_ctx = 0;
  quant::Type kv_type = quant::Type::F16;
  std::vector<WeightGroup> weights;
  uint64_t weights_bytes = 0;
  uint64_t repacked_bytes = 0;  // part of weights_bytes: anonymous memory instead of file pages
  uint64_t kv_bytes_per_token = 0;  // K and V, all layers
  uint64_t kv_bytes = 0;
  std::vector<std::pair<std::string, uint64_t>> compute;  // named scratch buffers
  uint64_t compute_bytes = 0;
  std::vector<std::pair<std::string, uint64_t>> overhead;  // process, header, tokenizer
  uint64_t overhead_bytes = 0;
  uint64_t total_bytes = 0;  // predicted peak resident memory
};

// The context a run uses when none is given (model::Context's rule).
int default_context(const ModelLayout& model);

Plan make_plan(const ModelLayout& model, const PlanOptions& options);

// The largest context (a multiple of 256, at most max_ctx) whose plan fits `budget`;
// 0 when not even 256 tokens fit.
int largest_context(const ModelLayout& model, PlanOptions options, uint64_t budget, int max_ctx);

// "4GiB", "512MiB", "1.5G", "800M", "123456" (bytes); an Error otherwise.
uint64_t parse_size(const std::string& text);
std::string human_bytes(uint64_t bytes);

}  // namespace tandem::memory
