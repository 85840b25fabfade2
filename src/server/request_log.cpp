// Request log lines (see request_log.h). The counts live per connection
// thread: httplib serves one request at a time on a connection's thread.
#include "server/request_log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace hy2bit::server {
namespace {

using Clock = std::chrono::steady_clock;

struct RequestStats {
  Clock::time_point start = Clock::now();
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
};
thread_local RequestStats stats;

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The client's text, kept printable and short.
std::string printable(const std::string& s, size_t max_bytes) {
  std::string out;
  for (char c : s.substr(0, max_bytes)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

void request_started() { stats = RequestStats{}; }

void note_tokens(int64_t prompt_tokens, int64_t completion_tokens) {
  stats.prompt_tokens += prompt_tokens;
  stats.completion_tokens += completion_tokens;
}

std::string request_log_line(const std::string& format, const httplib::Request& req, const httplib::Response& res) {
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - stats.start).count();
  std::string line;
  if (format == "json") {
    line = nlohmann::json{{"time", utc_now()},
                          {"method", req.method},
                          {"path", req.path},
                          {"status", res.status},
                          {"prompt_tokens", stats.prompt_tokens},
                          {"completion_tokens", stats.completion_tokens},
                          {"ms", static_cast<int64_t>(ms + 0.5)},
                          {"remote", req.remote_addr}}
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    char text[160];
    std::snprintf(text, sizeof(text), " %d tokens %lld/%lld %.0f ms %s", res.status,
                  static_cast<long long>(stats.prompt_tokens), static_cast<long long>(stats.completion_tokens), ms,
                  req.remote_addr.c_str());
    // The path is the client's text: keep it printable and short.
    line = utc_now() + " " + printable(req.method, 16) + " " + printable(req.path, 200) + text;
  }
  stats = RequestStats{};
  return line;
}

}  // namespace hy2bit::server
