// Scalar f32 implementations of the forward pass's non-matmul steps. Sums
// that ggml accumulates in double (RMSNorm, softmax) are accumulated in
// double here too, so results track llama.cpp closely.
#include "model/ops.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

void attention(const float* q, float* out, std::span<const TokenSlot> slots, int64_t layer,
               const AttentionShape& shape, std::span<float> scores, runtime::ThreadPool& pool) {
  const auto n_tokens = static_cast<int64_t>(slots.size());
  const size_t scores_per_thread = scores.size() / static_cast<size_t>(pool.size());
  const int64_t head_dim = shape.head_dim;
  const int64_t q_dim = shape.n_head * head_dim;
  const int64_t gqa_ratio = shape.n_head / shape.n_head_kv;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t n_jobs = n_tokens * shape.n_head;  // one (token, head) pair per job

  pool.run([&](int thread, int n_threads) {
    float* att = scores.data() + static_cast<size_t>(thread) * scores_per_thread;
    const auto [begin, end] = runtime::split_range(n_jobs, thread, n_threads);
    for (int64_t job = begin; job < end; ++job) {
      const int64_t t = job / shape.n_head;
      const int64_t h = job % shape.n_head;
      const KvCache& cache = *slots[t].cache;
      const int64_t pos = slots[t].pos;               // this query's position
      const int64_t kv_offset = (h / gqa_ratio) * head_dim;
      const float* q_head = q + t * q_dim + h * head_dim;

      // Scores against every cached key up to and including this position.
      for (int64_t j = 0; j <= pos; ++j) {
        const uint16_t* k_head = cache.k(layer, j) + kv_offset;
        float dot = 0.0f;
        for (int64_t d = 0; d < head_dim; ++d) dot += q_head[d] * formats::f16_to_f32(k_head[d]);
        att[j] = dot * scale;
      }
      softmax(att, pos + 1);

      // Weighted sum of the values.
      float* out_head = out + t * q_dim + h * head_dim;
      std::fill(out_head, out_head + head_dim, 0.0f);
      for (int64_t j = 0; j <= pos; ++j) {
        const uint16_t* v_head = cache.v(layer, j) + kv_offset;
        const float a = att[j];
        for (int64_t d = 0; d < head_dim; ++d) out_head[d] += a * formats::f16_to_f32(v_head[d]);
      }
    }
  });
}

}  // namespace hy2bit::model
