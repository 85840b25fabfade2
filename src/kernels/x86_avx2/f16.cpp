// AVX2 F16 GEMM: the float outer-product kernel (float_gemm.h) on fp16
// tiles, widened with vcvtph2ps (F16C) as they are loaded.
#include "kernels/x86_avx2/float_gemm.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {

void gemm_f16(const PackedFloat<formats::f16_bits>& w, const float* x, int64_t n_tokens,
              int64_t row_begin, int64_t row_end, float* y, int64_t ldy) {
  simd::float_gemm<FloatVec>(w, x, n_tokens, row_begin, row_end, y, ldy,
             [](const formats::f16_bits* p) { return load_f16x8(p); });
}

TypeKernels f16_kernels() { return simd::float_kernels<kRows, formats::f16_bits, gemm_f16>(); }

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
