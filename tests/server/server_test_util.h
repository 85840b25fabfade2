// Helpers for the server tests: the tiny model loaded once per process, a
// Server started in-process on a free loopback port, a raw-socket HTTP/1.1
// client (exact bytes in and out, close mid-stream at will) and an SSE parser.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "hy2bit/model.h"
#include "hy2bit/server.h"

namespace hy2bit::server::test {

using nlohmann::json;

// The tiny q2_0c model of ../shared/testdata, loaded once (2 threads).
std::shared_ptr<Model> tiny_model();

// A server on 127.0.0.1 with a free port; stops when destroyed.
class TestServer {
 public:
  explicit TestServer(ServerOptions options = default_options());
  ~TestServer();
  static ServerOptions default_options();  // port 0, 2 slots, queue 8, n_ctx 512

  int port() const { return server_->port(); }
  Server& server() { return *server_; }
  // A client with generous timeouts (ASan builds are slow).
  std::unique_ptr<httplib::Client> client() const;

 private:
  std::unique_ptr<Server> server_;
};

// POSTs JSON, returns (status, parsed body or null when not JSON).
struct JsonReply {
  int status = 0;
  json body;
  std::string text;
};
JsonReply post_json(httplib::Client& client, const std::string& path, const std::string& body,
                    const httplib::Headers& headers = {});
JsonReply get_json(httplib::Client& client, const std::string& path, const httplib::Headers& headers = {});

// One raw HTTP exchange: the request bytes go out as given; the response is
// read until the server closes or `stop_after_events` SSE events arrived
// (then the socket is closed at once, as a client that goes away), or a
// response with a Content-Length is complete.
struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // de-chunked
  std::string raw;                             // every byte received
  bool complete = false;                       // the server ended the response itself
};
RawResponse raw_exchange(int port, const std::string& request, int stop_after_events = -1, int timeout_s = 120,
                         bool timeout_is_failure = true);
// A streaming request kept open on its own socket until close(): a client
// that holds a slot (or a queue place) while the test does other things.
class HeldStream {
 public:
  HeldStream(int port, const std::string& request);
  ~HeldStream();
  // Reads until `n` SSE events arrived or the server ended the response; false on timeout.
  bool wait_events(size_t n, int timeout_s = 120);
  const std::string& received() const { return raw_; }
  void close();  // hangs up, as a client that goes away

 private:
  int fd_ = -1;
  std::string raw_;
  bool ended_ = false;
};

// A POST with Connection: close, a JSON body and an exact Content-Length.
std::string raw_post(const std::string& path, const std::string& body);

// SSE: the payloads of "data: ..." events in order; an event that is not a
// single data line, or text after the last blank line, fails the test.
std::vector<std::string> sse_payloads(const std::string& body);

// A metric's value from /metrics text (-1 when absent).
double metric(const std::string& metrics_text, const std::string& name);
double fetch_metric(int port, const std::string& name);
// Waits until /metrics shows `name` == value; false after `timeout_s`.
bool wait_metric(int port, const std::string& name, double value, int timeout_s = 60);

// Resident set size of this process, in bytes (/proc/self/statm).
int64_t rss_bytes();

// The OpenAI error shape: {"error": {"message": str, "type": str, "code", "param"}}.
void expect_error_body(const json& body, const std::string& where);

}  // namespace hy2bit::server::test
