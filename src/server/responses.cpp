// OpenAI response shapes (API reference: chat.completion,
// chat.completion.chunk, text_completion). Fields clients read are always
// present; reasoning_content appears only when the model thought.
#include "server/responses.h"

#include <utility>

namespace hy2bit::server {

using nlohmann::json;

nlohmann::json finish_reason_json(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength:
    case FinishReason::kContextFull: return "length";
    case FinishReason::kCancelled: return nullptr;
  }
  return nullptr;
}

nlohmann::json usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  return json{{"prompt_tokens", prompt_tokens},
              {"completion_tokens", completion_tokens},
              {"total_tokens", prompt_tokens + completion_tokens}};
}

size_t count_code_points(std::string_view text) {
  size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// ---- chat -----------------------------------------------------------------

void ChatReplySplitter::keep(const std::vector<ReplySegment>& segments) {
  for (const ReplySegment& s : segments) (s.part == ReplyPart::kThinking ? reasoning_ : content_) += s.text;
}

std::vector<ReplySegment> ChatReplySplitter::push(std::string_view piece) {
  std::vector<ReplySegment> out = splitter_.push(piece);
  keep(out);
  return out;
}

std::vector<ReplySegment> ChatReplySplitter::finish() {
  std::vector<ReplySegment> out = splitter_.finish();
  keep(out);
  return out;
}

nlohmann::json chat_completion_json(const ResponseMeta& meta, const std::string& content,
                                    const std::string& reasoning, FinishReason finish,
                                    const GenerateResult& result, nlohmann::json logprobs) {
  json message = {{"role", "assistant"}, {"content", content}};
  if (!reasoning.empty()) message["reasoning_content"] = reasoning;
  json choice = {{"index", 0},
                 {"message", std::move(message)},
                 {"logprobs", std::move(logprobs)},
                 {"finish_reason", finish_reason_json(finish)}};
  return json{{"id", meta.id},
              {"object", "chat.completion"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", json::array({std::move(choice)})},
              {"usage", usage_json(result.n_prompt, static_cast<int64_t>(result.tokens.size()))}};
}

nlohmann::json chat_chunk_json(const ResponseMeta& meta, nlohmann::json delta, nlohmann::json finish_reason,
                               nlohmann::json logprobs) {
  json choice = {{"index", 0},
                 {"delta", std::move(delta)},
                 {"logprobs", std::move(logprobs)},
                 {"finish_reason", std::move(finish_reason)}};
  return json{{"id", meta.id},
              {"object", "chat.completion.chunk"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", json::array({std::move(choice)})}};
}

nlohmann::json chat_usage_chunk_json(const ResponseMeta& meta, const GenerateResult& result) {
  return json{{"id", meta.id},
              {"object", "chat.completion.chunk"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", json::array()},
              {"usage", usage_json(result.n_prompt, static_cast<int64_t>(result.tokens.size()))}};
}

namespace {

json bytes_json(const std::string& piece) {
  json bytes = json::array();
  for (char c : piece) bytes.push_back(static_cast<unsigned char>(c));
  return bytes;
}

}  // namespace

nlohmann::json chat_logprobs_json(const Model& model, const std::vector<TokenLogprob>& tokens) {
  json content = json::array();
  for (const TokenLogprob& t : tokens) {
    const std::string piece = token_to_piece(model, t.token);
    json top = json::array();
    for (const auto& [id, logprob] : t.top) {
      const std::string alt = token_to_piece(model, id);
      top.push_back({{"token", alt}, {"logprob", logprob}, {"bytes", bytes_json(alt)}});
    }
    content.push_back(
        {{"token", piece}, {"logprob", t.logprob}, {"bytes", bytes_json(piece)}, {"top_logprobs", std::move(top)}});
  }
  return content;
}

// ---- completions ----------------------------------------------------------

void CompletionLogprobs::add_token(int32_t token, size_t code_points, nlohmann::json logprob, nlohmann::json top) {
  tokens_.push_back(token_to_piece(model_, token));
  token_logprobs_.push_back(std::move(logprob));
  top_logprobs_.push_back(std::move(top));
  text_offset_.push_back(offset_);
  offset_ += code_points;
}

void CompletionLogprobs::add_first(int32_t token, bool shown) {
  add_token(token, shown ? count_code_points(token_to_piece(model_, token)) : 0, nullptr, nullptr);
}

void CompletionLogprobs::add(const TokenLogprob& logprob) {
  json top = json::object();
  for (const auto& [id, value] : logprob.top) {
    const std::string piece = token_to_piece(model_, id);
    if (!top.contains(piece)) top[piece] = value;  // two tokens with one text: keep the likelier
  }
  add_token(logprob.token, count_code_points(token_to_piece(model_, logprob.token)), logprob.logprob,
            std::move(top));
}

nlohmann::json CompletionLogprobs::take() {
  json out = {{"tokens", std::exchange(tokens_, json::array())},
              {"token_logprobs", std::exchange(token_logprobs_, json::array())},
              {"top_logprobs", std::exchange(top_logprobs_, json::array())},
              {"text_offset", std::exchange(text_offset_, json::array())}};
  return out;
}

nlohmann::json completion_choice_json(size_t index, const std::string& text, nlohmann::json logprobs,
                                      nlohmann::json finish_reason) {
  return json{{"index", index},
              {"text", text},
              {"logprobs", std::move(logprobs)},
              {"finish_reason", std::move(finish_reason)}};
}

nlohmann::json completion_json(const ResponseMeta& meta, nlohmann::json choices, int64_t prompt_tokens,
                               int64_t completion_tokens) {
  return json{{"id", meta.id},
              {"object", "text_completion"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", std::move(choices)},
              {"usage", usage_json(prompt_tokens, completion_tokens)}};
}

nlohmann::json completion_chunk_json(const ResponseMeta& meta, const std::string& text, nlohmann::json logprobs,
                                     nlohmann::json finish_reason) {
  return json{{"id", meta.id},
              {"object", "text_completion"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", json::array({completion_choice_json(0, text, std::move(logprobs), std::move(finish_reason))})}};
}

nlohmann::json completion_usage_chunk_json(const ResponseMeta& meta, const GenerateResult& result) {
  return json{{"id", meta.id},
              {"object", "text_completion"},
              {"created", meta.created},
              {"model", meta.model},
              {"choices", json::array()},
              {"usage", usage_json(result.n_prompt, static_cast<int64_t>(result.tokens.size()))}};
}

json tool_calls_json(const std::vector<ToolCall>& calls, size_t first_index) {
  json out = json::array();
  for (size_t i = 0; i < calls.size(); ++i)
    out.push_back({{"index", first_index + i},
                   {"id", calls[i].id},
                   {"type", "function"},
                   {"function", {{"name", calls[i].name}, {"arguments", calls[i].arguments}}}});
  return out;
}

}  // namespace hy2bit::server
