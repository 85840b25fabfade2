// Conversation <-> JSON (nlohmann::json), with every field checked on load.
#include "conversation_file.h"

#include <nlohmann/json.hpp>

#include "hy2bit/atomic_write.h"
#include "prompt_input.h"

namespace hy2bit::tools {
namespace {

using nlohmann::json;

const char* role_name(Role role) {
  switch (role) {
    case Role::kSystem: return "system";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kTool: return "tool";  // chat makes none; kept so a saved file says what it holds
  }
  return "user";
}

const char* thinking_name(Thinking t) {
  switch (t) {
    case Thinking::kDefault: return "default";
    case Thinking::kOn: return "on";
    case Thinking::kOff: return "off";
  }
  return "default";
}

}  // namespace

Status save_conversation(const std::string& path, const Conversation& c) {
  json messages = json::array();
  for (const ChatMessage& m : c.messages) messages.push_back({{"role", role_name(m.role)}, {"content", m.content}});
  const json doc = {{"format", "hy2bit-chat"}, {"version", 1}, {"thinking", thinking_name(c.thinking)},
                    {"messages", messages}};
  return write_file_atomically(path, doc.dump(2) + "\n");
}

Result<Conversation> load_conversation(const std::string& path) {
  Result<std::string> text = read_text_file(path, "/load");
  if (!text) return text.error();
  const json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return make_error("/load: '", path, "' is not JSON");
  if (!doc.is_object() || doc.value("format", json()) != "hy2bit-chat")
    return make_error("/load: '", path, "' is not a hy2bit chat (\"format\": \"hy2bit-chat\" missing)");
  if (doc.value("version", json()) != 1) return make_error("/load: '", path, "': \"version\" must be 1");
  Conversation c;
  const json thinking = doc.value("thinking", json("default"));
  if (thinking == "on") c.thinking = Thinking::kOn;
  else if (thinking == "off") c.thinking = Thinking::kOff;
  else if (thinking != "default") return make_error("/load: '", path, "': \"thinking\" must be default, on or off");
  const json messages = doc.value("messages", json());
  if (!messages.is_array()) return make_error("/load: '", path, "': \"messages\" must be an array");
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["content"].is_string())
      return make_error("/load: '", path, "': messages[", i, "] needs a \"role\" and a string \"content\"");
    const json& role = m["role"];
    Role r;
    if (role == "system" && i == 0) r = Role::kSystem;
    else if (role == "user") r = Role::kUser;
    else if (role == "assistant") r = Role::kAssistant;
    else return make_error("/load: '", path, "': messages[", i, "].role must be user or assistant (or system, first)");
    c.messages.push_back({r, m["content"].get<std::string>()});
  }
  return c;
}

}  // namespace hy2bit::tools
