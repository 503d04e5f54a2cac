#include "server/slot.h"

namespace tandem::server {

Slot::Slot(std::shared_ptr<const model::Model> model, const model::ContextOptions& options,
           const tokenizer::Tokenizer& tokenizer, const generate::TokenTexts& texts,
           std::shared_ptr<const model::Model> draft)
    : tokenizer_(tokenizer), texts_(texts), sequence_(std::move(model), options) {
  if (draft) {
    model::ContextOptions draft_options = options;
    draft_options.n_ctx = sequence_.n_ctx();
    draft_ = std::make_unique<generate::Sequence>(std::move(draft), draft_options);
  }
}

void Slot::start(std::shared_ptr<Job> job) {
  job_ = std::move(job);
  queue_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - job_->submitted()).count();
  Outcome refused;
  refused.n_prompt = int(job_->request().prompt.size());
  refused.queue_seconds = queue_seconds_;
  if (job_->cancelled()) {
    refused.finish = generate::FinishReason::Cancelled;
    ++cancelled_total_;
  } else {
    try {
      generation_.emplace(sequence_, tokenizer_, job_->request().prompt, job_->request().options, &texts_, draft_.get());
      if (generation_->finished()) finish();  // max_tokens 0
      return;
    } catch (const std::exception& error) {
      refused.error = error.what();
    }
  }
  job_->finish(refused);
  job_.reset();
}

std::optional<int32_t> Slot::choose() {
  if (!job_) return std::nullopt;
  if (job_->cancelled()) {
    generation_->cancel();
  } else {
    // Verified drafts need no evaluation: choose on until a token does.
    do {
      const size_t before = generation_->tokens().size();
      generate::Piece piece = generation_->choose();
      generated_total_ += int64_t(generation_->tokens().size() - before);
      if (!piece.empty()) job_->push(std::move(piece));
    } while (!generation_->finished() && !generation_->waiting_for_evaluation() && !job_->cancelled());
    if (!generation_->finished() && job_->cancelled()) generation_->cancel();
  }
  if (!generation_->finished()) return generation_->next_token();
  finish();
  return std::nullopt;
}

void Slot::evaluate(int32_t token) {
  try {
    generation_->evaluate();
  } catch (const std::exception& error) {
    generation_->finish_with_error(error.what());
    finish();
  }
}

void Slot::evaluated(int32_t) { generation_->evaluated(); }

void Slot::cancel() {
  if (!job_) return;
  job_->cancel();
  generation_->cancel();
  finish();
}

void Slot::finish() {
  Outcome outcome = generation_->outcome();
  outcome.queue_seconds = queue_seconds_;
  if (outcome.finish == generate::FinishReason::Cancelled) ++cancelled_total_;
  generation_.reset();
  job_->finish(outcome);
  job_.reset();
}

}  // namespace tandem::server
