// Log-probabilities from raw logits, for /v1/completions `logprobs` and
// `echo` (lm-evaluation-harness scores multiple choice with them) and chat
// `logprobs`. Values are from the model's own distribution, log_softmax of
// the logits, before temperature or any other sampling stage.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace hy2bit::server {

struct TokenLogprob {
  int32_t token = -1;   // the token at this position
  float logprob = 0;    // log p(token | everything before)
  std::vector<std::pair<int32_t, float>> top;  // the n most likely tokens and their log p, best first
};

// log p of `token` and the `n_top` best tokens under softmax(logits).
// logits: n_vocab floats; token in [0, n_vocab).
TokenLogprob token_logprob(std::span<const float> logits, int32_t token, int32_t n_top);

// log(sum(exp(logits))), computed stably (max subtracted first).
double log_sum_exp(std::span<const float> logits);

}  // namespace hy2bit::server
