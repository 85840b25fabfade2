// The model's tensors bound by name with their expected shapes: a missing,
// misshapen or unused tensor is an Error that names it. Linear weights are
// prepared for the active kernel path; norms are copied to f32.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "gguf/gguf.h"
#include "hy2bit/result.h"
#include "kernels/matmul.h"
#include "kernels/weight_arena.h"
#include "model/config.h"

namespace hy2bit::model {

// One transformer block. Shapes in ggml order {input, output}.
struct LayerWeights {
  std::vector<float> attn_norm;             // {n_embd} RMSNorm weight before attention
  kernels::PreparedWeights attn_q;          // {n_embd, q_dim}
  kernels::PreparedWeights attn_k;          // {n_embd, kv_dim}
  kernels::PreparedWeights attn_v;          // {n_embd, kv_dim}
  kernels::PreparedWeights attn_output;     // {q_dim, n_embd}
  std::vector<float> attn_q_bias;           // {q_dim} or empty (HY has none)
  std::vector<float> attn_k_bias;           // {kv_dim} or empty
  std::vector<float> attn_v_bias;           // {kv_dim} or empty
  std::vector<float> attn_output_bias;      // {n_embd} or empty
  std::vector<float> attn_q_norm;           // {head_dim} per-head RMSNorm after RoPE
  std::vector<float> attn_k_norm;           // {head_dim}
  std::vector<float> ffn_norm;              // {n_embd} RMSNorm weight before the FFN
  kernels::PreparedWeights ffn_gate;        // {n_embd, n_ff}
  kernels::PreparedWeights ffn_up;          // {n_embd, n_ff}
  kernels::PreparedWeights ffn_down;        // {n_ff, n_embd}
};

// Called with file bytes the model is done with for now: a tensor's once the
// kernels hold a repacked copy (so weights are never resident twice), and
// the token_embd rows each forward pass has just looked up (so a long
// generation does not map the embedding table page by page). The model
// drops those pages from the resident set; touched again, they are read
// from the page cache.
using ReleaseFn = std::function<void(std::span<const uint8_t> file_bytes)>;

struct ModelWeights {
  // Holds the repacked matrices below, in the order the forward pass reads them.
  std::unique_ptr<kernels::WeightArena> arena;
  gguf::TensorInfo token_embd;              // {n_embd, n_vocab}: rows looked up per token
  std::vector<float> output_norm;           // {n_embd} final RMSNorm weight
  kernels::PreparedWeights output;          // {n_embd, n_vocab}: output.weight, or token_embd when tied
  bool output_tied = true;                  // true when output.weight is absent
  std::vector<LayerWeights> layers;         // n_layer blocks

  // Bytes the matmuls read per token (linear weights and the output head,
  // as stored in the file), and bytes of repacked copies.
  uint64_t matmul_bytes = 0;
  uint64_t repacked_bytes = 0;

  ReleaseFn release_file_bytes;             // see ReleaseFn; may be empty
};

// Binds every tensor of `file` for `config` on the given kernel path.
Result<ModelWeights> bind_weights(const gguf::File& file, const ModelConfig& config,
                                  const kernels::KernelTable& kernels, const ReleaseFn& release_file_bytes = {});

}  // namespace hy2bit::model
