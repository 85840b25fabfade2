// matmul() at the real HY-1.8B shapes (q2_0c projections, the Q6_K output
// head) for 1 and 512 tokens on 1 and 2 threads, on the active kernel path
// (HY2BIT_ISA forces one). Decode streams over several copies of a matrix
// totalling > 256 MB so caches cannot flatter it; every case is validated
// against the scalar path before timing. Counters: weight GB/s (bytes the
// kernel reads), integer GOPS (2 * rows * cols * tokens per second).
// BM_ReadBandwidth is the machine's read bandwidth (runtime/bandwidth.h, the
// same probe `hy2bit bench --roofline` uses); BM_DecodeRoofline times a
// decode pass over the copies and a bandwidth pass back to back in every
// iteration, so the fraction it reports is not skewed by this shared VM's
// bandwidth drifting between benchmarks. BM_LayerStackRoofline (a whole
// model's q2_0c decode) also reports multi/one: a 512-token pass's GOPS over
// the decode's, timed right after it.
// Run: build/bin/bench_matmul_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "formats/convert.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_table.h"
#include "kernels/matmul.h"
#include "kernels/weight_arena.h"
#include "runtime/bandwidth.h"
#include "runtime/thread_pool.h"

namespace {

using hy2bit::formats::TypeId;
using namespace hy2bit::kernels;

struct Shape {
  const char* name;
  TypeId type;
  int64_t n_cols;  // input dimension
  int64_t n_rows;  // output dimension
};

constexpr Shape kShapes[] = {
    {"q2_0c_attn_q_2048x2048", TypeId::kQ2_0C, 2048, 2048},
    {"q2_0c_attn_kv_2048x512", TypeId::kQ2_0C, 2048, 512},
    {"q2_0c_ffn_up_2048x6144", TypeId::kQ2_0C, 2048, 6144},
    {"q2_0c_ffn_down_6144x2048", TypeId::kQ2_0C, 6144, 2048},
    {"q6_K_output_2048x120818", TypeId::kQ6_K, 2048, 120818},
    // The other types a GGUF of the same model may hold, at the attn_q shape.
    {"q8_0_2048x2048", TypeId::kQ8_0, 2048, 2048},
    {"q4_0_2048x2048", TypeId::kQ4_0, 2048, 2048},
    {"f16_2048x2048", TypeId::kF16, 2048, 2048},
    {"bf16_2048x2048", TypeId::kBF16, 2048, 2048},
    {"f32_2048x2048", TypeId::kF32, 2048, 2048},
};

constexpr size_t kDecodeStreamBytes = size_t{300} << 20;  // > 256 MB of weights per decode pass

uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Random blocks with sane fp16 scales.
std::vector<uint8_t> random_weights(const Shape& s) {
  const hy2bit::formats::TypeInfo info = *hy2bit::formats::type_info(s.type);
  const size_t bytes = *hy2bit::formats::bytes_for_elems(info, s.n_cols * s.n_rows);
  std::vector<uint8_t> data(bytes);
  uint64_t seed = 42;
  for (size_t i = 0; i + 8 <= bytes; i += 8) {
    const uint64_t v = splitmix(seed);
    std::memcpy(data.data() + i, &v, 8);
  }
  if (info.block_elems == 1) {  // float types: values in [-1, 1)
    for (int64_t i = 0; i < s.n_cols * s.n_rows; ++i) {
      const float v = static_cast<float>(splitmix(seed) % 2000) / 1000.0f - 1.0f;
      const uint16_t h =
          s.type == TypeId::kF16 ? hy2bit::formats::f32_to_f16(v) : hy2bit::formats::f32_to_bf16(v);
      if (s.type == TypeId::kF32)
        std::memcpy(data.data() + 4 * i, &v, 4);
      else
        std::memcpy(data.data() + 2 * i, &h, 2);
    }
    return data;
  }
  const size_t d_offset = s.type == TypeId::kQ6_K ? 208 : 0;
  for (size_t b = 0; b < bytes / info.block_bytes; ++b) {
    const uint16_t d = hy2bit::formats::f32_to_f16(0.001f + 0.01f * (b % 7));
    std::memcpy(data.data() + b * info.block_bytes + d_offset, &d, 2);
  }
  return data;
}

// One shape's weights: the file bytes and enough prepared copies to stream,
// one after another in an arena as a model's weights are.
struct Prepared {
  const Shape* shape = nullptr;
  std::vector<uint8_t> bytes;
  std::unique_ptr<WeightArena> arena;
  std::vector<PreparedWeights> copies;
};

Prepared& prepared_for(const Shape& shape, const KernelTable& table) {
  static std::unique_ptr<Prepared> cached;
  if (cached && cached->shape == &shape) return *cached;
  cached.reset();  // free the previous shape first
  auto p = std::make_unique<Prepared>();
  p->shape = &shape;
  p->bytes = random_weights(shape);
  WeightView view{*hy2bit::formats::type_info(shape.type), shape.n_cols, shape.n_rows, p->bytes};
  hy2bit::Result<PreparedWeights> w = PreparedWeights::prepare(table, view);
  if (w.ok()) {
    const size_t one = std::max(w->repacked_bytes(), p->bytes.size());
    const size_t n_copies = std::max<size_t>(1, (kDecodeStreamBytes + one - 1) / one);
    p->arena = std::make_unique<WeightArena>(n_copies * (one + 64));
    for (size_t i = 0; i < n_copies; ++i)
      p->copies.push_back(PreparedWeights::prepare(table, view, p->arena.get()).value());
  }
  cached = std::move(p);
  return *cached;
}

// Active path vs scalar on the first 64 rows of the shape.
std::string validate(const Shape& shape, const std::vector<uint8_t>& bytes,
                     const KernelTable& table, int64_t n_tokens) {
  const hy2bit::formats::TypeInfo info = *hy2bit::formats::type_info(shape.type);
  const int64_t rows = 64;
  const size_t row_bytes = *hy2bit::formats::bytes_for_elems(info, shape.n_cols);
  WeightView view{info, shape.n_cols, rows,
                  std::span<const uint8_t>(bytes).first(rows * row_bytes)};
  std::vector<float> x(n_tokens * shape.n_cols);
  uint64_t seed = 7;
  for (float& v : x)
    v = static_cast<float>(static_cast<int64_t>(splitmix(seed) % 2001) - 1000) / 300.0f;
  hy2bit::runtime::ThreadPool pool(1);
  MatmulScratch scratch;
  std::vector<float> want(n_tokens * rows), got(n_tokens * rows);
  matmul(*PreparedWeights::prepare(*kernels_for_isa("scalar"), view), x.data(), n_tokens,
         want.data(), pool, scratch);
  matmul(*PreparedWeights::prepare(table, view), x.data(), n_tokens, got.data(), pool, scratch);
  // Integer types are bit-exact; float types sum in another order.
  const double tolerance = info.block_elems == 1 ? 1e-4 : 0.0;
  for (size_t i = 0; i < want.size(); ++i)
    if (std::fabs(want[i] - got[i]) > tolerance * (1.0 + std::fabs(want[i])))
      return "mismatch vs scalar at " + std::to_string(i) + ": " + std::to_string(want[i]) +
             " vs " + std::to_string(got[i]);
  return "";
}

void BM_Matmul(benchmark::State& state) {
  const Shape& shape = kShapes[state.range(0)];
  const int64_t n_tokens = state.range(1);
  const int n_threads = static_cast<int>(state.range(2));
  hy2bit::Result<const KernelTable*> table = active_kernels();
  if (!table.ok()) return state.SkipWithError(table.error().message.c_str());
  Prepared& p = prepared_for(shape, **table);
  if (p.copies.empty()) return state.SkipWithError("prepare failed");
  const std::string problem = validate(shape, p.bytes, **table, n_tokens);
  if (!problem.empty()) return state.SkipWithError(problem.c_str());

  std::vector<float> x(n_tokens * shape.n_cols), y(n_tokens * shape.n_rows);
  uint64_t seed = 11;
  for (float& v : x)
    v = static_cast<float>(static_cast<int64_t>(splitmix(seed) % 2001) - 1000) / 300.0f;
  hy2bit::runtime::ThreadPool pool(n_threads);
  MatmulScratch scratch;
  // Decode streams over all copies; prefill reuses the first (compute-bound).
  const size_t n_use = n_tokens == 1 ? p.copies.size() : 1;
  size_t next = 0;
  for (auto _ : state) {
    matmul(p.copies[next], x.data(), n_tokens, y.data(), pool, scratch);
    next = next + 1 == n_use ? 0 : next + 1;
    benchmark::ClobberMemory();
  }
  const double weight_bytes = static_cast<double>(
      p.copies[0].repacked_bytes() ? p.copies[0].repacked_bytes() : p.bytes.size());
  const double ops = 2.0 * shape.n_cols * shape.n_rows * n_tokens;
  state.counters["weight_GB/s"] =
      benchmark::Counter(weight_bytes * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.counters["GOPS"] =
      benchmark::Counter(ops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
  state.SetLabel(std::string(shape.name) + " " + std::string(isa_name(**table)));
}

void matmul_args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"shape", "tokens", "threads"});
  for (int64_t s = 0; s < static_cast<int64_t>(std::size(kShapes)); ++s)
    for (int64_t tokens : {1, 512})
      for (int64_t threads : {1, 2}) b->Args({s, tokens, threads});
}
BENCHMARK(BM_Matmul)->Apply(matmul_args)->Unit(benchmark::kMicrosecond)->UseRealTime();

constexpr size_t kProbeBytes = size_t{1} << 30;

void BM_ReadBandwidth(benchmark::State& state) {
  hy2bit::runtime::ThreadPool pool(static_cast<int>(state.range(0)));
  hy2bit::runtime::ReadBandwidthProbe probe(pool, kProbeBytes);
  for (auto _ : state) probe.pass(pool);
  state.counters["GB/s"] = benchmark::Counter(
      static_cast<double>(probe.bytes()) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ReadBandwidth)->ArgName("threads")->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

double seconds_of(const auto& fn) {
  const auto start = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Times decode_pass (one token through stream_bytes of weights), then one
// pass of the bandwidth probe with the same threads, per iteration; reports
// both rates and their ratio.
void roofline_loop(benchmark::State& state, hy2bit::runtime::ThreadPool& pool,
                   double stream_bytes, const auto& decode_pass) {
  hy2bit::runtime::ReadBandwidthProbe probe(pool, kProbeBytes);
  double kernel_seconds = 0, probe_seconds = 0;
  for (auto _ : state) {
    const double k = seconds_of(decode_pass);
    probe_seconds += seconds_of([&] { probe.pass(pool); });
    kernel_seconds += k;
    state.SetIterationTime(k);
    benchmark::ClobberMemory();
  }
  const double kernel_gbps = stream_bytes * state.iterations() / kernel_seconds / 1e9;
  const double read_gbps =
      static_cast<double>(probe.bytes()) * state.iterations() / probe_seconds / 1e9;
  state.counters["weight_GB/s"] = kernel_gbps;
  state.counters["read_GB/s"] = read_gbps;
  state.counters["fraction"] = kernel_gbps / read_gbps;
}

// One token through every copy of a shape's weights.
void BM_DecodeRoofline(benchmark::State& state) {
  const Shape& shape = kShapes[state.range(0)];
  hy2bit::Result<const KernelTable*> table = active_kernels();
  if (!table.ok()) return state.SkipWithError(table.error().message.c_str());
  Prepared& p = prepared_for(shape, **table);
  if (p.copies.empty()) return state.SkipWithError("prepare failed");
  const std::string problem = validate(shape, p.bytes, **table, 1);
  if (!problem.empty()) return state.SkipWithError(problem.c_str());
  hy2bit::runtime::ThreadPool pool(static_cast<int>(state.range(1)));
  MatmulScratch scratch;
  std::vector<float> x(shape.n_cols, 0.5f), y(shape.n_rows);
  const double stream_bytes =
      static_cast<double>(std::max(p.copies[0].repacked_bytes(), p.bytes.size())) *
      static_cast<double>(p.copies.size());
  roofline_loop(state, pool, stream_bytes, [&] {
    for (const PreparedWeights& w : p.copies) matmul(w, x.data(), 1, y.data(), pool, scratch);
  });
  state.SetLabel(std::string(shape.name) + " " + std::string(isa_name(**table)));
}
BENCHMARK(BM_DecodeRoofline)
    ->ArgNames({"shape", "threads"})
    ->ArgsProduct({{0, 1, 2, 3, 4}, {1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->MinTime(1.0);

// The q2_0c matmuls of the whole HY-1.8B decode, in the model's order and
// calls: 32 layers of q/k/v (one shared-input call), o, gate/up (shared),
// down, all in one arena as the model lays them out (374 MiB).
void BM_LayerStackRoofline(benchmark::State& state) {
  constexpr int kLayers = 32;
  hy2bit::Result<const KernelTable*> table = active_kernels();
  if (!table.ok()) return state.SkipWithError(table.error().message.c_str());
  const Shape& q = kShapes[0];
  const Shape& kv = kShapes[1];
  const Shape& up = kShapes[2];
  const Shape& down = kShapes[3];
  struct Matrix {
    const Shape* shape;
    std::vector<uint8_t> bytes;
  };
  static const Matrix matrices[] = {{&q, random_weights(q)},
                                    {&kv, random_weights(kv)},
                                    {&up, random_weights(up)},
                                    {&down, random_weights(down)}};
  const auto prepare = [&](const Matrix& m, WeightArena& arena) {
    WeightView view{*hy2bit::formats::type_info(m.shape->type), m.shape->n_cols, m.shape->n_rows,
                    m.bytes};
    return PreparedWeights::prepare(**table, view, &arena).value();
  };
  struct Layer {
    PreparedWeights q, k, v, o, gate, up, down;
  };
  WeightArena arena(size_t{400} << 20);
  std::vector<Layer> layers;
  double stream_bytes = 0;
  for (int l = 0; l < kLayers; ++l) {
    Layer layer{prepare(matrices[0], arena), prepare(matrices[1], arena),
                prepare(matrices[1], arena), prepare(matrices[0], arena),
                prepare(matrices[2], arena), prepare(matrices[2], arena),
                prepare(matrices[3], arena)};
    for (const PreparedWeights* w :
         {&layer.q, &layer.k, &layer.v, &layer.o, &layer.gate, &layer.up, &layer.down})
      stream_bytes += static_cast<double>(w->repacked_bytes());
    layers.push_back(std::move(layer));
  }
  hy2bit::runtime::ThreadPool pool(static_cast<int>(state.range(0)));
  MatmulScratch scratch;
  std::vector<float> x(up.n_rows, 0.5f), y_q(q.n_rows), y_k(kv.n_rows), y_v(kv.n_rows),
      y_gate(up.n_rows), y_up(up.n_rows), y_down(down.n_rows);
  // The layer's matmuls for n_tokens tokens (x and the y_* hold that many).
  const auto layer_pass = [&](const Layer& l, int64_t n_tokens) {
    const MatmulOutput qkv[] = {{&l.q, y_q.data()}, {&l.k, y_k.data()}, {&l.v, y_v.data()}};
    matmul_shared_input(qkv, x.data(), n_tokens, pool, scratch);
    matmul(l.o, x.data(), n_tokens, y_down.data(), pool, scratch);
    const MatmulOutput gate_up[] = {{&l.gate, y_gate.data()}, {&l.up, y_up.data()}};
    matmul_shared_input(gate_up, x.data(), n_tokens, pool, scratch);
    matmul(l.down, x.data(), n_tokens, y_down.data(), pool, scratch);
  };
  roofline_loop(state, pool, stream_bytes, [&] {
    for (const Layer& l : layers) layer_pass(l, 1);
  });
  // Multi-token vs one-token throughput per weight: the same matmuls for
  // kPrefillTokens tokens (compute-bound, so timed after the loop on one
  // layer, best of a few passes) against the one-token rate just measured.
  constexpr int64_t kPrefillTokens = 512;
  const double weights_per_layer =
      static_cast<double>(2 * q.n_rows * q.n_cols + 2 * kv.n_rows * kv.n_cols +
                          2 * up.n_rows * up.n_cols + down.n_rows * down.n_cols);
  for (std::vector<float>* v : {&x, &y_q, &y_k, &y_v, &y_gate, &y_up, &y_down})
    v->assign(v->size() * kPrefillTokens, 0.5f);
  double best_seconds = 1e30;
  for (int rep = 0; rep < 5; ++rep)
    best_seconds = std::min(best_seconds, seconds_of([&] { layer_pass(layers[0], kPrefillTokens); }));
  const double decode_pass_seconds = stream_bytes / (state.counters["weight_GB/s"] * 1e9);
  const double decode_gops = 2 * weights_per_layer * kLayers / decode_pass_seconds / 1e9;
  const double prefill_gops = 2 * weights_per_layer * kPrefillTokens / best_seconds / 1e9;
  state.counters["decode_GOPS"] = decode_gops;
  state.counters["prefill_GOPS"] = prefill_gops;
  state.counters["multi/one"] = prefill_gops / decode_gops;
  state.SetLabel("q2_0c_32_layers " + std::string(isa_name(**table)));
}
BENCHMARK(BM_LayerStackRoofline)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
