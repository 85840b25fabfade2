// hy2bit run: one prompt in the Hunyuan chat format (like `llama-cli -p`),
// the reply streamed to stdout, thinking shown set apart or hidden, and a
// one-line summary on stderr: speed, and why generation stopped. The prompt
// comes from -p TEXT, -p - (stdin) or -f FILE; -cnv turns run into chat.
// --json-schema / --grammar constrain the reply (grammar-constrained
// sampling, thinking off).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "chat.h"
#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/reasoning.h"
#include "hy2bit/structured.h"
#include "prompt_input.h"

namespace hy2bit::tools {
namespace {

struct RunOptions {
  GenerationFlags flags;
  std::string prompt;
  std::string prompt_file;      // -f
  bool raw = false;             // feed the prompt as is, without the chat format
  bool verbose_prompt = false;  // print the rendered prompt on stderr
  std::string json_schema;      // --json-schema FILE
  std::string grammar;          // --grammar FILE|TEXT
  bool conversation = false;    // -cnv: chat, with the prompt as the first message
  bool single_turn = false;     // -st: run is one turn already; with -cnv, chat ends after one
};

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

// The user's message from -p TEXT, -p - or -f FILE.
Result<std::string> prompt_of(const RunOptions& o) {
  if (!o.prompt.empty() && !o.prompt_file.empty()) return make_error("give the prompt with -p or -f, not both");
  std::string text;
  if (!o.prompt_file.empty()) {
    Result<std::string> file = read_text_file(o.prompt_file, "-f");
    if (!file) return file.error();
    text = *file;
  } else if (o.prompt == "-") {
    Result<std::string> in = read_stdin();
    if (!in) return in.error();
    text = *in;
  } else {
    text = o.prompt;
  }
  return o.flags.compat.escape ? process_escapes(text) : text;
}

int run_run(RunOptions& o) {
  if (Status checked = check_generation_flags(o.flags, "run"); !checked) return fail("run", checked.error().message);
  if (o.prompt.empty() && o.prompt_file.empty() && !o.conversation)
    return fail("run", "no prompt: give one with -p TEXT, -p - (stdin) or -f FILE");
  Result<std::string> user_text = prompt_of(o);
  if (!user_text) return fail("run", user_text.error().message);
  if (o.conversation) {
    if (!o.json_schema.empty() || !o.grammar.empty())
      return fail("run", "--json-schema and --grammar constrain one answer; they do not work with -cnv");
    ChatOptions chat{.flags = o.flags, .first_message = *user_text, .single_turn = o.single_turn};
    return run_chat(chat);
  }
  if (user_text->empty()) return fail("run", "the prompt is empty");
  Result<std::string> grammar = grammar_from_flags(o);
  if (!grammar) return fail("run", grammar.error().message);

  Result<std::shared_ptr<Model>> model = load_model_for(o.flags, "run");
  if (!model) return fail("run", model.error().message);
  if (Status applied = apply_model_dependent_flags(o.flags, **model); !applied)
    return fail("run", applied.error().message);

  // A --raw prompt is the user's own token text (control tokens parsed, as
  // llama-completion does); otherwise only the chat format makes control
  // tokens and the prompt stays plain text.
  std::string prompt_text = *user_text;
  std::vector<ChatMessage> messages;
  // A grammar constrains the reply from its first token: no think block.
  const Thinking mode = o.flags.no_think || !grammar->empty() ? Thinking::kOff : Thinking::kDefault;
  if (!o.raw) {
    if (!o.flags.system_prompt.empty()) messages.push_back({Role::kSystem, o.flags.system_prompt});
    messages.push_back({Role::kUser, *user_text});
    prompt_text = render_chat(**model, messages, mode);
  }
  if (o.verbose_prompt || o.flags.compat.verbose) std::fprintf(stderr, "prompt: %s\n", prompt_text.c_str());
  Result<std::vector<int32_t>> prompt = o.raw ? tokenize(**model, prompt_text, {.add_bos = true, .parse_special = true})
                                              : tokenize_chat(**model, messages, mode);
  if (!prompt) return fail("run", prompt.error().message);

  Result<std::unique_ptr<Session>> session =
      Session::create(*model, session_options(o.flags.n_ctx, o.flags.n_batch, o.flags.cache_type));
  if (!session) return fail("run", session.error().message);

  GenerateOptions options{.max_tokens = o.flags.n_predict, .sampling = o.flags.sampling, .stop = o.flags.reverse_prompts};
  options.sampling.seed = resolve_seed(o.flags.seed);
  options.grammar = *grammar;

  ReasoningSplitter splitter;
  ReplyPrinter printer(o.flags.reasoning == "show", o.flags.compat.color);
  Result<GenerateResult> result = generate(**session, *prompt, options, [&](std::string_view piece) {
    printer.print(o.raw ? std::vector<ReplySegment>{{ReplyPart::kAnswer, std::string(piece)}}
                        : splitter.push(piece));
    return true;
  });
  if (!result) return fail("run", result.error().message);
  if (!o.raw) printer.print(splitter.finish());
  printer.finish();

  if (result->finish == FinishReason::kContextFull)
    std::fprintf(stderr, "hy2bit run: %s\n", context_full_text(*result, o.flags).c_str());
  if (!notes_enabled(o.flags)) return 0;
  const double gen_tps = result->tokens.size() > 1 && result->generate_seconds > 0
                             ? static_cast<double>(result->tokens.size()) / result->generate_seconds
                             : 0.0;
  std::fprintf(stderr,
               "hy2bit run: prompt %lld tokens, %.1f t/s | generated %zu tokens, %.1f t/s | stopped by %s | seed %llu, %d threads, %s\n",
               static_cast<long long>(result->n_prompt),
               result->prompt_seconds > 0 ? static_cast<double>(result->n_prompt_evaluated) / result->prompt_seconds : 0.0,
               result->tokens.size(), gen_tps, finish_text(*result, o.flags).c_str(),
               static_cast<unsigned long long>(options.sampling.seed), (*model)->summary().n_threads,
               (*model)->summary().isa.c_str());
  return 0;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Answer one prompt (like llama-cli -p), streaming the reply");
  add_generation_flags(*cmd, o->flags);
  cmd->add_option("-p,--prompt", o->prompt, "the user's message, or - to read it from stdin (start it with /no_think to turn thinking off)");
  cmd->add_option("-f,--file", o->prompt_file, "read the user's message from a file");
  cmd->add_flag("--verbose-prompt", o->verbose_prompt, "print the prompt as rendered by the chat format");
  cmd->add_flag("--raw", o->raw, "feed the prompt as is (BOS added), without the chat format");
  CLI::Option* schema = cmd->add_option("--json-schema", o->json_schema,
                                        "reply with JSON matching the JSON schema in FILE (constrained sampling, thinking off)");
  cmd->add_option("--grammar", o->grammar, "reply matching a GBNF grammar (llama.cpp syntax), from FILE or given as TEXT")
      ->excludes(schema);
  cmd->add_flag("--conversation,!--no-conversation", o->conversation,
                "-cnv: chat on the terminal (-p is the first message); -no-cnv: one answer (the default)");
  cmd->add_flag("--single-turn", o->single_turn, "-st: one answer, then exit (run's default; with -cnv, chat ends after it)");
  cmd->callback([o, &exit_code] { exit_code = run_run(*o); });
}

}  // namespace hy2bit::tools
