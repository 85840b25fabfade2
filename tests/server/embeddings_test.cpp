// The embedding endpoints over loopback HTTP: /v1/embeddings in each input
// shape (string, strings, token ids, arrays of token ids), base64 bytes
// equal to the float vector, index order and usage, the vector equal to
// hy2bit::embed for the same text; ollama's /api/embed (normalised,
// truncate) and legacy /api/embeddings (unnormalised); bad inputs are 400s
// naming the field; embeddings and chat at once both succeed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <thread>

#include "hy2bit/embedding.h"
#include "server/server_test_util.h"
#include "text/base64.h"

namespace hy2bit::server::test {
namespace {

// What the core API gives for `text` (the reference the server must match).
std::vector<float> core_embedding(const std::string& text, bool normalize = true) {
  Result<std::unique_ptr<Session>> session = Session::create(tiny_model(), {.n_ctx = 512, .n_batch = 512});
  EXPECT_TRUE(session.ok());
  Result<std::vector<int32_t>> tokens = tokenize_for_embedding(*tiny_model(), text);
  EXPECT_TRUE(tokens.ok());
  Result<std::vector<float>> e = embed(**session, *tokens, {.normalize = normalize});
  EXPECT_TRUE(e.ok()) << e.error().message;
  return *e;
}

size_t n_tokens(const std::string& text) { return tokenize_for_embedding(*tiny_model(), text)->size(); }

void expect_close(const json& actual, const std::vector<float>& expected, const std::string& where) {
  ASSERT_TRUE(actual.is_array()) << where;
  ASSERT_EQ(actual.size(), expected.size()) << where;
  double worst = 0;
  for (size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(actual[i].get<double>() - expected[i]));
  EXPECT_LT(worst, 1e-5) << where;
}

double norm(const json& v) {
  double s = 0;
  for (const json& x : v) s += x.get<double>() * x.get<double>();
  return std::sqrt(s);
}

std::vector<float> decode_base64_floats(const std::string& text) {
  const std::optional<std::string> bytes = text::base64_decode(text);
  EXPECT_TRUE(bytes.has_value()) << "not base64: " << text;
  if (!bytes) return {};
  EXPECT_EQ(bytes->size() % 4, 0u);
  std::vector<float> floats(bytes->size() / 4);
  std::memcpy(floats.data(), bytes->data(), floats.size() * 4);
  return floats;
}

const std::string kText = "Embeddings turn text into vectors.";

TEST(ServerEmbeddings, StringInputMatchesTheCoreApi) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply r = post_json(*client, "/v1/embeddings",
                                json{{"model", "hy-tiny"}, {"input", kText}, {"user", "someone"}}.dump());
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body["object"], "list");
  EXPECT_EQ(r.body["model"], "hy-tiny");
  ASSERT_EQ(r.body["data"].size(), 1u);
  EXPECT_EQ(r.body["data"][0]["object"], "embedding");
  EXPECT_EQ(r.body["data"][0]["index"], 0);
  expect_close(r.body["data"][0]["embedding"], core_embedding(kText), "string input");
  EXPECT_NEAR(norm(r.body["data"][0]["embedding"]), 1.0, 1e-5);
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], n_tokens(kText));
  EXPECT_EQ(r.body["usage"]["total_tokens"], n_tokens(kText));
  EXPECT_GE(fetch_metric(ts.port(), "hy2bit_embeddings_total"), 1);
}

TEST(ServerEmbeddings, ArrayOfStringsKeepsIndexOrderAndSumsUsage) {
  TestServer ts;
  auto client = ts.client();
  const std::vector<std::string> texts = {"first text", "a second, longer piece of text", "third"};
  const JsonReply r = post_json(*client, "/v1/embeddings", json{{"input", texts}}.dump());
  ASSERT_EQ(r.status, 200) << r.text;
  ASSERT_EQ(r.body["data"].size(), texts.size());
  size_t total = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(r.body["data"][i]["index"], i);
    expect_close(r.body["data"][i]["embedding"], core_embedding(texts[i]), "input " + std::to_string(i));
    total += n_tokens(texts[i]);
  }
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], total);
  EXPECT_NE(r.body["data"][0]["embedding"], r.body["data"][1]["embedding"]);
}

TEST(ServerEmbeddings, TokenIdInputsAreUsedAsGiven) {
  TestServer ts;
  auto client = ts.client();
  const std::vector<int32_t> ids = *tokenize_for_embedding(*tiny_model(), kText);
  const JsonReply one = post_json(*client, "/v1/embeddings", json{{"input", ids}}.dump());
  ASSERT_EQ(one.status, 200) << one.text;
  expect_close(one.body["data"][0]["embedding"], core_embedding(kText), "token ids");
  EXPECT_EQ(one.body["usage"]["prompt_tokens"], ids.size());

  const std::vector<int32_t> short_ids(ids.begin(), ids.begin() + 3);
  const JsonReply two = post_json(*client, "/v1/embeddings", json{{"input", json::array({ids, short_ids})}}.dump());
  ASSERT_EQ(two.status, 200) << two.text;
  ASSERT_EQ(two.body["data"].size(), 2u);
  expect_close(two.body["data"][0]["embedding"], core_embedding(kText), "arrays of token ids [0]");
  EXPECT_EQ(two.body["usage"]["prompt_tokens"], ids.size() + 3);
}

TEST(ServerEmbeddings, InputLongerThanABatchIsPooledAcrossChunks) {
  ServerOptions options = TestServer::default_options();
  options.n_batch = 4;  // the input spreads over several scheduler steps
  TestServer ts(options);
  auto client = ts.client();
  const std::string text = kText + " " + kText + " and then some more words";
  ASSERT_GT(n_tokens(text), 12u);
  const JsonReply r = post_json(*client, "/v1/embeddings", json{{"input", text}}.dump());
  ASSERT_EQ(r.status, 200) << r.text;
  expect_close(r.body["data"][0]["embedding"], core_embedding(text), "chunked input");
  EXPECT_EQ(r.body["usage"]["prompt_tokens"], n_tokens(text));
}

TEST(ServerEmbeddings, Base64IsLittleEndianFloat32OfTheVector) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply as_float = post_json(*client, "/v1/embeddings", json{{"input", kText}, {"encoding_format", "float"}}.dump());
  const JsonReply as_b64 = post_json(*client, "/v1/embeddings", json{{"input", kText}, {"encoding_format", "base64"}}.dump());
  ASSERT_EQ(as_float.status, 200) << as_float.text;
  ASSERT_EQ(as_b64.status, 200) << as_b64.text;
  ASSERT_TRUE(as_b64.body["data"][0]["embedding"].is_string());
  const std::vector<float> decoded = decode_base64_floats(as_b64.body["data"][0]["embedding"].get<std::string>());
  const json& floats = as_float.body["data"][0]["embedding"];
  ASSERT_EQ(decoded.size(), floats.size());
  for (size_t i = 0; i < decoded.size(); ++i) EXPECT_EQ(decoded[i], floats[i].get<float>()) << i;
}

TEST(ServerEmbeddings, OllamaEmbedIsNormalisedAndLegacyIsNot) {
  TestServer ts;
  auto client = ts.client();
  const JsonReply embed = post_json(*client, "/api/embed",
                                    json{{"model", "hy-tiny"}, {"input", json::array({kText, "other"})},
                                         {"keep_alive", "5m"}, {"options", json::object()}}.dump());
  ASSERT_EQ(embed.status, 200) << embed.text;
  EXPECT_EQ(embed.body["model"], "hy-tiny");
  ASSERT_EQ(embed.body["embeddings"].size(), 2u);
  expect_close(embed.body["embeddings"][0], core_embedding(kText), "/api/embed");
  EXPECT_EQ(embed.body["prompt_eval_count"], n_tokens(kText) + n_tokens("other"));
  EXPECT_TRUE(embed.body["total_duration"].is_number_integer());
  EXPECT_TRUE(embed.body["load_duration"].is_number_integer());

  const JsonReply legacy = post_json(*client, "/api/embeddings", json{{"model", "hy-tiny"}, {"prompt", kText}}.dump());
  ASSERT_EQ(legacy.status, 200) << legacy.text;
  expect_close(legacy.body["embedding"], core_embedding(kText, /*normalize=*/false), "/api/embeddings");
  EXPECT_GT(std::abs(norm(legacy.body["embedding"]) - 1.0), 1e-3) << "legacy vectors are not normalised";
}

TEST(ServerEmbeddings, OllamaTruncatesLongInputUnlessAskedNotTo) {
  ServerOptions options = TestServer::default_options();
  options.n_ctx = 16;
  TestServer ts(options);
  auto client = ts.client();
  std::string long_text;
  for (int i = 0; i < 40; ++i) long_text += "word ";
  ASSERT_GT(n_tokens(long_text), 16u);
  const JsonReply cut = post_json(*client, "/api/embed", json{{"input", long_text}}.dump());
  ASSERT_EQ(cut.status, 200) << cut.text;
  EXPECT_EQ(cut.body["prompt_eval_count"], 16);
  const JsonReply refused = post_json(*client, "/api/embed", json{{"input", long_text}, {"truncate", false}}.dump());
  ASSERT_EQ(refused.status, 400) << refused.text;
  ASSERT_TRUE(refused.body["error"].is_string()) << refused.text;
  EXPECT_NE(refused.body["error"].get<std::string>().find("context holds 16"), std::string::npos) << refused.text;
  const JsonReply openai = post_json(*client, "/v1/embeddings", json{{"input", long_text}}.dump());
  ASSERT_EQ(openai.status, 400) << openai.text;
  expect_error_body(openai.body, "over-long input");
  EXPECT_EQ(openai.body["error"]["code"], "context_length_exceeded");
}

TEST(ServerEmbeddings, BadInputsAre400sNamingTheField) {
  TestServer ts;
  auto client = ts.client();
  struct Case {
    json body;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {json{{"input", ""}}, "empty string"},
      {json{{"input", json::array({"ok", ""})}}, "'input[1]' is an empty string"},
      {json{{"input", json::array()}}, "empty array"},
      {json::object(), "'input' is missing"},
      {json{{"input", 5}}, "'input' must be"},
      {json{{"input", json::array({"ok", 5})}}, "'input[1]' must be"},
      {json{{"input", json::array({1, "x"})}}, "token ids must be integers"},
      {json{{"input", json::array({-1})}}, "outside the vocabulary"},
      {json{{"input", kText}, {"dimensions", 8}}, "'dimensions' is not supported"},
      {json{{"input", kText}, {"encoding_format", "int8"}}, "'encoding_format'"},
      {json{{"input", kText}, {"model", 3}}, "'model' must be a string"},
  };
  for (const Case& c : cases) {
    const JsonReply r = post_json(*client, "/v1/embeddings", c.body.dump());
    ASSERT_EQ(r.status, 400) << c.body.dump() << " -> " << r.text;
    expect_error_body(r.body, c.body.dump());
    EXPECT_NE(r.body["error"]["message"].get<std::string>().find(c.needle), std::string::npos)
        << c.body.dump() << " -> " << r.text;
  }
  // Unknown fields are ignored, as on the other OpenAI routes.
  EXPECT_EQ(post_json(*client, "/v1/embeddings", json{{"input", kText}, {"something_new", 1}}.dump()).status, 200);
  // Not JSON.
  EXPECT_EQ(post_json(*client, "/v1/embeddings", "{not json").status, 400);

  const std::vector<std::pair<std::string, json>> ollama_cases = {
      {"/api/embed", json{{"input", ""}}},
      {"/api/embed", json{{"input", json::array({1, 2})}}},
      {"/api/embed", json{{"input", kText}, {"truncate", "yes"}}},
      {"/api/embed", json{{"input", kText}, {"options", 1}}},
      {"/api/embeddings", json{{"input", kText}}},
      {"/api/embeddings", json{{"prompt", 7}}},
  };
  for (const auto& [path, body] : ollama_cases) {
    const JsonReply r = post_json(*client, path, body.dump());
    EXPECT_EQ(r.status, 400) << path << " " << body.dump() << " -> " << r.text;
    EXPECT_TRUE(r.body["error"].is_string()) << r.text;
  }
}

TEST(ServerEmbeddings, EmbeddingsAndChatAtOnceBothSucceed) {
  TestServer ts;
  const std::vector<float> expected = core_embedding(kText);
  std::vector<int> chat_status(3, 0), embed_status(6, 0);
  std::vector<json> embed_bodies(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < chat_status.size(); ++i)
    threads.emplace_back([&, i] {
      auto client = ts.client();
      chat_status[i] = post_json(*client, "/v1/chat/completions",
                                 json{{"messages", json::array({json{{"role", "user"}, {"content", "hello"}}})},
                                      {"max_tokens", 24}, {"temperature", 0}}.dump()).status;
    });
  for (size_t i = 0; i < embed_status.size(); ++i)
    threads.emplace_back([&, i] {
      auto client = ts.client();
      const JsonReply r = post_json(*client, "/v1/embeddings", json{{"input", kText}}.dump());
      embed_status[i] = r.status;
      embed_bodies[i] = r.body;
    });
  for (std::thread& t : threads) t.join();
  for (int s : chat_status) EXPECT_EQ(s, 200);
  for (size_t i = 0; i < embed_status.size(); ++i) {
    ASSERT_EQ(embed_status[i], 200) << embed_bodies[i].dump();
    expect_close(embed_bodies[i]["data"][0]["embedding"], expected, "concurrent embedding");
  }
}

}  // namespace
}  // namespace hy2bit::server::test
