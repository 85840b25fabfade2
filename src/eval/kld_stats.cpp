// KL-divergence statistics with llama-perplexity's formulas (kld_stats.h):
// a mean's uncertainty is sqrt(var / (n - 1)) (0 for 10 or fewer values),
// ln-PPL uncertainties combine through their covariance, and the PPL ones
// are propagated through exp().
#include "eval/kld_stats.h"

#include <algorithm>
#include <cmath>

namespace hy2bit::eval {
namespace {

struct MeanError {
  double mean = 0, error = 0;
};

MeanError mean_and_error(double sum, double sum2, int64_t count) {
  if (count < 1) return {};
  const auto n = static_cast<double>(count);
  const double mean = sum / n;
  const double var = sum2 / n - mean * mean;
  return {mean, var > 0 && count > 10 ? std::sqrt(var / (n - 1)) : 0.0};
}

// Covariance of the means of two series (0 below 10 values).
double covariance_of_means(double sum_a, double sum_b, double sum_ab, int64_t count) {
  if (count < 10) return 0;
  const auto n = static_cast<double>(count);
  return (sum_ab / n - (sum_a / n) * (sum_b / n)) / (n - 1);
}

}  // namespace

void KldStats::add(const KldPosition& p) {
  sum_nll_ += p.nll;
  sum_nll2_ += p.nll * p.nll;
  sum_nll_base_ += p.nll_base;
  sum_nll_base2_ += p.nll_base * p.nll_base;
  sum_nll_nll_base_ += p.nll * p.nll_base;
  sum_kld_ += p.kld;
  sum_kld2_ += p.kld * p.kld;
  const double dp = std::exp(-p.nll) - std::exp(-p.nll_base);
  sum_dp_ += dp;
  sum_dp2_ += dp * dp;
  sum_dp4_ += dp * dp * dp * dp;
  n_same_top_ += p.same_top ? 1 : 0;
  ++count_;
  kld_values_.push_back(static_cast<float>(p.kld));
  dp_values_.push_back(static_cast<float>(dp));
}

double percentile(const std::vector<float>& sorted, double fraction) {
  if (fraction <= 0) return sorted.front();
  if (fraction >= 1) return sorted.back();
  double p = fraction * static_cast<double>(sorted.size() - 1);
  const auto i = static_cast<size_t>(p);
  p -= static_cast<double>(i);
  return (1 - p) * sorted[i] + p * sorted[std::min(i + 1, sorted.size() - 1)];
}

double median(const std::vector<float>& sorted) {
  const size_t n = sorted.size();
  return n % 2 == 0 ? 0.5 * (static_cast<double>(sorted[n / 2]) + sorted[n / 2 - 1]) : sorted[n / 2];
}

KldSummary KldStats::summary(bool with_quantiles) const {
  KldSummary s;
  s.count = count_;
  if (count_ == 0) return s;
  const MeanError log_ppl = mean_and_error(sum_nll_, sum_nll2_, count_);
  const MeanError log_ppl_base = mean_and_error(sum_nll_base_, sum_nll_base2_, count_);
  const double cov = covariance_of_means(sum_nll_, sum_nll_base_, sum_nll_nll_base_, count_);
  s.ppl = std::exp(log_ppl.mean);
  s.ppl_error = s.ppl * log_ppl.error;
  s.ppl_base = std::exp(log_ppl_base.mean);
  s.ppl_base_error = s.ppl_base * log_ppl_base.error;
  const double error_product = log_ppl.error * log_ppl_base.error;
  s.ppl_correlation = error_product > 0 ? cov / error_product : 0;
  s.log_ppl_ratio = log_ppl.mean - log_ppl_base.mean;
  s.log_ppl_ratio_error = std::sqrt(std::max(
      0.0, log_ppl.error * log_ppl.error + log_ppl_base.error * log_ppl_base.error - 2 * cov));
  s.ppl_ratio = std::exp(s.log_ppl_ratio);
  s.ppl_ratio_error = s.ppl_ratio * s.log_ppl_ratio_error;
  const double ppl_cov = s.ppl * s.ppl_base * cov;
  s.ppl_diff = s.ppl - s.ppl_base;
  s.ppl_diff_error = std::sqrt(std::max(
      0.0, s.ppl_error * s.ppl_error + s.ppl_base_error * s.ppl_base_error - 2 * ppl_cov));

  const MeanError kld = mean_and_error(sum_kld_, sum_kld2_, count_);
  s.kld_mean = kld.mean;
  s.kld_error = kld.error;
  const MeanError dp = mean_and_error(sum_dp_, sum_dp2_, count_);
  s.dp_mean = dp.mean;
  s.dp_error = dp.error;
  const MeanError dp_mse = mean_and_error(sum_dp2_, sum_dp4_, count_);
  s.dp_rms = std::sqrt(dp_mse.mean);
  s.dp_rms_error = s.dp_rms > 0 ? 0.5 / s.dp_rms * dp_mse.error : 0;
  s.same_top = static_cast<double>(n_same_top_) / static_cast<double>(count_);
  s.same_top_error = count_ > 1 ? std::sqrt(s.same_top * (1 - s.same_top) / static_cast<double>(count_ - 1)) : 0;

  if (with_quantiles) {
    std::vector<float> k = kld_values_, d = dp_values_;
    std::sort(k.begin(), k.end());
    std::sort(d.begin(), d.end());
    s.kld_max = k.back();
    s.kld_p999 = percentile(k, 0.999);
    s.kld_p990 = percentile(k, 0.990);
    s.kld_p950 = percentile(k, 0.950);
    s.kld_p900 = percentile(k, 0.900);
    s.kld_median = median(k);
    s.kld_p100 = percentile(k, 0.100);
    s.kld_p050 = percentile(k, 0.050);
    s.kld_p010 = percentile(k, 0.010);
    s.kld_p001 = percentile(k, 0.001);
    s.kld_min = k.front();
    s.dp_max = d.back();
    s.dp_p999 = percentile(d, 0.999);
    s.dp_p990 = percentile(d, 0.990);
    s.dp_p950 = percentile(d, 0.950);
    s.dp_p900 = percentile(d, 0.900);
    s.dp_p750 = percentile(d, 0.750);
    s.dp_median = median(d);
    s.dp_p250 = percentile(d, 0.250);
    s.dp_p100 = percentile(d, 0.100);
    s.dp_p050 = percentile(d, 0.050);
    s.dp_p010 = percentile(d, 0.010);
    s.dp_p001 = percentile(d, 0.001);
    s.dp_min = d.front();
  }
  return s;
}

}  // namespace hy2bit::eval
