#include "bench/bandwidth.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>

#include "core/thread_pool.h"

namespace tandem::bench {

size_t last_level_cache_bytes() {
  long best = 0;
#ifdef _SC_LEVEL3_CACHE_SIZE
  best = std::max(best, sysconf(_SC_LEVEL3_CACHE_SIZE));
#endif
#ifdef _SC_LEVEL2_CACHE_SIZE
  best = std::max(best, sysconf(_SC_LEVEL2_CACHE_SIZE));
#endif
  return best > 0 ? (size_t)best : (size_t)32 << 20;
}

namespace {

// Eight independent accumulators let the compiler vectorise and keep enough loads
// in flight to saturate the memory system; the result is consumed so nothing is elided.
uint64_t sum_words(const uint64_t* p, size_t n) {
  uint64_t acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += p[i + k];
  for (; i < n; i++) acc[0] += p[i];
  uint64_t total = 0;
  for (uint64_t a : acc) total += a;
  return total;
}

}  // namespace

double read_bandwidth_gbs(const BandwidthOptions& options) {
  const size_t bytes = options.buffer_bytes ? options.buffer_bytes
                                            : std::max<size_t>(last_level_cache_bytes() * 8, (size_t)256 << 20);
  const size_t words = bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[words]);
  ThreadPool pool(std::max(1, options.threads));
  // Each thread first-touches the part it will read, so pages land near it.
  pool.parallel_for((int64_t)words, [&](int64_t begin, int64_t end, int) {
    for (int64_t i = begin; i < end; i++) buffer[i] = (uint64_t)i;
  });
  std::atomic<uint64_t> sink{0};
  double best = 0;
  for (int rep = 0; rep < std::max(1, options.repetitions); rep++) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for((int64_t)words, [&](int64_t begin, int64_t end, int) {
      sink += sum_words(buffer.get() + begin, (size_t)(end - begin));
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, (double)(words * sizeof(uint64_t)) / seconds / 1e9);
  }
  if (sink.load() == 42) std::memset(buffer.get(), 0, 8);  // keeps the sums observable
  return best;
}

}  // namespace tandem::bench
