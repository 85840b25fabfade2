// Scalar activation quantizers: the definition of the ActsQ8 bytes every path
// must reproduce exactly (kernel_table.h spells out the rounding).
#include <algorithm>
#include <cmath>

#include "kernels/acts_tiling.h"
#include "kernels/scalar/scalar_kernels.h"

namespace hy2bit::kernels::scalar {
namespace {

// Quantizes n floats to int8 with one scale; returns the scale.
float quantize_block(const float* x, int64_t n, int8_t* q) {
  float amax = 0.0f;
  for (int64_t i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  if (amax == 0.0f) {
    std::fill(q, q + n, int8_t{0});
    return 0.0f;
  }
  const float inv_scale = 127.0f / amax;
  for (int64_t i = 0; i < n; ++i) {
    // lrintf rounds to nearest even, as the SIMD converts do.
    const long v = std::lrint(x[i] * inv_scale);
    q[i] = static_cast<int8_t>(std::clamp(v, -127L, 127L));
  }
  return amax / 127.0f;
}

void quantize_tokens(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts) {
  const int64_t n_cols = acts.n_cols;
  const int64_t n_blocks = n_cols / acts.block;
  for (int64_t t = token_begin; t < token_end; ++t) {
    const float* xt = x + t * n_cols;
    int8_t* qt = acts.qs + t * n_cols;
    for (int64_t b = 0; b < n_blocks; ++b) {
      int8_t* q = qt + b * acts.block;
      acts.d[t * n_blocks + b] = quantize_block(xt + b * acts.block, acts.block, q);
      int32_t sum = 0;
      for (int64_t i = 0; i < acts.block; ++i) sum += q[i];
      acts.sums[t * n_blocks + b] = sum;
    }
    write_tiled_token(acts, t);
    if (acts.sums16 == nullptr) continue;
    for (int64_t g = 0; g < n_cols / 16; ++g) {
      int32_t sum = 0;
      for (int i = 0; i < 16; ++i) sum += qt[16 * g + i];
      acts.sums16[t * (n_cols / 16) + g] = sum;
    }
  }
}

}  // namespace

void quantize_acts_q8k(const float* x, int64_t token_begin, int64_t token_end, const ActsQ8& acts) {
  quantize_tokens(x, token_begin, token_end, acts);
}

void quantize_acts_q8_0(const float* x, int64_t token_begin, int64_t token_end,
                        const ActsQ8& acts) {
  quantize_tokens(x, token_begin, token_end, acts);
}

}  // namespace hy2bit::kernels::scalar
