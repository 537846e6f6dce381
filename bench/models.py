"""Benchmark models. The CNN and the GPT are the end-to-end tests' models
(test/E2E/Inputs), at benchmark sizes; TorchScript needs a class's source in
a file to script it, hence this module."""
import os
import sys

import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "E2E", "Inputs"))
from cnn_models import ResNet18  # noqa: E402
from gpt_models import GPT  # noqa: E402
from llama_models import Llama  # noqa: E402


def resnet50():
    import torchvision
    return torchvision.models.resnet50()


class MLP(nn.Module):
    """A 4-layer MLP: GEMM-bound, the walking skeleton's model scaled up."""

    def __init__(self, features=512, hidden=1024, classes=10):
        super().__init__()
        self.fc1 = nn.Linear(features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, hidden)
        self.fc4 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = F.relu(self.fc3(x))
        return self.fc4(x)


# name: constructor, per-sample input shape and dtype, per-sample label shape,
# number of classes (label values are drawn from [0, classes)), batch per rank.
BENCH_MODELS = {
    "mlp": dict(ctor=MLP, input_shape=(512,), input_dtype="f32", label_shape=(),
                classes=10, batch=64),
    # ResNet-18's structure (BasicBlocks, batch norm, strided 1x1 shortcuts)
    # at width 16 on 32x32 images: 0.7M parameters.
    "cnn": dict(ctor=lambda: ResNet18(16), input_shape=(3, 32, 32),
                input_dtype="f32", label_shape=(), classes=10, batch=32),
    # A GPT block stack: 4 layers, d_model 128, 4 heads, 64 tokens, vocab 512,
    # tied lm head (0.9M parameters); tokens in, next-token labels.
    "gpt": dict(ctor=lambda: GPT(vocab=512, block_size=64, d_model=128, n_head=4,
                                 n_layer=4),
                input_shape=(64,), input_dtype="i64", label_shape=(64,), classes=512,
                batch=16),
    # torchvision's own ResNet-50 (25.6M parameters, 1000 classes) at 224x224.
    "resnet50": dict(ctor=resnet50, input_shape=(3, 224, 224), input_dtype="f32",
                     label_shape=(), classes=1000, batch=8),
    # The Llama-style decoder of the tests (RMSNorm, rotary embeddings,
    # grouped-query attention with 8 query and 2 key/value heads, SiLU-gated
    # MLP): 4 layers, width 256, 128 tokens, vocab 1024 (3.3M parameters).
    "llama": dict(ctor=lambda: Llama(vocab=1024, dim=256, n_layers=4, n_heads=8,
                                     n_kv_heads=2, hidden=688, max_len=128),
                  input_shape=(128,), input_dtype="i64", label_shape=(128,), classes=1024,
                  batch=8),
}
