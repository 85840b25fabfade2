// The public structured-output functions (hy2bit/structured.h) over the
// grammar parser and the schema compiler.
#include "hy2bit/structured.h"

#include <memory>

#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"

namespace hy2bit {

Result<std::string> json_schema_to_grammar(std::string_view schema_json) {
  Result<std::string> gbnf = grammar::json_schema_to_gbnf(schema_json);
  if (!gbnf) return gbnf.error();
  HY2BIT_TRY(check_grammar(*gbnf));  // the compiler's own output must parse
  return gbnf;
}

std::string json_object_grammar() { return grammar::json_object_gbnf(); }

Status check_grammar(std::string_view gbnf) {
  Result<grammar::Grammar> g = grammar::parse_gbnf(gbnf);
  if (!g) return g.error();
  HY2BIT_TRY(grammar::Matcher::create(std::make_shared<const grammar::Grammar>(std::move(*g))));
  return Ok{};
}

}  // namespace hy2bit
