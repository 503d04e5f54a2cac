// A memory read-bandwidth probe: the ceiling for token generation, which streams
// every weight once per token.
#pragma once
#include <cstddef>

namespace tandem::bench {

struct BandwidthOptions {
  int threads = 1;
  size_t buffer_bytes = 0;  // 0: 8x the last-level cache, at least 256 MiB (a smaller one overstates)
  int repetitions = 5;      // the best pass is reported
};

// Bytes read per second (in GB/s, 1e9) summing a buffer much larger than the
// last-level cache, split across `threads` threads.
double read_bandwidth_gbs(const BandwidthOptions& options = {});

// The last-level cache size the system reports, or 32 MiB when it says nothing.
size_t last_level_cache_bytes();

}  // namespace tandem::bench
