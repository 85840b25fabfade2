// OpenAI-style errors: the HTTP status and the body
// {"error": {"message", "type", "param", "code"}} that every 4xx/5xx carries,
// so clients (the official openai library included) show the message.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hy2bit::server {

struct ApiError {
  int status = 400;                             // HTTP status
  std::string message;                          // one line for a human
  std::string type = "invalid_request_error";   // OpenAI's error type
  std::string code;                             // machine-readable reason; empty: null
  std::string param;                            // the request field at fault; empty: null
};

ApiError bad_request(std::string message, std::string param = {}, std::string code = "invalid_value");
ApiError server_busy(std::string message);      // 429, the queue is full
ApiError unavailable(std::string message);      // 503, shutting down
ApiError internal_error(std::string message);   // 500, an evaluation failed

nlohmann::json error_body(const ApiError& error);

// JSON text for a response body. Invalid UTF-8 (a token's partial bytes in
// logprobs) becomes U+FFFD instead of throwing.
std::string to_text(const nlohmann::json& value);

}  // namespace hy2bit::server
