// The Hunyuan dense forward pass, top to bottom like llama2.c's forward():
// embed; per layer attention norm, q/k/v, RoPE, QK-norm, cached causal GQA
// attention, output projection, residual, FFN norm, SwiGLU FFN, residual;
// final norm and logits. Matmuls go through kernels::matmul on the active path.
#include <algorithm>
#include <cstring>

#include "formats/convert.h"
#include "model/ops.h"
#include "model/transformer.h"

namespace hy2bit::model {
namespace {

// y[t] += bias for each of n_tokens rows of width n (no-op for empty bias).
void add_bias(float* y, const std::vector<float>& bias, int64_t n_tokens, int64_t n) {
  if (bias.empty()) return;
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t i = 0; i < n; ++i) y[t * n + i] += bias[i];
}

void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace

Result<std::unique_ptr<Transformer>> Transformer::bind(const gguf::File& file,
                                                       const kernels::KernelTable& kernels) {
  std::unique_ptr<Transformer> m(new Transformer());
  m->file_ = &file;
  m->kernels_ = &kernels;
  Result<ModelConfig> config = read_config(file);
  if (!config) return config.error();
  m->config_ = std::move(config).value();
  Result<ModelWeights> weights = bind_weights(file, m->config_, kernels);
  if (!weights) return weights.error();
  m->weights_ = std::move(weights).value();
  return m;
}

Context::Context(const Transformer& model, int64_t n_ctx, int64_t n_batch)
    : model_(model),
      cache_(model.config().n_layer, n_ctx, model.config().kv_dim()),
      n_batch_(std::max<int64_t>(1, std::min(n_batch, n_ctx))) {
  const ModelConfig& c = model.config();
  const auto rows = [&](int64_t width) { return static_cast<size_t>(n_batch_ * width); };
  x_.resize(rows(c.n_embd));
  xb_.resize(rows(c.n_embd));
  xb2_.resize(rows(c.n_embd));
  q_.resize(rows(c.q_dim()));
  k_.resize(rows(c.kv_dim()));
  v_.resize(rows(c.kv_dim()));
  att_.resize(rows(c.q_dim()));
  gate_.resize(rows(c.n_ff));
  up_.resize(rows(c.n_ff));
}

Result<std::span<const float>> Context::eval(std::span<const int32_t> tokens, LogitsFor which,
                                             runtime::ThreadPool& pool) {
  const ModelConfig& c = model_.config();
  const auto n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens == 0) return make_error("no tokens to evaluate");
  for (int32_t id : tokens)
    if (id < 0 || id >= c.n_vocab)
      return make_error("token id ", id, " is outside the vocabulary (0..", c.n_vocab - 1, ")");
  if (n_past_ + n_tokens > n_ctx())
    return make_error("context is full: ", n_past_, " tokens cached + ", n_tokens,
                      " new exceed the context size ", n_ctx(), " (raise -c)");

  const int64_t n_out = which == LogitsFor::kAllTokens ? n_tokens : 1;
  logits_.resize(static_cast<size_t>(n_out * c.n_vocab));
  if (scores_.size() < static_cast<size_t>(pool.size() * n_ctx()))
    scores_.resize(static_cast<size_t>(pool.size() * n_ctx()));

  for (int64_t begin = 0; begin < n_tokens; begin += n_batch_) {
    const int64_t n = std::min(n_batch_, n_tokens - begin);
    const bool last_chunk = begin + n == n_tokens;
    // kAllTokens: every chunk writes its rows; kLastToken: only the final chunk's last row.
    float* out = which == LogitsFor::kAllTokens ? logits_.data() + begin * c.n_vocab
                                                : (last_chunk ? logits_.data() : nullptr);
    forward_chunk(tokens.subspan(static_cast<size_t>(begin), static_cast<size_t>(n)), which, out,
                  pool);
  }
  return std::span<const float>(logits_);
}

void Context::forward_chunk(std::span<const int32_t> tokens, LogitsFor which, float* logits_out,
                            runtime::ThreadPool& pool) {
  const ModelConfig& c = model_.config();
  const ModelWeights& w = model_.weights();
  const int64_t n = static_cast<int64_t>(tokens.size());  // tokens in this chunk
  const int64_t pos0 = n_past_;                            // position of the first one
  const int64_t n_embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), n_ff = c.n_ff;
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim};

  // Embed: look up each token's row of token_embd, decoded to f32.
  const uint64_t embd_row_bytes = w.token_embd.n_bytes / static_cast<uint64_t>(c.n_vocab);
  for (int64_t t = 0; t < n; ++t) {
    const uint8_t* row = w.token_embd.data.data() + static_cast<uint64_t>(tokens[t]) * embd_row_bytes;
    formats::dequantize(w.token_embd.type.id, row, &x_[t * n_embd], n_embd);
  }

  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];

    // Attention norm.
    for (int64_t t = 0; t < n; ++t)
      rmsnorm(&xb_[t * n_embd], &x_[t * n_embd], l.attn_norm.data(), n_embd, c.rms_norm_eps);

    // Q, K, V projections (plus biases, if the file has them).
    kernels::matmul(l.attn_q, xb_.data(), n, q_.data(), pool, scratch_);
    kernels::matmul(l.attn_k, xb_.data(), n, k_.data(), pool, scratch_);
    kernels::matmul(l.attn_v, xb_.data(), n, v_.data(), pool, scratch_);
    add_bias(q_.data(), l.attn_q_bias, n, q_dim);
    add_bias(k_.data(), l.attn_k_bias, n, kv_dim);
    add_bias(v_.data(), l.attn_v_bias, n, kv_dim);

    // RoPE (NEOX), THEN per-head RMSNorm of q and k: Hunyuan's QK-norm comes after RoPE.
    for (int64_t t = 0; t < n; ++t) {
      float* q = &q_[t * q_dim];
      float* k = &k_[t * kv_dim];
      rope_neox(q, c.n_head, c.head_dim, c.n_rot, pos0 + t, c.rope_freq_base, c.rope_freq_scale);
      rope_neox(k, c.n_head_kv, c.head_dim, c.n_rot, pos0 + t, c.rope_freq_base, c.rope_freq_scale);
      for (int64_t h = 0; h < c.n_head; ++h)
        rmsnorm(q + h * c.head_dim, q + h * c.head_dim, l.attn_q_norm.data(), c.head_dim, c.rms_norm_eps);
      for (int64_t h = 0; h < c.n_head_kv; ++h)
        rmsnorm(k + h * c.head_dim, k + h * c.head_dim, l.attn_k_norm.data(), c.head_dim, c.rms_norm_eps);
    }

    // Store the new keys and values in the cache as f16.
    for (int64_t t = 0; t < n; ++t) {
      uint16_t* k_cache = cache_.k(il, pos0 + t);
      uint16_t* v_cache = cache_.v(il, pos0 + t);
      for (int64_t i = 0; i < kv_dim; ++i) {
        k_cache[i] = formats::f32_to_f16(k_[t * kv_dim + i]);
        v_cache[i] = formats::f32_to_f16(v_[t * kv_dim + i]);
      }
    }

    // Causal GQA attention over the cache, then the output projection and residual.
    attention(q_.data(), att_.data(), n, pos0, il, cache_, shape, scores_, pool);
    kernels::matmul(l.attn_output, att_.data(), n, xb2_.data(), pool, scratch_);
    add_bias(xb2_.data(), l.attn_output_bias, n, n_embd);
    add_in_place(x_.data(), xb2_.data(), n * n_embd);

    // FFN norm, SwiGLU feed-forward, residual.
    for (int64_t t = 0; t < n; ++t)
      rmsnorm(&xb_[t * n_embd], &x_[t * n_embd], l.ffn_norm.data(), n_embd, c.rms_norm_eps);
    kernels::matmul(l.ffn_gate, xb_.data(), n, gate_.data(), pool, scratch_);
    kernels::matmul(l.ffn_up, xb_.data(), n, up_.data(), pool, scratch_);
    swiglu(gate_.data(), up_.data(), n * n_ff);
    kernels::matmul(l.ffn_down, gate_.data(), n, xb2_.data(), pool, scratch_);
    add_in_place(x_.data(), xb2_.data(), n * n_embd);
  }
  n_past_ += n;

  // Final norm and logits, only for the rows asked for.
  if (!logits_out) return;
  const int64_t first = which == LogitsFor::kAllTokens ? 0 : n - 1;
  const int64_t n_out = n - first;
  for (int64_t t = first; t < n; ++t)
    rmsnorm(&xb_[(t - first) * n_embd], &x_[t * n_embd], w.output_norm.data(), n_embd, c.rms_norm_eps);
  kernels::matmul(w.output, xb_.data(), n_out, logits_out, pool, scratch_);
}

}  // namespace hy2bit::model
