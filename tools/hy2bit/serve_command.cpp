// hy2bit serve: the OpenAI-compatible HTTP server (hy2bit/server.h) on a model.
// Prints the address it listens on, serves until SIGINT or SIGTERM, then
// stops cleanly (running replies end, waiting clients get 503).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>

#include "commands.h"
#include "generation_flags.h"
#include "hy2bit/server.h"

namespace hy2bit::tools {
namespace {

struct ServeOptions {
  GenerationFlags flags;     // model, threads, context and batch (sampling: request defaults)
  ServerOptions server;
};

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

int run_serve(ServeOptions& o) {
  // SIGINT/SIGTERM are blocked in every thread (the model's pool and the
  // server threads inherit the mask) and taken here with sigwait.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Result<std::shared_ptr<Model>> model = load_model_for(o.flags, "serve");
  if (!model) return fail("serve", model.error().message);
  o.server.n_ctx = o.flags.n_ctx;
  o.server.n_batch = o.flags.n_batch;
  o.server.cache_type = session_options(o.flags.n_ctx, o.flags.n_batch, o.flags.cache_type).cache_type;
  o.server.sampling = o.flags.sampling;
  Result<std::unique_ptr<Server>> srv = Server::create(*model, o.server);
  if (!srv) return fail("serve", srv.error().message);
  Status started = (*srv)->start();
  if (!started) return fail("serve", started.error().message);

  const ModelSummary& m = (*model)->summary();
  std::fprintf(stderr, "hy2bit serve: model %s (%s, %s kernels, %d threads), %d slots x %lld tokens, queue %d\n",
               (*srv)->model_id().c_str(), m.weight_types.c_str(), m.isa.c_str(), m.n_threads, o.server.parallel,
               static_cast<long long>(o.server.n_ctx), o.server.queue);
  if (!is_loopback(o.server.host) && o.server.api_key.empty())
    std::fprintf(stderr, "hy2bit serve: warning: listening on %s without --api-key\n", o.server.host.c_str());
  const bool v6 = o.server.host.find(':') != std::string::npos;
  std::printf("hy2bit serve: listening on http://%s%s%s:%d (Ctrl-C stops)\n", v6 ? "[" : "", o.server.host.c_str(),
              v6 ? "]" : "", (*srv)->port());
  std::fflush(stdout);
  if (o.server.webui) std::fprintf(stderr, "hy2bit serve: chat page at / (--no-webui turns it off)\n");

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "hy2bit serve: %s received, stopping\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*srv)->stop();
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server (/v1/chat/completions, /v1/completions)");
  ServerOptions& s = o->server;
  GenerationFlags& f = o->flags;
  cmd->add_option("-m,--model", f.model_path, "GGUF model (default: the built-in 17M-parameter 2-bit poet, models/README.md)");
  cmd->add_option("-t,--threads", f.n_threads, "threads (default: physical cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("-c,--ctx-size", f.n_ctx, "context per slot in tokens (prompt + reply)")->check(CLI::Range(int64_t{16}, int64_t{1} << 22))->capture_default_str();
  cmd->add_option("-b,--batch-size", f.n_batch, "prompt tokens per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  add_cache_type_flag(*cmd, f.cache_type);
  cmd->add_option("--host", s.host, "address to listen on (use --api-key for anything but loopback)")->capture_default_str();
  cmd->add_option("--port", s.port, "port (0: any free port)")->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--parallel", s.parallel, "slots: requests decoded at once, each with its own KV cache")->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--queue", s.queue, "requests that may wait for a slot; more get 429")->check(CLI::Range(0, 100000))->capture_default_str();
  cmd->add_option("--max-body", s.max_body_bytes, "largest request body in bytes (more get 413)")->check(CLI::Range(size_t{1024}, size_t{1} << 30))->capture_default_str();
  cmd->add_option("--api-key", s.api_key, "require \"Authorization: Bearer KEY\" (except /health and the chat page)")->envname("HY2BIT_API_KEY");
  cmd->add_option("--alias", s.model_alias, "model id clients use (default: the model's name)");
  cmd->add_flag("!--no-chunked-prefill", s.chunked_prefill, "evaluate each prompt whole when admitted (other streams stall meanwhile; for comparison)");
  cmd->add_option("--max-connections", s.max_connections, "open connections served at once (a thread each); one more gets 503")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--header-timeout", s.header_timeout_ms, "ms an idle connection may wait or take to send its request headers")->check(CLI::Range(100, 3600000))->capture_default_str();
  cmd->add_option("--body-timeout", s.body_timeout_ms, "ms a request may take to send its body")->check(CLI::Range(100, 3600000))->capture_default_str();
  cmd->add_option("--keep-alive-requests", s.keep_alive_max_requests, "requests per connection before it is closed")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--allowed-host", s.allowed_hosts, "Host header to answer besides localhost, IP addresses and --host (repeatable; * any). Without --api-key, other names get 403 (DNS rebinding)");
  cmd->add_option("--cors-origin", s.cors_origins, "origin browsers may call from, e.g. http://localhost:3000 (repeatable; * any; default none)");
  cmd->add_option("--log-format", s.log_format, "request log lines on stderr")->check(CLI::IsMember({"text", "json", "none"}))->capture_default_str();
  cmd->add_flag("!--no-parse-special", s.raw_parse_special,
                "raw prompts (/v1/completions, /tokenize): keep control-token text as text (default: parse it, as llama-server does; chat messages are always text)");
  cmd->add_flag("--no-webui", [o](int64_t) { o->server.webui = false; }, "no chat page at / (the API only)");
  cmd->add_option("--temp", f.sampling.temperature, "default temperature (0: greedy)")->check(CLI::Range(0.0f, 100.0f))->capture_default_str();
  cmd->add_option("--top-k", f.sampling.top_k, "default top-k (0: off)")->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--top-p", f.sampling.top_p, "default top-p (1: off)")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  cmd->add_option("--min-p", f.sampling.min_p, "default min-p (0: off)")->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  cmd->add_option("--repeat-penalty", f.sampling.repeat_penalty, "default repetition penalty (1: off)")->check(CLI::Range(0.0f, 10.0f))->capture_default_str();
  cmd->add_option("--presence-penalty", f.sampling.presence_penalty, "default presence penalty (0: off)")->check(CLI::Range(-2.0f, 2.0f))->capture_default_str();
  cmd->add_option("--frequency-penalty", f.sampling.frequency_penalty, "default frequency penalty (0: off)")->check(CLI::Range(-2.0f, 2.0f))->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = run_serve(*o); });
}

}  // namespace hy2bit::tools
