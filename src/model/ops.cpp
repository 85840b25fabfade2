// f32 implementations of the forward pass's non-matmul steps: RMSNorm and
// RoPE as plain loops, and causal GQA attention's tiling over the KV cache,
// whose register blocks, softmax and SwiGLU come from the kernel path's
// FloatOps (kernels/float_ops.h). Sums that ggml accumulates in double
// (RMSNorm, softmax) are accumulated in double here too, so results track
// llama.cpp closely.
#include "model/ops.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

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

namespace {

// Query heads attention handles together: the heads of one GQA group share
// every key and value load (HY-1.8B: 4 per KV head).
constexpr int kHeadBlock = kernels::kAttnHeadBlock;
// Tokens of a prompt chunk whose scores are computed together, so each block
// of keys and values is read once per tile while it sits in L1, not once
// per token (at 1024 positions a head's keys and values fill the L2).
constexpr int64_t kQueryTile = 8;
// Positions per key/value block of that tiling.
constexpr int64_t kKeyBlock = 64;
// Key or value rows one decode step converts to f32 per cache call: one
// call per row cost 8% of a decode in its overhead.
constexpr int64_t kDecodeRows = 32;
// Floats between the transposed keys' rows for n_pos positions: padded so
// rows are never a multiple of 4 KiB apart, else the 128 rows a block of
// scores reads fall into one L1 set (scores ran 7x slower than the weighted
// sums at 1024 positions).
int64_t keys_stride(int64_t n_pos) { return (n_pos + 15) / 16 * 16 + 16; }

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
               const AttentionShape& shape, const kernels::FloatOps& ops, std::span<float> scratch,
               runtime::ThreadPool& pool) {
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
              ops.dot_rows16(q_rows, rows + j * head_dim, head_dim, scale, j0 + j, att_rows);
            for (; j < n_rows; ++j)
              ops.dot_rows(q_rows, rows + j * head_dim, head_dim, scale, j0 + j, att_rows);
          }
          for (int r = 0; r < kHeadBlock && h0 + r < group_end; ++r) ops.softmax(att_rows[r], n_pos);
          for (int64_t j0 = 0; j0 < n_pos; j0 += kDecodeRows) {
            const int64_t n_rows = std::min(kDecodeRows, n_pos - j0);
            cache.load_v(layer, j0, n_rows, kv_offset, head_dim, rows);
            int64_t j = 0;
            for (; j + 16 <= n_rows; j += 16)
              ops.add_scaled_rows16(att_rows, j0 + j, rows + j * head_dim, head_dim, out_rows);
            for (; j < n_rows; ++j)
              ops.add_scaled_rows(att_rows, j0 + j, rows + j * head_dim, head_dim, out_rows);
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
                ops.scores_rows(q_rows[t - t0], keys, stride, jb, seen_end(t, jb), head_dim, scale,
                            att_rows[t - t0]);
          for (size_t t = t0; t < t1; ++t)
            for (int r = 0; r < kHeadBlock && h0 + r < group_end; ++r)
              ops.softmax(att_rows[t - t0][r], slots[t].pos + 1);
          for (int64_t jb = 0; jb < tile_positions; jb += kKeyBlock)
            for (size_t t = t0; t < t1; ++t)
              if (jb < seen_end(t, jb))
                ops.weighted_sums(att_rows[t - t0], values, jb, seen_end(t, jb), head_dim, out_rows[t - t0]);
        }
      }
    }
  });
}

}  // namespace hy2bit::model
