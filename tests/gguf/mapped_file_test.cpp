// MappedFile::release: the pages a released range touches leave the
// process's resident set (read through /proc/self/pagemap's present bit),
// the bytes read back unchanged afterwards, and borrowed bytes are never
// touched. The model relies on this to hold its weights once and to keep
// token_embd's rows from piling up during a long generation.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "gguf/mapped_file.h"
#include "support/test_support.h"

namespace hy2bit::gguf {
namespace {

constexpr size_t kFileBytes = 4 << 20;

uint8_t pattern(size_t i) { return static_cast<uint8_t>((i * 131) ^ (i >> 12)); }

std::string pattern_file() {
  const std::string path = test::scratch_dir() + "/mapped_file_test.bin";
  std::vector<char> bytes(kFileBytes);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(pattern(i));
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// How many pages of [p, p + n) are mapped into this process right now.
size_t resident_pages(const uint8_t* p, size_t n) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(p) / page;
  const uintptr_t last = (reinterpret_cast<uintptr_t>(p) + n - 1) / page;
  const int fd = ::open("/proc/self/pagemap", O_RDONLY);
  EXPECT_GE(fd, 0);
  std::vector<uint64_t> entries(last - first + 1);
  const ssize_t got = ::pread(fd, entries.data(), entries.size() * 8, static_cast<off_t>(first * 8));
  ::close(fd);
  EXPECT_EQ(got, static_cast<ssize_t>(entries.size() * 8));
  size_t present = 0;
  for (uint64_t e : entries) present += (e >> 63) & 1;
  return present;
}

bool reads_the_pattern(std::span<const uint8_t> bytes, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i)
    if (bytes[i] != pattern(i)) return false;
  return true;
}

size_t touch_all(std::span<const uint8_t> bytes) {
  size_t sum = 0;
  for (size_t i = 0; i < bytes.size(); i += 512) sum += bytes[i];
  return sum;
}

TEST(GgufMappedFile, ReleasedPagesLeaveTheResidentSetAndReadBackTheSame) {
  Result<std::unique_ptr<MappedFile>> m = MappedFile::open(pattern_file());
  ASSERT_TRUE(m.ok()) << m.error().message;
  const std::span<const uint8_t> bytes = (*m)->bytes();
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t n_pages = kFileBytes / page;
  EXPECT_GT(touch_all(bytes), 0u);
  ASSERT_EQ(resident_pages(bytes.data(), kFileBytes), n_pages);

  // An unaligned middle range: every page it touches goes. (Pages beside it
  // may go too: a kernel that maps the file's large folios with 2 MiB
  // entries drops the whole entry, so nothing is asserted about them.)
  const size_t begin = (1 << 20) + 100, end = (2 << 20) + 7;
  (*m)->release(bytes.subspan(begin, end - begin));
  EXPECT_EQ(resident_pages(bytes.data() + begin, end - begin), 0u);
  EXPECT_TRUE(reads_the_pattern(bytes, 0, kFileBytes));
  EXPECT_EQ(resident_pages(bytes.data(), kFileBytes), n_pages);  // read back: mapped again

  // The whole file; a range past the mapping is ignored.
  EXPECT_GT(touch_all(bytes), 0u);
  (*m)->release(bytes);
  EXPECT_EQ(resident_pages(bytes.data(), kFileBytes), 0u);
  EXPECT_TRUE(reads_the_pattern(bytes, 0, kFileBytes));
  (*m)->release(std::span<const uint8_t>(bytes.data() + kFileBytes - 10, 20));
}

TEST(GgufMappedFile, BorrowedBytesAreNeverReleased) {
  std::vector<uint8_t> owned(kFileBytes);
  for (size_t i = 0; i < owned.size(); ++i) owned[i] = pattern(i);
  const std::unique_ptr<MappedFile> m = MappedFile::borrow("in-memory", owned);
  const size_t before = resident_pages(owned.data(), owned.size());
  m->release(m->bytes());
  EXPECT_EQ(resident_pages(owned.data(), owned.size()), before);
  EXPECT_TRUE(reads_the_pattern(m->bytes(), 0, kFileBytes));
}

}  // namespace
}  // namespace hy2bit::gguf
