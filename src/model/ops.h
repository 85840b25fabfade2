// Per-head and per-row operations of the forward pass, in f32: RMSNorm,
// NEOX RoPE, causal GQA attention over the KV cache. Matmuls, SwiGLU and
// softmax are the kernel path's (kernels/matmul.h, kernels/float_ops.h).
// No allocation inside.
#pragma once

#include <cstdint>
#include <span>

#include "kernels/float_ops.h"
#include "model/kv_cache.h"
#include "model/token_slot.h"
#include "runtime/thread_pool.h"

namespace hy2bit::model {

// out[i] = x[i] / sqrt(mean(x^2) + eps) * weight[i], for n elements.
void rmsnorm(float* out, const float* x, const float* weight, int64_t n, float eps);

// Rotates the first n_rot dims of each of n_heads heads (head_dim apart) by
// position pos, NEOX style: dim i pairs with i + n_rot/2, angle
// pos * freq_scale * freq_base^(-2i/n_rot), computed as ggml does. The
// forward pass uses the fused rope_then_head_norm below; this one stays as
// the plain reference the tests hold the fused one to.
void rope_neox(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot, int64_t pos,
               float freq_base, float freq_scale);

// The cos and sin of every rotated pair's angle at position pos, exactly as
// rope_neox computes them (cos_sin[2i], cos_sin[2i + 1]; n_rot floats): one
// token's table serves every layer's q and k.
void rope_angles(float* cos_sin, int64_t n_rot, int64_t pos, float freq_base, float freq_scale);

// Hunyuan's fused per-head step: NEOX RoPE by the angles of rope_angles(),
// then RMSNorm of the head with `norm_weight` (head_dim), for each of n_heads
// heads; one pass over each head while it is in L1. Same results as
// rope_neox followed by rmsnorm per head.
void rope_then_head_norm(float* x, int64_t n_heads, int64_t head_dim, int64_t n_rot,
                         const float* cos_sin, const float* norm_weight, float eps);


// What attention needs to know about the model's shape.
struct AttentionShape {
  int64_t n_head;
  int64_t n_head_kv;
  int64_t head_dim;
};

// Floats of attention scratch one thread needs for caches up to longest_ctx.
size_t attention_scratch_floats(int64_t longest_ctx, int64_t head_dim);

// Causal attention of one layer for each slot's query row: q (n, n_head*head_dim)
// against the slot's cache positions 0..pos, out (n, n_head*head_dim). For a
// run of several tokens that share a cache, each KV head's keys and values
// are decoded once and tiled over the tokens; a single token reads the rows
// straight from the cache. The heads of a GQA group share every key and
// value load. `ops` gives the register blocks and the softmax (the model's
// kernel path). `scratch` holds pool.size() * attention_scratch_floats().
void attention(const float* q, float* out, std::span<const TokenSlot> slots, int64_t layer,
               const AttentionShape& shape, const kernels::FloatOps& ops, std::span<float> scratch,
               runtime::ThreadPool& pool);

}  // namespace hy2bit::model
