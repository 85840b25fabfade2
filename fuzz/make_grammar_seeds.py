#!/usr/bin/env python3
# Writes the seeds of fuzz_grammar and fuzz_tool_calls (fuzz/corpus/<target>/)
# in the layout the targets read (byte 0 picks the mode; fuzz_grammar: grammar
# text, NUL, matcher bytes). Small GBNF grammars and JSON schemas of the kinds
# tests/generate/ uses; replies with and without <tool_calls>, malformed,
# nested and cut; tools arrays. Standard library only.
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

GBNF = {
    "literal": ('root ::= "yes" | "no"', "yes"),
    "classes": ('root ::= [a-z]+ [0-9]* "."', "abc12."),
    "negated": ('root ::= "\\"" [^"\\\\]* "\\""', '"hi there"'),
    "repeat": ('root ::= "a"{2,4} "b"{3} "c"{1,} "d"?', "aaabbbcccd"),
    "rules": ('root ::= item ("," item)*\nitem ::= num | word\nnum ::= [0-9]+\nword ::= [a-z]+', "ab,12,c"),
    "comments": ('# a comment\nroot ::= greeting   # trailing\ngreeting ::=\n  "hi"\n  | "hello"', "hello"),
    "escapes": ('root ::= "\\n\\t\\x41\\u00e9\\U0001F600" [\\x00-\\x1f]', "\n\tA\u00e9\U0001F600\x01"),
    "unicode": ('root ::= [\u00e0-\u00ff\u4e00-\u9fff]+ .', "\u00e9\u4e2d!"),
    "any": ("root ::= .{1,8}", "anything"),
    "nested": ('root ::= "(" inner ")"\ninner ::= ("[" inner "]")*', "([[]][])"),
    "recursive": ('root ::= value\nvalue ::= "[" (value ("," value)*)? "]" | [0-9]', "[1,[2,[]]]"),
    "json": (
        'root ::= obj\nobj ::= "{" ws (pair ("," ws pair)*)? ws "}"\npair ::= str ws ":" ws val\n'
        'val ::= str | [0-9]+ | obj | "true" | "false" | "null"\nstr ::= "\\"" [^"]* "\\""\nws ::= [ \\t\\n]*',
        '{"a": {"b": true}, "c": 12}',
    ),
    "bad-undefined": ("root ::= missing", ""),
    "bad-left-recursive": ('root ::= root "a" | "b"', ""),
    "bad-token-ref": ('root ::= <think> "a"', ""),
    "bad-unterminated": ('root ::= "abc', ""),
}

SCHEMAS = {
    "person": (
        {"type": "object", "properties": {"name": {"type": "string", "minLength": 1}, "age": {"type": "integer"},
         "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
         "role": {"enum": ["admin", "user", None]}}, "required": ["name", "age"]},
        '{"name": "Bo", "age": 3, "tags": ["a"]}',
    ),
    "scalar-types": ({"type": ["number", "boolean", "null"]}, "-1.5e3"),
    "const": ({"const": {"k": [1, 2]}}, '{"k": [1, 2]}'),
    "anyof": ({"anyOf": [{"type": "string", "maxLength": 4}, {"type": "integer"}]}, '"abcd"'),
    "oneof": ({"oneOf": [{"type": "null"}, {"type": "array", "minItems": 1, "items": {"type": "boolean"}}]}, "[true]"),
    "refs": (
        {"$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                                                            "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
                            "required": ["v", "next"]}}, "$ref": "#/$defs/node"},
        '{"v": 1, "next": null}',
    ),
    "definitions": ({"definitions": {"s": {"type": "string"}}, "type": "array", "items": {"$ref": "#/definitions/s"}}, '["x"]'),
    "additional": ({"type": "object", "additionalProperties": {"type": "number"}}, '{"a": 1}'),
    "annotations": ({"$schema": "x", "$id": "y", "title": "t", "description": "d", "default": 1, "examples": [1],
                     "$comment": "c", "type": "integer"}, "42"),
    "empty": ({}, '[{"any": "json"}]'),
    "bad-keyword": ({"type": "string", "pattern": "^a"}, ""),
    "bad-ref": ({"$ref": "#/$defs/missing"}, ""),
    "bad-self-ref": ({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, ""),
}

REPLIES = {
    "plain": "The weather is fine.",
    "prefixed": "助手：你好！",
    "one-call": '<tool_calls>[{"name": "get_weather", "arguments": {"city": "Paris"}}]</tool_calls>',
    "two-calls": '<tool_calls>[{"name": "a", "arguments": {}}, {"name": "b", "arguments": {"x": [1, {"y": "}"}]}}]</tool_calls>',
    "text-around": 'Let me check. <tool_calls>[{"name": "f", "arguments": {"q": "a\\"b"}}]</tool_calls> done',
    "string-args": '<tool_calls>[{"name": "f", "arguments": "{\\"q\\": 1}"}]</tool_calls>',
    "string-args-not-json": '<tool_calls>[{"name": "f", "arguments": "hello"}]</tool_calls>',
    "no-args": '<tool_calls>[{"name": "f"}]</tool_calls>',
    "spaces-commas": '<tool_calls>\n [ {"name": "f", "arguments": {}} ,\n ]\n</tool_calls>',
    "nested": '<tool_calls>[{"name": "f", "arguments": {"a": {"b": {"c": [[[{"d": null}]]]}}}}]</tool_calls>',
    "bad-json": '<tool_calls>[{"name": "f", "arguments": {"a": }}]</tool_calls>',
    "bad-not-array": '<tool_calls>{"name": "f"}</tool_calls>',
    "bad-no-name": '<tool_calls>[{"arguments": {}}]</tool_calls>',
    "bad-args-array": '<tool_calls>[{"name": "f", "arguments": [1]}]</tool_calls>',
    "bad-no-close": '<tool_calls>[{"name": "f", "arguments": {}}] trailing',
    "cut-in-object": '<tool_calls>[{"name": "f", "argu',
    "cut-in-tag": "some text <tool_ca",
    "after-block": '<tool_calls>[]</tool_calls>after <tool_calls>[{"name": "g"}]</tool_calls>',
    "prefixed-call": '助手：<tool_calls>[{"name": "f", "arguments": {"s": "中文"}}]</tool_calls>',
}

TOOLS = {
    "weather": [{"type": "function", "function": {"name": "get_weather", "description": "d",
                 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "two": [{"type": "function", "function": {"name": "a"}},
            {"type": "function", "function": {"name": "b", "parameters": {"type": "object", "properties": {
                "n": {"type": "integer"}, "list": {"type": "array", "items": {"enum": [1, 2]}}}}}}],
    "bad-not-array": {"type": "function"},
    "bad-no-name": [{"type": "function", "function": {}}],
    "bad-schema": [{"type": "function", "function": {"name": "f", "parameters": {"type": "string", "format": "date"}}}],
}


def write(target, seeds):
    out = os.path.join(HERE, "corpus", target)
    os.makedirs(out, exist_ok=True)
    for name, body in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)


write("fuzz_grammar", {
    **{f"gbnf-{k}": b"\x00" + g.encode() + b"\x00" + m.encode() for k, (g, m) in GBNF.items()},
    **{f"schema-{k}": b"\x01" + json.dumps(s).encode() + b"\x00" + m.encode() for k, (s, m) in SCHEMAS.items()},
})
write("fuzz_tool_calls", {
    **{f"reply-{k}": b"\x06" + r.encode() for k, r in REPLIES.items()},
    **{f"tools-{k}": b"\x01" + json.dumps(t, ensure_ascii=False).encode() for k, t in TOOLS.items()},
})
