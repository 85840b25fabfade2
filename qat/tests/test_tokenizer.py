"""Tokenizer: the Python BPE equals llama.cpp on the reference cases, and the
pruned vocabulary keeps merge chains (corpus words encode as before)."""
import os

from hyqat.gguf_reader import GgufFile
from hyqat.prune_vocab import count_pieces
from hyqat.tokenizer import CONTROL, USER_DEFINED, Vocab
from conftest import TESTDATA

TOK = os.path.join(TESTDATA, "tokenizer")


def full_vocab():
    return Vocab.from_gguf(GgufFile(os.path.join(TOK, "hy-vocab.gguf")))


def test_matches_llama_cpp_cases():
    v = full_vocab()
    cases = open(os.path.join(TOK, "cases.inp"), encoding="utf-8", newline="").read().split("\n__ggml_vocab_test__\n")
    outs = open(os.path.join(TOK, "cases.out"), encoding="utf-8").read().split("\n")
    n = 0
    for text, want in zip(cases, outs):
        if not want.strip() and not text:
            continue
        assert v.encode(text, parse_special=True) == [int(x) for x in want.split()], repr(text)
        n += 1
    assert n >= 70


def test_pruned_vocab_keeps_chains(small_corpus):
    full = full_vocab()
    pruned = Vocab.load(str(small_corpus / "vocab.json"))
    assert len(pruned) == 1024
    names = {pruned.tokens[i] for i, t in enumerate(pruned.types) if t == CONTROL}
    assert {"<｜hy_begin▁of▁sentence｜>", "<｜hy_User｜>", "<｜hy_Assistant｜>", "<｜hy_place▁holder▁no▁2｜>",
            "<｜hy_place▁holder▁no▁3｜>"} <= names
    assert {pruned.tokens[i] for i, t in enumerate(pruned.types) if t == USER_DEFINED} == {
        "<think>", "</think>", "<answer>", "</answer>"}
    kept = set(pruned.tokens)
    # Every merge's parts and result are tokens; every kept token is reachable.
    for m in pruned.merges:
        a, b = m.split(" ")
        assert a in kept and b in kept and a + b in kept
    text = open(small_corpus / "corpus" / "test.txt", encoding="utf-8").read()[:3000]
    same = 0
    for word in count_pieces([[text]]):
        f = [full.tokens[i] for i in full._bpe(word)]
        if all(t in kept for t in f):
            assert [pruned.tokens[i] for i in pruned._bpe(word)] == f
            same += 1
    assert same > 50
    assert pruned.decode(pruned.encode(text)) == text
