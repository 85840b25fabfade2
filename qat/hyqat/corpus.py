"""Corpus stage: reads the installed sources, normalises each document and
splits them by a hash of the document's text into train / valid / test.

Sources (installed by scripts/setup.sh, never committed):
  - npm `chinese-poetry` 2.0.1 (MIT): Tang poems (quantangshi/poet.tang.*),
    Song ci (songci/ci.song.*);
  - Debian `fortunes` (English, BSD-style/public-domain quotes) and
    `fortunes-zh` (GPL-3+: tang300, song100 poems and Chinese sayings).
Split rule: h = first 8 bytes of sha256(kind + "\\n" + text) as a big-endian
integer; h % 100 < 90 -> train, < 95 -> valid, else test. Identical documents
therefore always land in the same split.
"""
import argparse
import glob
import hashlib
import json
import os
import re

from . import common

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_CLAUSE = re.compile(r"[，。！？；、,.!?;]")
FORTUNE_DIR = "/usr/share/games/fortunes"
ZH_FORTUNES = ("tang300", "song100", "chinese")


def split_of(kind, text):
    h = int.from_bytes(hashlib.sha256((kind + "\n" + text).encode("utf-8")).digest()[:8], "big") % 100
    return "train" if h < 90 else ("valid" if h < 95 else "test")


def shi_form(lines):
    """五言/七言 绝句/律诗 from the clause lengths, or 古体诗."""
    clauses = [c for c in _CLAUSE.split("".join(lines)) if c]
    if not clauses:
        return None
    n = len(clauses[0])
    if n not in (5, 7) or any(len(c) != n for c in clauses):
        return "古体诗"
    size = {4: "绝句", 8: "律诗"}.get(len(clauses))
    return ("五言" if n == 5 else "七言") + (size or "古诗")


def rhymes(lines):
    """Last character of every second clause (the rhyme positions)."""
    clauses = [c for c in _CLAUSE.split("".join(lines)) if c]
    return [c[-1] for c in clauses[1::2]]


def _clean_lines(paragraphs):
    out = [p.strip() for p in paragraphs if p and p.strip()]
    # Drop poems with editorial marks or missing characters (□, 【】, digits).
    if not out or any(ch in "".join(out) for ch in "□【】（）()0123456789{}[]"):
        return None
    return out


def read_poetry(root, max_docs):
    docs = []
    files = sorted(glob.glob(os.path.join(root, "quantangshi", "poet.tang.*.json")))
    files += sorted(glob.glob(os.path.join(root, "songci", "ci.song.*.json")))
    if not files:
        raise SystemExit(f"error: no chinese-poetry files under '{root}' (expected quantangshi/poet.tang.*.json; "
                         "run scripts/setup.sh or pass --poetry DIR)")
    for path in files:
        with open(path, encoding="utf-8") as f:
            try:
                items = json.load(f)
            except json.JSONDecodeError as e:
                raise SystemExit(f"error: {path}: not JSON ({e})")
        is_ci = "/songci/" in path
        for it in items:
            lines = _clean_lines(it.get("paragraphs") or [])
            if lines is None or len("".join(lines)) > 400:
                continue
            if is_ci:
                title = (it.get("rhythmic") or "").strip()
                docs.append({"kind": "ci", "title": title, "author": it.get("author", ""), "form": title,
                             "lines": lines, "tags": []})
            else:
                title = (it.get("title") or "").strip()
                docs.append({"kind": "shi", "title": title, "author": it.get("author", ""),
                             "form": shi_form(lines), "lines": lines, "tags": it.get("tags") or []})
            if max_docs and len(docs) >= max_docs:
                return docs
    return docs


def read_fortune_file(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        raw = _ANSI.sub("", f.read())
    return [e.strip("\n") for e in raw.split("\n%\n") if e.strip()]


# Fortune files that are not sentences (pictures made of characters).
SKIP_FORTUNES = ("ascii-art",)


def read_fortunes(fortune_dir, max_docs):
    """All fortunes; with max_docs, every k-th one so each topic is present."""
    docs = []
    names = sorted(p for p in glob.glob(os.path.join(fortune_dir, "*.u8")))
    if not names:
        raise SystemExit(f"error: no fortune files (*.u8) in '{fortune_dir}' (install Debian's fortunes and fortunes-zh)")
    for path in names:
        topic = os.path.basename(path)[:-3]
        if topic in SKIP_FORTUNES:
            continue
        for text in read_fortune_file(path):
            if len(text) > 600:
                continue
            if topic in ZH_FORTUNES:
                lines = text.split("\n")
                if topic in ("tang300", "song100") and lines and lines[0].startswith("《"):
                    title = lines[0].strip("《》 ")
                    body = [l for l in lines[1:] if l and not l.startswith("作者")]
                    docs.append({"kind": "shi" if topic == "tang300" else "ci", "title": title, "author": "",
                                 "form": shi_form(body) if topic == "tang300" else title.split("・")[0],
                                 "lines": body, "tags": []})
                else:
                    docs.append({"kind": "fortune_zh", "topic": "格言", "text": text})
            else:
                docs.append({"kind": "fortune_en", "topic": topic.replace("-", " "), "text": text})
    if max_docs and len(docs) > max_docs:
        step = len(docs) / max_docs
        docs = [docs[int(i * step)] for i in range(max_docs)]
    return docs


def plain_text(doc):
    """The document as plain text (what the perplexity test file holds)."""
    if doc["kind"] in ("shi", "ci"):
        return "《" + doc["title"] + "》\n" + "\n".join(doc["lines"])
    return doc["text"]


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat corpus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--poetry", default=common.default_poetry_dir(),
                    help="chinese-poetry's dist folder (default: %(default)s)")
    ap.add_argument("--fortunes", default=FORTUNE_DIR, help="fortune files folder (default: %(default)s)")
    ap.add_argument("--out", default="build/qat/corpus", help="output folder (default: %(default)s)")
    ap.add_argument("--max-poems", type=int, default=0, help="read at most this many poems (0: all)")
    ap.add_argument("--max-fortunes", type=int, default=0, help="read at most this many fortunes (0: all)")
    ap.add_argument("--test-docs", type=int, default=1500,
                    help="test documents written to test.txt, the perplexity file (default: %(default)s)")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.poetry):
        raise SystemExit(f"error: corpus path '{args.poetry}' is not a folder (run scripts/setup.sh or pass --poetry DIR)")
    if not os.path.isdir(args.fortunes):
        raise SystemExit(f"error: fortune path '{args.fortunes}' is not a folder")
    docs = read_poetry(args.poetry, args.max_poems) + read_fortunes(args.fortunes, args.max_fortunes)
    splits = {"train": [], "valid": [], "test": []}
    seen = set()
    for d in docs:
        text = plain_text(d)
        if text in seen:
            continue
        seen.add(text)
        splits[split_of(d["kind"], text)].append(d)
    os.makedirs(args.out, exist_ok=True)
    for name, items in splits.items():
        common.write_atomic(os.path.join(args.out, name + ".jsonl"),
                            "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in items))
    for name in ("valid", "test"):
        common.write_atomic(os.path.join(args.out, name + ".txt"),
                            "\n\n".join(plain_text(d) for d in splits[name][:args.test_docs]) + "\n")
    counts = {k: len(v) for k, v in splits.items()}
    kinds = {}
    for d in splits["train"]:
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    print(f"corpus: {sum(counts.values())} documents {counts}; train kinds {kinds} -> {args.out}")


if __name__ == "__main__":
    main()
