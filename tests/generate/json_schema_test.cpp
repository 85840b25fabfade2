// The JSON-schema compiler (src/generate/grammar/json_schema.*) and
// grammar-constrained generation on the random-weight tiny model: whatever
// the seed, the reply parses as JSON and validates against the schema.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"
#include "hy2bit/generate.h"
#include "hy2bit/structured.h"
#include "support/test_support.h"

namespace hy2bit {
namespace {

using json = nlohmann::ordered_json;

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// Validates `v` against the subset the compiler supports (the same meaning).
bool validates(const json& v, const json& schema, const json& root, std::string& why) {
  if (schema.is_boolean()) return schema.get<bool>();
  if (schema.contains("$ref")) {
    const std::string ref = schema["$ref"];
    return validates(v, root["$defs"][ref.substr(std::string("#/$defs/").size())], root, why);
  }
  if (schema.contains("const") && v != schema["const"]) return why = "const", false;
  if (schema.contains("enum") && std::find(schema["enum"].begin(), schema["enum"].end(), v) == schema["enum"].end())
    return why = "enum " + v.dump(), false;
  if (schema.contains("anyOf")) {
    bool any = false;
    for (const json& s : schema["anyOf"]) any = any || validates(v, s, root, why);
    if (!any) return why = "anyOf", false;
  }
  if (schema.contains("type")) {
    const json types = schema["type"].is_array() ? schema["type"] : json::array({schema["type"]});
    bool any = false;
    for (const json& t : types) {
      const std::string type = t;
      any = any || (type == "object" && v.is_object()) || (type == "array" && v.is_array()) ||
            (type == "string" && v.is_string()) || (type == "number" && v.is_number()) ||
            (type == "integer" && v.is_number_integer()) || (type == "boolean" && v.is_boolean()) ||
            (type == "null" && v.is_null());
    }
    if (!any) return why = "type " + v.dump(), false;
  }
  if (v.is_string()) {
    const size_t n = utf8_length(v.get<std::string>());
    if (schema.contains("minLength") && n < schema["minLength"].get<size_t>()) return why = "minLength", false;
    if (schema.contains("maxLength") && n > schema["maxLength"].get<size_t>()) return why = "maxLength", false;
  }
  if (v.is_array()) {
    if (schema.contains("minItems") && v.size() < schema["minItems"].get<size_t>()) return why = "minItems", false;
    if (schema.contains("maxItems") && v.size() > schema["maxItems"].get<size_t>()) return why = "maxItems", false;
    if (schema.contains("items"))
      for (const json& item : v)
        if (!validates(item, schema["items"], root, why)) return false;
  }
  if (v.is_object() && schema.contains("properties")) {
    for (const json& name : schema.value("required", json::array()))
      if (!v.contains(name.get<std::string>())) return why = "required " + name.dump(), false;
    for (const auto& [key, value] : v.items()) {
      if (!schema["properties"].contains(key)) return why = "additional property " + key, false;
      if (!validates(value, schema["properties"][key], root, why)) return false;
    }
  }
  return true;
}

std::shared_ptr<const grammar::Grammar> compile(const json& schema) {
  Result<std::string> gbnf = json_schema_to_grammar(schema.dump());
  EXPECT_TRUE(gbnf.ok()) << (gbnf.ok() ? "" : gbnf.error().message);
  if (!gbnf) return nullptr;
  Result<grammar::Grammar> g = grammar::parse_gbnf(*gbnf);
  EXPECT_TRUE(g.ok()) << (g.ok() ? "" : g.error().message);
  return g ? std::make_shared<const grammar::Grammar>(std::move(*g)) : nullptr;
}

bool grammar_matches(const std::shared_ptr<const grammar::Grammar>& g, const std::string& text) {
  grammar::Matcher m(g);
  return m.accept(text) && m.can_end();
}

const json kPerson = json::parse(R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "age": {"type": "integer"},
    "score": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b", "c\"d"]}, "maxItems": 3},
    "role": {"enum": ["admin", "user", null, 7]},
    "ok": {"type": "boolean"},
    "nick": {"type": ["string", "null"]},
    "address": {"type": "object", "properties": {"city": {"type": "string"}, "zip": {"const": "x1"}},
                "required": ["city"]},
    "any": {}
  },
  "required": ["name", "age", "address"]
})");

TEST(JsonSchema, CompiledGrammarAcceptsValidAndRejectsInvalid) {
  const auto g = compile(kPerson);
  ASSERT_TRUE(g);
  for (const char* ok : {
           R"({"name": "Bo", "age": 3, "address": {"city": "X"}})",
           R"({"name":"Bo","age":-30,"score":1.5e3,"tags":["a","c\"d"],"role":null,"ok":true,"nick":null,"address":{"city":"\u00e9\n","zip":"x1"},"any":[1,{"k":[]}]})",
           "{\n  \"name\": \"\xE4\xB8\xAD\",\n  \"age\": 0,\n  \"role\": 7,\n  \"address\": {\"city\": \"\"}\n}",
       })
    EXPECT_TRUE(grammar_matches(g, ok)) << ok;
  for (const char* bad : {
           R"({"age": 3, "name": "Bo", "address": {"city": "X"}})",  // out of order
           R"({"name": "Bo", "address": {"city": "X"}})",             // age missing
           R"({"name": "", "age": 3, "address": {"city": "X"}})",     // minLength
           R"({"name": "Bo", "age": 3.5, "address": {"city": "X"}})", // not an integer
           R"({"name": "Bo", "age": 03, "address": {"city": "X"}})",  // leading zero
           R"({"name": "Bo", "age": 3, "address": {"city": "X"}, "extra": 1})",
           R"({"name": "Bo", "age": 3, "tags": ["a","a","a","a"], "address": {"city": "X"}})",
           R"({"name": "Bo", "age": 3, "role": "root", "address": {"city": "X"}})",
           R"({"name": "B\ud800", "age": 3, "address": {"city": "X"}})",  // lone surrogate escape
           R"({"name": "Bo", "age": 3, "address": {"city": "X"}} )",      // trailing space
       })
    EXPECT_FALSE(grammar_matches(g, bad)) << bad;
}

TEST(JsonSchema, RefsAndAnyOf) {
  const json schema = json::parse(R"({
    "$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
              "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}}, "required": ["v", "next"]}},
    "$ref": "#/$defs/node"})");
  const auto g = compile(schema);
  ASSERT_TRUE(g);
  EXPECT_TRUE(grammar_matches(g, R"({"v": 1, "next": {"v": 2, "next": null}})"));
  EXPECT_FALSE(grammar_matches(g, R"({"v": 1, "next": {"v": 2}})"));
}

TEST(JsonSchema, UnsupportedKeywordsAreErrorsNamingThePlace) {
  auto error_of = [](const char* schema) {
    Result<std::string> g = json_schema_to_grammar(schema);
    return g.ok() ? std::string("(compiled)") : g.error().message;
  };
  EXPECT_EQ(error_of(R"({"type": "object", "properties": {"age": {"type": "integer", "minimum": 0}}})"),
            "json schema: #/properties/age: 'minimum' is not supported");
  EXPECT_EQ(error_of(R"({"type": "string", "pattern": "^a"})"), "json schema: #: 'pattern' is not supported");
  EXPECT_EQ(error_of(R"({"type": "strin"})"), "json schema: #/type: unknown type 'strin'");
  EXPECT_EQ(error_of(R"({"properties": {"a": {}}, "required": ["b"]})"),
            "json schema: #/required: names 'b', which is not in 'properties'");
  EXPECT_EQ(error_of(R"({"properties": {"a": {}}, "additionalProperties": true})"),
            "json schema: #/additionalProperties: only false (the default) is supported together with 'properties'");
  EXPECT_EQ(error_of(R"({"$ref": "#/$defs/missing"})"),
            "json schema: #/$ref: '#/$defs/missing' is not a local #/$defs/... or #/definitions/... entry");
  EXPECT_EQ(error_of(R"({"type": "array", "maxItems": -1})"),
            "json schema: #/maxItems: must be an integer from 0 to 4096");
  EXPECT_EQ(error_of("{\"type\": "), "json schema: not valid JSON");
  EXPECT_EQ(error_of("false"), "json schema: #: the schema 'false' matches nothing");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += R"({"items": )";
  deep += "{}" + std::string(100, '}');
  EXPECT_NE(error_of(deep.c_str()).find("nested deeper than 64"), std::string::npos);
  EXPECT_EQ(error_of(R"({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})").find("left-recursive") !=
                std::string::npos,
            true);
}

// ---- on the random-weight model ---------------------------------------------

std::shared_ptr<Model> load_tiny() {
  Result<std::shared_ptr<Model>> model =
      Model::load({.model_path = test::testdata_path("models/hy-tiny-q2_0c.gguf"), .n_threads = 1});
  EXPECT_TRUE(model.ok()) << model.error().message;
  return model.ok() ? *model : nullptr;
}

// Many seeds, high temperature, no top-k: the reply always parses and
// validates, and ends with finish reason "stop", even with a tight max_tokens.
void expect_valid_replies(const std::shared_ptr<Model>& model, const std::string& gbnf, const json& schema,
                          int n_seeds, int32_t max_tokens) {
  Result<std::unique_ptr<Session>> session = Session::create(model, {.n_ctx = 512, .n_batch = 64});
  ASSERT_TRUE(session.ok());
  const std::vector<int32_t> prompt = {984, 987, 40, 41, 42, 988};
  std::set<std::string> distinct;  // the constraint must not collapse the replies to one
  for (int seed = 0; seed < n_seeds; ++seed) {
    GenerateOptions options;
    options.max_tokens = max_tokens;
    options.sampling.temperature = 1.5f;
    options.sampling.top_k = 0;
    options.sampling.top_p = 1.0f;
    options.sampling.seed = static_cast<uint64_t>(seed);
    options.grammar = gbnf;
    Result<GenerateResult> r = generate(**session, prompt, options);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->finish, FinishReason::kStop) << "seed " << seed << ": " << r->text;
    const json v = json::parse(r->text, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << "seed " << seed << " does not parse: " << r->text;
    std::string why;
    EXPECT_TRUE(validates(v, schema, schema, why)) << "seed " << seed << ": " << why << "\n" << r->text;
    distinct.insert(r->text);
  }
  EXPECT_GE(distinct.size(), 3u);
}

TEST(ConstrainedGeneration, JsonSchemaRepliesAlwaysValidate) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  Result<std::string> gbnf = json_schema_to_grammar(kPerson.dump());
  ASSERT_TRUE(gbnf.ok()) << gbnf.error().message;
  expect_valid_replies(model, *gbnf, kPerson, 12, 160);
  expect_valid_replies(model, *gbnf, kPerson, 8, 48);  // the budget forces an early finish
}

TEST(ConstrainedGeneration, JsonObjectRepliesAlwaysParse) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  expect_valid_replies(model, json_object_grammar(), json{{"type", "object"}}, 12, 64);
}

// A grammar whose shortest value needs more tokens than max_tokens leaves:
// the reply is cut short ("length"), never a "stop" that claims it is done.
TEST(ConstrainedGeneration, AValueThatCannotFitEndsAsLength) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  Result<std::unique_ptr<Session>> session = Session::create(model, {.n_ctx = 512, .n_batch = 64});
  ASSERT_TRUE(session.ok());
  const std::vector<int32_t> prompt = {984, 987, 40, 41, 42, 988};
  GenerateOptions options;
  options.max_tokens = 4;
  options.grammar = "root ::= \"" + std::string(64, 'x') + "\" [0-9]{64}";
  Result<GenerateResult> r = generate(**session, prompt, options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->finish, FinishReason::kLength) << r->text;
  EXPECT_LE(r->tokens.size(), 4u);
}

TEST(ConstrainedGeneration, BadGrammarIsAnError) {
  std::shared_ptr<Model> model = load_tiny();
  ASSERT_TRUE(model);
  Result<std::unique_ptr<Session>> session = Session::create(model, {.n_ctx = 64, .n_batch = 64});
  ASSERT_TRUE(session.ok());
  const std::vector<int32_t> prompt = {984, 40};
  GenerateOptions options;
  options.grammar = "root ::= nope";
  Result<GenerateResult> r = generate(**session, prompt, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("'nope' is used but never defined"), std::string::npos);
  // A grammar that parses but cannot start within the matcher's cap (2^24 stacks).
  options.grammar = test::doubling_grammar(24);
  EXPECT_NE(check_grammar(options.grammar).error().message.find("too complex"), std::string::npos);
  r = generate(**session, prompt, options);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too complex"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace hy2bit
