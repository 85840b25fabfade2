// LineEditor over libedit's readline interface (BSD-licensed editline):
// emacs-style editing, arrow keys, and the history of this session.
#include "line_editor.h"

#include <editline/readline.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

namespace hy2bit::tools {
namespace {

constexpr std::string_view kBlock = "\"\"\"";

bool ends_with(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

LineEditor::LineEditor(bool terminal) : terminal_(terminal) {
  if (terminal_) using_history();
}

std::optional<std::string> LineEditor::read_line(const char* prompt) {
  if (!terminal_) {
    std::fputs(prompt, stdout);
    std::fflush(stdout);
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    return line;
  }
  char* line = readline(prompt);
  if (line == nullptr) return std::nullopt;
  std::string text(line);
  std::free(line);
  return text;
}

std::optional<std::string> LineEditor::read_message(const char* prompt, const char* continuation_prompt) {
  std::optional<std::string> line = read_line(prompt);
  if (!line) return std::nullopt;
  std::string message;
  if (line->rfind(kBlock, 0) == 0) {
    // """ block: everything up to a line that ends with """.
    std::string rest = line->substr(kBlock.size());
    while (!ends_with(rest, kBlock)) {
      message += rest + "\n";
      std::optional<std::string> next = read_line(continuation_prompt);
      if (!next) break;  // end of input closes the block
      rest = *next;
    }
    if (ends_with(rest, kBlock)) message += rest.substr(0, rest.size() - kBlock.size());
    while (!message.empty() && message.back() == '\n') message.pop_back();
    if (!message.empty() && message.front() == '\n') message.erase(0, 1);
  } else {
    // Lines ending with a backslash continue on the next line.
    std::string current = *line;
    while (!current.empty() && current.back() == '\\') {
      current.pop_back();
      message += current + "\n";
      std::optional<std::string> next = read_line(continuation_prompt);
      if (!next) {
        current.clear();
        break;
      }
      current = *next;
    }
    message += current;
  }
  if (terminal_ && !message.empty()) add_history(message.c_str());
  return message;
}

}  // namespace hy2bit::tools
