// /v1/completions over loopback HTTP: raw prompts (text and token ids),
// echo + logprobs + max_tokens 0/1 exactly as lm-evaluation-harness sends
// them, with the log-probabilities checked against log_softmax of the
// logits Session::eval gives; streaming framing.
#include <gtest/gtest.h>

#include <cmath>

#include "hy2bit/text.h"
#include "server/logprobs.h"
#include "server/responses.h"
#include "server/server_test_util.h"

namespace hy2bit::server::test {
namespace {

// log p(token[i] | tokens[..i]) for i >= 1, from one all-logits evaluation.
std::vector<double> reference_logprobs(const std::vector<int32_t>& tokens) {
  Result<std::unique_ptr<Session>> session = Session::create(tiny_model(), {.n_ctx = 512, .n_batch = 512});
  EXPECT_TRUE(session.ok());
  Result<std::span<const float>> logits = (*session)->eval(tokens, /*all_logits=*/true);
  EXPECT_TRUE(logits.ok());
  const size_t n_vocab = logits->size() / tokens.size();
  std::vector<double> out;
  for (size_t i = 1; i < tokens.size(); ++i) {
    const std::span<const float> row = logits->subspan((i - 1) * n_vocab, n_vocab);
    double max = row[0];
    for (float x : row) max = std::max<double>(max, x);
    double sum = 0;
    for (float x : row) sum += std::exp(x - max);
    out.push_back(row[static_cast<size_t>(tokens[i])] - max - std::log(sum));
  }
  return out;
}

TEST(ServerCompletions, EchoLogprobsMaxTokensZeroMatchTheModel) {
  TestServer ts;
  auto client = ts.client();
  const std::string prompt = "The capital of France is Paris";
  const JsonReply r = post_json(*client, "/v1/completions",
                                json{{"model", "hy-tiny"}, {"prompt", prompt}, {"max_tokens", 0}, {"echo", true},
                                     {"logprobs", 2}, {"temperature", 0}}.dump());
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["object"], "text_completion");
  EXPECT_EQ(r.body["id"].get<std::string>().rfind("cmpl-", 0), 0u);
  const json& choice = r.body["choices"][0];
  EXPECT_EQ(choice["text"], prompt);
  EXPECT_EQ(choice["finish_reason"], "length");
  EXPECT_EQ(r.body["usage"]["completion_tokens"], 0);

  const Model& model = *tiny_model();
  std::vector<int32_t> tokens = *tokenize(model, prompt, {.add_bos = true, .parse_special = true});
  ASSERT_EQ(r.body["usage"]["prompt_tokens"], tokens.size());
  const json& lp = choice["logprobs"];
  ASSERT_EQ(lp["tokens"].size(), tokens.size());
  ASSERT_EQ(lp["token_logprobs"].size(), tokens.size());
  ASSERT_EQ(lp["top_logprobs"].size(), tokens.size());
  ASSERT_EQ(lp["text_offset"].size(), tokens.size());
  EXPECT_TRUE(lp["token_logprobs"][0].is_null());
  EXPECT_TRUE(lp["top_logprobs"][0].is_null());

  const std::vector<double> expected = reference_logprobs(tokens);
  std::string joined;
  for (size_t i = 0; i < tokens.size(); ++i) {
    EXPECT_EQ(lp["tokens"][i], token_to_piece(model, tokens[i]));
    if (i == 0) continue;
    EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), expected[i - 1], 1e-3) << "token " << i;
    ASSERT_EQ(lp["top_logprobs"][i].size(), 2u);
    double best = -1e30;
    for (const auto& [text, value] : lp["top_logprobs"][i].items()) best = std::max(best, value.get<double>());
    EXPECT_GE(best + 1e-6, lp["token_logprobs"][i].get<double>());
    // Offsets index the returned text: the BOS the server added takes no room.
    const size_t offset = lp["text_offset"][i].get<size_t>();
    EXPECT_EQ(prompt.substr(offset, lp["tokens"][i].get<std::string>().size()), lp["tokens"][i].get<std::string>());
  }
}

TEST(ServerCompletions, TokenPromptsEchoPlusOneTokenAsLmEvalSendsThem) {
  TestServer ts;
  auto client = ts.client();
  const Model& model = *tiny_model();
  const std::vector<int32_t> a = *tokenize(model, "one two three", {.add_bos = false, .parse_special = true});
  const std::vector<int32_t> b = *tokenize(model, "four five", {.add_bos = false, .parse_special = true});
  const JsonReply r = post_json(*client, "/v1/completions",
                                json{{"prompt", {a, b}}, {"max_tokens", 1}, {"echo", true}, {"logprobs", 1},
                                     {"temperature", 0}, {"seed", 1234}}.dump());
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body["choices"].size(), 2u);
  int64_t prompt_tokens = 0;
  for (size_t c = 0; c < 2; ++c) {
    const std::vector<int32_t>& tokens = c == 0 ? a : b;
    const json& choice = r.body["choices"][c];
    EXPECT_EQ(choice["index"], c);
    const json& lp = choice["logprobs"];
    // Every prompt token (as given: no BOS added) plus the one generated.
    ASSERT_EQ(lp["token_logprobs"].size(), tokens.size() + 1);
    const std::vector<double> expected = reference_logprobs(tokens);
    for (size_t i = 1; i < tokens.size(); ++i)
      EXPECT_NEAR(lp["token_logprobs"][i].get<double>(), expected[i - 1], 1e-3);
    // lm-eval's greedy check: each token's log p against the best of top_logprobs.
    const json& last = lp["top_logprobs"][tokens.size()];
    EXPECT_NEAR(lp["token_logprobs"][tokens.size()].get<double>(), last.begin().value().get<double>(), 1e-6);
    prompt_tokens += static_cast<int64_t>(tokens.size());
  }
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], prompt_tokens);
}

TEST(ServerCompletions, PlainCompletionAndStreamAgree) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply whole = post_json(*client, "/v1/completions",
                                    R"({"prompt": "Once upon a time", "max_tokens": 9, "temperature": 0})");
  ASSERT_EQ(whole.status, 200) << whole.text;
  EXPECT_TRUE(whole.body["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(whole.body["usage"]["completion_tokens"], 9);

  const RawResponse r = raw_exchange(
      ts.port(), raw_post("/v1/completions", R"({"prompt": "Once upon a time", "max_tokens": 9, "temperature": 0,
                                                 "stream": true, "echo": true})"));
  ASSERT_EQ(r.status, 200) << r.raw;
  const std::vector<std::string> events = sse_payloads(r.body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  std::string text;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const json chunk = json::parse(events[i]);
    EXPECT_EQ(chunk["object"], "text_completion");
    text += chunk["choices"][0]["text"].get<std::string>();
    if (i + 2 == events.size()) {
      EXPECT_EQ(chunk["choices"][0]["finish_reason"], "length");
    }
  }
  EXPECT_EQ(text, "Once upon a time" + whole.body["choices"][0]["text"].get<std::string>());
}

TEST(ServerCompletions, DefaultMaxTokensIsSixteen) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply r = post_json(*client, "/v1/completions", R"({"prompt": "x", "temperature": 0})");
  ASSERT_EQ(r.status, 200) << r.text;
  if (r.body["choices"][0]["finish_reason"] == "length") {
    EXPECT_EQ(r.body["usage"]["completion_tokens"], 16);
  }
}

TEST(ServerLogprobs, MatchesANaiveLogSoftmax) {
  const std::vector<float> logits = {1.0f, 3.0f, -2.0f, 3.0f, 0.5f};
  const TokenLogprob t = token_logprob(logits, 4, 3);
  double sum = 0;
  for (float x : logits) sum += std::exp(static_cast<double>(x));
  EXPECT_NEAR(t.logprob, 0.5 - std::log(sum), 1e-6);
  ASSERT_EQ(t.top.size(), 3u);
  EXPECT_EQ(t.top[0].first, 1);  // ties keep the lower id first
  EXPECT_EQ(t.top[1].first, 3);
  EXPECT_EQ(t.top[2].first, 0);
  EXPECT_NEAR(t.top[2].second, 1.0 - std::log(sum), 1e-6);
  EXPECT_TRUE(token_logprob(logits, 0, 0).top.empty());
  // Large logits do not overflow.
  const std::vector<float> big = {1000.0f, 1000.0f};
  EXPECT_NEAR(token_logprob(big, 0, 1).logprob, -std::log(2.0), 1e-6);
}

TEST(ServerLogprobs, CodePointsAndOffsets) {
  EXPECT_EQ(count_code_points("abc"), 3u);
  EXPECT_EQ(count_code_points("\xC3\xA9t\xE2\x82\xAC"), 3u);  // é t €
  EXPECT_EQ(count_code_points(""), 0u);
}

}  // namespace
}  // namespace hy2bit::server::test
