// Writing a file so that it appears whole or not at all: a temporary file
// with an unguessable name in the target's folder, opened O_EXCL|O_NOFOLLOW
// (a planted symlink is never written through), renamed over the target on
// commit, removed on error, on destruction, and (once
// remove_temp_files_on_signal() ran) on SIGINT/SIGTERM.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit::runtime {

// Checks that `path` can be (re)written as a regular file: it is not a
// folder, device, FIFO or socket, and its folder exists and is writable.
Status check_output_path(const std::string& path);
// Whether two paths name the same file (same device and inode; false if either is missing).
bool same_file(const std::string& a, const std::string& b);

class AtomicFile {
 public:
  // Creates the temporary file for `path` (after check_output_path).
  static Result<std::unique_ptr<AtomicFile>> create(const std::string& path);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  Status write(std::span<const uint8_t> bytes);
  Status write(std::string_view text);
  Status write_zeros(uint64_t n);
  // fsync, close, then rename over the target.
  Status commit();
  const std::string& temp_path() const { return temp_path_; }

 private:
  AtomicFile() = default;
  std::string path_, temp_path_;
  int fd_ = -1;
  int slot_ = -1;  // in the signal-cleanup registry
  bool committed_ = false;
};

// Installs SIGINT and SIGTERM handlers that remove every AtomicFile's
// temporary file, then die of the signal as they would have. For commands
// that write large files (quantize); idempotent.
void remove_temp_files_on_signal();

}  // namespace hy2bit::runtime
