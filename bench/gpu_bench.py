"""dpc on one GPU against PyTorch eager and torch.compile on the same GPU.

Two halves, because dpc compiles where LLVM/MLIR and LibTorch 1.13 are (the
development machine) and the GPU machine has PyTorch 2.x but no MLIR:

  here:     /usr/bin/python3 bench/gpu_bench.py prepare --build build --out DIR
            compiles each model with dpc --weights external and writes
            DIR/<model>/{model.so, spec.json}: a few hundred KB that travel
            to the GPU machine (scripts/gpu-bundle.sh calls this)
  GPU host: python3 bench/gpu_bench.py run DIR --dpc-run BIN [--steps 50]
            makes the data and the initial weights there (seeded; this
            torch's initialization, written to init.safetensors), then times
            the same training step (same weights, batch and data, SGD with
            momentum, float32 with TF32 off on both sides) with PyTorch
            eager, torch.compile and `dpc-run --backend cuda --init-weights`,
            and prints per-step time and peak GPU memory with the ratios
            PyTorch / dpc (> 1: dpc faster / leaner).

Peak memory: PyTorch's is torch.cuda.max_memory_allocated() (its caching
allocator's live tensors at the peak, CUDA context excluded); dpc's is what
its runtime allocates on the device (slots, arena, scratch), as dpc-run
reports it ("device memory: N bytes"). Neither counts cuBLAS/cuDNN
workspaces the libraries allocate themselves.

Models (bench/models.py and the end-to-end tests' models): the MLP of the
CPU benchmark, ResNet-18 (width 64) on 32x32 images with batch 128, and a
GPT-2-small-sized block stack (12 blocks, d_model 768, 12 heads, 256 tokens;
a vocabulary of 8192 instead of 50257 keeps the tied lm head from dominating).
"""
import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name: constructor module and call, per-sample input shape and dtype,
# per-sample label shape, classes, batch.
GPU_MODELS = {
    "mlp": dict(make="models.MLP()", input_shape=(512,), input_dtype="f32",
                label_shape=(), classes=10, batch=256),
    "resnet18": dict(make="cnn_models.ResNet18(64)", input_shape=(3, 32, 32),
                     input_dtype="f32", label_shape=(), classes=10, batch=128),
    "gpt2-small": dict(make="gpt_models.GPT(vocab=8192, block_size=256, d_model=768,"
                            " n_head=12, n_layer=12)",
                       input_shape=(256,), input_dtype="i64", label_shape=(256,),
                       classes=8192, batch=8),
}
LR, MOMENTUM = 0.01, 0.9


def import_models():
    """The modules GPU_MODELS' constructors name. bench/models.py is loaded
    under its own name: the tests' directory has a models.py too."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_models",
                                                  os.path.join(HERE, "models.py"))
    bench_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_models)  # puts the tests' Inputs on sys.path
    import cnn_models
    import gpt_models
    return {"models": bench_models, "cnn_models": cnn_models, "gpt_models": gpt_models}


def make_data(spec, d):
    """The data set: 4 batches of random samples and labels (seeded)."""
    import numpy as np
    rng = np.random.default_rng(0)
    samples = spec["batch"] * 4
    if spec["input_dtype"] == "i64":
        x = rng.integers(0, spec["classes"], size=(samples,) + tuple(spec["input_shape"]))
    else:
        x = rng.standard_normal((samples,) + tuple(spec["input_shape"])).astype(np.float32)
    y = rng.integers(0, spec["classes"], size=(samples,) + tuple(spec["label_shape"]))
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y.npy"), y.astype(np.int64))


def prepare(a):
    """Compiles each model with dpc --weights external: what travels to the
    GPU machine is model.so and spec.json only (a few hundred KB); model.pt
    (the weights) and the data are made there."""
    import tempfile
    import torch
    namespace = import_models()
    for name in a.models.split(","):
        spec = GPU_MODELS[name]
        out = os.path.join(a.out, name)
        os.makedirs(out, exist_ok=True)
        shape = ",".join(str(d) for d in (spec["batch"],) + spec["input_shape"])
        label = ",".join(str(d) for d in (spec["batch"],) + spec["label_shape"])
        with tempfile.TemporaryDirectory() as tmp:
            torch.manual_seed(0)
            model = eval(spec["make"], namespace)
            torch.jit.script(model).save(os.path.join(tmp, "model.pt"))
            subprocess.run([os.path.join(a.build, "bin", "dpc"), os.path.join(tmp, "model.pt"),
                            "-o", os.path.join(out, "model.so"),
                            "--input", f"x:{spec['input_dtype']}[{shape}]",
                            "--label", f"y:i64[{label}]", "--lr", str(LR),
                            "--momentum", str(MOMENTUM), "--weights", "external"], check=True)
        with open(os.path.join(out, "spec.json"), "w") as f:
            json.dump(dict(spec, name=name), f)
        print(f"prepared {name} in {out}")


def time_torch(model, x, y, batch, steps, warmup, cuda):
    """Milliseconds per step (CUDA events around the timed steps) and the
    caching allocator's peak bytes over them."""
    import time
    import torch
    import torch.nn.functional as F
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    batches = x.shape[0] // batch

    def step(i):
        b = (i % batches) * batch
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x[b:b + batch]), y[b:b + batch].reshape(-1))
        loss.backward()
        opt.step()
        return loss
    for i in range(warmup):
        step(i)
    if not cuda:  # the --device cpu smoke test of this script
        start = time.perf_counter()
        for i in range(warmup, warmup + steps):
            step(i)
        return 1000 * (time.perf_counter() - start) / steps, None
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for i in range(warmup, warmup + steps):
        step(i)
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / steps, torch.cuda.max_memory_allocated()


def run(a):
    import numpy as np
    import torch
    cuda = a.device == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    namespace = import_models()
    import write_weights  # the tests' safetensors writer, on sys.path now
    gpu = torch.cuda.get_device_name(0) if cuda else "none (--device cpu smoke test)"
    rows = []
    for name in a.models.split(","):
        d = os.path.join(a.dir, name)
        with open(os.path.join(d, "spec.json")) as f:
            spec = json.load(f)
        make_data(spec, d)
        x = torch.from_numpy(np.load(os.path.join(d, "x.npy"))).to(a.device)
        y = torch.from_numpy(np.load(os.path.join(d, "y.npy"))).to(a.device)
        # Both sides start from these weights (this torch's initialization);
        # named_parameters lists a tied weight once, under the name dpc uses.
        torch.manual_seed(0)
        reference = eval(spec["make"], namespace)
        state = dict(reference.named_parameters())
        state.update(reference.named_buffers())
        init = os.path.join(d, "init.safetensors")
        write_weights.write_safetensors(init, state)
        row = {"model": name, "batch": spec["batch"], "gpu": gpu}
        for mode in ("eager", "compile") if cuda else ("eager",):
            model = eval(spec["make"], namespace)
            model.load_state_dict(reference.state_dict())
            model = model.to(a.device).train()
            if mode == "compile":
                model = torch.compile(model)
            ms, peak = time_torch(model, x, y, spec["batch"], a.steps, a.warmup, cuda)
            row[f"torch_{mode}_ms"], row[f"torch_{mode}_bytes"] = ms, peak
            del model
            if cuda:
                torch.cuda.empty_cache()

        def dpc(steps):
            cmd = [a.dpc_run, os.path.join(d, "model.so"), "--backend", a.device,
                   "--data", f"x={os.path.join(d, 'x.npy')}",
                   "--data", f"y={os.path.join(d, 'y.npy')}",
                   "--steps", str(steps), "--log-every", str(steps)]
            cmd += ["--init-weights", init]
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode:
                sys.exit(f"dpc-run failed on {name}: {p.stderr.strip()}")
            t = float(re.search(r"done: \d+ steps .* in ([0-9.]+) s", p.stdout).group(1))
            m = re.search(r"(?:device|host) memory: (\d+) bytes", p.stdout)
            return t, int(m.group(1)) if m else None
        t_warm, _ = dpc(a.warmup)
        t_all, peak = dpc(a.warmup + a.steps)
        row["dpc_ms"] = 1000 * (t_all - t_warm) / a.steps
        row["dpc_bytes"] = peak
        rows.append(row)

    print(f"GPU: {gpu}; float32, TF32 off; {a.steps} timed steps after {a.warmup}")
    print(f"{'model':11} {'batch':>5} {'eager ms':>9} {'compile ms':>10} {'dpc ms':>8} "
          f"{'vs eager':>8} {'vs compile':>10} {'eager MiB':>9} {'dpc MiB':>8} {'mem ratio':>9}")

    def number(v, width, fmt):
        return f"{v:{width}{fmt}}" if v is not None else " " * (width - 1) + "-"
    for r in rows:
        compile_ms = r.get("torch_compile_ms")
        eager_bytes, dpc_bytes = r["torch_eager_bytes"], r["dpc_bytes"]
        print(f"{r['model']:11} {r['batch']:>5} {r['torch_eager_ms']:9.3f} "
              f"{number(compile_ms, 10, '.3f')} {r['dpc_ms']:8.3f} "
              f"{r['torch_eager_ms'] / r['dpc_ms']:7.2f}x "
              f"{number(compile_ms and compile_ms / r['dpc_ms'], 9, '.2f')}x "
              f"{number(eager_bytes and eager_bytes / 2**20, 9, '.0f')} "
              f"{number(dpc_bytes and dpc_bytes / 2**20, 8, '.0f')} "
              f"{number(eager_bytes and dpc_bytes and eager_bytes / dpc_bytes, 8, '.2f')}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=2)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    pp = sub.add_parser("prepare")
    pp.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    pp.add_argument("--out", required=True)
    pp.add_argument("--models", default="mlp,resnet18,gpt2-small")
    pr = sub.add_parser("run")
    pr.add_argument("dir")
    pr.add_argument("--dpc-run", required=True)
    pr.add_argument("--models", default="mlp,resnet18,gpt2-small")
    pr.add_argument("--steps", type=int, default=50)
    pr.add_argument("--warmup", type=int, default=5)
    pr.add_argument("--json")
    pr.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                    help="cpu: a smoke test of this script without a GPU "
                         "(PyTorch eager and dpc-run --backend cpu)")
    a = p.parse_args()
    prepare(a) if a.cmd == "prepare" else run(a)


if __name__ == "__main__":
    main()
