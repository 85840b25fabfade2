// The public API for text embeddings, as llama-server --embedding with mean
// pooling computes them: each input token's final hidden state (after the
// final RMSNorm; no output-head matmul), averaged over every token (BOS
// included when the model adds one), then optionally L2-normalised.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "hy2bit/model.h"
#include "hy2bit/result.h"

namespace hy2bit {

struct EmbedOptions {
  bool normalize = true;  // L2-normalise (llama-server's /v1/embeddings, ollama's /api/embed)
};

// `text` as an embedding input: plain text (special-token markup in it stays
// text) after BOS when the model adds one. Thread-safe, like tokenize().
Result<std::vector<int32_t>> tokenize_for_embedding(const Model& model, std::string_view text);

// The embedding (n_embd floats) of `tokens`: the session is reset, the
// tokens are evaluated from an empty cache in batches of its n_batch, and
// their hidden states are mean-pooled. Errors: no tokens, more tokens than
// the session's context holds, an id outside the vocabulary. The session is
// left reset afterwards.
Result<std::vector<float>> embed(Session& session, std::span<const int32_t> tokens,
                                 const EmbedOptions& options = {});

// Mean pooling over hidden-state rows that arrive in chunks (the server
// evaluates a long input a chunk per scheduler step). Sums in double.
class MeanPool {
 public:
  explicit MeanPool(int64_t width) : sum_(static_cast<size_t>(width), 0.0) {}
  void add(std::span<const float> rows);  // whole rows of `width` floats
  int64_t n_rows() const { return n_rows_; }
  // The mean of the rows added (n_rows() must be > 0), L2-normalised if asked.
  std::vector<float> finish(bool normalize) const;

 private:
  std::vector<double> sum_;  // (width) per-dimension sums
  int64_t n_rows_ = 0;
};

// Scales `v` to unit Euclidean length (left as is when it is all zeros).
void l2_normalize(std::span<float> v);

}  // namespace hy2bit
