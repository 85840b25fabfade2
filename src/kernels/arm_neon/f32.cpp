// NEON F32 GEMM: the float outer-product kernel (float_gemm.h) on f32 tiles.
#include "kernels/arm_neon/float_gemm.h"

namespace hy2bit::kernels::neon {

void gemm_f32(const PackedFloat<float>& w, const float* x, int64_t n_tokens, int64_t row_begin,
              int64_t row_end, float* y, int64_t ldy) {
  float_gemm(w, x, n_tokens, row_begin, row_end, y, ldy,
             [](const float* p) { return F32x8{vld1q_f32(p), vld1q_f32(p + 4)}; });
}

TypeKernels f32_kernels() { return simd::float_kernels<kRows, float, gemm_f32>(); }

}  // namespace hy2bit::kernels::neon
