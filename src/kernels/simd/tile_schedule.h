// The walk every SIMD GEMM shares, for any row tile size: blocks of tokens,
// then the row tiles of the thread's range, then the block's tokens in
// groups of kTokenTile (a template constant, so each group's accumulators
// live in registers); the last group takes a smaller instantiation. Each
// path's tile_loop.h binds kRows (for_each_tile). Internal linkage, so each
// path's copy is compiled with its own flags.
#pragma once

#include <algorithm>
#include <cstdint>

namespace hy2bit::kernels::simd {
namespace {

// Calls fn.template operator()<NT>(tile, t0, valid_rows) for NT == kMaxNT,
// or for the largest NT < kMaxNT not above n when n < kMaxNT.
template <int kMaxNT, typename Fn>
void call_with_token_count(int64_t n, Fn& fn, int64_t tile, int64_t t0, int valid_rows) {
  if constexpr (kMaxNT > 1) {
    if (n < kMaxNT) return call_with_token_count<kMaxNT - 1>(n, fn, tile, t0, valid_rows);
  }
  fn.template operator()<kMaxNT>(tile, t0, valid_rows);
}

// Tokens per block: the outer loop, so a block's activations (kTokenBlock x
// n_cols int8: 288 KiB at n_cols 6144, twice that with the token-interleaved
// copy) stay in L2 while every row tile of the thread streams past them.
constexpr int64_t kTokenBlock = 48;

// fn.template operator()<NT>(tile, t0, valid_rows) for every row tile of
// kRows rows in [row_begin, row_end) (row_begin a multiple of kRows) and
// every group of tokens.
template <int kRows, int kTokenTile, typename Fn>
void for_each_row_tile(int64_t row_begin, int64_t row_end, int64_t n_tokens, Fn&& fn) {
  static_assert(kTokenBlock % kTokenTile == 0);
  for (int64_t block = 0; block < n_tokens; block += kTokenBlock) {
    const int64_t block_end = std::min(n_tokens, block + kTokenBlock);
    for (int64_t tile = row_begin / kRows; tile * kRows < row_end; ++tile) {
      const int valid_rows = static_cast<int>(std::min<int64_t>(kRows, row_end - tile * kRows));
      int64_t t0 = block;
      for (; t0 + kTokenTile <= block_end; t0 += kTokenTile)
        fn.template operator()<kTokenTile>(tile, t0, valid_rows);
      if (t0 < block_end)
        call_with_token_count<kTokenTile - 1>(block_end - t0, fn, tile, t0, valid_rows);
    }
  }
}

}  // namespace
}  // namespace hy2bit::kernels::simd
