"""Training stages: the FP teacher, QAT-2bit (SEQ fake-quant + KD from the
teacher) and FP-continued (the teacher trained on for the same steps and
data as QAT, so QAT is not credited for extra training), plus PTQ-2bit.

  hyqat train teacher --config C --steps N          -> OUT/teacher.pt
  hyqat train qat     --steps M [--kd 1.0]          -> OUT/qat2.pt
  hyqat train fpcont  --steps M                     -> OUT/fp_cont.pt
  hyqat ptq2                                        -> OUT/ptq2.pt
QAT and FP-continued draw the batches that follow the teacher's (steps
teacher_steps .. teacher_steps+M-1), identical for both.
"""
import argparse
import copy
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

from . import checkpoint, common, data
from .evaluate import perplexity
from .model import HunyuanDense, load_config
from .tokenizer import Vocab

DEFAULTS = {"batch": 16, "lr": 2e-3, "warmup": 100, "weight_decay": 0.1}


def lr_at(step, steps, lr, warmup):
    if step < warmup:
        return lr * (step + 1) / warmup
    p = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))


def add_common_args(ap):
    ap.add_argument("--out", default="build/qat", help="work folder (default: %(default)s)")
    ap.add_argument("--vocab", default=None, help="vocabulary (default: OUT/vocab.json)")
    ap.add_argument("--corpus", default=None, help="corpus folder (default: OUT/corpus)")
    ap.add_argument("--device", default="auto", help="cpu, cuda or auto (default: %(default)s)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")


def setup(args):
    import torch as _t
    if args.threads:
        _t.set_num_threads(args.threads)
    elif _t.get_num_threads() < (os.cpu_count() or 1):
        _t.set_num_threads(os.cpu_count() or 1)
    args.vocab = args.vocab or os.path.join(args.out, "vocab.json")
    args.corpus = args.corpus or os.path.join(args.out, "corpus")
    device = common.pick_device(torch, args.device)
    print(common.blas_report(torch), f"; device {device}", flush=True)
    return device


def train_loop(model, stream, args, device, stage, cfg, train_cfg, step0_data, teacher=None, ckpt_path=None,
               start=None, curve=None, valid_tokens=None, vocab=None):
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    params = [p for _, p in named]
    # Weight decay on matrices only; never on norms or the SEQ steps.
    decay = [p for n, p in named if p.dim() >= 2 and not n.endswith(".scale")]
    other = [p for n, p in named if p.dim() < 2 or n.endswith(".scale")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": train_cfg["weight_decay"]},
                             {"params": other, "weight_decay": 0.0}], lr=train_cfg["lr"], betas=(0.9, 0.95))
    step = 0
    if start is not None:
        opt.load_state_dict(start["optimizer"])
        step = start["step"]
    n_ctx, batch, bos = cfg["n_ctx"], train_cfg["batch"], vocab.bos
    amp = args.autocast == "bf16"
    t0, tokens_done, last_log = time.perf_counter(), 0, time.perf_counter()
    tty = sys.stderr.isatty()
    stop_at = min(args.steps, step + args.stop_after) if args.stop_after else args.steps
    while step < stop_at:
        lr = lr_at(step, args.steps, train_cfg["lr"], train_cfg["warmup"])
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = data.batch_at(stream, step0_data + step, args.seed, batch, n_ctx, bos)
        x, y = x.to(device), y.to(device)
        model.train()
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            logits = model(x)
            loss = F.cross_entropy(logits.float().view(-1, logits.shape[-1]), y.reshape(-1))
            total = loss
            if teacher is not None and args.kd > 0:
                with torch.no_grad():
                    t_logits = teacher(x).float()
                kl = F.kl_div(F.log_softmax(logits.float(), -1), F.log_softmax(t_logits, -1), log_target=True,
                              reduction="batchmean") / n_ctx
                total = loss + args.kd * kl
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        step += 1
        tokens_done += x.numel()
        now = time.perf_counter()
        if step % args.log_every == 0 or step == args.steps:
            rate = tokens_done / (now - t0)
            msg = f"{stage} step {step}/{args.steps} loss {loss.item():.3f} lr {lr:.2e} {rate:.0f} tok/s"
            if teacher is not None and args.kd > 0:
                msg += f" kd {(total - loss).item():.3f}"
            print(msg, flush=True)
        elif tty and now - last_log > 1:
            print(f"\r{stage} step {step}/{args.steps} loss {loss.item():.3f}", end="", file=sys.stderr, flush=True)
            last_log = now
        if curve is not None and valid_tokens is not None and (step % args.eval_every == 0 or step == args.steps):
            r = perplexity(model, valid_tokens, n_ctx, bos, device, chunks=args.eval_chunks)
            curve.append({"step": step, "tokens": step * batch * n_ctx, "valid_ppl": r["ppl"],
                          "seconds": round(now - t0, 1)})
            print(f"{stage} step {step}: valid PPL {r['ppl']:.2f}", flush=True)
        if ckpt_path and (step % args.ckpt_every == 0 and step < args.steps):
            checkpoint.save(ckpt_path, model, cfg, stage, step, args.steps, opt, {"curve": curve or []})
    if step < args.steps and ckpt_path:
        checkpoint.save(ckpt_path, model, cfg, stage, step, args.steps, opt, {"curve": curve or []})
    return step, opt


def run_train(argv):
    ap = argparse.ArgumentParser(prog="hyqat train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stage", choices=["teacher", "qat", "fpcont"])
    ap.add_argument("--config", default=os.path.join(os.path.dirname(__file__), "..", "configs", "small.json"),
                    help="model config JSON (teacher only; later stages use the teacher's)")
    ap.add_argument("--steps", type=int, required=True, help="optimizer steps of this stage")
    ap.add_argument("--batch", type=int, default=None, help="sequences per step (default: config or 16)")
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: config or 2e-3; qat/fpcont: 10%% of the teacher's)")
    ap.add_argument("--warmup", type=int, default=None, help="warm-up steps")
    ap.add_argument("--kd", type=float, default=1.0, help="qat: weight of the KL distillation term (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1234, help="seed for init, data order and batches (default: %(default)s)")
    ap.add_argument("--autocast", choices=["none", "bf16"], default="none", help="mixed precision (default: %(default)s)")
    ap.add_argument("--resume", action="store_true", help="continue from OUT/STAGE.ckpt")
    ap.add_argument("--stop-after", type=int, default=0,
                    help="stop after this many steps of this run, leaving a checkpoint to --resume from")
    ap.add_argument("--ckpt-every", type=int, default=500, help="checkpoint interval in steps (default: %(default)s)")
    ap.add_argument("--eval-every", type=int, default=0, help="teacher: valid PPL every N steps (learning curve)")
    ap.add_argument("--eval-chunks", type=int, default=40, help="chunks of valid.txt per curve point (default: %(default)s)")
    ap.add_argument("--log-every", type=int, default=50, help="log interval in steps (default: %(default)s)")
    ap.add_argument("--max-docs", type=int, default=0, help="use at most this many train documents (0: all)")
    add_common_args(ap)
    args = ap.parse_args(argv)
    if args.steps <= 0:
        raise SystemExit(f"error: --steps must be positive, got {args.steps}")
    device = setup(args)
    torch.manual_seed(args.seed)
    vocab = Vocab.load(args.vocab)
    names = {"teacher": "teacher", "qat": "qat2", "fpcont": "fp_cont"}
    final_path = os.path.join(args.out, names[args.stage] + ".pt")
    ckpt_path = os.path.join(args.out, names[args.stage] + ".ckpt")
    teacher_path = os.path.join(args.out, "teacher.pt")

    if args.stage == "teacher":
        cfg, train_cfg_file = load_config(args.config, n_vocab=len(vocab))
        model, step0_data, teacher = HunyuanDense(cfg), 0, None
        default_lr = DEFAULTS["lr"]
    else:
        model, tstate = checkpoint.load_model(teacher_path, frozen=False)
        cfg, train_cfg_file = tstate["config"], tstate["extra"].get("train", {})
        step0_data = tstate["steps"]
        teacher = None
        if args.stage == "qat":
            teacher = copy.deepcopy(model).to(device).eval()
            for p in teacher.parameters():
                p.requires_grad_(False)
            model.set_mode("seq")  # scales start at the MSE-optimal PTQ step
        # The teacher's final learning rate (its cosine ends at 10% of the peak):
        # FP-continued is the teacher trained on, QAT starts from it.
        default_lr = 0.1 * train_cfg_file.get("lr", DEFAULTS["lr"])
    if cfg["n_vocab"] != len(vocab):
        raise SystemExit(f"error: the model has n_vocab {cfg['n_vocab']} but '{args.vocab}' holds {len(vocab)} tokens")
    train_cfg = dict(DEFAULTS, lr=default_lr)
    train_cfg.update({k: v for k, v in train_cfg_file.items() if k in DEFAULTS and
                      (args.stage == "teacher" or k != "lr")})
    for k in ("batch", "lr", "warmup"):
        if getattr(args, k) is not None:
            train_cfg[k] = getattr(args, k)
    if args.stage != "teacher" and args.warmup is None:
        train_cfg["warmup"] = min(train_cfg["warmup"], max(1, args.steps // 10))

    start = None
    curve = []
    if args.resume:
        if not os.path.isfile(ckpt_path):
            raise SystemExit(f"error: --resume: no checkpoint at '{ckpt_path}' (nothing to resume)")
        start = checkpoint.read(ckpt_path)
        checkpoint.check_same_config(start, cfg, ckpt_path)
        if start["stage"] != args.stage or start["steps"] != args.steps:
            raise SystemExit(f"error: checkpoint '{ckpt_path}' is {start['stage']} step {start['step']} of "
                             f"{start['steps']}, but this run is {args.stage} with --steps {args.steps}")
        model.load_state_dict(start["model"])
        curve = start["extra"].get("curve", [])
        print(f"{args.stage}: resuming from '{ckpt_path}' at step {start['step']} of {args.steps}", flush=True)
    model.to(device)
    n_lin = sum(m.weight.numel() for m in model.linears())
    n_all = sum(p.numel() for n, p in model.named_parameters() if not n.endswith("scale"))
    print(f"{args.stage}: {n_all / 1e6:.2f}M parameters ({n_lin / 1e6:.2f}M in linear layers), "
          f"batch {train_cfg['batch']} x {cfg['n_ctx']}, lr {train_cfg['lr']}, {args.steps} steps, "
          f"autocast {args.autocast}", flush=True)
    stream = data.train_stream(vocab, args.vocab, args.corpus, args.seed, args.max_docs)
    print(f"{args.stage}: train stream {len(stream)} tokens", flush=True)
    valid = None
    if args.stage == "teacher" and args.eval_every:
        valid = data.eval_tokens(vocab, os.path.join(args.corpus, "valid.txt"))
    t0 = time.perf_counter()
    step, opt = train_loop(model, stream, args, device, args.stage, cfg, train_cfg, step0_data, teacher,
                           ckpt_path, start, curve if args.stage == "teacher" else None, valid, vocab)
    seconds = time.perf_counter() - t0
    if step < args.steps:
        print(f"{args.stage}: stopped at step {step} of {args.steps} -> {ckpt_path} (continue with --resume)")
        return
    extra = {"train": train_cfg, "curve": curve, "seconds": seconds, "autocast": args.autocast,
             "tokens": args.steps * train_cfg["batch"] * cfg["n_ctx"], "kd": args.kd if args.stage == "qat" else 0}
    checkpoint.save(final_path, model.cpu(), cfg, args.stage, step, args.steps, None, extra)
    if os.path.exists(ckpt_path):
        os.unlink(ckpt_path)
    print(f"{args.stage}: done in {seconds:.0f} s -> {final_path}", flush=True)


def run_ptq2(argv):
    ap = argparse.ArgumentParser(prog="hyqat ptq2", description="PTQ-2bit: snap every linear row of the teacher "
                                 "to the SEQ grid with its MSE-optimal step (no training) -> OUT/ptq2.pt")
    add_common_args(ap)
    args = ap.parse_args(argv)
    setup(args)
    model, tstate = checkpoint.load_model(os.path.join(args.out, "teacher.pt"), frozen=False)
    model.set_mode("seq")
    path = os.path.join(args.out, "ptq2.pt")
    checkpoint.save(path, model, tstate["config"], "ptq2", 0, 0, None, {"train": tstate["extra"].get("train", {})})
    print(f"ptq2: {len(model.linears())} linear layers snapped to the SEQ grid -> {path}")
