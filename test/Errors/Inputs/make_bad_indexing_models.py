"""Writes a scripted model using an indexing form dpc refuses.

usage: make_bad_indexing_models.py KIND OUT.pt
KIND: bool-mask (h[h > 0]: the result's shape depends on the data),
bool-buffer-mask (x[:, mask] with a bool buffer), separated-indices
(h[i, :, j]: index tensors apart), several-runtime-indices (h[i, j] with
int64 buffers), einsum-ellipsis, einsum-three (three operands),
einsum-diagonal ('ii->i'), pad-reflect (F.pad in mode 'reflect'),
write-parameter (a slice of a parameter zeroed in place), write-after-use
(a compile-time mask written after a tensor op used it), view-before-write
(a clone written after a view of it was taken), scatter-add-partial-index
(Tensor.scatter_add by an index narrower than the tensor in another
dimension), embedding-bag-offsets (nn.EmbeddingBag on 1-d ids with an
offsets buffer).
"""
import sys

import torch
import torch.nn.functional as F
from torch import nn


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.register_buffer("i", torch.tensor([0, 1]))
        self.register_buffer("j", torch.tensor([1, 0]))
        self.register_buffer("mask", torch.tensor([True, False] * 4))
        self.w = nn.Parameter(torch.ones(8))


class ScatterAddPartialIndex(Base):
    def forward(self, x):
        h = self.fc(x).view(-1, 2, 4)
        index = self.i.view(1, 2, 1).expand(h.size(0), 2, 1)
        return h.scatter_add(1, index, h[:, :, :1])


class EmbeddingBagOffsets(Base):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(10, 8)
        self.register_buffer("ids", torch.tensor([1, 2, 4, 5, 4, 3]))
        self.register_buffer("offsets", torch.tensor([0, 2]))

    def forward(self, x):
        return self.fc(x) + self.bag(self.ids, self.offsets)


class BoolMask(Base):
    def forward(self, x):
        h = self.fc(x)
        return h[h > 0]


class BoolBufferMask(Base):
    def forward(self, x):
        return self.fc(x)[:, self.mask]


class SeparatedIndices(Base):
    def forward(self, x):
        h = self.fc(x).view(-1, 2, 2, 2)
        return h[:, torch.tensor([0, 1]), :, torch.tensor([1, 0])]


class SeveralRuntimeIndices(Base):
    def forward(self, x):
        h = self.fc(x).view(-1, 2, 4)
        return h[:, self.i, self.j]


class EinsumEllipsis(Base):
    def forward(self, x):
        h = self.fc(x).view(-1, 2, 4)
        return torch.einsum("...ij,...kj->...ik", h, h)


class EinsumThree(Base):
    def forward(self, x):
        h = self.fc(x)
        return torch.einsum("bi,bi,bi->b", h, h, h)


class EinsumDiagonal(Base):
    def forward(self, x):
        h = self.fc(x).view(-1, 2, 2, 2)
        return torch.einsum("bjii->bji", h)


class PadReflect(Base):
    def forward(self, x):
        return F.pad(self.fc(x).unsqueeze(1), (1, 1), mode="reflect")


class WriteParameter(Base):
    def forward(self, x):
        self.w[0:2].zero_()
        return self.fc(x) * self.w


class WriteAfterUse(Base):
    def forward(self, x):
        h = self.fc(x)
        m = h.new_zeros((8,))
        y = h + m
        m[0:2] = 1.0
        return y + m


class ViewBeforeWrite(Base):
    def forward(self, x):
        b = self.w.clone()
        v = b.view(2, 4)
        b[0:2].zero_()
        return self.fc(x) * v.reshape(8)


MODELS = {"bool-mask": BoolMask, "bool-buffer-mask": BoolBufferMask,
          "separated-indices": SeparatedIndices,
          "several-runtime-indices": SeveralRuntimeIndices,
          "einsum-ellipsis": EinsumEllipsis, "einsum-three": EinsumThree,
          "einsum-diagonal": EinsumDiagonal, "pad-reflect": PadReflect,
          "write-parameter": WriteParameter, "write-after-use": WriteAfterUse,
          "view-before-write": ViewBeforeWrite,
          "scatter-add-partial-index": ScatterAddPartialIndex,
          "embedding-bag-offsets": EmbeddingBagOffsets}

if __name__ == "__main__":
    torch.jit.script(MODELS[sys.argv[1]]()).save(sys.argv[2])
