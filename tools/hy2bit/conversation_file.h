// chat's /save and /load: a conversation as a JSON file
//   {"format": "hy2bit-chat", "version": 1, "thinking": "default"|"on"|"off",
//    "messages": [{"role": "system"|"user"|"assistant", "content": "..."}, ...]}
// written atomically; a bad file is refused with the field that is wrong.
#pragma once

#include <string>
#include <vector>

#include "hy2bit/text.h"

namespace hy2bit::tools {

struct Conversation {
  std::vector<ChatMessage> messages;  // a system message, if any, first
  Thinking thinking = Thinking::kDefault;
};

Status save_conversation(const std::string& path, const Conversation& conversation);
Result<Conversation> load_conversation(const std::string& path);

}  // namespace hy2bit::tools
