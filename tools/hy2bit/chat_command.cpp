// hy2bit chat: an interactive multi-turn chat on a terminal. Line editing
// and history (libedit), multi-line messages, slash commands (/help lists
// them), thinking dimmed; the KV cache reuses the common prefix between
// turns. Ctrl-C stops the current reply; Ctrl-D or /exit leaves.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>

#include "chat.h"
#include "commands.h"
#include "conversation_file.h"
#include "hy2bit/reasoning.h"
#include "line_editor.h"
#include "prompt_input.h"

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

const char kHelp[] =
    "commands:\n"
    "  /help           this list\n"
    "  /system TEXT    set the system prompt (empty TEXT removes it)\n"
    "  /think          thinking on for the next turns\n"
    "  /no_think       thinking off for the next turns\n"
    "  /save FILE      write the conversation to a JSON file\n"
    "  /load FILE      continue a conversation from a JSON file\n"
    "  /clear          forget the conversation (the system prompt stays)\n"
    "  /exit           leave (or Ctrl-D)\n"
    "a line ending with \\ continues on the next; \"\"\" starts and ends a multi-line block.\n"
    "Ctrl-C stops a reply.\n";

// The conversation and what to do with a user's line.
class ChatLoop {
 public:
  ChatLoop(ChatOptions& o, std::shared_ptr<Model> model, std::unique_ptr<Session> session)
      : o_(o), model_(std::move(model)), session_(std::move(session)) {
    if (!o_.flags.system_prompt.empty()) conversation_.messages.push_back({Role::kSystem, o_.flags.system_prompt});
    conversation_.thinking = o_.flags.no_think ? Thinking::kOff : Thinking::kDefault;
    sampling_ = o_.flags.sampling;
    sampling_.seed = resolve_seed(o_.flags.seed);
  }

  // Handles a slash command; false when `line` is not one. Sets done_ on /exit.
  bool command(const std::string& line) {
    const size_t space = line.find(' ');
    const std::string name = line.substr(0, space);
    const std::string arg = space == std::string::npos ? "" : line.substr(space + 1);
    if (name == "/exit" || name == "/quit") {
      done_ = true;
    } else if (name == "/help") {
      std::fputs(kHelp, stdout);
    } else if (name == "/clear") {
      conversation_.messages.resize(has_system() ? 1 : 0);
      session_->reset();
      std::fputs("(conversation cleared)\n", stdout);
    } else if (name == "/system") {
      if (has_system()) conversation_.messages.erase(conversation_.messages.begin());
      if (!arg.empty()) conversation_.messages.insert(conversation_.messages.begin(), {Role::kSystem, arg});
      std::fputs(arg.empty() ? "(system prompt removed)\n" : "(system prompt set)\n", stdout);
    } else if (name == "/think") {
      conversation_.thinking = Thinking::kOn;
      std::fputs("(thinking on)\n", stdout);
    } else if (name == "/no_think" && arg.empty()) {
      conversation_.thinking = Thinking::kOff;
      std::fputs("(thinking off)\n", stdout);
    } else if (name == "/save") {
      if (arg.empty()) return report("/save needs a file name"), true;
      Status saved = save_conversation(arg, conversation_);
      if (!saved) return report(saved.error().message), true;
      std::printf("(saved %zu messages to %s)\n", conversation_.messages.size(), arg.c_str());
    } else if (name == "/load") {
      if (arg.empty()) return report("/load needs a file name"), true;
      Result<Conversation> loaded = load_conversation(arg);
      if (!loaded) return report(loaded.error().message), true;
      conversation_ = std::move(*loaded);
      std::printf("(loaded %zu messages from %s)\n", conversation_.messages.size(), arg.c_str());
    } else {
      // "/no_think text" is the model's own per-message switch, not a command.
      return name == "/no_think" ? false : (report("unknown command " + name + " (/help lists them)"), true);
    }
    return true;
  }

  // Sends one user message and streams the reply.
  void turn(const std::string& message) {
    conversation_.messages.push_back({Role::kUser, message});
    // Only the chat format makes control tokens: typed text stays text.
    Result<std::vector<int32_t>> prompt = tokenize_chat(*model_, conversation_.messages, conversation_.thinking);
    if (!prompt) {
      conversation_.messages.pop_back();
      return report(prompt.error().message);
    }
    ReasoningSplitter splitter;
    ReplyPrinter printer(o_.flags.reasoning == "show", o_.flags.compat.color);
    GenerateOptions options{.max_tokens = o_.flags.n_predict, .sampling = sampling_, .stop = o_.flags.reverse_prompts};
    g_reply_state.store(1);
    Result<GenerateResult> reply = generate(*session_, *prompt, options, [&](std::string_view piece) {
      printer.print(splitter.push(piece));
      return g_reply_state.load() == 1;
    });
    g_reply_state.store(0);
    if (!reply) {
      conversation_.messages.pop_back();
      return report(reply.error().message);
    }
    printer.print(splitter.finish());
    printer.finish();
    if (reply->finish == FinishReason::kCancelled) std::fputs("(stopped)\n", stdout);
    if (reply->finish == FinishReason::kContextFull) report(context_full_text(*reply, o_.flags) + "; /clear starts over");
    conversation_.messages.push_back({Role::kAssistant, reply->text});
    sampling_.seed += 1;  // a new draw for the next turn, still reproducible from -s
  }

  bool done() const { return done_; }

 private:
  bool has_system() const {
    return !conversation_.messages.empty() && conversation_.messages.front().role == Role::kSystem;
  }
  void report(const std::string& message) { std::fprintf(stderr, "hy2bit chat: %s\n", message.c_str()); }

  ChatOptions& o_;
  std::shared_ptr<Model> model_;
  std::unique_ptr<Session> session_;
  Conversation conversation_;
  SamplingOptions sampling_;
  bool done_ = false;
};

}  // namespace

int run_chat(ChatOptions& o) {
  Result<std::shared_ptr<Model>> model = load_model_for(o.flags, "chat");
  if (!model) return fail("chat", model.error().message);
  if (Status applied = apply_model_dependent_flags(o.flags, **model); !applied)
    return fail("chat", applied.error().message);
  Result<std::unique_ptr<Session>> session =
      Session::create(*model, session_options(o.flags.n_ctx, o.flags.n_batch, o.flags.cache_type));
  if (!session) return fail("chat", session.error().message);

  struct sigaction action = {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);

  const bool terminal = isatty(STDIN_FILENO) == 1;
  if (notes_enabled(o.flags))
    std::fprintf(stderr, "hy2bit chat: %s, %s kernels. /help lists the commands; Ctrl-C stops a reply, Ctrl-D leaves.\n",
                 (*model)->summary().name.c_str(), (*model)->summary().isa.c_str());
  ChatLoop chat(o, *model, std::move(*session));
  LineEditor editor(terminal);
  if (!o.first_message.empty()) {
    chat.turn(o.first_message);
    if (o.single_turn) return 0;
  }
  while (!chat.done()) {
    std::optional<std::string> message = editor.read_message(terminal ? "\n> " : "> ", "... ");
    if (!message) break;  // Ctrl-D or end of input
    if (message->find_first_not_of(" \t\r\n") == std::string::npos) continue;
    if ((*message)[0] == '/' && chat.command(*message)) continue;
    chat.turn(*message);
    if (o.single_turn) break;
  }
  return 0;
}

void add_chat_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "Chat with the model on a terminal (multi-turn, line editing, /help)");
  add_generation_flags(*cmd, o->flags);
  cmd->add_option("-p,--prompt", o->first_message, "a first message, answered before the first prompt");
  cmd->add_flag("--single-turn", o->single_turn, "-st: leave after the first reply");
  cmd->add_flag("--conversation,!--no-conversation", o->conversation,
                "-cnv: chat is always a conversation; -no-cnv is refused (use hy2bit run)");
  cmd->callback([o, &exit_code] {
    if (!o->conversation) {
      exit_code = fail("chat", "-no-cnv: chat is always a conversation; use `hy2bit run -p TEXT` for one answer");
      return;
    }
    if (Status checked = check_generation_flags(o->flags, "chat"); !checked) {
      exit_code = fail("chat", checked.error().message);
      return;
    }
    if (o->flags.compat.escape) o->first_message = process_escapes(o->first_message);
    exit_code = run_chat(*o);
  });
}

}  // namespace hy2bit::tools
