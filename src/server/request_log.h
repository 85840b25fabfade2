// One log line per HTTP request on stderr (method, route, status, tokens in
// and out, milliseconds), as text or JSON (--log-format). Handlers report
// their token counts through note_tokens() on their connection's thread;
// the line is written once the response went out.
#pragma once

#include <cstdint>
#include <string>

#include <httplib.h>

namespace hy2bit::server {

// The calling thread's request starts now (its headers are in).
void request_started();
// Adds the tokens the calling thread's request used.
void note_tokens(int64_t prompt_tokens, int64_t completion_tokens);
// The line for a finished request ("text" or "json"); resets the counts.
std::string request_log_line(const std::string& format, const httplib::Request& req, const httplib::Response& res);

}  // namespace hy2bit::server
