// AVX2 BF16 GEMM: the float outer-product kernel (float_gemm.h) on bf16
// tiles, widened exactly (bf16 bits << 16) as they are loaded.
#include "kernels/x86_avx2/float_gemm.h"

namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE {

void gemm_bf16(const PackedFloat<formats::bf16_bits>& w, const float* x, int64_t n_tokens,
               int64_t row_begin, int64_t row_end, float* y, int64_t ldy) {
  const auto widen = [](const formats::bf16_bits* p) {
    const __m256i wide = _mm256_cvtepu16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  };
  simd::float_gemm<FloatVec>(w, x, n_tokens, row_begin, row_end, y, ldy, widen);
}

TypeKernels bf16_kernels() { return simd::float_kernels<kRows, formats::bf16_bits, gemm_bf16>(); }

}  // namespace hy2bit::kernels::HY2BIT_AVX2_NAMESPACE
