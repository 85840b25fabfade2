// SHA-256 (FIPS 180-4), to check a download against the checksum Hugging
// Face sends (the LFS object id, in ETag / X-Linked-Etag). Streaming: feed
// bytes with update(), read the 64 lowercase hex digits with hex_digest().
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit::download {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const uint8_t> bytes);
  std::string hex_digest();  // finishes the hash; call once

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

// The SHA-256 of a whole file, read in chunks.
Result<std::string> sha256_of_file(const std::string& path);

}  // namespace hy2bit::download
