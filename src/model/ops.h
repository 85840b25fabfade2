// Element-wise and per-head operations of the forward pass, scalar f32:
// RMSNorm, NEOX RoPE, SwiGLU, softmax, causal GQA attention over the KV
// cache. Matmuls are not here (kernels/matmul.h). No allocation inside.
#pragma once

#include <cstdint>
#include <span>

#include "model/kv_cache.h"
#include "model/token_slot.h"
#include "runtime/thread_pool.h"

namespace hy2bit::model {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], for n elements.
void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps);

// Rotates the first n_rot dims of each of n_heads heads (head_dim apart) by
// position pos, NEOX style: dim i pairs with i + n_rot/2, angle
// pos * freq_scale * freq_base^(-2i/n_rot), computed as ggml does.
void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos,
               float freq_base, float freq_scale);

// gate[i] = silu(gate[i]) * up[i] for n elements (SwiGLU).
void swiglu(float* gate, const float* up, int64_t n);

// In-place softmax over n scores.
void softmax(float* x, int64_t n);

// What attention needs to know about the model's shape.
struct AttentionShape {
  int64_t n_head;
  int64_t n_head_kv;
  int64_t head_dim;
};

// Floats of attention scratch one thread needs for caches up to longest_ctx.
size_t attention_scratch_floats(int64_t longest_ctx, int64_t head_dim);

// Causal attention of one layer for each slot's query row: q (n, n_head*head_dim)
// against the slot's cache positions 0..pos, out (n, n_head*head_dim). Each
// KV head's keys and values are decoded from f16 once per run of tokens that
// share a cache. `scratch` holds pool.size() * attention_scratch_floats().
void attention(const float* q, float* out, std::span<const TokenSlot> slots, int64_t layer,
               const AttentionShape& shape, std::span<float> scratch, runtime::ThreadPool& pool);

}  // namespace hy2bit::model
