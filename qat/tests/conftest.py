"""Shared fixtures: paths, a tiny corpus + vocabulary + toy teacher made once
per session in a temp folder (a few seconds), and the hy2bit binary if built."""
import json
import os
import subprocess
import sys

import pytest

QAT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(QAT)
sys.path.insert(0, QAT)
TESTDATA = os.path.join(REPO, "..", "shared", "testdata")
HYQAT = os.path.join(QAT, "hyqat.sh")
HY2BIT = os.environ.get("HY2BIT_BIN", os.path.join(REPO, "build", "bin", "hy2bit"))

TOY = {"n_embd": 512, "n_layer": 1, "n_head": 4, "n_head_kv": 2, "head_dim": 128, "n_ff": 512,
       "rms_eps": 1e-5, "rope_base": 10000.0, "n_ctx": 32, "batch": 2, "lr": 0.003, "warmup": 2,
       "weight_decay": 0.1}


def run_hyqat(*args, check=True):
    p = subprocess.run([HYQAT, *map(str, args)], capture_output=True, text=True, cwd=REPO)
    if check and p.returncode != 0:
        raise AssertionError(f"hyqat {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory):
    """OUT folder with corpus/ (a few hundred documents) and vocab.json."""
    from hyqat.common import default_poetry_dir
    if not os.path.isdir(default_poetry_dir()):
        pytest.skip("chinese-poetry is not installed (run scripts/setup.sh)")
    out = tmp_path_factory.mktemp("qat")
    run_hyqat("corpus", "--out", out / "corpus", "--max-poems", 400, "--max-fortunes", 200, "--test-docs", 80)
    run_hyqat("tokenizer", "--corpus", out / "corpus", "--out", out / "vocab.json", "--size", 1024,
              "--max-docs", 300)
    return out


@pytest.fixture(scope="session")
def toy_config(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "toy.json"
    path.write_text(json.dumps(TOY))
    return path


@pytest.fixture(scope="session")
def toy_teacher(small_corpus, toy_config):
    run_hyqat("train", "teacher", "--config", toy_config, "--steps", 6, "--out", small_corpus, "--max-docs", 300,
              "--threads", 1)
    return small_corpus / "teacher.pt"


def hy2bit_or_skip():
    if not os.access(HY2BIT, os.X_OK):
        pytest.skip(f"hy2bit is not built at {HY2BIT}")
    return HY2BIT
