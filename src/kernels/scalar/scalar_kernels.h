// The scalar path: the reference every SIMD kernel is tested against, and the
// fallback on CPUs without a SIMD path. It reads the file's blocks directly
// (no repack) and spells out the exact arithmetic the SIMD paths reproduce:
// integer block sums, then acc = fma(d_weight * d_act, float(isum), acc) per
// block in k order. No intrinsics and no ISA flags here.
#pragma once

#include <cstdint>
#include <span>

#include "formats/blocks.h"
#include "kernels/kernel_table.h"

namespace hy2bit::kernels::scalar {

// Activation quantizers (format in kernel_table.h): blocks of 256 with
// sums16, and blocks of 32.
void quantize_acts_q8k(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts);
void quantize_acts_q8_0(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts);

// Row-range GEMMs: y[t * ldy + r] for tokens t < acts.n_tokens (or n_tokens)
// and rows r in [row_begin, row_end). `w` holds all rows of the matrix,
// n_cols / block_elems blocks each.
void gemm_q2_0c(std::span<const formats::BlockQ2_0C> w, const ActsQ8& acts, int64_t row_begin,
                int64_t row_end, float* y, int64_t ldy);
void gemm_q6_k(std::span<const formats::BlockQ6_K> w, const ActsQ8& acts, int64_t row_begin,
               int64_t row_end, float* y, int64_t ldy);
void gemm_q8_0(std::span<const formats::BlockQ8_0> w, const ActsQ8& acts, int64_t row_begin,
               int64_t row_end, float* y, int64_t ldy);
void gemm_q4_0(std::span<const formats::BlockQ4_0> w, const ActsQ8& acts, int64_t row_begin,
               int64_t row_end, float* y, int64_t ldy);
// Float weights with f32 activations x [n_tokens][n_cols]; w is [n_rows][n_cols].
void gemm_f32(std::span<const float> w, int64_t n_cols, const float* x, int64_t n_tokens,
              int64_t row_begin, int64_t row_end, float* y, int64_t ldy);
void gemm_f16(std::span<const formats::f16_bits> w, int64_t n_cols, const float* x,
              int64_t n_tokens, int64_t row_begin, int64_t row_end, float* y, int64_t ldy);
void gemm_bf16(std::span<const formats::bf16_bits> w, int64_t n_cols, const float* x,
               int64_t n_tokens, int64_t row_begin, int64_t row_end, float* y, int64_t ldy);

// Table entries (each defined beside its kernel).
TypeKernels q2_0c_kernels();
TypeKernels q6_k_kernels();
TypeKernels q8_0_kernels();
TypeKernels q4_0_kernels();
TypeKernels f32_kernels();
TypeKernels f16_kernels();
TypeKernels bf16_kernels();

// The float loops of the forward pass (kernels/float_ops.h).
FloatOps float_ops();

}  // namespace hy2bit::kernels::scalar
