// matmul(): per call quantizes the activations (kernel_table.h format) of
// weights prepared once at load (prepared_weights.cpp) and splits the output
// rows over the pool's threads, aligned to the path's row tile. The only
// place kernels meet threads; no ISA code here.
#include "kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstring>
#include <vector>

#include "kernels/kernel_table.h"
#include "kernels/weight_arena.h"

namespace hy2bit::kernels {
namespace {

size_t round_up_64(size_t n) { return (n + 63) / 64 * 64; }

// Multiply-adds below which splitting over threads costs more than it saves.
constexpr int64_t kMinParallelWork = int64_t{1} << 16;
// Row chunks per thread when compute-bound (see matmul_shared_input()).
constexpr int kChunksPerThread = 8;
// Tokens from which a matmul is compute-bound rather than bandwidth-bound.
constexpr int64_t kMinComputeBoundTokens = 8;
// Rows a thread takes per step of its share when bandwidth-bound (4 AVX-512
// tiles: one pass of the q2_0c decode kernel).
constexpr int64_t kStealRows = 64;
// Tokens per thread below which activation quantization stays on the caller.
constexpr int64_t kMinTokensPerQuantizeThread = 4;

// The table's two calls, with the preconditions kernel_table.h states (and
// every kernel relies on) asserted in debug builds: whole tiles of tokens
// for the quantizer, whole row tiles in range for the GEMM, and activations
// in the block format the GEMM reads.
void quantize_tokens(const TypeKernels& k, const float* x, int64_t token_begin, int64_t token_end,
                     const ActsQ8& acts) {
  assert(0 <= token_begin && token_begin < token_end && token_end <= acts.n_tokens);
  assert(acts.block == k.act_block && acts.n_cols % acts.block == 0);
  assert(acts.qs_tiled == nullptr ||
         (token_begin % acts.tile_tokens == 0 &&
          (token_end % acts.tile_tokens == 0 || token_end == acts.n_tokens)));
  k.quantize(x, token_begin, token_end, acts);
}

void gemm_rows(const TypeKernels& k, const GemmArgs& a, int64_t row_begin, int64_t row_end) {
  assert(row_begin % k.row_tile == 0 && 0 <= row_begin && row_begin < row_end &&
         row_end <= a.w->view().n_rows);
  assert(k.quantize == nullptr ||
         (a.acts != nullptr && a.acts->n_tokens == a.n_tokens && a.acts->block == k.act_block &&
          a.acts->n_cols == a.w->view().n_cols));
  k.gemm(a, row_begin, row_end);
}

// Carves the ActsQ8 arrays for n_tokens x n_cols out of the scratch buffer
// (with the token-interleaved copy when tile_tokens > 0; its padding zeroed).
ActsQ8 layout_acts(MatmulScratch& scratch, int64_t n_tokens, int64_t n_cols, int64_t block,
                   int64_t tile_tokens) {
  const size_t n = static_cast<size_t>(n_tokens);
  const size_t n_blocks = static_cast<size_t>(n_cols / block);
  const size_t qs_bytes = round_up_64(n * static_cast<size_t>(n_cols));
  const size_t d_bytes = round_up_64(n * n_blocks * sizeof(float));
  const size_t sums_bytes = round_up_64(n * n_blocks * sizeof(int32_t));
  const size_t sums16_bytes =
      block == kActBlockQ8K ? round_up_64(n * static_cast<size_t>(n_cols / 16) * sizeof(int32_t))
                            : 0;
  const int64_t n_tiles = tile_tokens > 0 ? (n_tokens + tile_tokens - 1) / tile_tokens : 0;
  const size_t tiled_bytes = round_up_64(static_cast<size_t>(n_tiles * tile_tokens * n_cols));
  uint8_t* base = scratch.reserve(qs_bytes + d_bytes + sums_bytes + sums16_bytes + tiled_bytes);
  ActsQ8 acts;
  acts.n_tokens = n_tokens;
  acts.n_cols = n_cols;
  acts.block = block;
  acts.qs = reinterpret_cast<int8_t*>(base);
  acts.d = reinterpret_cast<float*>(base + qs_bytes);
  acts.sums = reinterpret_cast<int32_t*>(base + qs_bytes + d_bytes);
  acts.sums16 =
      sums16_bytes ? reinterpret_cast<int32_t*>(base + qs_bytes + d_bytes + sums_bytes) : nullptr;
  if (tiled_bytes > 0) {
    acts.qs_tiled =
        reinterpret_cast<int8_t*>(base + qs_bytes + d_bytes + sums_bytes + sums16_bytes);
    acts.tile_tokens = tile_tokens;
    if (n_tokens % tile_tokens != 0) {  // the last tile's missing tokens read as zero
      const size_t tile_bytes = static_cast<size_t>(tile_tokens * n_cols);
      std::memset(acts.qs_tiled + (n_tiles - 1) * tile_bytes, 0, tile_bytes);
    }
  }
  return acts;
}

}  // namespace

uint8_t* MatmulScratch::reserve(size_t n_bytes) {
  if (buffer_.size() < n_bytes) buffer_.resize(n_bytes);
  return buffer_.data();
}

void matmul(const PreparedWeights& w, const float* x, int64_t n_tokens, float* y,
            runtime::ThreadPool& pool, MatmulScratch& scratch) {
  const MatmulOutput out[] = {{&w, y}};
  matmul_shared_input(out, x, n_tokens, pool, scratch);
}

void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, int64_t n_tokens,
                         runtime::ThreadPool& pool, MatmulScratch& scratch) {
  if (n_tokens <= 0 || outputs.empty()) return;
  const WeightView& first = outputs.front().weights->view();
  const TypeKernels& k = *kernels_for_type(outputs.front().weights->kernels(), first.type.id);
  const int n_threads = pool.size();

  // 1. Activations: quantized once per call (for every output), split over threads by tokens.
  ActsQ8 acts;
  if (k.quantize != nullptr) {
    acts = layout_acts(scratch, n_tokens, first.n_cols, k.act_block,
                       n_tokens > 1 ? k.act_tile_tokens : 0);
    if (n_threads > 1 && n_tokens >= kMinTokensPerQuantizeThread * n_threads) {
      pool.run([&](int part, int n_parts) {
        const auto [begin, end] =
            runtime::split_range(n_tokens, part, n_parts, std::max<int64_t>(1, acts.tile_tokens));
        if (begin < end) quantize_tokens(k, x, begin, end, acts);
      });
    } else {
      quantize_tokens(k, x, 0, n_tokens, acts);
    }
  }

  // 2. The row tiles of all outputs, numbered one after another, split over
  // the threads.
  std::vector<GemmArgs> args(outputs.size());
  std::vector<int64_t> first_tile(outputs.size() + 1, 0);  // output i owns [first_tile[i], [i+1])
  int64_t work = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const WeightView& view = outputs[i].weights->view();
    args[i].w = outputs[i].weights;
    args[i].x = x;
    args[i].acts = k.quantize != nullptr ? &acts : nullptr;
    args[i].n_tokens = n_tokens;
    args[i].y = outputs[i].y;
    args[i].ldy = view.n_rows;
    work += view.n_rows * view.n_cols * n_tokens;
    first_tile[i + 1] = first_tile[i] + (view.n_rows + k.row_tile - 1) / k.row_tile;
  }
  if (n_threads == 1 || work < kMinParallelWork) {
    for (const GemmArgs& a : args) gemm_rows(k, a, 0, a.w->view().n_rows);
    return;
  }
  // Runs tiles [begin, end) of the numbering: one gemm call per output touched.
  const auto run_tiles = [&](int64_t begin, int64_t end) {
    for (size_t i = 0; i < outputs.size(); ++i) {
      const int64_t lo = std::max(begin, first_tile[i]), hi = std::min(end, first_tile[i + 1]);
      if (lo >= hi) continue;
      const int64_t n_rows = args[i].w->view().n_rows;
      gemm_rows(k, args[i], (lo - first_tile[i]) * k.row_tile,
                std::min(n_rows, (hi - first_tile[i]) * k.row_tile));
    }
  };
  const int64_t total_tiles = first_tile.back();
  if (n_tokens < kMinComputeBoundTokens) {
    // Few tokens: the weights' bandwidth is the limit, and every new stream
    // a thread starts costs the prefetchers their ramp (8 chunks per thread
    // ran attn_q at 58% of the read bandwidth, one at 71%). So each thread
    // owns one contiguous share and takes it from the front in steps; a
    // thread done with its share then takes steps from the others', so one
    // slowed down (by the OS, or by a smaller share of the bandwidth) is
    // helped instead of waited for.
    const int64_t step = std::max<int64_t>(1, kStealRows / k.row_tile);
    struct alignas(64) Share {
      std::atomic<int64_t> next{0};
      int64_t end = 0;
    };
    std::vector<Share> shares(static_cast<size_t>(n_threads));
    for (int t = 0; t < n_threads; ++t) {
      const auto [begin, end] = runtime::split_range(total_tiles, t, n_threads);
      shares[t].next.store(begin, std::memory_order_relaxed);
      shares[t].end = end;
    }
    pool.run([&](int thread, int n_parts) {
      for (int i = 0; i < n_parts; ++i) {
        Share& share = shares[static_cast<size_t>((thread + i) % n_parts)];
        for (int64_t b = share.next.fetch_add(step); b < share.end; b = share.next.fetch_add(step))
          run_tiles(b, std::min(share.end, b + step));
      }
    });
    return;
  }
  // Many tokens: compute-bound, so chunks taken by whichever thread is free.
  const int n_chunks =
      static_cast<int>(std::min<int64_t>(total_tiles, int64_t{kChunksPerThread} * n_threads));
  std::atomic<int> next_chunk{0};
  pool.run([&](int, int) {
    for (int c = next_chunk.fetch_add(1); c < n_chunks; c = next_chunk.fetch_add(1)) {
      const auto [begin, end] = runtime::split_range(total_tiles, c, n_chunks);
      run_tiles(begin, end);
    }
  });
}

}  // namespace hy2bit::kernels
