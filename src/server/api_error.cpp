// OpenAI-style error bodies and the one place response JSON becomes text.
#include "server/api_error.h"

#include <utility>

namespace hy2bit::server {

ApiError bad_request(std::string message, std::string param, std::string code) {
  return ApiError{.status = 400,
                  .message = std::move(message),
                  .type = "invalid_request_error",
                  .code = std::move(code),
                  .param = std::move(param)};
}

ApiError server_busy(std::string message) {
  return ApiError{.status = 429, .message = std::move(message), .type = "rate_limit_error",
                  .code = "queue_full", .param = {}};
}

ApiError unavailable(std::string message) {
  return ApiError{.status = 503, .message = std::move(message), .type = "server_error",
                  .code = "shutting_down", .param = {}};
}

ApiError internal_error(std::string message) {
  return ApiError{.status = 500, .message = std::move(message), .type = "server_error",
                  .code = "internal_error", .param = {}};
}

nlohmann::json error_body(const ApiError& error) {
  nlohmann::json e = {{"message", error.message}, {"type", error.type}};
  e["param"] = error.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.param);
  e["code"] = error.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.code);
  return nlohmann::json{{"error", std::move(e)}};
}

std::string to_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace hy2bit::server
