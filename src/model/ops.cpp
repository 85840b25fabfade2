// Scalar f32 implementations of the forward pass's non-matmul steps. Sums
// that ggml accumulates in double (RMSNorm, softmax) are accumulated in
// double here too, so results track llama.cpp closely.
#include "model/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "formats/convert.h"

namespace hy2bit::model {

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

void swiglu(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void softmax(float* x, int64_t n) {
  float max_value = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max_value = std::max(max_value, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  const float inv_sum = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv_sum;
}

namespace {

// The two loops attention spends its time in, built for AVX-512, AVX2 and
// plain x86-64 (GCC function multi-versioning picks one when the program
// loads; elsewhere the default build is used). Eight partial sums let the
// compiler vectorise the dot product without reassociating on its own.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define HY2BIT_ATTENTION_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HY2BIT_ATTENTION_CLONES
#endif

// Query heads attention handles together: the heads of one GQA group share
// every key and value load (HY-1.8B: 4 per KV head).
constexpr int kHeadBlock = 4;
// Positions (scores) and head dims (weighted sums) per register block.
constexpr int kPosBlock = 16;
constexpr int kDimBlock = 32;

// att[r][j] = scale * q[r] . k_j for the kHeadBlock query rows and j < n_pos,
// with the keys stored transposed (keys_t[d * stride + j]). A block of 16
// positions x 4 rows stays in registers while d runs; each sum runs over d in
// order, as a plain dot product would.
HY2BIT_ATTENTION_CLONES
void scores_rows(const float* const* q, const float* keys_t, int64_t stride, int64_t n_pos,
                 int64_t head_dim, float scale, float* const* att) {
  int64_t j0 = 0;
  for (; j0 + kPosBlock <= n_pos; j0 += kPosBlock) {
    float acc[kHeadBlock][kPosBlock] = {};
    for (int64_t d = 0; d < head_dim; ++d) {
      const float* k = keys_t + d * stride + j0;
      for (int r = 0; r < kHeadBlock; ++r) {
        const float qd = q[r][d];
        for (int j = 0; j < kPosBlock; ++j) acc[r][j] += qd * k[j];
      }
    }
    for (int r = 0; r < kHeadBlock; ++r)
      for (int j = 0; j < kPosBlock; ++j) att[r][j0 + j] = acc[r][j] * scale;
  }
  for (; j0 < n_pos; ++j0) {  // the last < 16 positions
    for (int r = 0; r < kHeadBlock; ++r) {
      float sum = 0.0f;
      for (int64_t d = 0; d < head_dim; ++d) sum += q[r][d] * keys_t[d * stride + j0];
      att[r][j0] = sum * scale;
    }
  }
}

// out[r] = sum_j att[r][j] * values[j] (values: n_pos rows of head_dim) for
// the kHeadBlock rows; 32 dims x 4 rows stay in registers while j runs.
HY2BIT_ATTENTION_CLONES
void weighted_sums(const float* const* att, const float* values, int64_t n_pos, int64_t head_dim,
                   float* const* out) {
  int64_t d0 = 0;
  for (; d0 + kDimBlock <= head_dim; d0 += kDimBlock) {
    float acc[kHeadBlock][kDimBlock] = {};
    for (int64_t j = 0; j < n_pos; ++j) {
      const float* v = values + j * head_dim + d0;
      for (int r = 0; r < kHeadBlock; ++r) {
        const float a = att[r][j];
        for (int d = 0; d < kDimBlock; ++d) acc[r][d] += a * v[d];
      }
    }
    for (int r = 0; r < kHeadBlock; ++r)
      for (int d = 0; d < kDimBlock; ++d) out[r][d0 + d] = acc[r][d];
  }
  for (; d0 < head_dim; ++d0) {  // head dims past the last whole block
    for (int r = 0; r < kHeadBlock; ++r) {
      float sum = 0.0f;
      for (int64_t j = 0; j < n_pos; ++j) sum += att[r][j] * values[j * head_dim + d0];
      out[r][d0] = sum;
    }
  }
}

}  // namespace

size_t attention_scratch_floats(int64_t longest_ctx, int64_t head_dim) {
  // Per thread: one KV head's keys and values decoded to f32, kHeadBlock + 1
  // rows of scores (the first also holds one key row while the keys are
  // transposed; the last serves the padding rows of a partial head block),
  // and one output row for those padding rows.
  return static_cast<size_t>(longest_ctx * 2 * head_dim +
                             (kHeadBlock + 1) * std::max(longest_ctx, head_dim) + head_dim);
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
  // One job per (run, KV head): decode that head's keys and values once,
  // then serve every query head of its group and every token of the run.
  const auto n_jobs = static_cast<int64_t>(runs.size()) * shape.n_head_kv;

  pool.run([&](int thread, int n_threads) {
    float* keys = scratch.data() + static_cast<size_t>(thread) * per_thread;  // (head_dim, positions)
    float* values = keys + longest * head_dim;                               // (positions, head_dim)
    const int64_t row = std::max(longest, head_dim);
    float* att = values + longest * head_dim;          // (kHeadBlock + 1, row) scores
    float* spare_out = att + (kHeadBlock + 1) * row;   // (head_dim) padding rows' output
    const auto [begin, end] = runtime::split_range(n_jobs, thread, n_threads);
    for (int64_t job = begin; job < end; ++job) {
      const auto [first, last] = runs[static_cast<size_t>(job / shape.n_head_kv)];
      const int64_t kv_head = job % shape.n_head_kv;
      const KvCache& cache = *slots[first].cache;
      const int64_t kv_offset = kv_head * head_dim;
      const int64_t n_pos = slots[last - 1].pos + 1;  // positions the last token sees

      // Keys transposed, (head_dim, n_pos); values as rows, (n_pos, head_dim).
      for (int64_t j = 0; j < n_pos; ++j) {
        float* key_row = att;  // free until the scores below
        cache.load_k(layer, j, kv_offset, head_dim, key_row);
        for (int64_t d = 0; d < head_dim; ++d) keys[d * n_pos + j] = key_row[d];
        cache.load_v(layer, j, kv_offset, head_dim, values + j * head_dim);
      }
      for (size_t t = first; t < last; ++t) {
        const int64_t pos = slots[t].pos;  // this query sees positions 0..pos
        const int64_t token = static_cast<int64_t>(t);
        const int64_t group_end = (kv_head + 1) * gqa_ratio;
        for (int64_t h0 = kv_head * gqa_ratio; h0 < group_end; h0 += kHeadBlock) {
          // Rows past the group's last head repeat its first and write to spare rows.
          const float* q_rows[kHeadBlock];
          float* att_rows[kHeadBlock];
          float* out_rows[kHeadBlock];
          for (int r = 0; r < kHeadBlock; ++r) {
            const bool real = h0 + r < group_end;
            const int64_t h = real ? h0 + r : h0;
            q_rows[r] = q + token * q_dim + h * head_dim;
            att_rows[r] = att + (real ? r : kHeadBlock) * row;
            out_rows[r] = real ? out + token * q_dim + h * head_dim : spare_out;
          }
          scores_rows(q_rows, keys, n_pos, pos + 1, head_dim, scale, att_rows);
          for (int r = 0; r < kHeadBlock && h0 + r < group_end; ++r) softmax(att_rows[r], pos + 1);
          weighted_sums(att_rows, values, pos + 1, head_dim, out_rows);
        }
      }
    }
  });
}

}  // namespace hy2bit::model
