// The public download API: which file of a Hugging Face repo to fetch (as
// llama.cpp's common/download.cpp chooses it), where it lives in the cache
//   {cache}/hf/{user}/{repo}/{path in repo}    for -hf
//   {cache}/url/{16 hex of sha256(url)}-{name} for -mu
// and when the network is not needed (offline, or already cached).
#include "hy2bit/download.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "download/http.h"
#include "download/sha256.h"
#include "download/transfer.h"

namespace hy2bit {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::string endpoint_of(const DownloadOptions& o) {
  std::string e = !o.endpoint.empty() ? o.endpoint : env("HF_ENDPOINT");
  if (e.empty()) e = "https://huggingface.co";
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

bool offline(const DownloadOptions& o) {
  const std::string v = env("HF_HUB_OFFLINE");
  return o.offline || v == "1" || v == "true" || v == "ON" || v == "YES";
}

std::string token_of(const DownloadOptions& o) { return !o.token.empty() ? o.token : env("HF_TOKEN"); }

// A repo-relative path that stays inside the repo's cache folder.
bool safe_relative_path(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos) return false;
  for (const fs::path& part : fs::path(path))
    if (part == ".." || part == "." || part.empty()) return false;
  return true;
}

bool safe_name_part(const std::string& s) {
  if (s.empty() || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

// llama.cpp's gguf_filename_is_model: a GGUF that is not a projector or a side file.
bool is_model_gguf(const std::string& path) {
  if (path.size() < 5 || path.compare(path.size() - 5, 5, ".gguf") != 0) return false;
  const std::string name = fs::path(path).filename().string();
  for (const char* side : {"mmproj", "imatrix", "mtp-", "eagle3-", "dflash-", "dspark-"})
    if (name.find(side) != std::string::npos) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "name-00002-of-00003.gguf": a split GGUF's part other than the first.
bool is_later_split_part(const std::string& path) {
  constexpr std::string_view kSuffix = "-xxxxx-of-xxxxx.gguf";
  if (path.size() < kSuffix.size()) return false;
  const std::string tail = lower(std::string_view(path).substr(path.size() - kSuffix.size()));
  for (size_t i = 0; i < kSuffix.size(); ++i) {
    const bool digit = std::isdigit(static_cast<unsigned char>(tail[i])) != 0;
    if (kSuffix[i] == 'x' ? !digit : tail[i] != kSuffix[i]) return false;
  }
  return tail.substr(1, 5) != "00001";
}

// llama.cpp's find_best_model: the tag (then Q4_K_M, Q8_0) followed by '.' or
// '-', case-insensitive; with no tag, else the first model GGUF.
std::string choose_file(const std::vector<std::string>& files, const std::string& tag) {
  const std::vector<std::string> tags = tag.empty() ? std::vector<std::string>{"Q4_K_M", "Q8_0"}
                                                    : std::vector<std::string>{tag};
  const auto has_tag = [](const std::string& file, const std::string& t) {
    const std::string f = lower(file), needle = lower(t);
    for (size_t at = f.find(needle); at != std::string::npos; at = f.find(needle, at + 1)) {
      const size_t after = at + needle.size();
      if (after < f.size() && (f[after] == '.' || f[after] == '-')) return true;
    }
    return false;
  };
  for (const std::string& t : tags) {
    for (const std::string& f : files)
      if (is_model_gguf(f) && !is_later_split_part(f) && has_tag(f, t)) return f;
  }
  if (tag.empty())
    for (const std::string& f : files)
      if (is_model_gguf(f) && !is_later_split_part(f)) return f;
  return {};
}

std::string gguf_list(const std::vector<std::string>& files) {
  std::string list;
  for (const std::string& f : files)
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".gguf") == 0) list += (list.empty() ? "" : ", ") + f;
  return list.empty() ? "none" : list;
}

struct RepoFile {
  std::string path;
  std::string sha256;  // the LFS object id, or ""
  uint64_t size = 0;
};

// GET {endpoint}/api/models/{repo}/tree/main?recursive=true: the repo's files.
Result<std::vector<RepoFile>> list_repo(const std::string& endpoint, const std::string& repo, const std::string& token,
                                        bool& unreachable) {
  const std::string url = endpoint + "/api/models/" + repo + "/tree/main?recursive=true";
  std::string body;
  Result<download::HttpResponse> r =
      download::http_get_text({.url = url, .headers = {"Accept: application/json"}, .bearer_token = token}, body);
  if (!r) return r.error();
  if (r->status == 0) {
    unreachable = true;
    return make_error("cannot reach ", endpoint, ": ", r->error);
  }
  if (r->status == 401)
    return make_error("401 Unauthorized listing ", repo, ": the repo is gated or private; set HF_TOKEN (or -hft)");
  if (r->status == 403) return make_error("403 Forbidden listing ", repo, ": this token may not read it");
  if (r->status == 404) return make_error("404 Not Found: no repo '", repo, "' at ", endpoint);
  if (r->status != 200) return make_error("HTTP ", r->status, " listing ", url);
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_array()) return make_error(url, " did not return a JSON array of files");
  std::vector<RepoFile> files;
  for (const nlohmann::json& item : doc) {
    if (!item.is_object() || item.value("type", "") != "file" || !item.contains("path") || !item["path"].is_string())
      continue;
    RepoFile f{.path = item["path"].get<std::string>(), .sha256 = "", .size = 0};
    if (!safe_relative_path(f.path)) continue;
    if (item.contains("lfs") && item["lfs"].is_object()) {
      const nlohmann::json& lfs = item["lfs"];
      if (lfs.contains("oid") && lfs["oid"].is_string()) f.sha256 = download::sha256_in_etag(lfs["oid"].get<std::string>());
      if (lfs.contains("size") && lfs["size"].is_number_unsigned()) f.size = lfs["size"].get<uint64_t>();
    } else if (item.contains("size") && item["size"].is_number_unsigned()) {
      f.size = item["size"].get<uint64_t>();
    }
    files.push_back(std::move(f));
  }
  return files;
}

// The GGUF files already in the cache folder of a repo (repo-relative paths).
std::vector<std::string> cached_files(const fs::path& repo_dir) {
  std::vector<std::string> files;
  std::error_code ec;
  if (!fs::is_directory(repo_dir, ec)) return files;
  for (auto it = fs::recursive_directory_iterator(repo_dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    const std::string rel = fs::relative(it->path(), repo_dir, ec).string();
    if (rel.size() > 5 && rel.compare(rel.size() - 5, 5, ".gguf") == 0) files.push_back(rel);
  }
  std::sort(files.begin(), files.end());
  return files;
}

Status make_folder(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return make_error("cannot create the cache folder '", dir.string(), "': ", ec.message());
  return Ok{};
}

}  // namespace

std::string download_cache_dir(const DownloadOptions& o) {
  if (!o.cache_dir.empty()) return o.cache_dir;
  if (const std::string c = env("HY2BIT_CACHE"); !c.empty()) return c;
  if (const std::string x = env("XDG_CACHE_HOME"); !x.empty()) return (fs::path(x) / "hy2bit").string();
  const std::string home = env("HOME");
  return (fs::path(home.empty() ? "." : home) / ".cache" / "hy2bit").string();
}

Result<HfRepoRef> parse_hf_repo(const std::string& text) {
  HfRepoRef ref;
  const size_t colon = text.find(':');
  ref.repo = text.substr(0, colon);
  if (colon != std::string::npos) ref.tag = text.substr(colon + 1);
  const size_t slash = ref.repo.find('/');
  if (slash == std::string::npos || ref.repo.find('/', slash + 1) != std::string::npos ||
      !safe_name_part(ref.repo.substr(0, slash)) || !safe_name_part(ref.repo.substr(slash + 1)))
    return make_error("-hf '", text, "': expected user/repo[:quant] (letters, digits, '-', '_', '.')");
  if (colon != std::string::npos && !safe_name_part(ref.tag))
    return make_error("-hf '", text, "': the quant tag after ':' is empty or has odd characters");
  return ref;
}

Result<std::string> download_hf_model(const std::string& repo_and_tag, const std::string& file,
                                      const DownloadOptions& o) {
  Result<HfRepoRef> ref = parse_hf_repo(repo_and_tag);
  if (!ref) return ref.error();
  if (!file.empty() && !safe_relative_path(file)) return make_error("-hff '", file, "': not a path inside the repo");
  const fs::path repo_dir = fs::path(download_cache_dir(o)) / "hf" / ref->repo;
  const std::string endpoint = endpoint_of(o);

  // Offline, or the endpoint unreachable: choose among the cached files.
  const auto from_cache = [&](const std::string& why) -> Result<std::string> {
    const std::vector<std::string> cached = cached_files(repo_dir);
    const std::string chosen = !file.empty() ? (std::find(cached.begin(), cached.end(), file) != cached.end() ? file : "")
                                             : choose_file(cached, ref->tag);
    if (chosen.empty())
      return make_error(why, "; and no matching GGUF of ", repo_and_tag, file.empty() ? "" : " (" + file + ")",
                        " is in the cache ", repo_dir.string(), " (cached: ", gguf_list(cached), ")");
    return (repo_dir / chosen).string();
  };
  if (offline(o)) return from_cache("offline");

  bool unreachable = false;
  Result<std::vector<RepoFile>> listing = list_repo(endpoint, ref->repo, token_of(o), unreachable);
  if (!listing) {
    if (unreachable) return from_cache(listing.error().message);
    return listing.error();
  }
  std::vector<std::string> names;
  for (const RepoFile& f : *listing) names.push_back(f.path);
  const std::string chosen = !file.empty() ? (std::find(names.begin(), names.end(), file) != names.end() ? file : "")
                                           : choose_file(names, ref->tag);
  if (chosen.empty())
    return make_error(file.empty() ? "no GGUF model" : "no file '" + file + "'",
                      ref->tag.empty() ? "" : " with quant tag '" + ref->tag + "'", " in ", ref->repo,
                      " (its GGUF files: ", gguf_list(names), ")");
  const RepoFile& entry = *std::find_if(listing->begin(), listing->end(), [&](const RepoFile& f) { return f.path == chosen; });
  const fs::path target = repo_dir / chosen;

  std::error_code ec;
  if (fs::is_regular_file(target, ec) && (entry.size == 0 || fs::file_size(target, ec) == entry.size))
    return target.string();  // cached (files at a path change rarely; the size would show it)
  HY2BIT_TRY(make_folder(target.parent_path()));
  HY2BIT_TRY(download::fetch_file({.url = endpoint + "/" + ref->repo + "/resolve/main/" + chosen,
                                   .target = target.string(),
                                   .bearer_token = token_of(o),
                                   .expected_sha256 = entry.sha256,
                                   .progress = o.progress}));
  return target.string();
}

Result<std::string> download_url(const std::string& url, const DownloadOptions& o) {
  const size_t scheme = url.find("://");
  const std::string protocol = scheme == std::string::npos ? "" : url.substr(0, scheme);
  if (protocol != "http" && protocol != "https") return make_error("-mu '", url, "': only http:// and https:// URLs");
  std::string path = url.substr(scheme + 3);
  path = path.substr(0, path.find_first_of("?#"));
  std::string name = path.find('/') == std::string::npos ? "" : path.substr(path.rfind('/') + 1);
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
  if (name.empty() || name == "." || name == "..") name = "model.gguf";
  download::Sha256 hash;
  hash.update(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(url.data()), url.size()));
  const fs::path dir = fs::path(download_cache_dir(o)) / "url";
  const fs::path target = dir / (hash.hex_digest().substr(0, 16) + "-" + name);
  std::error_code ec;
  if (fs::is_regular_file(target, ec)) return target.string();
  if (offline(o)) return make_error("offline, and ", url, " is not in the cache (", target.string(), ")");
  HY2BIT_TRY(make_folder(dir));
  HY2BIT_TRY(download::fetch_file({.url = url, .target = target.string(), .bearer_token = "",
                                   .expected_sha256 = "", .progress = o.progress}));
  return target.string();
}

}  // namespace hy2bit
