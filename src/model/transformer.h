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
#include "model/token_slot.h"
#include "model/weights.h"
#include "runtime/page_buffer.h"
#include "runtime/thread_pool.h"

namespace hy2bit::model {

class Transformer {
 public:
  // Reads the config and binds the weights of `file` for the given kernel
  // path. The bytes the file views must outlive the Transformer; the parsed
  // table itself need not.
  static Result<std::unique_ptr<Transformer>> bind(const gguf::File& file,
                                                   const kernels::KernelTable& kernels,
                                                   const ReleaseFn& release_file_bytes = {});
  // The same with the config already read (read_config), so the file's
  // metadata may be dropped first; only its tensor table is used.
  static Result<std::unique_ptr<Transformer>> bind(const gguf::File& file, ModelConfig config,
                                                   const kernels::KernelTable& kernels,
                                                   const ReleaseFn& release_file_bytes = {});

  const ModelConfig& config() const { return config_; }
  const ModelWeights& weights() const { return weights_; }
  const kernels::KernelTable& kernels() const { return *kernels_; }

 private:
  Transformer() = default;
  ModelConfig config_;
  ModelWeights weights_;
  const kernels::KernelTable* kernels_ = nullptr;
};

// Which positions of a batch need logits.
enum class LogitsFor { kLastToken, kAllTokens };

// The activations of one forward pass over up to `capacity` tokens ("the
// current wave of activations", as in llama2.c), allocated once and reused.
// Row-major (tokens, width). The buffers are untouched pages until a pass
// writes them, so their memory follows the largest batch actually run.
struct Activations {
  Activations(const ModelConfig& config, int64_t capacity);
  int64_t capacity;            // most tokens one pass can take
  runtime::FloatPages x;       // (capacity, n_embd) residual stream
  runtime::FloatPages xb;       // (capacity, n_embd) normed input of a sub-layer
  runtime::FloatPages xb2;      // (capacity, n_embd) output of attn_output / ffn_down
  runtime::FloatPages q;        // (capacity, q_dim) queries
  runtime::FloatPages k;        // (capacity, kv_dim) keys of the new tokens
  runtime::FloatPages v;        // (capacity, kv_dim) values of the new tokens
  runtime::FloatPages att;      // (capacity, q_dim) attention output, heads side by side
  runtime::FloatPages gate;     // (capacity, n_ff) SwiGLU gate, then silu(gate) * up
  runtime::FloatPages up;       // (capacity, n_ff) SwiGLU up projection
  runtime::FloatPages rope;     // (capacity, n_rot) each token's RoPE cos/sin (rope_angles)
  runtime::FloatPages scores;   // (threads, attention_scratch_floats) f32 keys, values, scores
  std::vector<float> logits;   // (rows asked for, n_vocab)
  kernels::MatmulScratch scratch;  // quantized activations for the kernels
};

// The forward pass over `slots` (at most act.capacity): the matmuls see all
// tokens as one batch, attention reads each token's own cache. Tokens of one
// sequence must come in position order.
void forward(const Transformer& model, std::span<const TokenSlot> slots, Activations& act,
             runtime::ThreadPool& pool);

// The state of one sequence: its KV cache, position and activations.
class Context {
 public:
  Context(const Transformer& model, int64_t n_ctx, int64_t n_batch, KvType cache_type = KvType::kF16);

  int64_t n_ctx() const { return cache_.n_ctx(); }
  int64_t n_batch() const { return act_.capacity; }
  int64_t n_past() const { return n_past_; }          // tokens already in the cache
  void reset() { n_past_ = 0; }                        // forget the sequence
  void truncate(int64_t n_past) { n_past_ = std::min(n_past_, n_past); }  // keep a prefix
  size_t kv_cache_bytes() const { return cache_.bytes(); }

  // Checks that `n_tokens` more tokens fit and that every id is in the vocabulary.
  Status check_room(std::span<const int32_t> tokens) const;

  // Feeds tokens after the ones already seen (in chunks of n_batch) and
  // returns logits: (1, n_vocab) for the last token or, for kAllTokens,
  // (n_tokens - first_logits, n_vocab) for tokens[first_logits..] (the
  // others' logits are not computed: perplexity scores only a chunk's tail).
  // Errors: empty input, a token id outside the vocabulary, or the context full.
  Result<std::span<const float>> eval(std::span<const int32_t> tokens, LogitsFor which,
                                      runtime::ThreadPool& pool, int64_t first_logits = 0);

  // As eval, but returns each token's final hidden state (after
  // output_norm: what the output head would multiply), (n_tokens, n_embd),
  // and computes no logits. Same errors as eval.
  Result<std::span<const float>> eval_hidden(std::span<const int32_t> tokens, runtime::ThreadPool& pool);

  // For batched decoding across contexts (decode_multi): the slot for the
  // next token, and marking it done once the pass ran.
  TokenSlot next_slot(int32_t token);
  void advance(int64_t n_tokens) { n_past_ += n_tokens; }
  std::span<const float> last_logits() const { return logits_; }
  const Transformer& model() const { return model_; }

 private:
  const Transformer& model_;
  KvCache cache_;
  int64_t n_past_ = 0;
  Activations act_;
  std::vector<float> logits_;   // (rows asked for, n_vocab) of the last eval
  std::vector<float> hidden_;   // (n_tokens, n_embd) of the last eval_hidden
  std::vector<TokenSlot> slots_;
};

// Decodes one token for each of several contexts of the same model in one
// forward pass (the server's batched step). Each context must have room.
Status decode_multi(std::span<Context* const> contexts, std::span<const int32_t> tokens,
                    Activations& act, runtime::ThreadPool& pool);

}  // namespace hy2bit::model
