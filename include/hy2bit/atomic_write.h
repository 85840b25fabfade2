// Writing a file whole or not at all, for tools that save user data (chat's
// /save) or write large models (quantize): the bytes go to a temporary file
// beside the target, which is renamed over it at the end. No partial file is
// ever left under the target's name.
#pragma once

#include <string>
#include <string_view>

#include "hy2bit/result.h"

namespace hy2bit {

// Writes `bytes` to `path` through a temporary file in its folder (created
// exclusively, never through a symlink), flushed and renamed over `path`.
// Errors name the file: a folder, device or FIFO at `path`, a missing or
// read-only folder, a full disk. On error an existing file is left untouched.
Status write_file_atomically(const std::string& path, std::string_view bytes);

// Installs SIGINT and SIGTERM handlers that remove the temporary file of
// every write still in progress in this process (quantize_file,
// convert_hf_checkpoint, write_test_model_file, write_file_atomically), then
// let the signal end the process as it would have. Handlers are process-wide,
// so the program installs them, not the library; idempotent.
void remove_temp_files_on_signal();

}  // namespace hy2bit
