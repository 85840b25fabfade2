// The public API for loading a model and evaluating tokens. Tools and the
// server use only include/hy2bit/; everything under src/ is internal.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit {

struct LoadOptions {
  std::string model_path;   // a hunyuan-dense GGUF file
  int n_threads = 0;        // worker threads for this model's sessions; 0 = physical cores
  bool vocab_only = false;  // load only the tokenizer (tokenize works, sessions do not)
  std::string isa = "";     // kernel path ("scalar", "avx2", ...); empty: HY2BIT_ISA or the best
  // A GGUF image already in memory, read instead of model_path (which then
  // only names it in messages). It must outlive the model; it is used in place.
  std::span<const uint8_t> model_bytes = {};
};

// What a user wants to know about a loaded model (printed by info and bench).
struct ModelSummary {
  std::string path;
  std::string name;           // general.name
  std::string architecture;   // "hunyuan-dense"
  std::string weight_types;   // e.g. "q2_0c" (the main linear weight type), "q2_0c+q6_K"
  std::string isa;            // kernel path in use: scalar, avx2, avx2_vnni, avx512, neon, ...
  int64_t n_layer = 0, n_embd = 0, n_ff = 0, n_head = 0, n_head_kv = 0, head_dim = 0;
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;
  uint64_t n_params = 0;      // elements of all tensors
  uint64_t file_bytes = 0;    // size of the GGUF file
  uint64_t weight_bytes = 0;  // bytes of all tensors as stored
  uint64_t repacked_bytes = 0;// bytes of weight copies repacked for the kernels
  uint64_t decode_bytes = 0;  // weight bytes one decoded token reads (all but the embedding
                              // table, whose one row is looked up; tied: read as the output)
  int n_threads = 0;
};

class Model {
 public:
  static Result<std::shared_ptr<Model>> load(const LoadOptions& options);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelSummary& summary() const;

  struct Impl;                 // internal: model/transformer.h, text/tokenizer.h
  Impl& impl() const { return *impl_; }

 private:
  explicit Model(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How the KV cache stores keys and values: f16 (llama.cpp's default) or
// q8_0 (53% of the bytes; rows quantized as llama.cpp's q8_0 does).
enum class CacheType { kF16, kQ8_0 };

struct SessionOptions {
  int64_t n_ctx = 4096;       // tokens the KV cache holds (prompt + reply)
  int64_t n_batch = 512;      // prompt tokens per forward pass
  CacheType cache_type = CacheType::kF16;
};

struct BatchStep;  // below: one token for one session of a batched step

// One sequence: its KV cache and activations. Not thread-safe; one per user.
// A model's sessions share its thread pool: evaluate them from one thread.
class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options);
  ~Session();

  // Feeds tokens after those already seen; returns the logits of the last
  // token (n_vocab floats) or, with all_logits, of every token (n x n_vocab).
  Result<std::span<const float>> eval(std::span<const int32_t> tokens, bool all_logits = false);
  // As eval, but returns each token's final hidden state (after the final
  // RMSNorm: what the output head multiplies), n x n_embd, and skips the
  // output-head matmul (hy2bit/embedding.h pools these).
  Result<std::span<const float>> eval_hidden(std::span<const int32_t> tokens);
  int64_t n_past() const;      // tokens in the cache
  std::span<const int32_t> tokens() const;  // the n_past tokens, in order
  int64_t n_ctx() const;
  void reset();                // forget everything
  void truncate(int64_t n_past);  // keep only the first n_past tokens
  const Model& model() const { return *model_; }

 private:
  friend Result<std::vector<std::span<const float>>> decode_batch(std::span<const BatchStep> steps);
  Session(std::shared_ptr<const Model> model, const SessionOptions& options);
  std::shared_ptr<const Model> model_;
  struct State;
  std::unique_ptr<State> state_;
};

// Evaluates one token for each of several sessions of the same model in a
// single forward pass where the model supports it (falling back to one pass
// per session), and returns each session's logits (n_vocab floats, valid
// until that session's next eval).
struct BatchStep {
  Session* session;
  int32_t token;
};
Result<std::vector<std::span<const float>>> decode_batch(std::span<const BatchStep> steps);

}  // namespace hy2bit
