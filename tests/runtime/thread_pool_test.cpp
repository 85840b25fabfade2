// ThreadPool runs a job once on every thread (the caller being thread 0) and
// can be reused; split_range covers [0, n) exactly, in order, aligned.
#include "runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace hy2bit::runtime {
namespace {

TEST(ThreadPoolTest, RunsEveryThreadIndexOncePerJob) {
  for (int n_threads : {1, 2, 3}) {
    ThreadPool pool(n_threads);
    ASSERT_EQ(pool.size(), n_threads);
    for (int job = 0; job < 200; ++job) {
      std::vector<std::atomic<int>> hits(n_threads);
      std::atomic<int> bad_count{0};
      pool.run([&](int index, int count) {
        if (count != n_threads || index < 0 || index >= count)
          bad_count.fetch_add(1);
        else
          hits[index].fetch_add(1);
      });
      EXPECT_EQ(bad_count.load(), 0);
      for (int i = 0; i < n_threads; ++i) ASSERT_EQ(hits[i].load(), 1) << "thread " << i;
    }
  }
}

TEST(ThreadPoolTest, JobsSeeEachOthersWrites) {
  ThreadPool pool(2);
  std::vector<int64_t> data(1000, 0);
  for (int round = 1; round <= 50; ++round) {
    pool.run([&](int index, int count) {
      const auto [begin, end] = split_range(static_cast<int64_t>(data.size()), index, count);
      for (int64_t i = begin; i < end; ++i) data[i] += i;
    });
    // The next job reads what the previous one wrote on the other thread.
    int64_t sum = 0;
    for (int64_t v : data) sum += v;
    ASSERT_EQ(sum, round * (999 * 1000 / 2));
  }
}

TEST(ThreadPoolTest, SplitRangeCoversExactlyAndAligns) {
  for (int64_t n : {0, 1, 7, 16, 17, 100, 2048, 120818})
    for (int parts : {1, 2, 3, 5})
      for (int64_t align : {1, 8, 16}) {
        int64_t expected_begin = 0;
        for (int p = 0; p < parts; ++p) {
          const auto [begin, end] = split_range(n, p, parts, align);
          ASSERT_EQ(begin, expected_begin) << "n " << n << " part " << p << "/" << parts;
          ASSERT_LE(begin, end);
          ASSERT_LE(end, n);
          if (end != n) {
            ASSERT_EQ(end % align, 0) << "n " << n << " align " << align;
          }
          expected_begin = end;
        }
        ASSERT_EQ(expected_begin, n) << "n " << n << " parts " << parts << " align " << align;
      }
  // Work is balanced to within one aligned unit.
  const auto [b0, e0] = split_range(2048, 0, 2, 16);
  const auto [b1, e1] = split_range(2048, 1, 2, 16);
  EXPECT_EQ(e0 - b0, 1024);
  EXPECT_EQ(e1 - b1, 1024);
}

TEST(ThreadPoolTest, PhysicalCoreCountIsPositive) { EXPECT_GE(physical_core_count(), 1); }

}  // namespace
}  // namespace hy2bit::runtime
