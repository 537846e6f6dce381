"""Writes a GPT test model (scripted or traced) and a token data set for it.

usage: make_gpt.py MODEL {script,trace} OUT_DIR --batch B --samples N --seq T

Writes OUT_DIR/model.pt, OUT_DIR/idx.npy (int64 tokens [N, T]) and
OUT_DIR/targets.npy (the next tokens, int64 [N, T]). The sequences follow a
simple rule with noise (t' = 5 t + 3 mod V, or a random token one time in
four), so the loss has something to learn.
"""
import argparse
import os
import sys
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gpt_models import MODELS  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(MODELS))
    p.add_argument("how", choices=["script", "trace"])
    p.add_argument("out")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--samples", type=int, default=64)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--vocab", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    model = MODELS[a.model](vocab=a.vocab)
    rng = np.random.default_rng(a.seed)
    seq = np.empty((a.samples, a.seq + 1), dtype=np.int64)
    seq[:, 0] = rng.integers(0, a.vocab, a.samples)
    for t in range(a.seq):
        nxt = (5 * seq[:, t] + 3) % a.vocab
        noise = rng.random(a.samples) < 0.25
        seq[:, t + 1] = np.where(noise, rng.integers(0, a.vocab, a.samples), nxt)
    idx, targets = seq[:, :-1].copy(), seq[:, 1:].copy()

    example = (torch.from_numpy(idx[: a.batch]),)
    if a.model == "gpt_loss":
        example += (torch.from_numpy(targets[: a.batch]),)
    if a.how == "script":
        scripted = torch.jit.script(model)
    else:
        # Shapes are static: the tracer's "treated as a constant" notes about
        # T and sqrt(d) are expected.
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        scripted = torch.jit.trace(model, example)
    os.makedirs(a.out, exist_ok=True)
    scripted.save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "idx.npy"), idx)
    np.save(os.path.join(a.out, "targets.npy"), targets)


if __name__ == "__main__":
    main()
