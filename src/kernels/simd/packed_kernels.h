// The table entry of an integer weight type on a SIMD path, for every type
// and path: weights repacked into tiles of kRows rows (packed_layouts.h:
// one Head and Block struct per tile and block of columns), activations
// quantized into blocks of act_block (act_tile_tokens tokens interleaved for
// multi-token kernels, 0: none), and Gemm, the path's kernel over the packed
// view. Internal linkage, so each path's copy is compiled with its own flags.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/packed_layouts.h"

namespace hy2bit::kernels::simd {
namespace {

template <int kRows, typename Head, typename Block, auto Gemm>
TypeKernels packed_kernels(QuantizeActsFn quantize, int64_t act_block, int64_t act_tile_tokens,
                           RepackFn repack) {
  TypeKernels k;
  k.quantize = quantize;
  k.act_block = act_block;
  k.act_tile_tokens = act_tile_tokens;
  k.row_tile = kRows;
  k.repacked_bytes = [](int64_t n_rows, int64_t n_cols) {
    return packed_bytes(n_rows, n_cols, kRows, Block::kElems, sizeof(Head), sizeof(Block));
  };
  k.repack = repack;
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    Gemm(packed_view<Head, Block, kRows>(*a.w), *a.acts, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace
}  // namespace hy2bit::kernels::simd
