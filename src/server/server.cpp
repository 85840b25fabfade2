// Server: checks the options, builds the scheduler and the route context,
// binds the socket and runs httplib's accept loop on a background thread.
// Stop order matters: the scheduler first (waiting handlers get their 503),
// then httplib (which joins its connection threads), so no handler outlives
// the objects it points at.
#include "server/server.h"

#include <sys/socket.h>

#include <csignal>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>

#include <httplib.h>

#include "server/routes.h"

namespace hy2bit::server {

namespace {

// Pending connections the kernel queues before accept(). httplib listens
// with a backlog of 5, so a burst of clients (16 connecting at once) would
// have SYNs dropped and retried a second later.
constexpr int kListenBacklog = 512;

// httplib::Server with its listening socket in reach, to raise the backlog.
class HttpServer : public httplib::Server {
 public:
  void raise_backlog() {
    const socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, kListenBacklog);
  }
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Metrics metrics;
  std::unique_ptr<Scheduler> scheduler;
  RouteContext ctx;
  HttpServer http;
  std::thread listener;
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
  if (o.http_threads < 0 || o.http_threads > 4096)
    return make_error("HTTP threads ", o.http_threads, " is outside 0..4096");
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
  Result<std::unique_ptr<Scheduler>> scheduler = Scheduler::create(
      model,
      {.n_slots = options.parallel, .max_waiting = options.queue, .n_ctx = options.n_ctx, .n_batch = options.n_batch, .cache_type = options.cache_type},
      impl->metrics);
  if (!scheduler) return scheduler.error();
  impl->scheduler = std::move(*scheduler);

  RouteContext& ctx = impl->ctx;
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

  const size_t threads = s.options.http_threads > 0
                             ? static_cast<size_t>(s.options.http_threads)
                             : static_cast<size_t>(s.options.parallel + s.options.queue + 4);
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.http.set_payload_max_length(s.options.max_body_bytes);
  s.http.set_tcp_nodelay(true);  // SSE chunks are small: send each at once
  // httplib's default also sets SO_REUSEPORT, which lets a second server
  // bind the same port and silently share its traffic: reuse the address only.
  s.http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  add_routes(s.http, s.ctx);

  if (s.options.port == 0) {
    s.port = s.http.bind_to_any_port(s.options.host);
    if (s.port < 0) return make_error("cannot listen on ", s.options.host, " (any port)");
  } else {
    if (!s.http.bind_to_port(s.options.host, s.options.port))
      return make_error("cannot listen on ", s.options.host, ":", s.options.port, " (in use, or not an address here?)");
    s.port = s.options.port;
  }
  s.http.raise_backlog();
  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
  // httplib's stop() only works once its loop runs; the socket already
  // queues connections, so waiting here costs clients nothing.
  for (int i = 0; i < 5000 && !s.http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!s.http.is_running()) return make_error("the HTTP loop did not start");
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
  if (s.listener.joinable()) {
    // If the loop never started, stop() has nothing to close: wait for it first.
    for (int i = 0; i < 5000 && !s.http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s.http.stop();
    s.listener.join();
  }
}

}  // namespace hy2bit::server
