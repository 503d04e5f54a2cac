// One generation request travelling between an HTTP (or C API) thread, which
// consumes its output, and the scheduler thread, which produces it. The consumer
// may cancel at any time; the scheduler sees it before its next decode step.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "generate/json_constraint.h"
#include "generate/session.h"

namespace tandem::server {

struct TopLogprob {
  int32_t id;
  float logprob;
};

// The chosen token's log-probability under the model (softmax of the raw logits,
// before sampling settings), with the most likely alternatives.
struct TokenLogprob {
  int32_t id;
  float logprob;
  std::vector<TopLogprob> top;
};

struct GenerationRequest {
  std::vector<int32_t> prompt;
  generate::GenerateOptions options;
  int top_logprobs = -1;  // < 0: no logprobs
  std::optional<generate::JsonConstraint> constraint;
};

// Output of one decode step: final text (may be empty while a stop string or a
// UTF-8 character is pending) and the chosen token's logprob when requested.
struct Piece {
  std::string text;
  std::optional<TokenLogprob> logprob;
};

struct Outcome {
  generate::FinishReason finish = generate::FinishReason::Length;
  int n_prompt = 0, n_cached = 0, n_generated = 0;
  double queue_seconds = 0, prompt_seconds = 0, generate_seconds = 0;
  std::string error;  // non-empty: the request failed before generating
};

class Job {
 public:
  explicit Job(GenerationRequest request);

  const GenerationRequest& request() const { return request_; }
  GenerationRequest& request() { return request_; }

  // Consumer side. Moves new pieces into `out` (waiting up to `timeout` when
  // there are none); true once the job is finished and every piece was taken.
  bool wait(std::vector<Piece>& out, std::chrono::milliseconds timeout);
  const Outcome& outcome() const { return outcome_; }  // valid once wait() returned true
  void cancel() { cancelled_ = true; }

  // Scheduler side.
  bool cancelled() const { return cancelled_; }
  void push(Piece piece);
  void finish(Outcome outcome);
  std::chrono::steady_clock::time_point submitted() const { return submitted_; }

 private:
  GenerationRequest request_;
  std::chrono::steady_clock::time_point submitted_;
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Piece> pieces_;
  bool finished_ = false;
  Outcome outcome_;
};

}  // namespace tandem::server
