// hy2bit/embedding.h: mean-pooled final hidden states over Session::eval_hidden.
#include "hy2bit/embedding.h"

#include <cmath>

#include "hy2bit/text.h"

namespace hy2bit {

Result<std::vector<int32_t>> tokenize_for_embedding(const Model& model, std::string_view text) {
  return tokenize(model, text, {.add_bos = true, .parse_special = false});
}

void MeanPool::add(std::span<const float> rows) {
  const size_t width = sum_.size();
  for (size_t r = 0; r + width <= rows.size(); r += width, ++n_rows_)
    for (size_t i = 0; i < width; ++i) sum_[i] += rows[r + i];
}

std::vector<float> MeanPool::finish(bool normalize) const {
  std::vector<float> mean(sum_.size());
  for (size_t i = 0; i < sum_.size(); ++i) mean[i] = static_cast<float>(sum_[i] / static_cast<double>(n_rows_));
  if (normalize) l2_normalize(mean);
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
  MeanPool pool(session.model().summary().n_embd);
  pool.add(*hidden);
  return pool.finish(options.normalize);
}

}  // namespace hy2bit
