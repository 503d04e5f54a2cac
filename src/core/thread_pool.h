// A persistent pool: threads are created once and woken per parallel region, so
// a decode step costs no thread creation. The calling thread does a share too.
// Waking and joining spin briefly before sleeping on a futex (std::atomic::wait):
// a decode step runs hundreds of short regions back to back, and a sleep/wake
// round trip per region would cost more than the region itself.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace tandem {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // total threads including the caller; <= 0: hardware
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Splits [0, n) into one contiguous range per thread and runs fn(begin, end, thread_index).
  // Returns when every range is done. Not re-entrant.
  void parallel_for(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn);

  // What synchronisation costs the calling thread: regions run and the time it waited for
  // the other threads after finishing its own share (off unless asked for: `tandem bench`).
  struct WaitStats {
    int64_t regions = 0;
    double wait_seconds = 0;
  };
  void track_waits(bool on) { track_waits_ = on; }
  const WaitStats& wait_stats() const { return wait_stats_; }
  void reset_wait_stats() { wait_stats_ = {}; }

 private:
  void worker(int index);
  int n_threads_;
  std::vector<std::thread> workers_;
  const std::function<void(int64_t, int64_t, int)>* job_ = nullptr;
  int64_t job_n_ = 0;
  std::atomic<uint32_t> generation_{0};  // bumped per region (and at shutdown)
  std::atomic<int> pending_{0};          // workers still running the current region
  std::atomic<bool> stopping_{false};
  bool track_waits_ = false;  // read and written by the calling thread only
  WaitStats wait_stats_;
};

}  // namespace tandem
