// Q8_0 reference decode and encode; see q8_0.h for the layout.
#include "formats/q8_0.h"

#include <algorithm>
#include <cmath>

#include "formats/float_types.h"

namespace hy2bit::formats {
namespace {

// roundf(scaled) as int8. Finite input stays within [-127, 127]; a nan (from
// an inf or nan weight) becomes 0, as ggml's truncating conversion gives on x86.
int8_t round_to_int8(float scaled) {
  const float rounded = std::round(scaled);
  if (!(rounded == rounded)) return 0;
  return static_cast<int8_t>(std::clamp(rounded, -128.0f, 127.0f));
}

}  // namespace

void dequantize_q8_0(std::span<const BlockQ8_0> blocks, float* dst) {
  for (const BlockQ8_0& block : blocks) {
    const float d = f16_to_f32(block.d);
    for (int j = 0; j < BlockQ8_0::kElems; ++j) dst[j] = static_cast<float>(block.qs[j]) * d;
    dst += BlockQ8_0::kElems;
  }
}

void quantize_q8_0(const float* src, std::span<BlockQ8_0> blocks) {
  for (BlockQ8_0& block : blocks) {
    // Same comparison shape as ggml's MAX(amax, fabsf(v)), so a nan behaves alike.
    float amax = 0.0f;
    for (int j = 0; j < BlockQ8_0::kElems; ++j) {
      const float a = std::fabs(src[j]);
      amax = amax > a ? amax : a;
    }
    const float d = amax / 127.0f;
    const float inv_d = d != 0.0f ? 1.0f / d : 0.0f;
    block.d = f32_to_f16(d);
    for (int j = 0; j < BlockQ8_0::kElems; ++j) block.qs[j] = round_to_int8(src[j] * inv_d);
    src += BlockQ8_0::kElems;
  }
}

}  // namespace hy2bit::formats
