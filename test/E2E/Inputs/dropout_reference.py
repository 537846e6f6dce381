"""dpc's dropout masks and Bernoulli draws, computed independently in
NumPy, and a PyTorch reference that trains with them.

dpc draws dropout masks with Philox4x32-10 (runtime/lib/philox.h,
docs/ARCHITECTURE.md "Dropout"): key = the run's seed (low word, high
word), counter = (element // 4, site, micro_batch << 16 | rank, step), and
element i is kept when the top 24 bits m of word i % 4 satisfy
m * 2^-24 < 1 - p. This module implements that rule from the specification
(Random123's known-answer vectors are checked first, so a wrong Philox
fails loudly), and MaskedDropout replaces nn.Dropout in an eager copy of a
model so that PyTorch computes forward and backward with exactly those
masks: noise = bernoulli mask, noise.div_(1 - p), input * noise, as torch
1.13's _dropout_impl. `site` numbers the dropout calls of one forward in
program order, which is the order dpc's importer numbers them in.

torchvision's StochasticDepth draws `noise.bernoulli_(1 - p)` of shape
[N, 1, ...] (mode "row") or [1, ...] (mode "batch"); dpc's nn.bernoulli of
probability q makes element i 1 when m * 2^-24 < q, with the counter of a
dropout call; dropout calls and bernoulli calls share the site numbering.
MaskedStochasticDepth replaces it with those draws, then divides by the
survival rate and multiplies as torchvision 0.14's stochastic_depth does.
"""
import numpy as np
import torch
import torch.nn as nn

MASK32 = 0xFFFFFFFF


def philox4x32_10(c0, c1, c2, c3, k0, k1):
    """Philox4x32-10 of counters (c0 an array, the rest ints) under key
    (k0, k1); returns the four output words as uint32 arrays."""
    c0 = np.asarray(c0, dtype=np.uint64)
    c1 = np.full_like(c0, c1)
    c2 = np.full_like(c0, c2)
    c3 = np.full_like(c0, c3)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK32)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK32)
        c0 = hi1 ^ c1 ^ np.uint64(k0)
        c1 = lo1
        c2 = hi0 ^ c3 ^ np.uint64(k1)
        c3 = lo0
        k0 = (k0 + 0x9E3779B9) & MASK32
        k1 = (k1 + 0xBB67AE85) & MASK32
    return [c.astype(np.uint32) for c in (c0, c1, c2, c3)]


def check_known_answers():
    cases = [
        ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
        ((MASK32,) * 4, (MASK32,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
        ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
         (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
    ]
    for (c0, c1, c2, c3), (k0, k1), want in cases:
        got = tuple(int(w[0]) for w in philox4x32_10([c0], c1, c2, c3, k0, k1))
        if got != want:
            raise SystemExit(f"philox4x32_10 is wrong: {got} != {want}")


def draw_words(n, seed, site, step, rank=0, micro_batch=0):
    """The Philox words (uint32, length n) that decide the n elements of one
    dpc random call."""
    blocks = (n + 3) // 4
    words = philox4x32_10(np.arange(blocks, dtype=np.uint64), site,
                          (micro_batch << 16) | rank, step & MASK32,
                          seed & MASK32, (seed >> 32) & MASK32)
    return np.stack(words, axis=1).reshape(-1)[:n]


def keep_mask(n, p, seed, site, step, rank=0, micro_batch=0):
    """The keep decisions (bool, length n) of one dpc dropout call."""
    words = draw_words(n, seed, site, step, rank, micro_batch)
    bound = int(np.ceil((1.0 - p) * 16777216.0))
    return (words >> np.uint32(8)) < np.uint32(bound)


def bernoulli_draw(n, q, seed, site, step, rank=0, micro_batch=0):
    """The values (bool, length n) of one dpc bernoulli call of
    probability q."""
    words = draw_words(n, seed, site, step, rank, micro_batch)
    bound = int(np.ceil(q * 16777216.0))
    return (words >> np.uint32(8)) < np.uint32(bound)


class MaskCoordinates:
    """Where the next dropout call's mask comes from; `site` advances with
    every call and is reset by start_forward()."""

    def __init__(self, seed):
        self.seed, self.step, self.rank, self.micro_batch, self.site = seed, 0, 0, 0, 0
        self.kept = self.drawn = 0
        # StochasticDepth's draws: how many, how many were 0, and the
        # expected number of ones (sum of the survival rates).
        self.depth_draws = self.depth_zeros = 0
        self.depth_expected_ones = 0.0

    def start_forward(self, step, rank=0, micro_batch=0):
        self.step, self.rank, self.micro_batch, self.site = step, rank, micro_batch, 0


def masked(x, p, coords):
    """x times dpc's noise for the next dropout call at `coords`."""
    c = coords
    keep = keep_mask(x.numel(), p, c.seed, c.site, c.step, c.rank, c.micro_batch)
    c.site += 1
    c.kept += int(keep.sum())
    c.drawn += keep.size
    # In x's type, as torch's noise (under autocast a bfloat16 x has
    # bfloat16 noise: 1 / (1 - p) rounded to bfloat16).
    noise = torch.from_numpy(keep.astype(np.float32)).reshape(x.shape).to(x.dtype)
    noise.div_(1 - p)
    return x * noise


def with_dpc_functional_masks(seed):
    """Replaces torch.nn.functional.dropout, which nn.Dropout and torch's
    own layers call (MultiheadAttention's attention weights in
    F.multi_head_attention_forward), by one that multiplies by dpc's mask
    of each call in program order; returns the MaskCoordinates."""
    check_known_answers()
    coords = MaskCoordinates(seed)

    def dropout(x, p=0.5, training=True, inplace=False):
        if not training or p == 0.0:
            return x
        return masked(x, p, coords)

    torch.nn.functional.dropout = dropout
    return coords


class MaskedDropout(nn.Module):
    """nn.Dropout in training mode with dpc's mask for its coordinates."""

    def __init__(self, p, coords):
        super().__init__()
        self.p, self.coords = p, coords

    def forward(self, x):
        # p = 0 draws nothing (dpc imports it as the identity, with no
        # site), as in the F.dropout replacement above; Swin's MLPs have
        # nn.Dropout(0.0).
        if self.p == 0.0:
            return x
        return masked(x, self.p, self.coords)


class MaskedStochasticDepth(nn.Module):
    """torchvision.ops.StochasticDepth with dpc's Bernoulli draws for its
    coordinates (torchvision 0.14's stochastic_depth otherwise)."""

    def __init__(self, p, mode, coords):
        super().__init__()
        self.p, self.mode, self.coords = p, mode, coords

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        survival_rate = 1.0 - self.p
        if self.mode == "row":
            size = [x.shape[0]] + [1] * (x.ndim - 1)
        else:
            size = [1] * x.ndim
        c = self.coords
        ones = bernoulli_draw(int(np.prod(size)), survival_rate, c.seed, c.site, c.step,
                              c.rank, c.micro_batch)
        c.site += 1
        c.depth_draws += ones.size
        c.depth_zeros += int(ones.size - ones.sum())
        c.depth_expected_ones += ones.size * survival_rate
        noise = torch.from_numpy(ones.astype(np.float32)).reshape(size).to(x.dtype)
        if survival_rate > 0.0:
            noise.div_(survival_rate)
        return x * noise


def with_dpc_masks(model, seed):
    """Replaces every nn.Dropout of `model` (in place) by a MaskedDropout and
    every torchvision StochasticDepth by a MaskedStochasticDepth; returns the
    MaskCoordinates they share."""
    check_known_answers()
    try:
        from torchvision.ops import StochasticDepth
    except ImportError:
        StochasticDepth = ()
    coords = MaskCoordinates(seed)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Dropout):
                setattr(module, child_name, MaskedDropout(child.p, coords))
            elif isinstance(child, StochasticDepth):
                setattr(module, child_name,
                        MaskedStochasticDepth(child.p, child.mode, coords))
    return coords
