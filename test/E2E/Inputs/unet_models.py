"""A small U-Net for dpc's end-to-end tests: two resolution levels down by
max pooling and back up by nearest upsampling (nn.Upsample) or by
transposed convolutions (nn.ConvTranspose2d, kernel 2, stride 2), the
encoder's features concatenated into the decoder (skip connections), each
level two 3x3 convolutions with GroupNorm and SiLU, and a 1x1 convolution
head giving one value per pixel and output channel (trained with MSE).
TransposedConvs chains ConvTranspose2d in the other configurations PyTorch
allows (kernel 3 with padding and output_padding, groups, dilation, no
bias)."""
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, cin: int, cout: int, groups: int = 4):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm1 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.act = nn.SiLU()

    def forward(self, x):
        x = self.act(self.norm1(self.conv1(x)))
        return self.act(self.norm2(self.conv2(x)))


def upsampler(channels: int, transposed: bool):
    if transposed:
        return nn.ConvTranspose2d(channels, channels, 2, stride=2)
    return nn.Upsample(scale_factor=2, mode="nearest")


class UNet(nn.Module):
    def __init__(self, cin: int = 3, cout: int = 2, base: int = 8, transposed: bool = False):
        super().__init__()
        self.enc1 = Block(cin, base)
        self.enc2 = Block(base, 2 * base)
        self.mid = Block(2 * base, 4 * base)
        self.pool = nn.MaxPool2d(2)
        self.up2 = upsampler(4 * base, transposed)
        self.up1 = upsampler(2 * base, transposed)
        self.dec2 = Block(4 * base + 2 * base, 2 * base)
        self.dec1 = Block(2 * base + base, base)
        self.head = nn.Conv2d(base, cout, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        m = self.mid(self.pool(e2))
        d2 = self.dec2(torch.cat([self.up2(m), e2], dim=1))
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))
        return self.head(d1)


class TransposedConvs(nn.Module):
    """[N, 3, S, S] -> [N, 2, 2 S, 2 S] through ConvTranspose2d in several
    geometries."""
    def __init__(self):
        super().__init__()
        # 2x: (S - 1) * 2 - 2 + 2 + 1 + 1 = 2 S
        self.up = nn.ConvTranspose2d(3, 8, 3, stride=2, padding=1, output_padding=1)
        # groups, no bias: same size
        self.grouped = nn.ConvTranspose2d(8, 4, 3, padding=1, groups=2, bias=False)
        # dilation 2 with padding 2: same size
        self.dilated = nn.ConvTranspose2d(4, 2, 3, padding=2, dilation=2)

    def forward(self, x):
        return self.dilated(torch.tanh(self.grouped(torch.tanh(self.up(x)))))
