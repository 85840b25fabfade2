// Several users at once: the bounded queue (429 past it), a client that
// hangs up mid-stream or while queued (its slot and queue place come back),
// shutdown with a stream open, and a bounded load test (16 clients x 8
// requests) where every reply equals the one-client reply, decoding is
// batched, and memory returns to its starting level.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "server/server_test_util.h"

namespace hy2bit::server::test {
namespace {

using Clock = std::chrono::steady_clock;

// A greedy chat stream long enough to hold a slot until the test lets go.
std::string long_stream(const std::string& text) {
  return raw_post("/v1/chat/completions", json{{"messages", {{{"role", "user"}, {"content", text}}}},
                                               {"max_tokens", 3000}, {"temperature", 0}, {"stream", true}}
                                              .dump());
}

ServerOptions one_slot(int queue) {
  ServerOptions o = TestServer::default_options();
  o.parallel = 1;
  o.queue = queue;
  o.n_ctx = 4096;
  return o;
}

TEST(ServerDisconnect, HangingUpMidStreamStopsTheReplyAndFreesTheSlot) {
  TestServer ts(one_slot(2));
  const double generated_before = fetch_metric(ts.port(), "hy2bit_generated_tokens_total");
  {
    HeldStream s(ts.port(), long_stream("talk for a long time"));
    ASSERT_TRUE(s.wait_events(4)) << s.received();
    s.close();
  }
  ASSERT_TRUE(wait_metric(ts.port(), "hy2bit_slots_busy", 0)) << "the slot stayed busy after the client left";
  EXPECT_EQ(fetch_metric(ts.port(), "hy2bit_requests_cancelled_total"), 1);
  EXPECT_LT(fetch_metric(ts.port(), "hy2bit_generated_tokens_total") - generated_before, 3000)
      << "the reply ran to its end instead of stopping";
  auto client = ts.client();
  const JsonReply r = post_json(*client, "/v1/chat/completions",
                                R"({"messages": [{"role": "user", "content": "next"}], "max_tokens": 2})");
  EXPECT_EQ(r.status, 200) << r.text;
}

TEST(ServerQueue, PastSlotsAndQueueRequestsGet429AndQueuedHangUpsLeave) {
  TestServer ts(one_slot(1));
  HeldStream a(ts.port(), long_stream("first"));
  ASSERT_TRUE(a.wait_events(3)) << a.received();  // A holds the only slot
  HeldStream b(ts.port(), long_stream("second"));
  ASSERT_TRUE(wait_metric(ts.port(), "hy2bit_queue_depth", 1));  // B waits in the queue

  auto client = ts.client();
  httplib::Result c = client->Post("/v1/chat/completions",
                                   R"({"messages": [{"role": "user", "content": "third"}], "max_tokens": 2})",
                                   "application/json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->status, 429);
  const json body = json::parse(c->body, nullptr, false);
  expect_error_body(body, "429");
  EXPECT_EQ(body["error"]["code"], "queue_full");
  EXPECT_TRUE(c->has_header("Retry-After"));
  EXPECT_EQ(fetch_metric(ts.port(), "hy2bit_requests_rejected_total"), 1);

  // B hangs up while queued: its place comes back without it ever running.
  b.close();
  ASSERT_TRUE(wait_metric(ts.port(), "hy2bit_queue_depth", 0)) << "a queued client that left kept its place";
  HeldStream d(ts.port(), long_stream("fourth"));
  ASSERT_TRUE(wait_metric(ts.port(), "hy2bit_queue_depth", 1));  // D was accepted into the freed place
  a.close();                                                     // A leaves: D gets the slot
  ASSERT_TRUE(d.wait_events(3)) << d.received();
  d.close();
  ASSERT_TRUE(wait_metric(ts.port(), "hy2bit_slots_busy", 0));
  EXPECT_EQ(fetch_metric(ts.port(), "hy2bit_requests_cancelled_total"), 3);
}

TEST(ServerShutdown, StopWithAStreamOpenEndsItCleanly) {
  auto ts = std::make_unique<TestServer>(one_slot(1));
  HeldStream a(ts->port(), long_stream("until stopped"));
  ASSERT_TRUE(a.wait_events(2));
  const auto start = Clock::now();
  ts->server().stop();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  ASSERT_TRUE(a.wait_events(1000000, 30) || true);  // read what is left until the server closed
  const std::string& got = a.received();
  EXPECT_NE(got.find("\"error\""), std::string::npos) << "the stream should end with an error event";
  EXPECT_NE(got.find("data: [DONE]"), std::string::npos);
  ts.reset();
}

// ---- load ------------------------------------------------------------------

struct Kind {
  std::string path;
  std::string body;  // without "stream"
  bool chat;
};

// What one request returned: its text, or why it failed.
struct Outcome {
  bool ok = false;
  std::string text;
  std::string error;
};

Outcome run_request(int port, httplib::Client& client, const Kind& kind, bool stream) {
  Outcome out;
  if (!stream) {
    const JsonReply r = post_json(client, kind.path, kind.body);
    if (r.status != 200) {
      out.error = "status " + std::to_string(r.status) + ": " + r.text;
      return out;
    }
    const json& choice = r.body["choices"][0];
    out.text = kind.chat ? choice["message"]["content"].get<std::string>() : choice["text"].get<std::string>();
    if (r.body["usage"]["completion_tokens"] != 8 && choice["finish_reason"] == "length") {
      out.error = "finish_reason length with " + r.body["usage"]["completion_tokens"].dump() + " tokens";
      return out;
    }
    out.ok = true;
    return out;
  }
  json body = json::parse(kind.body);
  body["stream"] = true;
  const RawResponse r = raw_exchange(port, raw_post(kind.path, body.dump()), -1, 300);
  if (r.status != 200) {
    out.error = "stream status " + std::to_string(r.status);
    return out;
  }
  const std::vector<std::string> events = sse_payloads(r.body);
  if (events.empty() || events.back() != "[DONE]") {
    out.error = "stream without [DONE]";
    return out;
  }
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json chunk = json::parse(events[i], nullptr, false);
    if (chunk.is_discarded() || chunk["choices"].empty()) continue;
    const json& choice = chunk["choices"][0];
    if (kind.chat && choice["delta"].contains("content")) out.text += choice["delta"]["content"].get<std::string>();
    if (!kind.chat) out.text += choice["text"].get<std::string>();
  }
  out.ok = true;
  return out;
}

TEST(ServerLoad, SixteenClientsEightRequestsEachAllCorrectAndMemoryFlat) {
  ServerOptions o = TestServer::default_options();
  o.parallel = 4;
  o.queue = 16;  // 16 clients: 4 decoding, up to 12 waiting, none refused
  o.n_ctx = 256;
  TestServer ts(o);
  const std::vector<Kind> kinds = {
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 8, "temperature": 0})", true},
      {"/v1/chat/completions",
       R"({"messages": [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Why?"}],
           "max_tokens": 8, "temperature": 0.8, "seed": 11})",
       true},
      {"/v1/completions", R"({"prompt": "Once upon a time there", "max_tokens": 8, "temperature": 0})", false},
      {"/v1/completions", R"({"prompt": "1, 2, 3, 4,", "max_tokens": 8, "temperature": 0.7, "seed": 5})", false},
  };
  // Reference replies, one request at a time.
  std::vector<std::string> reference;
  {
    auto client = ts.client();
    for (const Kind& k : kinds) {
      const Outcome r = run_request(ts.port(), *client, k, false);
      ASSERT_TRUE(r.ok) << r.error;
      reference.push_back(r.text);
    }
  }

  constexpr int kClients = 16;
  auto round = [&](int per_client, std::vector<std::string>& failures) {
    std::mutex failures_mutex;
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
      threads.emplace_back([&, c] {
        auto client = ts.client();
        for (int i = 0; i < per_client; ++i) {
          const size_t k = static_cast<size_t>(c + i) % kinds.size();
          const bool stream = (c + 2 * i) % 3 == 0;
          const Outcome r = run_request(ts.port(), *client, kinds[k], stream);
          std::string failure;
          if (!r.ok) failure = r.error;
          else if (r.text != reference[k]) failure = "kind " + std::to_string(k) + " gave '" + r.text + "', alone '" + reference[k] + "'";
          if (!failure.empty()) {
            std::lock_guard<std::mutex> lock(failures_mutex);
            failures.push_back("client " + std::to_string(c) + " request " + std::to_string(i) +
                               (stream ? " (stream): " : ": ") + failure);
          }
        }
      });
    }
    for (std::thread& t : threads) t.join();
  };

  // Warm-up: the allocator's arenas, httplib's threads and the batch
  // buffers reach their working size here, so what follows measures growth.
  std::vector<std::string> failures;
  round(1, failures);
  ASSERT_TRUE(failures.empty()) << failures.front();
  const int64_t rss_before = rss_bytes();
  const double steps_before = fetch_metric(ts.port(), "hy2bit_decode_steps_total");
  const double tokens_before = fetch_metric(ts.port(), "hy2bit_generated_tokens_total");
  const auto start = Clock::now();

  round(8, failures);

  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const std::string& f : failures) ADD_FAILURE() << f;
  ASSERT_TRUE(wait_metric(ts.port(), "hy2bit_slots_busy", 0));
  EXPECT_EQ(fetch_metric(ts.port(), "hy2bit_queue_depth"), 0);
  EXPECT_EQ(fetch_metric(ts.port(), "hy2bit_requests_rejected_total"), 0);
  const double tokens = fetch_metric(ts.port(), "hy2bit_generated_tokens_total") - tokens_before;
  const double steps = fetch_metric(ts.port(), "hy2bit_decode_steps_total") - steps_before;
  EXPECT_GE(tokens, kClients * 8 * 6) << "most replies run their 8 tokens";
  // Batching: with 16 clients on 4 slots, a step decodes several slots.
  EXPECT_LT(steps, tokens / 2) << steps << " decode steps for " << tokens << " tokens";
  // Memory: 128 requests must leave nothing behind. The bound is generous
  // (malloc keeps freed arenas of up to 16 threads, and ASan's quarantine
  // holds freed blocks) yet far below what a leak of the replies, KV caches
  // (4 x 256 x 2 layers x 512 B) or per-request logits would add up to.
  const int64_t grown = rss_bytes() - rss_before;
  EXPECT_LT(grown, int64_t{64} << 20) << "RSS grew by " << grown / 1024 << " KiB";
  std::printf("[ load ] %d requests, %.0f tokens in %.2f s: %.1f tokens/s, %.2f tokens per decode step, RSS %+lld KiB\n",
              kClients * 8, tokens, seconds, tokens / seconds, tokens / std::max(steps, 1.0),
              static_cast<long long>(grown / 1024));
}

}  // namespace
}  // namespace hy2bit::server::test
