// Flags shared by the commands that generate text (run, chat): model,
// threads, context, sampling (llama.cpp's names and the model card's
// defaults), system prompt and how thinking is shown; plus loading the model
// or, with no -m, the random-weight demo model from the cache folder.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "hy2bit/generate.h"
#include "hy2bit/reasoning.h"
#include "hy2bit/model.h"

namespace hy2bit::tools {

struct GenerationFlags {
  std::string model_path;         // empty: the demo model
  int n_threads = 0;              // 0: physical cores
  int64_t n_ctx = 4096;
  int64_t n_batch = 512;
  std::string cache_type = "f16"; // f16 | q8_0
  int32_t n_predict = -1;         // -n: tokens to generate, -1 until the end token
  int64_t seed = -1;              // -1: random
  SamplingOptions sampling;
  std::string system_prompt;
  std::string reasoning = "show"; // show | hide
  bool no_think = false;          // force thinking off for every turn
};

void add_generation_flags(CLI::App& cmd, GenerationFlags& flags);

// --cache-type TYPE (f16 | q8_0) bound to `type`, for every command that evaluates.
void add_cache_type_flag(CLI::App& cmd, std::string& type);
// The session options of the flags (the cache type validated by the flag).
SessionOptions session_options(int64_t n_ctx, int64_t n_batch, const std::string& cache_type);

// The seed to use: the flag's, or a random one when it is -1.
uint64_t resolve_seed(int64_t seed_flag);

// Loads flags.model_path, or makes/loads the demo model (saying so on stderr).
Result<std::shared_ptr<Model>> load_model_for(const GenerationFlags& flags, const std::string& command);

// Writes reply segments to stdout: thinking dimmed on a terminal or labelled
// otherwise (or dropped when hidden); the answer as it is.
class ReplyPrinter {
 public:
  explicit ReplyPrinter(bool show_thinking);
  void print(const std::vector<ReplySegment>& segments);
  void finish();  // closes an open thinking block

 private:
  bool show_thinking_;
  bool color_;
  bool in_thinking_ = false;
  bool printed_anything_ = false;
};

}  // namespace hy2bit::tools
