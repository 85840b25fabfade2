// The interactive chat loop, shared by `hy2bit chat` and `hy2bit run -cnv`.
#pragma once

#include <string>

#include "generation_flags.h"

namespace hy2bit::tools {

struct ChatOptions {
  GenerationFlags flags;        // already through check_generation_flags
  std::string first_message;    // sent before the first prompt (run -cnv -p TEXT)
  bool single_turn = false;     // -st: leave after the first reply
  bool conversation = true;     // chat's -cnv (always) / -no-cnv (refused)
};

// Runs the chat until /exit or Ctrl-D; returns the exit status.
int run_chat(ChatOptions& options);

}  // namespace hy2bit::tools
