// A loaded Hunyuan dense model (Transformer: config and weights bound to a
// parsed GGUF file; shared, read-only) and the per-sequence state a forward
// pass writes (Context: KV cache and activations allocated once).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "hy2bit/result.h"
#include "kernels/matmul.h"
#include "model/config.h"
#include "model/kv_cache.h"
#include "model/weights.h"
#include "runtime/thread_pool.h"

namespace hy2bit::model {

class Transformer {
 public:
  // Reads the config and binds the weights of `file` for the given kernel
  // path. The file (and the bytes it views) must outlive the Transformer.
  static Result<std::unique_ptr<Transformer>> bind(const gguf::File& file,
                                                   const kernels::KernelTable& kernels);

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const gguf::File& file() const { return *file_; }
  const kernels::KernelTable& kernels() const { return *kernels_; }

 private:
  Transformer() = default;
  const gguf::File* file_ = nullptr;
  ModelConfig config_;
  ModelWeights weights_;
  const kernels::KernelTable* kernels_ = nullptr;
};

// Which positions of a batch need logits.
enum class LogitsFor { kLastToken, kAllTokens };

// The state of one sequence: its KV cache, position and activations for up
// to n_batch tokens at a time ("the current wave of activations", as in llama2.c).
class Context {
 public:
  Context(const Transformer& model, int64_t n_ctx, int64_t n_batch);

  int64_t n_ctx() const { return cache_.n_ctx(); }
  int64_t n_batch() const { return n_batch_; }
  int64_t n_past() const { return n_past_; }          // tokens already in the cache
  void reset() { n_past_ = 0; }                        // forget the sequence
  void truncate(int64_t n_past) { n_past_ = std::min(n_past_, n_past); }  // keep a prefix
  size_t kv_cache_bytes() const { return cache_.bytes(); }

  // Feeds tokens after the ones already seen (in chunks of n_batch) and
  // returns logits: (1, n_vocab) for the last token or (n_tokens, n_vocab).
  // Errors: empty input, a token id outside the vocabulary, or the context full.
  Result<std::span<const float>> eval(std::span<const int32_t> tokens, LogitsFor which,
                                      runtime::ThreadPool& pool);

 private:
  // One chunk of at most n_batch tokens at positions n_past_..; writes logits
  // for its rows into `logits_out` (n_out rows).
  void forward_chunk(std::span<const int32_t> tokens, LogitsFor which, float* logits_out,
                     runtime::ThreadPool& pool);

  const Transformer& model_;
  KvCache cache_;
  int64_t n_batch_;
  int64_t n_past_ = 0;

  // Activations, (n_batch, width) row-major, allocated once.
  std::vector<float> x_;       // (n_batch, n_embd) residual stream
  std::vector<float> xb_;      // (n_batch, n_embd) normed input of a sub-layer
  std::vector<float> xb2_;     // (n_batch, n_embd) output of attn_output / ffn_down
  std::vector<float> q_;       // (n_batch, q_dim) queries
  std::vector<float> k_;       // (n_batch, kv_dim) keys of the new tokens
  std::vector<float> v_;       // (n_batch, kv_dim) values of the new tokens
  std::vector<float> att_;     // (n_batch, q_dim) attention output, heads side by side
  std::vector<float> gate_;    // (n_batch, n_ff) SwiGLU gate, then silu(gate) * up
  std::vector<float> up_;      // (n_batch, n_ff) SwiGLU up projection
  std::vector<float> scores_;  // (threads, n_ctx) attention scores per thread
  std::vector<float> logits_;  // (rows asked for, n_vocab)
  kernels::MatmulScratch scratch_;  // quantized activations
};

}  // namespace hy2bit::model
