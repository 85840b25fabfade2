// Writes one token's quantized activations into ActsQ8::qs_tiled (the
// token-interleaved copy multi-token kernels read). Shared by the quantizers
// of every path; internal linkage so each ISA file keeps its own copy.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/kernel_table.h"

namespace hy2bit::kernels {
namespace {

// Copies qs[t][0 .. n_cols) into the tiled layout (no-op without one).
inline void write_tiled_token(const ActsQ8& acts, int64_t t) {
  if (acts.qs_tiled == nullptr) return;
  const int8_t* src = acts.qs + t * acts.n_cols;
  int8_t* dst = acts.qs_tiled + tiled_dword_offset(acts, t, 0);
  const int64_t stride = acts.tile_tokens * 4;
  for (int64_t c = 0; c < acts.n_cols / 4; ++c) std::memcpy(dst + c * stride, src + 4 * c, 4);
}

}  // namespace
}  // namespace hy2bit::kernels
