// `hy2bit serve` as a user runs it: it prints the address it listens on,
// answers over HTTP, and stops cleanly (exit 0) on SIGINT and on SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "server/server_test_util.h"
#include "support/test_support.h"

extern char** environ;

namespace hy2bit::server::test {
namespace {

// A running `hy2bit serve`; its stdout is read until the address line.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int out[2];
    if (pipe(out) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    std::vector<std::string> all = {hy2bit::test::hy2bit_binary(), "serve"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    out_ = out[0];
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  // Reads stdout until "listening on http://127.0.0.1:PORT"; the port, or -1.
  int wait_for_port(int timeout_s = 60) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    // (No std::regex: GCC 12 warns falsely inside it under sanitizers.)
    const std::string address = "listening on http://127.0.0.1:";
    char buffer[512];
    while (std::chrono::steady_clock::now() < deadline) {
      const size_t at = output_.find(address);
      const size_t digits = at == std::string::npos ? at : at + address.size();
      if (digits != std::string::npos && digits < output_.size() &&
          output_.find_first_not_of("0123456789", digits) != std::string::npos &&
          output_.find_first_not_of("0123456789", digits) > digits)
        return std::stoi(output_.substr(digits));
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = read(out_, buffer, sizeof(buffer));
      if (n <= 0) return -1;
      output_.append(buffer, static_cast<size_t>(n));
    }
    return -1;
  }

  // Sends `sig` and waits for the exit status (-1 on timeout or abnormal end).
  int stop_with(int sig, int timeout_s = 60) {
    kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

void check_serves(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(120);
  const JsonReply health = get_json(client, "/health");
  EXPECT_EQ(health.status, 200);
  const JsonReply chat = post_json(client, "/v1/chat/completions",
                                   R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3})");
  EXPECT_EQ(chat.status, 200) << chat.text;
}

TEST(ServeCommand, PrintsItsAddressServesAndStopsOnSigint) {
  ServeProcess serve({"-m", hy2bit::test::testdata_path("models/hy-tiny-q2_0c.gguf"), "-t", "2", "-c", "256",
                      "--port", "0"});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.output();
  check_serves(port);
  EXPECT_EQ(serve.stop_with(SIGINT), 0);
}

TEST(ServeCommand, StopsOnSigtermWithAStreamOpen) {
  ServeProcess serve({"-m", hy2bit::test::testdata_path("models/hy-tiny-q2_0c.gguf"), "-t", "2", "-c", "2048",
                      "--port", "0", "--parallel", "1"});
  const int port = serve.wait_for_port();
  ASSERT_GT(port, 0) << serve.output();
  HeldStream stream(port, raw_post("/v1/chat/completions",
                                   R"({"messages": [{"role": "user", "content": "go on"}], "max_tokens": 1500,
                                       "temperature": 0, "stream": true})"));
  ASSERT_TRUE(stream.wait_events(2));
  EXPECT_EQ(serve.stop_with(SIGTERM), 0);
}

}  // namespace
}  // namespace hy2bit::server::test
