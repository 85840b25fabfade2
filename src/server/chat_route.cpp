// POST /v1/chat/completions: messages -> Hunyuan chat prompt -> one Job;
// the reply comes back whole or as SSE chunks, its <think> part as
// reasoning_content and its answer (without <answer> tags) as content.
#include <ctime>
#include <memory>
#include <string>

#include "hy2bit/generate.h"
#include "server/request_parsing.h"
#include "server/responses.h"
#include "server/request_log.h"
#include "server/routes.h"
#include "server/sse.h"

namespace hy2bit::server {
namespace {

using nlohmann::json;

// How long a stream waits for output before letting httplib check the
// connection (a client that went away is noticed within about this long
// once the reply has something to send).
constexpr std::chrono::milliseconds kPollInterval{100};

// One streamed chat reply. Lives as long as httplib's content provider.
class ChatStream {
 public:
  ChatStream(RouteContext& ctx, std::shared_ptr<Job> job, ResponseMeta meta, const ChatRequest& request)
      : ctx_(ctx), open_(ctx), job_(std::move(job)), meta_(std::move(meta)),
        include_usage_(request.include_usage), logprobs_(request.logprobs) {}

  // Called by httplib again and again until sink.done(); false aborts the response.
  bool pump(httplib::DataSink& sink);
  // httplib is done with the response; unless it all went out, the client is gone.
  void closed(bool success) {
    if (!success || !finished_) ctx_.scheduler->cancel(job_);
  }

 private:
  // Chunks for the segments; the logprobs ride on the first one.
  void add_segments(std::string& out, const std::vector<ReplySegment>& segments, json& logprobs);

  RouteContext& ctx_;
  OpenStream open_;
  std::shared_ptr<Job> job_;
  const ResponseMeta meta_;
  const bool include_usage_;
  const bool logprobs_;
  ChatReplySplitter splitter_;
  bool sent_role_ = false;
  bool finished_ = false;
};

void ChatStream::add_segments(std::string& out, const std::vector<ReplySegment>& segments, json& logprobs) {
  for (const ReplySegment& s : segments) {
    if (s.text.empty()) continue;
    json delta = {{s.part == ReplyPart::kThinking ? "reasoning_content" : "content", s.text}};
    out += sse_event(chat_chunk_json(meta_, std::move(delta), nullptr, std::exchange(logprobs, nullptr)));
  }
}

bool ChatStream::pump(httplib::DataSink& sink) {
  std::string out;
  if (!sent_role_) {
    out += sse_event(chat_chunk_json(meta_, json{{"role", "assistant"}, {"content", ""}}, nullptr));
    sent_role_ = true;
  }
  JobUpdate u = job_->take(kPollInterval);
  json logprobs = logprobs_ && !u.logprobs.empty() ? json{{"content", chat_logprobs_json(*ctx_.model, u.logprobs)}}
                                                   : json(nullptr);
  add_segments(out, splitter_.push(u.text), logprobs);
  if (u.done) {
    if (u.error) {
      out += sse_event(error_body(*u.error));
    } else {
      add_segments(out, splitter_.finish(), logprobs);
      if (!logprobs.is_null()) out += sse_event(chat_chunk_json(meta_, json{{"content", ""}}, nullptr, logprobs));
      out += sse_event(chat_chunk_json(meta_, json::object(), finish_reason_json(u.result.finish)));
      if (include_usage_) out += sse_event(chat_usage_chunk_json(meta_, u.result));
    }
    out += sse_done();
    finished_ = true;
    if (!u.error) note_tokens(u.result.n_prompt, static_cast<int64_t>(u.result.tokens.size()));
    if (!sink.write(out.data(), out.size())) return false;
    sink.done();
    return true;
  }
  if (!logprobs.is_null()) out += sse_event(chat_chunk_json(meta_, json{{"content", ""}}, nullptr, logprobs));
  if (!out.empty() && !sink.write(out.data(), out.size())) {
    ctx_.scheduler->cancel(job_);
    return false;
  }
  return true;
}

}  // namespace

void handle_chat_completions(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  Result<json> body = parse_json_body(request_body);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  Result<ChatRequest> request = parse_chat_request(*body, ctx.options.sampling, ctx.next_seed(),
                                                       ctx.model->summary().n_vocab);
  if (!request) return send_error(res, bad_request(request.error().message), *ctx.metrics);

  // Only the chat format makes control tokens; message content stays text.
  Result<std::vector<int32_t>> prompt = tokenize_chat(*ctx.model, request->messages, request->thinking);
  if (!prompt) return send_error(res, bad_request(prompt.error().message, "messages"), *ctx.metrics);
  const int64_t n_ctx = ctx.scheduler->n_ctx();
  if (static_cast<int64_t>(prompt->size()) >= n_ctx) {
    return send_error(res,
                      bad_request("the messages make a prompt of " + std::to_string(prompt->size()) +
                                      " tokens, but this server's context holds " + std::to_string(n_ctx) +
                                      " tokens (prompt + reply)",
                                  "messages", "context_length_exceeded"),
                      *ctx.metrics);
  }

  // n choices: the same prompt with seeds seed, seed + 1, ... (one request).
  std::vector<std::shared_ptr<Job>> jobs;
  for (int32_t c = 0; c < request->n; ++c) {
    GenerateOptions options = request->generate;
    options.sampling.seed += static_cast<uint64_t>(c);
    jobs.push_back(std::make_shared<Job>(JobSpec{.prompt = *prompt,
                                                 .options = std::move(options),
                                                 .prompt_logprobs = -1,
                                                 .logprobs = request->logprobs ? request->top_logprobs : -1}));
  }
  const std::shared_ptr<Job>& job = jobs.front();
  if (!submit_jobs(ctx, jobs, res)) return;
  ResponseMeta meta{.id = ctx.next_id("chatcmpl"), .created = static_cast<int64_t>(std::time(nullptr)),
                    .model = ctx.model_id};

  if (request->stream) {
    auto stream = std::make_shared<ChatStream>(ctx, job, std::move(meta), *request);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        kSseContentType, [stream](size_t, httplib::DataSink& sink) { return stream->pump(sink); },
        [stream](bool success) { stream->closed(success); });
    return;
  }

  json choices = json::array();
  GenerateResult usage;  // the prompt once, the completion tokens of every choice
  for (size_t c = 0; c < jobs.size(); ++c) {
    JobUpdate all = collect(ctx, jobs[c]);
    if (all.error) {
      for (size_t rest = c + 1; rest < jobs.size(); ++rest) ctx.scheduler->cancel(jobs[rest]);
      return send_error(res, *all.error, *ctx.metrics);
    }
    ChatReplySplitter splitter;
    splitter.push(all.result.text);
    splitter.finish();
    json logprobs = request->logprobs ? json{{"content", chat_logprobs_json(*ctx.model, all.logprobs)}} : json(nullptr);
    json one = chat_completion_json(meta, splitter.content(), splitter.reasoning(), all.result.finish, all.result,
                                    std::move(logprobs));
    one["choices"][0]["index"] = c;
    choices.push_back(std::move(one["choices"][0]));
    usage.n_prompt = all.result.n_prompt;
    usage.tokens.insert(usage.tokens.end(), all.result.tokens.begin(), all.result.tokens.end());
  }
  json reply = chat_completion_json(meta, "", "", FinishReason::kStop, usage, nullptr);
  reply["choices"] = std::move(choices);
  send_json(res, reply);
}

}  // namespace hy2bit::server
