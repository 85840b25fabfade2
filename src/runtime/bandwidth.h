// Measures this machine's memory read bandwidth with the pool's threads, by
// streaming over a buffer far larger than the last-level cache (STREAM-like
// "sum" kernel). The roofline that decode speed is compared against.
#pragma once

#include <cstddef>

#include "runtime/thread_pool.h"

namespace hy2bit::runtime {

// Best of `repeats` passes over `bytes` bytes (each thread reads its own
// share), in GB/s (1e9 bytes per second).
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t{1} << 30, int repeats = 5);

// Peak resident set size of this process so far, in bytes.
size_t peak_rss_bytes();
// Current resident set size, in bytes.
size_t current_rss_bytes();

}  // namespace hy2bit::runtime
