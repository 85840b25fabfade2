// Shared pieces of the fuzz targets: the vocabulary the text targets load
// once, a check that fails the run loudly (libFuzzer then saves the input),
// and an opt-in trace of where an input was refused (for making seeds).
#pragma once

#include <string_view>

#include "hy2bit/result.h"
#include "text/tokenizer.h"

namespace hy2bit::fuzz {

// The tiny test model's tokenizer (fuzz/data/hy-tiny-vocab.gguf: 1000
// tokens, 728 merges, the Hunyuan special tokens), loaded on first use.
// Aborts if the file is missing or does not load: no run without it.
const text::Tokenizer& tiny_vocab();

// Aborts with `what` when `ok` is false: an invariant of the code under test broke.
void check(bool ok, std::string_view what);

// With HY2BIT_FUZZ_VERBOSE=1 in the environment, prints "<stage>: <message>"
// to stderr, so one can see how far a seed gets (fuzz runs leave it unset).
void trace_refusal(std::string_view stage, const Error& error);

}  // namespace hy2bit::fuzz
