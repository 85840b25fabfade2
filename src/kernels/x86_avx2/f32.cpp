// AVX2 F32 GEMM: the float outer-product kernel (float_gemm.h) on f32 tiles.
#include "kernels/x86_avx2/float_gemm.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {

void gemm_f32(const PackedFloat<float>& w, const float* x, int64_t n_tokens, int64_t row_begin,
              int64_t row_end, float* y, int64_t ldy) {
  simd::float_gemm<FloatVec>(w, x, n_tokens, row_begin, row_end, y, ldy,
             [](const float* p) { return _mm256_load_ps(p); });
}

TypeKernels f32_kernels() { return simd::float_kernels<kRows, float, gemm_f32>(); }

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
