// q2_0c reference decode, encode and fit check; see q2_0c.h for the layout
// and docs/q2_0c.md for the quantizer this matches byte for byte.
#include "formats/q2_0c.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "formats/float_types.h"

namespace hy2bit::formats {

void dequantize_q2_0c(std::span<const BlockQ2_0C> blocks, float* dst) {
  for (const BlockQ2_0C& block : blocks) {
    const float d = f16_to_f32(block.d);
    for (int b = 0; b < BlockQ2_0C::kElems / 4; ++b) {
      const uint8_t byte = block.qs[b];
      // Byte b holds weights 4b..4b+3 at bit shifts 0, 2, 4, 6.
      for (int k = 0; k < 4; ++k) {
        const auto code = static_cast<uint8_t>((byte >> (2 * k)) & 3u);
        dst[4 * b + k] = static_cast<float>(q2_0c_level(code)) * d;
      }
    }
    dst += BlockQ2_0C::kElems;
  }
}

void quantize_row_q2_0c(const float* src, std::span<BlockQ2_0C> row) {
  const int64_t n = static_cast<int64_t>(row.size()) * BlockQ2_0C::kElems;
  if (n == 0) return;

  // One scale for the whole row, from its range.
  float xmin = src[0];
  float xmax = src[0];
  for (int64_t i = 1; i < n; ++i) {
    xmin = std::min(xmin, src[i]);
    xmax = std::max(xmax, src[i]);
  }
  const float d = (xmax - xmin) / 6.0f;
  if (d == 0.0f) {
    std::memset(row.data(), 0, row.size_bytes());
    return;
  }
  const float inv_d = 1.0f / d;
  const f16_bits d_bits = f32_to_f16(d);

  for (BlockQ2_0C& block : row) {
    block.d = d_bits;
    std::memset(block.qs, 0, sizeof(block.qs));
    for (int j = 0; j < BlockQ2_0C::kElems; ++j) {
      // lrintf rounds to nearest even in the default rounding mode; a nan
      // input gives an out-of-range long that the clamp turns into -3.
      const long rounded = std::lrint(src[j] * inv_d);
      const int level = static_cast<int>(std::clamp(rounded, -3L, 3L));
      block.qs[j / 4] = static_cast<uint8_t>(block.qs[j / 4] | (q2_0c_code(level) << (2 * (j % 4))));
    }
    src += BlockQ2_0C::kElems;
  }
}

RowFit fit_row_q2_0c(const float* src, std::span<const BlockQ2_0C> row) {
  RowFit fit;
  float decoded[BlockQ2_0C::kElems];
  for (const BlockQ2_0C& block : row) {
    dequantize_q2_0c({&block, 1}, decoded);
    for (int j = 0; j < BlockQ2_0C::kElems; ++j) {
      if (decoded[j] == src[j]) continue;
      fit.exact = false;
      const float error = std::fabs(decoded[j] - src[j]);
      // A nan error (nan input) counts as the worst possible.
      fit.max_abs_error = std::isnan(error) ? error : std::max(fit.max_abs_error, error);
    }
    src += BlockQ2_0C::kElems;
  }
  return fit;
}

}  // namespace hy2bit::formats
