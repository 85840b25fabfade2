// POST /v1/chat/completions: messages -> Hunyuan chat prompt -> one Job;
// the reply comes back whole or as SSE chunks, its <think> part as
// reasoning_content and its answer (without <answer> tags) as content; with
// tools, calls parsed out of the content as tool_calls; with a JSON
// response_format or forced tool call, the grammar-constrained text as is.
#include <ctime>
#include <memory>
#include <string>

#include "hy2bit/generate.h"
#include "hy2bit/tools.h"
#include "server/request_parsing.h"
#include "server/responses.h"
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
  Result<ChatRequest> request = parse_chat_request(*body, ctx.options.sampling, ctx.next_seed(), request_body);
  if (!request) return send_error(res, bad_request(request.error().message), *ctx.metrics);

  // The rendered prompt starts with BOS as text; special-token text becomes tokens.
  const std::string prompt_text = render_chat(*ctx.model, request->messages, request->thinking, request->tools_json);
  Result<std::vector<int32_t>> prompt = tokenize(*ctx.model, prompt_text, {.add_bos = false, .parse_special = true});
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

  auto job = std::make_shared<Job>(JobSpec{.prompt = std::move(*prompt),
                                           .options = request->generate,
                                           .prompt_logprobs = -1,
                                           .logprobs = request->logprobs ? request->top_logprobs : -1});
  if (!submit_jobs(ctx, {job}, res)) return;
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

  JobUpdate all = collect(*job);
  if (all.error) return send_error(res, *all.error, *ctx.metrics);
  ChatReplySplitter splitter;
  if (request->generate.grammar.empty()) {
    splitter.push(all.result.text);
    splitter.finish();
  }
  const std::string& content = request->generate.grammar.empty() ? splitter.content() : all.result.text;
  json logprobs = request->logprobs ? json{{"content", chat_logprobs_json(*ctx.model, all.logprobs)}} : json(nullptr);
  if (request->tool_choice == ToolChoice::kNone) {
    send_json(res, chat_completion_json(meta, content, splitter.reasoning(), all.result.finish, all.result,
                                        std::move(logprobs)));
    return;
  }
  // With tools: the calls come out of the content into message.tool_calls.
  const ParsedReply parsed = parse_tool_calls(content, meta.id + "-call-");
  json out = chat_completion_json(meta, parsed.content, splitter.reasoning(), all.result.finish, all.result,
                                  std::move(logprobs));
  if (!parsed.calls.empty()) {
    json& choice = out["choices"][0];
    json calls = tool_calls_json(parsed.calls, 0);
    for (json& c : calls) c.erase("index");  // only stream deltas carry an index
    choice["message"]["tool_calls"] = std::move(calls);
    if (parsed.content.empty()) choice["message"]["content"] = nullptr;
    if (all.result.finish == FinishReason::kStop) choice["finish_reason"] = "tool_calls";
  }
  send_json(res, out);
}

}  // namespace hy2bit::server
