// Scalar F16 GEMM (the oracle for the SIMD F16 kernels): f32 activations,
// weights decoded to f32, one f32 accumulator per output summed in k order.
#include "kernels/scalar/float_gemm.h"
#include "kernels/scalar/half.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

void gemm_f16(std::span<const formats::f16_bits> w, int64_t n_cols, const float* x,
              int64_t n_tokens, int64_t row_begin, int64_t row_end, float* y, int64_t ldy) {
  float_gemm(w.data(), n_cols, x, n_tokens, row_begin, row_end, y, ldy,
             [](formats::f16_bits h) { return half_to_f32(h); });
}

TypeKernels f16_kernels() {
  TypeKernels k;
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    const WeightView& v = a.w->view();
    const std::span<const formats::f16_bits> w(
        reinterpret_cast<const formats::f16_bits*>(v.data.data()),
        static_cast<size_t>(v.n_rows * v.n_cols));
    gemm_f16(w, v.n_cols, a.x, a.n_tokens, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace hy2bit::kernels::scalar
