// A read-only memory map of a whole file, owned by RAII, or a borrowed
// in-memory image of one (the CLI's built-in model, linked into the binary).
// Weights are used straight from it, so it lives as long as the model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit::gguf {

class MappedFile {
 public:
  // Maps `path` read-only. Errors name the path and the system's reason.
  static Result<std::unique_ptr<MappedFile>> open(const std::string& path);
  // Wraps bytes that are already in memory and outlive this object; `name`
  // stands for the path in messages. Nothing is unmapped or released.
  static std::unique_ptr<MappedFile> borrow(std::string name, std::span<const uint8_t> bytes);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

  // Tells the OS the pages `range` (a part of bytes()) touches, widened to
  // the kernel's fault-around window, will not be needed soon: they leave
  // this process's resident set and are read from the page cache again only
  // if touched (the bytes never change). Used once weights are repacked, so
  // a model is not held twice, and for each token's embedding row once it is
  // read. Ranges outside the mapping, and borrowed bytes, are left alone.
  void release(std::span<const uint8_t> range) const;
  const std::string& path() const { return path_; }

 private:
  MappedFile(std::string path, const uint8_t* data, size_t size, bool owned)
      : path_(std::move(path)), data_(data), size_(size), owned_(owned) {}
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  bool owned_ = true;  // false: borrowed, not ours to unmap or release
};

}  // namespace hy2bit::gguf
