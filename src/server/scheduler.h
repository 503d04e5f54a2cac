// Runs generation jobs on N slots that share one model, from one scheduler thread.
//
// Each loop iteration: admit waiting jobs into free slots (each goes to the free
// slot whose cache shares the longest prefix with its prompt, so a shared system
// prompt is not recomputed), evaluate their prompts, then one decode round: every
// busy slot chooses its next token, and evaluate_chosen() appends all of them in
// one batched forward pass (continuous batching: each token at its own position
// in its own slot's KV cache, the weights read once per round for all slots).
//
// Jobs beyond the slots wait in a bounded FIFO queue; submit() refuses more.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "model/context.h"
#include "server/job.h"
#include "server/slot.h"

namespace tandem::server {

struct SchedulerOptions {
  int n_slots = 1;
  int queue_capacity = 16;  // jobs waiting for a slot
  model::ContextOptions context;
  std::shared_ptr<const model::Model> draft;  // speculative decoding: each slot gets a draft sequence
};

struct SchedulerStats {
  int slots_total = 0, slots_busy = 0, queue_depth = 0;
  int64_t generated_tokens = 0, cancelled = 0;
};

class QueueFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A generate::Generator: the routed generation runs the device tier through it.
class Scheduler : public generate::Generator {
 public:
  // The tokenizer and texts must outlive the scheduler.
  Scheduler(std::shared_ptr<const model::Model> model, const tokenizer::Tokenizer& tokenizer,
            const generate::TokenTexts& texts, const SchedulerOptions& options);
  ~Scheduler() override;  // cancels everything and joins the thread

  // Throws QueueFull when all slots are busy and the queue holds queue_capacity jobs.
  std::shared_ptr<Job> submit(GenerationRequest request);
  SchedulerStats stats() const;

  // generate::Generator
  std::shared_ptr<generate::PieceStream> start(GenerationRequest request) override { return submit(std::move(request)); }
  const tokenizer::Tokenizer& tokenizer() const override { return tokenizer_; }
  int n_ctx() const override;

 private:
  void run();
  std::vector<std::pair<Slot*, std::shared_ptr<Job>>> admit_waiting();
  void evaluate_chosen(const std::vector<std::pair<Slot*, int32_t>>& chosen);

  SchedulerOptions options_;
  const tokenizer::Tokenizer& tokenizer_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<uint64_t> last_used_;  // per slot, for least-recently-used ties
  uint64_t clock_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> waiting_;
  std::vector<bool> reserved_;  // slot is busy (mirrors Slot::busy under mutex_)
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tandem::server
