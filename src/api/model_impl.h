// What a public hy2bit::Model holds inside: the mapped GGUF file, the
// transformer bound to it (absent for vocab-only loads), the
// tokenizer and the thread pool its sessions run on. Only src/ includes this.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "generate/grammar/matcher.h"
#include "gguf/mapped_file.h"
#include "hy2bit/model.h"
#include "model/transformer.h"
#include "runtime/thread_pool.h"
#include "text/tokenizer.h"

namespace hy2bit {

struct Model::Impl {
  std::unique_ptr<gguf::MappedFile> mapped;          // the file's bytes; outlives all below
  std::unique_ptr<model::Transformer> transformer;   // nullptr when loaded vocab-only
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::vector<int32_t> end_tokens;                   // ids that end a reply
  std::unique_ptr<runtime::ThreadPool> pool;         // shared by the model's sessions
  std::mutex pool_mutex;                             // one forward pass at a time on the pool
  std::unique_ptr<model::Activations> batch_activations;  // for decode_batch, grown on demand
  ModelSummary summary;

  // The vocabulary as a byte trie for grammar-constrained sampling, built on
  // first use (grammar_vocab()); end-of-generation and control tokens are left out.
  const grammar::TokenTrie& grammar_vocab();

 private:
  std::once_flag grammar_vocab_once_;
  std::unique_ptr<grammar::TokenTrie> grammar_vocab_;
};

}  // namespace hy2bit
