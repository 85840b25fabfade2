// Reading prompt text from files and stdin, and processing escapes.
#include "prompt_input.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace hy2bit::tools {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> read_text_file(const std::string& path, std::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(flag, ": cannot open '", path, "': ", std::strerror(errno));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return make_error(flag, ": cannot read '", path, "'");
  return text;
}

Result<std::string> read_stdin() {
  std::ostringstream text;
  text << std::cin.rdbuf();
  if (std::cin.bad()) return make_error("-p -: cannot read stdin");
  return text.str();
}

std::string process_escapes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    const char e = text[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '0': out += '\0'; break;
      case '\\': case '\'': case '"': case '?': out += e; break;
      case 'x': {
        int value = 0, digits = 0;
        while (digits < 2 && i + 1 < text.size() && hex_value(text[i + 1]) >= 0) value = value * 16 + hex_value(text[++i]), ++digits;
        if (digits == 0) out += "\\x";
        else out += static_cast<char>(value);
        break;
      }
      default: out += '\\'; out += e; break;
    }
  }
  return out;
}

}  // namespace hy2bit::tools
