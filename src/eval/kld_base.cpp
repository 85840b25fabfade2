// The KLD base file's reader and writer (layout in kld_base.h). The reader
// trusts nothing: sizes are overflow-checked, the file must be exactly as
// long as its header says, and every token and row header is range-checked,
// so the scoring loop needs no checks.
#include "eval/kld_base.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace hy2bit::eval {
namespace {

template <typename T>
T load(std::span<const uint8_t> bytes, uint64_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// a * b, or nothing if it exceeds 2^62 (no file is that large).
bool checked_mul(uint64_t a, uint64_t b, uint64_t& out) {
  constexpr uint64_t kLimit = uint64_t{1} << 62;
  if (a != 0 && b > kLimit / a) return false;
  out = a * b;
  return true;
}

Status check_row_header(const KldRowHeader& h, uint32_t n_vocab, uint64_t row, uint64_t offset) {
  const auto where = [&] { return make_error("KLD base row ", row, " (offset ", offset, "): "); };
  if (!std::isfinite(h.scale) || h.scale < 0 || h.scale > kLogProbRange / 65535.0f * 1.001f)
    return make_error(where().message, "scale ", h.scale, " is outside 0..", kLogProbRange / 65535.0f);
  if (!std::isfinite(h.min_log_prob) || h.min_log_prob > 0)
    return make_error(where().message, "min_log_prob ", h.min_log_prob, " is not a finite value <= 0");
  if (!std::isfinite(h.target_log_prob) || h.target_log_prob > 1e-3f)
    return make_error(where().message, "target_log_prob ", h.target_log_prob, " is not a finite value <= 0");
  if (h.top_token >= n_vocab)
    return make_error(where().message, "top token ", h.top_token, " is outside the vocabulary (", n_vocab, ")");
  return Ok{};
}

}  // namespace

Result<KldBaseView> KldBaseView::parse(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof(KldBaseHeader))
    return make_error("KLD base is truncated: ", bytes.size(), " bytes, shorter than its ",
                      sizeof(KldBaseHeader), "-byte header");
  const auto h = load<KldBaseHeader>(bytes, 0);
  if (std::memcmp(h.magic, kKldBaseMagic, sizeof(h.magic)) != 0)
    return make_error("not a hy2bit KLD base file (the first 8 bytes are not \"HY2BKLDB\")");
  if (h.version != kKldBaseVersion)
    return make_error("KLD base version ", h.version, " is not supported (expected ", kKldBaseVersion, ")");
  if (h.n_vocab < 2 || h.n_vocab > kKldBaseMaxVocab)
    return make_error("KLD base n_vocab ", h.n_vocab, " is outside 2..", kKldBaseMaxVocab);
  if (h.n_ctx < kKldBaseMinCtx || h.n_ctx > kKldBaseMaxCtx)
    return make_error("KLD base n_ctx ", h.n_ctx, " is outside ", kKldBaseMinCtx, "..", kKldBaseMaxCtx);
  if (h.n_chunks < 1) return make_error("KLD base holds 0 chunks");

  const uint64_t n_scored = static_cast<uint64_t>(scored_per_chunk(h.n_ctx));
  uint64_t n_tokens = 0, token_bytes = 0, n_rows = 0, row_bytes = 0;
  if (!checked_mul(h.n_chunks, h.n_ctx, n_tokens) || !checked_mul(n_tokens, sizeof(int32_t), token_bytes) ||
      !checked_mul(h.n_chunks, n_scored, n_rows) || !checked_mul(n_rows, kld_row_bytes(h.n_vocab), row_bytes) ||
      row_bytes > (uint64_t{1} << 62) - token_bytes)
    return make_error("KLD base header describes an impossibly large file (", h.n_chunks, " chunks of ",
                      h.n_ctx, " tokens, vocabulary ", h.n_vocab, ")");
  const uint64_t expected = sizeof(KldBaseHeader) + token_bytes + row_bytes;
  if (bytes.size() < expected)
    return make_error("KLD base is truncated: ", bytes.size(), " bytes, but its header (", h.n_chunks,
                      " chunks of ", h.n_ctx, " tokens, vocabulary ", h.n_vocab, ") needs ", expected);
  if (bytes.size() > expected)
    return make_error("KLD base has ", bytes.size() - expected, " bytes after its last row (expected ",
                      expected, " bytes in all)");

  KldBaseView view;
  view.info_ = {.n_vocab = h.n_vocab, .n_ctx = h.n_ctx, .n_chunks = h.n_chunks, .vocab_hash = h.vocab_hash,
                .tokens = std::vector<int32_t>(n_tokens)};
  std::memcpy(view.info_.tokens.data(), bytes.data() + sizeof(KldBaseHeader), token_bytes);
  for (uint64_t i = 0; i < n_tokens; ++i) {
    const int32_t t = view.info_.tokens[i];
    if (t < 0 || static_cast<uint32_t>(t) >= h.n_vocab)
      return make_error("KLD base token ", i, " (offset ", sizeof(KldBaseHeader) + 4 * i, ") is ", t,
                        ", outside the vocabulary (", h.n_vocab, ")");
  }
  view.rows_ = bytes.subspan(sizeof(KldBaseHeader) + token_bytes);
  for (uint64_t r = 0; r < n_rows; ++r) {
    const uint64_t offset = r * kld_row_bytes(h.n_vocab);
    HY2BIT_TRY(check_row_header(load<KldRowHeader>(view.rows_, offset), h.n_vocab, r,
                                sizeof(KldBaseHeader) + token_bytes + offset));
  }
  return view;
}

KldRowHeader KldBaseView::row(int64_t chunk, int64_t j, std::span<uint16_t> q) const {
  const uint64_t index = static_cast<uint64_t>(chunk * n_scored() + j);
  const uint64_t offset = index * kld_row_bytes(info_.n_vocab);
  std::memcpy(q.data(), rows_.data() + offset + sizeof(KldRowHeader), 2 * uint64_t{info_.n_vocab});
  return load<KldRowHeader>(rows_, offset);
}

// ---- writer ------------------------------------------------------------------

Result<std::unique_ptr<KldBaseWriter>> KldBaseWriter::create(const std::string& path, const KldBaseInfo& info) {
  if (path.empty()) return make_error("no path given for the KLD base file");
  std::string tmp_path = path + ".XXXXXX";
  // mkostemp opens with O_CREAT|O_EXCL: a fresh file, never through a symlink.
  const int fd = ::mkostemp(tmp_path.data(), O_CLOEXEC);
  if (fd < 0) return make_error("cannot create a temporary file beside '", path, "': ", std::strerror(errno));
  std::unique_ptr<KldBaseWriter> w(new KldBaseWriter(path, tmp_path, fd, info));
  KldBaseHeader h{};
  std::memcpy(h.magic, kKldBaseMagic, sizeof(h.magic));
  h.version = kKldBaseVersion;
  h.n_vocab = info.n_vocab;
  h.n_ctx = info.n_ctx;
  h.n_chunks = info.n_chunks;
  h.vocab_hash = info.vocab_hash;
  HY2BIT_TRY(w->write(&h, sizeof(h)));
  HY2BIT_TRY(w->write(info.tokens.data(), info.tokens.size() * sizeof(int32_t)));
  return w;
}

KldBaseWriter::KldBaseWriter(std::string path, std::string tmp_path, int fd, KldBaseInfo info)
    : path_(std::move(path)), tmp_path_(std::move(tmp_path)), fd_(fd), info_(std::move(info)) {}

KldBaseWriter::~KldBaseWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_path_.c_str());
}

Status KldBaseWriter::write(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t done = ::write(fd_, p, n);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) return make_error("cannot write '", tmp_path_, "': ", done < 0 ? std::strerror(errno) : "wrote 0 bytes");
    p += done;
    n -= static_cast<size_t>(done);
  }
  return Ok{};
}

Status KldBaseWriter::add_row(const KldRowHeader& header, std::span<const uint16_t> q) {
  if (q.size() != info_.n_vocab) return make_error("KLD base row has ", q.size(), " entries, expected ", info_.n_vocab);
  HY2BIT_TRY(write(&header, sizeof(header)));
  HY2BIT_TRY(write(q.data(), q.size() * sizeof(uint16_t)));
  ++rows_written_;
  return Ok{};
}

Status KldBaseWriter::commit() {
  const uint64_t expected = uint64_t{info_.n_chunks} * static_cast<uint64_t>(scored_per_chunk(info_.n_ctx));
  if (rows_written_ != expected)
    return make_error("KLD base got ", rows_written_, " rows, expected ", expected);
  if (::fchmod(fd_, 0644) != 0)  // mkostemp makes it 0600
    return make_error("cannot set the mode of '", tmp_path_, "': ", std::strerror(errno));
  if (::fsync(fd_) != 0) return make_error("cannot flush '", tmp_path_, "': ", std::strerror(errno));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) return make_error("cannot close '", tmp_path_, "': ", std::strerror(errno));
  if (::rename(tmp_path_.c_str(), path_.c_str()) != 0)
    return make_error("cannot rename '", tmp_path_, "' to '", path_, "': ", std::strerror(errno));
  committed_ = true;
  return Ok{};
}

}  // namespace hy2bit::eval

namespace hy2bit {

Result<KldBaseInfo> parse_kld_base(std::span<const uint8_t> bytes) {
  Result<eval::KldBaseView> view = eval::KldBaseView::parse(bytes);
  if (!view) return view.error();
  return view->info();
}

}  // namespace hy2bit
