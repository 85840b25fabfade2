// The HTTP client the downloads use: libcurl, http and https only, at most
// 10 redirects (Hugging Face redirects files to its CDN), a connect timeout
// and a stall timeout. Response headers of every hop are kept, because HF
// puts the checksum (X-Linked-Etag) on the redirect, not on the CDN's reply.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "hy2bit/result.h"

namespace hy2bit::download {

struct HttpRequest {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string bearer_token;          // sent to the first host only (curl drops it on a redirect to another host)
};

struct HttpResponse {
  long status = 0;                                 // of the last hop
  std::multimap<std::string, std::string> headers; // lower-case names, every hop
  std::string final_url;
  std::string error;                               // transport failure (status 0), or the write callback's
};

// GET into memory (API calls: small bodies, at most `max_bytes`).
Result<HttpResponse> http_get_text(const HttpRequest& request, std::string& body, size_t max_bytes = 64u << 20);

// GET streaming the body of a 200/206 reply to `sink` (with that status),
// which returns an error text to abort (a full disk); `progress` gets the
// bytes received so far and the expected total of this response (0: unknown).
using BodySink = std::function<std::string(long status, const char* data, size_t n)>;
HttpResponse http_get_stream(const HttpRequest& request, const BodySink& sink,
                             const std::function<void(uint64_t, uint64_t)>& progress);

// The first value of a header (name in lower case) from any hop, last hop first.
std::string header_value(const HttpResponse& response, const std::string& name);

}  // namespace hy2bit::download
