// matmul_shared_input (q/k/v and gate/up in one pass) gives exactly what
// separate matmul calls give, on every path, for decode and prefill shapes.
#include <gtest/gtest.h>

#include "kernel_test_data.h"
#include "kernels/dispatch.h"
#include "kernels/matmul.h"
#include "runtime/thread_pool.h"

namespace hy2bit::kernels::test {
namespace {

TEST(SharedInputTest, EqualsSeparateMatmuls) {
  std::mt19937 rng(77);
  runtime::ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t n_cols = 512;
  const int64_t rows[] = {64, 16, 40};  // like q, k, v: different heights, one partial tile
  for (std::string_view isa : available_isas()) {
    for (TypeId type : kAllTypes) {
      std::vector<std::vector<uint8_t>> bytes;
      std::vector<PreparedWeights> weights;
      for (int64_t r : rows) {
        bytes.push_back(make_weights(type, r, n_cols, WeightFill::kRandom, rng));
        Result<PreparedWeights> w = PreparedWeights::prepare(*kernels_for_isa(isa), make_view(type, bytes.back(), r, n_cols));
        ASSERT_TRUE(w.ok()) << w.error().message;
        weights.push_back(std::move(w).value());
      }
      for (int64_t n_tokens : {1, 7, 64}) {
        const std::vector<float> x = make_acts(n_tokens, n_cols, ActFill::kNormal, rng);
        std::vector<std::vector<float>> separate, shared;
        std::vector<MatmulOutput> outputs;
        for (size_t i = 0; i < weights.size(); ++i) {
          separate.emplace_back(static_cast<size_t>(n_tokens * rows[i]));
          shared.emplace_back(static_cast<size_t>(n_tokens * rows[i]), -1.0f);
          matmul(weights[i], x.data(), n_tokens, separate.back().data(), pool, scratch);
        }
        for (size_t i = 0; i < weights.size(); ++i) outputs.push_back({&weights[i], shared[i].data()});
        matmul_shared_input(outputs, x.data(), n_tokens, pool, scratch);
        for (size_t i = 0; i < weights.size(); ++i)
          EXPECT_EQ(shared[i], separate[i]) << isa << " " << info_of(type).name << " output " << i << ", "
                                            << n_tokens << " tokens";
      }
    }
  }
}

}  // namespace
}  // namespace hy2bit::kernels::test
