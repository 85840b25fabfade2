"""Token streams for training and evaluation.

Training: every train document gives its chat example (examples.py) and its
plain text, in a seeded shuffled order, concatenated into one uint16/int32
stream that is cached next to the vocabulary. A batch at step i is drawn by a
generator seeded with (seed, i), so a resumed run sees the same batches.
Each window's first token is set to BOS, as llama.cpp's perplexity does.
"""
import hashlib
import json
import os
import random

import numpy as np
import torch

from .corpus import plain_text
from .examples import example_text


def _digest(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(str(p).encode())
    return h.hexdigest()[:16]


def load_docs(corpus_dir, split, max_docs=0):
    path = os.path.join(corpus_dir, split + ".jsonl")
    if not os.path.isfile(path):
        raise SystemExit(f"error: no corpus split at '{path}' (run the corpus stage first or pass --corpus DIR)")
    docs = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if max_docs and i >= max_docs:
                break
            try:
                docs.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"error: {path} line {i + 1}: not JSON ({e})")
    if not docs:
        raise SystemExit(f"error: corpus split '{path}' is empty")
    return docs


def train_stream(vocab, vocab_path, corpus_dir, seed, max_docs=0, cache_dir=None):
    """The training token stream as a 1-D int64 tensor (cached on disk)."""
    docs = load_docs(corpus_dir, "train", max_docs)
    st = os.stat(os.path.join(corpus_dir, "train.jsonl"))
    key = _digest(os.path.abspath(vocab_path), os.path.getmtime(vocab_path), st.st_size, st.st_mtime, seed, max_docs)
    cache = os.path.join(cache_dir or os.path.dirname(os.path.abspath(vocab_path)), f"train-{key}.npy")
    if os.path.isfile(cache):
        return torch.from_numpy(np.load(cache).astype(np.int64))
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    ids = []
    for i in order:
        ids += vocab.encode(example_text(docs[i], seed, 0, i), parse_special=True)
        ids += vocab.encode(plain_text(docs[i]) + "\n\n")
    arr = np.asarray(ids, dtype=np.uint16 if len(vocab) <= 65536 else np.int32)
    tmp = cache + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, cache)
    return torch.from_numpy(arr.astype(np.int64))


def batch_at(stream, step, seed, batch, n_ctx, bos):
    """(inputs, targets) of shape (batch, n_ctx) for a step, deterministic."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + step)
    starts = torch.randint(0, len(stream) - n_ctx - 1, (batch,), generator=g)
    win = torch.stack([stream[s:s + n_ctx + 1] for s in starts.tolist()])
    win[:, 0] = bos
    return win[:, :-1], win[:, 1:]


def eval_tokens(vocab, path):
    """Tokens of a perplexity file, as llama.cpp tokenizes it: BOS first,
    special-token text not parsed."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SystemExit(f"error: cannot read evaluation file '{path}': {e.strerror}")
    return vocab.encode(text, add_bos=True, parse_special=False)
