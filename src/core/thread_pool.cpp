#include "core/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace tandem {
namespace {

// About 50-100 microseconds of polling before sleeping: long enough to bridge the
// serial work between two matmuls, short enough not to steal a shared core for long.
constexpr int kSpinIterations = 20000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Waits until value != old, spinning first.
template <class T>
void spin_then_wait(const std::atomic<T>& value, T old) {
  for (int i = 0; i < kSpinIterations; i++) {
    if (value.load(std::memory_order_acquire) != old) return;
    cpu_relax();
  }
  while (value.load(std::memory_order_acquire) == old) value.wait(old, std::memory_order_acquire);
}

void run_share(const std::function<void(int64_t, int64_t, int)>& fn, int64_t n, int index, int n_threads) {
  int64_t begin = n * index / n_threads, end = n * (index + 1) / n_threads;
  if (begin < end) fn(begin, end, index);
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) {
  if (n_threads <= 0) n_threads = (int)std::max(1u, std::thread::hardware_concurrency());
  n_threads_ = n_threads;
  for (int i = 1; i < n_threads_; i++) workers_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  stopping_.store(true, std::memory_order_release);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn) {
  if (n_threads_ == 1 || n <= 1) {
    if (n > 0) fn(0, n, 0);
    return;
  }
  job_ = &fn;
  job_n_ = n;
  pending_.store(n_threads_ - 1, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);  // publishes job_ and job_n_
  generation_.notify_all();
  run_share(fn, n, 0, n_threads_);
  const auto waiting_since = track_waits_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  for (int left; (left = pending_.load(std::memory_order_acquire)) != 0;) spin_then_wait(pending_, left);
  job_ = nullptr;
  if (track_waits_) {
    wait_stats_.regions++;
    wait_stats_.wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - waiting_since).count();
  }
}

void ThreadPool::worker(int index) {
  uint32_t seen = 0;
  for (;;) {
    spin_then_wait(generation_, seen);
    seen = generation_.load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) return;
    run_share(*job_, job_n_, index, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace tandem
