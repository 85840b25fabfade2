// Read-only mmap of a whole file (POSIX). An empty file maps to an empty span
// (mmap cannot map zero bytes), which the GGUF parser then rejects by name.
#include "gguf/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hy2bit::gguf {
namespace {

// Closes a descriptor on every return path; the mapping stays valid after close.
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() { ::close(fd_); }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

Error system_error(std::string_view action, const std::string& path, int err) {
  return make_error("cannot ", action, " '", path, "': ", std::strerror(err));
}

}  // namespace

Result<std::unique_ptr<MappedFile>> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return system_error("open", path, errno);
  FdCloser closer(fd);

  struct stat st {};
  if (::fstat(fd, &st) != 0) return system_error("stat", path, errno);
  if (S_ISDIR(st.st_mode)) return make_error("cannot map '", path, "': it is a directory, expected a file");
  if (!S_ISREG(st.st_mode)) return make_error("cannot map '", path, "': it is not a regular file");
  const auto size = static_cast<size_t>(st.st_size);
  if (size == 0) return std::unique_ptr<MappedFile>(new MappedFile(path, nullptr, 0, true));

  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data == MAP_FAILED) return system_error("map", path, errno);
  return std::unique_ptr<MappedFile>(new MappedFile(path, static_cast<const uint8_t*>(data), size, true));
}

std::unique_ptr<MappedFile> MappedFile::borrow(std::string name, std::span<const uint8_t> bytes) {
  return std::unique_ptr<MappedFile>(new MappedFile(std::move(name), bytes.data(), bytes.size(), false));
}

MappedFile::~MappedFile() {
  if (owned_ && data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
}

void MappedFile::release(std::span<const uint8_t> range) const {
  if (!owned_ || range.empty() || range.data() < data_ || range.data() + range.size() > data_ + size_) return;
  // A page fault maps the cached pages around it too (the kernel's
  // fault_around_bytes, 64 KiB by default), so reading one tensor maps back
  // the tail of the one released before it. Widening every release to that
  // window, within the mapping, leaves none of those pages behind.
  constexpr uintptr_t kFaultAround = 64 * 1024;
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t window = std::max(kFaultAround, page);
  const auto first = reinterpret_cast<uintptr_t>(data_);
  const uintptr_t last = (first + size_ + page - 1) / page * page;  // the mapping ends on a page
  const uintptr_t begin = std::max(first, reinterpret_cast<uintptr_t>(range.data()) / window * window);
  const uintptr_t end =
      std::min(last, (reinterpret_cast<uintptr_t>(range.data()) + range.size() + window - 1) / window * window);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace hy2bit::gguf
