// Checks shared by the GGUF reader and writer, so both accept exactly the same
// names, shapes and alignments: names (keys, tensor names), tensor shapes and
// their byte sizes, aligned offsets. Each failure is a one-line Error.
// Internal to src/gguf (not part of the contract in gguf.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "formats/type_id.h"
#include "hy2bit/result.h"

namespace hy2bit::gguf::detail {

constexpr uint64_t kDefaultAlignment = 32;     // GGUF's default for the data section
constexpr uint64_t kMaxNameBytes = 64 * 1024;  // longest metadata key or tensor name
constexpr int kMaxArrayDepth = 8;              // arrays of arrays of ... (the format allows nesting)

bool is_valid_utf8(std::string_view s);

// `s` in single quotes, made safe for a one-line message: control bytes (and
// all non-ASCII bytes if `s` is not valid UTF-8) become \xNN, and long text is
// shortened with "...".
std::string quoted(std::string_view s);

// A metadata key or tensor name must be non-empty, at most kMaxNameBytes and
// valid UTF-8. `what` names it in the message ("metadata key", "tensor name").
Status check_name(std::string_view what, std::string_view name);

// "[512, 1000]": a shape in ggml order for messages.
std::string shape_text(std::span<const int64_t> ne);

// Checks a tensor's shape (1..4 dims, none negative, element count within
// int64 even when multiplied in any order, row a whole number of blocks) and
// returns its size in bytes.
Result<uint64_t> tensor_bytes(std::string_view name, const formats::TypeInfo& type,
                              std::span<const int64_t> ne);

bool is_valid_alignment(uint64_t alignment);  // nonzero power of two
// x rounded up to a multiple of `alignment` (a power of two); nullopt on overflow.
std::optional<uint64_t> align_up(uint64_t x, uint64_t alignment);

}  // namespace hy2bit::gguf::detail
