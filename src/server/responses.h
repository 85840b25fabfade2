// Response bodies in OpenAI's shapes: chat.completion and its stream
// chunks (thinking as reasoning_content, as vLLM and llama.cpp return it),
// text_completion (legacy completions) with its logprobs object, usage, and
// the logprobs builders. Pure JSON building; the model is used only to turn
// token ids into text.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/model.h"
#include "hy2bit/reasoning.h"
#include "server/logprobs.h"

namespace hy2bit::server {

// What every response object of one request shares.
struct ResponseMeta {
  std::string id;        // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;   // unix seconds
  std::string model;     // the served model id
};

// "stop" or "length"; null (json) for a cancelled reply.
nlohmann::json finish_reason_json(FinishReason reason);
nlohmann::json usage_json(int64_t prompt_tokens, int64_t completion_tokens);

// Splits reply text into reasoning_content and content (ReasoningSplitter),
// keeping both wholes for the non-streamed message.
class ChatReplySplitter {
 public:
  std::vector<ReplySegment> push(std::string_view piece);
  std::vector<ReplySegment> finish();
  const std::string& content() const { return content_; }
  const std::string& reasoning() const { return reasoning_; }

 private:
  void keep(const std::vector<ReplySegment>& segments);
  ReasoningSplitter splitter_;
  std::string content_;
  std::string reasoning_;
};

// ---- /v1/chat/completions --------------------------------------------------

// The whole reply: message {role, content, reasoning_content (when there
// was thinking)}, finish_reason, usage. `logprobs`: null or {"content": [...]}.
nlohmann::json chat_completion_json(const ResponseMeta& meta, const std::string& content,
                                    const std::string& reasoning, FinishReason finish,
                                    const GenerateResult& result, nlohmann::json logprobs);
// One stream chunk with `delta` ({"role"}, {"content"} or {"reasoning_content"})
// and finish_reason (null while going on). `logprobs`: null or {"content": [...]}.
nlohmann::json chat_chunk_json(const ResponseMeta& meta, nlohmann::json delta, nlohmann::json finish_reason,
                               nlohmann::json logprobs = nullptr);
// The last chunk when stream_options.include_usage: no choices, usage set.
nlohmann::json chat_usage_chunk_json(const ResponseMeta& meta, const GenerateResult& result);
// Chat logprobs entries: {"token", "logprob", "bytes", "top_logprobs": [...]} per token.
nlohmann::json chat_logprobs_json(const Model& model, const std::vector<TokenLogprob>& tokens);

// message.tool_calls / delta.tool_calls entries: {"index", "id", "type":
// "function", "function": {"name", "arguments"}}, indices from first_index.
nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls, size_t first_index);

// ---- /v1/completions -------------------------------------------------------

// The legacy logprobs object {"tokens", "token_logprobs", "top_logprobs",
// "text_offset"}, built token by token. Offsets count Unicode code points
// of the choice's text, as Python clients index it.
class CompletionLogprobs {
 public:
  explicit CompletionLogprobs(const Model& model) : model_(model) {}
  // A token with no log-probability (the first prompt token). `shown`:
  // false for a BOS the server added, which the echoed text does not hold.
  void add_first(int32_t token, bool shown);
  void add(const TokenLogprob& logprob);
  // Everything added since the last take (a stream chunk), or all of it.
  nlohmann::json take();
  bool empty() const { return tokens_.empty(); }

 private:
  void add_token(int32_t token, size_t code_points, nlohmann::json logprob, nlohmann::json top);
  const Model& model_;
  size_t offset_ = 0;  // code points of text before the next token
  nlohmann::json tokens_ = nlohmann::json::array();
  nlohmann::json token_logprobs_ = nlohmann::json::array();
  nlohmann::json top_logprobs_ = nlohmann::json::array();
  nlohmann::json text_offset_ = nlohmann::json::array();
};

nlohmann::json completion_choice_json(size_t index, const std::string& text, nlohmann::json logprobs,
                                      nlohmann::json finish_reason);
nlohmann::json completion_json(const ResponseMeta& meta, nlohmann::json choices, int64_t prompt_tokens,
                               int64_t completion_tokens);
// One stream chunk: a single choice with `text` (finish_reason null while going on).
nlohmann::json completion_chunk_json(const ResponseMeta& meta, const std::string& text, nlohmann::json logprobs,
                                     nlohmann::json finish_reason);
nlohmann::json completion_usage_chunk_json(const ResponseMeta& meta, const GenerateResult& result);

// Unicode code points in UTF-8 text (bytes that do not continue a character).
size_t count_code_points(std::string_view text);

}  // namespace hy2bit::server
