"""dpc against PyTorch, side by side on this machine.

For each model: per-step time and peak memory of
  - one process: `dpc-run` against PyTorch eager (same batch, same threads),
  - N ranks: `mpirun -np N dpc-run` against torch DistributedDataParallel
    with the gloo backend (same per-rank batch, same threads per rank),
with the ratios PyTorch / dpc (> 1 means dpc is faster / leaner). Both sides
train the same TorchScript model from the same weights with SGD (momentum
0.9) for the same steps on the same data; a warm-up is excluded from the
time. Peak memory is the peak resident set size of the largest process
(rank), as the OS reports it (ru_maxrss), so it includes each side's
runtime: the Python interpreter and libtorch for PyTorch, dpc-run and
libdpcrt for dpc. dpc's arena (from its manifest) is the part of it that
holds a step's intermediate tensors, activations included.

usage: /usr/bin/python3 bench/bench.py [--models mlp,cnn,gpt] [--ranks 2] [--steps 50]
       [--batch N] [--threads 1] [--build build] [--precision fp32,bf16]
       [--dpc-flags "--bf16-kernels=false"] [--out results.json]
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from models import BENCH_MODELS  # noqa: E402


def peak_rss_mb_of(cmd, env):
    """Runs cmd in a fresh wrapper so that RUSAGE_CHILDREN covers only it."""
    wrapper = (
        "import resource, subprocess, sys, json;"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr,"
        " 'maxrss_kb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))"
    )
    p = subprocess.run([sys.executable, "-c", wrapper] + cmd, capture_output=True,
                       text=True, env=env)
    result = json.loads(p.stdout)
    if result["rc"] != 0:
        sys.exit(f"benchmark command failed: {' '.join(cmd)}\n{result['err']}")
    return result["out"], result["maxrss_kb"] / 1024.0


def make_model(name, work, batch):
    spec = BENCH_MODELS[name]
    torch.manual_seed(0)
    model = spec["ctor"]()
    path = os.path.join(work, f"{name}.pt")
    torch.jit.script(model).save(path)
    rng = np.random.default_rng(0)
    samples = batch * 16
    if spec["input_dtype"] == "i64":
        x = rng.integers(0, spec["classes"], size=(samples,) + spec["input_shape"])
    else:
        x = rng.standard_normal((samples,) + spec["input_shape"]).astype(np.float32)
    y = rng.integers(0, spec["classes"], size=(samples,) + spec["label_shape"])
    np.save(os.path.join(work, f"{name}_x.npy"), x)
    np.save(os.path.join(work, f"{name}_y.npy"), y.astype(np.int64))
    return path, spec


TORCH_WORKER = r'''
import os, sys, time, json
import numpy as np, torch, torch.nn.functional as F
rank, world, threads, steps, warmup, batch = map(int, sys.argv[1:7])
model_path, x_path, y_path, init, precision = sys.argv[7:12]
torch.set_num_threads(threads)
autocast = precision in ("bf16", "fp16")
dtype = torch.float16 if precision == "fp16" else torch.bfloat16
if autocast:
    # torch.autocast acts on a TorchScript module's ops only without the
    # JIT's own autocast pass (CPU-blind in 1.13) and its differentiable
    # graphs (single-dtype); as in test/E2E/Inputs/ddp_reference.py.
    torch._C._jit_set_autocast_mode(False)
    torch._C._set_graph_executor_optimize(False)
model = torch.jit.load(model_path)
model.train()
if world > 1:
    import torch.distributed as dist
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    model = torch.nn.parallel.DistributedDataParallel(model)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
# fp16 (torch 2.x): torch.amp.GradScaler's recipe, as dpc --precision fp16.
scaler = torch.amp.GradScaler("cpu") if precision == "fp16" else None
x = torch.from_numpy(np.load(x_path)); y = torch.from_numpy(np.load(y_path))
batches = x.shape[0] // (batch * world)
def step(i):
    b = (i % batches) * batch * world + rank * batch
    opt.zero_grad(set_to_none=True)
    # Token labels [B, T] go with logits [B*T, vocab] or [B, T, vocab], as
    # dpc flattens them.
    with torch.autocast("cpu", dtype=dtype, enabled=autocast):
        out = model(x[b:b + batch])
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y[b:b + batch].reshape(-1))
    if scaler:
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    else:
        loss.backward()
        opt.step()
for i in range(warmup): step(i)
if world > 1: dist.barrier()
t0 = time.perf_counter()
for i in range(warmup, warmup + steps): step(i)
if world > 1: dist.barrier()
elapsed = time.perf_counter() - t0
if rank == 0: print(json.dumps({"step_ms": 1000 * elapsed / steps}))
'''


def run_torch(work, model_path, name, world, threads, steps, warmup, batch, precision,
              python=sys.executable):
    script = os.path.join(work, "torch_worker.py")
    with open(script, "w") as f:
        f.write(TORCH_WORKER)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    init = "file://" + os.path.join(work, f"gloo_{name}_{world}_{time.time_ns()}")
    args = [str(threads), str(steps), str(warmup), str(batch), model_path,
            os.path.join(work, f"{name}_x.npy"), os.path.join(work, f"{name}_y.npy"), init,
            precision]
    if world == 1:
        out, rss = peak_rss_mb_of([python, script, "0", "1"] + args, env)
    else:
        # One wrapper launching all ranks; peak RSS is that of the largest.
        launcher = os.path.join(work, "torch_launch.py")
        with open(launcher, "w") as f:
            f.write("import subprocess, sys\n"
                    "world = int(sys.argv[1]); rest = sys.argv[2:]\n"
                    "ps = [subprocess.Popen([sys.executable] + [rest[0], str(r), str(world)] + rest[1:])"
                    " for r in range(world)]\n"
                    "sys.exit(max(p.wait() for p in ps))\n")
        out, rss = peak_rss_mb_of([python, launcher, str(world), script] + args, env)
    return json.loads(out.strip().splitlines()[-1])["step_ms"], rss


def run_dpc(build, work, model_path, name, spec, world, threads, steps,
            warmup, batch, precision, dpc_flags):
    so = os.path.join(work, f"{name}_ws{world}_{precision}.so")
    shape = ",".join(str(d) for d in (batch,) + spec["input_shape"])
    label_shape = ",".join(str(d) for d in (batch,) + spec["label_shape"])
    compile_args = [os.path.join(build, "bin", "dpc"), model_path,
                    "--input", f"x:{spec['input_dtype']}[{shape}]",
                    "--label", f"y:i64[{label_shape}]",
                    "--lr", "0.01", "--momentum", "0.9", "--world-size", str(world),
                    "--precision", precision] + dpc_flags
    subprocess.run(compile_args + ["-o", so], check=True)
    # The memory plan's arena: every intermediate tensor of a step (the
    # activations among them), the part of the memory the precision changes.
    manifest = subprocess.run(compile_args + ["--emit=manifest"], check=True,
                              capture_output=True, text=True).stdout
    arena_mb = json.loads(manifest)["arena"]["bytes"] / 2**20
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    run = [os.path.join(build, "bin", "dpc-run"), so,
           "--data", f"x={os.path.join(work, name + '_x.npy')}",
           "--data", f"y={os.path.join(work, name + '_y.npy')}"]
    if world > 1:
        run = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", str(world)] + run

    def timed(n):
        out, rss = peak_rss_mb_of(run + ["--steps", str(n), "--log-every", str(max(n, 1))], env)
        m = re.search(r"done: \d+ steps on \d+ ranks? in ([0-9.]+) s", out)
        return float(m.group(1)), rss
    # dpc-run times its whole loop; the warm-up is taken out by difference.
    t_warm, _ = timed(warmup)
    t_all, rss = timed(warmup + steps)
    return 1000 * max(t_all - t_warm, 1e-9) / steps, rss, arena_mb


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--models", default="mlp,cnn,gpt")
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--batch", type=int,
                   help="samples per rank (default: each model's own, bench/models.py)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    p.add_argument("--precision", default="fp32",
                   help="fp32, bf16, fp16 or a list (fp32,bf16): dpc --precision and PyTorch "
                        "under torch.autocast(\"cpu\", torch.bfloat16 / torch.float16), fp16 "
                        "with GradScaler")
    p.add_argument("--torch2-python", default=os.environ.get("DPC_TORCH2_VENV", "/opt/dpc-torch2")
                   + "/bin/python",
                   help="the PyTorch 2 interpreter of the fp16 rows (torch 1.13 has no CPU "
                        "float16 autocast); scripts/setup.sh installs it")
    p.add_argument("--dpc-flags", default="",
                   help="more dpc flags for the rows of the 16-bit precisions, e.g. "
                        "'--bf16-kernels=false --low-precision-activations=false'")
    p.add_argument("--out")
    a = p.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in a.models.split(","):
            batch = a.batch or BENCH_MODELS[name]["batch"]
            model_path, spec = make_model(name, work, batch)
            for world, precision in [(w, pr) for w in sorted({1, a.ranks})
                                     for pr in a.precision.split(",")]:
                python = a.torch2_python if precision == "fp16" else sys.executable
                t_ms, t_rss = run_torch(work, model_path, name, world, a.threads,
                                        a.steps, a.warmup, batch, precision, python)
                flags = a.dpc_flags.split() if precision != "fp32" else []
                d_ms, d_rss, d_arena = run_dpc(a.build, work, model_path, name, spec,
                                               world, a.threads, a.steps, a.warmup, batch,
                                               precision, flags)
                rows.append({"model": name, "ranks": world, "batch_per_rank": batch,
                             "precision": precision,
                             "dpc_flags": " ".join(flags),
                             "threads_per_rank": a.threads,
                             "against": ("PyTorch eager" if world == 1 else "PyTorch DDP (gloo)")
                             + (" 2.5.1" if precision == "fp16" else ""),
                             "torch_step_ms": t_ms, "dpc_step_ms": d_ms,
                             "speedup": t_ms / d_ms,
                             "torch_peak_rss_mb": t_rss, "dpc_peak_rss_mb": d_rss,
                             "memory_ratio": t_rss / d_rss, "dpc_arena_mb": d_arena})
    print(f"{'model':8} {'ranks':>5} {'prec':>5} {'vs':26} {'torch ms':>9} {'dpc ms':>8} "
          f"{'speedup':>8} {'torch MB':>9} {'dpc MB':>7} {'mem ratio':>9} {'dpc arena MB':>12}")
    for r in rows:
        print(f"{r['model']:8} {r['ranks']:>5} {r['precision']:>5} {r['against']:26} "
              f"{r['torch_step_ms']:9.3f} "
              f"{r['dpc_step_ms']:8.3f} {r['speedup']:7.2f}x {r['torch_peak_rss_mb']:9.1f} "
              f"{r['dpc_peak_rss_mb']:7.1f} {r['memory_ratio']:8.2f}x {r['dpc_arena_mb']:12.2f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
