// Flags shared by the commands that generate text (run, chat): model (a
// path, or -hf/-mu to download), threads, context, sampling (llama.cpp's
// names and the model card's defaults), system prompt and how thinking is
// shown; llama.cpp's flags that mean nothing here get a note or an error;
// plus loading the model or, with no -m, the built-in default model.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/reasoning.h"
#include "hy2bit/model.h"

namespace hy2bit::tools {

// Where the model comes from: a path, or a download (see hy2bit/download.h).
struct ModelSourceFlags {
  std::string hf_repo;            // -hf user/repo[:quant]
  std::string hf_file;            // -hff FILE in that repo
  std::string model_url;          // -mu URL
  std::string hf_token;           // -hft (default: $HF_TOKEN)
  bool offline = false;           // --offline: only the cache
};

// llama.cpp's flags hy2bit takes for compatibility; checked (and turned into
// the fields above them, or a note, or an error) by check_generation_flags.
struct LlamaCompatFlags {
  int n_gpu_layers = -1;          // -ngl: CPU only, noted and ignored
  std::string flash_attn;         // -fa [on|off|auto]: CPU only, noted and ignored
  const CLI::Option* flash_attn_option = nullptr;  // given with no value counts too
  const CLI::Option* color_option = nullptr;
  std::string cache_type_k, cache_type_v;  // -ctk, -ctv: must agree (one type for both)
  int64_t n_ubatch = 0;           // -ub: the forward pass size (hy2bit's -b)
  std::string model_draft;        // -md: speculative decoding, refused
  bool mlock = false;             // lock the mapped model in RAM
  bool no_mmap = false;           // refused: the model is always mapped
  int32_t keep = 0;               // --keep: only with a context shift, refused
  bool context_shift = false;     // refused
  bool ignore_eos = false;        // end tokens banned (a -inf logit bias)
  std::string samplers;           // --samplers: only hy2bit's fixed order
  int mirostat = 0;               // only 0 (off)
  float typical_p = 1.0f;         // only 1 (off)
  float dry_multiplier = 0.0f;    // only 0 (off); the other --dry-* then do nothing
  float dry_base = 1.75f;
  int dry_allowed_length = 2, dry_penalty_last_n = -1;
  std::vector<std::string> dry_sequence_breakers;
  float xtc_probability = 0.0f;   // only 0 (off)
  float xtc_threshold = 0.1f;
  std::vector<std::string> logit_bias;  // TOKEN(+|-)BIAS, parsed into sampling.logit_bias
  std::string system_prompt_file; // -sysf
  bool escape = false;            // -e: \n, \t, ... in -p, -sys and -r
  bool special = false;           // -sp: control tokens are always printed as text
  std::string color = "auto";     // on | off | auto (a terminal)
  bool verbose = false;           // -v: the rendered prompt and model details on stderr
  bool log_disable = false;       // no notes or summary on stderr
};

struct GenerationFlags {
  std::string model_path;         // empty: the demo model (or a download)
  ModelSourceFlags source;
  LlamaCompatFlags compat;
  int n_threads = 0;              // 0: physical cores
  int64_t n_ctx = 4096;
  int64_t n_batch = 512;
  std::string cache_type = "f16"; // f16 | q8_0
  int32_t n_predict = -1;         // -n: tokens to generate, -1 until the end token
  int64_t seed = -1;              // -1: random
  SamplingOptions sampling;
  std::vector<std::string> reverse_prompts;  // -r: stop strings
  std::string system_prompt;
  std::string reasoning = "show"; // show | hide
  bool no_think = false;          // force thinking off for every turn
};

void add_generation_flags(CLI::App& cmd, GenerationFlags& flags);
// llama.cpp's flags (llama_compat_flags.cpp); add_generation_flags adds them.
void add_llama_compat_flags(CLI::App& cmd, GenerationFlags& flags);
// -hf, -hff, -mu, -hft, --offline (also for commands that do not generate).
void add_model_source_flags(CLI::App& cmd, ModelSourceFlags& source);

// After parsing: refuses what hy2bit cannot honour (naming the flag and why),
// prints one note for flags that mean nothing on a CPU, and folds the
// llama.cpp flags into the fields run and chat read (cache type, batch,
// logit bias, escapes, system prompt file). `model` is needed for
// --ignore-eos (which bans the model's end tokens), so call it after loading.
Status check_generation_flags(GenerationFlags& flags, const std::string& command);
Status apply_model_dependent_flags(GenerationFlags& flags, const Model& model);
// Whether stderr may carry notes and the summary (not --log-disable).
inline bool notes_enabled(const GenerationFlags& flags) { return !flags.compat.log_disable; }

// --cache-type TYPE (f16 | q8_0) bound to `type`, for every command that evaluates.
void add_cache_type_flag(CLI::App& cmd, std::string& type);
// The session options of the flags (the cache type validated by the flag).
SessionOptions session_options(int64_t n_ctx, int64_t n_batch, const std::string& cache_type);

// The seed to use: the flag's, or a random one when it is -1.
uint64_t resolve_seed(int64_t seed_flag);

// Loads flags.model_path, or downloads -hf/-mu into the cache and loads it,
// or makes/loads the demo model (saying so on stderr); --mlock locks it in RAM.
Result<std::shared_ptr<Model>> load_model_for(const GenerationFlags& flags, const std::string& command);

// Why a reply ended, for the summary: "end token", "-n 24 reached",
// "context full (-c 4096)", "stop string \"User:\"", "stopped".
std::string finish_text(const GenerateResult& result, const GenerationFlags& flags);
// The one-line explanation printed when the context filled up, naming -c.
std::string context_full_text(const GenerateResult& result, const GenerationFlags& flags);

// Writes reply segments to stdout: thinking dimmed on a terminal or labelled
// otherwise (or dropped when hidden); the answer as it is.
class ReplyPrinter {
 public:
  // color: "on", "off" or "auto" (stdout is a terminal).
  ReplyPrinter(bool show_thinking, const std::string& color = "auto");
  void print(const std::vector<ReplySegment>& segments);
  void finish();  // closes an open thinking block

 private:
  bool show_thinking_;
  bool color_;
  bool in_thinking_ = false;
  bool printed_anything_ = false;
};

}  // namespace hy2bit::tools
