// Kernel correctness: the scalar path against a float reference built on
// formats::dequantize (within the activation-quantization error bound), and
// every other path this CPU runs against the scalar path (integer types
// bit-exact, float types within a bound from the input magnitudes), for every
// weight type, odd row counts, extreme weights and activations, 1..300 tokens.
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <string>

#include "kernel_test_data.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_table.h"
#include "runtime/thread_pool.h"

namespace hy2bit::kernels::test {
namespace {

// Input widths per type: whole blocks, including odd block counts.
std::vector<int64_t> widths_for(TypeId t) {
  switch (t) {
    case TypeId::kQ2_0C:
      return {512, 1536};
    case TypeId::kQ6_K:
      return {256, 768};
    case TypeId::kQ8_0:
    case TypeId::kQ4_0:
      return {64, 96, 288};
    default:
      return {16, 100, 264};
  }
}

// Runs matmul() on one path.
std::vector<float> run_matmul(const KernelTable& table, TypeId type,
                              const std::vector<uint8_t>& bytes, int64_t n_rows, int64_t n_cols,
                              const std::vector<float>& x, int64_t n_tokens,
                              runtime::ThreadPool& pool) {
  Result<PreparedWeights> w =
      PreparedWeights::prepare(table, make_view(type, bytes, n_rows, n_cols));
  EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
  if (!w.ok()) return {};
  std::vector<float> y(static_cast<size_t>(n_tokens * n_rows), -12345.0f);
  MatmulScratch scratch;
  matmul(*w, x.data(), n_tokens, y.data(), pool, scratch);
  return y;
}

// Sum over k of |w[r][k] * x[t][k]|, per output (t, r): the scale of the
// rounding error of any summation order.
std::vector<double> abs_dot(const std::vector<float>& w, const std::vector<float>& x,
                            int64_t n_rows, int64_t n_cols, int64_t n_tokens) {
  std::vector<double> out(static_cast<size_t>(n_tokens * n_rows));
  for (int64_t t = 0; t < n_tokens; ++t)
    for (int64_t r = 0; r < n_rows; ++r) {
      double s = 0;
      for (int64_t k = 0; k < n_cols; ++k)
        s += std::fabs(static_cast<double>(w[r * n_cols + k]) * x[t * n_cols + k]);
      out[t * n_rows + r] = s;
    }
  return out;
}

std::string case_name(std::string_view isa, TypeId type, int64_t n_rows, int64_t n_cols,
                      int64_t n_tokens, WeightFill wf, ActFill af, int threads) {
  return std::string(isa) + " " + std::string(info_of(type).name) +
         " rows=" + std::to_string(n_rows) + " cols=" + std::to_string(n_cols) +
         " tokens=" + std::to_string(n_tokens) + " weights=" + fill_name(wf) +
         " acts=" + act_fill_name(af) + " threads=" + std::to_string(threads);
}

struct Case {
  int64_t n_rows, n_cols, n_tokens;
  WeightFill weights;
  ActFill acts;
};

// The cases every type runs: all row and token counts on random data, plus
// extreme weights and activations at a few shapes.
std::vector<Case> cases_for(TypeId type) {
  std::vector<Case> cases;
  const std::vector<int64_t> widths = widths_for(type);
  for (int64_t rows : {1, 3, 17, 32, 33, 64, 100})
    for (int64_t tokens : {1, 2, 3, 7, 8, 64, 300})
      cases.push_back({rows, widths[0], tokens, WeightFill::kRandom, ActFill::kNormal});
  for (int64_t cols : widths)
    for (int64_t tokens : {1, 5, 16})
      cases.push_back({33, cols, tokens, WeightFill::kRandom, ActFill::kOutliers});
  for (WeightFill wf : {WeightFill::kEqualRows, WeightFill::kZeroScale, WeightFill::kCodesLow,
                        WeightFill::kCodesHigh})
    for (int64_t tokens : {1, 8, 9})
      cases.push_back({17, widths.back(), tokens, wf, ActFill::kNormal});
  for (ActFill af : {ActFill::kZeros, ActFill::kLarge, ActFill::kOutliers})
    for (int64_t tokens : {1, 3, 64})
      cases.push_back({33, widths[0], tokens, WeightFill::kRandom, af});
  cases.push_back({17, widths[0], 8, WeightFill::kCodesHigh, ActFill::kLarge});
  cases.push_back({17, widths[0], 8, WeightFill::kCodesLow, ActFill::kLarge});
  return cases;
}

// The activations as the integer kernels see them: q * d per element.
std::vector<float> quantize_dequantize(const KernelTable& table, TypeId type,
                                       const std::vector<float>& x, int64_t n_tokens,
                                       int64_t n_cols) {
  const TypeKernels& k = *kernels_for_type(table, type);
  std::vector<int8_t> q(x.size());
  std::vector<float> d(x.size() / k.act_block);
  std::vector<int32_t> sums(d.size()), sums16(x.size() / 16);
  const ActsQ8 acts{n_tokens, n_cols, k.act_block, q.data(), d.data(), sums.data(), sums16.data()};
  k.quantize(x.data(), 0, n_tokens, acts);
  std::vector<float> xq(x.size());
  for (size_t i = 0; i < x.size(); ++i) xq[i] = q[i] * d[i / k.act_block];
  return xq;
}

TEST(MatmulTest, ScalarMatchesDequantizedFloatReference) {
  const KernelTable& scalar = *kernels_for_isa("scalar");
  runtime::ThreadPool pool(2);
  std::mt19937 rng(1234);
  for (TypeId type : kAllTypes) {
    for (const Case& c : cases_for(type)) {
      if (c.n_tokens > 64) continue;  // the double reference is slow; ISA tests cover 300
      const std::vector<uint8_t> bytes = make_weights(type, c.n_rows, c.n_cols, c.weights, rng);
      const std::vector<float> x = make_acts(c.n_tokens, c.n_cols, c.acts, rng);
      const std::vector<float> w = dequantize_all(type, bytes, c.n_rows, c.n_cols);
      const std::vector<float> y =
          run_matmul(scalar, type, bytes, c.n_rows, c.n_cols, x, c.n_tokens, pool);
      ASSERT_EQ(y.size(), static_cast<size_t>(c.n_rows * c.n_tokens));

      // Exact products in double, and the error bound: activation rounding is
      // at most half a step (amax / 254) per element of each activation block,
      // plus f32 rounding of the sums.
      const int64_t act_block = kernels_for_type(scalar, type)->act_block;
      std::vector<float> expected(y.size());
      std::vector<double> bound(y.size());
      const std::vector<double> mag = abs_dot(w, x, c.n_rows, c.n_cols, c.n_tokens);
      for (int64_t t = 0; t < c.n_tokens; ++t)
        for (int64_t r = 0; r < c.n_rows; ++r) {
          double exact = 0, quant_err = 0;
          for (int64_t k0 = 0; k0 < c.n_cols; k0 += act_block ? act_block : c.n_cols) {
            const int64_t k1 = act_block ? k0 + act_block : c.n_cols;
            double amax = 0, wabs = 0;
            for (int64_t k = k0; k < k1; ++k) {
              exact += static_cast<double>(w[r * c.n_cols + k]) * x[t * c.n_cols + k];
              amax = std::max(amax, std::fabs(static_cast<double>(x[t * c.n_cols + k])));
              wabs += std::fabs(static_cast<double>(w[r * c.n_cols + k]));
            }
            if (act_block) quant_err += (0.5 + 1e-4) * amax / 127.0 * wabs;
          }
          const size_t i = static_cast<size_t>(t * c.n_rows + r);
          expected[i] = static_cast<float>(exact);
          bound[i] = quant_err + (c.n_cols + 4) * FLT_EPSILON * mag[i] + 1e-30;
        }
      const Mismatch m = compare(expected, y, [&](size_t i) { return bound[i]; });
      EXPECT_TRUE(m.ok) << case_name("scalar", type, c.n_rows, c.n_cols, c.n_tokens, c.weights,
                                     c.acts, 2)
                        << ": " << m.describe(c.n_rows);
      if (act_block == 0) continue;

      // Tight check of the integer arithmetic: against the weights times the
      // dequantized activations (q * d), only f32 rounding of the per-block
      // scale products and sums may differ.
      const std::vector<float> xq = quantize_dequantize(scalar, type, x, c.n_tokens, c.n_cols);
      const std::vector<double> mag_q = abs_dot(w, xq, c.n_rows, c.n_cols, c.n_tokens);
      const int64_t n_act_blocks = c.n_cols / act_block;
      for (int64_t t = 0; t < c.n_tokens; ++t)
        for (int64_t r = 0; r < c.n_rows; ++r) {
          double exact = 0;
          for (int64_t k = 0; k < c.n_cols; ++k)
            exact += static_cast<double>(w[r * c.n_cols + k]) * xq[t * c.n_cols + k];
          const size_t i = static_cast<size_t>(t * c.n_rows + r);
          expected[i] = static_cast<float>(exact);
          bound[i] = (n_act_blocks + 4) * FLT_EPSILON * mag_q[i] + 1e-30;
        }
      const Mismatch mq = compare(expected, y, [&](size_t i) { return bound[i]; });
      EXPECT_TRUE(mq.ok) << case_name("scalar vs q*d", type, c.n_rows, c.n_cols, c.n_tokens,
                                      c.weights, c.acts, 2)
                         << ": " << mq.describe(c.n_rows);
    }
  }
}

TEST(MatmulTest, EveryPathMatchesScalar) {
  const KernelTable& scalar = *kernels_for_isa("scalar");
  runtime::ThreadPool pool1(1), pool2(2);
  for (std::string_view isa : available_isas()) {
    if (isa == "scalar") continue;
    const KernelTable& table = *kernels_for_isa(isa);
    std::mt19937 rng(99);
    int case_index = 0;
    for (TypeId type : kAllTypes) {
      for (const Case& c : cases_for(type)) {
        runtime::ThreadPool& pool = (case_index++ % 2) ? pool2 : pool1;
        const std::vector<uint8_t> bytes = make_weights(type, c.n_rows, c.n_cols, c.weights, rng);
        const std::vector<float> x = make_acts(c.n_tokens, c.n_cols, c.acts, rng);
        const std::vector<float> want =
            run_matmul(scalar, type, bytes, c.n_rows, c.n_cols, x, c.n_tokens, pool1);
        const std::vector<float> got =
            run_matmul(table, type, bytes, c.n_rows, c.n_cols, x, c.n_tokens, pool);
        ASSERT_EQ(got.size(), want.size());
        // Integer types: bit-exact by design (same integer block sums, same
        // f32 operations in the same order). Float types: each result is within
        // n_cols * eps * sum|w x| of the exact value, so the two within twice that.
        std::vector<double> tol(want.size(), 0.0);
        if (is_float_type(type)) {
          const std::vector<float> w = dequantize_all(type, bytes, c.n_rows, c.n_cols);
          const std::vector<double> mag = abs_dot(w, x, c.n_rows, c.n_cols, c.n_tokens);
          for (size_t i = 0; i < tol.size(); ++i)
            tol[i] = 2.0 * (c.n_cols + 4) * FLT_EPSILON * mag[i] + 1e-30;
        }
        const Mismatch m = compare(want, got, [&](size_t i) { return tol[i]; });
        EXPECT_TRUE(m.ok) << case_name(isa, type, c.n_rows, c.n_cols, c.n_tokens, c.weights, c.acts,
                                       pool.size())
                          << ": " << m.describe(c.n_rows);
      }
    }
  }
}

// Test activations: token 1 has amax 127 so q = round(x) meets exact ties,
// token 2 is all zeros, token 3 has one huge value per 32.
std::vector<float> quantizer_inputs(int64_t n_tokens, int64_t n_cols) {
  std::mt19937 rng(7);
  std::vector<float> x = make_acts(n_tokens, n_cols, ActFill::kOutliers, rng);
  for (int64_t k = 0; k < n_cols; ++k) x[n_cols + k] = static_cast<float>(k % 255 - 127) / 2.0f;
  for (int64_t k = 0; k < n_cols; k += 32) x[n_cols + k] = 127.0f;
  std::fill(x.begin() + 2 * n_cols, x.begin() + 3 * n_cols, 0.0f);
  for (int64_t k = 0; k < n_cols; k += 32) x[3 * n_cols + k] = 1e20f;
  return x;
}

// The activation quantizers produce the same bytes on every path (including
// the token-interleaved copy), and the scalar one rounds ties to even.
TEST(MatmulTest, ActivationQuantizationIsIdenticalOnEveryPath) {
  const int64_t n_tokens = 21;
  // Block 32 with a width that is not a multiple of 64 reaches the tail paths.
  for (const auto& [block, n_cols] : {std::pair<int64_t, int64_t>{kActBlockQ8K, 1280},
                                      std::pair<int64_t, int64_t>{kActBlockQ8_0, 1312}}) {
    SCOPED_TRACE("block " + std::to_string(block));
    const std::vector<float> x = quantizer_inputs(n_tokens, n_cols);
    std::vector<std::vector<int8_t>> qs;
    std::vector<std::vector<float>> ds;
    std::vector<std::vector<int32_t>> sums, sums16;
    for (std::string_view isa : available_isas()) {
      const KernelTable& table = *kernels_for_isa(isa);
      const TypeKernels& k = block == kActBlockQ8K ? table.q2_0c : table.q8_0;
      std::vector<int8_t> q(n_tokens * n_cols, 99);
      std::vector<float> d(n_tokens * n_cols / block, -1.0f);
      std::vector<int32_t> s(n_tokens * n_cols / block, -1), s16(n_tokens * n_cols / 16, -1);
      ActsQ8 acts{n_tokens,
                  n_cols,
                  block,
                  q.data(),
                  d.data(),
                  s.data(),
                  block == kActBlockQ8K ? s16.data() : nullptr};
      k.quantize(x.data(), 0, 2, acts);
      k.quantize(x.data(), 2, n_tokens, acts);
      if (isa == "scalar") {
        // Ties to even at amax 127: 0.5 -> 0, 1.5 -> 2, -2.5 -> -2.
        for (int64_t i = 0; i < n_cols; ++i) {
          const float v = x[n_cols + i];
          ASSERT_EQ(q[n_cols + i], static_cast<int8_t>(std::nearbyint(v))) << "value " << v;
        }
        EXPECT_EQ(d[n_cols / block], 1.0f);
        for (int64_t i = 0; i < n_cols; ++i) ASSERT_EQ(q[2 * n_cols + i], 0);
      }
      // The same with the token-interleaved copy, in whole tiles: it must hold
      // exactly qs's dwords at tiled_dword_offset, zeros past n_tokens.
      for (int64_t tile : {4, 16}) {
        SCOPED_TRACE(std::string(isa) + " tile " + std::to_string(tile));
        const int64_t padded = (n_tokens + tile - 1) / tile * tile;
        std::vector<int8_t> q2(q.size(), 99), tiled(padded * n_cols, 0);
        std::vector<float> d2(d.size());
        std::vector<int32_t> s2(s.size()), s16_2(s16.size());
        ActsQ8 tiled_acts{n_tokens,
                          n_cols,
                          block,
                          q2.data(),
                          d2.data(),
                          s2.data(),
                          block == kActBlockQ8K ? s16_2.data() : nullptr,
                          tiled.data(),
                          tile};
        k.quantize(x.data(), 0, tile, tiled_acts);
        k.quantize(x.data(), tile, n_tokens, tiled_acts);
        ASSERT_EQ(q2, q);
        for (int64_t t = 0; t < padded; ++t)
          for (int64_t c = 0; c < n_cols / 4; ++c)
            for (int64_t m = 0; m < 4; ++m)
              ASSERT_EQ(tiled[tiled_dword_offset(tiled_acts, t, c) + m],
                        t < n_tokens ? q[t * n_cols + 4 * c + m] : 0)
                  << "token " << t << " dword " << c;
      }
      qs.push_back(q);
      ds.push_back(d);
      sums.push_back(s);
      sums16.push_back(s16);
    }
    for (size_t p = 1; p < qs.size(); ++p) {
      const std::string isa(available_isas()[p]);
      EXPECT_EQ(qs[p], qs[0]) << isa;
      EXPECT_EQ(ds[p], ds[0]) << isa;
      EXPECT_EQ(sums[p], sums[0]) << isa;
      EXPECT_EQ(sums16[p], sums16[0]) << isa;
    }
  }
}

}  // namespace
}  // namespace hy2bit::kernels::test
