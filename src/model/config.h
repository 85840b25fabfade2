// The model's hyperparameters, read from GGUF metadata only (nothing is
// hard-wired to the 1.8B shapes), checked for consistency once at load.
#pragma once

#include <cstdint>
#include <string>

#include "gguf/gguf.h"
#include "hy2bit/result.h"

namespace hy2bit::model {

// The one architecture hy2bit runs.
inline constexpr std::string_view kArchitecture = "hunyuan-dense";
// Required tensors of one transformer block (norms, q/k/v/output, q/k norms, FFN).
inline constexpr uint64_t kTensorsPerBlock = 11;

struct ModelConfig {
  std::string name;           // general.name, or "" when absent
  int64_t n_layer = 0;        // transformer blocks (block_count)
  int64_t n_embd = 0;         // hidden size (embedding_length)
  int64_t n_ff = 0;           // SwiGLU inner size (feed_forward_length)
  int64_t n_head = 0;         // query heads (attention.head_count)
  int64_t n_head_kv = 0;      // key/value heads, GQA (attention.head_count_kv)
  int64_t head_dim = 0;       // per-head size of q, k and v (attention.key_length)
  int64_t n_vocab = 0;        // rows of token_embd (= tokenizer.ggml.tokens length)
  int64_t n_ctx_train = 0;    // context_length: the longest context trained
  int64_t n_rot = 0;          // dims RoPE rotates per head (rope.dimension_count, default head_dim)
  float rms_norm_eps = 1e-5f; // attention.layer_norm_rms_epsilon
  float rope_freq_base = 10000.0f;  // rope.freq_base (NTK alpha already folded in)
  float rope_freq_scale = 1.0f;     // 1 / rope.scaling.factor for "linear" scaling, else 1

  int64_t q_dim() const { return n_head * head_dim; }      // width of Wq's output
  int64_t kv_dim() const { return n_head_kv * head_dim; }  // width of Wk's and Wv's output
  int64_t gqa_ratio() const { return n_head / n_head_kv; } // query heads per KV head
};

// Reads and validates the config: arch must be hunyuan-dense; every count in
// a range real models use and consistent (n_head a multiple of n_head_kv,
// even n_rot <= head_dim, block_count blocks fit in the tensor table); eps in
// (0, 1); rope base in (1, 1e12]; RoPE scaling none or linear. Errors name
// the key and its value.
Result<ModelConfig> read_config(const gguf::File& file);

}  // namespace hy2bit::model
