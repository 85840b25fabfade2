// The public API for structured output: grammars (llama.cpp's GBNF) that
// constrain sampling (GenerateOptions::grammar), compiled from a JSON schema
// or given as text. These functions take arbitrary bytes and never crash:
// bad input is an Error naming what was wrong (they are fuzz targets).
#pragma once

#include <string>
#include <string_view>

#include "hy2bit/result.h"

namespace hy2bit {

// GBNF for JSON text matching `schema_json` (the supported subset is listed
// in src/generate/grammar/json_schema.h; other keywords are an Error).
Result<std::string> json_schema_to_grammar(std::string_view schema_json);
// GBNF for any JSON object (OpenAI's response_format {"type": "json_object"}).
std::string json_object_grammar();
// Ok if `gbnf` parses and can be used for sampling.
Status check_grammar(std::string_view gbnf);

}  // namespace hy2bit
