// The server's own connection handling around httplib: the accept loop, a
// cap on open connections (one more gets a 503 and is closed), deadlines
// for idle connections, request headers and bodies (a watchdog shuts a
// connection down when its deadline passes), and, for a handler, whether
// its client is still there. Debian's cpp-httplib 0.11.4 offers none of
// these: it gives a handler no socket and no header deadline.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <thread>

#include <httplib.h>

#include "server/metrics.h"

namespace hy2bit::server {

struct ConnectionLimits {
  int max_connections = 128;                      // open at once; one more gets 503 and is closed
  std::chrono::milliseconds header_timeout{10000};  // connect (or last response) -> request headers in
  std::chrono::milliseconds body_timeout{30000};    // headers in -> body read
  std::chrono::milliseconds write_timeout{60000};   // one blocked write to a client that reads nothing
  int keep_alive_max_requests = 100;                // requests per connection, then it is closed
};

// httplib::Server whose connections this class accepts and watches; use
// serve() instead of httplib's listen().
class HttpServer : public httplib::Server {
 public:
  HttpServer();
  ~HttpServer() override;

  // Binds as httplib does, raises the listen backlog. Returns the port or -1.
  int bind(const std::string& host, int port);
  // Starts the accept loop and the watchdog (returns at once).
  void serve(const ConnectionLimits& limits, Metrics& metrics);
  // Closes the listening socket, shuts every connection down and joins.
  void shutdown_all();

  // For handlers, on their connection's thread:
  // the request's headers are in: its body must arrive within body_timeout.
  static void mark_headers_read();
  // the body is in: no deadline while the reply is made.
  static void mark_handling();
  // the response went out: the next request must come within header_timeout.
  static void mark_response_sent();
  // True when the client closed or reset its side of this thread's connection.
  static bool client_gone();
  // The connection ends after this response (a body error: what is left of
  // the body must never be read as a next request). httplib 0.11 ignores a
  // handler's "Connection: close", so the socket is shut for writing once
  // the response is out, and is_closing() refuses anything read after it.
  static void close_after_response();
  static bool is_closing();

 private:
  struct Connection {
    int fd = -1;  // our dup of httplib's socket: its number stays ours until we close it
    std::atomic<int64_t> deadline_ms{0};  // steady-clock ms; 0: none
    std::thread thread;
    bool done = false;  // guarded by mutex_
  };

  void accept_loop();
  void watchdog_loop();
  void run_connection(Connection& connection, socket_t sock);
  void refuse(socket_t sock);
  void reap_locked();

  ConnectionLimits limits_;
  Metrics* metrics_ = nullptr;
  std::thread acceptor_;
  std::thread watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::list<Connection> connections_;  // guarded by mutex_; stable addresses
  int open_ = 0;                       // connections not yet done; guarded by mutex_
  bool stopping_ = false;              // guarded by mutex_
};

}  // namespace hy2bit::server
