// PreparedWeights::prepare rejects bad shapes with a message, and the
// dispatch functions (available paths, HY2BIT_ISA) behave as documented.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "kernel_test_data.h"
#include "kernels/dispatch.h"
#include "kernels/kernel_table.h"

namespace hy2bit::kernels::test {
namespace {

TEST(PrepareTest, RejectsBadShapesOnEveryPath) {
  for (std::string_view isa : available_isas()) {
    const KernelTable& table = *kernels_for_isa(isa);
    std::vector<uint8_t> bytes(130 * 8, 0);

    // n_cols not a multiple of the block size.
    Result<PreparedWeights> w =
        PreparedWeights::prepare(table, make_view(TypeId::kQ2_0C, bytes, 2, 500));
    ASSERT_FALSE(w.ok()) << isa;
    EXPECT_NE(w.error().message.find("not a multiple"), std::string::npos) << w.error().message;

    // Data too short for the shape: 2 rows of 2048 need 2 * 4 * 130 bytes.
    w = PreparedWeights::prepare(table, make_view(TypeId::kQ2_0C, bytes, 3, 2048));
    ASSERT_FALSE(w.ok()) << isa;
    EXPECT_NE(w.error().message.find("expected 1560"), std::string::npos) << w.error().message;

    // Empty shapes.
    w = PreparedWeights::prepare(table, make_view(TypeId::kQ2_0C, bytes, 0, 512));
    EXPECT_FALSE(w.ok()) << isa;
    w = PreparedWeights::prepare(table, make_view(TypeId::kF32, bytes, 2, 0));
    EXPECT_FALSE(w.ok()) << isa;

    // Q8_0 needs whole blocks of 32.
    w = PreparedWeights::prepare(table, make_view(TypeId::kQ8_0, bytes, 1, 48));
    EXPECT_FALSE(w.ok()) << isa;

    // A type info that disagrees with the type table.
    WeightView bad = make_view(TypeId::kQ6_K, bytes, 1, 256);
    bad.type.block_bytes = 200;
    w = PreparedWeights::prepare(table, bad);
    EXPECT_FALSE(w.ok()) << isa;

    // A good shape passes and keeps exactly the bytes it needs.
    w = PreparedWeights::prepare(table, make_view(TypeId::kQ2_0C, bytes, 2, 2048));
    ASSERT_TRUE(w.ok()) << isa << ": " << w.error().message;
    EXPECT_EQ(w->view().data.size(), 2u * 4 * 130);
    EXPECT_EQ(&w->kernels(), &table);
  }
}

TEST(DispatchTest, ListsPathsAndHonoursHy2bitIsa) {
  const std::vector<std::string_view> isas = available_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), "scalar");
  for (std::string_view isa : isas) {
    const KernelTable* t = kernels_for_isa(isa);
    ASSERT_NE(t, nullptr) << isa;
    EXPECT_EQ(isa_name(*t), isa);
    // Every path supports every type the model can hold.
    for (TypeId type : kAllTypes) EXPECT_NE(kernels_for_type(*t, type), nullptr) << isa;
  }
  EXPECT_EQ(kernels_for_isa("bogus"), nullptr);
#if defined(__x86_64__)
  EXPECT_EQ(kernels_for_isa("neon"), nullptr);
#endif

  const char* saved = std::getenv("HY2BIT_ISA");
  const std::string saved_value = saved ? saved : "";
  unsetenv("HY2BIT_ISA");
  Result<const KernelTable*> best = active_kernels();
  ASSERT_TRUE(best.ok());
  EXPECT_EQ(isa_name(**best), isas.back());

  setenv("HY2BIT_ISA", "scalar", 1);
  Result<const KernelTable*> forced = active_kernels();
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(isa_name(**forced), "scalar");

  setenv("HY2BIT_ISA", "sse9", 1);
  Result<const KernelTable*> unknown = active_kernels();
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("sse9"), std::string::npos);

  // A known path this CPU cannot run is an error, not a fallback.
  for (std::string_view isa : {"avx2", "avx512", "neon"}) {
    if (kernels_for_isa(isa) != nullptr) continue;
    setenv("HY2BIT_ISA", std::string(isa).c_str(), 1);
    Result<const KernelTable*> missing = active_kernels();
    ASSERT_FALSE(missing.ok()) << isa;
    EXPECT_NE(missing.error().message.find("cannot run"), std::string::npos);
  }

  if (saved)
    setenv("HY2BIT_ISA", saved_value.c_str(), 1);
  else
    unsetenv("HY2BIT_ISA");
}

}  // namespace
}  // namespace hy2bit::kernels::test
