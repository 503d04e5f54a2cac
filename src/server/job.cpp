#include "server/job.h"

namespace tandem::server {

Job::Job(GenerationRequest request)
    : request_(std::move(request)), submitted_(std::chrono::steady_clock::now()) {}

bool Job::wait(std::vector<Piece>& out, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  ready_.wait_for(lock, timeout, [&] { return finished_ || !pieces_.empty(); });
  while (!pieces_.empty()) {
    out.push_back(std::move(pieces_.front()));
    pieces_.pop_front();
  }
  return finished_;
}

void Job::push(Piece piece) {
  {
    std::lock_guard lock(mutex_);
    pieces_.push_back(std::move(piece));
  }
  ready_.notify_all();
}

void Job::finish(Outcome outcome) {
  {
    std::lock_guard lock(mutex_);
    outcome_ = std::move(outcome);
    finished_ = true;
  }
  ready_.notify_all();
}

}  // namespace tandem::server
