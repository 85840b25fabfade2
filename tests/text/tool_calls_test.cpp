// Tool calling in Hunyuan's markup (src/text/tool_calls.*): the prompt as the
// template renders it, calls parsed from scripted replies (whole and fed in
// every split), malformed blocks kept as text, and forced calls on the random
// tiny model that always parse into the declared functions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "generate/grammar/grammar.h"
#include "generate/grammar/matcher.h"
#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/tools.h"
#include "support/test_support.h"
#include "text/chat_format.h"
#include "text/tool_calls.h"

namespace hy2bit::text {
namespace {

const char* kTools =
    R"([{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"]}}},)"
    R"({"type":"function","function":{"name":"now","parameters":{"type":"object","properties":{}}}}])";

TEST(ToolRender, FollowsTheHunyuanToolTemplate) {
  const std::vector<ChatMessage> messages = {
      {ChatRole::kSystem, "Be brief."},
      {ChatRole::kUser, "Weather in Paris?"},
      {ChatRole::kAssistant, "", {{"call_0", "get_weather", R"({"city": "Paris"})"}}},
      {ChatRole::kTool, R"({"temp": 21})"},
  };
  const std::string out = render_chat(messages, {.thinking = ThinkingMode::kOff, .tools_json = kTools});
  const std::string preamble = render_tools_preamble(kTools, "Be brief.", true);
  EXPECT_EQ(out, std::string(kHyBos) + preamble + std::string(kHyEndOfSystem) + std::string(kHyUser) +
                     "用户：Weather in Paris?" + std::string(kHyAssistant) +
                     R"(<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>)" +
                     std::string(kHyEndOfTurn) + std::string(kHyUser) + R"(<tool_response>{"temp": 21}</tool_response>)" +
                     std::string(kHyAssistant) + std::string(kEmptyThinkBlock));
  // The template's own words, the tools array and the system prompt in its place.
  EXPECT_TRUE(preamble.starts_with("你是一位函数组合专家。"));
  EXPECT_NE(preamble.find(std::string("\n\n") + kTools + "\n\n额外要求：\nBe brief.\n\n"), std::string::npos);
  EXPECT_TRUE(preamble.ends_with("否则，请参考开头说的三种情况，以助手：开头进行回复。"));
  // Without a system prompt the preamble still takes the system slot.
  const std::string no_system = render_chat(std::vector<ChatMessage>{{ChatRole::kUser, "hi"}}, {.tools_json = kTools});
  EXPECT_EQ(no_system, std::string(kHyBos) + render_tools_preamble(kTools, "", false) + std::string(kHyEndOfSystem) +
                           std::string(kHyUser) + "用户：hi" + std::string(kHyAssistant));
  // Without tools nothing changes.
  EXPECT_EQ(render_chat(std::vector<ChatMessage>{{ChatRole::kUser, "hi"}}, {}),
            std::string(kHyBos) + std::string(kHyUser) + "hi" + std::string(kHyAssistant));
}

ToolCallStream::Update feed_in_pieces(const std::string& reply, size_t piece, std::string* error = nullptr) {
  ToolCallStream s;
  ToolCallStream::Update all;
  for (size_t i = 0; i < reply.size(); i += piece) {
    ToolCallStream::Update u = s.push(std::string_view(reply).substr(i, piece));
    all.content += u.content;
    for (ToolCall& c : u.calls) all.calls.push_back(c);
  }
  ToolCallStream::Update u = s.finish();
  all.content += u.content;
  for (ToolCall& c : u.calls) all.calls.push_back(c);
  if (error) *error = s.error();
  return all;
}

TEST(ToolParse, ScriptedRepliesWholeAndStreamed) {
  const std::string reply =
      R"(Let me check. <tool_calls>[{"name": "get_weather", "arguments": {"city": "P{a}r\"is", "days": 2}},)"
      "\n {\"name\": \"now\", \"arguments\": {}}]</tool_calls>\n";
  const ParsedToolCalls whole = parse_tool_calls(reply);
  EXPECT_EQ(whole.error, "");
  EXPECT_EQ(whole.content, "Let me check. \n");
  ASSERT_EQ(whole.calls.size(), 2u);
  EXPECT_EQ(whole.calls[0].id, "call_0");
  EXPECT_EQ(whole.calls[0].name, "get_weather");
  EXPECT_EQ(nlohmann::json::parse(whole.calls[0].arguments), nlohmann::json::parse(R"({"city": "P{a}r\"is", "days": 2})"));
  EXPECT_EQ(whole.calls[1].name, "now");
  EXPECT_EQ(whole.calls[1].arguments, "{}");
  for (size_t piece : {1, 2, 3, 7, 1000}) {
    std::string error;
    const ToolCallStream::Update streamed = feed_in_pieces(reply, piece, &error);
    EXPECT_EQ(error, "") << piece;
    EXPECT_EQ(streamed.content, whole.content) << piece;
    ASSERT_EQ(streamed.calls.size(), 2u) << piece;
    EXPECT_EQ(streamed.calls[0].arguments, whole.calls[0].arguments);
  }
  // The first call is released before the second has arrived.
  ToolCallStream s;
  EXPECT_TRUE(s.push(R"(<tool_calls>[{"name": "now", "arguments": {}}, {"name": "get)").calls.size() == 1);
  // The template's "助手：" prefix is not content; a plain reply passes through.
  EXPECT_EQ(parse_tool_calls("助手：Hello").content, "Hello");
  EXPECT_EQ(feed_in_pieces("助手：Hello <tool_c", 1).content, "Hello <tool_c");
  EXPECT_EQ(parse_tool_calls("Hi <b>x</b>").content, "Hi <b>x</b>");
  // Arguments given as a JSON string are passed through.
  EXPECT_EQ(parse_tool_calls(R"(<tool_calls>[{"name": "now", "arguments": "{\"a\":1}"}]</tool_calls>)").calls.at(0).arguments,
            R"({"a":1})");
}

// fuzz_tool_calls (fuzz/corpus/fuzz_tool_calls/reply-string-args-not-json):
// arguments given as a string that is not a JSON object were passed through,
// so ToolCall::arguments was not JSON and render_tool_calls wrote
// `"arguments": hello` into the next prompt. Such a block is malformed now.
TEST(ToolParse, StringArgumentsMustHoldAJsonObject) {
  for (const std::string bad : {
           R"(<tool_calls>[{"name": "f", "arguments": "hello"}]</tool_calls>)",
           R"(<tool_calls>[{"name": "f", "arguments": "[1, 2]"}]</tool_calls>)",
           R"(<tool_calls>[{"name": "f", "arguments": "{\"a\": "}]</tool_calls>)",
           R"(<tool_calls>[{"name": "f", "arguments": ""}]</tool_calls>)",
       }) {
    const ParsedToolCalls p = parse_tool_calls(bad);
    EXPECT_NE(p.error, "") << bad;
    EXPECT_TRUE(p.calls.empty()) << bad;
    EXPECT_EQ(p.content, bad);
  }
  // A string nesting deeper than the block itself may is refused without parsing it.
  const std::string deep = "<tool_calls>[{\"name\": \"f\", \"arguments\": \"" + std::string(100000, '[') + "\"}]</tool_calls>";
  EXPECT_NE(parse_tool_calls(deep).error, "");
  // Rendered back, a string-form call is an object the parser reads again.
  const ParsedToolCalls ok = parse_tool_calls(R"(<tool_calls>[{"name": "f", "arguments": " {\"q\": 1} "}]</tool_calls>)");
  ASSERT_EQ(ok.calls.size(), 1u);
  const ParsedToolCalls again = parse_tool_calls(render_tool_calls(ok.calls));
  ASSERT_EQ(again.calls.size(), 1u) << again.error;
  EXPECT_EQ(nlohmann::json::parse(again.calls[0].arguments), nlohmann::json::parse(R"({"q": 1})"));
}

TEST(ToolParse, MalformedBlocksStayText) {
  for (const std::string bad : {
           R"(<tool_calls>{"name": "now"}</tool_calls>)",                    // not an array
           R"(<tool_calls>[{"name": "now", "arguments": {}]</tool_calls>)",   // broken JSON
           R"(<tool_calls>["now"]</tool_calls>)",                             // not an object
           R"(<tool_calls>[{"arguments": {}}]</tool_calls>)",                 // no name
           R"(<tool_calls>[{"name": 5}]</tool_calls>)",                       // name not a string
           R"(<tool_calls>[{"name": "now", "arguments": 3}]</tool_calls>)",   // arguments not an object
           R"(<tool_calls>[{"name": "now", "arguments": {}}] trailing)",      // no closing tag
           R"(x <tool_calls>[{"name": "now", "arguments": {"a": )",          // cut off
           "<tool_calls>[{\"name\": \"\xFF\"}]</tool_calls>",                // invalid UTF-8
       }) {
    const ParsedToolCalls p = parse_tool_calls(bad);
    EXPECT_NE(p.error, "") << bad;
    EXPECT_TRUE(p.calls.empty()) << bad;
    EXPECT_EQ(p.content, bad);
    std::string error;
    const ToolCallStream::Update streamed = feed_in_pieces(bad, 3, &error);
    EXPECT_NE(error, "") << bad;
    // Streamed: every byte of the reply comes out, as content or as an already released call.
    if (streamed.calls.empty()) {
      EXPECT_EQ(streamed.content, bad) << bad;
    }
  }
}

TEST(ToolGrammar, ForcesAWellFormedCall) {
  Result<std::string> gbnf = tool_call_grammar(kTools);
  ASSERT_TRUE(gbnf.ok()) << gbnf.error().message;
  Result<grammar::Grammar> g = grammar::parse_gbnf(*gbnf);
  ASSERT_TRUE(g.ok()) << g.error().message << "\n" << *gbnf;
  const auto shared = std::make_shared<const grammar::Grammar>(std::move(*g));
  auto matches = [&](const std::string& s) {
    grammar::Matcher m(shared);
    return m.accept(s) && m.can_end();
  };
  EXPECT_TRUE(matches(R"(<tool_calls>[{"name": "get_weather", "arguments": {"city": "x"}}, {"name": "now", "arguments": {}}]</tool_calls>)"));
  EXPECT_FALSE(matches(R"(<tool_calls>[{"name": "get_weather", "arguments": {}}]</tool_calls>)"));  // city is required
  EXPECT_FALSE(matches(R"(<tool_calls>[{"name": "other", "arguments": {}}]</tool_calls>)"));
  EXPECT_FALSE(matches(R"(<tool_calls>[]</tool_calls>)"));
  Result<std::string> named = tool_call_grammar(kTools, "now");
  ASSERT_TRUE(named.ok());
  Result<grammar::Grammar> gn = grammar::parse_gbnf(*named);
  ASSERT_TRUE(gn.ok());
  grammar::Matcher only(std::make_shared<const grammar::Grammar>(std::move(*gn)));
  EXPECT_FALSE(only.would_accept(R"(<tool_calls>[{"name": "get)"));
  EXPECT_EQ(tool_call_grammar(kTools, "nope").error().message,
            "tool_choice names the function 'nope', which is not in tools");
  EXPECT_EQ(tool_call_grammar("[{\"type\":\"function\"}]").error().message,
            "tools[0]: expected {\"type\": \"function\", \"function\": {...}}");
  EXPECT_EQ(tool_call_grammar("{}").error().message, "tools: must be a non-empty JSON array");
}

TEST(ToolGrammar, RandomModelAlwaysCallsADeclaredFunction) {
  Result<std::shared_ptr<Model>> model =
      Model::load({.model_path = test::testdata_path("models/hy-tiny-q2_0c.gguf"), .n_threads = 1});
  ASSERT_TRUE(model.ok()) << model.error().message;
  Result<std::unique_ptr<Session>> session = Session::create(*model, {.n_ctx = 512, .n_batch = 64});
  ASSERT_TRUE(session.ok());
  Result<std::string> gbnf = tool_call_grammar(kTools);
  ASSERT_TRUE(gbnf.ok());
  const std::vector<int32_t> prompt = {984, 987, 50, 51, 988};
  for (uint64_t seed = 0; seed < 8; ++seed) {
    GenerateOptions options;
    options.max_tokens = 120;
    options.sampling.temperature = 1.5f;
    options.sampling.top_k = 0;
    options.sampling.top_p = 1.0f;
    options.sampling.seed = seed;
    options.grammar = *gbnf;
    Result<GenerateResult> r = generate(**session, prompt, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const hy2bit::ParsedReply p = hy2bit::parse_tool_calls(r->text);
    EXPECT_EQ(p.error, "") << r->text;
    ASSERT_FALSE(p.calls.empty()) << r->text;
    for (const hy2bit::ToolCall& c : p.calls) {
      EXPECT_TRUE(c.name == "get_weather" || c.name == "now") << c.name;
      const nlohmann::json args = nlohmann::json::parse(c.arguments, nullptr, false);
      ASSERT_TRUE(args.is_object()) << c.arguments;
      if (c.name == "get_weather") {
        EXPECT_TRUE(args.contains("city") && args["city"].is_string()) << c.arguments;
      }
    }
  }
}

}  // namespace
}  // namespace hy2bit::text
