// Accept loop, connection cap, deadlines and client-gone checks around
// httplib (see connections.h). httplib 0.11.4 keeps the function that
// serves one accepted socket private; it is reached through the one legal
// door C++ leaves (explicit instantiation ignores access, [temp.spec]/6),
// so the request parsing and writing stay httplib's own.
#include "server/connections.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace hy2bit::server {
namespace {

using Clock = std::chrono::steady_clock;
using ServeSocketFn = bool (httplib::Server::*)(socket_t);

// Pending connections the kernel queues before accept() (httplib's 5 would
// drop the SYNs of a burst of clients).
constexpr int kListenBacklog = 512;
constexpr int kPollMs = 50;  // accept loop and watchdog wake-ups

ServeSocketFn serve_socket_fn();
template <ServeSocketFn Fn>
struct ExposeServeSocket {
  friend ServeSocketFn serve_socket_fn() { return Fn; }
};
template struct ExposeServeSocket<&httplib::Server::process_and_close_socket>;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
}

// The connection the calling thread serves (null off connection threads).
struct CurrentConnection {
  int fd = -1;
  std::atomic<int64_t>* deadline_ms = nullptr;
  const ConnectionLimits* limits = nullptr;
  bool closing = false;  // close_after_response() was called
};
thread_local CurrentConnection current;

const char kRefusal[] =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Retry-After: 1\r\n"
    "Connection: close\r\n";
const char kRefusalBody[] =
    "{\"error\":{\"message\":\"too many open connections; retry later\",\"type\":\"server_error\","
    "\"code\":\"too_many_connections\",\"param\":null}}";

}  // namespace

HttpServer::HttpServer() = default;
HttpServer::~HttpServer() { shutdown_all(); }

int HttpServer::bind(const std::string& host, int port) {
  int bound = -1;
  if (port == 0) {
    bound = bind_to_any_port(host);
  } else if (bind_to_port(host, port)) {
    bound = port;
  }
  if (bound < 0) return -1;
  const socket_t sock = svr_sock_;
  ::listen(sock, kListenBacklog);
  ::fcntl(sock, F_SETFL, ::fcntl(sock, F_GETFL) | O_NONBLOCK);
  return bound;
}

void HttpServer::serve(const ConnectionLimits& limits, Metrics& metrics) {
  limits_ = limits;
  metrics_ = &metrics;
  const auto header_s = std::chrono::duration_cast<std::chrono::seconds>(limits.header_timeout).count();
  // httplib's own per-read and keep-alive waits: never shorter than ours (the
  // watchdog enforces the real deadlines, over the whole header, not per read).
  set_keep_alive_timeout(std::max<time_t>(1, header_s + 1));
  set_keep_alive_max_count(static_cast<size_t>(limits.keep_alive_max_requests));
  set_read_timeout(std::max<time_t>(1, header_s + 1));
  set_write_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits.write_timeout).count());
  acceptor_ = std::thread([this] { accept_loop(); });
  watchdog_ = std::thread([this] { watchdog_loop(); });
}

void HttpServer::accept_loop() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      reap_locked();
    }
    const socket_t listener = svr_sock_;
    pollfd p{.fd = listener, .events = POLLIN, .revents = 0};
    if (::poll(&p, 1, kPollMs) <= 0) continue;
    const socket_t sock = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (sock == INVALID_SOCKET) continue;
    const int on = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));  // SSE chunks are small: send each at once
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || open_ >= limits_.max_connections) {
      refuse(sock);
      continue;
    }
    Connection& c = connections_.emplace_back();
    c.fd = ::dup(sock);
    c.deadline_ms.store(now_ms() + limits_.header_timeout.count());
    ++open_;
    c.thread = std::thread([this, &c, sock] { run_connection(c, sock); });
  }
}

void HttpServer::run_connection(Connection& c, socket_t sock) {
  current = {.fd = c.fd, .deadline_ms = &c.deadline_ms, .limits = &limits_};
  (this->*serve_socket_fn())(sock);  // reads requests until the client or a limit ends it; closes sock
  current = {};
  std::lock_guard<std::mutex> lock(mutex_);
  c.deadline_ms.store(0);
  c.done = true;
  --open_;
}

void HttpServer::refuse(socket_t sock) {
  metrics_->connections_refused.fetch_add(1);
  const std::string response = std::string(kRefusal) + "Content-Length: " + std::to_string(sizeof(kRefusalBody) - 1) +
                               "\r\n\r\n" + kRefusalBody;
  // Best effort and never blocking: the accept loop must not wait on a client.
  (void)::send(sock, response.data(), response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(sock, SHUT_WR);
  ::close(sock);
}

// Joins the threads of finished connections.
void HttpServer::reap_locked() {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (!it->done) {
      ++it;
      continue;
    }
    it->thread.join();  // it has returned from run_connection (done is set last)
    ::close(it->fd);
    it = connections_.erase(it);
  }
}

void HttpServer::watchdog_loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(kPollMs));
    const int64_t now = now_ms();
    for (Connection& c : connections_) {
      const int64_t deadline = c.deadline_ms.load();
      if (c.done || deadline == 0 || now < deadline) continue;
      // Its reads fail at once; httplib then closes the connection.
      ::shutdown(c.fd, SHUT_RDWR);
      c.deadline_ms.store(0);
      metrics_->connections_timed_out.fetch_add(1);
    }
  }
}

void HttpServer::shutdown_all() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ && !acceptor_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (acceptor_.joinable()) acceptor_.join();
  if (watchdog_.joinable()) watchdog_.join();
  // httplib's keep-alive loops end once the listening socket is invalid.
  const socket_t listener = svr_sock_.exchange(INVALID_SOCKET);
  if (listener != INVALID_SOCKET) {
    ::shutdown(listener, SHUT_RDWR);
    ::close(listener);
  }
  std::list<Connection> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (Connection& c : connections_) ::shutdown(c.fd, SHUT_RDWR);
    all.splice(all.end(), connections_);
  }
  for (Connection& c : all) {
    if (c.thread.joinable()) c.thread.join();
    ::close(c.fd);
  }
}

void HttpServer::mark_headers_read() {
  if (current.deadline_ms) current.deadline_ms->store(now_ms() + current.limits->body_timeout.count());
}

void HttpServer::mark_handling() {
  if (current.deadline_ms) current.deadline_ms->store(0);
}

void HttpServer::mark_response_sent() {
  if (current.deadline_ms) current.deadline_ms->store(now_ms() + current.limits->header_timeout.count());
  if (current.closing && current.fd >= 0) ::shutdown(current.fd, SHUT_WR);  // FIN after the response
}

void HttpServer::close_after_response() { current.closing = true; }
bool HttpServer::is_closing() { return current.closing; }

bool HttpServer::client_gone() {
  if (current.fd < 0) return false;
  pollfd p{.fd = current.fd, .events = POLLRDHUP, .revents = 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace hy2bit::server
