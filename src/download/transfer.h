// One file fetched into the cache: resumable (HTTP Range + If-Range), checked
// against a SHA-256 when one is known, and renamed into place only when whole.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit::download {

struct FetchRequest {
  std::string url;
  std::string target;           // final path in the cache
  std::string bearer_token;     // Hugging Face token, or empty
  std::string expected_sha256;  // from the repo listing, or empty (then ETag / X-Linked-Etag)
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Downloads request.url to request.target. The bytes go to target + ".partial"
// (kept on an interrupted transfer, continued next time when the server's
// ETag still matches); the ETag it was started with is kept in
// target + ".partial.etag". A checksum mismatch removes the partial file.
Status fetch_file(const FetchRequest& request);

// The 64 lowercase hex digits of a sha256 in an ETag ("\"abc...\"", W/"..."), or "".
std::string sha256_in_etag(const std::string& etag);

}  // namespace hy2bit::download
