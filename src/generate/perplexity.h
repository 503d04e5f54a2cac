// Mean negative log-likelihood of a token sequence under a model: each token is
// scored given all the tokens before it in its window. And the KL divergence of one
// model's next-token distributions from another's (a "KL base" file) on the same tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/context.h"

namespace tandem::generate {

struct PerplexityResult {
  double mean_nll = 0;     // natural log
  double perplexity = 0;   // exp(mean_nll)
  int64_t n_scored = 0;
  int n_windows = 0;
};

// Splits `tokens` into consecutive windows of at most n_ctx tokens. Within a window
// every token after the first is scored given its prefix in that window (the first
// has no prefix there). A sequence that fits one window scores tokens 1..n-1.
PerplexityResult perplexity(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                            int n_threads, quant::Type kv_type = quant::Type::F32);

// A KL base file (little-endian), written by the reference model:
//   char[8]  "TDMKLB01"
//   uint32   n_vocab, n_ctx, n_windows, n_tokens
//   int32    tokens[n_tokens]
//   then one record per scored position, in the order perplexity() scores them
//   (n_scored = sum over windows of their length - 1):
//     int32  top-1 token of the reference
//     float  reference NLL of the actual next token
//     uint16 log-probabilities (log-softmax of the logits) as IEEE half [n_vocab]
// Half precision keeps the file at ~2 bytes per vocabulary entry and position; the
// reader renormalizes each row, so rounding cannot make a divergence negative.
struct KlBaseInfo {
  int n_vocab = 0, n_ctx = 0, n_windows = 0;
  std::vector<int32_t> tokens;
};

// Scores `tokens` like perplexity() and writes the reference distributions to `path`.
PerplexityResult write_kl_base(std::shared_ptr<const model::Model> model, const std::vector<int32_t>& tokens, int n_ctx,
                               int n_threads, quant::Type kv_type, const std::string& path);

// The header and tokens of a KL base file; an Error names what is wrong with it.
KlBaseInfo read_kl_base_info(const std::string& path);

struct KlResult {
  int64_t n_scored = 0;
  double mean_kl = 0, kl_stderr = 0;  // KL(reference || model), nats per token
  double max_kl = 0;
  double top1_agreement = 0, top1_stderr = 0;  // fraction of positions whose argmax matches
  double base_ppl = 0, ppl = 0;  // the reference's and this model's perplexity on the same tokens
  double delta_ppl() const { return ppl - base_ppl; }
};

// Runs `model` over the base file's tokens with its context and compares every
// scored position. An Error when the vocabulary sizes differ.
KlResult kl_divergence(std::shared_ptr<const model::Model> model, const std::string& base_path, int n_threads,
                       quant::Type kv_type);

}  // namespace tandem::generate
