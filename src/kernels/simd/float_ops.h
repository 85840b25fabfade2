// The float loops of FloatOps (kernels/float_ops.h), written once for every
// SIMD path: plain loops and register blocks of 16 floats (GCC's vector
// extension) that the compiler maps to each target's registers: one zmm
// with AVX-512, two ymm with AVX2, four q registers with NEON. Each path's
// float_ops.cpp includes this file, so every copy is compiled with that
// path's flags; internal linkage keeps the copies apart. The scalar path
// does not use it (scalar/float_ops.cpp is the independent reference).
// Per-target escapes: the f16 conversions use F16C where the target has it.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "formats/convert.h"
#include "kernels/float_ops.h"
#if defined(__F16C__)
#include "kernels/x86_simd.h"
#endif

namespace hy2bit::kernels::simd {
namespace {

// exp(x) within a few ulp of expf, for x clamped to [-87.3, 88.7] (so
// exp_approx(-inf) is ~2^-126, not 0): x = n ln2 + r with |r| <= ln2 / 2,
// exp(r) by Cephes' degree-7 polynomial, 2^n through the exponent bits.
// Branch-free, so loops over it vectorise (glibc's expf does not).
inline float exp_approx(float x) {
  x = std::min(std::max(x, -87.3f), 88.7f);
  const float n = std::nearbyint(x * 1.44269504088896341f);
  const float r = std::fma(n, -1.428606820309417e-6f, std::fma(n, -0.693145751953125f, x));
  float p = 1.9875691500e-4f;
  p = std::fma(p, r, 1.3981999507e-3f);
  p = std::fma(p, r, 8.3334519073e-3f);
  p = std::fma(p, r, 4.1665795894e-2f);
  p = std::fma(p, r, 1.6666665459e-1f);
  p = std::fma(p, r, 5.0000001201e-1f);
  const float e = std::fma(p * r, r, r) + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  return e * std::bit_cast<float>(bits);
}

void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + exp_approx(-g)) * up[i];
  }
}

void softmax(float* x, int64_t n) {
  constexpr int kLanes = 16;  // independent maxima and sums, so the loops vectorise
  float lane_max[kLanes];
  for (float& m : lane_max) m = -std::numeric_limits<float>::infinity();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_max[l] = x[i + l] > lane_max[l] ? x[i + l] : lane_max[l];
  float max_value = -std::numeric_limits<float>::infinity();
  for (float m : lane_max) max_value = std::max(max_value, m);
  for (; i < n; ++i) max_value = std::max(max_value, x[i]);
  for (i = 0; i < n; ++i) x[i] = exp_approx(x[i] - max_value);
  double lane_sum[kLanes] = {};  // in double, as ggml sums
  for (i = 0; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane_sum[l] += x[i + l];
  double sum = 0.0;
  for (double s : lane_sum) sum += s;
  for (; i < n; ++i) sum += x[i];
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (i = 0; i < n; ++i) x[i] *= inv_sum;
}

// Positions (scores) and head dims (weighted sums) per register block: 64
// keys or values per loaded attention value, so loads stay fewer than the
// multiply-adds (with 16 positions and 32 dims they outnumbered them).
// scores_rows falls back to 16-position blocks where a key block ends.
constexpr int kWidePosBlock = 64;
constexpr int kPosBlock = 16;
constexpr int kDimBlock = 64;

// 16 floats as one value (GCC vector extension: one zmm with AVX-512, two
// ymm with AVX2), so register blocks stay in registers: GCC kept the plain
// float[4][16] accumulators on the stack, a store-forwarding round trip per
// multiply-add.
typedef float Floats16 __attribute__((vector_size(64)));

// Always inlined, so the vector never crosses a call: GCC's
// -Wpsabi note (about passing it without AVX-512) does not apply, here or at
// the uses below, up to the matching pop.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
[[gnu::always_inline]] inline Floats16 load16(const float* p) {
  Floats16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

[[gnu::always_inline]] inline void store16(float* p, const Floats16& v) { std::memcpy(p, &v, sizeof(v)); }

// att[r][j] = scale * q[r] . k_j for the kAttnHeadBlock query rows and j in
// [j_begin, j_end), with the keys stored transposed (keys_t[d * stride + j]).
// Blocks of 64 (then 16) positions x 4 rows stay in registers while d runs; each sum
// runs over d in order, as a plain dot product would.
void scores_rows(const float* const* q, const float* keys_t, int64_t stride, int64_t j_begin,
                 int64_t j_end, int64_t head_dim, float scale, float* const* att) {
  int64_t j0 = j_begin;
  for (; j0 + kWidePosBlock <= j_end; j0 += kWidePosBlock) {
    Floats16 acc[kAttnHeadBlock][kWidePosBlock / 16] = {};
    for (int64_t d = 0; d < head_dim; ++d) {
      Floats16 k[kWidePosBlock / 16];
      for (int c = 0; c < kWidePosBlock / 16; ++c) k[c] = load16(keys_t + d * stride + j0 + 16 * c);
      for (int r = 0; r < kAttnHeadBlock; ++r) {
        const float qd = q[r][d];
        for (int c = 0; c < kWidePosBlock / 16; ++c) acc[r][c] += qd * k[c];
      }
    }
    for (int r = 0; r < kAttnHeadBlock; ++r)
      for (int c = 0; c < kWidePosBlock / 16; ++c) store16(att[r] + j0 + 16 * c, acc[r][c] * scale);
  }
  for (; j0 + kPosBlock <= j_end; j0 += kPosBlock) {
    Floats16 acc[kAttnHeadBlock] = {};
    for (int64_t d = 0; d < head_dim; ++d) {
      const Floats16 k = load16(keys_t + d * stride + j0);
      for (int r = 0; r < kAttnHeadBlock; ++r) acc[r] += q[r][d] * k;
    }
    for (int r = 0; r < kAttnHeadBlock; ++r) store16(att[r] + j0, acc[r] * scale);
  }
  for (; j0 < j_end; ++j0) {  // the last < 16 positions
    for (int r = 0; r < kAttnHeadBlock; ++r) {
      float sum = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) sum += q[r][d] * keys_t[d * stride + j0];
      att[r][j0] = sum * scale;
    }
  }
}

// out[r] += sum over j in [j_begin, j_end) of att[r][j] * values[j] (values:
// rows of head_dim) for the kAttnHeadBlock rows; 64 dims x 4 rows stay in
// registers while j runs. Called on zeroed rows for consecutive ranges, each
// element is summed over j in order, as one loop over all positions would.
void weighted_sums(const float* const* att, const float* values, int64_t j_begin, int64_t j_end,
                   int64_t head_dim, float* const* out) {
  constexpr int kVectors = kDimBlock / 16;
  int64_t d0 = 0;
  for (; d0 + kDimBlock <= head_dim; d0 += kDimBlock) {
    Floats16 acc[kAttnHeadBlock][kVectors];
    for (int r = 0; r < kAttnHeadBlock; ++r)
      for (int h = 0; h < kVectors; ++h) acc[r][h] = load16(out[r] + d0 + 16 * h);
    for (int64_t j = j_begin; j < j_end; ++j) {
      Floats16 v[kVectors];
      for (int h = 0; h < kVectors; ++h) v[h] = load16(values + j * head_dim + d0 + 16 * h);
      for (int r = 0; r < kAttnHeadBlock; ++r) {
        const float a = att[r][j];
        for (int h = 0; h < kVectors; ++h) acc[r][h] += a * v[h];
      }
    }
    for (int r = 0; r < kAttnHeadBlock; ++r)
      for (int h = 0; h < kVectors; ++h) store16(out[r] + d0 + 16 * h, acc[r][h]);
  }
  for (; d0 < head_dim; ++d0) {  // head dims past the last whole block
    for (int r = 0; r < kAttnHeadBlock; ++r) {
      float sum = out[r][d0];
      for (int64_t j = j_begin; j < j_end; ++j) sum += att[r][j] * values[j * head_dim + d0];
      out[r][d0] = sum;
    }
  }
}

// One position j for a single query token, read straight from the cache:
// att[r][j] = scale * q[r] . k for the kAttnHeadBlock rows (16 partial sums per
// row, then their total).
void dot_rows(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j,
              float* const* att) {
  for (int r = 0; r < kAttnHeadBlock; ++r) {
    Floats16 acc = {};
    int64_t d = 0;
    for (; d + 16 <= head_dim; d += 16) acc += load16(q[r] + d) * load16(k + d);
    float sum = 0.0f;
    for (int l = 0; l < 16; ++l) sum += acc[l];
    for (; d < head_dim; ++d) sum += q[r][d] * k[d];
    att[r][j] = sum * scale;
  }
}

typedef int Ints16 __attribute__((vector_size(64)));  // shuffle masks for Floats16

// One step of lane_sums16: out = x and y's lanes picked by lo, plus by hi.
// (It and lane_sums16 return through a reference: GCC 12 reports a returned
// shuffle result at the end of the file, past the -Wpsabi pragma.)
[[gnu::always_inline]] inline void shuffle_add(const Floats16& x, const Floats16& y,
                                               const Ints16& lo, const Ints16& hi, Floats16& out) {
  out = __builtin_shuffle(x, y, lo) + __builtin_shuffle(x, y, hi);
}

// The lane sums of 16 vectors as one vector: sums[p] = the sum of acc[p]'s
// 16 lanes. Four levels of shuffle-and-add halve the partial sums per vector
// each time (3 operations per vector instead of a chain of 15 dependent
// adds); the tree leaves them in bit-reversed order, undone by one shuffle.
[[gnu::always_inline]] inline void lane_sums16(const Floats16 (&acc)[16], Floats16& sums) {
  const Ints16 l1_lo = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
  const Ints16 l1_hi = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
  const Ints16 l2_lo = {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27};
  const Ints16 l2_hi = {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31};
  const Ints16 l3_lo = {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29};
  const Ints16 l3_hi = {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31};
  const Ints16 l4_lo = {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30};
  const Ints16 l4_hi = {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31};
  const Ints16 bit_reversed = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
  Floats16 c[8], e[4], g[2], s;
  for (int i = 0; i < 8; ++i) shuffle_add(acc[2 * i], acc[2 * i + 1], l1_lo, l1_hi, c[i]);
  for (int i = 0; i < 4; ++i) shuffle_add(c[2 * i], c[2 * i + 1], l2_lo, l2_hi, e[i]);
  for (int i = 0; i < 2; ++i) shuffle_add(e[2 * i], e[2 * i + 1], l3_lo, l3_hi, g[i]);
  shuffle_add(g[0], g[1], l4_lo, l4_hi, s);
  sums = __builtin_shuffle(s, bit_reversed);
}

// dot_rows for the 16 positions j0 .. j0 + 15 at once (k: their rows, one
// after another): each position's multiply-adds run in its own chain, and
// lane_sums16 totals all 16 together. One position at a time, the chain of
// multiply-adds and then of 15 adds left decode attention waiting on
// latency (it took as long as all the matmuls at 2048 positions).
void dot_rows16(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j0,
                float* const* att) {
  for (int r = 0; r < kAttnHeadBlock; ++r) {
    Floats16 acc[16] = {};
    int64_t d = 0;
    for (; d + 16 <= head_dim; d += 16) {
      const Floats16 qv = load16(q[r] + d);
      for (int p = 0; p < 16; ++p) acc[p] += qv * load16(k + p * head_dim + d);
    }
    Floats16 sums;
    lane_sums16(acc, sums);
    for (; d < head_dim; ++d)
      for (int p = 0; p < 16; ++p) sums[p] += q[r][d] * k[p * head_dim + d];
    store16(att[r] + j0, sums * scale);
  }
}

// out[r] += sum over the 16 positions j0 + p of att[r][j0 + p] * v_p (v:
// their rows, one after another) for the kAttnHeadBlock rows: 64 dims of a row
// stay in registers over the 16 positions, so out is read and written once
// per 16 positions, not once per position.
void add_scaled_rows16(float* const* att, int64_t j0, const float* v, int64_t head_dim,
                       float* const* out) {
  for (int r = 0; r < kAttnHeadBlock; ++r) {
    const float* a = att[r] + j0;
    int64_t d0 = 0;
    for (; d0 + 64 <= head_dim; d0 += 64) {
      Floats16 acc[4];
      for (int c = 0; c < 4; ++c) acc[c] = load16(out[r] + d0 + 16 * c);
      for (int p = 0; p < 16; ++p)
        for (int c = 0; c < 4; ++c) acc[c] += a[p] * load16(v + p * head_dim + d0 + 16 * c);
      for (int c = 0; c < 4; ++c) store16(out[r] + d0 + 16 * c, acc[c]);
    }
    for (; d0 < head_dim; ++d0)
      for (int p = 0; p < 16; ++p) out[r][d0] += a[p] * v[p * head_dim + d0];
  }
}

// out[r] += att[r][j] * v for the kAttnHeadBlock rows.
void add_scaled_rows(float* const* att, int64_t j, const float* v, int64_t head_dim, float* const* out) {
  for (int r = 0; r < kAttnHeadBlock; ++r) {
    const float a = att[r][j];
    int64_t d = 0;
    for (; d + 16 <= head_dim; d += 16) store16(out[r] + d, load16(out[r] + d) + a * load16(v + d));
    for (; d < head_dim; ++d) out[r][d] += a * v[d];
  }
}

#pragma GCC diagnostic pop

// F16C converts 8 values per instruction; GCC 12 does not vectorise
// _Float16 conversions on its own (it emitted one vcvtph2ps per value, 5% of
// a decode profile). Exact either way, so the choice is only speed.
void f16_rows_to_f32(const uint16_t* src, int64_t src_stride, int64_t n_rows, int64_t n,
                     float* dst, int64_t dst_stride) {
  for (int64_t r = 0; r < n_rows; ++r, src += src_stride, dst += dst_stride) {
    int64_t i = 0;
#if defined(__F16C__)
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(dst + i,
                       _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
#endif
    for (; i < n; ++i) dst[i] = formats::f16_to_f32(src[i]);
  }
}

void f32_to_f16(const float* src, uint16_t* dst, int64_t n) {
  int64_t i = 0;
#if defined(__F16C__)
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
#endif
  for (; i < n; ++i) dst[i] = formats::f32_to_f16(src[i]);
}

// The table of this target's copies.
FloatOps float_ops_table() {
  return {.swiglu = swiglu, .softmax = softmax, .scores_rows = scores_rows,
          .weighted_sums = weighted_sums, .dot_rows = dot_rows, .dot_rows16 = dot_rows16,
          .add_scaled_rows = add_scaled_rows, .add_scaled_rows16 = add_scaled_rows16,
          .f16_rows_to_f32 = f16_rows_to_f32, .f32_to_f16 = f32_to_f16};
}

}  // namespace
}  // namespace hy2bit::kernels::simd
