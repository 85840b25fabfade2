// The built-in default model (models/README.md): a small 2-bit poet trained
// by qat/run_all.sh, linked into the binary (default_model.S) so that run,
// chat and serve with no -m answer with real text, offline.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace hy2bit::tools {

struct DefaultModel {
  std::string name;                // its file name in models/, e.g. "hy-poet-17m-2bit-q2_0c.gguf"
  std::span<const uint8_t> bytes;  // the GGUF image, in read-only data for the program's life
};

const DefaultModel& default_model();

}  // namespace hy2bit::tools
