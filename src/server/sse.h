// Server-sent events framing for streamed replies, as OpenAI sends them:
// each event is one "data: <json>" line followed by a blank line, and the
// stream ends with "data: [DONE]". JSON text never holds a raw newline, so
// one data line per event is always enough.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hy2bit::server {

inline constexpr const char* kSseContentType = "text/event-stream";

std::string sse_event(const nlohmann::json& data);  // "data: {...}\n\n"
std::string sse_done();                             // "data: [DONE]\n\n"

}  // namespace hy2bit::server
