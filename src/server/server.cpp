// hy2bit/server.h's Server: checks the options, builds the scheduler and the route context,
// binds the socket and starts the accept loop (connections.h).
// Stop order matters: the scheduler first (waiting handlers get their 503),
// then the connections (joined), so no handler outlives the objects it
// points at.
#include "hy2bit/server.h"

#include <sys/socket.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>

#include "server/connections.h"
#include "server/routes.h"

namespace hy2bit {

struct Server::Impl {
  ServerOptions options;
  server::Metrics metrics;
  std::unique_ptr<server::Scheduler> scheduler;
  server::RouteContext ctx;
  server::HttpServer http;
  int port = -1;
  std::mutex stop_mutex;
  bool started = false;
  bool stopped = false;
};

namespace {

Status validate(const ServerOptions& o) {
  if (o.host.empty()) return make_error("the host to listen on is empty");
  if (o.port < 0 || o.port > 65535) return make_error("port ", o.port, " is outside 0..65535");
  if (o.parallel < 1 || o.parallel > 256) return make_error("parallel slots ", o.parallel, " is outside 1..256");
  if (o.queue < 0 || o.queue > 100000) return make_error("queue length ", o.queue, " is outside 0..100000");
  if (o.max_body_bytes < 1024) return make_error("the body size limit ", o.max_body_bytes, " is below 1024 bytes");
  if (o.n_ctx < 16) return make_error("the context per slot (", o.n_ctx, " tokens) is below 16");
  if (o.max_connections < 1 || o.max_connections > 4096)
    return make_error("max connections ", o.max_connections, " is outside 1..4096");
  if (o.header_timeout_ms < 100) return make_error("the header timeout ", o.header_timeout_ms, " ms is below 100 ms");
  if (o.body_timeout_ms < 100) return make_error("the body timeout ", o.body_timeout_ms, " ms is below 100 ms");
  if (o.keep_alive_max_requests < 1) return make_error("keep-alive requests ", o.keep_alive_max_requests, " is below 1");
  if (o.log_format != "text" && o.log_format != "json" && o.log_format != "none")
    return make_error("log format '", o.log_format, "' is not text, json or none");
  return Ok{};
}

// The id clients put in "model": the alias, else general.name, else the file name.
std::string model_id_for(const Model& model, const ServerOptions& o) {
  if (!o.model_alias.empty()) return o.model_alias;
  if (!model.summary().name.empty()) return model.summary().name;
  const std::string stem = std::filesystem::path(model.summary().path).stem().string();
  return stem.empty() ? "hy2bit" : stem;
}

}  // namespace

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::create(std::shared_ptr<const Model> model, const ServerOptions& options) {
  if (!model) return make_error("no model given to the server");
  HY2BIT_TRY(validate(options));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  Result<std::unique_ptr<server::Scheduler>> scheduler = server::Scheduler::create(
      model,
      {.n_slots = options.parallel, .max_waiting = options.queue, .n_ctx = options.n_ctx, .n_batch = options.n_batch, .cache_type = options.cache_type, .chunked_prefill = options.chunked_prefill},
      impl->metrics);
  if (!scheduler) return scheduler.error();
  impl->scheduler = std::move(*scheduler);

  server::RouteContext& ctx = impl->ctx;
  ctx.model = model;
  ctx.options = options;
  ctx.scheduler = impl->scheduler.get();
  ctx.metrics = &impl->metrics;
  ctx.model_id = model_id_for(*model, options);
  ctx.created = static_cast<int64_t>(std::time(nullptr));
  // The model's own BOS rule: tokenizing nothing with add_bos gives [BOS] or [].
  Result<std::vector<int32_t>> bos = tokenize(*model, "", {.add_bos = true, .parse_special = true});
  if (bos) ctx.bos_prefix = *bos;
  if (!ctx.bos_prefix.empty()) ctx.bos_text = token_to_piece(*model, ctx.bos_prefix.front());
  for (int64_t id = 0; id < model->summary().n_vocab; ++id) {
    if (is_end_of_generation(*model, static_cast<int32_t>(id))) {
      ctx.eos_text = token_to_piece(*model, static_cast<int32_t>(id));
      break;
    }
  }
  std::random_device rd;
  ctx.id_nonce = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Status Server::start() {
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lock(s.stop_mutex);
    if (s.started || s.stopped) return make_error("the server was already started");
    s.started = true;
  }
  std::signal(SIGPIPE, SIG_IGN);

  s.http.set_payload_max_length(s.options.max_body_bytes);
  // httplib's default also sets SO_REUSEPORT, which lets a second server
  // bind the same port and silently share its traffic: reuse the address only.
  s.http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server::add_routes(s.http, s.ctx);
  s.port = s.http.bind(s.options.host, s.options.port);
  if (s.port < 0) {
    if (s.options.port == 0) return make_error("cannot listen on ", s.options.host, " (any port)");
    return make_error("cannot listen on ", s.options.host, ":", s.options.port, " (in use, or not an address here?)");
  }
  s.http.serve({.max_connections = s.options.max_connections,
                .header_timeout = std::chrono::milliseconds(s.options.header_timeout_ms),
                .body_timeout = std::chrono::milliseconds(s.options.body_timeout_ms),
                .write_timeout = std::chrono::milliseconds(60000),
                .keep_alive_max_requests = s.options.keep_alive_max_requests},
               s.metrics);
  return Ok{};
}

int Server::port() const { return impl_->port; }
const std::string& Server::model_id() const { return impl_->ctx.model_id; }

void Server::stop() {
  if (!impl_) return;
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.stop_mutex);
  if (s.stopped) return;
  s.stopped = true;
  s.scheduler->stop();
  // Streams now hold their last events (an error and [DONE]); let them go
  // out before httplib stops writing.
  for (int i = 0; i < 2000 && s.ctx.open_streams.load() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s.http.shutdown_all();
}

}  // namespace hy2bit
