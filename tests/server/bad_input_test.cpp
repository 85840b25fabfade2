// Hostile and mistaken requests: each gets a 4xx with an OpenAI-style error
// body, and the server keeps serving afterwards. Also the API key, the
// body-size limit and the request validators on their own.
#include <gtest/gtest.h>

#include "server/request_parsing.h"
#include "server/server_test_util.h"

namespace hy2bit::server::test {
namespace {

struct BadCase {
  const char* path;
  std::string body;
  int status;
  const char* why;
};

std::string chat_with(const std::string& fields) {
  return R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, )" + fields + "}";
}

void expect_still_serving(TestServer& ts) {
  auto client = ts.client();
  const JsonReply r = post_json(*client, "/v1/chat/completions",
                                R"({"messages": [{"role": "user", "content": "ok?"}], "max_tokens": 2})");
  EXPECT_EQ(r.status, 200) << r.text;
}

TEST(ServerBadInput, EveryBadRequestGetsA4xxWithAnErrorBody) {
  TestServer ts;
  const std::string long_text(20000, 'a');  // far more than the 512-token context
  const std::vector<BadCase> cases = {
      {"/v1/chat/completions", R"({"messages": [)", 400, "truncated JSON"},
      {"/v1/chat/completions", "not json at all", 400, "not JSON"},
      {"/v1/chat/completions", "", 400, "empty body"},
      {"/v1/chat/completions", "[1, 2]", 400, "array body"},
      {"/v1/chat/completions", R"({"messages": "hi"})", 400, "messages not an array"},
      {"/v1/chat/completions", R"({"messages": []})", 400, "no messages"},
      {"/v1/chat/completions", R"({"max_tokens": 3})", 400, "messages missing"},
      {"/v1/chat/completions", R"({"messages": [{"role": "tool"}]})", 400, "tool message without content"},
      {"/v1/chat/completions", R"({"messages": [{"role": "wizard", "content": "x"}]})", 400, "unknown role"},
      {"/v1/chat/completions", R"({"messages": [{"content": "x"}]})", 400, "role missing"},
      {"/v1/chat/completions", R"({"messages": [{"role": 3, "content": "x"}]})", 400, "role not a string"},
      {"/v1/chat/completions", R"({"messages": [{"role": "user"}]})", 400, "content missing"},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": 5}]})", 400, "content a number"},
      {"/v1/chat/completions", R"({"messages": ["hi"]})", 400, "message not an object"},
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})", 400,
       "image content"},
      {"/v1/chat/completions", chat_with(R"("temperature": "hot")"), 400, "temperature a string"},
      {"/v1/chat/completions", chat_with(R"("temperature": -1)"), 400, "negative temperature"},
      {"/v1/chat/completions", chat_with(R"("top_p": 0)"), 400, "top_p 0"},
      {"/v1/chat/completions", chat_with(R"("top_p": 1.5)"), 400, "top_p above 1"},
      {"/v1/chat/completions", chat_with(R"("top_k": "x")"), 400, "top_k a string"},
      {"/v1/chat/completions", chat_with(R"("min_p": 2)"), 400, "min_p above 1"},
      {"/v1/chat/completions", chat_with(R"("repetition_penalty": 0)"), 400, "repetition_penalty 0"},
      {"/v1/chat/completions", chat_with(R"("max_tokens": -1)"), 400, "negative max_tokens"},
      {"/v1/chat/completions", chat_with(R"("max_tokens": 2.5)"), 400, "fractional max_tokens"},
      {"/v1/chat/completions", chat_with(R"("max_completion_tokens": 1e30)"), 400, "huge max_completion_tokens"},
      {"/v1/chat/completions", chat_with(R"("n": 17)"), 400, "n = 17"},
      {"/v1/chat/completions", chat_with(R"("stream": "yes")"), 400, "stream a string"},
      {"/v1/chat/completions", chat_with(R"("stop": 5)"), 400, "stop a number"},
      {"/v1/chat/completions", chat_with(R"("stop": [1])"), 400, "stop holding a number"},
      {"/v1/chat/completions", chat_with(R"("seed": 1.5)"), 400, "fractional seed"},
      {"/v1/chat/completions", chat_with(R"("chat_template_kwargs": {"enable_thinking": "no"})"), 400,
       "enable_thinking a string"},
      {"/v1/chat/completions", chat_with(R"("tools": [{"type": "function"}])"), 400, "tools"},
      {"/v1/chat/completions", chat_with(R"("response_format": {"type": "xml"})"), 400, "unknown response_format"},
      {"/v1/chat/completions", chat_with(R"("response_format": {"type": "json_schema", "json_schema": {"schema": {"type": "string", "pattern": "a"}}})"), 400, "unsupported schema keyword"},
      {"/v1/chat/completions", chat_with(R"("tool_choice": "required")"), 400, "tool_choice without tools"},
      {"/v1/chat/completions", chat_with(R"("tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": {"type": "function", "function": {"name": "g"}})"), 400, "tool_choice names an unknown tool"},
      {"/v1/chat/completions", chat_with(R"("tools": [{"type": "function", "function": {"name": "f"}}], "response_format": {"type": "json_object"})"), 400, "tools and response_format"},
      {"/v1/chat/completions", chat_with(R"("top_logprobs": 50, "logprobs": true)"), 400, "top_logprobs 50"},
      {"/v1/chat/completions",
       R"({"messages": [{"role": "user", "content": ")" + long_text + R"("}]})", 400, "prompt longer than the context"},
      {"/v1/chat/completions", R"({"messages": [{"role": "user", "content": "bad \uD800 surrogate"}]})", 400,
       "lone surrogate"},
      {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\xff\xfe\"}]}", 400,
       "invalid UTF-8"},
      {"/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\xc3\"}]}", 400,
       "truncated UTF-8"},
      {"/v1/chat/completions", std::string(100, '[') + std::string(100, ']'), 400, "deep nesting"},
      {"/v1/completions", R"({"prompt": 5})", 400, "prompt a number"},
      {"/v1/completions", R"({"prompt": []})", 400, "empty prompt array"},
      {"/v1/completions", R"({"prompt": [[]]})", 400, "empty token list"},
      {"/v1/completions", R"({"prompt": [1, 99999]})", 400, "token id past the vocabulary"},
      {"/v1/completions", R"({"prompt": [-1]})", 400, "negative token id"},
      {"/v1/completions", R"({"prompt": [1, "a"]})", 400, "mixed token list"},
      {"/v1/completions", R"({"prompt": ["a", "b"], "stream": true})", 400, "stream with two prompts"},
      {"/v1/completions", R"({"prompt": "a", "logprobs": 50})", 400, "logprobs 50"},
      {"/v1/completions", R"({"prompt": "a", "echo": 1})", 400, "echo a number"},
      {"/v1/completions", R"({"prompt": "a", "best_of": 3})", 400, "best_of 3"},
      {"/v1/completions", R"({"prompt": "a", "suffix": "z"})", 400, "suffix"},
      {"/v1/completions", R"({"prompt": ")" + long_text + R"("})", 400, "prompt longer than the context"},
      {"/v1/completions", "{\"prompt\": \"\xed\xa0\x80\"}", 400, "UTF-8 encoded surrogate"},
      {"/tokenize", R"({"prompt": 3})", 400, "tokenize a number"},
      {"/detokenize", R"({"tokens": [123456789]})", 400, "detokenize a bad id"},
      {"/v1/nowhere", "{}", 404, "unknown path"},
  };
  auto client = ts.client();
  for (const BadCase& c : cases) {
    const JsonReply r = post_json(*client, c.path, c.body);
    EXPECT_EQ(r.status, c.status) << c.why << ": " << r.text;
    expect_error_body(r.body, c.why);
  }
  // The context case is named as such, as OpenAI names it.
  const JsonReply too_long = post_json(
      *client, "/v1/chat/completions", R"({"messages": [{"role": "user", "content": ")" + long_text + R"("}]})");
  EXPECT_EQ(too_long.body["error"]["code"], "context_length_exceeded");
  // Wrong method on a known path.
  const JsonReply get_chat = get_json(*client, "/v1/chat/completions");
  EXPECT_EQ(get_chat.status, 404);
  expect_error_body(get_chat.body, "GET on a POST endpoint");

  EXPECT_EQ(fetch_metric(ts.port(), "hy2bit_requests_total"), 0) << "no bad request reached the scheduler";
  EXPECT_GE(fetch_metric(ts.port(), "hy2bit_requests_invalid_total"), static_cast<double>(cases.size()));
  expect_still_serving(ts);
}

TEST(ServerBadInput, OversizedBodyGets413AndTheServerGoesOn) {
  ServerOptions options = TestServer::default_options();
  options.max_body_bytes = 16 * 1024;
  TestServer ts(options);
  auto client = ts.client();
  const std::string big = R"({"messages": [{"role": "user", "content": ")" + std::string(64 * 1024, 'x') + R"("}]})";
  const JsonReply r = post_json(*client, "/v1/chat/completions", big);
  EXPECT_EQ(r.status, 413) << r.text;
  expect_error_body(r.body, "oversized body");
  EXPECT_EQ(r.body["error"]["code"], "body_too_large");
  // Under the limit, any Content-Type is read as JSON; curl -d labels JSON as
  // a form, which httplib alone would cap at 8 KiB.
  const std::string padded =
      R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1})" + std::string(12 * 1024, ' ');
  httplib::Result form = client->Post("/v1/chat/completions", padded, "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200) << form->body;
  expect_still_serving(ts);
}

TEST(ServerBadInput, GarbageOnTheSocketDoesNotHurt) {
  TestServer ts;
  const std::vector<std::string> garbage = {
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 this is not HTTP\r\n\r\n",
      "GET /health\r\n\r\n",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n{}",
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 4\r\n\r\n{\"a\"\x01\x02 junk\r\n\r\n",
      std::string(20000, 'A') + "\r\n\r\n",
  };
  for (const std::string& g : garbage) {
    // The server may answer or just close (after its 5 s read timeout):
    // either is fine, so the client gives up after 1 s.
    const RawResponse r = raw_exchange(ts.port(), g, -1, 1, /*timeout_is_failure=*/false);
    if (r.status != 0) {
      EXPECT_GE(r.status, 400) << r.raw.substr(0, 200);
    }
  }
  expect_still_serving(ts);
}

TEST(ServerBadInput, ApiKeyIsRequiredWhenSet) {
  ServerOptions options = TestServer::default_options();
  options.api_key = "sk-test-123";
  TestServer ts(options);
  auto client = ts.client();
  const std::string body = R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1})";
  const JsonReply none = post_json(*client, "/v1/chat/completions", body);
  EXPECT_EQ(none.status, 401);
  expect_error_body(none.body, "no key");
  EXPECT_EQ(none.body["error"]["code"], "invalid_api_key");
  EXPECT_EQ(post_json(*client, "/v1/chat/completions", body, {{"Authorization", "Bearer sk-test-12"}}).status, 401);
  EXPECT_EQ(post_json(*client, "/v1/chat/completions", body, {{"Authorization", "sk-test-123"}}).status, 401);
  EXPECT_EQ(get_json(*client, "/v1/models").status, 401);
  EXPECT_EQ(get_json(*client, "/health").status, 200);
  EXPECT_EQ(post_json(*client, "/v1/chat/completions", body, {{"Authorization", "Bearer sk-test-123"}}).status, 200);
  EXPECT_EQ(get_json(*client, "/v1/models", {{"Authorization", "Bearer sk-test-123"}}).status, 200);
}

TEST(ServerBadInput, ServerOptionsAreChecked) {
  std::shared_ptr<Model> model = tiny_model();
  ServerOptions o = TestServer::default_options();
  o.parallel = 0;
  EXPECT_FALSE(Server::create(model, o).ok());
  o = TestServer::default_options();
  o.port = 70000;
  EXPECT_FALSE(Server::create(model, o).ok());
  o = TestServer::default_options();
  o.n_ctx = 4;
  EXPECT_FALSE(Server::create(model, o).ok());
  EXPECT_FALSE(Server::create(nullptr, TestServer::default_options()).ok());
  // A port already taken is an error from start(), not a crash.
  TestServer first;
  o = TestServer::default_options();
  o.port = first.port();
  Result<std::unique_ptr<Server>> second = Server::create(model, o);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE((*second)->start().ok());
}

TEST(ServerRequestParsing, ValuesAndDefaults) {
  SamplingOptions defaults;
  Result<json> body = parse_json_body(R"({"messages": [{"role": "user", "content": "x"}], "temperature": 0.5,
                                          "top_k": 5, "seed": 99, "stop": "END", "max_tokens": 7,
                                          "chat_template_kwargs": {"enable_thinking": false}})");
  ASSERT_TRUE(body.ok());
  Result<ChatRequest> r = parse_chat_request(*body, defaults, 42, 1000);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FLOAT_EQ(r->generate.sampling.temperature, 0.5f);
  EXPECT_EQ(r->generate.sampling.top_k, 5);
  EXPECT_FLOAT_EQ(r->generate.sampling.top_p, defaults.top_p);
  EXPECT_EQ(r->generate.sampling.seed, 99u);
  EXPECT_EQ(r->generate.max_tokens, 7);
  EXPECT_EQ(r->generate.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(r->thinking, Thinking::kOff);

  Result<json> plain = parse_json_body(R"({"messages": [{"role": "user", "content": "x"}]})");
  Result<ChatRequest> p = parse_chat_request(*plain, defaults, 42, 1000);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->generate.max_tokens, -1);
  EXPECT_EQ(p->generate.sampling.seed, 42u);
  EXPECT_EQ(p->thinking, Thinking::kDefault);

  Result<json> bad = parse_json_body(R"({"messages": [{"role": "user", "content": "x"}], "temperature": "warm"})");
  Result<ChatRequest> b = parse_chat_request(*bad, defaults, 42, 1000);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("temperature"), std::string::npos) << b.error().message;

  EXPECT_FALSE(parse_json_body(std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']')).ok());
  EXPECT_FALSE(parse_json_body(R"("just a string")").ok());
  // Brackets inside strings do not count as nesting.
  EXPECT_TRUE(parse_json_body(R"({"a": ")" + std::string(500, '[') + R"("})").ok());
}

}  // namespace
}  // namespace hy2bit::server::test
