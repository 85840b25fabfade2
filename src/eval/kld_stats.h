// The statistics of a KL-divergence run, accumulated position by position as
// llama-perplexity's kl_divergence() does: sums for the means and their
// uncertainties, plus every position's KLD and Δp for the quantiles.
#pragma once

#include <cstdint>
#include <vector>

#include "hy2bit/perplexity.h"

namespace hy2bit::eval {

// What one scored position contributes.
struct KldPosition {
  double nll = 0;        // -log p(next token) under the model
  double nll_base = 0;   // -log p(next token) under the base
  double kld = 0;        // KL(base || model) at this position
  bool same_top = false; // the two argmaxes agree
};

class KldStats {
 public:
  void add(const KldPosition& p);
  int64_t count() const { return count_; }
  // The means and uncertainties; with quantiles, also the KLD and Δp
  // percentiles (sorts copies of all values).
  KldSummary summary(bool with_quantiles) const;

 private:
  double sum_nll_ = 0, sum_nll2_ = 0;
  double sum_nll_base_ = 0, sum_nll_base2_ = 0, sum_nll_nll_base_ = 0;
  double sum_kld_ = 0, sum_kld2_ = 0;
  double sum_dp_ = 0, sum_dp2_ = 0, sum_dp4_ = 0;
  int64_t n_same_top_ = 0;
  int64_t count_ = 0;
  std::vector<float> kld_values_;  // one per position, in order
  std::vector<float> dp_values_;   // p(model) - p(base) of the next token, one per position
};

// llama.cpp's percentile of sorted values: linear between the two nearest
// ranks of fraction * (n - 1). `sorted` must not be empty.
double percentile(const std::vector<float>& sorted, double fraction);
// The middle value (mean of the two middle ones for an even count).
double median(const std::vector<float>& sorted);

}  // namespace hy2bit::eval
