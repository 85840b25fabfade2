// Who may talk to the server: the API key, the Host check against DNS
// rebinding (a keyless server on localhost must not answer a web page whose
// own name was made to resolve to 127.0.0.1) and CORS (which origins a
// browser may call from). Pure functions of the options and the headers.
#pragma once

#include <string>
#include <string_view>

#include "hy2bit/server.h"

namespace hy2bit::server {

// "Bearer <key>" matches options.api_key, compared in constant time.
bool api_key_ok(const ServerOptions& options, std::string_view authorization);

// With an API key every Host is answered. Without one: localhost names, IP
// literals (rebinding needs a DNS name), options.host and allowed_hosts
// ("*": any). `host` is the Host header, port included; empty: none sent.
bool host_allowed(const ServerOptions& options, std::string_view host);

// The browser's Origin header against the CORS allow-list: the value to
// send as Access-Control-Allow-Origin, or "" when not allowed. An empty
// origin (not a browser's cross-origin call) gives "".
std::string allowed_origin(const ServerOptions& options, std::string_view origin);

// An origin that is the server itself (the page at / calling the API):
// "http://" + the Host header.
bool same_origin(std::string_view origin, std::string_view host);

}  // namespace hy2bit::server
