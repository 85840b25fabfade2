// SSE event text; JSON goes through to_text so invalid UTF-8 cannot throw.
#include "server/sse.h"

#include "server/api_error.h"

namespace hy2bit::server {

std::string sse_event(const nlohmann::json& data) {
  std::string out = "data: ";
  out += to_text(data);
  out += "\n\n";
  return out;
}

std::string sse_done() { return "data: [DONE]\n\n"; }

}  // namespace hy2bit::server
