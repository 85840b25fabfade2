// Golden prompts of the Hunyuan chat format (docs/hy-model.md) and the
// thinking switches: /no_think, /think, the option, history stripping. The
// last test tokenizes a rendered prompt and checks the special-token ids.
#include "text/chat_format.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "text/text_test_util.h"
#include "text/tokenizer.h"

namespace hy2bit::text {
namespace {

const std::string kBos = "<｜hy_begin▁of▁sentence｜>";
const std::string kUser = "<｜hy_User｜>";
const std::string kAsst = "<｜hy_Assistant｜>";
const std::string kEot = "<｜hy_place▁holder▁no▁2｜>";
const std::string kSys = "<｜hy_place▁holder▁no▁3｜>";

using Messages = std::vector<ChatMessage>;

TEST(ChatFormat, SingleUserTurn) {
  const Messages m = {{ChatRole::kUser, "写一副春联"}};
  EXPECT_EQ(render_chat(m), kBos + kUser + "写一副春联" + kAsst);
  EXPECT_EQ(render_chat(m, {.add_generation_prompt = false}), kBos + kUser + "写一副春联");
}

TEST(ChatFormat, SystemAndUser) {
  const Messages m = {{ChatRole::kSystem, "You are a helpful assistant."}, {ChatRole::kUser, "Hi"}};
  EXPECT_EQ(render_chat(m), kBos + "You are a helpful assistant." + kSys + kUser + "Hi" + kAsst);
}

TEST(ChatFormat, MultiTurnKeepsOnlyPastAnswers) {
  const Messages m = {
      {ChatRole::kSystem, "sys"},
      {ChatRole::kUser, "1+1?"},
      {ChatRole::kAssistant, "<think>\nadd them\n</think>\n<answer>\n2\n</answer>"},
      {ChatRole::kUser, "and 2+2?"},
  };
  EXPECT_EQ(render_chat(m), kBos + "sys" + kSys + kUser + "1+1?" + kAsst + "<answer>\n2\n</answer>" + kEot +
                                kUser + "and 2+2?" + kAsst);
  // A plain past answer is kept as it is.
  const Messages plain = {{ChatRole::kUser, "a"}, {ChatRole::kAssistant, "b"}, {ChatRole::kUser, "c"}};
  EXPECT_EQ(render_chat(plain), kBos + kUser + "a" + kAsst + "b" + kEot + kUser + "c" + kAsst);
}

TEST(ChatFormat, NoThinkAppendsEmptyThinkBlock) {
  const Messages m = {{ChatRole::kUser, "/no_think写一副春联"}};
  EXPECT_EQ(render_chat(m), kBos + kUser + "/no_think写一副春联" + kAsst + "<think>\n\n</think>\n");
  EXPECT_EQ(effective_thinking(m, ThinkingMode::kDefault), ThinkingMode::kOff);
  EXPECT_FALSE(thinking_enabled(m, ThinkingMode::kDefault));
  // No generation prompt: nothing is appended.
  EXPECT_EQ(render_chat(m, {.add_generation_prompt = false}), kBos + kUser + "/no_think写一副春联");
}

TEST(ChatFormat, ThinkPrefixAndOptions) {
  const Messages think = {{ChatRole::kUser, "/think 解释一下量子纠缠。"}};
  EXPECT_EQ(render_chat(think), kBos + kUser + "/think 解释一下量子纠缠。" + kAsst);
  EXPECT_EQ(effective_thinking(think, ThinkingMode::kDefault), ThinkingMode::kOn);
  // The option forces thinking off (or on) whatever the message says.
  EXPECT_EQ(render_chat(think, {.thinking = ThinkingMode::kOff}),
            kBos + kUser + "/think 解释一下量子纠缠。" + kAsst + "<think>\n\n</think>\n");
  const Messages no_think = {{ChatRole::kUser, "/no_think hi"}};
  EXPECT_EQ(render_chat(no_think, {.thinking = ThinkingMode::kOn}), kBos + kUser + "/no_think hi" + kAsst);
  // Default: thinking on, nothing appended.
  const Messages plain = {{ChatRole::kUser, "hi"}};
  EXPECT_EQ(effective_thinking(plain, ThinkingMode::kDefault), ThinkingMode::kOn);
  EXPECT_EQ(render_chat(plain, {.thinking = ThinkingMode::kOff}), kBos + kUser + "hi" + kAsst + "<think>\n\n</think>\n");
  // Only the latest user message counts, and only as a prefix.
  const Messages later = {{ChatRole::kUser, "/no_think a"}, {ChatRole::kAssistant, "b"}, {ChatRole::kUser, "c"}};
  EXPECT_EQ(effective_thinking(later, ThinkingMode::kDefault), ThinkingMode::kOn);
  const Messages inside = {{ChatRole::kUser, "please /no_think"}};
  EXPECT_EQ(effective_thinking(inside, ThinkingMode::kDefault), ThinkingMode::kOn);
  EXPECT_EQ(effective_thinking({}, ThinkingMode::kDefault), ThinkingMode::kOn);
}

TEST(ChatFormat, StripThinking) {
  EXPECT_EQ(strip_thinking("<think>\nx\n</think>\n<answer>\ny\n</answer>"), "<answer>\ny\n</answer>");
  EXPECT_EQ(strip_thinking("<think>\n\n</think>\nplain"), "plain");
  EXPECT_EQ(strip_thinking("no think block"), "no think block");
  EXPECT_EQ(strip_thinking("<think>\nunfinished"), "");
  EXPECT_EQ(strip_thinking(""), "");
}

TEST(ChatFormat, ContinuedReplyIsKeptVerbatim) {
  // An assistant message after the latest user message is a reply being
  // continued: its think block stays.
  const Messages m = {{ChatRole::kUser, "q"}, {ChatRole::kAssistant, "<think>\nhmm\n</think>\nA"}};
  EXPECT_EQ(render_chat(m, {.add_generation_prompt = false}),
            kBos + kUser + "q" + kAsst + "<think>\nhmm\n</think>\nA" + kEot);
}

TEST(ChatFormat, CustomBosText) {
  const Messages m = {{ChatRole::kUser, "x"}};
  EXPECT_EQ(render_chat(m, {.bos_text = "<s>"}), "<s>" + kUser + "x" + kAsst);
}

TEST(ChatFormat, PromptTokenizesToControlTokens) {
  const Tokenizer* tok = test::vocab_tokenizer();
  ASSERT_NE(tok, nullptr);
  const Messages m = {{ChatRole::kSystem, "系统提示"}, {ChatRole::kUser, "/no_think写一副春联"}};
  const std::string prompt = render_chat(m, {.add_generation_prompt = true, .thinking = ThinkingMode::kDefault});
  Result<std::vector<int32_t>> ids = tok->encode(prompt, {.add_bos = false, .parse_special = true});
  ASSERT_TRUE(ids.ok()) << ids.error().message;
  // This prompt minus the think block is case 61 of cases.inp: same ids as llama.cpp.
  const std::vector<int32_t> expected_head = {102400, 5804, 24166, 102406, 102403, 14,   2470,
                                              62,     17249, 5830, 66291,  5434,   3141, 102404};
  ASSERT_GE(ids->size(), expected_head.size());
  EXPECT_EQ(std::vector<int32_t>(ids->begin(), ids->begin() + expected_head.size()), expected_head);
  EXPECT_EQ(tok->decode(*ids, /*render_special=*/true), prompt);
}

TEST(ChatFormat, VocabCheckNamesMissingToken) {
  // A vocabulary without the Hunyuan tokens cannot run the chat format.
  Result<Tokenizer> made = test::tokenizer_from_metadata(
      {{"tokenizer.ggml.model", gguf::OwnedValue::string("gpt2")},
       {"tokenizer.ggml.pre", gguf::OwnedValue::string("hunyuan-dense")},
       {"tokenizer.ggml.tokens", gguf::OwnedValue::string_array({"a", "<｜hy_begin▁of▁sentence｜>"})},
       {"tokenizer.ggml.token_type", gguf::OwnedValue::i32_array({1, 3})},
       {"tokenizer.ggml.merges", gguf::OwnedValue::string_array({})},
       {"tokenizer.ggml.bos_token_id", gguf::OwnedValue::u32(1)},
       {"tokenizer.ggml.eos_token_id", gguf::OwnedValue::u32(1)}},
      "no_chat_tokens");
  ASSERT_TRUE(made.ok()) << made.error().message;
  const Status s = check_chat_vocab(*made);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "the vocabulary has no token '<｜hy_User｜>', which the Hunyuan chat format needs");
}

}  // namespace
}  // namespace hy2bit::text
