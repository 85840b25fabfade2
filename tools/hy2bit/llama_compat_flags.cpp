// llama.cpp's generation flags that are not hy2bit's own: each is honoured
// (mapped onto hy2bit's options), noted as meaningless on a CPU, or refused
// with the flag's name and the reason. None is accepted and ignored.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "generation_flags.h"
#include "prompt_input.h"

namespace hy2bit::tools {
namespace {

constexpr int kNotGiven = std::numeric_limits<int>::min();

// llama.cpp's sampler names (common/sampling.cpp) and the stage each is in hy2bit.
enum class Stage { kPenalties, kTopK, kTopP, kMinP, kTemperature, kOff };

Result<Stage> stage_of(const std::string& name) {
  if (name == "penalties") return Stage::kPenalties;
  if (name == "top_k") return Stage::kTopK;
  if (name == "top_p" || name == "nucleus") return Stage::kTopP;
  if (name == "min_p") return Stage::kMinP;
  if (name == "temperature" || name == "temp") return Stage::kTemperature;
  // Stages hy2bit does not have; naming them is fine while they are off
  // (their own flags are refused when set).
  if (name == "dry" || name == "top_n_sigma" || name == "typ_p" || name == "typical_p" || name == "typical" ||
      name == "xtc")
    return Stage::kOff;
  return make_error("--samplers: unknown sampler '", name,
                    "' (hy2bit has penalties;top_k;top_p;min_p;temperature)");
}

// --samplers "a;b;c": hy2bit's chain is fixed, so the named stages must come
// in its order; a stage left out is turned off, as llama.cpp leaves it out.
Status apply_samplers(const std::string& list, SamplingOptions& s) {
  bool named[5] = {};
  int last = -1;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ';');) {
    if (name.empty()) continue;
    Result<Stage> stage = stage_of(name);
    if (!stage) return stage.error();
    if (*stage == Stage::kOff) continue;
    const int index = static_cast<int>(*stage);
    if (index <= last)
      return make_error("--samplers: '", name, "' is out of order; hy2bit's sampler chain is fixed as ",
                        "penalties;top_k;top_p;min_p;temperature (stages may be left out, not reordered)");
    last = index;
    named[index] = true;
  }
  if (!named[0]) s.repeat_penalty = 1.0f, s.frequency_penalty = 0.0f, s.presence_penalty = 0.0f;
  if (!named[1]) s.top_k = 0;
  if (!named[2]) s.top_p = 1.0f;
  if (!named[3]) s.min_p = 0.0f;
  if (!named[4] && s.temperature > 0.0f) s.temperature = 1.0f;
  return Ok{};
}

// TOKEN(+|-)BIAS, as llama.cpp's --logit-bias: "15043+1", "15043-inf".
Result<LogitBias> parse_logit_bias(const std::string& text) {
  const size_t sign = text.find_first_of("+-", 1);
  if (sign == std::string::npos || sign == 0)
    return make_error("--logit-bias '", text, "': expected TOKEN_ID+BIAS or TOKEN_ID-BIAS (e.g. 15043+1)");
  int32_t token = 0;
  float bias = 0;
  size_t used = 0;
  try {
    token = std::stoi(text.substr(0, sign), &used);
    if (used != sign) throw std::invalid_argument("token");
    const std::string value = text.substr(sign + 1);
    bias = std::stof(value, &used);
    if (used != value.size() || value.empty()) throw std::invalid_argument("bias");
  } catch (const std::exception&) {
    return make_error("--logit-bias '", text, "': expected TOKEN_ID+BIAS or TOKEN_ID-BIAS (e.g. 15043+1)");
  }
  return LogitBias{token, text[sign] == '-' ? -bias : bias};
}

Result<std::string> cache_type_of(const GenerationFlags& f) {
  std::string type = f.cache_type;
  const std::string& k = f.compat.cache_type_k;
  const std::string& v = f.compat.cache_type_v;
  if (!k.empty() && !v.empty() && k != v)
    return make_error("-ctk ", k, " and -ctv ", v, ": hy2bit's KV cache has one type for keys and values; give the same");
  const std::string& kv = !k.empty() ? k : v;
  if (!kv.empty()) {
    if (type != "f16" && type != kv) return make_error("--cache-type ", type, " and -ctk/-ctv ", kv, " disagree");
    type = kv;
  }
  return type;
}

}  // namespace

void add_llama_compat_flags(CLI::App& cmd, GenerationFlags& f) {
  LlamaCompatFlags& c = f.compat;
  c.n_gpu_layers = kNotGiven;
  const std::string group = "llama.cpp compatibility";
  cmd.add_option("--n-gpu-layers,--gpu-layers", c.n_gpu_layers, "-ngl: accepted for llama.cpp scripts; hy2bit runs on the CPU")->group(group);
  c.flash_attn_option = cmd.add_option("--flash-attn", c.flash_attn, "-fa [on|off|auto]: accepted; hy2bit's CPU attention is always fused")
      ->expected(0, 1)->group(group);
  cmd.add_option("--cache-type-k", c.cache_type_k, "-ctk: KV cache type (f16 or q8_0; must equal -ctv)")->check(CLI::IsMember({"f16", "q8_0"}))->group(group);
  cmd.add_option("--cache-type-v", c.cache_type_v, "-ctv: KV cache type (f16 or q8_0; must equal -ctk)")->check(CLI::IsMember({"f16", "q8_0"}))->group(group);
  cmd.add_option("--ubatch-size", c.n_ubatch, "-ub: tokens per forward pass (caps -b)")->check(CLI::PositiveNumber)->group(group);
  cmd.add_option("--model-draft", c.model_draft, "-md: refused (no speculative decoding)")->group(group);
  cmd.add_flag("--mlock", c.mlock, "lock the model in RAM (mlockall)")->group(group);
  cmd.add_flag("--no-mmap", c.no_mmap, "refused: hy2bit always maps the model")->group(group);
  cmd.add_option("--keep", c.keep, "refused unless 0: there is no context shift")->group(group);
  cmd.add_flag("--context-shift,!--no-context-shift", c.context_shift, "refused: hy2bit never drops context; raise -c")->group(group);
  cmd.add_flag("--ignore-eos", c.ignore_eos, "never stop at an end token (bans them)")->group(group);
  cmd.add_option("--samplers", c.samplers, "sampler stages separated by ';' in hy2bit's order penalties;top_k;top_p;min_p;temperature (left out: off)")->group(group);
  cmd.add_option("--presence-penalty", f.sampling.presence_penalty, "subtract once per token seen (0: off)")->check(CLI::Range(-2.0f, 2.0f))->group(group);
  cmd.add_option("--frequency-penalty", f.sampling.frequency_penalty, "subtract per occurrence (0: off)")->check(CLI::Range(-2.0f, 2.0f))->group(group);
  cmd.add_option("-l,--logit-bias", c.logit_bias, "TOKEN_ID(+|-)BIAS, e.g. 15043+1 or 15043-inf (repeatable)")->group(group);
  cmd.add_option("--mirostat", c.mirostat, "only 0: hy2bit has no mirostat sampler")->group(group);
  cmd.add_option("--typical,--typical-p", c.typical_p, "only 1: hy2bit has no typical-p sampler")->group(group);
  cmd.add_option("--dry-multiplier", c.dry_multiplier, "only 0: hy2bit has no DRY sampler")->group(group);
  cmd.add_option("--dry-base", c.dry_base, "DRY base (used only with --dry-multiplier, refused)")->group(group);
  cmd.add_option("--dry-allowed-length", c.dry_allowed_length, "DRY length (used only with --dry-multiplier)")->group(group);
  cmd.add_option("--dry-penalty-last-n", c.dry_penalty_last_n, "DRY window (used only with --dry-multiplier)")->group(group);
  cmd.add_option("--dry-sequence-breaker", c.dry_sequence_breakers, "DRY breakers (used only with --dry-multiplier)")->group(group);
  cmd.add_option("--xtc-probability", c.xtc_probability, "only 0: hy2bit has no XTC sampler")->group(group);
  cmd.add_option("--xtc-threshold", c.xtc_threshold, "XTC threshold (used only with --xtc-probability)")->group(group);
  cmd.add_option("--system-prompt-file", c.system_prompt_file, "-sysf: the system prompt from a file")->group(group);
  cmd.add_flag("-e,--escape,!--no-escape", c.escape, "turn \\n, \\t, \\\\, \\\", \\' and \\xNN in -p, -sys and -r into characters")->group(group);
  cmd.add_flag("--special", c.special, "-sp: print special tokens (hy2bit always prints control tokens as text)")->group(group);
  c.color_option = cmd.add_option("--color", c.color, "-co: thinking dimmed with terminal colours: on, off or auto")
      ->check(CLI::IsMember({"on", "off", "auto"}))->expected(0, 1)->group(group);
  cmd.add_flag("-v,--verbose,--log-verbose", c.verbose, "print the rendered prompt and model details on stderr")->group(group);
  cmd.add_flag("--log-disable", c.log_disable, "no notes or summary on stderr (errors still print)")->group(group);
}

Status check_generation_flags(GenerationFlags& f, const std::string& command) {
  LlamaCompatFlags& c = f.compat;
  const bool notes = notes_enabled(f);
  if (c.n_gpu_layers != kNotGiven && notes)
    std::fprintf(stderr, "hy2bit %s: note: -ngl %d ignored: hy2bit runs on the CPU only\n", command.c_str(), c.n_gpu_layers);
  if (c.flash_attn_option && c.flash_attn_option->count() > 0 && notes)
    std::fprintf(stderr, "hy2bit %s: note: -fa%s%s ignored: hy2bit's CPU attention is always one fused pass\n",
                 command.c_str(), c.flash_attn.empty() ? "" : " ", c.flash_attn.c_str());
  if (!c.model_draft.empty()) return make_error("-md/--model-draft: hy2bit has no speculative decoding");
  if (c.no_mmap) return make_error("--no-mmap: hy2bit always maps the model file read-only; it cannot copy it into memory");
  if (c.context_shift)
    return make_error("--context-shift: hy2bit never drops the start of the conversation; raise the context with -c (now ",
                      f.n_ctx, ")");
  if (c.keep != 0) return make_error("--keep ", c.keep, ": hy2bit has no context shift for tokens to be kept through; raise -c");
  if (c.mirostat != 0) return make_error("--mirostat ", c.mirostat, ": hy2bit has no mirostat sampler (only 0, off)");
  if (c.typical_p != 1.0f) return make_error("--typical ", c.typical_p, ": hy2bit has no locally typical sampler (only 1, off)");
  if (c.dry_multiplier != 0.0f)
    return make_error("--dry-multiplier ", c.dry_multiplier, ": hy2bit has no DRY sampler (only 0, off)");
  if (c.xtc_probability != 0.0f)
    return make_error("--xtc-probability ", c.xtc_probability, ": hy2bit has no XTC sampler (only 0, off)");
  if (!c.samplers.empty()) HY2BIT_TRY(apply_samplers(c.samplers, f.sampling));
  for (const std::string& text : c.logit_bias) {
    Result<LogitBias> bias = parse_logit_bias(text);
    if (!bias) return bias.error();
    f.sampling.logit_bias.push_back(*bias);
  }
  Result<std::string> cache_type = cache_type_of(f);
  if (!cache_type) return cache_type.error();
  f.cache_type = *cache_type;
  if (c.n_ubatch > 0 && c.n_ubatch < f.n_batch) f.n_batch = c.n_ubatch;
  if (!c.system_prompt_file.empty()) {
    if (!f.system_prompt.empty()) return make_error("give the system prompt with -sys or -sysf, not both");
    Result<std::string> text = read_text_file(c.system_prompt_file, "-sysf");
    if (!text) return text.error();
    f.system_prompt = *text;
  }
  if (c.escape) {
    f.system_prompt = process_escapes(f.system_prompt);
    for (std::string& r : f.reverse_prompts) r = process_escapes(r);
  }
  if (c.color_option && c.color_option->count() > 0 && c.color_option->results().empty()) c.color = "on";  // a bare --color
  if (c.color.empty()) c.color = "on";
  return Ok{};
}

Status apply_model_dependent_flags(GenerationFlags& f, const Model& model) {
  if (!f.compat.ignore_eos) return Ok{};
  const int64_t n_vocab = model.summary().n_vocab;
  for (int64_t id = 0; id < n_vocab; ++id)
    if (is_end_of_generation(model, static_cast<int32_t>(id)))
      f.sampling.logit_bias.push_back({static_cast<int32_t>(id), -std::numeric_limits<float>::infinity()});
  return Ok{};
}

}  // namespace hy2bit::tools
