"""Checkpoints: one torch.save dict per stage with the model config, the
step reached, model and optimizer state. A final model is a checkpoint whose
step equals its planned steps. Loading checks the config and says which key
differs, so a resumed run cannot silently continue a different model.
"""
import os

import torch

from .model import HunyuanDense, freeze_qdq

FORMAT = "hyqat-checkpoint-1"


def save(path, model, cfg, stage, step, steps, optimizer=None, extra=None):
    state = {"format": FORMAT, "stage": stage, "config": cfg, "step": step, "steps": steps,
             "model": model.state_dict(), "quantized": any(m.mode == "seq" for m in model.linears()),
             "optimizer": optimizer.state_dict() if optimizer is not None else None, "extra": extra or {}}
    tmp = path + ".tmp"
    if os.path.islink(path):
        raise SystemExit(f"error: refusing to write '{path}': it is a symlink")
    torch.save(state, tmp)
    os.replace(tmp, path)


def read(path):
    if not os.path.isfile(path):
        raise SystemExit(f"error: no checkpoint at '{path}'")
    try:
        state = torch.load(path, map_location="cpu")
    except Exception as e:  # torch raises many types for a damaged file
        raise SystemExit(f"error: cannot read checkpoint '{path}': {e}")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise SystemExit(f"error: '{path}' is not a hyqat checkpoint (format {FORMAT})")
    return state


def check_same_config(state, cfg, path):
    for k, v in cfg.items():
        if state["config"].get(k) != v:
            raise SystemExit(f"error: checkpoint '{path}' has {k} = {state['config'].get(k)}, "
                             f"but the config says {v}; use the same config or start without --resume")


def load_model(path, device="cpu", frozen=True):
    """The model of a checkpoint; a QAT model is turned into its exported
    2-bit QDQ weights when frozen (what export writes)."""
    state = read(path)
    model = HunyuanDense(state["config"])
    if state["quantized"]:
        model.set_mode("seq")
    model.load_state_dict(state["model"])
    if state["quantized"] and frozen:
        freeze_qdq(model)
    return model.to(device), state
