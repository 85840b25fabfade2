// WeightArena places pieces in order, aligned, at the top end on request,
// and says "full" with an empty span; weights prepared into an arena compute
// exactly what weights that own their bytes compute.
#include <gtest/gtest.h>

#include <cstdint>

#include "kernel_test_data.h"
#include "kernels/dispatch.h"
#include "kernels/matmul.h"
#include "kernels/weight_arena.h"
#include "runtime/thread_pool.h"

namespace hy2bit::kernels::test {
namespace {

uintptr_t address(std::span<uint8_t> s) { return reinterpret_cast<uintptr_t>(s.data()); }

TEST(WeightArenaTest, InOrderPiecesFollowEachOtherAligned) {
  WeightArena arena(size_t{1} << 20);
  const std::span<uint8_t> a = arena.allocate(100), b = arena.allocate(64), c = arena.allocate(1);
  ASSERT_EQ(a.size(), 100u);
  ASSERT_EQ(b.size(), 64u);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(address(a) % (size_t{2} << 20), 0u);  // the base is huge-page aligned
  EXPECT_EQ(address(b), address(a) + 128);
  EXPECT_EQ(address(c), address(b) + 64);
  EXPECT_EQ(arena.used(), 256u);
  a[99] = 7;  // writable
  EXPECT_EQ(a[99], 7);
}

TEST(WeightArenaTest, AtEndPiecesGrowDownFromTheTop) {
  const size_t capacity = 4096;
  WeightArena arena(capacity);
  const std::span<uint8_t> bottom = arena.allocate(64);
  const std::span<uint8_t> last = arena.allocate(100, WeightArena::Placement::kAtEnd);
  const std::span<uint8_t> before_last = arena.allocate(64, WeightArena::Placement::kAtEnd);
  ASSERT_FALSE(last.empty());
  ASSERT_FALSE(before_last.empty());
  EXPECT_EQ(address(last), address(bottom) + capacity - 128);
  EXPECT_EQ(address(before_last), address(last) - 64);
}

TEST(WeightArenaTest, FullArenaGivesEmptySpan) {
  WeightArena arena(256);
  EXPECT_EQ(arena.allocate(200).size(), 200u);
  EXPECT_TRUE(arena.allocate(64).empty());  // 256 - 256 left
  EXPECT_TRUE(arena.allocate(0).empty());
  WeightArena top(256);
  EXPECT_FALSE(top.allocate(128, WeightArena::Placement::kAtEnd).empty());
  EXPECT_FALSE(top.allocate(128).empty());
  EXPECT_TRUE(top.allocate(1).empty());
  EXPECT_TRUE(top.allocate(SIZE_MAX).empty());  // no overflow in the rounding
}

TEST(WeightArenaTest, PreparedInArenaEqualsOwnedAndFallsBackWhenFull) {
  std::mt19937 rng(5);
  runtime::ThreadPool pool(2);
  MatmulScratch scratch;
  const int64_t n_rows = 80, n_cols = 1024;
  for (std::string_view isa : available_isas()) {
    for (TypeId type : kAllTypes) {
      const std::vector<uint8_t> bytes = make_weights(type, n_rows, n_cols, WeightFill::kRandom, rng);
      const WeightView view = make_view(type, bytes, n_rows, n_cols);
      const KernelTable& table = *kernels_for_isa(isa);
      WeightArena arena(size_t{1} << 20), tiny(64);
      Result<PreparedWeights> owned = PreparedWeights::prepare(table, view);
      Result<PreparedWeights> in_arena = PreparedWeights::prepare(table, view, &arena);
      Result<PreparedWeights> fallback = PreparedWeights::prepare(table, view, &tiny);
      ASSERT_TRUE(owned.ok() && in_arena.ok() && fallback.ok());
      EXPECT_EQ(arena.used() > 0, owned->repacked_bytes() > 0) << isa;
      const std::vector<float> x = make_acts(3, n_cols, ActFill::kNormal, rng);
      std::vector<float> want(3 * n_rows), got(3 * n_rows), got_fallback(3 * n_rows);
      matmul(*owned, x.data(), 3, want.data(), pool, scratch);
      matmul(*in_arena, x.data(), 3, got.data(), pool, scratch);
      matmul(*fallback, x.data(), 3, got_fallback.data(), pool, scratch);
      EXPECT_EQ(want, got) << isa << " type " << static_cast<int>(type);
      EXPECT_EQ(want, got_fallback) << isa << " type " << static_cast<int>(type);
    }
  }
}

}  // namespace
}  // namespace hy2bit::kernels::test
