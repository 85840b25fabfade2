// hy2bit run: one prompt in the Hunyuan chat format (like `llama-cli -p`),
// the reply streamed to stdout, thinking shown set apart or hidden, and a
// one-line speed summary on stderr. --json-schema / --grammar constrain the
// reply (grammar-constrained sampling, thinking off).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/reasoning.h"
#include "hy2bit/structured.h"

namespace hy2bit::tools {
namespace {

struct RunOptions {
  GenerationFlags flags;
  std::string prompt;
  bool raw = false;             // feed the prompt as is, without the chat format
  bool verbose_prompt = false;  // print the rendered prompt on stderr
  std::string json_schema;      // --json-schema FILE
  std::string grammar;          // --grammar FILE|TEXT
};

Result<std::string> read_text_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(flag, ": cannot read '", path, "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return make_error(flag, ": error reading '", path, "'");
  return text.str();
}

// The GBNF the flags ask for ("" if none): a compiled schema file, or a
// grammar file, or grammar text when the argument names no file.
Result<std::string> grammar_from_flags(const RunOptions& o) {
  if (!o.json_schema.empty()) {
    Result<std::string> schema = read_text_file(o.json_schema, "--json-schema");
    if (!schema) return schema.error();
    Result<std::string> gbnf = json_schema_to_grammar(*schema);
    if (!gbnf) return make_error("--json-schema ", o.json_schema, ": ", gbnf.error().message);
    return gbnf;
  }
  if (o.grammar.empty()) return std::string();
  std::error_code ec;
  std::string text = o.grammar;
  if (std::filesystem::is_regular_file(o.grammar, ec)) {
    Result<std::string> file = read_text_file(o.grammar, "--grammar");
    if (!file) return file.error();
    text = std::move(*file);
  }
  HY2BIT_TRY(check_grammar(text));
  return text;
}

int run_run(RunOptions& o) {
  if (o.prompt.empty()) return fail("run", "no prompt: give one with -p");
  Result<std::string> grammar = grammar_from_flags(o);
  if (!grammar) return fail("run", grammar.error().message);
  Result<std::shared_ptr<Model>> model = load_model_for(o.flags, "run");
  if (!model) return fail("run", model.error().message);

  std::string prompt_text = o.prompt;
  if (!o.raw) {
    std::vector<ChatMessage> messages;
    if (!o.flags.system_prompt.empty()) messages.push_back({Role::kSystem, o.flags.system_prompt});
    messages.push_back({Role::kUser, o.prompt});
    // A grammar constrains the reply from its first token: no think block.
    const Thinking mode = o.flags.no_think || !grammar->empty() ? Thinking::kOff : Thinking::kDefault;
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
  options.grammar = *grammar;

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
  CLI::Option* schema = cmd->add_option("--json-schema", o->json_schema,
                                        "reply with JSON matching the JSON schema in FILE (constrained sampling, thinking off)");
  cmd->add_option("--grammar", o->grammar, "reply matching a GBNF grammar (llama.cpp syntax), from FILE or given as TEXT")
      ->excludes(schema);
  cmd->callback([o, &exit_code] { exit_code = run_run(*o); });
}

}  // namespace hy2bit::tools
