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

#include "generate/generator.h"

namespace tandem::server {

using generate::GenerationRequest;
using generate::Outcome;
using generate::Piece;
using generate::TokenLogprob;
using generate::TopLogprob;

class Job : public generate::PieceStream {
 public:
  explicit Job(GenerationRequest request);

  const GenerationRequest& request() const { return request_; }
  GenerationRequest& request() { return request_; }

  // Consumer side. Moves new pieces into `out` (waiting up to `timeout` when
  // there are none); true once the job is finished and every piece was taken.
  bool wait(std::vector<Piece>& out, std::chrono::milliseconds timeout) override;
  const Outcome& outcome() const override { return outcome_; }  // valid once wait() returned true
  void cancel() override { cancelled_ = true; }

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
