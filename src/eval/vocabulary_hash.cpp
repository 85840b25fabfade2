// vocabulary_hash() (declared in kld_base.h), apart from the KLD base reader
// because it needs a loaded Model: the reader alone links into the fuzz build.
#include "eval/kld_base.h"
#include "hy2bit/text.h"

namespace hy2bit::eval {

uint64_t vocabulary_hash(const Model& model) {
  uint64_t hash = 0xcbf29ce484222325ull;  // FNV-1a offset basis
  const auto mix = [&hash](uint8_t byte) { hash = (hash ^ byte) * 0x100000001b3ull; };
  for (int64_t id = 0; id < model.summary().n_vocab; ++id) {
    for (char c : token_to_piece(model, static_cast<int32_t>(id))) mix(static_cast<uint8_t>(c));
    mix(0);
  }
  return hash;
}

}  // namespace hy2bit::eval
