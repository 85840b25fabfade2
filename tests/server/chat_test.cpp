// /v1/chat/completions over real loopback HTTP: the response shape the
// openai client reads, the same text the library's generate() gives,
// streaming with exact SSE framing, thinking control, usage and finish_reason.
#include <gtest/gtest.h>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "server/responses.h"
#include "server/server_test_util.h"

namespace hy2bit::server::test {
namespace {

// The reply generate() gives for `messages` on a fresh session: what the
// server must return for the same options.
GenerateResult library_reply(const std::vector<ChatMessage>& messages, Thinking thinking,
                             const GenerateOptions& options) {
  const Model& model = *tiny_model();
  Result<std::vector<int32_t>> prompt =
      tokenize(model, render_chat(model, messages, thinking), {.add_bos = false, .parse_special = true});
  EXPECT_TRUE(prompt.ok());
  Result<std::unique_ptr<Session>> session = Session::create(tiny_model(), {.n_ctx = 512, .n_batch = 512});
  EXPECT_TRUE(session.ok());
  Result<GenerateResult> r = generate(**session, *prompt, options);
  EXPECT_TRUE(r.ok());
  return *r;
}

std::string answer_of(const std::string& text) {
  ChatReplySplitter s;
  s.push(text);
  s.finish();
  return s.content();
}

TEST(ServerChat, RoundTripHasTheOpenAiShapeAndTheLibrarysText) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply r = post_json(*client, "/v1/chat/completions",
                                R"({"model": "hy-tiny", "messages": [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Hello there"}],
                                    "max_tokens": 12, "temperature": 0, "seed": 7})");
  ASSERT_EQ(r.status, 200) << r.text;
  const json& b = r.body;
  EXPECT_EQ(b["object"], "chat.completion");
  EXPECT_EQ(b["model"], "hy-tiny");
  EXPECT_EQ(b["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  EXPECT_TRUE(b["created"].is_number_integer());
  ASSERT_EQ(b["choices"].size(), 1u);
  const json& c = b["choices"][0];
  EXPECT_EQ(c["index"], 0);
  EXPECT_EQ(c["message"]["role"], "assistant");
  EXPECT_TRUE(c["logprobs"].is_null());

  GenerateOptions options;
  options.max_tokens = 12;
  options.sampling.temperature = 0;
  options.sampling.seed = 7;
  const GenerateResult expected = library_reply({{Role::kSystem, "Be brief."}, {Role::kUser, "Hello there"}},
                                                Thinking::kDefault, options);
  EXPECT_EQ(c["message"]["content"], answer_of(expected.text));
  EXPECT_EQ(c["finish_reason"], expected.finish == FinishReason::kStop ? "stop" : "length");
  EXPECT_EQ(b["usage"]["prompt_tokens"], expected.n_prompt);
  EXPECT_EQ(b["usage"]["completion_tokens"], static_cast<int64_t>(expected.tokens.size()));
  EXPECT_EQ(b["usage"]["total_tokens"], expected.n_prompt + static_cast<int64_t>(expected.tokens.size()));
}

TEST(ServerChat, SameSeedSameReplyAndMaxCompletionTokens) {
  TestServer ts;
  auto client = ts.client();
  const std::string body = R"({"messages": [{"role": "user", "content": "tell me"}], "max_completion_tokens": 6,
                               "seed": 1234, "temperature": 0.9, "top_k": 40, "top_p": 0.95, "min_p": 0.01,
                               "repetition_penalty": 1.1, "stop": ["\n\n\n"]})";
  const JsonReply a = post_json(*client, "/v1/chat/completions", body);
  const JsonReply b = post_json(*client, "/v1/chat/completions", body);
  ASSERT_EQ(a.status, 200) << a.text;
  ASSERT_EQ(b.status, 200) << b.text;
  EXPECT_EQ(a.body["choices"][0]["message"]["content"], b.body["choices"][0]["message"]["content"]);
  EXPECT_LE(a.body["usage"]["completion_tokens"].get<int>(), 6);
  if (a.body["choices"][0]["finish_reason"] == "length") {
    EXPECT_EQ(a.body["usage"]["completion_tokens"], 6);
  }
}

TEST(ServerChat, ContentPartsAndDeveloperRoleAreAccepted) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply parts = post_json(*client, "/v1/chat/completions",
                                    R"({"messages": [{"role": "developer", "content": "sys"},
                                        {"role": "user", "content": [{"type": "text", "text": "a"},
                                                                     {"type": "text", "text": "b"}]}],
                                        "max_tokens": 1, "temperature": 0})");
  const JsonReply plain = post_json(*client, "/v1/chat/completions",
                                    R"({"messages": [{"role": "system", "content": "sys"},
                                        {"role": "user", "content": "a\nb"}], "max_tokens": 1, "temperature": 0})");
  ASSERT_EQ(parts.status, 200) << parts.text;
  ASSERT_EQ(plain.status, 200) << plain.text;
  EXPECT_EQ(parts.body["usage"]["prompt_tokens"], plain.body["usage"]["prompt_tokens"]);
  EXPECT_EQ(parts.body["choices"][0]["message"]["content"], plain.body["choices"][0]["message"]["content"]);
}

TEST(ServerChat, StreamingUsesSseFramingAndMatchesTheWholeReply) {
  TestServer ts;
  const std::string request = R"({"messages": [{"role": "user", "content": "Stream this"}], "max_tokens": 10,
                                  "temperature": 0, "stream": true, "stream_options": {"include_usage": true}})";
  const RawResponse r = raw_exchange(ts.port(), raw_post("/v1/chat/completions", request));
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.headers.at("content-type").rfind("text/event-stream", 0), 0u);
  EXPECT_EQ(r.headers.at("transfer-encoding"), "chunked");

  const std::vector<std::string> events = sse_payloads(r.body);
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content;
  std::string id;
  int finish_chunks = 0;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    if (id.empty()) id = chunk["id"];
    EXPECT_EQ(chunk["id"], id) << "every chunk of one reply has one id";
    if (i + 2 == events.size()) {  // the usage chunk
      EXPECT_TRUE(chunk["choices"].empty());
      EXPECT_EQ(chunk["usage"]["completion_tokens"], 10);
      continue;
    }
    ASSERT_EQ(chunk["choices"].size(), 1u);
    const json& choice = chunk["choices"][0];
    if (i == 0) {
      EXPECT_EQ(choice["delta"]["role"], "assistant");
    }
    if (choice["delta"].contains("content")) content += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) {
      ++finish_chunks;
      EXPECT_EQ(choice["finish_reason"], "length");
    }
  }
  EXPECT_EQ(finish_chunks, 1);

  auto client = ts.client();
  const JsonReply whole = post_json(*client, "/v1/chat/completions",
                                    R"({"messages": [{"role": "user", "content": "Stream this"}], "max_tokens": 10,
                                        "temperature": 0})");
  ASSERT_EQ(whole.status, 200);
  EXPECT_EQ(content, whole.body["choices"][0]["message"]["content"]);
}

TEST(ServerChat, ThinkingOffAddsTheEmptyThinkBlockToThePrompt) {
  TestServer ts;
  auto client = ts.client();
  auto prompt_tokens = [&](const std::string& body) {
    const JsonReply r = post_json(*client, "/v1/chat/completions", body);
    EXPECT_EQ(r.status, 200) << r.text;
    return r.body["usage"]["prompt_tokens"].get<int64_t>();
  };
  const int64_t on = prompt_tokens(R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1})");
  const int64_t off = prompt_tokens(R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1,
                                        "chat_template_kwargs": {"enable_thinking": false}})");
  const Model& model = *tiny_model();
  Result<std::vector<int32_t>> block = tokenize(model, "<think>\n\n</think>\n", {.add_bos = false, .parse_special = true});
  ASSERT_TRUE(block.ok());
  EXPECT_EQ(off, on + static_cast<int64_t>(block->size()));
  // A user message starting with /no_think turns thinking off the same way.
  const int64_t no_think = prompt_tokens(R"({"messages": [{"role": "user", "content": "/no_think hi"}], "max_tokens": 1})");
  const int64_t no_think_off = prompt_tokens(R"({"messages": [{"role": "user", "content": "/no_think hi"}],
                                                 "max_tokens": 1, "chat_template_kwargs": {"enable_thinking": false}})");
  EXPECT_EQ(no_think, no_think_off);
  const Result<std::vector<int32_t>> text = tokenize(model, "/no_think hi", {.add_bos = false, .parse_special = true});
  const Result<std::vector<int32_t>> plain = tokenize(model, "hi", {.add_bos = false, .parse_special = true});
  EXPECT_EQ(no_think, off + static_cast<int64_t>(text->size() - plain->size()));
}

// The tiny model's random weights never write <think>, so the split itself
// is checked on a scripted reply through the same code the routes use.
TEST(ServerChat, ThinkingBecomesReasoningContentInMessagesAndDeltas) {
  const std::string reply = "<think>\nweigh it\n</think>\n<answer>\nforty-two\n</answer>";
  for (size_t cut = 0; cut <= reply.size(); ++cut) {
    ChatReplySplitter splitter;
    std::string reasoning_deltas, content_deltas;
    auto take = [&](const std::vector<ReplySegment>& segments) {
      for (const ReplySegment& s : segments) (s.part == ReplyPart::kThinking ? reasoning_deltas : content_deltas) += s.text;
    };
    take(splitter.push(reply.substr(0, cut)));
    take(splitter.push(reply.substr(cut)));
    take(splitter.finish());
    ASSERT_EQ(splitter.reasoning(), "weigh it") << "cut at " << cut;
    ASSERT_EQ(splitter.content(), "forty-two") << "cut at " << cut;
    ASSERT_EQ(reasoning_deltas, "weigh it");
    ASSERT_EQ(content_deltas, "forty-two");
  }
  GenerateResult result;
  result.n_prompt = 3;
  const json with = chat_completion_json({"id", 1, "m"}, "forty-two", "weigh it", FinishReason::kStop, result, nullptr);
  EXPECT_EQ(with["choices"][0]["message"]["reasoning_content"], "weigh it");
  EXPECT_EQ(with["choices"][0]["message"]["content"], "forty-two");
  const json without = chat_completion_json({"id", 1, "m"}, "plain", "", FinishReason::kLength, result, nullptr);
  EXPECT_FALSE(without["choices"][0]["message"].contains("reasoning_content"));
  EXPECT_EQ(without["choices"][0]["finish_reason"], "length");
}

TEST(ServerChat, LogprobsOfTheReply) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply r = post_json(*client, "/v1/chat/completions",
                                R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4,
                                    "temperature": 0, "logprobs": true, "top_logprobs": 3})");
  ASSERT_EQ(r.status, 200) << r.text;
  const json& content = r.body["choices"][0]["logprobs"]["content"];
  ASSERT_EQ(content.size(), r.body["usage"]["completion_tokens"].get<size_t>());
  for (const json& t : content) {
    ASSERT_EQ(t["top_logprobs"].size(), 3u);
    // Greedy: the chosen token is the most likely one.
    EXPECT_FLOAT_EQ(t["logprob"].get<float>(), t["top_logprobs"][0]["logprob"].get<float>());
    EXPECT_LE(t["logprob"].get<float>(), 0.0f);
    EXPECT_TRUE(t["bytes"].is_array());
  }
}

TEST(ServerBasics, ModelsHealthAndMetrics) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply health = get_json(*client, "/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body["status"], "ok");
  const JsonReply models = get_json(*client, "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_EQ(models.body["object"], "list");
  ASSERT_EQ(models.body["data"].size(), 1u);
  EXPECT_EQ(models.body["data"][0]["id"], "hy-tiny");
  EXPECT_EQ(models.body["data"][0]["object"], "model");
  EXPECT_EQ(get_json(*client, "/v1/models/hy-tiny").status, 200);
  EXPECT_EQ(get_json(*client, "/v1/models/other").status, 404);

  ASSERT_EQ(post_json(*client, "/v1/chat/completions",
                      R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "temperature": 0})")
                .status,
            200);
  httplib::Result m = client->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  EXPECT_EQ(metric(m->body, "hy2bit_requests_total"), 1);
  EXPECT_EQ(metric(m->body, "hy2bit_generated_tokens_total"), 3);
  EXPECT_GT(metric(m->body, "hy2bit_prompt_tokens_total"), 0);
  EXPECT_GE(metric(m->body, "hy2bit_tokens_per_second"), 0);
  EXPECT_EQ(metric(m->body, "hy2bit_queue_depth"), 0);
  EXPECT_EQ(metric(m->body, "hy2bit_slots_busy"), 0);
  EXPECT_EQ(metric(m->body, "hy2bit_slots_total"), 2);
  EXPECT_NE(m->body.find("# TYPE hy2bit_requests_total counter"), std::string::npos);
}

TEST(ServerBasics, TokenizeAndDetokenizeRoundTrip) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply t = post_json(*client, "/tokenize", R"({"prompt": "hello world", "add_special_tokens": false})");
  ASSERT_EQ(t.status, 200) << t.text;
  Result<std::vector<int32_t>> expected = tokenize(*tiny_model(), "hello world", {.add_bos = false, .parse_special = true});
  EXPECT_EQ(t.body["tokens"].get<std::vector<int32_t>>(), *expected);
  const JsonReply d = post_json(*client, "/detokenize", json{{"tokens", t.body["tokens"]}}.dump());
  ASSERT_EQ(d.status, 200) << d.text;
  EXPECT_EQ(d.body["prompt"], "hello world");
  const JsonReply info = get_json(*client, "/tokenizer_info");
  ASSERT_EQ(info.status, 200);
  EXPECT_TRUE(info.body["eos_token"].is_string());
  EXPECT_FALSE(info.body["eos_token"].get<std::string>().empty());
}

}  // namespace
}  // namespace hy2bit::server::test
