// f32 implementations of the forward pass's non-matmul steps, written as
// plain loops and register blocks that GCC vectorises in AVX-512 / AVX2
// clones. Sums that ggml accumulates in double (RMSNorm, softmax) are
// accumulated in double here too, so results track llama.cpp closely.
#include "model/ops.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>


namespace hy2bit::model {
namespace {

// The loops the forward pass spends its non-matmul time in are built for
// AVX-512, AVX2 and plain x86-64 (GCC function multi-versioning picks one
// when the program loads; elsewhere the default build is used).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define HY2BIT_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HY2BIT_SIMD_CLONES
#endif

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

}  // namespace

void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps) {
  double sum_sq = 0.0;
  for (int64_t i = 0; i < n; ++i) sum_sq += static_cast<double>(x[i]) * x[i];
  const float mean = static_cast<float>(sum_sq / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = (x[i] * scale) * weight[i];
}

void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos,
               float freq_base, float freq_scale) {
  const int64_t half = n_rot / 2;
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  // One angle per rotated pair, advanced by repeated multiplication like ggml's rope cache.
  float theta = static_cast<float>(pos) * freq_scale;
  for (int64_t i = 0; i < half; ++i) {
    const float cos_t = std::cos(theta);
    const float sin_t = std::sin(theta);
    for (int64_t h = 0; h < n_heads; ++h) {
      float* head = x + h * head_dim;
      const float a = head[i];
      const float b = head[i + half];
      head[i] = a * cos_t - b * sin_t;
      head[i + half] = a * sin_t + b * cos_t;
    }
    theta *= theta_scale;
  }
}

void rope_angles(float* cos_sin, int64_t n_rot, int64_t pos, float freq_base, float freq_scale) {
  const float theta_scale = std::pow(freq_base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos) * freq_scale;  // advanced as in rope_neox
  for (int64_t i = 0; i < n_rot / 2; ++i) {
    cos_sin[2 * i] = std::cos(theta);
    cos_sin[2 * i + 1] = std::sin(theta);
    theta *= theta_scale;
  }
}

void rope_then_head_norm(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot,
                         const float* cos_sin, const float* norm_weight, float eps) {
  const int64_t half = n_rot / 2;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* head = x + h * head_dim;
    for (int64_t i = 0; i < half; ++i) {
      const float cos_t = cos_sin[2 * i], sin_t = cos_sin[2 * i + 1];
      const float a = head[i];
      const float b = head[i + half];
      head[i] = a * cos_t - b * sin_t;
      head[i + half] = a * sin_t + b * cos_t;
    }
    rmsnorm(head, head, norm_weight, head_dim, eps);
  }
}

HY2BIT_SIMD_CLONES
void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + exp_approx(-g)) * up[i];
  }
}

HY2BIT_SIMD_CLONES
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

namespace {


// Query heads attention handles together: the heads of one GQA group share
// every key and value load (HY-1.8B: 4 per KV head).
constexpr int kHeadBlock = 4;
// Tokens of a prompt chunk whose scores are computed together, so each block
// of keys and values is read once per tile while it sits in L1, not once
// per token (at 1024 positions a head's keys and values fill the L2).
constexpr int64_t kQueryTile = 8;
// Positions per key/value block of that tiling.
constexpr int64_t kKeyBlock = 64;
// Key or value rows one decode step converts to f32 per cache call: one
// call per row cost 8% of a decode in its overhead.
constexpr int64_t kDecodeRows = 32;
// Positions (scores) and head dims (weighted sums) per register block: 64
// keys or values per loaded attention value, so loads stay fewer than the
// multiply-adds (with 16 positions and 32 dims they outnumbered them).
// scores_rows falls back to 16-position blocks where a key block ends.
constexpr int kWidePosBlock = 64;
constexpr int kPosBlock = 16;
constexpr int kDimBlock = 64;

// Floats between the transposed keys' rows for n_pos positions: padded so
// rows are never a multiple of 4 KiB apart, else the 128 rows a block of
// scores reads fall into one L1 set (scores ran 7x slower than the weighted
// sums at 1024 positions).
int64_t keys_stride(int64_t n_pos) { return (n_pos + 15) / 16 * 16 + 16; }

// 16 floats as one value (GCC vector extension: one zmm with AVX-512, two
// ymm with AVX2), so register blocks stay in registers: GCC kept the plain
// float[4][16] accumulators on the stack, a store-forwarding round trip per
// multiply-add.
typedef float Floats16 __attribute__((vector_size(64)));

// Always inlined into the clones, so the vector never crosses a call: GCC's
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

// att[r][j] = scale * q[r] . k_j for the kHeadBlock query rows and j in
// [j_begin, j_end), with the keys stored transposed (keys_t[d * stride + j]).
// Blocks of 64 (then 16) positions x 4 rows stay in registers while d runs; each sum
// runs over d in order, as a plain dot product would.
HY2BIT_SIMD_CLONES
void scores_rows(const float* const* q, const float* keys_t, int64_t stride, int64_t j_begin,
                 int64_t j_end, int64_t head_dim, float scale, float* const* att) {
  int64_t j0 = j_begin;
  for (; j0 + kWidePosBlock <= j_end; j0 += kWidePosBlock) {
    Floats16 acc[kHeadBlock][kWidePosBlock / 16] = {};
    for (int64_t d = 0; d < head_dim; ++d) {
      Floats16 k[kWidePosBlock / 16];
      for (int c = 0; c < kWidePosBlock / 16; ++c) k[c] = load16(keys_t + d * stride + j0 + 16 * c);
      for (int r = 0; r < kHeadBlock; ++r) {
        const float qd = q[r][d];
        for (int c = 0; c < kWidePosBlock / 16; ++c) acc[r][c] += qd * k[c];
      }
    }
    for (int r = 0; r < kHeadBlock; ++r)
      for (int c = 0; c < kWidePosBlock / 16; ++c) store16(att[r] + j0 + 16 * c, acc[r][c] * scale);
  }
  for (; j0 + kPosBlock <= j_end; j0 += kPosBlock) {
    Floats16 acc[kHeadBlock] = {};
    for (int64_t d = 0; d < head_dim; ++d) {
      const Floats16 k = load16(keys_t + d * stride + j0);
      for (int r = 0; r < kHeadBlock; ++r) acc[r] += q[r][d] * k;
    }
    for (int r = 0; r < kHeadBlock; ++r) store16(att[r] + j0, acc[r] * scale);
  }
  for (; j0 < j_end; ++j0) {  // the last < 16 positions
    for (int r = 0; r < kHeadBlock; ++r) {
      float sum = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) sum += q[r][d] * keys_t[d * stride + j0];
      att[r][j0] = sum * scale;
    }
  }
}

// out[r] += sum over j in [j_begin, j_end) of att[r][j] * values[j] (values:
// rows of head_dim) for the kHeadBlock rows; 64 dims x 4 rows stay in
// registers while j runs. Called on zeroed rows for consecutive ranges, each
// element is summed over j in order, as one loop over all positions would.
HY2BIT_SIMD_CLONES
void weighted_sums(const float* const* att, const float* values, int64_t j_begin, int64_t j_end,
                   int64_t head_dim, float* const* out) {
  constexpr int kVectors = kDimBlock / 16;
  int64_t d0 = 0;
  for (; d0 + kDimBlock <= head_dim; d0 += kDimBlock) {
    Floats16 acc[kHeadBlock][kVectors];
    for (int r = 0; r < kHeadBlock; ++r)
      for (int h = 0; h < kVectors; ++h) acc[r][h] = load16(out[r] + d0 + 16 * h);
    for (int64_t j = j_begin; j < j_end; ++j) {
      Floats16 v[kVectors];
      for (int h = 0; h < kVectors; ++h) v[h] = load16(values + j * head_dim + d0 + 16 * h);
      for (int r = 0; r < kHeadBlock; ++r) {
        const float a = att[r][j];
        for (int h = 0; h < kVectors; ++h) acc[r][h] += a * v[h];
      }
    }
    for (int r = 0; r < kHeadBlock; ++r)
      for (int h = 0; h < kVectors; ++h) store16(out[r] + d0 + 16 * h, acc[r][h]);
  }
  for (; d0 < head_dim; ++d0) {  // head dims past the last whole block
    for (int r = 0; r < kHeadBlock; ++r) {
      float sum = out[r][d0];
      for (int64_t j = j_begin; j < j_end; ++j) sum += att[r][j] * values[j * head_dim + d0];
      out[r][d0] = sum;
    }
  }
}

// One position j for a single query token, read straight from the cache:
// att[r][j] = scale * q[r] . k for the kHeadBlock rows (16 partial sums per
// row, then their total).
HY2BIT_SIMD_CLONES
void dot_rows(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j,
              float* const* att) {
  for (int r = 0; r < kHeadBlock; ++r) {
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
HY2BIT_SIMD_CLONES
void dot_rows16(const float* const* q, const float* k, int64_t head_dim, float scale, int64_t j0,
                float* const* att) {
  for (int r = 0; r < kHeadBlock; ++r) {
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
// their rows, one after another) for the kHeadBlock rows: 64 dims of a row
// stay in registers over the 16 positions, so out is read and written once
// per 16 positions, not once per position.
HY2BIT_SIMD_CLONES
void add_scaled_rows16(float* const* att, int64_t j0, const float* v, int64_t head_dim,
                       float* const* out) {
  for (int r = 0; r < kHeadBlock; ++r) {
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

// out[r] += att[r][j] * v for the kHeadBlock rows.
HY2BIT_SIMD_CLONES
void add_scaled_rows(float* const* att, int64_t j, const float* v, int64_t head_dim, float* const* out) {
  for (int r = 0; r < kHeadBlock; ++r) {
    const float a = att[r][j];
    int64_t d = 0;
    for (; d + 16 <= head_dim; d += 16) store16(out[r] + d, load16(out[r] + d) + a * load16(v + d));
    for (; d < head_dim; ++d) out[r][d] += a * v[d];
  }
}

#pragma GCC diagnostic pop

}  // namespace

size_t attention_scratch_floats(int64_t longest_ctx, int64_t head_dim) {
  // Per thread: one KV head's keys and values decoded to f32, the score rows
  // of a query tile plus one (the first also holds one key row while the
  // keys are transposed; the last serves the padding rows of a partial head
  // block), and one output row for those padding rows.
  return static_cast<size_t>(keys_stride(longest_ctx) * head_dim + longest_ctx * head_dim +
                             (kQueryTile * kHeadBlock + 1) * std::max(longest_ctx, head_dim) +
                             head_dim);
}

void attention(const float* q, float* out, std::span<const TokenSlot> slots, int64_t layer,
               const AttentionShape& shape, std::span<float> scratch, runtime::ThreadPool& pool) {
  const int64_t head_dim = shape.head_dim;
  const int64_t q_dim = shape.n_head * head_dim;
  const int64_t gqa_ratio = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const size_t per_thread = scratch.size() / static_cast<size_t>(pool.size());
  int64_t longest = 0;  // as the caller sized the scratch: attention_scratch_floats(longest, head_dim)
  for (const TokenSlot& s : slots) longest = std::max(longest, s.pos + 1);

  // Runs of consecutive slots that share a cache (one sequence's chunk, or a
  // single token of a batched decode step).
  std::vector<std::pair<size_t, size_t>> runs;  // [begin, end) into slots
  for (size_t t = 0; t < slots.size(); ++t) {
    if (runs.empty() || slots[runs.back().first].cache != slots[t].cache) runs.push_back({t, t});
    runs.back().second = t + 1;
  }
  // One job per (run, KV head): every query head of the group and every
  // token of the run.
  const auto n_jobs = static_cast<int64_t>(runs.size()) * shape.n_head_kv;

  pool.run([&](int thread, int n_threads) {
    float* keys = scratch.data() + static_cast<size_t>(thread) * per_thread;  // (head_dim, stride)
    float* values = keys + keys_stride(longest) * head_dim;                   // (positions, head_dim)
    const int64_t row = std::max(longest, head_dim);
    float* att = values + longest * head_dim;  // (kQueryTile * kHeadBlock + 1, row) scores
    float* spare_att = att + kQueryTile * kHeadBlock * row;
    float* spare_out = spare_att + row;        // (head_dim) padding rows' output
    const auto [begin, end] = runtime::split_range(n_jobs, thread, n_threads);
    for (int64_t job = begin; job < end; ++job) {
      const auto [first, last] = runs[static_cast<size_t>(job / shape.n_head_kv)];
      const int64_t kv_head = job % shape.n_head_kv;
      const KvCache& cache = *slots[first].cache;
      const int64_t kv_offset = kv_head * head_dim;
      const int64_t n_pos = slots[last - 1].pos + 1;  // positions the last token sees
      const int64_t group_end = (kv_head + 1) * gqa_ratio;
      // Rows of token t for the head block from h0; rows past the group's
      // last head repeat its first head and write to the spare rows.
      const auto set_rows = [&](size_t t, int64_t h0, int64_t tile_index, const float** q_rows,
                                float** att_rows, float** out_rows) {
        const int64_t token = static_cast<int64_t>(t);
        for (int r = 0; r < kHeadBlock; ++r) {
          const bool real = h0 + r < group_end;
          const int64_t h = real ? h0 + r : h0;
          q_rows[r] = q + token * q_dim + h * head_dim;
          att_rows[r] = real ? att + (tile_index * kHeadBlock + r) * row : spare_att;
          out_rows[r] = real ? out + token * q_dim + h * head_dim : spare_out;
          std::fill_n(out_rows[r], head_dim, 0.0f);
        }
      };

      if (last - first == 1) {
        // One token (decode): read each key and value row straight from the
        // cache, once for all heads of the group; nothing to share a decoded
        // copy with (decoding the whole cache per token was 17% of a decode
        // at 512 positions).
        // Rows come kDecodeRows at a time (16 KiB of f32 at head_dim 128,
        // in L1) into the transposed-keys space, free here.
        float* rows = keys;
        for (int64_t h0 = kv_head * gqa_ratio; h0 < group_end; h0 += kHeadBlock) {
          const float* q_rows[kHeadBlock];
          float* att_rows[kHeadBlock];
          float* out_rows[kHeadBlock];
          set_rows(first, h0, 0, q_rows, att_rows, out_rows);
          for (int64_t j0 = 0; j0 < n_pos; j0 += kDecodeRows) {
            const int64_t n_rows = std::min(kDecodeRows, n_pos - j0);
            cache.load_k(layer, j0, n_rows, kv_offset, head_dim, rows);
            int64_t j = 0;
            for (; j + 16 <= n_rows; j += 16)
              dot_rows16(q_rows, rows + j * head_dim, head_dim, scale, j0 + j, att_rows);
            for (; j < n_rows; ++j)
              dot_rows(q_rows, rows + j * head_dim, head_dim, scale, j0 + j, att_rows);
          }
          for (int r = 0; r < kHeadBlock && h0 + r < group_end; ++r) softmax(att_rows[r], n_pos);
          for (int64_t j0 = 0; j0 < n_pos; j0 += kDecodeRows) {
            const int64_t n_rows = std::min(kDecodeRows, n_pos - j0);
            cache.load_v(layer, j0, n_rows, kv_offset, head_dim, rows);
            int64_t j = 0;
            for (; j + 16 <= n_rows; j += 16)
              add_scaled_rows16(att_rows, j0 + j, rows + j * head_dim, head_dim, out_rows);
            for (; j < n_rows; ++j)
              add_scaled_rows(att_rows, j0 + j, rows + j * head_dim, head_dim, out_rows);
          }
        }
        continue;
      }

      // Several tokens (prefill): keys transposed, (head_dim, stride); values
      // as rows, (n_pos, head_dim), decoded once for the whole run.
      const int64_t stride = keys_stride(n_pos);
      cache.load_v(layer, 0, n_pos, kv_offset, head_dim, values);
      for (int64_t j = 0; j < n_pos; ++j) {
        float* key_row = att;  // free until the scores below
        cache.load_k(layer, j, 1, kv_offset, head_dim, key_row);
        for (int64_t d = 0; d < head_dim; ++d) keys[d * stride + j] = key_row[d];
      }
      for (int64_t h0 = kv_head * gqa_ratio; h0 < group_end; h0 += kHeadBlock) {
        for (size_t t0 = first; t0 < last; t0 += kQueryTile) {
          const size_t t1 = std::min(last, t0 + kQueryTile);
          const float* q_rows[kQueryTile][kHeadBlock];
          float* att_rows[kQueryTile][kHeadBlock];
          float* out_rows[kQueryTile][kHeadBlock];
          for (size_t t = t0; t < t1; ++t)
            set_rows(t, h0, static_cast<int64_t>(t - t0), q_rows[t - t0], att_rows[t - t0], out_rows[t - t0]);
          const int64_t tile_positions = slots[t1 - 1].pos + 1;  // the tile's last token sees most
          // Token t sees positions 0..pos: its part of key block [jb, jb + kKeyBlock).
          const auto seen_end = [&](size_t t, int64_t jb) {
            return std::min(jb + kKeyBlock, slots[t].pos + 1);
          };
          for (int64_t jb = 0; jb < tile_positions; jb += kKeyBlock)
            for (size_t t = t0; t < t1; ++t)
              if (jb < seen_end(t, jb))
                scores_rows(q_rows[t - t0], keys, stride, jb, seen_end(t, jb), head_dim, scale,
                            att_rows[t - t0]);
          for (size_t t = t0; t < t1; ++t)
            for (int r = 0; r < kHeadBlock && h0 + r < group_end; ++r)
              softmax(att_rows[t - t0][r], slots[t].pos + 1);
          for (int64_t jb = 0; jb < tile_positions; jb += kKeyBlock)
            for (size_t t = t0; t < t1; ++t)
              if (jb < seen_end(t, jb))
                weighted_sums(att_rows[t - t0], values, jb, seen_end(t, jb), head_dim, out_rows[t - t0]);
        }
      }
    }
  });
}

}  // namespace hy2bit::model
