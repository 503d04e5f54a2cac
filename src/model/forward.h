// The forward pass over a batch of rows that may belong to different sequences.
// Internal to model/: Context::eval runs it for one sequence (a run of prompt
// tokens), Context::eval_step for several sequences at one token each. Either
// way every weight matrix is read once per pass for all rows.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "model/context.h"
#include "model/kv_cache.h"

namespace tandem::model {

// Consecutive rows of one sequence: rows [first_row, first_row+n_rows) take
// positions [first_pos, first_pos+n_rows) of `kv` and attend to its positions [0, their own].
struct Segment {
  KvCache* kv = nullptr;
  int first_pos = 0;
  int first_row = 0;
  int n_rows = 0;
};

struct Batch {
  std::span<const int32_t> tokens;  // one per row
  std::span<const Segment> segments;  // cover the rows in order
  std::span<const int> output_rows;   // rows whose logits are wanted, ascending
};

// Activations of one pass; grows to the largest batch it has seen.
struct Scratch {
  std::vector<int> positions;
  std::vector<float> x, h, q, k, v, qkv, attn, ffn_a, ffn_b, ffn_ab;
  // Per rotation kind (global layers, then local ones when they rotate differently), per
  // row, rope_dims / 2 each: the same for every layer of that kind.
  std::vector<float> rope_cos, rope_sin;
};

// Runs the batch through every layer, storing each row's K and V in its segment's
// cache, and writes the logits of output_rows, in order, to `logits` (one n_vocab row each).
void forward(const Model& model, const Batch& batch, Scratch& scratch, ThreadPool& pool, float* logits);

}  // namespace tandem::model
