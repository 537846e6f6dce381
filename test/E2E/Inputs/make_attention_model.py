"""Writes a model built from PyTorch's own attention layers (scripted, in
training mode) and a data set for it.

usage: make_attention_model.py NAME OUT_DIR --samples N [--dropout P]
                               [--seed 0]

NAME:
- encoder: an nn.TransformerEncoder classifier: a linear input projection
  of [N, 8, 8] sequences, 2 nn.TransformerEncoderLayer (d_model 32, 4
  heads, feed-forward 64, batch_first=True, dropout P), a mean over the
  sequence and a linear head (10 classes). x.npy float32 [N, 8, 8].
- mha_gpt: a nanoGPT-style block on nn.MultiheadAttention: token and
  position embeddings, pre-LayerNorm causal self-attention whose mask is a
  bool buffer (`torch.tril(torch.ones(T, T)) == 0`, True = masked), a GELU
  MLP, and a head on the last position (10 classes). x.npy int64 [N, 8]
  tokens in [0, 16).
- mha_padding: nn.MultiheadAttention (batch_first) with a float key padding
  mask given as the second input `pad` ([N, 8], 0 or -inf: the last 0-3
  positions of each sequence padded) and need_weights=True: the averaged
  attention weights are added into the output, so their gradient counts.
  x.npy float32 [N, 8, 16], pad.npy.
- mha_bool_padding: nn.MultiheadAttention (batch_first) with a bool causal
  mask buffer and the float key padding mask input `pad` of mha_padding:
  MultiheadAttention merges them with logical_or, then turns the bool
  result into 0 and -inf. x.npy float32 [N, 8, 16], pad.npy.
- mha_float_mask: nn.MultiheadAttention in its sequence-first layout with a
  float causal mask buffer (0 and -inf) and per-head weights
  (average_attn_weights=False, unused). x.npy float32 [N, 8, 16].
- decoder: an nn.TransformerDecoder classifier (2 nn.TransformerDecoderLayer,
  d_model 16, 2 heads, batch_first=True, dropout 0): causal self-attention
  on x (a bool causal buffer as tgt_mask) and encoder-decoder attention on
  the second input `m` (key and value the same tensor, the query another:
  MultiheadAttention's split in-projection). x.npy float32 [N, 6, 16],
  m.npy float32 [N, 5, 16].
- vit: torchvision's VisionTransformer(image_size=32, patch_size=8,
  num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10).
  x.npy float32 [N, 3, 32, 32].

Writes OUT_DIR/model.pt, OUT_DIR/x.npy and OUT_DIR/y.npy (labels in
[0, 10) that depend on x, so the loss can go down).
"""
import argparse
import os

import numpy as np
import torch
from torch import nn


class EncoderClassifier(nn.Module):
    def __init__(self, dropout):
        super().__init__()
        self.proj = nn.Linear(8, 32)
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        h = self.encoder(self.proj(x))
        return self.head(h.mean(dim=1))


class MhaGpt(nn.Module):
    def __init__(self, dropout, vocab=16, block=8, dim=32, heads=4):
        super().__init__()
        self.wte = nn.Embedding(vocab, dim)
        self.wpe = nn.Embedding(block, dim)
        self.ln1 = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))
        self.ln_f = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 10)
        self.register_buffer("mask", torch.tril(torch.ones(block, block)) == 0)

    def forward(self, idx):
        T = idx.size(1)
        pos = torch.arange(T, dtype=torch.long)
        x = self.wte(idx) + self.wpe(pos)
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, attn_mask=self.mask[:T, :T], need_weights=False)
        x = x + a
        x = x + self.mlp(self.ln2(x))
        return self.head(self.ln_f(x)[:, -1, :])


class MhaPadding(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.head = nn.Linear(16, 10)

    def forward(self, x, pad):
        a, w = self.attn(x, x, x, key_padding_mask=pad)
        assert w is not None
        return self.head(a.mean(dim=1)) + w.sum(dim=(1, 2)).unsqueeze(1) * 0.1


class MhaBoolPadding(nn.Module):
    def __init__(self, block=8):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
        self.head = nn.Linear(16, 10)
        self.register_buffer("mask", torch.tril(torch.ones(block, block)) == 0)

    def forward(self, x, pad):
        a, _ = self.attn(x, x, x, key_padding_mask=pad, attn_mask=self.mask,
                         need_weights=False)
        return self.head(a.mean(dim=1))


class MhaFloatMask(nn.Module):
    def __init__(self, block=8):
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 2)
        self.head = nn.Linear(16, 10)
        causal = torch.triu(torch.ones(block, block, dtype=torch.bool), 1)
        self.register_buffer("causal", torch.zeros(block, block).masked_fill(causal, float("-inf")))

    def forward(self, x):
        h = x.transpose(0, 1)
        a, _ = self.attn(h, h, h, attn_mask=self.causal, average_attn_weights=False)
        return self.head(a[-1])


class DecoderClassifier(nn.Module):
    def __init__(self, block=6):
        super().__init__()
        layer = nn.TransformerDecoderLayer(16, 2, 32, dropout=0.0, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, 2)
        self.head = nn.Linear(16, 10)
        self.register_buffer("causal", torch.triu(torch.ones(block, block), 1) == 1)

    def forward(self, x, m):
        return self.head(self.decoder(x, m, tgt_mask=self.causal).mean(dim=1))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("name", choices=["encoder", "mha_gpt", "mha_padding", "mha_bool_padding",
                                    "mha_float_mask", "decoder", "vit"])
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    if a.name == "encoder":
        model = EncoderClassifier(a.dropout)
        x = rng.standard_normal((a.samples, 8, 8)).astype(np.float32)
    elif a.name == "mha_gpt":
        model = MhaGpt(a.dropout)
        x = rng.integers(0, 16, (a.samples, 8)).astype(np.int64)
    elif a.name in ("mha_padding", "mha_bool_padding"):
        model = MhaPadding() if a.name == "mha_padding" else MhaBoolPadding()
        x = rng.standard_normal((a.samples, 8, 16)).astype(np.float32)
        padded = rng.integers(0, 4, a.samples)
        pad = np.zeros((a.samples, 8), np.float32)
        for i, n in enumerate(padded):
            pad[i, 8 - n:] = -np.inf
        os.makedirs(a.out, exist_ok=True)
        np.save(os.path.join(a.out, "pad.npy"), pad)
    elif a.name == "decoder":
        model = DecoderClassifier()
        x = rng.standard_normal((a.samples, 6, 16)).astype(np.float32)
        os.makedirs(a.out, exist_ok=True)
        np.save(os.path.join(a.out, "m.npy"),
                rng.standard_normal((a.samples, 5, 16)).astype(np.float32))
    elif a.name == "mha_float_mask":
        model = MhaFloatMask()
        x = rng.standard_normal((a.samples, 8, 16)).astype(np.float32)
    else:
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                  hidden_dim=32, mlp_dim=64, num_classes=10)
        x = rng.standard_normal((a.samples, 3, 32, 32)).astype(np.float32)
    model.train()
    flat = x.reshape(a.samples, -1).astype(np.float32)
    patterns = rng.standard_normal((10, flat.shape[1])).astype(np.float32)
    y = (flat @ patterns.T).argmax(axis=1).astype(np.int64)
    os.makedirs(a.out, exist_ok=True)
    torch.jit.script(model).save(os.path.join(a.out, "model.pt"))
    np.save(os.path.join(a.out, "x.npy"), x)
    np.save(os.path.join(a.out, "y.npy"), y)


if __name__ == "__main__":
    main()
