// fetch_file: the partial file is opened O_NOFOLLOW (never through a
// symlink) and locked, so two processes do not write one download; the
// finished file is flushed, checked and renamed over the target.
#include "download/transfer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "download/http.h"
#include "download/sha256.h"

namespace hy2bit::download {
namespace {

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text);
  return text;
}

Status write_small_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("cannot write '", path, "': ", std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return make_error("cannot write '", path, "'");
  return Ok{};
}

// What an HTTP status means for someone downloading a model.
std::string status_error(long status, const std::string& url) {
  switch (status) {
    case 401: return "401 Unauthorized for " + url + ": the repo is gated or private; set HF_TOKEN (or -hft) to a token that may read it";
    case 403: return "403 Forbidden for " + url + ": this token may not read the repo (accept its licence on the Hub first?)";
    case 404: return "404 Not Found: " + url + " does not exist (check the repo, the file name and the quant tag)";
    case 416: return "416 Range Not Satisfiable for " + url;
    default: return "HTTP " + std::to_string(status) + " for " + url;
  }
}

// Closes the descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string sha256_in_etag(const std::string& etag) {
  std::string s = etag;
  if (s.rfind("W/", 0) == 0) s.erase(0, 2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s.size() != 64) return {};
  for (char& c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

Status fetch_file(const FetchRequest& request) {
  const std::string partial = request.target + ".partial";
  const std::string etag_path = partial + ".etag";

  Fd out;
  out.fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out.fd < 0)
    return make_error("cannot open '", partial, "': ", std::strerror(errno),
                      errno == ELOOP ? " (it is a symlink; remove it)" : "");
  struct stat st{};
  if (::fstat(out.fd, &st) != 0 || !S_ISREG(st.st_mode)) return make_error("'", partial, "' is not a regular file");
  if (::flock(out.fd, LOCK_EX | LOCK_NB) != 0)
    return make_error("another hy2bit is downloading '", request.target, "' (", partial, " is locked)");

  uint64_t have = static_cast<uint64_t>(st.st_size);
  std::string started_etag = read_small_file(etag_path);
  HttpResponse response;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (have > 0 && started_etag.empty()) have = 0;  // cannot tell what the bytes belong to
    if (have == 0 && ::ftruncate(out.fd, 0) != 0)
      return make_error("cannot truncate '", partial, "': ", std::strerror(errno));
    HttpRequest http{.url = request.url, .headers = {}, .bearer_token = request.bearer_token};
    if (have > 0) {
      http.headers.push_back("Range: bytes=" + std::to_string(have) + "-");
      http.headers.push_back("If-Range: " + started_etag);  // a changed file comes back whole (200)
    }
    uint64_t base = have;  // bytes on disk before this response's body
    bool positioned = false;
    const BodySink sink = [&](long status, const char* data, size_t n) -> std::string {
      if (!positioned) {
        positioned = true;
        if (status == 200 && base > 0) {  // the whole file again: start over
          if (::ftruncate(out.fd, 0) != 0) return std::string("cannot truncate: ") + std::strerror(errno);
          base = 0;
        }
        if (::lseek(out.fd, static_cast<off_t>(base), SEEK_SET) < 0) return std::string("cannot seek: ") + std::strerror(errno);
      }
      while (n > 0) {
        const ssize_t done = ::write(out.fd, data, n);
        if (done < 0 && errno == EINTR) continue;
        if (done <= 0) {
          const int err = done < 0 ? errno : EIO;
          if (err == ENOSPC || err == EDQUOT) return "the disk is full writing '" + partial + "'";
          return "cannot write '" + partial + "': " + std::strerror(err);
        }
        data += done;
        n -= static_cast<size_t>(done);
      }
      return {};
    };
    const auto progress = [&](uint64_t now, uint64_t total) {
      if (request.progress) request.progress(base + now, total > 0 ? base + total : 0);
    };
    // The ETag is recorded before the body arrives, so an interrupted
    // transfer can be continued: written on the first body bytes' hop.
    response = http_get_stream(http, sink, progress);
    const std::string etag = header_value(response, "etag");
    if ((response.status == 200 || response.status == 206) && !etag.empty() && etag != started_etag) {
      HY2BIT_TRY(write_small_file(etag_path, etag));
      started_etag = etag;
    }
    if (response.status == 416 && have > 0) {  // our partial file is not a prefix of theirs
      have = 0;
      started_etag.clear();
      continue;
    }
    break;
  }
  if (response.status == 0)
    return make_error("cannot download ", request.url, ": ", response.error,
                      " (no network? a file already in the cache is used with --offline)");
  if (response.status != 200 && response.status != 206) return make_error(status_error(response.status, request.url));
  if (!response.error.empty()) {
    struct stat now{};
    ::fstat(out.fd, &now);
    return make_error("the download of ", request.url, " stopped after ", now.st_size, " bytes: ", response.error,
                      "; run the same command again to resume it");
  }
  if (::fsync(out.fd) != 0) return make_error("cannot flush '", partial, "': ", std::strerror(errno));

  // The checksum: the listing's LFS id, else Hugging Face's X-Linked-Etag, else a sha256 ETag.
  std::string expected = request.expected_sha256;
  if (expected.empty()) expected = sha256_in_etag(header_value(response, "x-linked-etag"));
  if (expected.empty()) expected = sha256_in_etag(header_value(response, "etag"));
  if (!expected.empty()) {
    Result<std::string> actual = sha256_of_file(partial);
    if (!actual) return actual.error();
    if (*actual != expected) {
      ::unlink(partial.c_str());
      ::unlink(etag_path.c_str());
      return make_error("the download of ", request.url, " is corrupt: its SHA-256 is ", *actual,
                        " but the server says ", expected, "; the partial file was removed, run again");
    }
  }
  if (::rename(partial.c_str(), request.target.c_str()) != 0)
    return make_error("cannot rename '", partial, "' to '", request.target, "': ", std::strerror(errno));
  ::unlink(etag_path.c_str());
  return Ok{};
}

}  // namespace hy2bit::download
