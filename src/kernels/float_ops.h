// The forward pass's float loops outside the matmuls, one table per ISA path
// (KernelTable::ops): SwiGLU, softmax, the register blocks of attention and
// the KV cache's f16 rows. The SIMD paths point at copies of one source
// (kernels/simd/float_ops.h) built with each path's flags; scalar points at
// plain loops (scalar/float_ops.cpp), so HY2BIT_ISA governs these loops as it
// governs the GEMMs. The attention blocks work on kAttnHeadBlock query rows
// at once (the heads of a GQA group share every key and value load); rows
// are pointers so a partial group can repeat a head into spare rows.
#pragma once

#include <cstdint>

namespace hy2bit::kernels {

inline constexpr int kAttnHeadBlock = 4;

struct FloatOps {
  // gate[i] = silu(gate[i]) * up[i] for n elements.
  void (*swiglu)(float* gate, const float* up, int64_t n) = nullptr;
  // In-place softmax over n scores (the sum accumulated in double, as ggml).
  void (*softmax)(float* x, int64_t n) = nullptr;
  // att[r][j] = scale * q[r] . k_j for j in [j_begin, j_end), the keys stored
  // transposed: keys_t[d * stride + j]; each sum runs over d in order.
  void (*scores_rows)(const float* const* q, const float* keys_t, int64_t stride, int64_t j_begin,
                      int64_t j_end, int64_t head_dim, float scale, float* const* att) = nullptr;
  // out[r] += sum over j in [j_begin, j_end) of att[r][j] * values[j * head_dim ..],
  // each element summed over j in order.
  void (*weighted_sums)(const float* const* att, const float* values, int64_t j_begin,
                        int64_t j_end, int64_t head_dim, float* const* out) = nullptr;
  // att[r][j] = scale * q[r] . k for one key row k (decode).
  void (*dot_rows)(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j,
                   float* const* att) = nullptr;
  // The same for the 16 key rows k .. k + 15 * head_dim at positions j0 .. j0 + 15.
  void (*dot_rows16)(const float* const* q, const float* k, int64_t head_dim, float scale,
                     int64_t j0, float* const* att) = nullptr;
  // out[r] += att[r][j] * v for one value row v (decode).
  void (*add_scaled_rows)(float* const* att, int64_t j, const float* v, int64_t head_dim,
                          float* const* out) = nullptr;
  // The same for the 16 value rows v .. v + 15 * head_dim at positions j0 .. j0 + 15.
  void (*add_scaled_rows16)(float* const* att, int64_t j0, const float* v, int64_t head_dim,
                            float* const* out) = nullptr;
  // f16 -> f32 for n elements of each of n_rows rows (src_stride elements and
  // dst_stride floats apart); exact on every path.
  void (*f16_rows_to_f32)(const uint16_t* src, int64_t src_stride, int64_t n_rows, int64_t n,
                          float* dst, int64_t dst_stride) = nullptr;
  // f32 -> f16, round to nearest even (as formats::f32_to_f16) on every path.
  void (*f32_to_f16)(const float* src, uint16_t* dst, int64_t n) = nullptr;
};

}  // namespace hy2bit::kernels
