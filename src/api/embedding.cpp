// hy2bit/embedding.h: mean-pooled final hidden states over Session::eval_hidden.
#include "hy2bit/embedding.h"

#include <cmath>

#include "hy2bit/generate.h"

namespace hy2bit {

Result<std::vector<int32_t>> tokenize_for_embedding(const Model& model, std::string_view text) {
  return tokenize(model, text, {.add_bos = true, .parse_special = false});
}

std::vector<float> mean_pool(std::span<const float> rows, int64_t width) {
  std::vector<double> sum(static_cast<size_t>(width), 0.0);  // double: long inputs sum thousands of rows
  const auto n_rows = static_cast<int64_t>(rows.size()) / width;
  for (int64_t r = 0; r < n_rows; ++r)
    for (int64_t i = 0; i < width; ++i) sum[i] += rows[r * width + i];
  std::vector<float> mean(static_cast<size_t>(width));
  for (int64_t i = 0; i < width; ++i) mean[i] = static_cast<float>(sum[i] / static_cast<double>(n_rows));
  return mean;
}

void l2_normalize(std::span<float> v) {
  double sum_sq = 0;
  for (float x : v) sum_sq += static_cast<double>(x) * x;
  if (sum_sq <= 0) return;
  const auto scale = static_cast<float>(1.0 / std::sqrt(sum_sq));
  for (float& x : v) x *= scale;
}

Result<std::vector<float>> embed(Session& session, std::span<const int32_t> tokens, const EmbedOptions& options) {
  if (tokens.empty()) return make_error("the input to embed has no tokens");
  if (static_cast<int64_t>(tokens.size()) > session.n_ctx())
    return make_error("the input to embed has ", tokens.size(), " tokens, more than the context size ",
                      session.n_ctx(), " (raise -c or shorten the input)");
  session.reset();
  Result<std::span<const float>> hidden = session.eval_hidden(tokens);
  session.reset();
  if (!hidden) return hidden.error();
  std::vector<float> pooled = mean_pool(*hidden, session.model().summary().n_embd);
  if (options.normalize) l2_normalize(pooled);
  return pooled;
}

}  // namespace hy2bit
