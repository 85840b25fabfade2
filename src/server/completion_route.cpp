// POST /v1/completions (the legacy endpoint): raw prompts, as text or
// token ids, one Job each; `echo` returns the prompt and, with `logprobs`,
// its tokens' log-probabilities, which is how lm-evaluation-harness scores
// multiple-choice tasks (echo + logprobs + max_tokens 0 or 1).
#include <ctime>
#include <memory>
#include <string>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "server/request_parsing.h"
#include "server/responses.h"
#include "server/request_log.h"
#include "server/routes.h"
#include "server/sse.h"

namespace hy2bit::server {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kPollInterval{100};  // as in chat_route.cpp

// The first token and the prompt's log-probabilities, for echo.
void add_prompt_logprobs(CompletionLogprobs& builder, const PreparedPrompt& prompt,
                         const std::vector<TokenLogprob>& prompt_logprobs) {
  builder.add_first(prompt.tokens.front(), !prompt.bos_added);
  for (const TokenLogprob& t : prompt_logprobs) builder.add(t);
}

// One streamed completion (single prompt). Lives as long as httplib's content provider.
class CompletionStream {
 public:
  CompletionStream(RouteContext& ctx, std::shared_ptr<Job> job, ResponseMeta meta, const CompletionRequest& request,
                   PreparedPrompt prompt)
      : ctx_(ctx), open_(ctx), job_(std::move(job)), meta_(std::move(meta)), include_usage_(request.include_usage),
        echo_(request.echo), logprobs_(request.logprobs), prompt_(std::move(prompt)), builder_(*ctx.model) {}

  bool pump(httplib::DataSink& sink);
  void closed(bool success) {
    if (!success || !finished_) ctx_.scheduler->cancel(job_);
  }

 private:
  RouteContext& ctx_;
  OpenStream open_;
  std::shared_ptr<Job> job_;
  const ResponseMeta meta_;
  const bool include_usage_;
  const bool echo_;
  const int32_t logprobs_;
  const PreparedPrompt prompt_;
  CompletionLogprobs builder_;
  bool echo_sent_ = false;
  bool finished_ = false;
};

bool CompletionStream::pump(httplib::DataSink& sink) {
  JobUpdate u = job_->take(kPollInterval);
  if (u.empty()) return true;
  std::string text;
  if (echo_ && !echo_sent_ && !u.error) {
    // Prompt log-probabilities come before any reply text, so they are in this first update.
    text = prompt_.echo_text;
    if (logprobs_ >= 0) add_prompt_logprobs(builder_, prompt_, u.prompt_logprobs);
    echo_sent_ = true;
  }
  text += u.text;
  for (const TokenLogprob& t : u.logprobs) builder_.add(t);
  std::string out;
  if (!text.empty() || !builder_.empty()) {
    out += sse_event(completion_chunk_json(meta_, text, builder_.empty() ? json(nullptr) : builder_.take(), nullptr));
  }
  if (u.done) {
    if (u.error) {
      out += sse_event(error_body(*u.error));
    } else {
      out += sse_event(completion_chunk_json(meta_, "", nullptr, finish_reason_json(u.result.finish)));
      if (include_usage_) out += sse_event(completion_usage_chunk_json(meta_, u.result));
    }
    out += sse_done();
    finished_ = true;
    if (!u.error) note_tokens(u.result.n_prompt, static_cast<int64_t>(u.result.tokens.size()));
    if (!sink.write(out.data(), out.size())) return false;
    sink.done();
    return true;
  }
  if (!out.empty() && !sink.write(out.data(), out.size())) {
    ctx_.scheduler->cancel(job_);
    return false;
  }
  return true;
}

}  // namespace

std::optional<PreparedPrompt> prepare_prompt(RouteContext& ctx, const PromptInput& input, size_t index,
                                             ApiError& error) {
  PreparedPrompt p;
  if (input.is_tokens) {
    p.tokens = input.tokens;
    for (int32_t id : p.tokens) p.echo_text += token_to_piece(*ctx.model, id);
  } else {
    Result<std::vector<int32_t>> tokens =
        tokenize(*ctx.model, input.text, {.add_bos = false, .parse_special = ctx.options.raw_parse_special});
    if (!tokens) {
      error = bad_request(tokens.error().message, "prompt");
      return std::nullopt;
    }
    p.tokens = ctx.bos_prefix;
    p.tokens.insert(p.tokens.end(), tokens->begin(), tokens->end());
    p.echo_text = input.text;
    p.bos_added = !ctx.bos_prefix.empty();
  }
  if (p.tokens.empty()) {
    error = bad_request("'prompt[" + std::to_string(index) + "]' is empty (and this model adds no BOS token)", "prompt");
    return std::nullopt;
  }
  const int64_t n_ctx = ctx.scheduler->n_ctx();
  if (static_cast<int64_t>(p.tokens.size()) >= n_ctx) {
    error = bad_request("'prompt[" + std::to_string(index) + "]' has " + std::to_string(p.tokens.size()) +
                            " tokens, but this server's context holds " + std::to_string(n_ctx) +
                            " tokens (prompt + reply)",
                        "prompt", "context_length_exceeded");
    return std::nullopt;
  }
  return p;
}

void handle_completions(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  Result<json> body = parse_json_body(request_body);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  Result<CompletionRequest> request =
      parse_completion_request(*body, ctx.options.sampling, ctx.next_seed(), ctx.model->summary().n_vocab, request_body);
  if (!request) return send_error(res, bad_request(request.error().message), *ctx.metrics);

  std::vector<PreparedPrompt> prompts;
  std::vector<std::shared_ptr<Job>> jobs;
  for (size_t i = 0; i < request->prompts.size(); ++i) {
    ApiError error;
    std::optional<PreparedPrompt> p = prepare_prompt(ctx, request->prompts[i], i, error);
    if (!p) return send_error(res, error, *ctx.metrics);
    // Choice i * n + c (OpenAI's order): prompt i with seed + c.
    for (int32_t c = 0; c < request->n; ++c) {
      GenerateOptions options = request->generate;
      options.sampling.seed += static_cast<uint64_t>(c);
      jobs.push_back(std::make_shared<Job>(
          JobSpec{.prompt = p->tokens,
                  .options = std::move(options),
                  .prompt_logprobs = request->echo && request->logprobs >= 0 ? request->logprobs : -1,
                  .logprobs = request->logprobs}));
    }
    prompts.push_back(std::move(*p));
  }
  if (!submit_jobs(ctx, jobs, res)) return;
  ResponseMeta meta{.id = ctx.next_id("cmpl"), .created = static_cast<int64_t>(std::time(nullptr)),
                    .model = ctx.model_id};

  if (request->stream) {
    auto stream = std::make_shared<CompletionStream>(ctx, jobs.front(), std::move(meta), *request,
                                                     std::move(prompts.front()));
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        kSseContentType, [stream](size_t, httplib::DataSink& sink) { return stream->pump(sink); },
        [stream](bool success) { stream->closed(success); });
    return;
  }

  json choices = json::array();
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    JobUpdate all = collect(ctx, jobs[i]);
    if (all.error) {
      for (size_t j = i + 1; j < jobs.size(); ++j) ctx.scheduler->cancel(jobs[j]);
      return send_error(res, *all.error, *ctx.metrics);
    }
    const PreparedPrompt& prompt = prompts[i / static_cast<size_t>(request->n)];
    json logprobs = nullptr;
    if (request->logprobs >= 0) {
      CompletionLogprobs builder(*ctx.model);
      if (request->echo) add_prompt_logprobs(builder, prompt, all.prompt_logprobs);
      for (const TokenLogprob& t : all.logprobs) builder.add(t);
      logprobs = builder.take();
    }
    const std::string text = (request->echo ? prompt.echo_text : std::string()) + all.result.text;
    choices.push_back(completion_choice_json(i, text, std::move(logprobs), finish_reason_json(all.result.finish)));
    if (i % static_cast<size_t>(request->n) == 0) prompt_tokens += all.result.n_prompt;  // once per prompt
    completion_tokens += static_cast<int64_t>(all.result.tokens.size());
  }
  send_json(res, completion_json(meta, std::move(choices), prompt_tokens, completion_tokens));
}

}  // namespace hy2bit::server
