// The AVX-512 path (F/BW/VL/DQ/VNNI/VBMI): row tiles of 16 rows, one row per
// 32-bit lane, integer dot products with vpdpbusd (u8 codes x s8 activations),
// bit-exact with the scalar path for every integer type (same block sums,
// same f32 fma order). Layouts: packed_layouts.h with R = 16.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/packed_layouts.h"

namespace hy2bit::kernels::avx512 {

constexpr int kRows = 16;  // rows per tile: one per 32-bit lane of a zmm register

using Q2_0CTiles = PackedMatrix<PackedD<kRows>, PackedQ2_0C<kRows>>;
using Q6_KTiles = PackedMatrix<PackedQ6_KHead<kRows>, PackedQ6_K<kRows>>;
using Q8_0Tiles = PackedMatrix<PackedD<kRows>, PackedQ8_0<kRows>>;
using Q4_0Tiles = PackedMatrix<PackedD<kRows>, PackedQ4_0<kRows>>;

// Activation quantizers: the same bytes as scalar::quantize_acts_*.
void quantize_acts_q8k(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts);
void quantize_acts_q8_0(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts);

// Row-range GEMMs: y[t * ldy + r] for every token and r in [row_begin,
// row_end); row_begin is a multiple of kRows.
void gemm_q2_0c(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                float* y, int64_t ldy);
void gemm_q6_k(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy);
void gemm_q8_0(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy);
void gemm_q4_0(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy);
void gemm_f32(const PackedFloat<float>& w, const float* x, int64_t n_tokens, int64_t row_begin,
              int64_t row_end, float* y, int64_t ldy);
void gemm_f16(const PackedFloat<formats::f16_bits>& w, const float* x, int64_t n_tokens,
              int64_t row_begin, int64_t row_end, float* y, int64_t ldy);
void gemm_bf16(const PackedFloat<formats::bf16_bits>& w, const float* x, int64_t n_tokens,
               int64_t row_begin, int64_t row_end, float* y, int64_t ldy);

TypeKernels q2_0c_kernels();
TypeKernels q6_k_kernels();
TypeKernels q8_0_kernels();
TypeKernels q4_0_kernels();
TypeKernels f32_kernels();
TypeKernels f16_kernels();
TypeKernels bf16_kernels();

// The float loops of the forward pass (kernels/float_ops.h).
FloatOps float_ops();

}  // namespace hy2bit::kernels::avx512
