// A one-line progress bar on stderr for long work (writing a 3.6 GB model,
// quantizing). Draws only when stderr is a terminal, at most ~10 times a second.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace hy2bit::tools {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  void update(size_t done, size_t total);  // redraws if enough time passed
  void finish();                           // final state and a newline

 private:
  std::string label_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  size_t done_ = 0, total_ = 0;
  void draw();
};

}  // namespace hy2bit::tools
