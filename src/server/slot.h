// One sequence slot: a generate::Sequence (its KV cache is this slot's partition)
// and the job it is running. The generation itself is a generate::Generation; the
// slot adds only the job plumbing (pieces and the outcome go to the Job) and the
// split the scheduler batches on:
//   start(job)   evaluates the prompt, reusing the cached prefix
//   choose()     the generation's step: the next token, or nullopt when the job finished
//   evaluated(t) the scheduler appended the chosen tokens of all slots in one batched
//                pass over their contexts (Scheduler::evaluate_chosen); evaluate(t) is
//                the one-sequence fallback.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "generate/generation.h"
#include "server/job.h"

namespace tandem::server {

class Slot {
 public:
  // `draft`: a draft model for speculative requests (nullptr: none).
  Slot(std::shared_ptr<const model::Model> model, const model::ContextOptions& options,
       const tokenizer::Tokenizer& tokenizer, const generate::TokenTexts& texts,
       std::shared_ptr<const model::Model> draft = nullptr);

  bool busy() const { return job_ != nullptr; }
  // How many leading tokens of `prompt` this slot's cache already holds.
  size_t shared_prefix(const std::vector<int32_t>& prompt) const { return sequence_.shared_prefix(prompt); }
  int n_ctx() const { return sequence_.n_ctx(); }

  // Takes the job and evaluates its prompt. Finishes the job (and frees the
  // slot) on error or when it was cancelled meanwhile.
  void start(std::shared_ptr<Job> job);
  // The token to evaluate next, or nullopt when the job finished in this step. A
  // speculative job may choose several tokens (verified drafts) in one call.
  std::optional<int32_t> choose();
  bool speculative() const { return generation_ && generation_->speculative(); }
  void evaluate(int32_t token);
  // The context for a batched step, and the note that `token` was appended to it.
  model::Context& context() { return sequence_.context(); }
  void evaluated(int32_t token);
  void cancel();  // finishes the running job, if any, as cancelled

  // Counters for metrics.
  int64_t generated_total() const { return generated_total_; }
  int64_t cancelled_total() const { return cancelled_total_; }

 private:
  void finish();

  const tokenizer::Tokenizer& tokenizer_;
  const generate::TokenTexts& texts_;
  generate::Sequence sequence_;
  std::unique_ptr<generate::Sequence> draft_;

  // The running job.
  std::shared_ptr<Job> job_;
  std::optional<generate::Generation> generation_;
  double queue_seconds_ = 0;
  int64_t generated_total_ = 0, cancelled_total_ = 0;
};

}  // namespace tandem::server
