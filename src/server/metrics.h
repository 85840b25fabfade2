// Server counters and gauges for GET /metrics (Prometheus text format 0.0.4).
// Written by the HTTP threads and the scheduler thread at once: counters are
// atomics, the tokens/s window sits behind a mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace hy2bit::server {

class Metrics {
 public:
  using Clock = std::chrono::steady_clock;

  std::atomic<int64_t> http_requests{0};        // every HTTP request
  std::atomic<int64_t> requests{0};             // requests accepted (chat, completions, embeddings)
  std::atomic<int64_t> requests_invalid{0};     // answered 4xx for bad input (not 429)
  std::atomic<int64_t> requests_rejected{0};    // answered 429: queue full
  std::atomic<int64_t> requests_cancelled{0};   // client went away before the reply was done
  std::atomic<int64_t> prompt_tokens{0};        // prompt tokens evaluated (cached prefixes excluded)
  std::atomic<int64_t> generated_tokens{0};     // tokens sampled
  std::atomic<int64_t> embeddings{0};           // embedding vectors computed (one per input)
  std::atomic<int64_t> decode_steps{0};         // batched forward passes of the decode loop
  std::atomic<int64_t> queue_depth{0};          // requests waiting for a slot
  std::atomic<int64_t> slots_busy{0};           // slots generating
  std::atomic<int64_t> connections_refused{0};  // closed with a 503 at accept: too many open
  std::atomic<int64_t> connections_timed_out{0};// closed: idle, headers or body too slow

  // Records `n` tokens decoded in one step (for tokens/s over the last kRateWindow).
  void record_decoded(int64_t n, Clock::time_point now = Clock::now());
  double tokens_per_second(Clock::time_point now = Clock::now()) const;

  std::string render(int n_slots) const;

  static constexpr std::chrono::seconds kRateWindow{10};

 private:
  mutable std::mutex mutex_;
  mutable std::deque<std::pair<Clock::time_point, int64_t>> recent_;  // (when, tokens), oldest first
};

}  // namespace hy2bit::server
