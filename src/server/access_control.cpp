// API key, Host and Origin checks (see access_control.h).
#include "server/access_control.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace hy2bit::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "name:port" -> "name", "[::1]:8080" -> "::1", "name" -> "name".
std::string host_name(std::string_view host) {
  if (host.starts_with("[")) {
    const size_t close = host.find(']');
    return lower(host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  const size_t colon = host.rfind(':');
  return lower(colon == std::string_view::npos ? host : host.substr(0, colon));
}

bool is_ip_literal(const std::string& name) {
  unsigned char buf[16];
  return inet_pton(AF_INET, name.c_str(), buf) == 1 || inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

}  // namespace

bool api_key_ok(const ServerOptions& options, std::string_view authorization) {
  constexpr std::string_view kBearer = "Bearer ";
  if (options.api_key.empty() || !authorization.starts_with(kBearer)) return false;
  const std::string_view given = authorization.substr(kBearer.size());
  const std::string& key = options.api_key;
  // Time does not depend on where they first differ (the length may leak).
  if (given.size() != key.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  return diff == 0;
}

bool host_allowed(const ServerOptions& options, std::string_view host) {
  if (!options.api_key.empty() || host.empty()) return true;  // no Host: not a browser (HTTP/1.0 tools)
  const std::string name = host_name(host);
  if (name == "localhost" || name.ends_with(".localhost") || is_ip_literal(name)) return true;
  if (name == lower(options.host)) return true;
  return std::any_of(options.allowed_hosts.begin(), options.allowed_hosts.end(),
                     [&](const std::string& allowed) { return allowed == "*" || host_name(allowed) == name; });
}

std::string allowed_origin(const ServerOptions& options, std::string_view origin) {
  if (origin.empty()) return {};
  for (const std::string& allowed : options.cors_origins) {
    if (allowed == "*") return "*";
    if (lower(allowed) == lower(origin)) return std::string(origin);
  }
  return {};
}

bool same_origin(std::string_view origin, std::string_view host) {
  if (host.empty()) return false;
  const std::string o = lower(origin);
  const std::string h = lower(host);
  return o == "http://" + h || o == "https://" + h;
}

}  // namespace hy2bit::server
