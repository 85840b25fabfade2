"""Report stage: exports every model, runs the hy2bit chain on it (convert,
quantize, perplexity, bench) when the binary has those commands, scores the
same weights in PyTorch, and writes QAT.md and results.json.

Models: fp (teacher), fp_cont, ptq2, qat2 (checkpoints), and q4_0 (hy2bit
quantize of fp's GGUF). ppl_torch is PyTorch on the GGUF's own (dequantized)
weights when there is a GGUF, else on the checkpoint; ppl_hy2bit is hy2bit
perplexity's "Final estimate"; kld is the mean KL(fp || model) per token.
"""
import argparse
import json
import math
import os
import re
import subprocess


from . import checkpoint, common, data, gguf_model
from .evaluate import mean_kld, perplexity
from .export import export
from .tokenizer import Vocab

MODELS = ("fp", "fp_cont", "q4_0", "ptq2", "qat2")
CKPT = {"fp": "teacher.pt", "fp_cont": "fp_cont.pt", "ptq2": "ptq2.pt", "qat2": "qat2.pt"}
GGUF_TYPE = {"fp": None, "fp_cont": None, "ptq2": "q2_0c", "qat2": "q2_0c"}


def hy2bit_has(binary, command):
    """True when `hy2bit --help` lists the subcommand."""
    if not os.access(binary, os.X_OK):
        return False
    p = subprocess.run([binary, "--help"], capture_output=True, text=True)
    listed = p.stdout.split("Subcommands:", 1)[-1] if "Subcommands:" in p.stdout else ""
    return re.search(r"^\s+" + re.escape(command) + r"\s", listed, re.M) is not None


def run(cmd, log):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    with open(log, "a", encoding="utf-8") as f:
        f.write("$ " + " ".join(map(str, cmd)) + "\n" + p.stdout + p.stderr + "\n")
    if p.returncode != 0:
        raise SystemExit(f"error: {' '.join(map(str, cmd))} failed ({p.returncode}): "
                         f"{(p.stderr or p.stdout).strip().splitlines()[-1:]} (log: {log})")
    return p.stdout + p.stderr


def parse_ppl(text):
    """PPL and its error from a plain run ("Final estimate") or a KL-divergence run ("Mean PPL(Q)")."""
    m = (re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", text)
         or re.search(r"Mean PPL\(Q\)\s*:\s*([0-9.]+) ±\s*([0-9.]+)", text))
    return (float(m.group(1)), float(m.group(2))) if m else (None, None)


def parse_kld(text):
    m = re.search(r"Mean\s+KLD:\s+([-0-9.e]+)", text)
    return float(m.group(1)) if m else None


def main(argv=None):
    ap = argparse.ArgumentParser(prog="hyqat report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/qat", help="work folder (default: %(default)s)")
    ap.add_argument("--hy2bit", default="build/bin/hy2bit", help="hy2bit binary (default: %(default)s)")
    ap.add_argument("--chunks", type=int, default=0, help="perplexity chunks (0: the whole test file)")
    ap.add_argument("--md", default=None, help="QAT.md to write (default: OUT/QAT.md)")
    ap.add_argument("--json", default=None, help="results.json to write (default: OUT/results.json)")
    ap.add_argument("--no-bench", action="store_true", help="skip hy2bit bench (decode speed)")
    args = ap.parse_args(argv)
    out = args.out
    vocab = Vocab.load(os.path.join(out, "vocab.json"))
    test_file = os.path.join(out, "corpus", "test.txt")
    tokens = data.eval_tokens(vocab, test_file)
    log = os.path.join(out, "report.log")
    chain = all(hy2bit_has(args.hy2bit, c) for c in ("convert", "quantize", "perplexity"))
    states = {k: checkpoint.read(os.path.join(out, v)) for k, v in CKPT.items()}
    n_ctx = states["fp"]["config"]["n_ctx"]
    ggufs = {}
    for name in CKPT:
        hf = os.path.join(out, "hf-" + name)
        export(os.path.join(out, CKPT[name]), os.path.join(out, "vocab.json"), hf)
        if chain:
            g = os.path.join(out, name + "-f16.gguf")  # f16: what users run; the QDQ grid is exact in it
            run([args.hy2bit, "convert", hf, g, "--outtype", "f16"], log)
            ggufs[name] = g
            if GGUF_TYPE[name]:
                q = os.path.join(out, f"{name}-{GGUF_TYPE[name]}.gguf")
                text = run([args.hy2bit, "quantize", g, q, GGUF_TYPE[name]], log)
                m = re.search(r"q2_0c: (\d+) of (\d+) rows", text)
                ggufs[name] = q
                states[name]["lossless"] = (int(m.group(1)), int(m.group(2))) if m else None
    if chain:
        ggufs["q4_0"] = os.path.join(out, "fp-q4_0.gguf")
        run([args.hy2bit, "quantize", os.path.join(out, "fp-f16.gguf"), ggufs["q4_0"], "q4_0"], log)

    def torch_model(name):
        if name in ggufs:
            return gguf_model.load(ggufs[name], n_ctx)[0]
        m, _ = checkpoint.load_model(os.path.join(out, CKPT[name]), frozen=True)
        return m

    chunk_args = ["--chunks", args.chunks] if args.chunks else []
    results = {}
    base = perplexity(torch_model("fp"), tokens, n_ctx, vocab.bos, "cpu", chunks=args.chunks, keep_logprobs=True)
    base_text = None
    if chain:  # writing the KLD base also scores fp
        base_text = run([args.hy2bit, "perplexity", "-m", ggufs["fp"], "-f", test_file, "-c", n_ctx, *chunk_args,
                         "--kl-divergence-base", os.path.join(out, "fp.kld")], log)
    for name in MODELS:
        if name == "q4_0" and not chain:
            results[name] = {"ppl_torch": None, "ppl_hy2bit": None, "kld": None, "bytes": None}
            continue
        model = torch_model(name)
        r = base if name == "fp" else perplexity(model, tokens, n_ctx, vocab.bos, "cpu", chunks=args.chunks)
        kld = 0.0 if name == "fp" else mean_kld(base["logprobs"], model, tokens, n_ctx, vocab.bos, "cpu",
                                                  chunks=args.chunks)
        row = {"ppl_torch": r["ppl"], "ppl_torch_err": r["ppl_err"], "ppl_hy2bit": None, "kld": kld,
               "kld_hy2bit": None, "bytes": None}
        if name in CKPT and name not in ggufs:
            row["bytes"] = os.path.getsize(os.path.join(out, "hf-" + name, "model.safetensors"))
        if name in ggufs:
            g = ggufs[name]
            row["gguf"] = os.path.basename(g)
            row["bytes"] = os.path.getsize(g)
            # One hy2bit run per model: the KL-divergence run reports the PPL too.
            if name == "fp":
                text = base_text
            else:
                text = run([args.hy2bit, "perplexity", "-m", g, "-f", test_file, "-c", n_ctx, *chunk_args,
                            "--kl-divergence-base", os.path.join(out, "fp.kld"), "--kl-divergence"], log)
                row["kld_hy2bit"] = parse_kld(text)
            row["ppl_hy2bit"], row["ppl_hy2bit_err"] = parse_ppl(text)
            if row["ppl_hy2bit"]:
                row["agreement"] = row["ppl_hy2bit"] / row["ppl_torch"] - 1
            if not args.no_bench:
                js = run([args.hy2bit, "bench", "-m", g, "-p", 0, "-n", 64, "-t", 2, "-r", 2, "-o", "json",
                          "--no-ttft"], log)
                try:
                    row["decode_tok_s_2t"] = json.loads(js[js.index("["):js.rindex("]") + 1])[0]["avg_ts"]
                except (ValueError, KeyError, IndexError):
                    row["decode_tok_s_2t"] = None
        if name in states and states[name].get("lossless"):
            row["q2_0c_lossless_rows"] = list(states[name]["lossless"])
        results[name] = row
    curve = states["fp"]["extra"].get("curve", [])
    summary = {"n_ctx": n_ctx, "test_tokens": len(tokens), "scored_tokens": base["n_scored"],
               "chain": "full" if chain else "stopped after export (hy2bit convert/perplexity not built)",
               "teacher_tokens": states["fp"]["extra"].get("tokens"), "qat_tokens": states["qat2"]["extra"].get("tokens"),
               "teacher_seconds": states["fp"]["extra"].get("seconds"), "curve": curve}
    f = {k: (results[k]["ppl_hy2bit"] or results[k]["ppl_torch"]) for k in MODELS if results[k]["ppl_torch"]}
    if all(k in f for k in ("ptq2", "qat2", "fp_cont")):
        lp, lq, lc = math.log(f["ptq2"]), math.log(f["qat2"]), math.log(f["fp_cont"])
        summary["recovery_r"] = (lp - lq) / (lp - lc) if lp != lc else None
        summary["qat2_over_fp_cont"] = f["qat2"] / f["fp_cont"]
        summary["ptq2_over_fp"] = f["ptq2"] / f["fp"]
    results_path = args.json or os.path.join(out, "results.json")
    common.write_atomic(results_path, json.dumps(dict(results, summary=summary), indent=1))
    md = ["# QAT in miniature: results", "",
          f"Test set: {summary['test_tokens']} tokens of corpus/test.txt, chunks of n_ctx {n_ctx} with BOS "
          f"first, second half scored ({summary['scored_tokens']} tokens). Chain: {summary['chain']}.", "",
          "| model | PPL torch | PPL hy2bit | agreement | mean KLD vs FP (torch / hy2bit) | bytes | decode tok/s (2 t) |",
          "|---|---|---|---|---|---|---|"]

    def fmt(v, f="{:.3f}"):
        return "–" if v is None else f.format(v)
    for k in MODELS:
        r = results[k]
        md.append(f"| {k} | {fmt(r['ppl_torch'])} | {fmt(r['ppl_hy2bit'])} | {fmt(r.get('agreement'), '{:+.2%}')} | "
                  f"{fmt(r['kld'], '{:.4f}')} / {fmt(r.get('kld_hy2bit'), '{:.4f}')} | {fmt(r['bytes'], '{:,}')} | "
                  f"{fmt(r.get('decode_tok_s_2t'), '{:.1f}')} |")
    md += ["", f"Recovery r = {fmt(summary.get('recovery_r'))}; QAT-2bit / FP-continued = "
           f"{fmt(summary.get('qat2_over_fp_cont'), '{:.4f}')}; PTQ-2bit / FP = {fmt(summary.get('ptq2_over_fp'), '{:.4f}')}.",
           "", "Teacher learning curve (valid PPL):", "", "| step | tokens | valid PPL | seconds |", "|---|---|---|---|"]
    md += [f"| {c['step']} | {c['tokens']} | {c['valid_ppl']:.2f} | {c['seconds']} |" for c in curve]
    common.write_atomic(args.md or os.path.join(out, "QAT.md"), "\n".join(md) + "\n")
    print("\n".join(md))
    print(f"report: -> {results_path}")
