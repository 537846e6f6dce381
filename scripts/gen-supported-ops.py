"""Generates docs/supported-ops.md: which PyTorch ops and module types dpc
compiles, into which nn ops, and with which gradient ops.

usage: /usr/bin/python3 scripts/gen-supported-ops.py [--dpc build/bin/dpc]
           [--out docs/supported-ops.md] [--check]
       /usr/bin/python3 scripts/gen-supported-ops.py --zoo   (docs/torchvision-zoo.md)

Nothing in the table is written by hand. Each row is a probe: a small
nn.Module (a module type as users instantiate it, or one aten op applied to
an input scaled by a parameter, so that a gradient must flow through it),
scripted with torch.jit.script as users do. The script runs the compiler on
every probe twice:
  - `dpc --emit=import`: the nn ops the probe imports to, or dpc's one-line
    refusal (then the row says so);
  - `dpc --emit=autodiff --loss mse`: the training step's reverse pass; the
    nn ops that appear only there are the probe's gradient ops.
The op records (`dpc-opt --print-nn-op-records`) give the second table:
every nn op with the aten operator and runtime kind its record names and
whether it has a VJP.

--check regenerates into memory and exits 1 if the file differs (the
test suite runs it, so the doc cannot go stale). --zoo instead compiles a
training step for one model of each family of torchvision's classification
zoo and writes docs/torchvision-zoo.md (minutes; not part of the tests).
"""
import argparse
import collections
import concurrent.futures
import glob
import importlib
import os
import re
import subprocess
import sys
import tempfile
import textwrap

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name, constructor body (self.* set up; self.w is the parameter the input
# is scaled by), forward expression of `h` (the scaled input), input spec.
# The forward is `h = x * self.w; return <expr>`.
# Values do not matter for compiling: one input shape serves most probes.
F32 = "x:f32[4,8]"
OPS = [
    # Elementwise
    ("torch.add (tensor, tensor)", "", "h + self.w", F32),
    ("torch.add (tensor, number)", "", "h + 1.0", F32),
    ("torch.sub (number, tensor)", "", "1.0 - h", F32),
    ("torch.mul (tensor, number)", "", "h * 0.5", F32),
    ("torch.div (tensor, tensor)", "", "h / self.w", F32),
    ("torch.neg", "", "-h", F32),
    ("torch.exp", "", "torch.exp(h)", F32),
    ("torch.log", "", "torch.log(h)", F32),
    ("torch.log1p", "", "torch.log1p(h)", F32),
    ("torch.sqrt", "", "torch.sqrt(h)", F32),
    ("torch.rsqrt", "", "torch.rsqrt(h)", F32),
    ("torch.pow (tensor, number)", "", "torch.pow(h, 2.0)", F32),
    ("torch.pow (number, tensor)", "", "torch.pow(2.0, h)", F32),
    ("torch.pow (tensor, tensor)", "", "torch.pow(h, self.w)", F32),
    ("torch.abs", "", "torch.abs(h)", F32),
    ("torch.reciprocal", "", "torch.reciprocal(h)", F32),
    ("torch.clamp", "", "torch.clamp(h, -0.5, 0.5)", F32),
    ("torch.clamp_min", "", "torch.clamp_min(h, 0.1)", F32),
    ("torch.where", "", "torch.where(h > 0, h, h * 0.1)", F32),
    ("torch.maximum", "", "torch.maximum(h, self.w)", F32),
    ("torch.max(a, b)", "", "torch.max(h, self.w)", F32),
    ("Tensor.to(torch.float32), .float(), .type_as", "",
     "h.to(torch.float32).float().type_as(self.w)", F32),
    ("bool mask .float()", "", "(h > 0).float() * h", F32),
    ("Tensor.double()", "", "h.double().float()", F32),
    ("int64 tensor .float()", "", "h * x.float()", "x:i64[4,8]"),
    ("torch.minimum", "", "torch.minimum(h, self.w)", F32),
    ("torch.sin", "", "torch.sin(h)", F32),
    ("torch.cos", "", "torch.cos(h)", F32),
    ("torch.erf", "", "torch.erf(h)", F32),
    ("torch.tanh", "", "torch.tanh(h)", F32),
    ("torch.sigmoid", "", "torch.sigmoid(h)", F32),
    ("F.relu", "", "F.relu(h)", F32),
    ("F.gelu", "", "F.gelu(h)", F32),
    ("F.gelu (tanh)", "", "F.gelu(h, approximate='tanh')", F32),
    ("F.silu", "", "F.silu(h)", F32),
    ("F.mish", "", "F.mish(h)", F32),
    ("F.leaky_relu", "", "F.leaky_relu(h, 0.1)", F32),
    ("F.elu", "", "F.elu(h)", F32),
    ("F.softplus", "", "F.softplus(h)", F32),
    ("F.hardswish", "", "F.hardswish(h)", F32),
    ("F.hardsigmoid", "", "F.hardsigmoid(h)", F32),
    ("F.hardtanh", "", "F.hardtanh(h)", F32),
    ("F.relu6", "", "F.relu6(h)", F32),
    ("F.dropout (training)", "", "F.dropout(h, 0.1, True)", F32),
    ("Tensor.bernoulli_ (number p, fresh tensor)", "",
     "h * torch.empty(4, 1).bernoulli_(0.8).div_(0.8)", F32),
    ("masked_fill", "", "h.masked_fill(h > 0, 0.0)", F32),
    ("torch.logical_or", "", "h.masked_fill(torch.logical_or(h > 0, h < -1), 0.0)", F32),
    # Reductions
    ("sum (dim)", "", "h.sum(dim=1)", F32),
    ("mean (dim)", "", "h.mean(dim=1)", F32),
    ("amax", "", "h.amax(dim=1)", F32),
    ("max (dim)", "", "h.max(dim=1)[0]", F32),
    ("var", "", "h.var(dim=1)", F32),
    ("std", "", "h.std(dim=1)", F32),
    ("torch.linalg.vector_norm", "", "torch.linalg.vector_norm(h, 2.0, [1])", F32),
    ("F.normalize", "", "F.normalize(h, dim=1)", F32),
    ("logsumexp", "", "torch.logsumexp(h, dim=1)", F32),
    ("cumsum", "", "torch.cumsum(h, dim=1)", F32),
    ("F.softmax", "", "F.softmax(h, dim=-1)", F32),
    ("F.log_softmax", "", "F.log_softmax(h, dim=-1)", F32),
    # Shapes and linear algebra
    ("matmul (batched)", "", "torch.matmul(h.view(2, 2, 8), h.view(2, 8, 2))", F32),
    ("torch.baddbmm", "",
     "torch.baddbmm(h.view(2, 2, 8)[:, :, :2], h.view(2, 2, 8), h.view(2, 8, 2))", F32),
    ("transpose / reshape", "", "h.t().reshape(32)", F32),
    ("torch.cat", "", "torch.cat([h, h * 2.0], dim=1)", F32),
    ("slice", "", "h[:, 2:6]", F32),
    ("torch.gather", "", "torch.gather(h, 1, torch.zeros(4, 2, dtype=torch.long))", F32),
    # Integer inputs are drawn from [0, 10): the tensors they index have 10 or more rows.
    ("torch.gather (index computed by the step)", "",
     "torch.gather(torch.cat([h, h], 1), 1, x[:, :2])", "x:i64[4,8]"),
    ("Tensor.scatter_add", "", "torch.cat([h, h], 1).scatter_add(1, x[:, :2], h[:, :2] * 2.0)",
     "x:i64[4,8]"),
    ("F.embedding_bag (2-d input, mode='max')", "",
     "F.embedding_bag(x, torch.cat([h, h, h], 0), mode='max')", "x:i64[4,8]"),
    ("index_select", "", "torch.index_select(h, 1, torch.tensor([0, 3]))", F32),
    ("advanced indexing", "", "h[:, torch.tensor([[0, 3], [-1, 3]])]", F32),
    ("torch.roll", "", "torch.roll(h, shifts=(1, -2), dims=(0, 1))", F32),
    ("F.pad", "", "F.pad(h, (1, 2))", F32),
    ("torch.einsum", "", "torch.einsum('bi,bj->bij', h, h).sum(2)", F32),
    # Convolution, pooling and interpolation
    ("F.conv1d", "", "F.conv1d(h, self.w.view(2, 3, 8)[:, :, :3], stride=2, padding=1)",
     "x:f32[2,3,8]"),
    ("F.max_pool1d", "", "F.max_pool1d(h, 3, stride=2, padding=1, ceil_mode=True)", "x:f32[2,3,8]"),
    ("F.avg_pool1d", "", "F.avg_pool1d(h, 3, stride=2, padding=1, count_include_pad=False)",
     "x:f32[2,3,8]"),
    ("F.interpolate (bilinear, size, align_corners)", "",
     "F.interpolate(h, size=(5, 7), mode='bilinear', align_corners=True)", "x:f32[2,3,4,4]"),
    ("F.interpolate (bilinear, fractional factor)", "",
     "F.interpolate(h, scale_factor=1.5, mode='bilinear')", "x:f32[2,3,4,4]"),
    ("F.interpolate (bicubic)", "", "F.interpolate(h, scale_factor=2.0, mode='bicubic')",
     "x:f32[2,3,4,4]"),
]

# name, constructor, forward body over `h` (the scaled input), input spec.
MODULES = [
    ("nn.Linear", "nn.Linear(8, 3)", "m(h)", F32),
    ("nn.Bilinear", "nn.Bilinear(8, 8, 3)", "m(h, h)", F32),
    ("nn.ReLU", "nn.ReLU()", "m(h)", F32),
    ("nn.GELU", "nn.GELU()", "m(h)", F32),
    ("nn.SiLU", "nn.SiLU()", "m(h)", F32),
    ("nn.Tanh", "nn.Tanh()", "m(h)", F32),
    ("nn.Sigmoid", "nn.Sigmoid()", "m(h)", F32),
    ("nn.Softmax", "nn.Softmax(dim=-1)", "m(h)", F32),
    ("nn.Dropout", "nn.Dropout(0.1)", "m(h)", F32),
    ("nn.LayerNorm", "nn.LayerNorm(8)", "m(h)", F32),
    ("nn.BatchNorm1d", "nn.BatchNorm1d(8)", "m(h)", F32),
    ("nn.BatchNorm2d", "nn.BatchNorm2d(3)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.GroupNorm", "nn.GroupNorm(1, 3)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.InstanceNorm2d", "nn.InstanceNorm2d(3)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.BatchNorm1d ([N, C, L])", "nn.BatchNorm1d(3)", "m(h)", "x:f32[2,3,8]"),
    ("nn.Conv1d", "nn.Conv1d(3, 4, 3)", "m(h)", "x:f32[2,3,8]"),
    ("nn.Conv1d (padding='same', dilation, groups)",
     "nn.Conv1d(4, 4, 3, padding='same', dilation=2, groups=2)", "m(h)", "x:f32[2,4,8]"),
    ("nn.Conv1d (padding_mode='circular')", "nn.Conv1d(3, 4, 3, padding=1, padding_mode='circular')",
     "m(h)", "x:f32[2,3,8]"),
    ("nn.ConvTranspose1d", "nn.ConvTranspose1d(3, 4, 2, stride=2)", "m(h)", "x:f32[2,3,8]"),
    ("nn.Conv2d", "nn.Conv2d(3, 4, 3, padding=1)", "m(h)", "x:f32[2,3,6,6]"),
    ("nn.ConvTranspose2d", "nn.ConvTranspose2d(3, 4, 2, stride=2)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.MaxPool2d", "nn.MaxPool2d(2)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.AvgPool2d", "nn.AvgPool2d(2)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.AdaptiveAvgPool2d", "nn.AdaptiveAvgPool2d(1)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.Upsample (nearest)", "nn.Upsample(scale_factor=2.0)", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.Upsample (bilinear)", "nn.Upsample(scale_factor=2.0, mode='bilinear')", "m(h)",
     "x:f32[2,3,4,4]"),
    ("nn.Upsample (linear)", "nn.Upsample(scale_factor=2.0, mode='linear')", "m(h)",
     "x:f32[2,3,8]"),
    ("nn.MaxPool1d", "nn.MaxPool1d(2)", "m(h)", "x:f32[2,3,8]"),
    ("nn.AvgPool1d", "nn.AvgPool1d(2)", "m(h)", "x:f32[2,3,8]"),
    ("nn.AdaptiveAvgPool1d", "nn.AdaptiveAvgPool1d(3)", "m(h)", "x:f32[2,3,8]"),
    ("nn.AdaptiveMaxPool1d", "nn.AdaptiveMaxPool1d(4)", "m(h)", "x:f32[2,3,8]"),
    ("nn.Flatten", "nn.Flatten()", "m(h)", "x:f32[2,3,4,4]"),
    ("nn.Embedding", "nn.Embedding(10, 4)", "m(x)", "x:i64[4,8]"),
    ("nn.EmbeddingBag", "nn.EmbeddingBag(10, 4)", "m(x)", "x:i64[4,8]"),
    ("nn.MultiheadAttention", "nn.MultiheadAttention(8, 2, batch_first=True)",
     "m(h.view(1, 4, 8), h.view(1, 4, 8), h.view(1, 4, 8))[0]", F32),
    ("nn.TransformerEncoderLayer",
     "nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)",
     "m(h.view(1, 4, 8))", F32),
    ("nn.TransformerDecoderLayer",
     "nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)",
     "m(h.view(1, 4, 8), h.view(1, 4, 8) * 0.5)", F32),
    ("nn.LSTM", "nn.LSTM(8, 4, batch_first=True)", "m(h.view(1, 4, 8))[0]", F32),
    ("nn.GRU", "nn.GRU(8, 4, batch_first=True)", "m(h.view(1, 4, 8))[0]", F32),
]


# torchvision 0.14's classification zoo, the smallest variant of each
# family, with 10 classes, at a small input size each architecture accepts.
ZOO = [
    ("alexnet", 64), ("vgg11", 32), ("vgg11_bn", 32), ("resnet18", 32), ("resnet50", 32),
    ("resnext50_32x4d", 32), ("wide_resnet50_2", 32), ("squeezenet1_0", 64),
    ("squeezenet1_1", 64), ("densenet121", 32), ("googlenet", 64), ("inception_v3", 75),
    ("shufflenet_v2_x0_5", 32), ("mobilenet_v2", 32), ("mobilenet_v3_small", 32),
    ("mnasnet0_5", 32), ("efficientnet_b0", 32), ("efficientnet_v2_s", 32),
    ("regnet_x_400mf", 32), ("regnet_y_400mf", 32), ("convnext_tiny", 32), ("swin_t", 64),
    ("swin_v2_t", 64), ("vit_b_16", 224), ("maxvit_t", 224),
]


def zoo_rows(dpc, work):
    """One row per ZOO model: scripted in training mode with 10 classes,
    compiled as a train step (--emit=autodiff, cross-entropy over batch 2)."""
    import torchvision
    jobs, rows = {}, {}
    for name, size in ZOO:
        torch.manual_seed(0)
        kwargs = {"num_classes": 10}
        if name in ("googlenet", "inception_v3"):
            kwargs["aux_logits"] = False
            kwargs["init_weights"] = False
        try:
            model = getattr(torchvision.models, name)(**kwargs).train()
            pt = os.path.join(work, f"{name}.pt")
            torch.jit.script(model).save(pt)
        except Exception as e:  # noqa: BLE001 - the row records it
            rows[name] = ("not scriptable", str(e).strip().splitlines()[0][:100])
            continue
        jobs[name] = pt, size

    def compile_model(pt, size):
        rc, _, err = run([dpc, pt, "--emit=autodiff", "--eval-step=false",
                          "--input", f"x:f32[2,3,{size},{size}]",
                          "--label", "y:i64[2]"])
        return ("trains", "") if rc == 0 else ("refused", first_error(err).replace(pt, "model.pt"))

    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(compile_model, *job) for name, job in jobs.items()}
        rows.update({name: f.result() for name, f in futures.items()})
    return [(name, size, *rows[name]) for name, size in ZOO]


def zoo_test_coverage():
    """Which of the three ways of training each ZOO model test/E2E's
    torchvision-*.test files compare with PyTorch: {name: {mode: [test]}},
    mode "1 rank" (compiled without --world-size or --mode), "DDP 2 ranks"
    (--world-size 2) or "--mode dp" (--mode dp). A compiled model counts when
    the same test also runs Inputs/ddp_reference.py on its directory."""
    coverage = {name: {} for name, _ in ZOO}
    for path in sorted(glob.glob(os.path.join(ROOT, "test", "E2E", "torchvision-*.test"))):
        text = open(path).read()
        # RUN lines, with their '\' continuations joined.
        runs = re.sub(r"\\\n# RUN:", " ", text)
        runs = [line[len("# RUN:"):] for line in runs.splitlines() if line.startswith("# RUN:")]
        models = {}  # directory -> model name
        for line in runs:
            for name, directory in re.findall(r"make_torchvision_model\.py (\w+) (%t\S*)", line):
                models[directory] = name
        checked = {d for line in runs
                   for d in re.findall(r"ddp_reference\.py (%t\S*)", line)}
        for line in runs:
            m = re.search(r"%dpc (%t\S*)/model\.pt -o \S+\.so (.*)", line)
            if not m or m.group(1) not in models or m.group(1) not in checked:
                continue
            flags = m.group(2)
            mode = ("--mode dp" if "--mode dp" in flags else
                    "DDP 2 ranks" if "--world-size 2" in flags else
                    None if "--world-size" in flags or "--mode" in flags else "1 rank")
            if mode and models[m.group(1)] in coverage:
                tests = coverage[models[m.group(1)]].setdefault(mode, [])
                if os.path.basename(path) not in tests:
                    tests.append(os.path.basename(path))
    return coverage


def zoo_doc(rows):
    lines = [
        "# torchvision's classification zoo",
        "",
        textwrap.fill(
            "Generated by `scripts/gen-supported-ops.py --zoo` from the compiler itself; do not edit. "
            "Each model is torchvision 0.14's default architecture with 10 classes, scripted in "
            "training mode, and compiled as a training step (`dpc --emit=autodiff`, cross-entropy, "
            "batch 2) at the input size given. `trains` means dpc builds its training step; "
            "`refused` quotes dpc's first error. (Not checked by the test suite: compiling the zoo "
            "takes minutes.)", 110),
        "",
        "| model | input | status | note |",
        "| --- | --- | --- | --- |",
    ]
    for name, size, status, note in rows:
        note = note.replace("|", "\\|")
        lines.append(f"| `{name}` | 3x{size}x{size} | {status} | {note or '-'} |")
    modes = ["1 rank", "DDP 2 ranks", "--mode dp"]
    lines += [
        "",
        "## Tested against PyTorch",
        "",
        textwrap.fill(
            "Which ways of training each model `test/E2E/torchvision-*.test` compare with PyTorch "
            "(read from the tests' RUN lines: a model compiled for 1 rank, for DDP on 2 ranks or "
            "with `--mode dp`, in a test that runs `Inputs/ddp_reference.py` on it). Input sizes, "
            "batches and criteria are in each test's comments, and docs/ARCHITECTURE.md (Tests) "
            "says how the inputs were chosen.", 110),
        "",
        "| model | " + " | ".join(f"`{m}`" if m.startswith("--") else m for m in modes)
        + " | test |",
        "| --- | --- | --- | --- | --- |",
    ]
    coverage = zoo_test_coverage()
    for name, *_ in rows:
        tested = coverage.get(name, {})
        tests = sorted({t for ts in tested.values() for t in ts})
        lines.append(f"| `{name}` | " + " | ".join("yes" if m in tested else "-" for m in modes)
                     + f" | {', '.join(tests) or '-'} |")
    return "\n".join(lines) + "\n"


def probe_source(rows, module):
    """A Python module with one probe class per row (TorchScript needs the
    classes' source in a file)."""
    lines = ["import torch", "import torch.nn as nn", "import torch.nn.functional as F", ""]
    for i, (name, ctor, expr, spec) in enumerate(rows):
        integer = ":i64[" in spec
        lines += [f"class Probe{i}(nn.Module):",
                  "    def __init__(self):",
                  "        super().__init__()",
                  f"        self.w = nn.Parameter(torch.ones({shape_of(spec)}))"]
        if module:
            lines.append(f"        self.m = {ctor}")
        lines += ["    def forward(self, x):"]
        if integer:
            lines.append("        h = self.w")
        else:
            lines.append("        h = x * self.w")
        if module:
            lines.append("        m = self.m")
        lines += [f"        return {expr}", ""]
    return "\n".join(lines)


def shape_of(spec):
    return "[" + spec.split("[", 1)[1].rstrip("]") + "]"


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def first_error(stderr):
    for line in stderr.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return stderr.strip().splitlines()[-1] if stderr.strip() else "failed"


def compile_probe(dpc, pt, spec, out_shape):
    """(status, note, forward op counts, reverse-pass op counts) of one
    scripted probe."""
    rc, imported, err = run([dpc, pt, "--emit=import", "--eval-step=false", "--input", spec])
    if rc != 0:
        return "refused", first_error(err), None, None
    label = "y:f32[" + ",".join(str(d) for d in out_shape) + "]"
    rc, reverse, err = run([dpc, pt, "--emit=autodiff", "--eval-step=false", "--input", spec,
                            "--label", label, "--loss", "mse"])
    if rc != 0:
        return "forward only", first_error(err), nn_op_counts(imported), None
    return "trains", "", nn_op_counts(imported), nn_op_counts(reverse)


def nn_op_counts(text):
    return collections.Counter(re.findall(r"= (nn\.[a-z_0-9]+)\b", text))


def probe_rows(dpc, rows, module, work):
    """Scripts every probe of `rows` (and a baseline probe that returns its
    scaled input), compiles them in parallel, and returns the table rows.
    The baseline's ops (the scaling, the loss, its gradient seed) are taken
    out of each probe's counts, so the columns show the probe's own ops; an
    op that the reverse pass uses more often than the forward (dropout's
    VJP is a dropout) counts as a gradient op."""
    rows = rows + [("baseline", "nn.Identity()", "h", F32)]
    path = os.path.join(work, f"probes_{int(module)}.py")
    with open(path, "w") as f:
        f.write(probe_source(rows, module))
    sys.path.insert(0, work)
    probes = importlib.import_module(f"probes_{int(module)}")
    sys.path.pop(0)
    jobs = {}
    failures = {}
    for i, (name, _, _, spec) in enumerate(rows):
        model = getattr(probes, f"Probe{i}")()
        model.train()
        pt = os.path.join(work, f"p{int(module)}_{i}.pt")
        try:
            scripted = torch.jit.script(model)
            shape = tuple(int(d) for d in shape_of(spec)[1:-1].split(","))
            example = (torch.randint(0, 10, shape) if ":i64[" in spec
                       else torch.randn(shape))
            out_shape = tuple(scripted(example).shape)
            scripted.save(pt)
        except Exception as e:  # noqa: BLE001 - the row records it
            failures[i] = ("not scriptable", str(e).strip().splitlines()[0][:100])
            continue
        jobs[i] = (pt, spec, out_shape)
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        results = {i: pool.submit(compile_probe, dpc, *job) for i, job in jobs.items()}
        results = {i: r.result() for i, r in results.items()}
    status, _, base_fwd, base_rev = results[len(rows) - 1]
    if status != "trains":
        sys.exit(f"the baseline probe does not train: {results[len(rows) - 1]}")
    out = []
    for i, (name, _, _, spec) in enumerate(rows[:-1]):
        if i in failures:
            out.append((name, *failures[i], "", ""))
            continue
        status, note, fwd, rev = results[i]
        note = note.replace(jobs[i][0], "probe.pt")
        # An integer input is not scaled: only the loss is scaffolding.
        scaled = ":i64[" not in spec
        loss_ops = collections.Counter({"nn.mse_loss": 1, "nn.mse_loss_grad": 1, "nn.fill": 1})
        own_fwd = (fwd - base_fwd) if (fwd is not None and scaled) else fwd
        forward = " ".join(sorted(own_fwd)) if own_fwd is not None else ""
        gradient = ""
        if rev is not None:
            own_rev = (rev - base_rev) if scaled else (rev - loss_ops)
            gradient = " ".join(sorted(own_rev - own_fwd))
        out.append((name, status, note, forward, gradient))
    return out


def table(title, rows):
    lines = [f"## {title}", "",
             "| PyTorch | status | nn ops (forward) | gradient ops | note |",
             "| --- | --- | --- | --- | --- |"]
    for name, status, note, fwd, grad in rows:
        def cell(text):
            return f"`{text}`" if text else "-"
        note = note.replace("|", "\\|")
        lines.append(f"| `{name}` | {status} | {cell(fwd)} | {cell(grad)} | {note or '-'} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dpc", default=os.path.join(ROOT, "build", "bin", "dpc"))
    p.add_argument("--dpc-opt", default=None)
    p.add_argument("--out", default=os.path.join(ROOT, "docs", "supported-ops.md"))
    p.add_argument("--check", action="store_true")
    p.add_argument("--zoo", action="store_true",
                   help="write docs/torchvision-zoo.md (or --out) instead")
    a = p.parse_args()
    if a.zoo:
        out = a.out if a.out != p.get_default("out") else os.path.join(
            ROOT, "docs", "torchvision-zoo.md")
        with tempfile.TemporaryDirectory() as work:
            rows = zoo_rows(a.dpc, work)
        with open(out, "w") as f:
            f.write(zoo_doc(rows))
        print(f"wrote {out}: {sum(r[2] == 'trains' for r in rows)} of {len(rows)} models train")
        return
    dpc_opt = a.dpc_opt or os.path.join(os.path.dirname(a.dpc), "dpc-opt")
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as work:
        op_rows = probe_rows(a.dpc, OPS, False, work)
        module_rows = probe_rows(a.dpc, MODULES, True, work)
    rc, records, err = run([dpc_opt, "--print-nn-op-records"])
    if rc != 0:
        sys.exit(f"dpc-opt --print-nn-op-records failed: {err}")
    doc = "\n".join([
        "# Supported PyTorch ops and module types",
        "",
        textwrap.fill(
            "Generated by `scripts/gen-supported-ops.py` from the compiler itself; do not edit. Each row "
            "is a probe module scripted with `torch.jit.script`: `trains` means `dpc --emit=import` "
            "imports it and `dpc --emit=autodiff` builds its gradient; `forward only` means the import "
            "works but the reverse pass does not; `refused` quotes dpc's error. The forward ops are the "
            "probe's import (after the scaling by a parameter, `nn.mul`, that every probe starts "
            "with); the gradient ops are the nn ops only the reverse pass has.", 110),
        "",
        table("Operators", op_rows),
        "",
        table("Module types", module_rows),
        "",
        "## nn ops",
        "",
        "From `dpc-opt --print-nn-op-records`: the aten operator and runtime kind of the record "
        "families, and whether the op has a VJP.",
        "",
        records.strip(),
        "",
    ])
    if a.check:
        with open(a.out) as f:
            if f.read() != doc:
                sys.exit(f"{a.out} is stale: run /usr/bin/python3 scripts/gen-supported-ops.py")
        print(f"{a.out} is up to date")
        return
    with open(a.out, "w") as f:
        f.write(doc)
    print(f"wrote {a.out}: {sum(r[1] == 'trains' for r in op_rows + module_rows)} of "
          f"{len(op_rows) + len(module_rows)} probes train")


if __name__ == "__main__":
    main()
