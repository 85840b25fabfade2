// Read-bandwidth measurement and RSS queries. The summing loop keeps eight
// independent accumulators so the compiler can vectorise it and the loads,
// not the adds, set the pace.
#include "runtime/bandwidth.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

namespace hy2bit::runtime {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;

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

ReadBandwidthProbe::ReadBandwidthProbe(ThreadPool& pool, size_t bytes)
    : n_words_(std::max<size_t>(bytes / sizeof(uint64_t), 512)),
      sinks_(static_cast<size_t>(pool.size()), 0) {
  const size_t n_bytes = (n_words_ * sizeof(uint64_t) + kHugePage - 1) / kHugePage * kHugePage;
  words_ = static_cast<uint64_t*>(std::aligned_alloc(kHugePage, n_bytes));
  if (words_ == nullptr) throw std::bad_alloc();
  madvise(words_, n_bytes, MADV_HUGEPAGE);  // advice only
  pool.run([&](int thread, int n_threads) {
    const auto [begin, end] = split_range(static_cast<int64_t>(n_words_), thread, n_threads, 512);
    for (int64_t i = begin; i < end; ++i) words_[i] = static_cast<uint64_t>(i);
  });
}

ReadBandwidthProbe::~ReadBandwidthProbe() { std::free(words_); }

void ReadBandwidthProbe::pass(ThreadPool& pool) {
  pool.run([&](int thread, int n_threads) {
    const auto [begin, end] = split_range(static_cast<int64_t>(n_words_), thread, n_threads, 512);
    sinks_[thread] += sum_words(words_ + begin, static_cast<size_t>(end - begin));
  });
  volatile uint64_t keep = 0;
  for (uint64_t s : sinks_) keep = keep + s;
  (void)keep;
}

double measure_read_bandwidth(ThreadPool& pool, size_t bytes, int repeats) {
  ReadBandwidthProbe probe(pool, bytes);
  double best = 0.0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    probe.pass(pool);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(probe.bytes()) / seconds / 1e9);
  }
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
