// Facts about the machine and this process that benchmarks report beside
// their timings: the default thread count, peak memory, and the memory read
// bandwidth that bounds decode speed (the roofline).
#pragma once

#include <cstddef>

namespace hy2bit {

// Physical cores of this machine (what n_threads = 0 means everywhere).
int physical_core_count();

// Peak resident set size of this process so far, in bytes.
size_t peak_rss_bytes();

// This machine's memory read bandwidth in GB/s (1e9 bytes per second) with
// `n_threads` threads: the best of 5 passes over a 1 GiB buffer, far larger
// than the last-level cache (STREAM-like "sum"). Takes about a second and
// allocates the buffer for the duration of the call.
double measure_read_bandwidth(int n_threads);

}  // namespace hy2bit
