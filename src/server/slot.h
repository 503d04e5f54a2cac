// One sequence slot: a model::Context (its KV cache is this slot's partition),
// the tokens that cache holds, and the decode state of the job it is running.
//
// Generation is split into steps so that a scheduler can interleave slots:
//   start(job)   evaluates the prompt, reusing the cached prefix
//   choose()     samples the next token from the current logits and emits text
//   evaluate(t)  appends the chosen token (one forward pass for this sequence)
// The scheduler normally appends all slots' chosen tokens in one batched pass
// over their contexts (Scheduler::evaluate_chosen) and tells each slot with
// evaluated(t); evaluate(t) is the one-sequence fallback.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "generate/json_constraint.h"
#include "generate/sampler.h"
#include "generate/stop_matcher.h"
#include "model/context.h"
#include "server/job.h"
#include "tokenizer/tokenizer.h"

namespace tandem::server {

class Slot {
 public:
  Slot(std::shared_ptr<const model::Model> model, const model::ContextOptions& options,
       const tokenizer::Tokenizer& tokenizer, const generate::TokenTexts& texts);

  bool busy() const { return job_ != nullptr; }
  // How many leading tokens of `prompt` this slot's cache already holds.
  size_t shared_prefix(const std::vector<int32_t>& prompt) const;
  int n_ctx() const { return context_.n_ctx(); }

  // Takes the job and evaluates its prompt. Finishes the job (and frees the
  // slot) on error or when it was cancelled meanwhile.
  void start(std::shared_ptr<Job> job);
  // The token to evaluate next, or nullopt when the job finished in this step.
  std::optional<int32_t> choose();
  void evaluate(int32_t token);
  // The context for a batched step, and the note that `token` was appended to it.
  model::Context& context() { return context_; }
  void evaluated(int32_t token) { cached_.push_back(token); }
  void cancel();  // finishes the running job, if any, as cancelled

  // Counters for metrics.
  int64_t generated_total() const { return generated_total_; }
  int64_t cancelled_total() const { return cancelled_total_; }

 private:
  void finish(generate::FinishReason reason);
  TokenLogprob logprob_of(int32_t id, const float* logits, int n_top) const;

  const tokenizer::Tokenizer& tokenizer_;
  const generate::TokenTexts& texts_;
  model::Context context_;
  std::vector<int32_t> cached_;  // tokens at positions [0, n_past)

  // The running job.
  std::shared_ptr<Job> job_;
  std::optional<generate::Sampler> sampler_;
  std::optional<generate::StopMatcher> stops_;
  tokenizer::Utf8Stream utf8_;
  std::vector<bool> allowed_;
  Outcome outcome_;
  std::chrono::steady_clock::time_point generate_start_;
  int64_t generated_total_ = 0, cancelled_total_ = 0;
};

}  // namespace tandem::server
