"""Small GPT-style models for dpc's end-to-end tests (make_gpt.py writes them).

GPT is nanoGPT's block structure at toy size: token and position embeddings,
a ModuleList of pre-norm blocks (causal self-attention with a tril mask
buffer, a GELU MLP), a final LayerNorm and an lm head tied to the token
embedding. Dropout is absent (p = 0 in nanoGPT's terms); GPTDropout has it where
nanoGPT does (embeddings, attention weights, both residual projections). GPTWithLoss computes
its own loss (--loss none) and exercises the other spellings of the same
ops: chunk instead of split, permute instead of transpose, gelu's tanh form,
a sliced position parameter, means over a dim and over everything,
log_softmax + nll_loss.

TorchScript needs a class's source in a file to script it, hence this module.
"""
import functools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def init_weights(module):
    """nanoGPT's initialization: N(0, 0.02) weights, zero biases."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        torch.nn.init.zeros_(module.bias)


def dropout_or_identity(p):
    """nn.Dropout(p), or no module at all for p None (the models without
    dropout keep the exact graphs their tests were written for)."""
    return nn.Identity() if p is None else nn.Dropout(p)


class CausalSelfAttention(nn.Module):
    def __init__(self, d_model, n_head, block_size, dropout=None):
        super().__init__()
        self.c_attn = nn.Linear(d_model, 3 * d_model)
        self.c_proj = nn.Linear(d_model, d_model)
        self.attn_dropout = dropout_or_identity(dropout)
        self.resid_dropout = dropout_or_identity(dropout)
        self.n_head = n_head
        self.n_embd = d_model
        self.register_buffer("mask", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(k.size(-1))
        att = att.masked_fill(self.mask[:, :, :T, :T] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, d_model, approximate="none", dropout=None):
        super().__init__()
        self.c_fc = nn.Linear(d_model, 4 * d_model)
        self.c_proj = nn.Linear(4 * d_model, d_model)
        self.approximate = approximate
        self.dropout = dropout_or_identity(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate=self.approximate)))


class Block(nn.Module):
    def __init__(self, d_model, n_head, block_size, approximate="none", dropout=None):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_head, block_size, dropout)
        self.ln_2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model, approximate, dropout)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    """Tokens [B, T] (int64) in, logits [B*T, vocab] out."""

    def __init__(self, vocab=64, block_size=16, d_model=32, n_head=2, n_layer=2, dropout=None):
        super().__init__()
        self.wte = nn.Embedding(vocab, d_model)
        self.wpe = nn.Embedding(block_size, d_model)
        self.drop = dropout_or_identity(dropout)
        self.blocks = nn.ModuleList([Block(d_model, n_head, block_size, dropout=dropout)
                                     for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab, bias=False)
        self.lm_head.weight = self.wte.weight  # tied: one parameter, one summed gradient
        self.apply(init_weights)

    def forward(self, idx):
        B, T = idx.size()
        pos = torch.arange(0, T, dtype=torch.long)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)
        return logits.view(-1, logits.size(-1))


class AttentionHeads(nn.Module):
    """Attention written with chunk, permute, torch.matmul, an explicit
    1/sqrt(d) factor and a mask built in forward from constants."""

    def __init__(self, d_model, n_head):
        super().__init__()
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.n_head = n_head

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        hd = C // self.n_head
        q = q.reshape(B, T, self.n_head, hd).permute(0, 2, 1, 3)
        k = k.reshape(B, T, self.n_head, hd).permute(0, 2, 3, 1)
        v = v.reshape(B, T, self.n_head, hd).permute(0, 2, 1, 3)
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        att = torch.matmul(q, k) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(causal, float("-inf")).softmax(dim=-1)
        y = torch.matmul(att, v).permute(0, 2, 1, 3).reshape(B, T, C)
        return self.proj(y)


class LossBlock(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d_model)
        self.attn = AttentionHeads(d_model, n_head)
        self.ln_2 = nn.LayerNorm(d_model)
        self.mlp = MLP(d_model, "tanh")

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPTWithLoss(nn.Module):
    """forward(idx, targets) returns the mean next-token loss (--loss none).
    Its position table is longer than the sequences (a real slice)."""

    def __init__(self, vocab=64, block_size=24, d_model=32, n_head=2, n_layer=2):
        super().__init__()
        self.tok = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.randn(1, block_size, d_model) * 0.02)
        self.blocks = nn.ModuleList([LossBlock(d_model, n_head) for _ in range(n_layer)])
        self.head = nn.Linear(d_model, vocab)

    def forward(self, idx, targets):
        T = idx.size(1)
        x = self.tok(idx) + self.pos[:, :T, :]
        for block in self.blocks:
            x = block(x)
        # Centre the features (a mean over a dim) before the head.
        x = x - x.mean(dim=-1, keepdim=True)
        logits = self.head(x)
        logp = F.log_softmax(logits.view(-1, logits.size(-1)), dim=-1)
        # A small penalty on the features: a full reduction.
        return F.nll_loss(logp, targets.view(-1)) + 1e-3 * (x * x).mean()


MODELS = {
    "gpt": GPT,
    "gpt_loss": GPTWithLoss,
    # nanoGPT's dropout sites, as nanoGPT trains small models (p = 0.1), and
    # the same model with p = 0 (which must train exactly as "gpt").
    "gpt_dropout": functools.partial(GPT, dropout=0.1),
    "gpt_dropout0": functools.partial(GPT, dropout=0.0),
}
