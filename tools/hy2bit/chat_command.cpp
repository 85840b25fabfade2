// hy2bit chat: an interactive multi-turn chat on a terminal. History is kept
// (and the KV cache reuses the common prefix between turns); /clear forgets
// it, /exit or Ctrl-D leaves; Ctrl-C stops the current reply, not the program.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/reasoning.h"

namespace hy2bit::tools {
namespace {

// Signal handlers can only reach globals: this flag is the one place the
// tool keeps one. 1 while a reply is being generated, 2 once Ctrl-C asked to stop it.
std::atomic<int> g_reply_state{0};

void on_sigint(int) {
  int expected = 1;
  if (!g_reply_state.compare_exchange_strong(expected, 2)) {
    // Not generating: Ctrl-C leaves the program, as in llama-cli.
    const char bye[] = "\n";
    (void)!write(STDOUT_FILENO, bye, sizeof(bye) - 1);
    _exit(130);
  }
}

struct ChatOptions {
  GenerationFlags flags;
};

const char kHelp[] = "commands: /clear forgets the conversation, /exit leaves (or Ctrl-D); Ctrl-C stops a reply\n";

int run_chat(ChatOptions& o) {
  Result<std::shared_ptr<Model>> model = load_model_for(o.flags, "chat");
  if (!model) return fail("chat", model.error().message);
  Result<std::unique_ptr<Session>> session =
      Session::create(*model, session_options(o.flags.n_ctx, o.flags.n_batch, o.flags.cache_type));
  if (!session) return fail("chat", session.error().message);

  struct sigaction action = {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);

  const bool interactive = isatty(STDIN_FILENO) == 1;
  std::vector<ChatMessage> history;
  if (!o.flags.system_prompt.empty()) history.push_back({Role::kSystem, o.flags.system_prompt});
  const size_t n_fixed = history.size();
  const Thinking mode = o.flags.no_think ? Thinking::kOff : Thinking::kDefault;
  SamplingOptions sampling = o.flags.sampling;
  sampling.seed = resolve_seed(o.flags.seed);
  std::fprintf(stderr, "hy2bit chat: %s, %s kernels. %s", (*model)->summary().name.c_str(),
               (*model)->summary().isa.c_str(), kHelp);

  std::string line;
  for (;;) {
    std::fputs(interactive ? "\n> " : "> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;  // Ctrl-D or end of input
    if (line == "/exit" || line == "/quit") break;
    if (line == "/clear") {
      history.resize(n_fixed);
      (*session)->reset();
      std::fputs("(conversation cleared)\n", stdout);
      continue;
    }
    if (line == "/help") {
      std::fputs(kHelp, stdout);
      continue;
    }
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;

    history.push_back({Role::kUser, line});
    Result<std::vector<int32_t>> prompt =
        tokenize_chat(**model, history, mode);
    if (!prompt) {
      std::fprintf(stderr, "hy2bit chat: %s\n", prompt.error().message.c_str());
      history.pop_back();
      continue;
    }
    ReasoningSplitter splitter;
    ReplyPrinter printer(o.flags.reasoning == "show");
    GenerateOptions options{.max_tokens = o.flags.n_predict, .sampling = sampling, .stop = {}};
    g_reply_state.store(1);
    Result<GenerateResult> reply = generate(**session, *prompt, options, [&](std::string_view piece) {
      printer.print(splitter.push(piece));
      return g_reply_state.load() == 1;
    });
    g_reply_state.store(0);
    if (!reply) {
      std::fprintf(stderr, "hy2bit chat: %s\n", reply.error().message.c_str());
      history.pop_back();
      continue;
    }
    printer.print(splitter.finish());
    printer.finish();
    if (reply->finish == FinishReason::kCancelled) std::fputs("(stopped)\n", stdout);
    history.push_back({Role::kAssistant, reply->text});
    sampling.seed += 1;  // a new draw for the next turn, still reproducible from -s
  }
  return 0;
}

}  // namespace

void add_chat_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "Chat with the model on a terminal (multi-turn, history kept)");
  add_generation_flags(*cmd, o->flags);
  cmd->callback([o, &exit_code] { exit_code = run_chat(*o); });
}

}  // namespace hy2bit::tools
