// Per-position arithmetic of perplexity and KL divergence: the log-softmax of
// one row of logits at the text's next token, its argmax, and the 16-bit
// log-probability rows the KLD base file stores. Scalar code; rows are
// n_vocab floats. Nothing here allocates.
#pragma once

#include <cstdint>
#include <span>

namespace hy2bit::eval {

// One position's score: -log p(next token) and the argmax of the row.
struct TokenScore {
  double nll = 0;        // -log softmax(logits)[token], in nats
  int32_t top_token = 0; // first index of the largest logit
};
TokenScore score_token(std::span<const float> logits, int32_t token);

// A row of log-probabilities stored in 16 bits, as llama-perplexity's
// --kl-divergence-base does: log p_i ~= min_log_prob + scale * q[i]. The
// range kept is the 16 nats below the largest logit; entries below it get
// q = 0 (and count as probability 0 in the KLD sum, see kLogProbFloor).
struct QuantizedRowParams {
  float scale = 0;         // nats per step of q
  float min_log_prob = 0;  // log p of q = 0
};
inline constexpr float kLogProbRange = 16.0f;  // nats below the top kept in a row
inline constexpr float kLogProbFloor = -16.0f; // base log-probs at or below this are skipped in KLD sums

// Quantizes `logits` into q (n_vocab entries) and returns the row's parameters.
QuantizedRowParams quantize_log_probs(std::span<const float> logits, std::span<uint16_t> q);

// The KL divergence sum_i p_i (log p_i - log q_i) of two quantized rows,
// base (p) and model (q), over base entries with log p_i > kLogProbFloor.
// Both rows are read through their own parameters, so identical rows give
// exactly 0.
double kl_divergence_of_rows(QuantizedRowParams base, std::span<const uint16_t> base_q,
                             QuantizedRowParams model, std::span<const uint16_t> model_q);

}  // namespace hy2bit::eval
