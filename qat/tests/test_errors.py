"""Clear messages and non-zero exits for a bad corpus path and a bad config,
and a resumed run that says where it resumes and ends exactly where an
uninterrupted run ends. Stages run in-process (their errors are SystemExit
with the message) except one run through hyqat.sh for the exit code."""
import json
import shutil

import pytest
import torch

from hyqat import corpus, train
from conftest import TOY, run_hyqat


def fails(fn, argv, capsys=None):
    with pytest.raises(SystemExit) as e:
        fn(argv)
    return str(e.value)


def test_bad_corpus_path_exits_with_a_message(tmp_path):
    p = run_hyqat("corpus", "--poetry", tmp_path / "nowhere", "--out", tmp_path / "c", check=False)
    assert p.returncode == 1
    assert "corpus path" in p.stderr and "nowhere" in p.stderr and "Traceback" not in p.stderr
    msg = fails(train.run_train, ["teacher", "--steps", "2", "--out", str(tmp_path)])
    assert "cannot read vocabulary" in msg
    empty = tmp_path / "empty"
    empty.mkdir()
    msg = fails(corpus.main, ["--poetry", str(empty), "--out", str(tmp_path / "c")])
    assert "no chinese-poetry files" in msg


def test_bad_config(tmp_path, small_corpus):
    path = tmp_path / "bad.json"
    argv = ["teacher", "--config", str(path), "--steps", "2", "--out", str(small_corpus)]
    for change, needle in (({"n_ff": 1000}, "'n_ff' = 1000 is not a multiple of 512"),
                           ({"n_head": "four"}, "'n_head' must be a positive int"),
                           ({"n_head_kv": 3}, "n_head 4 is not a multiple of n_head_kv 3"),
                           ({"n_layers": 2}, "unknown key 'n_layers'")):
        path.write_text(json.dumps(dict(TOY, **change)))
        assert needle in fails(train.run_train, argv)
    cfg = dict(TOY)
    del cfg["n_ctx"]
    path.write_text(json.dumps(cfg))
    assert "missing key 'n_ctx'" in fails(train.run_train, argv)
    path.write_text("{not json")
    assert "is not JSON" in fails(train.run_train, argv)
    assert "cannot read config" in fails(train.run_train, argv[:2] + [str(tmp_path / "none.json")] + argv[3:])


def test_resume_from_checkpoint(tmp_path, small_corpus, toy_config, capsys):
    for name in ("corpus", "vocab.json"):
        src = small_corpus / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / name)
    args = ["teacher", "--config", str(toy_config), "--steps", "6", "--ckpt-every", "2", "--max-docs", "300",
            "--threads", "1", "--out", str(tmp_path)]
    train.run_train(args)
    straight = torch.load(tmp_path / "teacher.pt")["model"]
    assert "--resume: no checkpoint at" in fails(train.run_train, args + ["--resume"])
    capsys.readouterr()
    train.run_train(args + ["--stop-after", "3"])
    assert "stopped at step 3 of 6" in capsys.readouterr().out
    # A checkpoint of another shape or plan is refused, naming what differs.
    other = tmp_path / "other.json"
    other.write_text(json.dumps(dict(TOY, n_ff=1024)))
    msg = fails(train.run_train, args[:2] + [str(other)] + args[3:] + ["--resume"])
    assert "n_ff = 512" in msg and "config says 1024" in msg
    msg = fails(train.run_train, args[:4] + ["8"] + args[5:] + ["--resume"])
    assert "step 3 of 6" in msg and "--steps 8" in msg
    train.run_train(args + ["--resume"])
    assert "resuming from" in capsys.readouterr().out
    resumed = torch.load(tmp_path / "teacher.pt")["model"]
    for k in straight:
        assert torch.equal(straight[k], resumed[k]), k
