// libcurl easy handles for http_get_text and http_get_stream.
#include "download/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace hy2bit::download {
namespace {

struct Transfer {
  HttpResponse response;
  const BodySink* sink = nullptr;
  const std::function<void(uint64_t, uint64_t)>* progress = nullptr;
  bool body_wanted = false;  // the current hop is a 200/206 whose body we keep
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  Transfer& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new hop starts
    const size_t space = line.find(' ');
    const long status = space == std::string::npos ? 0 : std::strtol(line.c_str() + space + 1, nullptr, 10);
    t.response.status = status;
    t.body_wanted = status == 200 || status == 206;
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return n;
  std::string name = line.substr(0, colon);
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string value = line.substr(colon + 1);
  const auto not_space = [](unsigned char c) { return !std::isspace(c); };
  value.erase(value.begin(), std::find_if(value.begin(), value.end(), not_space));
  value.erase(std::find_if(value.rbegin(), value.rend(), not_space).base(), value.end());
  t.response.headers.emplace(std::move(name), std::move(value));
  return n;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  Transfer& t = *static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (!t.body_wanted || t.sink == nullptr) return n;  // error pages and redirects are not the file
  std::string error = (*t.sink)(t.response.status, data, n);
  if (!error.empty()) {
    t.response.error = std::move(error);
    return 0;  // aborts the transfer
  }
  return n;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  Transfer& t = *static_cast<Transfer*>(user);
  if (t.progress && *t.progress && t.body_wanted)
    (*t.progress)(static_cast<uint64_t>(now), static_cast<uint64_t>(total));
  return 0;
}

HttpResponse perform(const HttpRequest& request, Transfer& t) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) {
    t.response.error = "cannot start libcurl";
    return t.response;
  }
  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (!request.bearer_token.empty())
    headers = curl_slist_append(headers, ("Authorization: Bearer " + request.bearer_token).c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "hy2bit/0.1");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);   // bytes/s ...
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);   // ... for this long: a stalled transfer fails
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  const CURLcode code = curl_easy_perform(curl);
  char* final_url = nullptr;
  if (curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &final_url) == CURLE_OK && final_url) t.response.final_url = final_url;
  if (code != CURLE_OK && t.response.error.empty()) {
    t.response.error = curl_easy_strerror(code);
    if (code != CURLE_PARTIAL_FILE && code != CURLE_RECV_ERROR && code != CURLE_OPERATION_TIMEDOUT) t.response.status = 0;
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return t.response;
}

}  // namespace

Result<HttpResponse> http_get_text(const HttpRequest& request, std::string& body, size_t max_bytes) {
  bool too_big = false;
  const BodySink sink = [&](long, const char* data, size_t n) -> std::string {
    if (body.size() + n > max_bytes) {
      too_big = true;
      return "the reply is larger than " + std::to_string(max_bytes) + " bytes";
    }
    body.append(data, n);
    return {};
  };
  Transfer t;
  t.sink = &sink;
  HttpResponse r = perform(request, t);
  if (too_big) return make_error(request.url, ": ", r.error);
  return r;
}

HttpResponse http_get_stream(const HttpRequest& request, const BodySink& sink,
                             const std::function<void(uint64_t, uint64_t)>& progress) {
  Transfer t;
  t.sink = &sink;
  t.progress = &progress;
  return perform(request, t);
}

std::string header_value(const HttpResponse& response, const std::string& name) {
  auto [begin, end] = response.headers.equal_range(name);
  if (begin == end) return {};
  return std::prev(end)->second;
}

}  // namespace hy2bit::download
