"""hyqat: the QAT toolkit's command line. `hyqat STAGE --help` for each stage."""
import sys

USAGE = """usage: hyqat STAGE [options]   (run through qat/hyqat.sh, which selects OpenBLAS)
stages:
  corpus      read the sources, split by hash -> OUT/corpus
  tokenizer   prune hy-vocab.gguf to the corpus -> OUT/vocab.json
  train       teacher | qat | fpcont
  ptq2        PTQ-2bit of the teacher (MSE-optimal SEQ steps)
  export      HF folder (config.json, tokenizer*.json, model.safetensors)
  eval        perplexity / KLD scored like llama-perplexity
  sample      generate a reply in the chat format
  bench       throughput trials (fp32/bf16, batch, n_ff, vocabulary)
  report      exports, hy2bit chain, PyTorch scores -> QAT.md, results.json
"""


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(USAGE)
        return 0 if len(sys.argv) >= 2 else 2
    stage, rest = sys.argv[1], sys.argv[2:]
    if stage == "corpus":
        from .corpus import main as run
    elif stage == "tokenizer":
        from .prune_vocab import main as run
    elif stage == "train":
        from .train import run_train as run
    elif stage == "ptq2":
        from .train import run_ptq2 as run
    elif stage == "export":
        from .export import main as run
    elif stage == "eval":
        from .eval_command import main as run
    elif stage == "sample":
        from .sample import main as run
    elif stage == "report":
        from .report import main as run
    elif stage == "bench":
        from .bench import main as run
    else:
        print(f"error: unknown stage '{stage}'\n{USAGE}", file=sys.stderr)
        return 2
    run(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
