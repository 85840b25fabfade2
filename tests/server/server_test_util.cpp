// Server test helpers: in-process server, raw socket client, SSE parsing.
#include "server/server_test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "support/test_support.h"

namespace hy2bit::server::test {

std::shared_ptr<Model> tiny_model() {
  static std::shared_ptr<Model> model = [] {
    Result<std::shared_ptr<Model>> m =
        Model::load({.model_path = hy2bit::test::testdata_path("models/hy-tiny-q2_0c.gguf"), .n_threads = 2});
    if (!m) {
      ADD_FAILURE() << "cannot load the tiny model: " << m.error().message;
      return std::shared_ptr<Model>();
    }
    return *m;
  }();
  return model;
}

ServerOptions TestServer::default_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.parallel = 2;
  o.queue = 8;
  o.n_ctx = 512;
  o.model_alias = "hy-tiny";
  o.log_format = "none";  // the request log is tested on its own (hardening_test.cpp)
  return o;
}

TestServer::TestServer(ServerOptions options) {
  std::shared_ptr<Model> model = tiny_model();
  if (!model) throw std::runtime_error("no model");
  Result<std::unique_ptr<Server>> s = Server::create(model, options);
  if (!s) throw std::runtime_error("Server::create: " + s.error().message);
  server_ = std::move(*s);
  Status started = server_->start();
  if (!started) throw std::runtime_error("Server::start: " + started.error().message);
}

TestServer::~TestServer() { server_->stop(); }

std::unique_ptr<httplib::Client> TestServer::client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port());
  c->set_connection_timeout(10);
  c->set_read_timeout(300);
  c->set_write_timeout(60);
  return c;
}

namespace {

JsonReply to_reply(const httplib::Result& r) {
  JsonReply out;
  if (!r) {
    ADD_FAILURE() << "HTTP request failed: " << httplib::to_string(r.error());
    return out;
  }
  out.status = r->status;
  out.text = r->body;
  out.body = json::parse(r->body, nullptr, false);
  if (out.body.is_discarded()) out.body = nullptr;
  return out;
}

}  // namespace

JsonReply post_json(httplib::Client& client, const std::string& path, const std::string& body,
                    const httplib::Headers& headers) {
  return to_reply(client.Post(path.c_str(), headers, body, "application/json"));
}

JsonReply get_json(httplib::Client& client, const std::string& path, const httplib::Headers& headers) {
  return to_reply(client.Get(path.c_str(), headers));
}

std::string raw_post(const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: close\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Parses status line, headers and (chunked or not) body out of `raw`.
void parse_response(RawResponse& r) {
  const size_t head_end = r.raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return;
  const std::string head = r.raw.substr(0, head_end);
  if (head.size() > 12 && head.compare(0, 5, "HTTP/") == 0) r.status = std::atoi(head.c_str() + 9);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos < head.size()) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string line = head.substr(pos + 2, (next == std::string::npos ? head.size() : next) - pos - 2);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers[lower(line.substr(0, colon))] = value;
    }
    pos = next;
  }
  std::string payload = r.raw.substr(head_end + 4);
  if (lower(r.headers["transfer-encoding"]) != "chunked") {
    r.body = payload;
    return;
  }
  r.body.clear();
  size_t at = 0;
  for (;;) {
    const size_t line_end = payload.find("\r\n", at);
    if (line_end == std::string::npos) return;  // cut short
    const size_t size = std::strtoul(payload.substr(at, line_end - at).c_str(), nullptr, 16);
    if (size == 0) return;
    if (line_end + 2 + size > payload.size()) {
      r.body += payload.substr(line_end + 2);
      return;
    }
    r.body += payload.substr(line_end + 2, size);
    at = line_end + 2 + size + 2;
  }
}

size_t count_events(const std::string& raw) {
  size_t n = 0;
  for (size_t at = raw.find("data: "); at != std::string::npos; at = raw.find("data: ", at + 1)) ++n;
  return n;
}

// True once `raw` holds a whole response with a Content-Length body.
bool has_whole_sized_response(const std::string& raw) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string::npos) return false;
  const std::string head = lower(raw.substr(0, head_end));
  const size_t at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return false;
  const size_t length = std::strtoul(head.c_str() + at + 17, nullptr, 10);
  return raw.size() >= head_end + 4 + length;
}

}  // namespace

RawResponse raw_exchange(int port, const std::string& request, int stop_after_events, int timeout_s,
                         bool timeout_is_failure) {
  RawResponse r;
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    ADD_FAILURE() << "socket() failed";
    return r;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "connect() to 127.0.0.1:" << port << " failed";
    close(fd);
    return r;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may refuse early (413) and close
    sent += static_cast<size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  char buffer[4096];
  for (;;) {
    if (stop_after_events >= 0 && count_events(r.raw) >= static_cast<size_t>(stop_after_events)) break;
    if (has_whole_sized_response(r.raw)) {
      r.complete = true;
      break;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (timeout_is_failure) ADD_FAILURE() << "raw_exchange timed out after " << timeout_s << " s";
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000))) <= 0) continue;
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {
      r.complete = true;
      break;
    }
    r.raw.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  parse_response(r);
  return r;
}

HeldStream::HeldStream(int port, const std::string& request) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ADD_FAILURE() << "cannot connect to 127.0.0.1:" << port;
    return;
  }
  size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
}

HeldStream::~HeldStream() { close(); }

bool HeldStream::wait_events(size_t n, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  char buffer[4096];
  while (fd_ >= 0 && !ended_ && count_events(raw_) < n) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    const ssize_t got = recv(fd_, buffer, sizeof(buffer), 0);
    if (got <= 0) {
      ended_ = true;
      break;
    }
    raw_.append(buffer, static_cast<size_t>(got));
  }
  return count_events(raw_) >= n;
}

void HeldStream::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::vector<std::string> sse_payloads(const std::string& body) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at < body.size()) {
    const size_t end = body.find("\n\n", at);
    if (end == std::string::npos) {
      ADD_FAILURE() << "SSE text after the last event: '" << body.substr(at) << "'";
      break;
    }
    const std::string event = body.substr(at, end - at);
    EXPECT_EQ(event.compare(0, 6, "data: "), 0) << "SSE event not starting with 'data: ': " << event;
    EXPECT_EQ(event.find('\n'), std::string::npos) << "SSE event of several lines: " << event;
    out.push_back(event.size() >= 6 ? event.substr(6) : std::string());
    at = end + 2;
  }
  return out;
}

double metric(const std::string& metrics_text, const std::string& name) {
  size_t at = 0;
  while ((at = metrics_text.find(name + " ", at)) != std::string::npos) {
    if (at == 0 || metrics_text[at - 1] == '\n') return std::atof(metrics_text.c_str() + at + name.size() + 1);
    at += name.size();
  }
  return -1;
}

double fetch_metric(int port, const std::string& name) {
  httplib::Client c("127.0.0.1", port);
  httplib::Result r = c.Get("/metrics");
  if (!r || r->status != 200) return -1;
  return metric(r->body, name);
}

bool wait_metric(int port, const std::string& name, double value, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fetch_metric(port, name) == value) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

int64_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size_pages = 0, resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

void expect_error_body(const json& body, const std::string& where) {
  ASSERT_TRUE(body.is_object()) << where << ": body is not a JSON object";
  ASSERT_TRUE(body.contains("error")) << where << ": " << body.dump();
  const json& e = body["error"];
  EXPECT_TRUE(e.contains("message") && e["message"].is_string() && !e["message"].get<std::string>().empty())
      << where << ": " << body.dump();
  EXPECT_TRUE(e.contains("type") && e["type"].is_string()) << where << ": " << body.dump();
  EXPECT_TRUE(e.contains("code")) << where << ": " << body.dump();
  EXPECT_TRUE(e.contains("param")) << where << ": " << body.dump();
}

}  // namespace hy2bit::server::test
