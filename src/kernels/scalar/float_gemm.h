// The scalar float GEMM shared by the F32, F16 and BF16 files: y = x * W^T
// with f32 products summed in k order in one f32 accumulator. Internal
// linkage (see half.h).
#pragma once

#include <cstdint>

namespace hy2bit::kernels::scalar {
namespace {

template <typename T, typename Decode>
void float_gemm(const T* w, int64_t n_cols, const float* x, int64_t n_tokens, int64_t row_begin,
                int64_t row_end, float* y, int64_t ldy, Decode decode) {
  for (int64_t r = row_begin; r < row_end; ++r) {
    const T* row = w + r * n_cols;
    for (int64_t t = 0; t < n_tokens; ++t) {
      const float* xt = x + t * n_cols;
      float acc = 0.0f;
      for (int64_t k = 0; k < n_cols; ++k) acc += decode(row[k]) * xt[k];
      y[t * ldy + r] = acc;
    }
  }
}

}  // namespace
}  // namespace hy2bit::kernels::scalar
