#include "server/slot.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "core/error.h"

namespace tandem::server {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

Slot::Slot(std::shared_ptr<const model::Model> model, const model::ContextOptions& options,
           const tokenizer::Tokenizer& tokenizer, const generate::TokenTexts& texts)
    : tokenizer_(tokenizer), texts_(texts), context_(std::move(model), options) {}

size_t Slot::shared_prefix(const std::vector<int32_t>& prompt) const {
  return size_t(std::mismatch(cached_.begin(), cached_.end(), prompt.begin(), prompt.end()).first - cached_.begin());
}

void Slot::start(std::shared_ptr<Job> job) {
  job_ = std::move(job);
  outcome_ = {};
  GenerationRequest& request = job_->request();
  const std::vector<int32_t>& prompt = request.prompt;
  outcome_.n_prompt = int(prompt.size());
  outcome_.queue_seconds = seconds_since(job_->submitted());
  if (job_->cancelled()) return finish(generate::FinishReason::Cancelled);

  const Clock::time_point prompt_start = Clock::now();
  try {
    if (prompt.empty()) fail("the prompt is empty");
    if (prompt.size() >= size_t(context_.n_ctx())) {
      fail("the prompt is ", prompt.size(), " tokens but the context holds ", context_.n_ctx(),
           " (shorten the prompt or start the server with a larger -c)");
    }
    for (int32_t id : prompt) {
      if (id < 0 || id >= context_.n_vocab()) fail("prompt token id ", id, " is outside the vocabulary");
    }
    // The same reuse rule as generate::Session, so outputs match sequential runs:
    // the last prompt token is always evaluated, its logits start the generation.
    const size_t reused = std::min(shared_prefix(prompt), prompt.size() - 1);
    context_.truncate(int(reused));
    cached_.resize(reused);
    context_.eval(std::span(prompt).subspan(reused), false);
    cached_ = prompt;
    outcome_.n_cached = int(reused);
  } catch (const std::exception& error) {
    cached_.resize(std::min(cached_.size(), size_t(context_.n_past())));
    outcome_.error = error.what();
    job_->finish(outcome_);
    job_.reset();
    return;
  }
  outcome_.prompt_seconds = seconds_since(prompt_start);

  sampler_.emplace(request.options.sampling);
  // Penalties look at the prompt too, as generate::Session does.
  for (int32_t token : prompt) sampler_->accept(token);
  stops_.emplace(request.options.stop);
  utf8_ = {};
  generate_start_ = Clock::now();
  if (request.options.max_tokens == 0) finish(generate::FinishReason::Length);
}

TokenLogprob Slot::logprob_of(int32_t id, const float* logits, int n_top) const {
  const int n_vocab = context_.n_vocab();
  const float max_logit = *std::max_element(logits, logits + n_vocab);
  double sum = 0;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(double(logits[i] - max_logit));
  const float log_sum = float(std::log(sum)) + max_logit;
  TokenLogprob result{id, logits[id] - log_sum, {}};
  if (n_top > 0) {
    std::vector<int32_t> order(static_cast<size_t>(n_vocab));
    for (int i = 0; i < n_vocab; ++i) order[size_t(i)] = i;
    const size_t k = std::min(size_t(n_top), order.size());
    std::partial_sort(order.begin(), order.begin() + long(k), order.end(), [&](int32_t a, int32_t b) {
      return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
    });
    for (size_t i = 0; i < k; ++i) result.top.push_back({order[i], logits[order[i]] - log_sum});
  }
  return result;
}

std::optional<int32_t> Slot::choose() {
  if (!job_) return std::nullopt;
  if (job_->cancelled()) {
    finish(generate::FinishReason::Cancelled);
    return std::nullopt;
  }
  GenerationRequest& request = job_->request();
  const int32_t n_vocab = context_.n_vocab();
  if (request.constraint) {
    if (request.constraint->fill_mask(texts_, allowed_) == 0) {
      finish(generate::FinishReason::Stop);  // nothing can continue the document
      return std::nullopt;
    }
    sampler_->set_allowed(&allowed_);
  }
  const float* logits = context_.logits(0);
  const int32_t id = sampler_->sample(logits, n_vocab);
  Piece piece;
  if (request.top_logprobs >= 0) piece.logprob = logprob_of(id, logits, request.top_logprobs);

  if (!request.options.ignore_eos && tokenizer_.is_end_of_generation(id)) {
    if (piece.logprob) job_->push(std::move(piece));
    finish(generate::FinishReason::Stop);
    return std::nullopt;
  }
  sampler_->accept(id);
  ++outcome_.n_generated;
  ++generated_total_;
  const std::string token_text = tokenizer_.token_to_piece(id, false);
  if (request.constraint) request.constraint->accept(token_text);
  piece.text = stops_->push(utf8_.push(token_text));
  job_->push(std::move(piece));

  if (stops_->stopped()) {
    finish(generate::FinishReason::Stop);
  } else if (request.options.max_tokens >= 0 && outcome_.n_generated >= request.options.max_tokens) {
    finish(generate::FinishReason::Length);
  } else if (context_.n_past() >= context_.n_ctx()) {
    finish(generate::FinishReason::ContextFull);
  } else {
    return id;
  }
  return std::nullopt;
}

void Slot::evaluate(int32_t token) {
  try {
    context_.eval(std::span(&token, 1), false);
    cached_.push_back(token);
  } catch (const std::exception& error) {
    outcome_.error = error.what();
    finish(generate::FinishReason::Stop);
  }
}

void Slot::cancel() {
  if (!job_) return;
  job_->cancel();
  finish(generate::FinishReason::Cancelled);
}

void Slot::finish(generate::FinishReason reason) {
  if (reason != generate::FinishReason::Cancelled && stops_ && !stops_->stopped()) {
    // Generation is over, so held-back bytes and stop-string prefixes are final.
    std::string tail = stops_->push(utf8_.flush());
    if (stops_->stopped()) reason = generate::FinishReason::Stop;
    tail += stops_->flush();
    if (!tail.empty()) job_->push(Piece{std::move(tail), std::nullopt});
  }
  outcome_.finish = reason;
  if (reason == generate::FinishReason::Cancelled) ++cancelled_total_;
  outcome_.generate_seconds = seconds_since(generate_start_);
  sampler_.reset();
  stops_.reset();
  job_->finish(outcome_);
  job_.reset();
}

}  // namespace tandem::server
