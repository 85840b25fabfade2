// Where a prompt comes from besides -p TEXT: a file (-f), stdin (-p -), and
// llama.cpp's escape sequences (-e) turned into the characters they name.
#pragma once

#include <string>
#include <string_view>

#include "hy2bit/result.h"

namespace hy2bit::tools {

// The whole file as text; `flag` names the option in the error ("-f").
Result<std::string> read_text_file(const std::string& path, std::string_view flag);
// All of stdin (for -p -).
Result<std::string> read_stdin();
// \n \r \t \\ \' \" \? \a \b \f \v \0 and \xNN (one or two hex digits) become
// their bytes, as llama.cpp's string_process_escapes; an unknown escape stays as written.
std::string process_escapes(std::string_view text);

}  // namespace hy2bit::tools
