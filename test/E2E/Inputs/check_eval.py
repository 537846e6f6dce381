"""Checks dpc-run's validation metrics and predictions against PyTorch's
model.eval() on the same weights.

usage: check_eval.py MODEL.pt --x VAL_X.npy --y VAL_Y.npy --world-size W
           --metrics METRICS.jsonl --checkpoint-dir DIR [--log RUN.log]
           [--predict PRED.npy --predict-weights CKPT.safetensors]
           [--loss cross_entropy|mse] [--rtol 1e-5]

For every validation line of the metrics file ({"step", "val_loss",
"val_accuracy", "val_samples"}), the TorchScript model gets the parameters
and buffers of the checkpoint DIR/step-<step>.safetensors, is put in eval
mode (model.eval(): BatchNorm on its running statistics) and evaluates the
validation set as a PyTorch DDP job shards it: for each rank r,
torch.utils.data.DistributedSampler(shuffle=False, drop_last=False,
num_replicas=W, rank=r) and a DataLoader over its indices (the sampler's
padding duplicates included, as PyTorch counts them); the loss is the sum of
F.cross_entropy(..., reduction='sum') (or F.mse_loss sum) over all ranks'
batches divided by the count of samples (elements for mse), the accuracy the
share of argmax == label. Both must match dpc's to rtol relative (plus the
rounding of the printed log line, when --log gives the progress lines too).

With --predict, PRED.npy must equal model(x) of the checkpoint's weights in
eval mode for every validation sample in data order, to rtol times the
largest magnitude.
"""
import argparse
import json
import os
import re
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, DistributedSampler, Subset, TensorDataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_against_torch import read_safetensors  # noqa: E402


def load(model_path, checkpoint):
    model = torch.jit.load(model_path)
    ckpt = read_safetensors(checkpoint)
    state = {k: torch.from_numpy(np.array(v)) for k, v in ckpt.items()
             if not k.startswith("optimizer.")}
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def reference(model, x, y, world, batch, loss_kind):
    data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    total, count, correct, samples = 0.0, 0, 0, 0
    with torch.no_grad():
        for rank in range(world):
            sampler = DistributedSampler(data, num_replicas=world, rank=rank,
                                         shuffle=False, drop_last=False)
            samples += len(sampler)
            for xb, yb in DataLoader(data, batch_size=batch, sampler=sampler):
                out = model(xb)
                if loss_kind == "cross_entropy":
                    total += F.cross_entropy(out, yb.reshape(-1),
                                             reduction="sum").double().item()
                    correct += (out.argmax(dim=1) == yb.reshape(-1)).sum().item()
                    count += yb.numel()
                else:
                    total += F.mse_loss(out, yb, reduction="sum").double().item()
                    count += yb.numel()
    accuracy = correct / count if loss_kind == "cross_entropy" else None
    return total / count, accuracy, samples


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--x", required=True)
    p.add_argument("--y", required=True)
    p.add_argument("--world-size", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--metrics", required=True)
    p.add_argument("--checkpoint-dir", required=True)
    p.add_argument("--log")
    p.add_argument("--predict")
    p.add_argument("--predict-weights")
    p.add_argument("--loss", default="cross_entropy")
    p.add_argument("--rtol", type=float, default=1e-5)
    a = p.parse_args()

    x, y = np.load(a.x), np.load(a.y)
    failures = []
    lines = [json.loads(line) for line in open(a.metrics)]
    evals = [line for line in lines if "val_loss" in line]
    logged = {}
    if a.log:
        for m in re.finditer(r"eval step (\d+)  val_loss (\S+)(?:  val_acc (\S+))?",
                             open(a.log).read()):
            logged[int(m.group(1))] = (float(m.group(2)),
                                       float(m.group(3)) if m.group(3) else None)
    worst = 0.0
    for line in evals:
        step = line["step"]
        model = load(a.model, os.path.join(a.checkpoint_dir,
                                           f"step-{step:08d}.safetensors"))
        loss, accuracy, samples = reference(model, x, y, a.world_size, a.batch,
                                            a.loss)
        err = abs(line["val_loss"] - loss) / abs(loss)
        worst = max(worst, err)
        if err > a.rtol:
            failures.append(f"step {step}: val_loss {line['val_loss']!r}, "
                            f"PyTorch {loss!r} (relative error {err:.3g})")
        if accuracy is not None and line.get("val_accuracy") != accuracy:
            failures.append(f"step {step}: val_accuracy "
                            f"{line.get('val_accuracy')!r}, PyTorch {accuracy!r}")
        if line["val_samples"] != samples:
            failures.append(f"step {step}: val_samples {line['val_samples']}, "
                            f"DistributedSampler gives {samples}")
        if a.log:
            if step not in logged:
                failures.append(f"step {step}: no 'eval step' line in the log")
            else:
                printed, printed_acc = logged[step]
                if abs(printed - loss) > a.rtol * abs(loss) + 5e-7:
                    failures.append(f"step {step}: printed val_loss {printed}, "
                                    f"PyTorch {loss}")
                if accuracy is not None and abs(printed_acc - accuracy) > 5e-5:
                    failures.append(f"step {step}: printed val_acc "
                                    f"{printed_acc}, PyTorch {accuracy}")
    if not evals:
        failures.append("the metrics file has no validation line")

    if a.predict:
        model = load(a.model, a.predict_weights)
        with torch.no_grad():
            expected = model(torch.from_numpy(x)).numpy()
        got = np.load(a.predict)
        if got.shape != expected.shape or got.dtype != expected.dtype:
            failures.append(f"predictions are {got.dtype}{list(got.shape)}, "
                            f"PyTorch's {expected.dtype}{list(expected.shape)}")
        else:
            scale = np.abs(expected).max()
            err = np.abs(got - expected).max() / scale
            if err > a.rtol:
                failures.append(f"predictions differ by {err:.3g} of the "
                                f"largest magnitude")

    for failure in failures:
        print("FAIL:", failure)
    if failures:
        sys.exit(1)
    steps = ", ".join(str(line["step"]) for line in evals)
    print(f"validation at steps {steps} matches model.eval() on "
          f"{a.world_size} rank(s) to {a.rtol:g} (worst {worst:.2g})"
          + ("; predictions match" if a.predict else ""))


if __name__ == "__main__":
    main()
