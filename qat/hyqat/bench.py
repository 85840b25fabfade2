"""Bench stage: training throughput (tokens/s of full optimizer steps) for
the options the issue asks about: fp32 vs bf16 autocast, vocabulary size,
n_ff and batch size. Random tokens (speed does not depend on the data);
each trial runs --warmup untimed and --steps timed steps.
  hyqat bench --trials "autocast=none,bf16" "n_vocab=4096,8192,16384" ...
Each trial group varies one option around the base config.
"""
import argparse
import os
import json
import time

import torch
import torch.nn.functional as F

from . import common
from .model import HunyuanDense, load_config


def one_trial(cfg, batch, autocast, steps, warmup):
    torch.manual_seed(0)
    model = HunyuanDense(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, cfg["n_vocab"], (batch, cfg["n_ctx"] + 1))
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=autocast == "bf16"):
            logits = model(x[:, :-1])
            loss = F.cross_entropy(logits.float().reshape(-1, cfg["n_vocab"]), x[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    return batch * cfg["n_ctx"] / median


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="qat/configs/small.json")
    ap.add_argument("--n-vocab", type=int, default=8192)
    ap.add_argument("--batch", type=int, default=0, help="base batch (default: the config's)")
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("trials", nargs="*", default=["autocast=none,bf16"], help="KEY=V1,V2 groups")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads or os.cpu_count() or 1)
    print(common.blas_report(torch), flush=True)
    base, train = load_config(args.config, n_vocab=args.n_vocab)
    rows = []
    for group in args.trials:
        key, _, values = group.partition("=")
        for v in values.split(","):
            cfg, batch, autocast = dict(base), args.batch or train.get("batch", 16), "none"
            if key == "autocast":
                autocast = v
            elif key == "batch":
                batch = int(v)
            elif key in cfg:
                cfg[key] = type(cfg[key])(v)
            else:
                raise SystemExit(f"error: unknown trial key '{key}' (autocast, batch or a config key)")
            n_lin = sum(m.weight.numel() for m in HunyuanDense(cfg).linears())
            rate = one_trial(cfg, batch, autocast, args.steps, args.warmup)
            row = {"trial": f"{key}={v}", "tok_s": round(rate), "batch": batch, "n_ctx": cfg["n_ctx"],
                   "n_vocab": cfg["n_vocab"], "n_ff": cfg["n_ff"], "autocast": autocast,
                   "linear_params_M": round(n_lin / 1e6, 2)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows
