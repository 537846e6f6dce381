"""Small models for dpc's end-to-end tests, written to .pt by make_model.py.

TorchScript needs a class's source in a file to script it, hence this module.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    """nn.Linear + F.relu + tanh, the walking skeleton's model."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = F.relu(self.fc1(x))
        h = torch.tanh(self.fc2(h))
        return self.head(h)


class TiedMLP(nn.Module):
    """A weight used twice (one summed gradient), sigmoid, a broadcast bias
    added with +, an explicit matmul with a transposed weight, and a
    parameter the loss does not use."""

    def __init__(self, features=32, classes=10):
        super().__init__()
        self.shared = nn.Linear(features, features)
        self.w = nn.Parameter(torch.randn(classes, features) * 0.2)
        self.b = nn.Parameter(torch.zeros(classes))
        self.unused = nn.Parameter(torch.ones(3))

    def forward(self, x):
        h = torch.sigmoid(self.shared(x))
        h = self.shared(h) - 0.5 * h
        return torch.matmul(h, self.w.t()) + self.b


class Regressor(nn.Module):
    """For --loss mse."""

    def __init__(self, features=8, outputs=4):
        super().__init__()
        self.fc1 = nn.Linear(features, 16)
        self.fc2 = nn.Linear(16, outputs)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class ExpMLP(nn.Module):
    """torch.exp between two layers (bounded by a tanh before it, so that
    exp stays within [1/e, e])."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = torch.exp(torch.tanh(self.fc1(x)))
        return self.head(h)


class PointwiseMLP(nn.Module):
    """Arithmetic with Python numbers on either side, the pointwise math
    functions and the activations (as F.* calls and as nn.* modules) between
    two layers, each in a numerically sane range: the arguments of log,
    sqrt, rsqrt, reciprocal and pow stay positive and away from 0 (built
    from a tanh), the kinks of the piecewise ops are crossed only by
    chance. softplus's threshold is where its value jumps (from
    log1p(exp(t)) / beta to t / beta); the reference's TorchScript executor
    differentiates it from the result (symbolic_script.cpp: the branch where
    result * beta > threshold), eager torch and dpc from the input
    (derivatives.yaml), which disagree for x * beta in (threshold -
    log1p(exp(-threshold)), threshold): with threshold 10 that band is 5e-5
    wide and no input falls into it."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.register_buffer("offset", torch.linspace(-0.5, 0.5, hidden))
        self.acts = nn.ModuleList([
            nn.SiLU(), nn.Mish(), nn.LeakyReLU(0.2), nn.ELU(alpha=0.7),
            nn.Hardswish(), nn.Hardsigmoid(), nn.Hardtanh(-0.8, 0.8),
            nn.ReLU6(), nn.Softplus(beta=1.5, threshold=10.0)])
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.fc1(x)
        t = torch.tanh(h)
        a = t + 1.0
        numbers = (1.0 - t) + (t - 1) + t * 0.5 + t / 2 + 2.0 / (a + 1) + \
            torch.add(t, 2.0, alpha=3) + 0.25 * t + torch.sub(t, 1.5, alpha=2) + \
            (t + self.offset) + 3 * t + (-t)
        logs = torch.log(a + 1) + torch.log1p(a) + torch.sqrt(a + 0.5) + \
            torch.rsqrt(a + 0.5) + torch.abs(t) + torch.reciprocal(a + 1) + \
            (a + 0.5) ** 2.5 + t ** 2 + t.pow(3) + torch.exp(t) + torch.neg(t)
        waves = torch.sin(h) + torch.cos(h) + torch.erf(h)
        acts = F.silu(h) + F.softplus(h) + F.softplus(h * 8, beta=2.0, threshold=10.0) + \
            F.mish(h) + F.hardswish(h * 3) + F.hardsigmoid(h * 3) + \
            F.relu6(h * 4) + F.hardtanh(h, -0.5, 0.5) + F.leaky_relu(h, 0.1) + \
            F.elu(h) + torch.clamp(h, -0.5, 0.5) + h.clamp_min(-0.2) + \
            h.clamp_max(0.3) + nn.functional.elu(h, alpha=0.5)
        for act in self.acts:
            acts = acts + act(h * 3)
        return self.head((numbers + logs + waves + acts) * 0.125)


class SelectMLP(nn.Module):
    """torch.where (masks from comparisons, numbers as either branch),
    maximum/minimum and torch.max/min of two tensors (with exact ties
    between two parameters, which keep
    splitting their gradient in half, so they stay equal), pow in its three
    forms, clamp at its bound (where its gradient passes and hardtanh's
    does not), a hand-written RMSNorm and F.normalize."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.norm_weight = nn.Parameter(torch.linspace(0.5, 1.5, hidden))
        self.low = nn.Parameter(torch.full((hidden,), 0.5))
        self.high = nn.Parameter(torch.full((hidden,), 0.5))
        self.level = nn.Parameter(torch.full((hidden,), 0.25))
        self.register_buffer("keep", (torch.arange(hidden) % 3 != 0).float())
        self.head = nn.Linear(hidden, classes)

    def rms_norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * \
            self.norm_weight

    def forward(self, x):
        h = self.fc1(x)
        t = torch.tanh(h)
        selected = torch.where(h > 0, h, 0.1 * h) + \
            torch.where(self.keep > 0.5, t, 0.0) + torch.where(t < 0.2, 1.0, t)
        extremes = torch.maximum(h, t) + torch.minimum(h, 0.5 * t) + \
            torch.maximum(self.low, self.high) * t + \
            torch.minimum(self.low, self.high) * h
        powers = (torch.sigmoid(h) + 0.5) ** t + 2.0 ** t + \
            torch.pow(3.0, t * 0.5) + torch.pow(t + 1.5, 2.0 * torch.sigmoid(h))
        at_bound = h * 0.0 + self.level  # exactly 0.25: clamp's bound
        bounded = torch.clamp(at_bound, min=0.25) + \
            F.hardtanh(at_bound, 0.25, 1.0) + torch.clamp(h, max=0.5) * 0.5
        z = self.rms_norm(h) + F.normalize(h, dim=-1) + selected + extremes + \
            powers + bounded
        # torch.max / torch.min of two tensors: maximum / minimum. (Not of h
        # and tanh(h): they are equal in float32 near 0, a tie that
        # TorchScript's optimizing executor differentiates as 0 and eager
        # torch, like dpc, as half the gradient each.)
        z = z + torch.max(t, 0.5 * h + 0.1) - 0.25 * torch.min(h, t + 0.05)
        return self.head(z * 0.25)


class DtypeMLP(nn.Module):
    """Dtype conversions as library code writes them for mixed precision
    and masks: conversions to the dtype a tensor already has (x.float(),
    .to(torch.float32), .to(device, dtype), .type_as, softmax's
    dtype=torch.float32), a comparison's bool mask made float (x > 0).float()
    and .to(h.dtype) to multiply by, and a float made a bool mask (.to(torch.bool))
    for torch.where."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.register_buffer("keep", (torch.arange(hidden) % 3 != 0).float())
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.fc1(x.float()).to(torch.float32)
        gate = (h > 0).float() + 0.5 * (h < -0.5).to(h.dtype)
        t = torch.tanh(h).to(h.device, torch.float32) * gate
        probs = torch.softmax(self.fc2(t), dim=-1, dtype=torch.float32)
        z = torch.where(self.keep.to(torch.bool), probs.type_as(h), t)
        return self.head(z)


class MixedPrecisionMLP(nn.Module):
    """Code that leaves autocast's types on purpose (--precision bf16): an
    RMSNorm computed in float32 (`h.float()`, `.pow(2).mean(-1)`, then
    `.type_as(h)`) times a float32 weight, a softmax with
    dtype=torch.float32 made bfloat16 again with `.to(g.dtype)`, and
    `torch.zeros_like` of a bfloat16 tensor. In float32 every conversion is
    the identity."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.norm_weight = nn.Parameter(torch.linspace(0.5, 1.5, hidden))
        self.fc2 = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.fc1(x)
        f = h.float()
        h = (f * torch.rsqrt(f.pow(2).mean(-1, keepdim=True) + 1e-6)).type_as(h)
        h = h * self.norm_weight
        g = torch.tanh(self.fc2(h))
        a = F.softmax(g, dim=-1, dtype=torch.float32)
        g = g * a.to(g.dtype) * 8.0
        g = torch.maximum(g, torch.zeros_like(g))
        return self.head(g)


class NumbersAndViewsMLP(nn.Module):
    """Python numbers in arithmetic (`* 0.5`, `+ 1.0`, `/ 3.0`, `1.0 - h`),
    a kept-dim mean, slices joined by cat, pow, softplus, a global sum,
    views and transposes, log_softmax: the ops a float64 model uses
    (float64-1rank-2ranks.test)."""

    def __init__(self, features=32, hidden=24, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.fc1(x)
        h = h * 0.5 + 1.0 - h.mean(dim=1, keepdim=True) / 3.0
        h = torch.cat([h[:, :12], torch.sigmoid(1.0 - h[:, 12:])], dim=1)
        h = h.pow(2) * 0.1 + F.softplus(h) - h.sum() * 0.01
        return F.log_softmax(self.head(h.view(-1, 24)), dim=-1).t().t()


class MasksAndProductsMLP(nn.Module):
    """where, masked_fill and comparisons with numbers, maximum and minimum,
    pow of tensors (and of a number), a matmul with a broadcast 2-d
    operand and a bmm: the masks and batched products of a float64 model
    (float64-1rank-2ranks.test)."""

    def __init__(self, features=32, hidden=24, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.head = nn.Linear(hidden, classes)
        self.w = nn.Parameter(torch.randn(4, 6, 6) * 0.3)

    def forward(self, x):
        h = self.fc1(x)
        h = torch.where(h > 0.1, h, 0.5 * h)
        h = h.masked_fill(h < -1.0, -1.0)
        h = torch.maximum(h, torch.tanh(h)) + torch.minimum(h, 0.2 * h)
        h = torch.pow(h.abs() + 1.0, torch.sigmoid(h)) + 2.0 ** torch.tanh(h)
        g = torch.matmul(h.view(-1, 4, 6), self.w.transpose(1, 2)[0])
        g = torch.bmm(g.transpose(0, 1), self.w)
        return self.head(g.transpose(0, 1).reshape(-1, 24))


MODELS = {"mlp": MLP, "tied": TiedMLP, "regressor": Regressor, "exp": ExpMLP,
          "pointwise": PointwiseMLP, "select": SelectMLP,
          "dtype": DtypeMLP, "mixed-precision": MixedPrecisionMLP,
          "numbers-and-views": NumbersAndViewsMLP,
          "masks-and-products": MasksAndProductsMLP}


class IndexingMLP(nn.Module):
    """Advanced indexing and the other ops of torchvision's Swin and MaxViT
    (issue 9): a parameter indexed by an int64 buffer with repeats (Swin's
    relative position bias), constant indices on a middle dimension
    (negative and repeated), two broadcast constant index tensors,
    index_select by a runtime index, torch.gather by a constant index with
    repeats, torch.roll, F.pad, einsum (MaxViT's
    batched form with spaces, a contraction with a summed-out letter, one
    operand), a mask built in place on x.new_zeros (Swin's shifted-window
    mask) and a write into a slice of a cloned parameter (Swin V2)."""

    def __init__(self, features=32, hidden=64, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.table = nn.Parameter(torch.randn(16, 8) * 0.5)
        self.register_buffer("rel_index", torch.randint(0, 16, (8, 8)))
        self.register_buffer("pick", torch.randint(0, 8, (8,)))
        self.mix = nn.Parameter(torch.randn(8, 8) * 0.3)
        self.vbias = nn.Parameter(torch.randn(hidden) * 0.1)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x):
        h = self.fc1(x)
        b = h.shape[0]
        bias = self.table[self.rel_index.view(-1)].view(8, 8, 8)
        a = torch.tanh(h).view(b, 8, 8) + 0.5 * bias.mean(0)
        a = torch.roll(a, shifts=(2, -3), dims=(1, 2))
        perm = torch.tensor([7, 0, -1, 3, 3, 5, 2, 1])
        a1 = a[:, perm]
        rows = torch.tensor([0, 2, 4, 6])
        cols = torch.tensor([1, 3, 5, 7])
        a2 = F.pad(a[:, rows[:, None], cols], (1, 3, 2, 2))
        a3 = torch.index_select(a, 2, self.pick)
        e1 = torch.einsum("B I J, B J K -> B I K", a1, a3) * 0.25
        e2 = torch.einsum("bij,jk->bk", a2, self.mix)
        e3 = torch.einsum("bij->bji", a1)
        mask = h.new_zeros((8, 8))
        mask[0:3, 2:5] = 1.0
        mask[5:, :] = 2.0
        picks = torch.tensor([[3, 0, 7, 7], [1, 1, 2, 6]]).view(1, 2, 4)
        g = torch.gather(a, 2, picks.repeat(b, 4, 1)).sum(-1, keepdim=True)
        z = (a1 + a2 + a3 + e1 + e3) * (1.0 + 0.1 * mask) + e2.unsqueeze(1) + g
        vbias = self.vbias.clone()
        vbias[16:32].zero_()
        return self.head(z.reshape(b, 64) + vbias)


MODELS["indexing"] = IndexingMLP
