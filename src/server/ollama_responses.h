// Response bodies in the ollama API's shapes (github.com/ollama/ollama,
// docs/api.md): the pieces of a chat or generate reply (message.content /
// message.thinking / message.tool_calls, or response / thinking), the last
// object's done_reason and timing stats (nanoseconds), and the model
// descriptions of /api/tags, /api/show and /api/ps. Pure JSON building over
// the reply text the scheduler produces; no requests and no model calls here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hy2bit/generate.h"
#include "hy2bit/text.h"
#include "hy2bit/model.h"
#include "hy2bit/tools.h"
#include "server/responses.h"

namespace hy2bit::server::ollama {

enum class Endpoint { kChat, kGenerate };  // /api/chat: message {...}; /api/generate: response

// What one stretch of reply text turned into.
struct ReplyPiece {
  std::string thinking;         // the <think> part
  std::string content;          // the answer (tool-call markup taken out)
  std::vector<ToolCall> calls;  // calls whose block closed in this stretch
  bool empty() const { return thinking.empty() && content.empty() && calls.empty(); }
};

// Reply text -> pieces, streamed or whole, through the same splitter and
// tool-call parser the OpenAI chat route uses.
class ReplyDecoder {
 public:
  struct Options {
    bool split_thinking = true;   // false: a grammar-constrained or raw reply, all content
    bool parse_tool_calls = false;  // the request gave tools
    std::string call_id_prefix = "call_";
  };
  explicit ReplyDecoder(Options options);
  ReplyPiece push(std::string_view text);
  ReplyPiece finish();  // the reply ended: whatever was held back

 private:
  void add(ReplyPiece& out, const std::vector<ReplySegment>& segments);
  void add_calls(ReplyPiece& out, ToolCallParser::Update update);
  const Options options_;
  ChatReplySplitter splitter_;
  std::unique_ptr<ToolCallParser> tools_;  // with tools
};

// "2026-12-03T08:20:49.123456789Z" for now (ollama's created_at).
std::string now_rfc3339();

// A streamed object: {model, created_at, message {role, content, thinking?,
// tool_calls?} | response + thinking?, done: false}.
nlohmann::json piece_json(Endpoint endpoint, const std::string& model, const ReplyPiece& piece);

// The last object (streamed) or the whole reply: piece_json with done:
// true, done_reason ("stop" or "length") and the stats total_duration,
// load_duration, prompt_eval_count, prompt_eval_duration, eval_count,
// eval_duration. `total_ns`: from the request's arrival to now.
nlohmann::json final_json(Endpoint endpoint, const std::string& model, const ReplyPiece& piece,
                          const GenerateResult& result, int64_t total_ns);

// message.tool_calls: [{"id", "function": {"index", "name", "arguments": {...}}}]
// (arguments an object, not JSON text as in OpenAI's shape).
nlohmann::json tool_calls_json(const std::vector<ToolCall>& calls, size_t first_index);

// The served model as /api/tags, /api/ps and /api/show describe it.
struct ModelCard {
  std::string name;           // "<id>:latest" unless the id has a tag
  std::string modified_at;    // RFC 3339 (the GGUF file's modification time)
  std::string digest;         // a stable id of the file (name, size, mtime); not a SHA-256
  const ModelSummary* summary = nullptr;
};
ModelCard model_card(const Model& model, const std::string& model_id);
nlohmann::json details_json(const ModelSummary& summary);  // {format, family, parameter_size, quantization_level, ...}
nlohmann::json tags_entry_json(const ModelCard& card);
nlohmann::json ps_entry_json(const ModelCard& card, int64_t n_ctx);
// /api/show: details, model_info (GGUF-style keys), capabilities, the
// server's default sampling as ollama "parameters" text.
nlohmann::json show_json(const ModelCard& card, const SamplingOptions& defaults, int64_t n_ctx);

}  // namespace hy2bit::server::ollama
