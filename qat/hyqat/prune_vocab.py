"""Tokenizer stage: prunes the real byte-level BPE vocabulary of
hy-vocab.gguf to the tokens the training corpus uses, keeping every merge
chain intact, and adds Hunyuan's control tokens and the think/answer tags.

Why prune rather than train: the tokens and merges stay the real ones, so the
pre-tokenizer and BPE take exactly the code paths of the real model. Rule:
1. encode the train split (its chat examples and plain text) with the full
   vocabulary, counting each final token and recording every merge applied;
2. take tokens by falling frequency; each one brings the two parts of every
   merge that produced it in the corpus (recursively), until --size is met;
3. keep all 256 byte tokens, and the merges whose parts and result are kept,
   in their original order. A word of the corpus whose tokens were all kept
   encodes exactly as before (the applied merges are unchanged); others fall
   back to shorter kept tokens.
"""
import argparse
import json
import os
from collections import Counter

from .examples import THINK_TAGS, example_text
from .corpus import plain_text
from .gguf_reader import GgufError, GgufFile
from .tokenizer import BYTE_TO_CHAR, CONTROL, NORMAL, USER_DEFINED, Vocab, bpe_merge, byte_encode, pre_tokenize

DEFAULT_GGUF = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "testdata", "tokenizer",
                            "hy-vocab.gguf")
HY_CONTROL_PREFIX = "<｜hy_"


def count_pieces(texts):
    pieces = Counter()
    for t in texts:
        for seg in t:
            for p in pre_tokenize(seg):
                pieces[byte_encode(p)] += 1
    return pieces


def raw_segments(text, specials):
    """Splits text at the special-token strings (they are not BPE input)."""
    segs = [text]
    for s in specials:
        segs = [piece for seg in segs for piece in seg.split(s)]
    return [s for s in segs if s]


def prune(full, pieces, size, extra_user_defined):
    freq, producers = Counter(), {}
    for word, n in pieces.items():
        parts, applied = bpe_merge(full.ranks, word)
        for p in parts:
            freq[p] += n
        for a, b in applied:
            producers.setdefault(a + b, set()).add((a, b))
    byte_chars = set(BYTE_TO_CHAR.values())
    controls = [t for t, ty in zip(full.tokens, full.types) if ty == CONTROL and t.startswith(HY_CONTROL_PREFIX)]
    budget = size - len(byte_chars) - len(controls) - len(extra_user_defined)
    kept = set()

    def closure(t):
        stack, add = [t], []
        seen = set()
        while stack:
            x = stack.pop()
            if x in kept or x in byte_chars or x in seen:
                continue
            seen.add(x)
            add.append(x)
            for a, b in producers.get(x, ()):
                stack += [a, b]
        return add

    for tok, _ in freq.most_common():
        add = closure(tok)
        if len(kept) + len(add) > budget:
            continue
        kept.update(add)
    # New ids: byte tokens and kept tokens in the original id order, then the
    # control tokens (BOS first) and the think/answer tags.
    tokens, types = [], []
    for t, ty in zip(full.tokens, full.types):
        if (t in byte_chars or t in kept) and ty != CONTROL and not t.startswith("[PAD"):
            if t not in byte_chars and ty != NORMAL:
                continue
            tokens.append(t)
            types.append(NORMAL)
    missing = byte_chars - set(tokens)
    if missing:
        raise SystemExit(f"error: the source vocabulary lacks byte tokens {sorted(missing)[:5]}")
    kept_all = set(tokens)
    merges = []
    for m in full.merges:
        a, _, b = m.partition(" ")
        if a in kept_all and b in kept_all and a + b in kept_all:
            merges.append(m)
    first_control = len(tokens)
    for t in controls:
        tokens.append(t)
        types.append(CONTROL)
    for t in extra_user_defined:
        tokens.append(t)
        types.append(USER_DEFINED)
    idx = {t: i for i, t in enumerate(tokens)}
    bos = idx[full.tokens[full.bos]]
    eos = idx[full.tokens[full.eos]]
    pad = idx.get("<｜hy_▁pad▁｜>")
    return Vocab(tokens, types, merges, bos, eos, pad), first_control, freq


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat tokenizer", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="build/qat/corpus", help="corpus folder (default: %(default)s)")
    ap.add_argument("--gguf", default=os.path.normpath(DEFAULT_GGUF), help="source vocabulary (default: %(default)s)")
    ap.add_argument("--size", type=int, default=8192, help="vocabulary size, 4096..16384 (default: %(default)s)")
    ap.add_argument("--max-docs", type=int, default=0, help="use at most this many train documents (0: all)")
    ap.add_argument("--seed", type=int, default=1234, help="example seed, as in training (default: %(default)s)")
    ap.add_argument("--out", default="build/qat/vocab.json", help="output vocabulary (default: %(default)s)")
    args = ap.parse_args(argv)
    if not 256 + 32 <= args.size <= 1 << 17:
        raise SystemExit(f"error: --size {args.size} is out of range (288..131072)")
    train = os.path.join(args.corpus, "train.jsonl")
    if not os.path.isfile(train):
        raise SystemExit(f"error: no corpus at '{train}' (run the corpus stage first or pass --corpus DIR)")
    try:
        full = Vocab.from_gguf(GgufFile(args.gguf))
    except (GgufError, OSError) as e:
        raise SystemExit(f"error: cannot read '{args.gguf}': {e}")
    specials = [t for t, ty in zip(full.tokens, full.types) if ty == CONTROL] + THINK_TAGS
    texts = []
    with open(train, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if args.max_docs and i >= args.max_docs:
                break
            doc = json.loads(line)
            texts.append(raw_segments(example_text(doc, args.seed, 0, i), specials))
            texts.append([plain_text(doc) + "\n\n"])
    pieces = count_pieces(texts)
    vocab, first_control, freq = prune(full, pieces, args.size, THINK_TAGS)
    vocab.save(args.out)
    # How much longer the corpus gets with the pruned vocabulary.
    n_full = sum(n * len(full._bpe(w)) for w, n in pieces.items())
    n_pruned = sum(n * len(vocab._bpe(w)) for w, n in pieces.items())
    print(f"tokenizer: {len(vocab)} tokens ({first_control} BPE incl. 256 bytes, {len(vocab.merges)} merges, "
          f"{len(vocab) - first_control} control/tags) from {len(full)}; corpus {n_full} tokens with the full "
          f"vocabulary, {n_pruned} pruned (+{100 * (n_pruned / n_full - 1):.1f}%) -> {args.out}")


if __name__ == "__main__":
    main()
