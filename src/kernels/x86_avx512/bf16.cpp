// AVX-512 BF16 GEMM: the float outer-product kernel (float_gemm.h) on bf16
// tiles, widened exactly (bf16 bits << 16) as they are loaded.
#include "kernels/x86_avx512/float_gemm.h"

namespace hy2bit::kernels::avx512 {

void gemm_bf16(const PackedFloat<formats::bf16_bits>& w, const float* x, int64_t n_tokens,
               int64_t row_begin, int64_t row_end, float* y, int64_t ldy) {
  const auto widen = [](const formats::bf16_bits* p) {
    const __m512i wide =
        _mm512_cvtepu16_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  };
  simd::float_gemm<FloatVec>(w, x, n_tokens, row_begin, row_end, y, ldy, widen);
}

TypeKernels bf16_kernels() { return simd::float_kernels<kRows, formats::bf16_bits, gemm_bf16>(); }

}  // namespace hy2bit::kernels::avx512
