// hy2bit run: one prompt in the Hunyuan chat format (like `llama-cli -p`),
// the reply streamed to stdout, thinking shown set apart or hidden, and a
// one-line speed summary on stderr.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/reasoning.h"

namespace hy2bit::tools {
namespace {

struct RunOptions {
  GenerationFlags flags;
  std::string prompt;
  bool raw = false;             // feed the prompt as is, without the chat format
  bool verbose_prompt = false;  // print the rendered prompt on stderr
};

int run_run(RunOptions& o) {
  if (o.prompt.empty()) return fail("run", "no prompt: give one with -p");
  Result<std::shared_ptr<Model>> model = load_model_for(o.flags, "run");
  if (!model) return fail("run", model.error().message);

  std::string prompt_text = o.prompt;
  if (!o.raw) {
    std::vector<ChatMessage> messages;
    if (!o.flags.system_prompt.empty()) messages.push_back({Role::kSystem, o.flags.system_prompt});
    messages.push_back({Role::kUser, o.prompt});
    const Thinking mode = o.flags.no_think ? Thinking::kOff : Thinking::kDefault;
    prompt_text = render_chat(**model, messages, mode);
  }
  if (o.verbose_prompt) std::fprintf(stderr, "prompt: %s\n", prompt_text.c_str());
  Result<std::vector<int32_t>> prompt = tokenize(**model, prompt_text, {.add_bos = o.raw, .parse_special = true});
  if (!prompt) return fail("run", prompt.error().message);

  Result<std::unique_ptr<Session>> session =
      Session::create(*model, session_options(o.flags.n_ctx, o.flags.n_batch, o.flags.cache_type));
  if (!session) return fail("run", session.error().message);

  GenerateOptions options{.max_tokens = o.flags.n_predict, .sampling = o.flags.sampling, .stop = {}};
  options.sampling.seed = resolve_seed(o.flags.seed);

  ReasoningSplitter splitter;
  ReplyPrinter printer(o.flags.reasoning == "show");
  Result<GenerateResult> result = generate(**session, *prompt, options, [&](std::string_view piece) {
    printer.print(o.raw ? std::vector<ReplySegment>{{ReplyPart::kAnswer, std::string(piece)}}
                        : splitter.push(piece));
    return true;
  });
  if (!result) return fail("run", result.error().message);
  if (!o.raw) printer.print(splitter.finish());
  printer.finish();

  const double gen_tps = result->tokens.size() > 1 && result->generate_seconds > 0
                             ? static_cast<double>(result->tokens.size()) / result->generate_seconds
                             : 0.0;
  std::fprintf(stderr,
               "hy2bit run: prompt %lld tokens, %.1f t/s | generated %zu tokens, %.1f t/s | seed %llu, %d threads, %s\n",
               static_cast<long long>(result->n_prompt),
               result->prompt_seconds > 0 ? static_cast<double>(result->n_prompt_evaluated) / result->prompt_seconds : 0.0,
               result->tokens.size(), gen_tps, static_cast<unsigned long long>(options.sampling.seed),
               (*model)->summary().n_threads, (*model)->summary().isa.c_str());
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Answer one prompt (like llama-cli -p), streaming the reply");
  add_generation_flags(*cmd, o->flags);
  cmd->add_option("-p,--prompt", o->prompt, "the user's message (start it with /no_think to turn thinking off)")->required();
  cmd->add_flag("--verbose-prompt", o->verbose_prompt, "print the prompt as rendered by the chat format");
  cmd->add_flag("--raw", o->raw, "feed the prompt as is (BOS added), without the chat format");
  cmd->callback([o, &exit_code] { exit_code = run_run(*o); });
}

}  // namespace hy2bit::tools
