// Scalar Q4_0 GEMM (the oracle): per row and 32-element block,
// isum = sum(n * q) - 8 * sum(q) (weights are n - 8 with nibbles n), then
// acc = fma(d * d_act, float(isum), acc).
#include <cmath>

#include "kernels/scalar/half.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {

using formats::BlockQ4_0;

void gemm_q4_0(std::span<const BlockQ4_0> w, const ActsQ8& acts, int64_t row_begin, int64_t row_end,
               float* y, int64_t ldy) {
  const int64_t n_blocks = acts.n_cols / BlockQ4_0::kElems;
  for (int64_t r = row_begin; r < row_end; ++r) {
    const BlockQ4_0* row = w.data() + r * n_blocks;
    for (int64_t t = 0; t < acts.n_tokens; ++t) {
      const int8_t* q = acts.qs + t * acts.n_cols;
      const float* act_d = acts.d + t * n_blocks;
      const int32_t* act_sum = acts.sums + t * n_blocks;
      float acc = 0.0f;
      for (int64_t b = 0; b < n_blocks; ++b) {
        const int8_t* qb = q + 32 * b;
        int32_t dot = 0;
        for (int i = 0; i < 16; ++i)
          dot += (row[b].qs[i] & 0xF) * qb[i] + (row[b].qs[i] >> 4) * qb[i + 16];
        const int32_t isum = dot - 8 * act_sum[b];
        acc = std::fma(half_to_f32(row[b].d) * act_d[b], static_cast<float>(isum), acc);
      }
      y[t * ldy + r] = acc;
    }
  }
}

TypeKernels q4_0_kernels() {
  TypeKernels k;
  k.quantize = quantize_acts_q8_0;
  k.act_block = kActBlockQ8_0;
  k.gemm = [](const GemmArgs& a, int64_t row_begin, int64_t row_end) {
    const WeightView& v = a.w->view();
    const std::span<const BlockQ4_0> blocks(reinterpret_cast<const BlockQ4_0*>(v.data.data()),
                                            v.data.size() / sizeof(BlockQ4_0));
    gemm_q4_0(blocks, *a.acts, row_begin, row_end, a.y, a.ldy);
  };
  return k;
}

}  // namespace hy2bit::kernels::scalar
