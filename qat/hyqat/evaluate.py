"""Perplexity and KL divergence scored exactly like llama.cpp's
llama-perplexity (and hy2bit perplexity): the token stream is cut into
floor(n / n_ctx) chunks; each chunk's first token becomes BOS; only the
second half of each chunk is scored (positions n_ctx/2 .. n_ctx-2 predict
the next token). PPL = exp(mean NLL); the error is llama.cpp's
(standard error of the mean NLL, times PPL).
"""
import math

import torch


@torch.no_grad()
def chunk_logprobs(model, tokens, n_ctx, bos, device, batch=8, chunks=0):
    """Yields (log-probs (n_scored, n_vocab), targets) per chunk."""
    n_chunk = len(tokens) // n_ctx
    if chunks:
        n_chunk = min(n_chunk, chunks)
    if n_chunk == 0:
        raise SystemExit(f"error: {len(tokens)} tokens are fewer than one chunk of n_ctx {n_ctx}")
    first = n_ctx // 2
    t = torch.tensor(tokens[:n_chunk * n_ctx], dtype=torch.long).view(n_chunk, n_ctx)
    for i in range(0, n_chunk, batch):
        x = t[i:i + batch].clone()
        x[:, 0] = bos
        logits = model(x.to(device)).float()
        lp = torch.log_softmax(logits[:, first:n_ctx - 1], dim=-1).cpu()
        tg = t[i:i + batch, first + 1:n_ctx]
        for j in range(x.shape[0]):
            yield lp[j], tg[j]


def perplexity(model, tokens, n_ctx, bos, device, chunks=0, keep_logprobs=False):
    """{'ppl', 'ppl_err', 'n_scored'} (and 'logprobs' list if asked)."""
    model.eval()
    nll, nll2, n, kept = 0.0, 0.0, 0, []
    for lp, tg in chunk_logprobs(model, tokens, n_ctx, bos, device, chunks=chunks):
        v = -lp.gather(1, tg[:, None]).squeeze(1).double()
        nll += float(v.sum())
        nll2 += float((v * v).sum())
        n += v.numel()
        if keep_logprobs:
            kept.append(lp)
    mean = nll / n
    var = nll2 / n - mean * mean
    err = math.sqrt(max(var, 0.0) / max(n - 1, 1))
    ppl = math.exp(mean)
    out = {"ppl": ppl, "ppl_err": ppl * err, "n_scored": n}
    if keep_logprobs:
        out["logprobs"] = kept
    return out


def mean_kld(base_logprobs, model, tokens, n_ctx, bos, device, chunks=0):
    """Mean KL(base || model) per scored token, as llama-perplexity --kl-divergence."""
    model.eval()
    total, n = 0.0, 0
    for base, (lp, _) in zip(base_logprobs, chunk_logprobs(model, tokens, n_ctx, bos, device, chunks=chunks)):
        kl = (base.exp() * (base - lp)).sum(-1).double()
        total += float(kl.sum())
        n += kl.numel()
    return total / n
