"""Byte-level BPE with the hunyuan-dense pre-tokenizer, as llama.cpp and hy2bit
tokenize (checked against ../shared/testdata/tokenizer/cases.out), plus the
vocabulary file format the pipeline uses (vocab.json: tokens, types, merges).

Token types follow GGUF: 1 normal, 3 control, 4 user-defined. Control and
user-defined token text is split out before BPE (control only when
parse_special, user-defined always), longest first, as llama.cpp does.
"""
import json

import regex

# Whitespace as llama.cpp sees it (see src/text/pre_tokenizer.cpp for why the
# set is spelled out instead of \s).
_WS = "\\t\\n\\x0B\\f\\r\\x20\\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
PRE_TOKENIZER_PATTERNS = [
    r"\p{N}{1,3}",
    r"[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+",
    r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+"
    r"|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+"
    r"| ?[\p{P}\p{S}]+[\r\n]*"
    "|[" + _WS + "]*[\\r\\n]+"
    "|[" + _WS + "]+(?![^" + _WS + "])"
    "|[" + _WS + "]+",
]
# The same three regexes as Hugging Face tokenizers' Split pre-tokenizers
# (tokenizer.json); hy-model.md's spelling, \s for whitespace.
HF_PRE_TOKENIZER_PATTERNS = [
    r"\p{N}{1,3}",
    r"[一-龥぀-ゟ゠-ヿ]+",
    r"[!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+",
]
_COMPILED = [regex.compile(p, regex.V0) for p in PRE_TOKENIZER_PATTERNS]

NORMAL, CONTROL, USER_DEFINED = 1, 3, 4


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_TO_CHAR = bytes_to_unicode()
CHAR_TO_BYTE = {c: b for b, c in BYTE_TO_CHAR.items()}


def pre_tokenize(text):
    """Splits text into pieces: each regex splits the pieces the one before
    left, keeping unmatched stretches as pieces of their own."""
    pieces = [text]
    for rx in _COMPILED:
        out = []
        for piece in pieces:
            pos = 0
            for m in rx.finditer(piece):
                if m.start() > pos:
                    out.append(piece[pos:m.start()])
                if m.end() > m.start():
                    out.append(m.group())
                pos = m.end()
            if pos < len(piece):
                out.append(piece[pos:])
        pieces = out
    return pieces


def byte_encode(piece):
    return "".join(BYTE_TO_CHAR[b] for b in piece.encode("utf-8"))


def bpe_merge(ranks, word):
    """Byte-level BPE of one pre-tokenized word: repeatedly merge the adjacent
    pair with the lowest rank. Returns the final parts and the (a, b) pairs
    merged, in order (the vocabulary pruner keeps every pair it needs)."""
    parts, applied = list(word), []
    while len(parts) > 1:
        best, best_rank = -1, None
        for i in range(len(parts) - 1):
            r = ranks.get((parts[i], parts[i + 1]))
            if r is not None and (best_rank is None or r < best_rank):
                best, best_rank = i, r
        if best < 0:
            break
        applied.append((parts[best], parts[best + 1]))
        parts[best:best + 2] = [parts[best] + parts[best + 1]]
    return parts, applied


class Vocab:
    """tokens (list of str, byte-level text), types (list of int), merges
    (list of "a b"), bos/eos ids."""

    def __init__(self, tokens, types, merges, bos, eos, pad=None):
        self.tokens, self.types, self.merges = list(tokens), list(types), list(merges)
        self.bos, self.eos, self.pad = bos, eos, pad
        self.token_to_id = {t: i for i, t in enumerate(self.tokens)}
        self.ranks = {}
        for rank, m in enumerate(self.merges):
            a, sep, b = m.partition(" ")
            if not sep:
                raise ValueError(f"merge #{rank} '{m}' has no space between its two parts")
            self.ranks.setdefault((a, b), rank)
        self._cache = {}
        specials = [i for i, t in enumerate(self.types) if t in (CONTROL, USER_DEFINED)]
        specials.sort(key=lambda i: -len(self.tokens[i]))
        self.specials = specials

    def __len__(self):
        return len(self.tokens)

    def id(self, text):
        return self.token_to_id[text]

    # ---- encoding ----
    def _bpe(self, word):
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        parts, _ = bpe_merge(self.ranks, word)
        ids = []
        for p in parts:
            i = self.token_to_id.get(p)
            if i is not None:
                ids.append(i)
            else:  # a part with no token: fall back to its bytes (llama.cpp does the same)
                ids.extend(self.token_to_id[c] for c in p)
        if len(self._cache) < 1_000_000:
            self._cache[word] = ids
        return ids

    def _encode_raw(self, text, out):
        for piece in pre_tokenize(text):
            out.extend(self._bpe(byte_encode(piece)))

    def encode(self, text, add_bos=False, parse_special=False):
        """Token ids of text (llama.cpp's llama_tokenize with the same flags)."""
        out = [self.bos] if add_bos else []
        # Split out special tokens, longest first, leftmost non-overlapping.
        segments = [(text, None)]
        for sid in self.specials:
            if self.types[sid] == CONTROL and not parse_special:
                continue
            st = self.tokens[sid]
            nxt = []
            for seg, tok in segments:
                if tok is not None or st not in seg:
                    nxt.append((seg, tok))
                    continue
                parts = seg.split(st)
                for k, p in enumerate(parts):
                    if p:
                        nxt.append((p, None))
                    if k + 1 < len(parts):
                        nxt.append((st, sid))
            segments = nxt
        for seg, tok in segments:
            if tok is not None:
                out.append(tok)
            else:
                self._encode_raw(seg, out)
        return out

    def decode(self, ids, render_special=True):
        raw = bytearray()
        for i in ids:
            t, ty = self.tokens[i], self.types[i]
            if ty in (CONTROL, USER_DEFINED):
                if ty == CONTROL and not render_special:
                    continue
                raw += t.encode("utf-8")
            else:
                raw += bytes(CHAR_TO_BYTE[c] for c in t)
        return raw.decode("utf-8", errors="replace")

    # ---- files ----
    def save(self, path):
        from .common import write_atomic
        write_atomic(path, json.dumps({"tokens": self.tokens, "types": self.types, "merges": self.merges,
                                       "bos": self.bos, "eos": self.eos, "pad": self.pad}, ensure_ascii=False))

    @staticmethod
    def load(path):
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except OSError as e:
            raise SystemExit(f"error: cannot read vocabulary '{path}': {e.strerror} (run the tokenizer stage first)")
        for key in ("tokens", "types", "merges", "bos", "eos"):
            if key not in d:
                raise SystemExit(f"error: vocabulary '{path}' has no '{key}'")
        return Vocab(d["tokens"], d["types"], d["merges"], d["bos"], d["eos"], d.get("pad"))

    @staticmethod
    def from_gguf(gguf):
        md = gguf.metadata
        if md.get("tokenizer.ggml.model") != "gpt2":
            raise SystemExit(f"error: tokenizer.ggml.model is '{md.get('tokenizer.ggml.model')}', expected 'gpt2'")
        return Vocab(md["tokenizer.ggml.tokens"], md["tokenizer.ggml.token_type"], md["tokenizer.ggml.merges"],
                     md["tokenizer.ggml.bos_token_id"], md["tokenizer.ggml.eos_token_id"],
                     md.get("tokenizer.ggml.padding_token_id"))
