// Reading the user's messages in chat: libedit line editing and history on
// a terminal, plain lines otherwise; a message spans several lines when a
// line ends with a backslash or between two lines of """.
#pragma once

#include <optional>
#include <string>

namespace hy2bit::tools {

class LineEditor {
 public:
  explicit LineEditor(bool terminal);  // terminal: use libedit
  // The next message (without the continuation marks), or nullopt at end of
  // input (Ctrl-D). Each message is added to the history once.
  std::optional<std::string> read_message(const char* prompt, const char* continuation_prompt);

 private:
  std::optional<std::string> read_line(const char* prompt);
  bool terminal_;
};

}  // namespace hy2bit::tools
