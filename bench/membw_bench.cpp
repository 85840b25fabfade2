// Memory read bandwidth on this machine: 1 and 2 threads streaming over a
// 1 GiB buffer (far larger than any cache), the ceiling the decode kernels
// are measured against (matmul_bench reports weight GB/s the same way).
// Run: build/bin/bench_membw_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "runtime/thread_pool.h"

namespace {

constexpr size_t kBufferBytes = size_t{1} << 30;

// Sums 64-bit words with 8 independent accumulators (vectorized by the
// compiler), touching every byte of [p, p + n).
__attribute__((target("avx512f"))) uint64_t sum_words_avx512(const uint64_t* p, size_t n) {
  uint64_t acc[8] = {};
  for (size_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

__attribute__((target("avx2"))) uint64_t sum_words_avx2(const uint64_t* p, size_t n) {
  uint64_t acc[8] = {};
  for (size_t i = 0; i < n; i += 8)
    for (int j = 0; j < 8; ++j) acc[j] += p[i + j];
  uint64_t s = 0;
  for (uint64_t a : acc) s += a;
  return s;
}

uint64_t sum_words(const uint64_t* p, size_t n) {
  if (__builtin_cpu_supports("avx512f")) return sum_words_avx512(p, n);
  if (__builtin_cpu_supports("avx2")) return sum_words_avx2(p, n);
  uint64_t s = 0;
  for (size_t i = 0; i < n; ++i) s += p[i];
  return s;
}

// The buffer: 2 MiB aligned and advised to use huge pages, like the
// repacked weights (kernels::allocate_weight_bytes), so TLB misses do not
// lower the ceiling below what the kernels see.
const uint64_t* buffer() {
  static const uint64_t* data = [] {
    void* p = std::aligned_alloc(size_t{2} << 20, kBufferBytes);
    madvise(p, kBufferBytes, MADV_HUGEPAGE);
    auto* words = static_cast<uint64_t*>(p);
    for (size_t i = 0; i < kBufferBytes / 8; ++i) words[i] = i * 0x9E3779B97F4A7C15ull;
    return words;
  }();
  return data;
}

void BM_ReadBandwidth(benchmark::State& state) {
  const int n_threads = static_cast<int>(state.range(0));
  const uint64_t* data = buffer();
  const int64_t n_words = static_cast<int64_t>(kBufferBytes / 8);
  hy2bit::runtime::ThreadPool pool(n_threads);
  std::vector<uint64_t> sums(n_threads);
  for (auto _ : state) {
    pool.run([&](int part, int n_parts) {
      const auto [begin, end] = hy2bit::runtime::split_range(n_words, part, n_parts, 64);
      sums[part] = sum_words(data + begin, static_cast<size_t>(end - begin));
    });
    benchmark::DoNotOptimize(sums.data());
  }
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(kBufferBytes) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadBandwidth)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
