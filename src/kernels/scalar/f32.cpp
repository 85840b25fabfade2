// Scalar F32 GEMM (the oracle for the SIMD F32 kernels): f32 activations,
// weights decoded to f32, one f32 accumulator per output summed in k order.
#include "kernels/scalar/float_gemm.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

void gemm_f32(std::span<const float> w, int64_t n_cols, const float* x, int64_t n_tokens,
              int64_t row_begin, int64_t row_end, float* y, int64_t ldy) {
  float_gemm(w.data(), n_cols, x, n_tokens, row_begin, row_end, y, ldy, [](float v) { return v; });
}

TypeKernels f32_kernels() {
  TypeKernels k;
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    const WeightView& v = a.w->view();
    const std::span<const float> w(reinterpret_cast<const float*>(v.data.data()),
                                   static_cast<size_t>(v.n_rows * v.n_cols));
    gemm_f32(w, v.n_cols, a.x, a.n_tokens, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace hy2bit::kernels::scalar
