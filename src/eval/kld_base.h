// The KLD base file: a reference model's log-probabilities for one text, as
// --kl-divergence-base writes and --kl-divergence reads. Parsed from a byte
// span (a mapped file or a buffer), checked whole before use; written
// atomically (a temporary file beside the target, then rename).
//
// Layout (little-endian):
//   KldBaseHeader (32 bytes)
//   int32 tokens[n_chunks * n_ctx]         the text's tokens (BOS not substituted)
//   rows[n_chunks * n_scored]              n_scored = n_ctx - 1 - n_ctx/2, in chunk order;
//     KldRowHeader (16 bytes), uint16 q[n_vocab]   log p_i = min_log_prob + scale * q[i]
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "eval/log_probs.h"
#include "hy2bit/perplexity.h"
#include "hy2bit/result.h"

namespace hy2bit::eval {

inline constexpr char kKldBaseMagic[8] = {'H', 'Y', '2', 'B', 'K', 'L', 'D', 'B'};
inline constexpr uint32_t kKldBaseVersion = 1;
inline constexpr uint32_t kKldBaseMaxVocab = uint32_t{1} << 24;  // far above any real vocabulary
inline constexpr uint32_t kKldBaseMinCtx = 4;                    // at least one scored position
inline constexpr uint32_t kKldBaseMaxCtx = uint32_t{1} << 22;    // Session's largest context

struct KldBaseHeader {
  char magic[8];        // kKldBaseMagic
  uint32_t version;     // kKldBaseVersion
  uint32_t n_vocab;     // logits per position
  uint32_t n_ctx;       // tokens per chunk
  uint32_t n_chunks;    // chunks saved
  uint64_t vocab_hash;  // vocabulary_hash() of the model that made it
};
static_assert(sizeof(KldBaseHeader) == 32);

struct KldRowHeader {
  float scale;            // QuantizedRowParams::scale
  float min_log_prob;     // QuantizedRowParams::min_log_prob
  float target_log_prob;  // exact log p of the text's next token (float)
  uint32_t top_token;     // argmax of the unquantized row
};
static_assert(sizeof(KldRowHeader) == 16);

// Positions scored per chunk of n_ctx tokens (llama.cpp's first = n_ctx/2).
inline int64_t scored_per_chunk(int64_t n_ctx) { return n_ctx - 1 - n_ctx / 2; }

// Size of one row on disk.
inline uint64_t kld_row_bytes(uint32_t n_vocab) { return sizeof(KldRowHeader) + 2 * uint64_t{n_vocab}; }

// One row of the base, viewed in its bytes.
struct KldBaseRow {
  KldRowHeader header;
  std::span<const uint8_t> q_bytes;  // n_vocab little-endian uint16
};

// A parsed, checked base over bytes that must outlive it.
class KldBaseView {
 public:
  static Result<KldBaseView> parse(std::span<const uint8_t> bytes);
  const KldBaseInfo& info() const { return info_; }
  int64_t n_scored() const { return scored_per_chunk(info_.n_ctx); }
  // Row `j` (0 .. n_scored-1) of chunk `chunk`; q copied into `q` (n_vocab).
  KldRowHeader row(int64_t chunk, int64_t j, std::span<uint16_t> q) const;

 private:
  KldBaseInfo info_;
  std::span<const uint8_t> rows_;  // all rows, n_chunks * n_scored * row bytes
};

// FNV-1a (64-bit) over every token's text, each followed by a 0 byte: two
// vocabularies with the same size but other tokens get other hashes.
uint64_t vocabulary_hash(const Model& model);

// Streams a base to disk: the header and tokens first, then rows in order;
// commit() checks that every row came and renames the file into place.
class KldBaseWriter {
 public:
  static Result<std::unique_ptr<KldBaseWriter>> create(const std::string& path, const KldBaseInfo& info);
  ~KldBaseWriter();
  KldBaseWriter(const KldBaseWriter&) = delete;
  KldBaseWriter& operator=(const KldBaseWriter&) = delete;

  Status add_row(const KldRowHeader& header, std::span<const uint16_t> q);
  Status commit();

 private:
  KldBaseWriter(std::string path, std::string tmp_path, int fd, KldBaseInfo info);
  Status write(const void* data, size_t n);
  std::string path_, tmp_path_;
  int fd_ = -1;
  KldBaseInfo info_;
  uint64_t rows_written_ = 0;
  bool committed_ = false;
};

}  // namespace hy2bit::eval
