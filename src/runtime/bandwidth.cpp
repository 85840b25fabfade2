// Read-bandwidth measurement and RSS queries. The summing loop keeps eight
// independent accumulators so the compiler can vectorise it and the loads,
// not the adds, set the pace.
#include "runtime/bandwidth.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace hy2bit::runtime {
namespace {

uint64_t sum_words(const uint64_t* data, size_t n) {
  uint64_t acc[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += data[i + j];
  for (; i < n; ++i) acc[0] += data[i];
  uint64_t total = 0;
  for (uint64_t a : acc) total += a;
  return total;
}

}  // namespace

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats) {
  const size_t n_words = bytes / sizeof(uint64_t);
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[n_words]);
  // Each thread touches its own share first, so pages land near it.
  pool.run([&](int thread, int n_threads) {
    const auto [begin, end] = split_range(static_cast<int64_t>(n_words), thread, n_threads, 512);
    for (int64_t i = begin; i < end; ++i) buffer[i] = static_cast<uint64_t>(i);
  });
  std::vector<uint64_t> sinks(static_cast<size_t>(pool.size()));
  double best = 0.0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    pool.run([&](int thread, int n_threads) {
      const auto [begin, end] = split_range(static_cast<int64_t>(n_words), thread, n_threads, 512);
      sinks[thread] += sum_words(buffer.get() + begin, static_cast<size_t>(end - begin));
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(n_words * sizeof(uint64_t)) / seconds / 1e9);
  }
  // Use the sums so the reads cannot be optimised away.
  volatile uint64_t keep = 0;
  for (uint64_t s : sinks) keep = keep + s;
  (void)keep;
  return best;
}

size_t peak_rss_bytes() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<size_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

size_t current_rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long pages_total = 0, pages_resident = 0;
  const int read = std::fscanf(f, "%lu %lu", &pages_total, &pages_resident);
  std::fclose(f);
  return read == 2 ? pages_resident * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace hy2bit::runtime
