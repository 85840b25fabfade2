// The one monotonic clock the runtime times its work with (prompt and decode
// seconds, perplexity chunks, the server's step averages), and the seconds
// elapsed since a point of it.
#pragma once

#include <chrono>

namespace hy2bit::runtime {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace hy2bit::runtime
