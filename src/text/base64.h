// Standard base64 (RFC 4648, '+' and '/', '=' padding), both ways: the
// tiktoken vocabulary files the converter reads store tokens in it, and the
// embeddings route sends float vectors in it (encoding_format "base64").
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace hy2bit::text {

std::string base64_encode(std::span<const uint8_t> bytes);
// nullopt on any malformed or empty input (a bad character, a length that
// is not a multiple of 4, data after the padding).
std::optional<std::string> base64_decode(std::string_view s);

}  // namespace hy2bit::text
