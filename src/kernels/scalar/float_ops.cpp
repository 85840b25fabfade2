// The scalar path's float loops (kernels/float_ops.h): the plain definitions,
// one element at a time, with std::exp; the reference the SIMD paths'
// copies of kernels/simd/float_ops.h are tested against.
#include <algorithm>
#include <cmath>
#include <limits>

#include "formats/convert.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {
namespace {

void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) gate[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void softmax(float* x, int64_t n) {
  float max_value = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max_value = std::max(max_value, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv_sum;
}

void scores_rows(const float* const* q, const float* keys_t, int64_t stride, int64_t j_begin,
                 int64_t j_end, int64_t head_dim, float scale, float* const* att) {
  for (int r = 0; r < kAttnHeadBlock; ++r)
    for (int64_t j = j_begin; j < j_end; ++j) {
      float sum = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) sum += q[r][d] * keys_t[d * stride + j];
      att[r][j] = sum * scale;
    }
}

void weighted_sums(const float* const* att, const float* values, int64_t j_begin, int64_t j_end,
                   int64_t head_dim, float* const* out) {
  for (int r = 0; r < kAttnHeadBlock; ++r)
    for (int64_t j = j_begin; j < j_end; ++j)
      for (int64_t d = 0; d < head_dim; ++d) out[r][d] += att[r][j] * values[j * head_dim + d];
}

void dot_rows(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j,
              float* const* att) {
  for (int r = 0; r < kAttnHeadBlock; ++r) {
    float sum = 0.0f;
    for (int64_t d = 0; d < head_dim; ++d) sum += q[r][d] * k[d];
    att[r][j] = sum * scale;
  }
}

void dot_rows16(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j0,
                float* const* att) {
  for (int p = 0; p < 16; ++p) dot_rows(q, k + p * head_dim, head_dim, scale, j0 + p, att);
}

void add_scaled_rows(float* const* att, int64_t j, const float* v, int64_t head_dim,
                     float* const* out) {
  for (int r = 0; r < kAttnHeadBlock; ++r)
    for (int64_t d = 0; d < head_dim; ++d) out[r][d] += att[r][j] * v[d];
}

void add_scaled_rows16(float* const* att, int64_t j0, const float* v, int64_t head_dim,
                       float* const* out) {
  for (int p = 0; p < 16; ++p) add_scaled_rows(att, j0 + p, v + p * head_dim, head_dim, out);
}

void f16_rows_to_f32(const uint16_t* src, int64_t src_stride, int64_t n_rows, int64_t n,
                     float* dst, int64_t dst_stride) {
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t i = 0; i < n; ++i)
      dst[r * dst_stride + i] = formats::f16_to_f32(src[r * src_stride + i]);
}

void f32_to_f16(const float* src, uint16_t* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = formats::f32_to_f16(src[i]);
}

}  // namespace

FloatOps float_ops() {
  return {.swiglu = swiglu, .softmax = softmax, .scores_rows = scores_rows,
          .weighted_sums = weighted_sums, .dot_rows = dot_rows, .dot_rows16 = dot_rows16,
          .add_scaled_rows = add_scaled_rows, .add_scaled_rows16 = add_scaled_rows16,
          .f16_rows_to_f32 = f16_rows_to_f32, .f32_to_f16 = f32_to_f16};
}

}  // namespace hy2bit::kernels::scalar
