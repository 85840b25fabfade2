// POST /v1/chat/completions: messages -> Hunyuan chat prompt -> one Job;
// the reply comes back whole or as SSE chunks, its <think> part as
// reasoning_content and its answer (without <answer> tags) as content; with
// tools, calls parsed out of the content as tool_calls; with a JSON
// response_format or forced tool call, the grammar-constrained text as is.
#include <ctime>
#include <memory>
#include <optional>
#include <string>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/tools.h"
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
        include_usage_(request.include_usage), logprobs_(request.logprobs),
        constrained_(!request.generate.grammar.empty()) {
    if (request.tool_choice != ToolChoice::kNone) tools_ = std::make_unique<ToolCallParser>(meta_.id + "-call-");
  }

  // Called by httplib again and again until sink.done(); false aborts the response.
  bool pump(httplib::DataSink& sink);
  // httplib is done with the response; unless it all went out, the client is gone.
  void closed(bool success) {
    if (!success || !finished_) ctx_.scheduler->cancel(job_);
  }

 private:
  // Chunks for the segments; the logprobs ride on the first one.
  void add_segments(std::string& out, const std::vector<ReplySegment>& segments, json& logprobs);
  // Chunks for parsed content and tool calls (OpenAI's delta.tool_calls with index, id, type, function).
  void add_tool_update(std::string& out, const ToolCallParser::Update& u, json& logprobs);

  RouteContext& ctx_;
  OpenStream open_;
  std::shared_ptr<Job> job_;
  const ResponseMeta meta_;
  const bool include_usage_;
  const bool logprobs_;
  // A grammar-constrained reply is all answer: no reasoning split, so tag-like
  // text inside a JSON string stays in it.
  const bool constrained_;
  ChatReplySplitter splitter_;
  std::unique_ptr<ToolCallParser> tools_;  // with tools: calls parsed out of the content
  bool sent_role_ = false;
  bool finished_ = false;
};

void ChatStream::add_segments(std::string& out, const std::vector<ReplySegment>& segments, json& logprobs) {
  for (const ReplySegment& s : segments) {
    if (s.text.empty()) continue;
    if (s.part == ReplyPart::kThinking || !tools_) {
      json delta = {{s.part == ReplyPart::kThinking ? "reasoning_content" : "content", s.text}};
      out += sse_event(chat_chunk_json(meta_, std::move(delta), nullptr, std::exchange(logprobs, nullptr)));
      continue;
    }
    add_tool_update(out, tools_->push(s.text), logprobs);
  }
}

void ChatStream::add_tool_update(std::string& out, const ToolCallParser::Update& u, json& logprobs) {
  if (!u.content.empty())
    out += sse_event(chat_chunk_json(meta_, json{{"content", u.content}}, nullptr, std::exchange(logprobs, nullptr)));
  for (const ToolCall& c : u.calls) {
    const size_t index = tools_->n_calls() - u.calls.size() + static_cast<size_t>(&c - u.calls.data());
    out += sse_event(chat_chunk_json(meta_, json{{"tool_calls", tool_calls_json({c}, index)}}, nullptr,
                                     std::exchange(logprobs, nullptr)));
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
  add_segments(out, constrained_ ? std::vector<ReplySegment>{{ReplyPart::kAnswer, u.text}} : splitter_.push(u.text),
               logprobs);
  if (u.done) {
    if (u.error) {
      out += sse_event(error_body(*u.error));
    } else {
      if (!constrained_) add_segments(out, splitter_.finish(), logprobs);
      if (tools_) add_tool_update(out, tools_->finish(), logprobs);
      if (!logprobs.is_null()) out += sse_event(chat_chunk_json(meta_, json{{"content", ""}}, nullptr, logprobs));
      const bool called = tools_ && tools_->n_calls() > 0 && u.result.finish == FinishReason::kStop;
      out += sse_event(chat_chunk_json(meta_, json::object(), called ? json("tool_calls") : finish_reason_json(u.result.finish)));
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

std::optional<std::vector<int32_t>> chat_prompt(RouteContext& ctx, const ChatRequest& request, ApiError& error) {
  // Only the chat format makes control tokens; message content and the tools markup stay text.
  Result<std::vector<int32_t>> prompt =
      tokenize_chat(*ctx.model, request.messages, request.thinking, request.tools_json);
  if (!prompt) {
    error = bad_request(prompt.error().message, "messages");
    return std::nullopt;
  }
  const int64_t n_ctx = ctx.scheduler->n_ctx();
  if (static_cast<int64_t>(prompt->size()) >= n_ctx) {
    error = bad_request("the messages make a prompt of " + std::to_string(prompt->size()) +
                            " tokens, but this server's context holds " + std::to_string(n_ctx) +
                            " tokens (prompt + reply)",
                        "messages", "context_length_exceeded");
    return std::nullopt;
  }
  return std::move(*prompt);
}

void handle_chat_completions(RouteContext& ctx, const std::string& request_body, httplib::Response& res) {
  Result<json> body = parse_json_body(request_body);
  if (!body) return send_error(res, bad_request(body.error().message), *ctx.metrics);
  Result<ChatRequest> request = parse_chat_request(*body, ctx.options.sampling, ctx.next_seed(),
                                                   ctx.model->summary().n_vocab, request_body);
  if (!request) return send_error(res, bad_request(request.error().message), *ctx.metrics);

  ApiError error;
  const std::optional<std::vector<int32_t>> prompt = chat_prompt(ctx, *request, error);
  if (!prompt) return send_error(res, error, *ctx.metrics);

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

  const bool constrained = !request->generate.grammar.empty();
  json choices = json::array();
  GenerateResult usage;  // the prompt once, the completion tokens of every choice
  for (size_t c = 0; c < jobs.size(); ++c) {
    JobUpdate all = collect(ctx, jobs[c]);
    if (all.error) {
      for (size_t rest = c + 1; rest < jobs.size(); ++rest) ctx.scheduler->cancel(jobs[rest]);
      return send_error(res, *all.error, *ctx.metrics);
    }
    // A grammar-constrained reply is all answer: no reasoning split.
    ChatReplySplitter splitter;
    if (!constrained) {
      splitter.push(all.result.text);
      splitter.finish();
    }
    const std::string& content = constrained ? all.result.text : splitter.content();
    json logprobs = request->logprobs ? json{{"content", chat_logprobs_json(*ctx.model, all.logprobs)}} : json(nullptr);
    json one;
    if (request->tool_choice == ToolChoice::kNone) {
      one = chat_completion_json(meta, content, splitter.reasoning(), all.result.finish, all.result, std::move(logprobs));
    } else {
      // With tools: the calls come out of the content into message.tool_calls.
      const ParsedReply parsed = parse_tool_calls(content, meta.id + "-" + std::to_string(c) + "-call-");
      one = chat_completion_json(meta, parsed.content, splitter.reasoning(), all.result.finish, all.result,
                                 std::move(logprobs));
      if (!parsed.calls.empty()) {
        json& choice = one["choices"][0];
        json calls = tool_calls_json(parsed.calls, 0);
        for (json& call : calls) call.erase("index");  // only stream deltas carry an index
        choice["message"]["tool_calls"] = std::move(calls);
        if (parsed.content.empty()) choice["message"]["content"] = nullptr;
        if (all.result.finish == FinishReason::kStop) choice["finish_reason"] = "tool_calls";
      }
    }
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
