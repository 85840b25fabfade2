// The ollama API under /api/ (ollama_routes.cpp): chat, generate, show,
// tags, ps, version. A translation layer over the OpenAI routes' request
// parsing, prompts and jobs; no generation logic of its own.
#pragma once

#include <string>

#include <httplib.h>

#include "server/routes.h"

namespace hy2bit::server::ollama {

// POST bodies (at most options.max_body_bytes, read by http_routes.cpp).
void handle_chat(RouteContext& ctx, const std::string& request_body, httplib::Response& res);
void handle_generate(RouteContext& ctx, const std::string& request_body, httplib::Response& res);
void handle_show(RouteContext& ctx, const std::string& request_body, httplib::Response& res);
// GET /api/tags, /api/ps, /api/version.
void handle_tags(RouteContext& ctx, httplib::Response& res);
void handle_ps(RouteContext& ctx, httplib::Response& res);
void handle_version(RouteContext& ctx, httplib::Response& res);

// Every error answered on an /api/ path (by a handler, the access checks or
// httplib itself) gets ollama's body {"error": "<message>"} in place of the
// OpenAI one, so ollama clients show the message. http_routes.cpp calls it
// after each error-writing step (before httplib compresses the body).
void reshape_error(const httplib::Request& req, httplib::Response& res);

}  // namespace hy2bit::server::ollama
