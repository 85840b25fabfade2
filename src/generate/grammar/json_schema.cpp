// The schema compiler: one visit per schema node, each returning a GBNF
// expression (usually a rule name); shared primitives (string, number, ...)
// are emitted once per prefix. Keys and enum values are written with JSON's
// ASCII escapes, so every literal in the grammar is plain ASCII.
#include "generate/grammar/json_schema.h"

#include <map>
#include <set>
#include <vector>

#include "generate/grammar/grammar.h"

namespace hy2bit::grammar {
namespace {

using json = nlohmann::ordered_json;

// Primitive rules, written once per prefix as "<prefix>-<name> ::= <body>".
// {p} in a body stands for the prefix.
struct Primitive {
  const char* name;
  const char* body;
};
constexpr Primitive kPrimitives[] = {
    {"ws", R"(| " " | "\n" [ \t]{0,20})"},
    {"hex", R"([0-9a-fA-F])"},
    // \u escapes of lone surrogates (D800-DFFF) would not parse.
    {"uescape", R"("u" ([0-9a-cA-CeEfF] {p}-hex {p}-hex {p}-hex | [dD] [0-7] {p}-hex {p}-hex))"},
    {"char", R"([^"\\\x00-\x1F] | "\\" (["\\/bfnrt] | {p}-uescape))"},
    {"string", R"("\"" {p}-char* "\"")"},
    {"integer", R"("-"? ("0" | [1-9] [0-9]{0,15}))"},
    {"number", R"({p}-integer ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?)"},
    {"boolean", R"("true" | "false")"},
    {"null", R"("null")"},
    {"value", R"({p}-object | {p}-array | {p}-string | {p}-number | {p}-boolean | {p}-null)"},
    {"object", R"("{" {p}-ws ({p}-string {p}-ws ":" {p}-ws {p}-value {p}-ws ("," {p}-ws {p}-string {p}-ws ":" {p}-ws {p}-value {p}-ws)*)? "}")"},
    {"array", R"("[" {p}-ws ({p}-value {p}-ws ("," {p}-ws {p}-value {p}-ws)*)? "]")"},
};

const std::set<std::string, std::less<>> kAnnotations = {"title", "description", "default", "examples",
                                                         "$schema", "$id", "$comment"};
const std::set<std::string, std::less<>> kKeywords = {
    "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "minLength", "maxLength", "enum", "const", "anyOf", "oneOf", "$ref", "$defs", "definitions"};

class SchemaCompiler {
 public:
  SchemaCompiler(const json& root, std::string prefix) : root_(root), p_(std::move(prefix)) {}

  Result<std::string> compile() {
    Result<std::string> start = visit(root_, "#");
    if (!start) return start.error();
    std::string out = p_ + " ::= " + *start + "\n";
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    return out;
  }

 private:
  const json& root_;
  std::string p_;
  std::vector<std::pair<std::string, std::string>> rules_;  // in definition order
  std::set<std::string> defined_;
  std::map<std::string, std::string> refs_;  // "$ref" target -> rule
  int counter_ = 0;
  int depth_ = 0;

  std::string rule(const std::string& body) {
    std::string name = p_ + "-r" + std::to_string(counter_++);
    rules_.push_back({name, body});
    return name;
  }
  // The primitive's rule name, defining it (and what it uses) on first use.
  std::string primitive(std::string_view name) {
    std::string full = p_ + "-" + std::string(name);
    if (defined_.insert(full).second) {
      for (const Primitive& prim : kPrimitives) {
        if (name != prim.name) continue;
        std::string body = prim.body;
        for (size_t at; (at = body.find("{p}")) != std::string::npos;) body.replace(at, 3, p_);
        rules_.push_back({full, body});
        // Pull in the primitives this body names.
        for (const Primitive& used : kPrimitives) {
          const std::string ref = p_ + "-" + used.name;
          for (size_t at = body.find(ref); at != std::string::npos; at = body.find(ref, at + 1)) {
            const size_t after = at + ref.size();
            if (after == body.size() || !(std::isalnum(static_cast<unsigned char>(body[after])) || body[after] == '-')) {
              primitive(used.name);
              break;
            }
          }
        }
      }
    }
    return full;
  }

  static Error error(const std::string& where, const std::string& what) {
    return Error{"json schema: " + where + ": " + what};
  }

  // Nesting deeper than this is refused (the compiler recurses per level).
  static constexpr int kMaxNesting = 64;

  Result<std::string> visit(const json& schema, const std::string& where) {
    if (depth_ >= kMaxNesting) return error(where, "schemas nested deeper than 64 levels are not supported");
    ++depth_;
    Result<std::string> out = visit_node(schema, where);
    --depth_;
    return out;
  }

  Result<std::string> visit_node(const json& schema, const std::string& where) {
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return primitive("value");
      return error(where, "the schema 'false' matches nothing");
    }
    if (!schema.is_object()) return error(where, "a schema must be an object or a boolean");
    for (const auto& [key, value] : schema.items()) {
      if (kAnnotations.count(key) || kKeywords.count(key)) continue;
      return error(where, "'" + key + "' is not supported");
    }
    if (schema.contains("$ref")) return visit_ref(schema, where);
    if (schema.contains("const")) return literal_of(schema["const"]);
    if (schema.contains("enum")) {
      const json& values = schema["enum"];
      if (!values.is_array() || values.empty()) return error(where + "/enum", "must be a non-empty array");
      std::string body;
      for (const json& v : values) body += (body.empty() ? "" : " | ") + literal_of(v);
      return rule(body);
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!schema.contains(key)) continue;
      const json& options = schema[key];
      if (!options.is_array() || options.empty()) return error(where + "/" + key, "must be a non-empty array");
      std::string body;
      for (size_t i = 0; i < options.size(); ++i) {
        Result<std::string> alt = visit(options[i], where + "/" + key + "/" + std::to_string(i));
        if (!alt) return alt.error();
        body += (body.empty() ? "" : " | ") + *alt;
      }
      return rule(body);
    }
    if (!schema.contains("type")) {
      if (schema.contains("properties") || schema.contains("additionalProperties") || schema.contains("required"))
        return visit_type(schema, "object", where);
      if (schema.contains("items") || schema.contains("minItems") || schema.contains("maxItems"))
        return visit_type(schema, "array", where);
      if (schema.contains("minLength") || schema.contains("maxLength")) return visit_type(schema, "string", where);
      return primitive("value");
    }
    const json& type = schema["type"];
    if (type.is_string()) return visit_type(schema, type.get<std::string>(), where);
    if (type.is_array() && !type.empty()) {
      std::string body;
      for (const json& t : type) {
        if (!t.is_string()) return error(where + "/type", "must be a string or an array of strings");
        Result<std::string> alt = visit_type(schema, t.get<std::string>(), where);
        if (!alt) return alt.error();
        body += (body.empty() ? "" : " | ") + *alt;
      }
      return rule(body);
    }
    return error(where + "/type", "must be a string or a non-empty array of strings");
  }

  Result<std::string> visit_type(const json& schema, const std::string& type, const std::string& where) {
    if (type == "string") return visit_string(schema, where);
    if (type == "number" || type == "integer" || type == "boolean" || type == "null") return primitive(type);
    if (type == "object") return visit_object(schema, where);
    if (type == "array") return visit_array(schema, where);
    return error(where + "/type", "unknown type '" + type + "'");
  }

  Result<std::pair<uint32_t, int64_t>> bounds(const json& schema, const char* min_key, const char* max_key,
                                              const std::string& where) {
    uint32_t min = 0;
    int64_t max = -1;  // -1: unbounded
    for (const char* key : {min_key, max_key}) {
      if (!schema.contains(key)) continue;
      const json& v = schema[key];
      if (!v.is_number_unsigned() || v.get<uint64_t>() > kMaxRepetition)
        return error(where + "/" + key, "must be an integer from 0 to " + std::to_string(kMaxRepetition));
      if (key == min_key) min = v.get<uint32_t>();
      else max = v.get<int64_t>();
    }
    if (max >= 0 && max < min) return error(where, std::string(max_key) + " is less than " + min_key);
    return std::pair<uint32_t, int64_t>{min, max};
  }
  static std::string repeat(const std::string& what, uint32_t min, int64_t max) {
    if (max < 0) return min == 0 ? what + "*" : what + "{" + std::to_string(min) + ",}";
    return what + "{" + std::to_string(min) + "," + std::to_string(max) + "}";
  }

  Result<std::string> visit_string(const json& schema, const std::string& where) {
    Result<std::pair<uint32_t, int64_t>> b = bounds(schema, "minLength", "maxLength", where);
    if (!b) return b.error();
    if (b->first == 0 && b->second < 0) return primitive("string");
    return rule("\"\\\"\" " + repeat(primitive("char"), b->first, b->second) + " \"\\\"\"");
  }

  Result<std::string> visit_array(const json& schema, const std::string& where) {
    Result<std::pair<uint32_t, int64_t>> b = bounds(schema, "minItems", "maxItems", where);
    if (!b) return b.error();
    std::string item = primitive("value");
    if (schema.contains("items")) {
      Result<std::string> it = visit(schema["items"], where + "/items");
      if (!it) return it.error();
      item = *it;
    }
    const std::string ws = primitive("ws");
    const auto [min, max] = *b;
    if (max == 0) return rule("\"[\" " + ws + " \"]\"");
    // item ("," item){min-1, max-1}, optional when min is 0.
    const std::string more = repeat("(\",\" " + ws + " " + item + " " + ws + ")", min > 0 ? min - 1 : 0,
                                    max < 0 ? -1 : max - 1);
    std::string list = item + " " + ws + " " + more;
    if (min == 0) list = "(" + list + ")?";
    return rule("\"[\" " + ws + " " + list + " \"]\"");
  }

  Result<std::string> visit_object(const json& schema, const std::string& where) {
    const std::string ws = primitive("ws");
    const bool has_props = schema.contains("properties");
    const json* extra = schema.contains("additionalProperties") ? &schema["additionalProperties"] : nullptr;
    if (!has_props) {
      if (schema.contains("required") && !schema["required"].empty())
        return error(where + "/required", "names properties, but the schema has no 'properties'");
      if (extra && extra->is_boolean() && !extra->get<bool>()) return rule("\"{\" " + ws + " \"}\"");
      if (!extra || (extra->is_boolean() && extra->get<bool>())) return primitive("object");
      Result<std::string> value = visit(*extra, where + "/additionalProperties");
      if (!value) return value.error();
      const std::string kv = primitive("string") + " " + ws + " \":\" " + ws + " " + *value + " " + ws;
      return rule("\"{\" " + ws + " (" + kv + " (\",\" " + ws + " " + kv + ")*)? \"}\"");
    }
    if (extra && !(extra->is_boolean() && !extra->get<bool>()))
      return error(where + "/additionalProperties",
                   "only false (the default) is supported together with 'properties'");
    const json& props = schema["properties"];
    if (!props.is_object()) return error(where + "/properties", "must be an object");
    std::set<std::string> required;
    if (schema.contains("required")) {
      const json& req = schema["required"];
      if (!req.is_array()) return error(where + "/required", "must be an array of property names");
      for (const json& name : req) {
        if (!name.is_string()) return error(where + "/required", "must be an array of property names");
        if (!props.contains(name.get<std::string>()))
          return error(where + "/required", "names '" + name.get<std::string>() + "', which is not in 'properties'");
        required.insert(name.get<std::string>());
      }
    }
    // kv_i per property, then F_i ("from i on, nothing written yet") and
    // R_i ("from i on, something written": each one starts with a comma).
    std::vector<std::string> kvs;
    std::vector<bool> is_required;
    for (const auto& [key, value] : props.items()) {
      Result<std::string> v = visit(value, where + "/properties/" + key);
      if (!v) return v.error();
      kvs.push_back(gbnf_literal(json(key).dump(-1, ' ', true)) + " " + ws + " \":\" " + ws + " " + *v + " " + ws);
      is_required.push_back(required.count(key) > 0);
    }
    const size_t n = kvs.size();
    std::string rest_next = "\"\"", first_next = "\"\"";  // R_{i+1}, F_{i+1}
    for (size_t i = n; i-- > 0;) {
      const std::string with_comma = "\",\" " + ws + " " + kvs[i];
      const std::string rest = is_required[i] ? rule(with_comma + " " + rest_next)
                                              : rule("(" + with_comma + ")? " + rest_next);
      const std::string first = is_required[i] ? rule(kvs[i] + " " + rest_next)
                                               : rule(kvs[i] + " " + rest_next + " | " + first_next);
      rest_next = rest;
      first_next = first;
    }
    return rule("\"{\" " + ws + " " + first_next + " \"}\"");
  }

  Result<std::string> visit_ref(const json& schema, const std::string& where) {
    const json& ref = schema["$ref"];
    if (!ref.is_string()) return error(where + "/$ref", "must be a string");
    const std::string target = ref.get<std::string>();
    auto known = refs_.find(target);
    if (known != refs_.end()) return known->second;
    const json* node = nullptr;
    for (const char* base : {"#/$defs/", "#/definitions/"}) {
      const std::string_view b = base;
      if (target.compare(0, b.size(), b) != 0) continue;
      const std::string name = target.substr(b.size());
      const std::string container = std::string(b.substr(2, b.size() - 3));  // "$defs" / "definitions"
      if (root_.is_object() && root_.contains(container) && root_[container].is_object() &&
          root_[container].contains(name))
        node = &root_[container][name];
    }
    if (!node) return error(where + "/$ref", "'" + target + "' is not a local #/$defs/... or #/definitions/... entry");
    // Name the rule before compiling it, so recursive references resolve.
    const std::string name = p_ + "-ref" + std::to_string(counter_++);
    refs_.emplace(target, name);
    const size_t slot = rules_.size();
    rules_.push_back({name, ""});
    Result<std::string> body = visit(*node, target);
    if (!body) return body.error();
    rules_[slot].second = *body;
    return name;
  }

  static std::string literal_of(const json& value) { return gbnf_literal(value.dump(-1, ' ', true)); }
};

}  // namespace

std::string gbnf_literal(std::string_view bytes) {
  std::string out = "\"";
  static const char* kHex = "0123456789ABCDEF";
  for (char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7F) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;  // printable ASCII, or UTF-8 kept as is
    }
  }
  return out + "\"";
}

Result<std::string> json_schema_rules(const json& schema, const std::string& prefix) {
  return SchemaCompiler(schema, prefix).compile();
}

bool json_nesting_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

Result<std::string> json_schema_to_gbnf(std::string_view schema_json) {
  if (!json_nesting_within(schema_json, 128)) return Error{"json schema: nested deeper than 128 levels"};
  json schema = json::parse(schema_json, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return Error{"json schema: not valid JSON"};
  return json_schema_rules(schema, "root");
}

std::string json_object_gbnf() {
  // The primitive table's object rule and everything it uses.
  Result<std::string> rules = json_schema_rules(json{{"type", "object"}}, "root");
  return rules ? *rules : std::string();
}

}  // namespace hy2bit::grammar
