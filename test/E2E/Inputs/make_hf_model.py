"""Writes a Hugging Face transformers model with a small config and random
weights, traced, for dpc's tests: code nobody here wrote.

usage: make_hf_model.py gpt2|bert|llama|opt|gpt_neo|gptj|gemma|distilbert OUT_DIR [--samples N] [--seq T]
           [--dropout P] [--attention-mask [--mask-dtype float32|int64]]

The models come from transformers' own classes (the version scripts/setup.sh
pins): the causal LMs GPT2LMHeadModel, LlamaForCausalLM, OPTForCausalLM,
GPTNeoForCausalLM, GPTJForCausalLM and GemmaForCausalLM (token ids [B, T] ->
logits [B, T, vocab], labels the next tokens [B, T]) and the classifiers
BertForSequenceClassification and DistilBertForSequenceClassification
(token ids [B, T] -> logits [B, 3], one label per sequence). Configs are tiny (2 layers, width 32, 4 heads; Llama with 2
key/value heads), with torchscript=True and no KV cache, as Hugging Face
documents for torch.jit.trace. Every dropout probability is --dropout
(default 0, so that PyTorch's reference draws nothing dpc must match).

OUT_DIR/model.pt is the model traced in training mode on one batch of
token ids (the batch size does not matter: the trace records no shapes
dpc keeps); x.npy and y.npy hold N samples, int64. With --attention-mask
the model is traced with a second input, `attention_mask` (float32 0/1,
padding at the end of each sequence, lengths from T/4 to T), written to
mask.npy; --mask-dtype int64 makes it int64 0/1 instead, the dtype Hugging
Face's tokenizers give."""
import argparse
import os

import numpy as np
import torch
import transformers

VOCAB = 64


def make(kind, seq, dropout):
    if kind == "gpt2":
        return transformers.GPT2LMHeadModel(transformers.GPT2Config(
            n_layer=2, n_embd=32, n_head=4, vocab_size=VOCAB, n_positions=seq,
            resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
            torchscript=True, use_cache=False))
    if kind == "bert":
        return transformers.BertForSequenceClassification(transformers.BertConfig(
            num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
            intermediate_size=64, vocab_size=VOCAB, max_position_embeddings=seq,
            num_labels=3, hidden_dropout_prob=dropout,
            attention_probs_dropout_prob=dropout, torchscript=True))
    if kind == "llama":
        return transformers.LlamaForCausalLM(transformers.LlamaConfig(
            num_hidden_layers=2, hidden_size=32, num_attention_heads=4,
            num_key_value_heads=2, intermediate_size=64, vocab_size=VOCAB,
            max_position_embeddings=seq, attention_dropout=dropout,
            torchscript=True, use_cache=False))
    if kind == "opt":
        return transformers.OPTForCausalLM(transformers.OPTConfig(
            num_hidden_layers=2, hidden_size=32, num_attention_heads=4, ffn_dim=64,
            vocab_size=VOCAB, max_position_embeddings=seq, word_embed_proj_dim=32,
            dropout=dropout, attention_dropout=dropout, torchscript=True, use_cache=False))
    if kind == "gpt_neo":
        return transformers.GPTNeoForCausalLM(transformers.GPTNeoConfig(
            num_layers=2, hidden_size=32, num_heads=4, vocab_size=VOCAB,
            max_position_embeddings=seq, attention_types=[[["global", "local"], 1]],
            window_size=4, embed_dropout=dropout, attention_dropout=dropout,
            resid_dropout=dropout, torchscript=True, use_cache=False))
    if kind == "gptj":
        return transformers.GPTJForCausalLM(transformers.GPTJConfig(
            n_layer=2, n_embd=32, n_head=4, rotary_dim=4, vocab_size=VOCAB, n_positions=seq,
            resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
            torchscript=True, use_cache=False))
    if kind == "gemma":
        return transformers.GemmaForCausalLM(transformers.GemmaConfig(
            num_hidden_layers=2, hidden_size=32, num_attention_heads=4, num_key_value_heads=2,
            head_dim=8, intermediate_size=64, vocab_size=VOCAB, max_position_embeddings=seq,
            hidden_activation="gelu_pytorch_tanh", attention_dropout=dropout,
            torchscript=True, use_cache=False))
    if kind == "distilbert":
        return transformers.DistilBertForSequenceClassification(transformers.DistilBertConfig(
            n_layers=2, dim=32, n_heads=4, hidden_dim=64, vocab_size=VOCAB,
            max_position_embeddings=seq, num_labels=3, dropout=dropout,
            attention_dropout=dropout, seq_classif_dropout=dropout, torchscript=True))
    raise SystemExit(f"make_hf_model.py: unknown model '{kind}'")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["gpt2", "bert", "llama", "opt", "gpt_neo", "gptj", "gemma",
                                    "distilbert"])
    p.add_argument("out")
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--attention-mask", action="store_true")
    p.add_argument("--mask-dtype", choices=["float32", "int64"], default="float32")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.manual_seed(0)
    model = make(a.kind, a.seq, a.dropout).train()
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, VOCAB, (a.samples, a.seq + 1), generator=g)
    x = tokens[:, :-1]
    inputs = (x[:2],)
    if a.attention_mask:
        lengths = torch.randint(a.seq // 4, a.seq + 1, (a.samples,), generator=g)
        mask = (torch.arange(a.seq)[None, :] < lengths[:, None]).to(getattr(torch, a.mask_dtype))
        np.save(f"{a.out}/mask.npy", mask.numpy())
        inputs = (x[:2], mask[:2])
    traced = torch.jit.trace(model, inputs, check_trace=False)
    traced.save(f"{a.out}/model.pt")
    np.save(f"{a.out}/x.npy", x.numpy())
    if a.kind in ("bert", "distilbert"):
        y = torch.randint(0, 3, (a.samples,), generator=g)
    else:
        y = tokens[:, 1:]
    np.save(f"{a.out}/y.npy", y.numpy())


if __name__ == "__main__":
    main()
