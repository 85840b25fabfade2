// NEON BF16 GEMM: the float outer-product kernel (float_gemm.h) on bf16
// tiles, widened exactly (bf16 bits << 16, shll) as they are loaded.
#include "kernels/arm_neon/float_gemm.h"

namespace hy2bit::kernels::neon {

void gemm_bf16(const PackedFloat<formats::bf16_bits>& w, const float* x, int64_t n_tokens,
               int64_t row_begin, int64_t row_end, float* y, int64_t ldy) {
  float_gemm(w, x, n_tokens, row_begin, row_end, y, ldy, [](const formats::bf16_bits* p) {
    const uint16x8_t v = vld1q_u16(p);
    return F32x8{vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16)),
                 vreinterpretq_f32_u32(vshll_high_n_u16(v, 16))};
  });
}

TypeKernels bf16_kernels() { return simd::float_kernels<kRows, formats::bf16_bits, gemm_bf16>(); }

}  // namespace hy2bit::kernels::neon
