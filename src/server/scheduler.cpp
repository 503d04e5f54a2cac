#include "server/scheduler.h"

#include <algorithm>

namespace tandem::server {

Scheduler::Scheduler(std::shared_ptr<const model::Model> model, const tokenizer::Tokenizer& tokenizer,
                     const generate::TokenTexts& texts, const SchedulerOptions& options)
    : options_(options), tokenizer_(tokenizer) {
  options_.n_slots = std::max(1, options.n_slots);
  options_.queue_capacity = std::max(0, options.queue_capacity);
  for (int i = 0; i < options_.n_slots; ++i) {
    slots_.push_back(std::make_unique<Slot>(model, options_.context, tokenizer, texts, options_.draft));
  }
  last_used_.assign(slots_.size(), 0);
  reserved_.assign(slots_.size(), false);
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  for (auto& job : waiting_) {
    Outcome outcome;
    outcome.finish = generate::FinishReason::Cancelled;
    outcome.error = "the server is shutting down";
    job->finish(outcome);
  }
}

int Scheduler::n_ctx() const { return slots_.front()->n_ctx(); }

std::shared_ptr<Job> Scheduler::submit(GenerationRequest request) {
  auto job = std::make_shared<Job>(std::move(request));
  {
    std::lock_guard lock(mutex_);
    // Jobs in waiting_ take free slots at the scheduler's next iteration, so only
    // those beyond the free slots are queued.
    const size_t free_slots = size_t(std::count(reserved_.begin(), reserved_.end(), false));
    if (waiting_.size() >= free_slots + size_t(options_.queue_capacity)) {
      throw QueueFull("all " + std::to_string(slots_.size()) + " slots are busy and the queue holds " +
                      std::to_string(options_.queue_capacity) + " requests; retry later");
    }
    waiting_.push_back(job);
  }
  wake_.notify_all();
  return job;
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard lock(mutex_);
  SchedulerStats s;
  s.slots_total = int(slots_.size());
  s.slots_busy = int(std::count(reserved_.begin(), reserved_.end(), true));
  s.queue_depth = int(waiting_.size());
  for (const auto& slot : slots_) {
    s.generated_tokens += slot->generated_total();
    s.cancelled += slot->cancelled_total();
  }
  return s;
}

// Under no lock: slots are touched only by the scheduler thread; reserved_ and
// waiting_ are shared with submit() and guarded by mutex_.
std::vector<std::pair<Slot*, std::shared_ptr<Job>>> Scheduler::admit_waiting() {
  std::vector<std::pair<Slot*, std::shared_ptr<Job>>> admitted;
  std::lock_guard lock(mutex_);
  while (!waiting_.empty()) {
    int best = -1;
    size_t best_prefix = 0;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (reserved_[i]) continue;
      const size_t prefix = slots_[i]->shared_prefix(waiting_.front()->request().prompt);
      if (best < 0 || prefix > best_prefix || (prefix == best_prefix && last_used_[i] < last_used_[size_t(best)])) {
        best = int(i);
        best_prefix = prefix;
      }
    }
    if (best < 0) break;
    reserved_[size_t(best)] = true;
    last_used_[size_t(best)] = ++clock_;
    admitted.emplace_back(slots_[size_t(best)].get(), std::move(waiting_.front()));
    waiting_.pop_front();
  }
  return admitted;
}

void Scheduler::evaluate_chosen(const std::vector<std::pair<Slot*, int32_t>>& chosen) {
  if (chosen.empty()) return;
  std::vector<model::Context*> contexts;
  std::vector<int32_t> tokens;
  std::vector<Slot*> batched;
  for (const auto& [slot, token] : chosen) {
    // A speculative slot verifies its drafts in a pass of its own.
    if (slot->speculative()) {
      slot->evaluate(token);
      continue;
    }
    contexts.push_back(&slot->context());
    tokens.push_back(token);
    batched.push_back(slot);
  }
  if (batched.empty()) return;
  try {
    model::Context::eval_step(contexts, tokens);
  } catch (const std::exception&) {
    // eval_step refuses before changing any context, so evaluating one by one is
    // safe, and lets only the slot at fault finish with the error.
    for (size_t i = 0; i < batched.size(); ++i) batched[i]->evaluate(tokens[i]);
    return;
  }
  for (size_t i = 0; i < batched.size(); ++i) batched[i]->evaluated(tokens[i]);
}

void Scheduler::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] {
        return stopping_ || !waiting_.empty() || std::find(reserved_.begin(), reserved_.end(), true) != reserved_.end();
      });
      if (stopping_) break;
    }
    for (auto& [slot, job] : admit_waiting()) slot->start(std::move(job));

    std::vector<std::pair<Slot*, int32_t>> chosen;
    for (auto& slot : slots_) {
      if (!slot->busy()) continue;
      if (auto token = slot->choose()) chosen.emplace_back(slot.get(), *token);
    }
    evaluate_chosen(chosen);

    std::lock_guard lock(mutex_);
    for (size_t i = 0; i < slots_.size(); ++i) reserved_[i] = slots_[i]->busy();
  }
  // Shutting down: running jobs end as cancelled.
  for (auto& slot : slots_) slot->cancel();
}

}  // namespace tandem::server
