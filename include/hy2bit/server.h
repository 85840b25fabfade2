// The public API for the OpenAI-compatible HTTP server behind `hy2bit serve`:
// options and the Server object (start on a port, stop). Implemented in
// src/server/, which maps HTTP onto the rest of the public API and holds no
// model logic; one scheduler thread owns every Session, HTTP threads only
// parse, queue and stream (src/server/scheduler.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hy2bit/generate.h"
#include "hy2bit/model.h"
#include "hy2bit/result.h"

namespace hy2bit {

struct ServerOptions {
  std::string host = "127.0.0.1";    // loopback by default; anything wider should set api_key
  int port = 8080;                   // 0: the OS picks a free port (port() tells which)
  int parallel = 2;                  // slots: requests decoded at once, each with its own KV cache
  int queue = 16;                    // requests waiting for a slot; one more gets 429
  size_t max_body_bytes = 1 << 20;   // larger request bodies get 413
  std::string api_key;               // non-empty: "Authorization: Bearer <key>" required (not for /health)
  int64_t n_ctx = 4096;              // tokens per slot (prompt + reply)
  int64_t n_batch = 512;             // prompt tokens per forward pass
  CacheType cache_type = CacheType::kF16;  // each slot's KV cache
  std::string model_alias;           // the "model" id reported; empty: the model's name
  bool chunked_prefill = true;       // interleave prompt chunks with decode steps (false: whole prompts, for comparison)
  int max_connections = 128;         // open connections (a thread each); one more gets 503 and is closed
  int header_timeout_ms = 10000;     // idle or header-sending time allowed before a request's headers are in
  int body_timeout_ms = 30000;       // time allowed for a request body once its headers are in
  int keep_alive_max_requests = 100; // requests on one connection before it is closed
  // Host headers answered when no api_key is set (DNS rebinding: a web page
  // whose name resolves to 127.0.0.1 must not reach the server): localhost
  // names, IP literals, `host` and these; "*" allows any.
  std::vector<std::string> allowed_hosts;
  // Origins a browser may call from (CORS); none by default, "*" any. A
  // request whose Origin is neither allowed nor this server's own gets 403.
  std::vector<std::string> cors_origins;
  std::string log_format = "text";   // one line per request on stderr: "text", "json" or "none"
  SamplingOptions sampling;          // defaults for fields a request leaves out
  // Raw prompts (/v1/completions, /tokenize): control-token text such as
  // "<｜hy_User｜>" becomes that token, as llama-server does; false keeps it
  // text. Chat messages are always text (only the template makes control tokens).
  bool raw_parse_special = true;
  bool webui = true;                 // the chat page at / (src/server/webui); false: / is a 404 saying so
};

class Server {
 public:
  // Checks the options and opens one Session per slot (no socket yet).
  static Result<std::unique_ptr<Server>> create(std::shared_ptr<const Model> model, const ServerOptions& options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and serves on background threads. Ignores SIGPIPE for
  // the whole process (a client that hangs up must not kill the server).
  Status start();
  int port() const;            // the bound port, valid after start()
  const std::string& model_id() const;
  // Finishes every queued and running request (503 to those still waiting),
  // closes the socket and joins all threads. Safe to call twice.
  void stop();

  struct Impl;  // internal: src/server/server.cpp

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hy2bit
