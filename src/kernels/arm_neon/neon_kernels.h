// The Arm NEON paths: "neon" (armv8.2-a AdvSIMD + dotprod + fp16) and
// "neon_i8mm" (the same plus i8mm smmla for multi-token GEMMs). Row tiles of
// 8 rows, rows 0-3 and 4-7 in the 32-bit lanes of two q registers, so integer
// sums come out per row with no horizontal reduction. Layouts: packed_layouts.h
// with R = 8 (Q8_0 signed). No intrinsics in this header.
//
// Integer dot products. Every weight code is a valid *signed* int8: q2_0c
// codes 0..3, Q4_0 nibbles 0..15, Q6_K codes 0..63, Q8_0 weights -128..127.
// So plain sdot (vdotq_laneq_s32) and smmla (vmmlaq_s32) multiply them with
// the s8 activations exactly, no usdot and no offset needed; the constant
// parts (-3 sum(a), -8 sum(a), -32 sum16(a)) come from the activation sums as
// on the scalar path, which makes every integer block sum identical to it.
// Then acc = fma(d_w * d_a, float(isum), acc) per block in k order, as scalar.
//
// Single tokens (and the "neon" path's prefill): sdot by element,
// vdotq_laneq_s32(acc, codes, a, j): the 16-byte code vector holds the 4
// rows' dwords of 4 consecutive k, lane j of the 16 activation bytes a holds
// those k: one sdot is 16 multiply-adds for 4 rows, the broadcast is free.
// "neon_i8mm" prefill: smmla on token pairs: zipping two such code vectors
// gives 2 rows x 8 consecutive k (one smmla operand), two tokens' 8 bytes of
// activations the other: 32 multiply-adds per instruction, results
// [r0 t0, r0 t1, r1 t0, r1 t1] unzipped to token order at the end.
#pragma once

#include <cstdint>

#include "kernels/kernel_table.h"
#include "kernels/packed_layouts.h"

namespace hy2bit::kernels::neon {

constexpr int kRows = 8;  // rows per tile: two q registers of 4 rows

using Q2_0CTiles = PackedMatrix<PackedD<kRows>, PackedQ2_0C<kRows>>;
using Q6_KTiles = PackedMatrix<PackedQ6_KHead<kRows>, PackedQ6_K<kRows>>;
using Q8_0Tiles = PackedMatrix<PackedD<kRows>, PackedQ8_0<kRows>>;
using Q4_0Tiles = PackedMatrix<PackedD<kRows>, PackedQ4_0<kRows>>;

// Activation quantizers: the same bytes as scalar::quantize_acts_*.
void quantize_acts_q8k(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts);
void quantize_acts_q8_0(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts);

// Row-range GEMMs: y[t * ldy + r] for every token and r in [row_begin,
// row_end); row_begin is a multiple of kRows. The plain ones use sdot only;
// the _i8mm ones use smmla for token pairs (the CPU must have i8mm).
void gemm_q2_0c(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                float* y, int64_t ldy);
void gemm_q2_0c_i8mm(const Q2_0CTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                     float* y, int64_t ldy);
void gemm_q6_k(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy);
void gemm_q6_k_i8mm(const Q6_KTiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                    float* y, int64_t ldy);
void gemm_q8_0(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy);
void gemm_q8_0_i8mm(const Q8_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                    float* y, int64_t ldy);
void gemm_q4_0(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end, float* y,
               int64_t ldy);
void gemm_q4_0_i8mm(const Q4_0Tiles& w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
                    float* y, int64_t ldy);
void gemm_f32(const PackedFloat<float>& w, const float* x, int64_t n_tokens, int64_t row_begin,
              int64_t row_end, float* y, int64_t ldy);
void gemm_f16(const PackedFloat<formats::f16_bits>& w, const float* x, int64_t n_tokens,
              int64_t row_begin, int64_t row_end, float* y, int64_t ldy);
void gemm_bf16(const PackedFloat<formats::bf16_bits>& w, const float* x, int64_t n_tokens,
               int64_t row_begin, int64_t row_end, float* y, int64_t ldy);

// Table entries; use_i8mm picks the smmla GEMMs for the integer types.
TypeKernels q2_0c_kernels(bool use_i8mm);
TypeKernels q6_k_kernels(bool use_i8mm);
TypeKernels q8_0_kernels(bool use_i8mm);
TypeKernels q4_0_kernels(bool use_i8mm);
TypeKernels f32_kernels();
TypeKernels f16_kernels();
TypeKernels bf16_kernels();

// The "neon_i8mm" path's table (make_table() in kernel_table.h is "neon").
// Call only when the CPU has dotprod, fp16 and i8mm.
KernelTable make_i8mm_table();

// The float loops of the forward pass (kernels/float_ops.h).
FloatOps float_ops();

}  // namespace hy2bit::kernels::neon
