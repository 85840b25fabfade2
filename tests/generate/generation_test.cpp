// Step-wise Generation and decode_batch on the tiny q2_0c model: batched
// decoding of several sessions gives the logits each would get alone, and
// generate() equals driving a Generation by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

std::shared_ptr<Model> load_tiny() {
  Result<std::shared_ptr<Model>> model =
      Model::load({.model_path = test::testdata_path("models/hy-tiny-q2_0c.gguf"), .n_threads = 2});
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? *model : nullptr;
}

std::unique_ptr<Session> make_session(const std::shared_ptr<Model>& model, int64_t n_ctx = 256) {
  Result<std::unique_ptr<Session>> s = Session::create(model, {.n_ctx = n_ctx, .n_batch = 64});
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(DecodeBatch, EqualsDecodingEachSessionAlone) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  // Three sessions at different positions with different histories.
  const std::vector<std::vector<int32_t>> prompts = {{984, 5, 17, 300}, {984, 42}, {984, 7, 7, 7, 7, 7, 900}};
  const std::vector<int32_t> next = {11, 500, 2};
  std::vector<std::unique_ptr<Session>> batched, alone;
  std::vector<BatchStep> steps;
  for (size_t i = 0; i < prompts.size(); ++i) {
    batched.push_back(make_session(model));
    alone.push_back(make_session(model));
    ASSERT_TRUE(batched[i]->eval(prompts[i]).ok());
    ASSERT_TRUE(alone[i]->eval(prompts[i]).ok());
    steps.push_back({batched[i].get(), next[i]});
  }
  Result<std::vector<std::span<const float>>> logits = decode_batch(steps);
  ASSERT_TRUE(logits.ok()) << logits.error().message;
  ASSERT_EQ(logits->size(), 3u);
  for (size_t i = 0; i < prompts.size(); ++i) {
    Result<std::span<const float>> single = alone[i]->eval(std::span<const int32_t>(&next[i], 1));
    ASSERT_TRUE(single.ok());
    EXPECT_LE(max_abs_diff((*logits)[i], *single), 1e-3f) << "session " << i;
    EXPECT_EQ(batched[i]->n_past(), alone[i]->n_past());
    EXPECT_EQ(std::vector<int32_t>(batched[i]->tokens().begin(), batched[i]->tokens().end()),
              std::vector<int32_t>(alone[i]->tokens().begin(), alone[i]->tokens().end()));
  }
}

TEST(DecodeBatch, RejectsTheSameSessionTwiceAndAFullContext) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  std::unique_ptr<Session> s = make_session(model, 4);
  ASSERT_TRUE(s->eval(std::vector<int32_t>{984, 1, 2, 3}).ok());
  const BatchStep full[] = {{s.get(), 5}};
  EXPECT_FALSE(decode_batch(full).ok());
  std::unique_ptr<Session> t = make_session(model);
  ASSERT_TRUE(t->eval(std::vector<int32_t>{984}).ok());
  const BatchStep twice[] = {{t.get(), 5}, {t.get(), 6}};
  EXPECT_FALSE(decode_batch(twice).ok());
}

TEST(Generation, GenerateEqualsSteppingByHand) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  const std::vector<int32_t> prompt = {984, 100, 200, 300};
  const GenerateOptions options{.max_tokens = 12, .sampling = {.temperature = 0.8f, .seed = 5}, .stop = {}};
  std::unique_ptr<Session> a = make_session(model), b = make_session(model);
  Result<GenerateResult> whole = generate(*a, prompt, options);
  ASSERT_TRUE(whole.ok()) << whole.error().message;

  Result<std::unique_ptr<Generation>> g = Generation::start(*b, prompt, options);
  ASSERT_TRUE(g.ok());
  std::string text;
  while (!(*g)->finished()) {
    text += (*g)->sample();
    if ((*g)->finished()) break;
    // Evaluate through decode_batch, as the server does.
    const BatchStep step[] = {{b.get(), (*g)->pending_token()}};
    Result<std::vector<std::span<const float>>> logits = decode_batch(step);
    ASSERT_TRUE(logits.ok());
    (*g)->accept_logits((*logits)[0]);
  }
  EXPECT_EQ((*g)->result().tokens, whole->tokens);
  EXPECT_EQ(text, whole->text);
  EXPECT_EQ((*g)->result().finish, FinishReason::kLength);
  EXPECT_EQ(whole->tokens.size(), 12u);
}

TEST(Generation, PromptLongerThanContextIsAnError) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  std::unique_ptr<Session> s = make_session(model, 8);
  const std::vector<int32_t> prompt(8, 5);
  Result<GenerateResult> r = generate(*s, prompt, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("context"), std::string::npos);
}

// A full context is its own reason (the CLI names -c), not max_tokens.
TEST(Generation, AFullContextFinishesWithContextFull) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  std::unique_ptr<Session> s = make_session(model, 16);
  GenerateOptions options;
  options.sampling.temperature = 0.0f;
  options.sampling.logit_bias = {};
  for (int32_t id = 0; id < model->summary().n_vocab; ++id)
    if (is_end_of_generation(*model, id)) options.sampling.logit_bias.push_back({id, -INFINITY});
  const std::vector<int32_t> prompt = {984, 100, 200, 300};
  Result<GenerateResult> full = generate(*s, prompt, options);
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_EQ(full->finish, FinishReason::kContextFull);
  EXPECT_EQ(full->tokens.size(), 16u - prompt.size() + 1);  // the last sampled token is never fed
  s->reset();
  options.max_tokens = 3;
  Result<GenerateResult> capped = generate(*s, prompt, options);
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->finish, FinishReason::kLength);
}

TEST(Generation, StopStringEndsTheReplyAndIsNotShown) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  std::unique_ptr<Session> s = make_session(model);
  const std::vector<int32_t> prompt = {984, 100, 200, 300};
  GenerateOptions options;  // named, not a temporary: GCC 12 warns falsely on a nested temporary vector
  options.max_tokens = 20;
  options.sampling.temperature = 0.0f;
  Result<GenerateResult> free_run = generate(*s, prompt, options);
  ASSERT_TRUE(free_run.ok());
  ASSERT_GE(free_run->text.size(), 6u);
  const std::string stop = free_run->text.substr(3, 3);
  s->reset();
  std::string streamed;
  options.stop = {stop};
  Result<GenerateResult> stopped = generate(*s, prompt, options,
                                            [&](std::string_view piece) { streamed += piece; return true; });
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->finish, FinishReason::kStop);
  EXPECT_EQ(stopped->stop_string, stop);
  EXPECT_TRUE(free_run->stop_string.empty());
  EXPECT_EQ(stopped->text, free_run->text.substr(0, free_run->text.find(stop)));
  EXPECT_EQ(streamed, stopped->text);
}

TEST(Generation, LogitBiasOutsideTheVocabularyIsAnError) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  std::unique_ptr<Session> session = make_session(model);
  GenerateOptions options;
  options.sampling.logit_bias = {{1000, 1.0f}};  // the tiny vocabulary has ids 0..999
  const int32_t prompt[] = {984, 5};
  Result<std::unique_ptr<Generation>> g = Generation::start(*session, prompt, options);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("logit_bias names token 1000"), std::string::npos) << g.error().message;
}

TEST(Generation, BannedTokensNeverAppear) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  std::unique_ptr<Session> session = make_session(model);
  GenerateOptions options;
  options.max_tokens = 24;
  options.sampling.temperature = 0.0f;
  const int32_t prompt[] = {984, 5, 17};
  Result<GenerateResult> plain = generate(*session, prompt, options);
  ASSERT_TRUE(plain.ok());
  ASSERT_FALSE(plain->tokens.empty());
  // Ban every token greedy decoding chose: none of them may come back.
  for (int32_t id : plain->tokens) options.sampling.logit_bias.push_back({id, -INFINITY});
  session->reset();
  Result<GenerateResult> banned = generate(*session, prompt, options);
  ASSERT_TRUE(banned.ok());
  for (int32_t id : banned->tokens)
    for (int32_t b : plain->tokens) EXPECT_NE(id, b);
}

}  // namespace
}  // namespace hy2bit
