// The web chat page's routes: `/` (index.html) and `/webui/<file>` serve the
// embedded files with their content type, an ETag and no-cache revalidation.
// The page only talks to /v1/chat/completions and /v1/models, like any
// other client; no model logic lives here.
#pragma once

#include <string_view>

namespace httplib {
class Server;
}

namespace hy2bit::server {
struct RouteContext;
}

namespace hy2bit::server::webui {

// True for the page's own paths. They hold no data and are served without
// the API key (a browser cannot send one when it opens a page); the page
// sends the key the user enters in its settings with its API requests.
bool is_page_path(std::string_view path);

// Registers the page. With ctx.options.webui off, `/` answers 404 saying so.
void add_routes(httplib::Server& http, RouteContext& ctx);

}  // namespace hy2bit::server::webui
