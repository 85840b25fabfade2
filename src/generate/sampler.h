// Token sampling as small pure stages over a candidate array, in llama.cpp's
// default order: logit bias, penalties (repetition, frequency, presence), top-k, top-p, min-p, temperature, draw.
// The random draw is passed in as a coin in [0, 1) (as in llama2.c), so a
// seed reproduces a run exactly and each stage is testable on its own.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "hy2bit/generate.h"

namespace hy2bit::sampling {

// The public SamplingOptions (hy2bit/generate.h) are the parameters.
using SamplingParams = SamplingOptions;


struct Candidate {
  int32_t id;
  float logit;
  float p;  // probability after softmax (valid after softmax())
};

// Divides positive logits by `penalty` and multiplies negative ones, once per
// distinct token in `recent` (llama.cpp's repetition penalty).
void apply_repeat_penalty(std::vector<Candidate>& candidates, std::span<const int32_t> recent,
                          float penalty);
// Adds each bias to its token's logit (ids outside the vocabulary were
// rejected when the options were checked).
void apply_logit_bias(std::vector<Candidate>& candidates, std::span<const LogitBias> biases);
// OpenAI's / llama.cpp's penalties over `recent`: for a token seen n > 0
// times, logit -= n * frequency + presence.
void apply_frequency_presence(std::vector<Candidate>& candidates, std::span<const int32_t> recent,
                              float frequency, float presence);
// Keeps the k highest logits, sorted descending. Ties keep the lower id first.
void keep_top_k(std::vector<Candidate>& candidates, int32_t k);
// Sorts by logit (descending) and sets p to the softmax of logit.
void softmax(std::vector<Candidate>& candidates);
// Keeps the smallest prefix whose probability sums to at least top_p (at least one).
void keep_top_p(std::vector<Candidate>& candidates, float top_p);
// Keeps candidates whose probability is at least min_p times the best one's.
void keep_min_p(std::vector<Candidate>& candidates, float min_p);
// Divides logits by the temperature.
void apply_temperature(std::vector<Candidate>& candidates, float temperature);
// Picks the candidate where the cumulative probability passes coin (in [0, 1)).
int32_t draw(const std::vector<Candidate>& candidates, float coin);

// The stages chained, with its own random source and history of tokens.
class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // Chooses the next token from the last position's logits (n_vocab floats).
  int32_t sample(std::span<const float> logits);
  // Records a token of the context (prompt or generated) for the penalty.
  void accept(int32_t token);
  void reset_history() { history_.clear(); }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<int32_t> history_;
  std::vector<Candidate> candidates_;
};

}  // namespace hy2bit::sampling
