// KvCache stores and loads rows exactly as the reference conversions do: f16
// as f32_to_f16 / f16_to_f32, q8_0 as the formats' q8_0 quantizer and
// dequantizer, for whole rows, per-head slices and many rows at once, and
// q8_0 takes 34/64 of f16's bytes.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "formats/convert.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_table.h"
#include "model/kv_cache.h"

namespace hy2bit::model {
namespace {

constexpr int64_t kLayers = 2, kCtx = 8, kHeads = 2, kHeadDim = 128, kKvDim = kHeads * kHeadDim;

// The conversions of the path in use (each path's are tested in float_ops_test).
const kernels::FloatOps& ops() { return (*kernels::active_kernels())->ops; }

std::vector<float> random_row(std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> row(kKvDim);
  for (float& v : row) v = normal(rng);
  return row;
}

// What a row stored as `type` reads back as, by the reference conversions.
std::vector<float> reference_round_trip(KvType type, const std::vector<float>& row) {
  std::vector<float> out(row.size());
  if (type == KvType::kQ8_0) {
    std::vector<uint8_t> blocks(kKvDim / 32 * 34);
    formats::quantize_row(formats::TypeId::kQ8_0, row.data(), blocks.data(), kKvDim);
    formats::dequantize(formats::TypeId::kQ8_0, blocks.data(), out.data(), kKvDim);
  } else {
    for (size_t i = 0; i < row.size(); ++i) out[i] = formats::f16_to_f32(formats::f32_to_f16(row[i]));
  }
  return out;
}

TEST(KvCacheTest, StoresAndLoadsRowsAndHeadSlicesLikeTheReference) {
  for (KvType type : {KvType::kF16, KvType::kQ8_0}) {
    std::mt19937 rng(9);
    KvCache cache(kLayers, kCtx, kHeads, kHeadDim, type, ops());
    const std::vector<float> k = random_row(rng), v = random_row(rng);
    cache.store(1, 5, k.data(), v.data());
    const std::vector<float> want_k = reference_round_trip(type, k), want_v = reference_round_trip(type, v);
    for (int64_t offset = 0; offset < kKvDim; offset += kHeadDim) {
      std::vector<float> got_k(kHeadDim), got_v(kHeadDim);
      cache.load_k(1, 5, 1, offset, kHeadDim, got_k.data());
      cache.load_v(1, 5, 1, offset, kHeadDim, got_v.data());
      for (int64_t i = 0; i < kHeadDim; ++i) {
        EXPECT_EQ(got_k[i], want_k[offset + i]) << kv_type_name(type) << " k " << offset + i;
        EXPECT_EQ(got_v[i], want_v[offset + i]) << kv_type_name(type) << " v " << offset + i;
      }
    }
    // Other positions are untouched (zero) and a copy holds the same rows.
    std::vector<float> other(kKvDim, 1.0f);
    cache.load_k(1, 4, 1, 0, kKvDim, other.data());
    for (float x : other) EXPECT_EQ(x, 0.0f);
    const KvCache copy = cache.copy();
    std::vector<float> copied(kKvDim);
    copy.load_v(1, 5, 1, 0, kKvDim, copied.data());
    EXPECT_EQ(copied, want_v);
  }
}

TEST(KvCacheTest, LoadsManyRowsOfAHeadSliceAtOnce) {
  for (KvType type : {KvType::kF16, KvType::kQ8_0}) {
    std::mt19937 rng(5);
    KvCache cache(kLayers, kCtx, kHeads, kHeadDim, type, ops());
    std::vector<std::vector<float>> want_k, want_v;
    for (int64_t pos = 2; pos < 7; ++pos) {
      const std::vector<float> k = random_row(rng), v = random_row(rng);
      cache.store(0, pos, k.data(), v.data());
      want_k.push_back(reference_round_trip(type, k));
      want_v.push_back(reference_round_trip(type, v));
    }
    constexpr int64_t kRows = 5, kOffset = kHeadDim;
    std::vector<float> got_k(kRows * kHeadDim), got_v(kRows * kHeadDim);
    cache.load_k(0, 2, kRows, kOffset, kHeadDim, got_k.data());
    cache.load_v(0, 2, kRows, kOffset, kHeadDim, got_v.data());
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t i = 0; i < kHeadDim; ++i) {
        EXPECT_EQ(got_k[r * kHeadDim + i], want_k[r][kOffset + i]) << kv_type_name(type) << " row " << r;
        EXPECT_EQ(got_v[r * kHeadDim + i], want_v[r][kOffset + i]) << kv_type_name(type) << " row " << r;
      }
    // Whole rows (every head) and a slice across the heads' boundary.
    std::vector<float> whole(kRows * kKvDim);
    cache.load_k(0, 2, kRows, 0, kKvDim, whole.data());
    for (int64_t r = 0; r < kRows; ++r)
      EXPECT_EQ(std::vector<float>(whole.begin() + r * kKvDim, whole.begin() + (r + 1) * kKvDim), want_k[r])
          << kv_type_name(type) << " row " << r;
    constexpr int64_t kAcross = kHeadDim - 32, kAcrossN = 64;
    std::vector<float> across(kRows * kAcrossN);
    cache.load_v(0, 2, kRows, kAcross, kAcrossN, across.data());
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t i = 0; i < kAcrossN; ++i)
        EXPECT_EQ(across[r * kAcrossN + i], want_v[r][kAcross + i]) << kv_type_name(type) << " row " << r;
  }
}

TEST(KvCacheTest, Q8_0TakesFewerBytes) {
  const KvCache f16(kLayers, kCtx, kHeads, kHeadDim, KvType::kF16, ops()),
      q8(kLayers, kCtx, kHeads, kHeadDim, KvType::kQ8_0, ops());
  EXPECT_EQ(f16.bytes(), size_t{2 * kLayers * kCtx * kKvDim * 2});
  EXPECT_EQ(q8.bytes() * 64, f16.bytes() * 34);
}

TEST(KvCacheTest, TypeNames) {
  EXPECT_EQ(parse_kv_type("f16"), KvType::kF16);
  EXPECT_EQ(parse_kv_type("q8_0"), KvType::kQ8_0);
  EXPECT_FALSE(parse_kv_type("q4_0").has_value());
  EXPECT_EQ(kv_type_name(KvType::kQ8_0), "q8_0");
}

}  // namespace
}  // namespace hy2bit::model
