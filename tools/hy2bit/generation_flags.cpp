// Shared generation flags, demo-model loading and the reply printer.
#include "generation_flags.h"

#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdio>
#include <optional>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "commands.h"
#include "hy2bit/reasoning.h"
#include "model/test_model.h"

namespace hy2bit::tools {
namespace {

std::string demo_model_path() {
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::filesystem::path dir = cache && *cache ? std::filesystem::path(cache)
                                              : std::filesystem::path(home && *home ? home : ".") / ".cache";
  return (dir / "hy2bit" / "demo-tiny.gguf").string();
}

// "15043+1.5", "15043-inf" (llama-cli's --logit-bias) -> {15043, 1.5}.
std::optional<LogitBias> parse_logit_bias(const std::string& item) {
  const size_t sign = item.find_first_of("+-");
  if (sign == 0 || sign == std::string::npos) return std::nullopt;
  char* end = nullptr;
  const long long id = std::strtoll(item.c_str(), &end, 10);
  if (end != item.c_str() + sign || id < 0 || id > INT32_MAX) return std::nullopt;
  const std::string bias_text = item.substr(sign);
  float bias = 0;
  if (bias_text == "-inf") {
    bias = -INFINITY;
  } else {
    const char* start = bias_text.c_str();
    bias = std::strtof(start, &end);
    if (end == start || *end != '\0' || !std::isfinite(bias)) return std::nullopt;
  }
  return LogitBias{.token = static_cast<int32_t>(id), .bias = bias};
}

}  // namespace

void add_generation_flags(CLI::App& cmd, GenerationFlags& f) {
  cmd.add_option("-m,--model", f.model_path, "GGUF model (default: a random-weight demo model)");
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
  cmd.add_option("--presence-penalty", f.sampling.presence_penalty, "subtracted once from every token seen in the last --repeat-last-n (0: off)")->check(CLI::Range(-2.0f, 2.0f))->capture_default_str();
  cmd.add_option("--frequency-penalty", f.sampling.frequency_penalty, "subtracted per occurrence in the last --repeat-last-n (0: off)")->check(CLI::Range(-2.0f, 2.0f))->capture_default_str();
  cmd.add_option_function<std::vector<std::string>>(
         "-l,--logit-bias",
         [&f](const std::vector<std::string>& items) {
           for (const std::string& item : items) f.sampling.logit_bias.push_back(*parse_logit_bias(item));
         },
         "TOKEN_ID(+|-)BIAS, e.g. 15043+1 or 15043-inf (as llama-cli; repeatable)")
      ->check([](const std::string& item) {
        return parse_logit_bias(item) ? std::string()
                                      : "'" + item + "' is not TOKEN_ID(+|-)BIAS (e.g. 15043+1.5, 15043-inf)";
      });
  cmd.add_option("--system-prompt", f.system_prompt, "system prompt (also -sys, as in llama-cli)");
  cmd.add_option("--reasoning", f.reasoning, "show or hide the model's thinking")->check(CLI::IsMember({"show", "hide"}))->capture_default_str();
  cmd.add_flag("--no-think", f.no_think, "turn thinking off (as a /no_think prefix does)");
}

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
  if (path.empty()) {
    path = demo_model_path();
    std::fprintf(stderr,
                 "hy2bit %s: no -m given, so this is a RANDOM-WEIGHT DEMO model (%s): its replies are noise.\n"
                 "  To run the real model: hy2bit %s -m HY-1.8B-2Bit-q2_0c.gguf -p \"写一副春联\"\n"
                 "  (or convert the fp16 QDQ checkpoint: hy2bit quantize hunyuan-fp16-qdq.gguf hunyuan-q2_0c.gguf q2_0c)\n",
                 command.c_str(), path.c_str(), command.c_str());
    if (!std::filesystem::exists(path)) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
      if (ec) return make_error("cannot create the cache folder for the demo model: ", ec.message());
      Status written = model::write_test_model(model::test_model_preset_tiny(), path, {});
      if (!written) return make_error("cannot write the demo model: ", written.error().message);
    }
  }
  return Model::load({.model_path = path, .n_threads = flags.n_threads});
}

ReplyPrinter::ReplyPrinter(bool show_thinking)
    : show_thinking_(show_thinking), color_(isatty(STDOUT_FILENO) == 1) {}

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
