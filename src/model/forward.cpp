// The Hunyuan dense forward pass, top to bottom like llama2.c's forward():
// embed; per layer attention norm, q/k/v, RoPE, QK-norm, cached causal GQA
// attention, output projection, residual, FFN norm, SwiGLU FFN, residual;
// final norm and logits (or only the normed hidden state, for embeddings:
// then the output-head matmul is skipped). Matmuls go through kernels::matmul
// on the active path.
#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "formats/convert.h"
#include "kernels/kernel_table.h"
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

// Matmuls sharing one input: one quantization and one pass over the pool when
// the weights have the same type (always, for files quantize writes), else one by one.
void matmul_same_input(std::initializer_list<kernels::MatmulOutput> outputs, const float* x, int64_t n,
                       runtime::ThreadPool& pool, kernels::MatmulScratch& scratch) {
  const kernels::WeightView& first = outputs.begin()->weights->view();
  bool same = true;
  for (const kernels::MatmulOutput& o : outputs)
    same = same && o.weights->view().type.id == first.type.id && o.weights->view().n_cols == first.n_cols;
  if (same) return kernels::matmul_shared_input(std::span(outputs.begin(), outputs.size()), x, n, pool, scratch);
  for (const kernels::MatmulOutput& o : outputs) kernels::matmul(*o.weights, x, n, o.y, pool, scratch);
}

void add_in_place(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

// Element-wise work below this many floats runs on the calling thread: less
// than a pool round trip's worth.
constexpr int64_t kMinParallelFloats = 16384;

// fn(begin, end) over [0, n_items), split over the pool's threads when the
// items hold at least kMinParallelFloats floats in total.
template <typename Fn>
void for_item_ranges(runtime::ThreadPool& pool, int64_t n_items, int64_t floats_per_item, Fn&& fn) {
  if (pool.size() == 1 || n_items < 2 || n_items * floats_per_item < kMinParallelFloats)
    return fn(int64_t{0}, n_items);
  pool.run([&](int part, int n_parts) {
    const auto [begin, end] = runtime::split_range(n_items, part, n_parts);
    if (begin < end) fn(begin, end);
  });
}

// RMSNorm of each token's row of x into out (n tokens of width n_embd).
void rmsnorm_rows(float* out, const float* x, const std::vector<float>& weight, int64_t n,
                  int64_t width, float eps, runtime::ThreadPool& pool) {
  for_item_ranges(pool, n, width, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) rmsnorm(out + t * width, x + t * width, weight.data(), width, eps);
  });
}

}  // namespace

Result<std::unique_ptr<Transformer>> Transformer::bind(const gguf::File& file,
                                                       const kernels::KernelTable& kernels,
                                                       const ReleaseFn& release_file_bytes) {
  Result<ModelConfig> config = read_config(file);
  if (!config) return config.error();
  return bind(file, std::move(config).value(), kernels, release_file_bytes);
}

Result<std::unique_ptr<Transformer>> Transformer::bind(const gguf::File& file, ModelConfig config,
                                                       const kernels::KernelTable& kernels,
                                                       const ReleaseFn& release_file_bytes) {
  std::unique_ptr<Transformer> m(new Transformer());
  m->kernels_ = &kernels;
  m->config_ = std::move(config);
  Result<ModelWeights> weights = bind_weights(file, m->config_, kernels, release_file_bytes);
  if (!weights) return weights.error();
  m->weights_ = std::move(weights).value();
  return m;
}

namespace {
size_t activation_floats(int64_t capacity_tokens, int64_t width) {
  return static_cast<size_t>(std::max<int64_t>(1, capacity_tokens) * width);
}
}  // namespace

Activations::Activations(const ModelConfig& c, int64_t capacity_tokens)
    : capacity(std::max<int64_t>(1, capacity_tokens)),
      x(activation_floats(capacity_tokens, c.n_embd)),
      xb(activation_floats(capacity_tokens, c.n_embd)),
      xb2(activation_floats(capacity_tokens, c.n_embd)),
      q(activation_floats(capacity_tokens, c.q_dim())),
      k(activation_floats(capacity_tokens, c.kv_dim())),
      v(activation_floats(capacity_tokens, c.kv_dim())),
      att(activation_floats(capacity_tokens, c.q_dim())),
      gate(activation_floats(capacity_tokens, c.n_ff)),
      up(activation_floats(capacity_tokens, c.n_ff)),
      rope(activation_floats(capacity_tokens, c.n_rot)) {}

void forward(const Transformer& model, std::span<const TokenSlot> slots, Activations& act,
             runtime::ThreadPool& pool) {
  const ModelConfig& c = model.config();
  const ModelWeights& w = model.weights();
  const auto n = static_cast<int64_t>(slots.size());  // tokens in this pass
  const int64_t n_embd = c.n_embd, q_dim = c.q_dim(), kv_dim = c.kv_dim(), n_ff = c.n_ff;
  const AttentionShape shape{c.n_head, c.n_head_kv, c.head_dim};
  const kernels::FloatOps& ops = model.kernels().ops;

  // Attention scratch per thread, sized for the longest position seen here.
  int64_t longest_ctx = 0;
  for (const TokenSlot& s : slots) longest_ctx = std::max(longest_ctx, s.pos + 1);
  const size_t scores_needed = static_cast<size_t>(pool.size()) * attention_scratch_floats(longest_ctx, c.head_dim);
  act.scores.grow(scores_needed);
  const std::span<float> scores(act.scores.data(), scores_needed);

  // Each token's RoPE angles, once for all layers.
  for (int64_t t = 0; t < n; ++t)
    rope_angles(&act.rope[t * c.n_rot], c.n_rot, slots[t].pos, c.rope_freq_base, c.rope_freq_scale);

  // Embed: look up each token's row of token_embd, decoded to f32. Then the
  // table's file pages are released, in one call for the whole batch: it is
  // read a row per token, and left mapped it would grow the resident set by
  // a page (a large folio, on newer kernels) per new token.
  const uint64_t embd_row_bytes = w.token_embd.n_bytes / static_cast<uint64_t>(c.n_vocab);
  for (int64_t t = 0; t < n; ++t) {
    const uint8_t* row = w.token_embd.data.data() + static_cast<uint64_t>(slots[t].token) * embd_row_bytes;
    formats::dequantize(w.token_embd.type.id, row, &act.x[t * n_embd], n_embd);
  }
  if (w.release_file_bytes) w.release_file_bytes(w.token_embd.data);

  for (int64_t il = 0; il < c.n_layer; ++il) {
    const LayerWeights& l = w.layers[il];

    // Attention norm.
    rmsnorm_rows(act.xb.data(), act.x.data(), l.attn_norm, n, n_embd, c.rms_norm_eps, pool);

    // Q, K, V projections (plus biases, if the file has them).
    matmul_same_input({{&l.attn_q, act.q.data()}, {&l.attn_k, act.k.data()}, {&l.attn_v, act.v.data()}},
                      act.xb.data(), n, pool, act.scratch);
    add_bias(act.q.data(), l.attn_q_bias, n, q_dim);
    add_bias(act.k.data(), l.attn_k_bias, n, kv_dim);
    add_bias(act.v.data(), l.attn_v_bias, n, kv_dim);

    // RoPE (NEOX), THEN per-head RMSNorm of q and k (Hunyuan's QK-norm comes
    // after RoPE), one fused pass per head; then the new keys and values go
    // into each token's cache.
    for_item_ranges(pool, n, q_dim + 2 * kv_dim, [&](int64_t begin, int64_t end) {
      for (int64_t t = begin; t < end; ++t) {
        const float* angles = &act.rope[t * c.n_rot];
        rope_then_head_norm(&act.q[t * q_dim], c.n_head, c.head_dim, c.n_rot, angles,
                            l.attn_q_norm.data(), c.rms_norm_eps);
        rope_then_head_norm(&act.k[t * kv_dim], c.n_head_kv, c.head_dim, c.n_rot, angles,
                            l.attn_k_norm.data(), c.rms_norm_eps);
        slots[t].cache->store(il, slots[t].pos, &act.k[t * kv_dim], &act.v[t * kv_dim]);
      }
    });

    // Causal GQA attention over the cache, then the output projection and residual.
    attention(act.q.data(), act.att.data(), slots, il, shape, ops, scores, pool);
    kernels::matmul(l.attn_output, act.att.data(), n, act.xb2.data(), pool, act.scratch);
    add_bias(act.xb2.data(), l.attn_output_bias, n, n_embd);
    add_in_place(act.x.data(), act.xb2.data(), n * n_embd);

    // FFN norm, SwiGLU feed-forward, residual.
    rmsnorm_rows(act.xb.data(), act.x.data(), l.ffn_norm, n, n_embd, c.rms_norm_eps, pool);
    matmul_same_input({{&l.ffn_gate, act.gate.data()}, {&l.ffn_up, act.up.data()}}, act.xb.data(), n, pool,
                      act.scratch);
    for_item_ranges(pool, n * n_ff, 1, [&](int64_t begin, int64_t end) {
      ops.swiglu(act.gate.data() + begin, act.up.data() + begin, end - begin);
    });
    kernels::matmul(l.ffn_down, act.gate.data(), n, act.xb2.data(), pool, act.scratch);
    add_in_place(act.x.data(), act.xb2.data(), n * n_embd);
  }

  // Final norm for the tokens that want logits or their hidden state; the
  // output-head matmul only for those that want logits (embeddings skip it:
  // for a small model it is the largest matmul of the pass).
  int64_t n_out = 0;
  for (int64_t t = 0; t < n; ++t) {
    if (!slots[t].logits && !slots[t].hidden) continue;
    // Rows for the output head pack into xb; a hidden-only row uses xb2, free by now.
    float* normed = slots[t].logits ? &act.xb[n_out * n_embd] : act.xb2.data();
    rmsnorm(normed, &act.x[t * n_embd], w.output_norm.data(), n_embd, c.rms_norm_eps);
    if (slots[t].hidden) std::copy_n(normed, n_embd, slots[t].hidden);
    if (slots[t].logits) ++n_out;
  }
  if (n_out == 0) return;
  // When the rows' destinations are consecutive (a perplexity chunk, a
  // prompt's logits), the output head writes straight into them: no second
  // buffer of n_out x n_vocab floats and no copy.
  float* first_row = nullptr;
  bool consecutive = true;
  int64_t rows_seen = 0;
  for (const TokenSlot& s : slots) {
    if (!s.logits) continue;
    if (first_row == nullptr) first_row = s.logits;
    consecutive = consecutive && s.logits == first_row + rows_seen * c.n_vocab;
    ++rows_seen;
  }
  if (consecutive) {
    kernels::matmul(w.output, act.xb.data(), n_out, first_row, pool, act.scratch);
    return;
  }
  act.logits.resize(static_cast<size_t>(n_out * c.n_vocab));
  kernels::matmul(w.output, act.xb.data(), n_out, act.logits.data(), pool, act.scratch);
  int64_t row = 0;
  for (const TokenSlot& s : slots) {
    if (!s.logits) continue;
    std::copy_n(&act.logits[row * c.n_vocab], c.n_vocab, s.logits);
    ++row;
  }
}

Context::Context(const Transformer& model, int64_t n_ctx, int64_t n_batch, KvType cache_type)
    : model_(model),
      cache_(model.config().n_layer, n_ctx, model.config().n_head_kv, model.config().head_dim,
             cache_type, model.kernels().ops),
      act_(model.config(), std::min(n_batch, n_ctx)) {}

Status Context::check_room(std::span<const int32_t> tokens) const {
  const ModelConfig& c = model_.config();
  const auto n_tokens = static_cast<int64_t>(tokens.size());
  if (n_tokens == 0) return make_error("no tokens to evaluate");
  for (int32_t id : tokens)
    if (id < 0 || id >= c.n_vocab)
      return make_error("token id ", id, " is outside the vocabulary (0..", c.n_vocab - 1, ")");
  if (n_past_ + n_tokens > n_ctx())
    return make_error("context is full: ", n_past_, " tokens cached + ", n_tokens,
                      " new exceed the context size ", n_ctx(), " (raise -c)");
  return Ok{};
}

Result<std::span<const float>> Context::eval(std::span<const int32_t> tokens, LogitsFor which,
                                             runtime::ThreadPool& pool, int64_t first_logits) {
  HY2BIT_TRY(check_room(tokens));
  const int64_t n_vocab = model_.config().n_vocab;
  const auto n_tokens = static_cast<int64_t>(tokens.size());
  if (which == LogitsFor::kLastToken) first_logits = 0;
  if (first_logits < 0 || first_logits >= n_tokens)
    return make_error("logits asked from token ", first_logits, " of ", n_tokens);
  const int64_t n_out = which == LogitsFor::kAllTokens ? n_tokens - first_logits : 1;
  logits_.resize(static_cast<size_t>(n_out * n_vocab));

  for (int64_t begin = 0; begin < n_tokens; begin += act_.capacity) {
    const int64_t n = std::min(act_.capacity, n_tokens - begin);
    slots_.clear();
    for (int64_t t = begin; t < begin + n; ++t) {
      // kAllTokens: every token's row; kLastToken: only the very last token's.
      float* logits = which == LogitsFor::kAllTokens
                          ? (t >= first_logits ? &logits_[(t - first_logits) * n_vocab] : nullptr)
                          : (t == n_tokens - 1 ? logits_.data() : nullptr);
      slots_.push_back({tokens[t], &cache_, n_past_ + (t - begin), logits});
    }
    forward(model_, slots_, act_, pool);
    n_past_ += n;
  }
  return std::span<const float>(logits_);
}

Result<std::span<const float>> Context::eval_hidden(std::span<const int32_t> tokens,
                                                    runtime::ThreadPool& pool) {
  HY2BIT_TRY(check_room(tokens));
  const int64_t n_embd = model_.config().n_embd;
  const auto n_tokens = static_cast<int64_t>(tokens.size());
  hidden_.resize(static_cast<size_t>(n_tokens * n_embd));
  for (int64_t begin = 0; begin < n_tokens; begin += act_.capacity) {
    const int64_t n = std::min(act_.capacity, n_tokens - begin);
    slots_.clear();
    for (int64_t t = begin; t < begin + n; ++t)
      slots_.push_back({tokens[t], &cache_, n_past_ + (t - begin), nullptr, &hidden_[t * n_embd]});
    forward(model_, slots_, act_, pool);
    n_past_ += n;
  }
  return std::span<const float>(hidden_);
}

TokenSlot Context::next_slot(int32_t token) {
  logits_.resize(static_cast<size_t>(model_.config().n_vocab));
  return {token, &cache_, n_past_, logits_.data()};
}

Status decode_multi(std::span<Context* const> contexts, std::span<const int32_t> tokens,
                    Activations& act, runtime::ThreadPool& pool) {
  if (contexts.size() != tokens.size()) return make_error("decode_multi: ", contexts.size(), " contexts but ", tokens.size(), " tokens");
  for (size_t i = 0; i < contexts.size(); ++i) HY2BIT_TRY(contexts[i]->check_room(tokens.subspan(i, 1)));
  std::vector<TokenSlot> slots;
  for (size_t i = 0; i < contexts.size(); ++i) slots.push_back(contexts[i]->next_slot(tokens[i]));
  for (size_t begin = 0; begin < slots.size(); begin += static_cast<size_t>(act.capacity)) {
    const size_t n = std::min(slots.size() - begin, static_cast<size_t>(act.capacity));
    forward(contexts[0]->model(), std::span<const TokenSlot>(slots).subspan(begin, n), act, pool);
  }
  for (Context* c : contexts) c->advance(1);
  return Ok{};
}

}  // namespace hy2bit::model
