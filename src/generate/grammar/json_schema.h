// JSON schema -> GBNF: the common schema subset compiled into grammar rules
// for constrained sampling (response_format json_schema, run --json-schema,
// tool arguments), plus the generic "any JSON object" grammar (json_object).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "hy2bit/result.h"

namespace hy2bit::grammar {

// Supported keywords: type (string, number, integer, boolean, null, object,
// array, or a list of them), properties, required, additionalProperties
// (false, the default when properties are given; true or a schema only for
// objects without properties), items, minItems, maxItems, minLength,
// maxLength, enum, const, anyOf, oneOf (treated as anyOf), $ref to
// "#/$defs/..." or "#/definitions/...", and the annotations title,
// description, default, examples, $schema, $id, $comment. Any other keyword is
// an Error naming it and its place ("#/properties/age: 'minimum' is not
// supported"), never silently dropped.
// Choices: object properties come in the schema's order (parse it with
// nlohmann::ordered_json to keep that order); optional ones may be
// left out. Strings may use every escape except \u of a lone surrogate.
// Integers have at most 16 digits, fractions 16, exponents 2 (so the output
// always fits a double). Whitespace between tokens is at most one newline and
// 20 spaces or tabs, or one space.
// The rules are named `prefix` (the start rule) and `prefix-...`.
Result<std::string> json_schema_rules(const nlohmann::ordered_json& schema, const std::string& prefix);
// A whole grammar (start rule "root") for a schema given as JSON text.
Result<std::string> json_schema_to_gbnf(std::string_view schema_json);
// A whole grammar for any JSON object (response_format json_object).
std::string json_object_gbnf();

// Whether JSON text nests (objects and arrays) no deeper than `max_depth`,
// checked on the raw text so no parser or printer recurses deeply on it.
bool json_nesting_within(std::string_view text, int max_depth);

// A GBNF string literal (quotes included) matching exactly `bytes`.
std::string gbnf_literal(std::string_view bytes);

}  // namespace hy2bit::grammar
