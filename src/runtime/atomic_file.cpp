// AtomicFile: the temporary file's name is ".NAME.XXXXXXXXXXXXXXXX.tmp" with
// 64 random bits from getrandom(); the registry of live temporary files is
// a fixed array of path buffers a signal handler can read without locks.
#include "runtime/atomic_file.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace hy2bit::runtime {
namespace {

Error system_error(std::string_view action, const std::string& path, int err) {
  return make_error("cannot ", action, " '", path, "': ", std::strerror(err));
}

// The registry: kSlots paths, each owned by the AtomicFile whose slot_ it is.
constexpr int kSlots = 16;
constexpr size_t kPathMax = 4096;
struct Slot {
  std::atomic<bool> used{false};
  std::atomic<bool> ready{false};  // path written, the handler may read it
  char path[kPathMax];
};
Slot g_slots[kSlots];

int register_temp(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_slots[i].used.compare_exchange_strong(expected, true)) {
      std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
      g_slots[i].ready.store(true);
      return i;
    }
  }
  return -1;  // more than kSlots at once: still removed on error, not on a signal
}

void unregister_temp(int slot) {
  if (slot < 0) return;
  g_slots[slot].ready.store(false);
  g_slots[slot].used.store(false);
}

void on_fatal_signal(int signal_number) {
  for (Slot& s : g_slots)
    if (s.ready.load()) ::unlink(s.path);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

std::string folder_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

}  // namespace

Status check_output_path(const std::string& path) {
  if (path.empty()) return make_error("the output path is empty");
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    const char* what = S_ISDIR(st.st_mode) ? "a folder" : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISSOCK(st.st_mode) ? "a socket" : "a device or special file";
    return make_error("cannot write '", path, "': it is ", what, ", not a regular file");
  }
  const std::string folder = folder_of(path);
  if (::stat(folder.c_str(), &st) != 0)
    return make_error("cannot write '", path, "': its folder '", folder, "': ", std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return make_error("cannot write '", path, "': '", folder, "' is not a folder");
  if (::access(folder.c_str(), W_OK) != 0)
    return make_error("cannot write '", path, "': its folder '", folder, "': ", std::strerror(errno));
  return Ok{};
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa{}, sb{};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

Result<std::unique_ptr<AtomicFile>> AtomicFile::create(const std::string& path) {
  HY2BIT_TRY(check_output_path(path));
  std::unique_ptr<AtomicFile> file(new AtomicFile());
  file->path_ = path;
  const std::filesystem::path target(path);
  for (int attempt = 0; attempt < 8; ++attempt) {
    uint64_t random = 0;
    if (::getrandom(&random, sizeof(random), 0) != static_cast<ssize_t>(sizeof(random)))
      return system_error("draw a random name for the temporary file of", path, errno);
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), ".%016llx.tmp", static_cast<unsigned long long>(random));
    std::string name = ".";  // built by appends: GCC 12 warns (wrongly, -Wrestrict) on "." + string
    name.append(target.filename().string()).append(suffix);
    file->temp_path_ = (target.parent_path() / name).string();
    file->fd_ = ::open(file->temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (file->fd_ >= 0) break;
    if (errno != EEXIST) return system_error("create", file->temp_path_, errno);
  }
  if (file->fd_ < 0) return make_error("cannot create a temporary file beside '", path, "': every name was taken");
  file->slot_ = register_temp(file->temp_path_);
  return file;
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
  unregister_temp(slot_);
}

Status AtomicFile::write(std::span<const uint8_t> bytes) {
  const uint8_t* data = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t done = ::write(fd_, data, n);
    if (done < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSPC || errno == EDQUOT)
        return make_error("cannot write '", temp_path_, "': the disk is full (", std::strerror(errno), ")");
      return system_error("write", temp_path_, errno);
    }
    if (done == 0) return make_error("cannot write '", temp_path_, "': the system wrote 0 bytes");
    data += done;
    n -= static_cast<size_t>(done);
  }
  return Ok{};
}

Status AtomicFile::write(std::string_view text) {
  return write(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

Status AtomicFile::write_zeros(uint64_t n) {
  static constexpr uint8_t kZeros[4096] = {};
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, sizeof(kZeros)));
    HY2BIT_TRY(write(std::span<const uint8_t>(kZeros, chunk)));
    n -= chunk;
  }
  return Ok{};
}

Status AtomicFile::commit() {
  if (::fsync(fd_) != 0) return system_error("flush", temp_path_, errno);
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) return system_error("close", temp_path_, errno);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    return make_error("cannot rename '", temp_path_, "' to '", path_, "': ", std::strerror(errno));
  committed_ = true;
  unregister_temp(std::exchange(slot_, -1));
  return Ok{};
}

void remove_temp_files_on_signal() {
  struct sigaction action = {};
  action.sa_handler = on_fatal_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

}  // namespace hy2bit::runtime
