// Files compiled into the binary: the web chat page's HTML, CSS, JS and
// icon, whose bytes cmake/embed_files.cmake writes into a generated source
// at build time (nothing is read from disk or fetched at run time).
#pragma once

#include <span>
#include <string_view>

namespace hy2bit::server::webui {

struct EmbeddedFile {
  std::string_view name;   // path under src/server/webui/, e.g. "app.js"
  std::string_view bytes;  // the file's contents, as committed
  std::string_view hash;   // first 16 hex digits of its SHA-256 (the ETag)
};

// Every embedded file, in name order. Defined in the generated source.
std::span<const EmbeddedFile> embedded_files();

}  // namespace hy2bit::server::webui
