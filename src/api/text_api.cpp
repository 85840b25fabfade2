// The public text functions (hy2bit/generate.h): tokenizing with the model's
// tokenizer and rendering the Hunyuan chat format (text/chat_format.h).
#include <algorithm>

#include "api/model_impl.h"
#include "hy2bit/text.h"
#include "text/chat_format.h"

namespace hy2bit {
namespace {

text::ChatRole to_text_role(Role role) {
  switch (role) {
    case Role::kSystem: return text::ChatRole::kSystem;
    case Role::kUser: return text::ChatRole::kUser;
    case Role::kAssistant: return text::ChatRole::kAssistant;
    case Role::kTool: return text::ChatRole::kTool;
  }
  return text::ChatRole::kUser;
}

text::ThinkingMode to_text_thinking(Thinking thinking) {
  switch (thinking) {
    case Thinking::kDefault: return text::ThinkingMode::kDefault;
    case Thinking::kOn: return text::ThinkingMode::kOn;
    case Thinking::kOff: return text::ThinkingMode::kOff;
  }
  return text::ThinkingMode::kDefault;
}

std::vector<text::ChatMessage> to_text_messages(const std::vector<ChatMessage>& messages) {
  std::vector<text::ChatMessage> out;
  out.reserve(messages.size());
  for (const ChatMessage& m : messages) {
    text::ChatMessage t{to_text_role(m.role), m.content};
    for (const ToolCall& c : m.tool_calls) t.tool_calls.push_back({c.id, c.name, c.arguments});
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace

const grammar::TokenTrie& Model::Impl::grammar_vocab() {
  std::call_once(grammar_vocab_once_, [this] {
    std::vector<std::string> bytes(static_cast<size_t>(tokenizer->n_vocab()));
    for (int32_t id = 0; id < tokenizer->n_vocab(); ++id) {
      if (tokenizer->is_control(id) || std::binary_search(end_tokens.begin(), end_tokens.end(), id)) continue;
      bytes[static_cast<size_t>(id)] = tokenizer->token_bytes(id, /*render_special=*/false);
    }
    grammar_vocab_ = std::make_unique<grammar::TokenTrie>(bytes);
  });
  return *grammar_vocab_;
}

Result<std::vector<int32_t>> tokenize(const Model& model, std::string_view text,
                                      const TokenizeOptions& options) {
  const text::Tokenizer& tokenizer = *model.impl().tokenizer;
  return tokenizer.encode(text, {.add_bos = options.add_bos && tokenizer.add_bos(),
                                 .parse_special = options.parse_special});
}

std::string token_to_piece(const Model& model, int32_t id) {
  return model.impl().tokenizer->token_bytes(id, /*render_special=*/true);
}

std::string token_to_reply_piece(const Model& model, int32_t id) {
  const text::Tokenizer& tokenizer = *model.impl().tokenizer;
  if (tokenizer.is_control(id)) {
    const std::string_view text = tokenizer.text(id);
    const bool reasoning_tag = text == "<think>" || text == "</think>" || text == "<answer>" || text == "</answer>";
    return reasoning_tag ? std::string(text) : std::string();
  }
  return tokenizer.token_bytes(id, /*render_special=*/true);
}

bool is_end_of_generation(const Model& model, int32_t id) {
  const std::vector<int32_t>& ends = model.impl().end_tokens;
  return std::binary_search(ends.begin(), ends.end(), id);
}

std::string render_chat(const Model& model, const std::vector<ChatMessage>& messages, Thinking thinking,
                        std::string_view tools_json) {
  const text::Tokenizer& tokenizer = *model.impl().tokenizer;
  return text::render_chat(to_text_messages(messages),
                           {.add_generation_prompt = true,
                            .thinking = to_text_thinking(thinking),
                            .bos_text = std::string(tokenizer.text(tokenizer.bos())),
                            .tools_json = std::string(tools_json)});
}

Result<std::vector<int32_t>> tokenize_chat(const Model& model, const std::vector<ChatMessage>& messages,
                                           Thinking thinking, std::string_view tools_json) {
  const text::Tokenizer& tokenizer = *model.impl().tokenizer;
  const std::vector<text::ChatPart> parts =
      text::render_chat_parts(to_text_messages(messages),
                              {.add_generation_prompt = true,
                               .thinking = to_text_thinking(thinking),
                               .bos_text = std::string(tokenizer.text(tokenizer.bos())),
                               .tools_json = std::string(tools_json)});
  std::vector<int32_t> out;
  for (const text::ChatPart& part : parts) {
    Result<std::vector<int32_t>> ids = tokenizer.encode(part.text, {.add_bos = false, .parse_special = part.from_template});
    if (!ids) return ids.error();
    out.insert(out.end(), ids->begin(), ids->end());
  }
  return out;
}

bool thinking_enabled(const std::vector<ChatMessage>& messages, Thinking thinking) {
  return text::thinking_enabled(to_text_messages(messages), to_text_thinking(thinking));
}

}  // namespace hy2bit
