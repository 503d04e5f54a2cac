#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tandem {
namespace {

TEST(ThreadPool, EveryIndexRunsOnceOverTheThreads) {
  for (int n_threads : {1, 2, 3}) {
    ThreadPool pool(n_threads);
    for (int64_t n : {0, 1, 2, 7, 100}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::vector<std::atomic<int>> by_thread(static_cast<size_t>(n_threads));
      pool.parallel_for(n, [&](int64_t begin, int64_t end, int thread) {
        by_thread[size_t(thread)]++;
        for (int64_t i = begin; i < end; i++) hits[size_t(i)]++;
      });
      for (int64_t i = 0; i < n; i++) EXPECT_EQ(hits[size_t(i)], 1) << n_threads << " threads, n " << n << ", i " << i;
      for (int t = 0; t < n_threads; t++) EXPECT_LE(by_thread[size_t(t)], 1);
    }
  }
}

TEST(ThreadPool, WaitStatsCountRegionsOnlyWhenTracked) {
  ThreadPool pool(2);
  auto nothing = [](int64_t, int64_t, int) {};
  pool.parallel_for(8, nothing);
  EXPECT_EQ(pool.wait_stats().regions, 0);
  pool.track_waits(true);
  for (int i = 0; i < 5; i++) pool.parallel_for(8, nothing);
  EXPECT_EQ(pool.wait_stats().regions, 5);
  EXPECT_GE(pool.wait_stats().wait_seconds, 0.0);
  pool.track_waits(false);
  pool.parallel_for(8, nothing);
  EXPECT_EQ(pool.wait_stats().regions, 5);
  pool.reset_wait_stats();
  EXPECT_EQ(pool.wait_stats().regions, 0);
  EXPECT_EQ(pool.wait_stats().wait_seconds, 0.0);
}

// The worker cannot finish before the caller has finished its own share, so every region has
// the caller waiting for it: the wait is recorded. How long it is belongs to `tandem bench`
// (tg_overhead.sync_wait_us); here only the events are checked, and a caller that finishes
// last (its share waits for the worker's) still counts its region.
TEST(ThreadPool, WaitStatsRecordTheCallersWaitForTheOthers) {
  ThreadPool pool(2);
  pool.track_waits(true);
  std::atomic<bool> caller_done{false}, worker_done{false};
  pool.parallel_for(2, [&](int64_t, int64_t, int thread) {
    if (thread == 0) {
      caller_done = true;
    } else {
      while (!caller_done) std::this_thread::yield();
    }
  });
  EXPECT_EQ(pool.wait_stats().regions, 1);
  EXPECT_GT(pool.wait_stats().wait_seconds, 0.0) << "the caller waited for a worker that was still running";

  pool.reset_wait_stats();
  pool.parallel_for(2, [&](int64_t, int64_t, int thread) {
    if (thread == 1) {
      worker_done = true;
    } else {
      while (!worker_done) std::this_thread::yield();
    }
  });
  EXPECT_EQ(pool.wait_stats().regions, 1);
}

}  // namespace
}  // namespace tandem
