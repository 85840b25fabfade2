// ProgressBar drawing.
#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace hy2bit::tools {

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void ProgressBar::update(size_t done, size_t total) {
  done_ = done;
  total_ = total;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100) && done != total) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::draw() {
  if (!enabled_ || total_ == 0) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done_ / total_);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu %.1fs", label_.c_str(), filled,
               "==============================", kWidth - filled, "", done_, total_, seconds);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_) return;
  draw();
  std::fprintf(stderr, "\n");
}

}  // namespace hy2bit::tools
