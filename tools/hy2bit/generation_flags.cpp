// Shared generation flags, model loading (a path, a download or the
// built-in default model) and the reply printer.
#include "generation_flags.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>

#include <cstdio>
#include <optional>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "commands.h"
#include "default_model.h"
#include "hy2bit/download.h"
#include "hy2bit/reasoning.h"
#include "progress.h"

namespace hy2bit::tools {
void add_generation_flags(CLI::App& cmd, GenerationFlags& f) {
  cmd.add_option("-m,--model", f.model_path, "GGUF model (default: the built-in 17M-parameter 2-bit poet, models/README.md)");
  add_model_source_flags(cmd, f.source);
  cmd.add_option("-t,--threads", f.n_threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd.add_option("-c,--ctx-size", f.n_ctx, "context size in tokens (prompt + reply)")->check(CLI::Range(int64_t{16}, int64_t{1} << 22))->capture_default_str();
  cmd.add_option("-b,--batch-size", f.n_batch, "prompt tokens per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  add_cache_type_flag(cmd, f.cache_type);
  cmd.add_option("-n,--n-predict", f.n_predict, "tokens to generate (-1: until the end of the reply)")->check(CLI::Range(-1, 1 << 30))->capture_default_str();
  cmd.add_option("-s,--seed", f.seed, "random seed (-1: random)")->capture_default_str();
  cmd.add_option("--temp", f.sampling.temperature, "temperature (0: greedy)")->check(CLI::Range(0.0f, 100.0f))->capture_default_str();
  cmd.add_option("--top-k", f.sampling.top_k, "top-k (0: off)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd.add_option("--top-p", f.sampling.top_p, "top-p (1: off)")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  cmd.add_option("--min-p", f.sampling.min_p, "min-p (0: off)")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  cmd.add_option("--repeat-penalty", f.sampling.repeat_penalty, "repetition penalty (1: off)")->check(CLI::Range(0.0f, 10.0f))->capture_default_str();
  cmd.add_option("--repeat-last-n", f.sampling.repeat_last_n, "tokens the penalty looks back over (0: off, -1: all)")->check(CLI::Range(-1, 1 << 30))->capture_default_str();
  cmd.add_option("--system-prompt", f.system_prompt, "system prompt (also -sys, as in llama-cli)");
  cmd.add_option("--reasoning", f.reasoning, "show or hide the model's thinking")->check(CLI::IsMember({"show", "hide"}))->capture_default_str();
  cmd.add_flag("--no-think", f.no_think, "turn thinking off (as a /no_think prefix does)");
  cmd.add_option("-r,--reverse-prompt", f.reverse_prompts, "stop before this text (repeatable)");
  add_llama_compat_flags(cmd, f);
}

void add_model_source_flags(CLI::App& cmd, ModelSourceFlags& s) {
  const std::string group = "Download (llama.cpp's -hf)";
  cmd.add_option("--hf-repo", s.hf_repo, "-hf user/repo[:quant]: download the GGUF from Hugging Face (cached)")->group(group);
  cmd.add_option("--hf-file", s.hf_file, "-hff FILE: which file of the -hf repo")->group(group);
  cmd.add_option("--model-url", s.model_url, "-mu URL: download the GGUF from a URL (cached)")->group(group);
  cmd.add_option("--hf-token", s.hf_token, "-hft TOKEN: Hugging Face token (default: $HF_TOKEN)")->group(group);
  cmd.add_flag("--offline", s.offline, "use the download cache only, never the network")->group(group);
}

namespace {

// The model file a -hf or -mu flag names, downloaded (or found in the cache).
Result<std::string> downloaded_model(const GenerationFlags& flags) {
  const ModelSourceFlags& s = flags.source;
  const int given = !flags.model_path.empty() + !s.hf_repo.empty() + !s.model_url.empty();
  if (given > 1) return make_error("give one of -m, -hf and -mu");
  if (!s.hf_file.empty() && s.hf_repo.empty()) return make_error("-hff needs -hf user/repo to say where the file is");
  ProgressBar progress("downloading");
  DownloadOptions options{.cache_dir = "", .endpoint = "", .token = s.hf_token, .offline = s.offline,
                          .progress = [&](uint64_t done, uint64_t total) { progress.update(done, total); }};
  Result<std::string> path = !s.hf_repo.empty() ? download_hf_model(s.hf_repo, s.hf_file, options)
                                                : download_url(s.model_url, options);
  progress.finish();
  return path;
}

}  // namespace

void add_cache_type_flag(CLI::App& cmd, std::string& type) {
  cmd.add_option("--cache-type", type, "KV cache type for keys and values: f16, or q8_0 (53% of the memory)")
      ->check(CLI::IsMember({"f16", "q8_0"}))
      ->capture_default_str();
}

SessionOptions session_options(int64_t n_ctx, int64_t n_batch, const std::string& cache_type) {
  return {.n_ctx = n_ctx,
          .n_batch = n_batch,
          .cache_type = cache_type == "q8_0" ? CacheType::kQ8_0 : CacheType::kF16};
}

uint64_t resolve_seed(int64_t seed_flag) {
  if (seed_flag >= 0) return static_cast<uint64_t>(seed_flag);
  return std::random_device{}() & 0x7fffffffu;
}

Result<std::shared_ptr<Model>> load_model_for(const GenerationFlags& flags, const std::string& command) {
  std::string path = flags.model_path;
  if (!flags.source.hf_repo.empty() || !flags.source.model_url.empty() || !flags.source.hf_file.empty()) {
    Result<std::string> downloaded = downloaded_model(flags);
    if (!downloaded) return downloaded.error();
    path = *downloaded;
  }
  LoadOptions options{.model_path = path, .n_threads = flags.n_threads};
  if (path.empty()) {
    const DefaultModel& builtin = default_model();
    std::fprintf(stderr,
                 "hy2bit %s: no -m given, so this is the built-in %s: a 17M-parameter 2-bit\n"
                 "  model that writes Chinese poems, spring couplets and English fortunes (models/README.md).\n"
                 "  To run the real model: hy2bit %s -m HY-1.8B-2Bit-q2_0c.gguf\n",
                 command.c_str(), builtin.name.c_str(), command.c_str());
    options.model_path = "built-in " + builtin.name;
    options.model_bytes = builtin.bytes;
  }
  Result<std::shared_ptr<Model>> model = Model::load(options);
  if (model && flags.compat.mlock && mlockall(MCL_CURRENT) != 0)
    return make_error("--mlock: cannot lock the model in RAM: ", std::strerror(errno),
                      " (raise the limit with `ulimit -l`)");
  return model;
}

std::string finish_text(const GenerateResult& r, const GenerationFlags& flags) {
  switch (r.finish) {
    case FinishReason::kStop: return r.stop_string.empty() ? "end token" : "stop string \"" + r.stop_string + "\"";
    case FinishReason::kLength: return "-n " + std::to_string(flags.n_predict) + " reached";
    case FinishReason::kContextFull: return "context full (-c " + std::to_string(flags.n_ctx) + ")";
    case FinishReason::kCancelled: return "stopped";
  }
  return "?";
}

std::string context_full_text(const GenerateResult& r, const GenerationFlags& flags) {
  return "the context is full: " + std::to_string(flags.n_ctx) + " tokens (prompt " + std::to_string(r.n_prompt) +
         " + reply " + std::to_string(r.tokens.size()) + "); the reply was cut short. Raise it with -c (e.g. -c " +
         std::to_string(flags.n_ctx * 2) + ")";
}

ReplyPrinter::ReplyPrinter(bool show_thinking, const std::string& color)
    : show_thinking_(show_thinking),
      color_(color == "on" || (color == "auto" && isatty(STDOUT_FILENO) == 1)) {}

void ReplyPrinter::print(const std::vector<ReplySegment>& segments) {
  for (const ReplySegment& s : segments) {
    const bool thinking = s.part == ReplyPart::kThinking;
    if (thinking && !show_thinking_) continue;
    if (thinking != in_thinking_) {
      if (thinking) {
        std::fputs(color_ ? "\033[2m" : "[thinking]\n", stdout);
      } else {
        std::fputs(color_ ? "\033[0m\n" : "\n[/thinking]\n", stdout);
      }
      in_thinking_ = thinking;
    }
    std::fwrite(s.text.data(), 1, s.text.size(), stdout);
    printed_anything_ = true;
  }
  std::fflush(stdout);
}

void ReplyPrinter::finish() {
  if (in_thinking_) std::fputs(color_ ? "\033[0m" : "\n[/thinking]", stdout);
  in_thinking_ = false;
  if (printed_anything_) std::fputs("\n", stdout);
  std::fflush(stdout);
}

}  // namespace hy2bit::tools
