"""Sample stage: one reply to a prompt in the Hunyuan chat format, from a
checkpoint or GGUF (temperature / top-k / top-p like the model card). For a
quick look at what a model says; hy2bit run is the real runtime."""
import argparse

import torch

from .eval_command import load_any
from .examples import ASSISTANT, BOS, NO_THINK, USER
from .tokenizer import Vocab


@torch.no_grad()
def generate(model, vocab, prompt, n, temperature, top_k, top_p, seed, n_ctx):
    text = BOS + USER + prompt + ASSISTANT
    if prompt.startswith(NO_THINK):
        text += "<think>\n\n</think>\n"
    ids = vocab.encode(text, parse_special=True)
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        logits = model(torch.tensor([ids[-n_ctx:]]))[0, -1].float()
        if temperature <= 0:
            nxt = int(logits.argmax())
        else:
            p = torch.softmax(logits / temperature, -1)
            vals, idx = p.topk(min(top_k, p.numel()))
            keep = (vals.cumsum(0) - vals) < top_p
            vals, idx = vals[keep], idx[keep]
            nxt = int(idx[torch.multinomial(vals / vals.sum(), 1, generator=g)])
        if nxt == vocab.eos:
            break
        ids.append(nxt)
        out.append(nxt)
    return vocab.decode(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat sample", description=__doc__)
    ap.add_argument("-m", "--model", required=True, help="checkpoint (.pt) or GGUF")
    ap.add_argument("-p", "--prompt", default="写一副春联")
    ap.add_argument("-n", type=int, default=96, help="tokens to generate (default: %(default)s)")
    ap.add_argument("--temp", type=float, default=0.7)
    ap.add_argument("--top-k", type=int, default=20)
    ap.add_argument("--top-p", type=float, default=0.8)
    ap.add_argument("--seed", type=int, default=4568)
    ap.add_argument("--vocab", default="build/qat/vocab.json")
    args = ap.parse_args(argv)
    vocab = Vocab.load(args.vocab)
    model = load_any(args.model, 1 << 16, "cpu")
    model.eval()
    n_ctx = model.c["n_ctx"] if not args.model.endswith(".gguf") else 1 << 16
    print(generate(model, vocab, args.prompt, args.n, args.temp, args.top_k, args.top_p, args.seed, n_ctx))
