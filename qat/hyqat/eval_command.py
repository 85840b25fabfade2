"""Eval stage: perplexity (and mean KLD against a base model) of a checkpoint
(.pt) or a GGUF (dequantized into PyTorch), scored like llama-perplexity.
Prints llama-perplexity's "Final estimate: PPL = X +/- E" line; -o json adds
a JSON object on the last line.
"""
import argparse
import json
import os

import torch

from . import checkpoint, common, data, gguf_model
from .evaluate import mean_kld, perplexity
from .gguf_reader import GgufError
from .tokenizer import Vocab


def load_any(path, n_ctx, device):
    if path.endswith(".gguf"):
        try:
            model, _ = gguf_model.load(path, n_ctx)
        except (GgufError, OSError) as e:
            raise SystemExit(f"error: cannot load '{path}': {e}")
        return model.to(device)
    model, _ = checkpoint.load_model(path, device=device, frozen=True)
    return model


def evaluate(model_path, file, vocab, n_ctx, device, base_path=None, chunks=0):
    tokens = data.eval_tokens(vocab, file)
    model = load_any(model_path, n_ctx, device)
    if base_path:
        base = load_any(base_path, n_ctx, device)
        b = perplexity(base, tokens, n_ctx, vocab.bos, device, chunks=chunks, keep_logprobs=True)
        r = perplexity(model, tokens, n_ctx, vocab.bos, device, chunks=chunks)
        r["kld"] = mean_kld(b["logprobs"], model, tokens, n_ctx, vocab.bos, device, chunks=chunks)
        r["base_ppl"] = b["ppl"]
    else:
        r = perplexity(model, tokens, n_ctx, vocab.bos, device, chunks=chunks)
    r["n_tokens"] = len(tokens)
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat eval", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-m", "--model", required=True, help="checkpoint (.pt) or GGUF")
    ap.add_argument("-f", "--file", required=True, help="text file (e.g. build/qat/corpus/test.txt)")
    ap.add_argument("-c", "--ctx", type=int, default=128, help="chunk length n_ctx (default: %(default)s)")
    ap.add_argument("--chunks", type=int, default=0, help="score at most this many chunks (0: all)")
    ap.add_argument("--kld-base", default=None, help="model whose distribution the mean KLD is measured against")
    ap.add_argument("--vocab", default="build/qat/vocab.json", help="vocabulary (default: %(default)s)")
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (default: %(default)s)")
    ap.add_argument("-o", "--output", choices=["text", "json"], default="text")
    args = ap.parse_args(argv)
    if args.ctx < 4 or args.ctx % 2:
        raise SystemExit(f"error: --ctx must be even and >= 4, got {args.ctx}")
    if not os.path.isfile(args.model):
        raise SystemExit(f"error: no model at '{args.model}'")
    device = common.pick_device(torch, args.device)
    r = evaluate(args.model, args.file, Vocab.load(args.vocab), args.ctx, device, args.kld_base, args.chunks)
    print(f"Final estimate: PPL = {r['ppl']:.4f} +/- {r['ppl_err']:.5f}")
    if "kld" in r:
        print(f"Mean    KLD: {r['kld']:10.6f}")
    if args.output == "json":
        print(json.dumps(r))
