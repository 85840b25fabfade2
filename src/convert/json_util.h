// Strict JSON for the Hugging Face files (config.json, tokenizer.json,
// safetensors headers): nlohmann-json without exceptions, plus a check for
// duplicate object keys, which nlohmann would silently resolve to the last
// one. Internal to src/convert; errors name the file and the key.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hy2bit/result.h"

namespace hy2bit::convert {

using Json = nlohmann::json;

// Parses `text` (named `what` in errors). Errors: not JSON, invalid UTF-8,
// a key that occurs twice in one object.
Result<Json> parse_json(std::string_view text, std::string_view what);

// Typed reads of an object member. An absent key gives nullopt; a present
// key of the wrong type is an error naming `what` and the key.
Result<std::optional<int64_t>> optional_int(const Json& object, const char* key, std::string_view what);
Result<std::optional<double>> optional_number(const Json& object, const char* key, std::string_view what);
Result<std::optional<bool>> optional_bool(const Json& object, const char* key, std::string_view what);
Result<std::optional<std::string>> optional_string(const Json& object, const char* key, std::string_view what);
// The same, but an absent key is an error too.
Result<int64_t> required_int(const Json& object, const char* key, std::string_view what);
Result<double> required_number(const Json& object, const char* key, std::string_view what);

}  // namespace hy2bit::convert
