// Measures this machine's memory read bandwidth with the pool's threads, by
// streaming over a buffer far larger than the last-level cache (STREAM-like
// "sum" kernel). The roofline that decode speed is compared against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/thread_pool.h"

namespace hy2bit::runtime {

// A buffer far larger than the last-level cache, 2 MiB aligned and advised
// to use huge pages like the repacked weights (so TLB misses do not lower
// the ceiling below what the kernels see), first touched by the threads
// that will read it.
class ReadBandwidthProbe {
 public:
  ReadBandwidthProbe(ThreadPool& pool, size_t bytes);
  ~ReadBandwidthProbe();
  ReadBandwidthProbe(const ReadBandwidthProbe&) = delete;
  ReadBandwidthProbe& operator=(const ReadBandwidthProbe&) = delete;

  size_t bytes() const { return n_words_ * sizeof(uint64_t); }
  // One pass: every thread of the pool sums its share of the buffer.
  void pass(ThreadPool& pool);

 private:
  uint64_t* words_ = nullptr;
  size_t n_words_ = 0;
  std::vector<uint64_t> sinks_;  // per-thread sums, so the reads cannot be optimised away
};

// Best of `repeats` passes over `bytes` bytes (each thread reads its own
// share), in GB/s (1e9 bytes per second).
double measure_read_bandwidth(ThreadPool& pool, size_t bytes = size_t{1} << 30, int repeats = 5);

// Peak resident set size of this process so far, in bytes.
size_t peak_rss_bytes();
// Current resident set size, in bytes.
size_t current_rss_bytes();

}  // namespace hy2bit::runtime
