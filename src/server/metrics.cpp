// Prometheus text rendering of the server metrics, and the sliding window
// behind the tokens/s gauge.
#include "server/metrics.h"

#include <cstdio>

namespace hy2bit::server {
namespace {

void append_metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  char line[96];
  std::snprintf(line, sizeof(line), "%.6g", value);
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += line;
  out += '\n';
}

void drop_old(std::deque<std::pair<Metrics::Clock::time_point, int64_t>>& recent, Metrics::Clock::time_point now) {
  while (!recent.empty() && now - recent.front().first > Metrics::kRateWindow) recent.pop_front();
}

}  // namespace

void Metrics::record_decoded(int64_t n, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mutex_);
  recent_.emplace_back(now, n);
  drop_old(recent_, now);
}

double Metrics::tokens_per_second(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mutex_);
  drop_old(recent_, now);
  if (recent_.empty()) return 0.0;
  int64_t tokens = 0;
  for (const auto& [when, n] : recent_) tokens += n;
  // Over the time the window covers, at least one second so a single burst
  // does not read as an absurd rate.
  const double seconds = std::chrono::duration<double>(now - recent_.front().first).count();
  return static_cast<double>(tokens) / (seconds < 1.0 ? 1.0 : seconds);
}

std::string Metrics::render(int n_slots) const {
  std::string out;
  auto v = [](const std::atomic<int64_t>& a) { return static_cast<double>(a.load()); };
  append_metric(out, "hy2bit_http_requests_total", "counter", "HTTP requests received.", v(http_requests));
  append_metric(out, "hy2bit_requests_total", "counter", "Completion requests accepted.", v(requests));
  append_metric(out, "hy2bit_requests_invalid_total", "counter", "Requests refused for bad input (4xx).",
                v(requests_invalid));
  append_metric(out, "hy2bit_requests_rejected_total", "counter", "Requests refused because the queue was full (429).",
                v(requests_rejected));
  append_metric(out, "hy2bit_requests_cancelled_total", "counter", "Requests whose client went away before the end.",
                v(requests_cancelled));
  append_metric(out, "hy2bit_connections_refused_total", "counter",
                "Connections closed with a 503 at once: too many were open.", v(connections_refused));
  append_metric(out, "hy2bit_connections_timed_out_total", "counter",
                "Connections closed because they idled or sent headers or a body too slowly.", v(connections_timed_out));
  append_metric(out, "hy2bit_prompt_tokens_total", "counter", "Prompt tokens evaluated.", v(prompt_tokens));
  append_metric(out, "hy2bit_generated_tokens_total", "counter", "Tokens generated.", v(generated_tokens));
  append_metric(out, "hy2bit_embeddings_total", "counter", "Embedding vectors computed (one per input).",
                v(embeddings));
  append_metric(out, "hy2bit_decode_steps_total", "counter", "Decode forward passes (each serves all busy slots).",
                v(decode_steps));
  append_metric(out, "hy2bit_tokens_per_second", "gauge", "Tokens generated per second over the last 10 s.",
                tokens_per_second());
  append_metric(out, "hy2bit_queue_depth", "gauge", "Requests waiting for a slot.", v(queue_depth));
  append_metric(out, "hy2bit_slots_busy", "gauge", "Slots generating.", v(slots_busy));
  append_metric(out, "hy2bit_slots_total", "gauge", "Slots (requests decoded at once).", n_slots);
  return out;
}

}  // namespace hy2bit::server
