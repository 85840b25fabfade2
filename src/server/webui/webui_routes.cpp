// Serves the embedded chat page. Every file is revalidated on each load
// (Cache-Control: no-cache plus an ETag from its hash), so a rebuilt binary
// never leaves a browser running an old script against a new server. The
// HTML carries a Content-Security-Policy that allows only this origin:
// no inline script, no external fetches.
#include "server/webui/webui_routes.h"

#include <string>

#include <httplib.h>

#include "server/routes.h"
#include "server/webui/embedded_files.h"

namespace hy2bit::server::webui {
namespace {

constexpr std::string_view kIndex = "index.html";
constexpr std::string_view kAssetPrefix = "/webui/";

// Only what the page itself needs: its own scripts, styles and icon, and
// fetch() to this server. frame-ancestors keeps it out of other sites' frames.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const EmbeddedFile* find_file(std::string_view name) {
  for (const EmbeddedFile& f : embedded_files())
    if (f.name == name) return &f;
  return nullptr;
}

const char* content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// If-None-Match holds a comma-separated list of (possibly weak) tags, or "*".
bool etag_matches(const std::string& if_none_match, const std::string& etag) {
  size_t at = 0;
  while (at < if_none_match.size()) {
    size_t end = if_none_match.find(',', at);
    if (end == std::string::npos) end = if_none_match.size();
    std::string_view tag = std::string_view(if_none_match).substr(at, end - at);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
    at = end + 1;
  }
  return false;
}

void serve_file(const EmbeddedFile& file, const httplib::Request& req, httplib::Response& res) {
  // (Built by appending: GCC 12 warns falsely (-Wrestrict) on "\"" + string.)
  std::string etag(1, '"');
  etag.append(file.hash);
  etag.push_back('"');
  res.set_header("ETag", etag);
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  if (file.name.ends_with(".html")) {
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("Referrer-Policy", "no-referrer");
  }
  if (etag_matches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;
    return;
  }
  res.set_content(file.bytes.data(), file.bytes.size(), content_type(file.name));
}

}  // namespace

bool is_page_path(std::string_view path) {
  return path == "/" || path == "/index.html" || path == "/favicon.ico" || path.starts_with(kAssetPrefix);
}

void add_routes(httplib::Server& http, RouteContext& ctx) {
  if (!ctx.options.webui) {
    http.Get("/", [&ctx](const httplib::Request&, httplib::Response& res) {
      send_error(res,
                 ApiError{.status = 404,
                          .message = "the web chat page is turned off (hy2bit serve --no-webui); "
                                     "the API is at /v1/chat/completions",
                          .type = "invalid_request_error", .code = "webui_disabled", .param = {}},
                 *ctx.metrics);
    });
    return;
  }
  auto index = [](const httplib::Request& req, httplib::Response& res) {
    if (const EmbeddedFile* f = find_file(kIndex)) serve_file(*f, req, res);
    else res.status = 404;  // (the build always embeds index.html)
  };
  http.Get("/", index);
  http.Get("/index.html", index);
  // Browsers ask for /favicon.ico whatever the page links; answer with the icon.
  http.Get("/favicon.ico", [](const httplib::Request& req, httplib::Response& res) {
    if (const EmbeddedFile* f = find_file("icon.svg")) serve_file(*f, req, res);
    else res.status = 404;
  });
  http.Get("/webui/([A-Za-z0-9_.-]+)", [](const httplib::Request& req, httplib::Response& res) {
    const EmbeddedFile* f = req.matches.size() > 1 ? find_file(req.matches[1].str()) : nullptr;
    if (f) serve_file(*f, req, res);
    else res.status = 404;  // the error handler writes the body
  });
}

}  // namespace hy2bit::server::webui
