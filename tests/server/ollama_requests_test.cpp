// ollama's /api/chat and /api/generate bodies through their translation
// (server/ollama_requests.h), without a server: options land on the
// sampling fields, num_ctx and stream on the extras, generate's three kinds
// (load, templated, raw) come out as such, and errors name the fields the
// ollama client wrote, never the OpenAI ones they were mapped to.
#include <gtest/gtest.h>

#include "server/ollama_requests.h"

namespace hy2bit::server::ollama {
namespace {

const ParseLimits kLimits{.sampling = {}, .seed = 42, .n_vocab = 1000, .n_ctx = 512};

TEST(OllamaRequests, OptionsMapOntoSamplingAndExtras) {
  Result<OllamaChat> chat = parse_ollama_chat(
      R"({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": false,
          "options": {"temperature": 0.25, "top_k": 7, "top_p": 0.5, "min_p": 0.1, "seed": 9, "num_predict": 12,
                      "stop": ["x"], "repeat_penalty": 1.3, "repeat_last_n": 16, "presence_penalty": 0.5,
                      "frequency_penalty": 0.25, "num_ctx": 128}})",
      kLimits);
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  const GenerateOptions& g = chat->request.generate;
  EXPECT_FLOAT_EQ(g.sampling.temperature, 0.25f);
  EXPECT_EQ(g.sampling.top_k, 7);
  EXPECT_FLOAT_EQ(g.sampling.top_p, 0.5f);
  EXPECT_FLOAT_EQ(g.sampling.min_p, 0.1f);
  EXPECT_EQ(g.sampling.seed, 9u);
  EXPECT_EQ(g.max_tokens, 12);
  EXPECT_EQ(g.stop, std::vector<std::string>{"x"});
  EXPECT_FLOAT_EQ(g.sampling.repeat_penalty, 1.3f);
  EXPECT_EQ(g.sampling.repeat_last_n, 16);
  EXPECT_FLOAT_EQ(g.sampling.presence_penalty, 0.5f);
  EXPECT_FLOAT_EQ(g.sampling.frequency_penalty, 0.25f);
  EXPECT_FALSE(chat->extras.stream);
  EXPECT_EQ(chat->extras.num_ctx, 128);
}

TEST(OllamaRequests, DefaultsAreOllamas) {
  Result<OllamaChat> chat = parse_ollama_chat(R"({"messages": [{"role": "user", "content": "hi"}]})", kLimits);
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_TRUE(chat->extras.stream);
  EXPECT_FALSE(chat->extras.num_ctx);
  EXPECT_EQ(chat->request.generate.max_tokens, -1);
  EXPECT_EQ(chat->request.generate.sampling.seed, 42u);  // the server's seed when none is given
  for (const char* fill : {"-1", "-2"}) {
    Result<OllamaChat> unlimited = parse_ollama_chat(
        std::string(R"({"messages": [{"role": "user", "content": "hi"}], "options": {"num_predict": )") + fill + "}}",
        kLimits);
    ASSERT_TRUE(unlimited.ok()) << unlimited.error().message;
    EXPECT_EQ(unlimited->request.generate.max_tokens, -1) << fill;
  }
}

TEST(OllamaRequests, GenerateKinds) {
  Result<OllamaGenerate> load = parse_ollama_generate(R"({"model": "m"})", kLimits);
  ASSERT_TRUE(load.ok()) << load.error().message;
  EXPECT_EQ(load->kind, GenerateKind::kLoad);
  EXPECT_FALSE(load->chat || load->raw);

  Result<OllamaGenerate> templated = parse_ollama_generate(R"({"prompt": "p", "system": "s", "think": false})", kLimits);
  ASSERT_TRUE(templated.ok()) << templated.error().message;
  ASSERT_EQ(templated->kind, GenerateKind::kChat);
  ASSERT_EQ(templated->chat->messages.size(), 2u);
  EXPECT_EQ(templated->chat->messages[0].role, Role::kSystem);
  EXPECT_EQ(templated->chat->messages[0].content, "s");
  EXPECT_EQ(templated->chat->messages[1].role, Role::kUser);
  EXPECT_EQ(templated->chat->messages[1].content, "p");
  EXPECT_EQ(templated->chat->thinking, Thinking::kOff);

  Result<OllamaGenerate> raw = parse_ollama_generate(R"({"prompt": "<b>text", "raw": true})", kLimits);
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  ASSERT_EQ(raw->kind, GenerateKind::kRaw);
  ASSERT_EQ(raw->raw->prompts.size(), 1u);
  EXPECT_EQ(raw->raw->prompts[0].text, "<b>text");
  EXPECT_EQ(raw->raw->generate.max_tokens, -1);  // not /v1/completions' 16
}

// Each bad body with what its error must say, and must not.
TEST(OllamaRequests, ErrorsNameTheOllamaFields) {
  struct Case {
    const char* body;
    const char* names;
  };
  const Case cases[] = {
      {R"({"prompt": "p", "options": {"num_predict": "ten"}})", "'options.num_predict'"},
      {R"({"prompt": "p", "options": {"repeat_penalty": "x"}})", "'options.repeat_penalty'"},
      {R"({"prompt": "p", "options": {"num_ctx": 513}})", "'options.num_ctx'"},
      {R"({"prompt": "p", "options": {"mirostat": 2}})", "'options.mirostat'"},
      {R"({"prompt": "p", "think": true, "format": "json"})", "'think'"},
      {R"({"prompt": "p", "format": {"type": "object", "properties": 3}})", "'format"},
      {R"({"prompt": "p", "format": 7})", "'format'"},
      {R"({"prompt": "p", "raw": true, "system": "s"})", "'system'"},
      {R"({"prompt": "p", "raw": true, "think": true})", "'think'"},
      {R"({"prompt": "p", "images": ["aGk="]})", "'images'"},
      {R"({"prompt": 3})", "'prompt'"},
      {R"({"prompt": "p", "raw": "yes"})", "'raw'"},
      {R"({"prompt": "p", "stream": "no"})", "'stream'"},
  };
  for (const Case& c : cases) {
    Result<OllamaGenerate> r = parse_ollama_generate(c.body, kLimits);
    ASSERT_FALSE(r.ok()) << c.body;
    const std::string& m = r.error().message;
    EXPECT_NE(m.find(c.names), std::string::npos) << c.body << ": " << m;
    for (const char* openai : {"max_tokens", "repetition_penalty", "response_format", "chat_template_kwargs"})
      EXPECT_EQ(m.find(openai), std::string::npos) << c.body << ": " << m;
  }
  Result<OllamaChat> images = parse_ollama_chat(
      R"({"messages": [{"role": "user", "content": "hi", "images": ["aGk="]}]})", kLimits);
  ASSERT_FALSE(images.ok());
  EXPECT_NE(images.error().message.find("'messages[0].images'"), std::string::npos) << images.error().message;
}

TEST(OllamaRequests, FieldNamesAreRenamedOnlyAsWholeNames) {
  EXPECT_EQ(ollama_field_names("'max_tokens' must be >= 0"), "'options.num_predict' must be >= 0");
  EXPECT_EQ(ollama_field_names("'stop[2]' is too long"), "'options.stop[2]' is too long");
  EXPECT_EQ(ollama_field_names("the reply will stop"), "the reply will stop");  // an English word, not a field
  EXPECT_EQ(ollama_field_names("'max_tokens_x' is unknown"), "'max_tokens_x' is unknown");
  EXPECT_EQ(ollama_field_names("a JSON response_format"), "a JSON format");
  EXPECT_EQ(ollama_field_names("'chat_template_kwargs.enable_thinking': true"), "'think': true");
  EXPECT_EQ(ollama_field_names("'prompt[0]' is empty"), "'prompt' is empty");
}

}  // namespace
}  // namespace hy2bit::server::ollama
