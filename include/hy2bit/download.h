// The public API for getting a model over HTTP(S), as llama.cpp's -hf, -hff
// and -mu do: resolve a Hugging Face repo (and optional quant tag) to one
// GGUF file, download it into a cache with resume and checksum checks, and
// use the cached copy when offline.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "hy2bit/result.h"

namespace hy2bit {

struct DownloadOptions {
  std::string cache_dir;  // empty: $HY2BIT_CACHE, else ~/.cache/hy2bit (or $XDG_CACHE_HOME/hy2bit)
  std::string endpoint;   // empty: $HF_ENDPOINT, else https://huggingface.co
  std::string token;      // empty: $HF_TOKEN (sent as "Authorization: Bearer" to the endpoint only)
  bool offline = false;   // never touch the network (also $HF_HUB_OFFLINE=1)
  // Called as bytes arrive: done and total bytes of the file (total 0: unknown).
  std::function<void(uint64_t done, uint64_t total)> progress = {};
};

// "user/repo:quant" -> {"user/repo", "quant"}; an error names what is malformed.
struct HfRepoRef {
  std::string repo;  // "user/repo"
  std::string tag;   // "Q4_K_M", "q2_0c", or "" (llama.cpp's default choice)
};
Result<HfRepoRef> parse_hf_repo(const std::string& text);

// The GGUF file of a repo: `file` (-hff) when given, else the one whose name
// carries the tag (-[TAG]. or .TAG.), else Q4_K_M, Q8_0, then the first GGUF
// model file (llama.cpp's order). Lists the repo with the Hugging Face API
// (GET {endpoint}/api/models/{repo}/tree/main?recursive=true), downloads
// {endpoint}/{repo}/resolve/main/{file} and returns the local path. Offline,
// or when the endpoint cannot be reached, uses the cached files of the repo.
Result<std::string> download_hf_model(const std::string& repo_and_tag, const std::string& file,
                                      const DownloadOptions& options);

// Downloads one URL (http or https) into the cache, named after its last
// path component and a hash of the URL; returns the local path.
Result<std::string> download_url(const std::string& url, const DownloadOptions& options);

// The cache folder options resolve to (created by the downloads).
std::string download_cache_dir(const DownloadOptions& options);

}  // namespace hy2bit
