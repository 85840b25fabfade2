// PageBuffer and FloatPages: zero-filled on creation, contents kept when a
// FloatPages grows, and untouched pages cost no resident memory.
#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>
#include <string>

#include "runtime/page_buffer.h"

namespace hy2bit::runtime {
namespace {

// Resident bytes of this process (from /proc/self/statm), for the test that
// untouched pages are free.
size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

TEST(FloatPages, StartsZeroAndGrowsKeepingContents) {
  FloatPages f(1000);
  ASSERT_EQ(f.size(), 1000u);
  for (size_t i = 0; i < f.size(); ++i) ASSERT_EQ(f[i], 0.0f);
  for (size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>(i);
  f.grow(500);  // smaller: nothing changes
  EXPECT_EQ(f.size(), 1000u);
  f.grow(5000);
  ASSERT_EQ(f.size(), 5000u);
  for (size_t i = 0; i < 1000; ++i) ASSERT_EQ(f[i], static_cast<float>(i));
  for (size_t i = 1000; i < 5000; ++i) ASSERT_EQ(f[i], 0.0f);
}

TEST(FloatPages, UntouchedPagesAreNotResident) {
  const size_t before = resident_bytes();
  FloatPages big(size_t{64} << 20);  // 256 MiB of floats, never written
  big[0] = 1.0f;                     // one page touched
  const size_t after = resident_bytes();
  EXPECT_LT(after, before + (size_t{16} << 20)) << "a 256 MiB buffer made " << (after - before) << " bytes resident";
}

}  // namespace
}  // namespace hy2bit::runtime
