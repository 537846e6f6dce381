"""A small U-Net for dpc's end-to-end tests: two resolution levels down by
max pooling and back up by nearest upsampling (nn.Upsample) or by
transposed convolutions (nn.ConvTranspose2d, kernel 2, stride 2), the
encoder's features concatenated into the decoder (skip connections), each
level two 3x3 convolutions with GroupNorm and SiLU, and a 1x1 convolution
head giving one value per pixel and output channel (trained with MSE).
TransposedConvs chains ConvTranspose2d in the other configurations PyTorch
allows (kernel 3 with padding and output_padding, groups, dilation, no
bias). The U-Net can also upsample bilinearly (nn.Upsample(mode='bilinear')),
and Interpolations runs F.interpolate's linear modes in the configurations
PyTorch allows (align_corners, scale factors whole, fractional and per
dimension, sizes, downsampling, 1-d 'linear')."""
import torch
import torch.nn as nn
import torch.nn.functional as F


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


def upsampler(channels: int, transposed: bool, bilinear: bool = False):
    if transposed:
        return nn.ConvTranspose2d(channels, channels, 2, stride=2)
    if bilinear:
        return nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
    return nn.Upsample(scale_factor=2, mode="nearest")


class UNet(nn.Module):
    def __init__(self, cin: int = 3, cout: int = 2, base: int = 8, transposed: bool = False,
                 bilinear: bool = False):
        super().__init__()
        self.enc1 = Block(cin, base)
        self.enc2 = Block(base, 2 * base)
        self.mid = Block(2 * base, 4 * base)
        self.pool = nn.MaxPool2d(2)
        self.up2 = upsampler(4 * base, transposed, bilinear)
        self.up1 = upsampler(2 * base, transposed, bilinear)
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


class Interpolations(nn.Module):
    """[N, 3, 8, 8] -> [N, 2, 16, 16]: features upsampled to 16 x 16 in five
    ways, concatenated, and a 1x1 convolution head."""
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.stretch = nn.Upsample(scale_factor=(2.5, 1.75), mode="bilinear", align_corners=True)
        self.head = nn.Conv2d(20, 2, 1)

    def forward(self, x):
        h = torch.tanh(self.conv(x))                                              # 4 x 8 x 8
        a = F.interpolate(h, scale_factor=2.0, mode="bilinear", align_corners=False)
        b = F.interpolate(h, size=(16, 16), mode="bilinear", align_corners=True)
        # fractional factors: 8 -> 12 -> 16
        c = F.interpolate(F.interpolate(h, scale_factor=1.5, mode="bilinear"), size=(16, 16),
                          mode="bilinear")
        # per dimension, align_corners: 8 x 8 -> 20 x 14, then down to 16 and up to 16
        d = F.interpolate(self.stretch(h), size=(16, 16), mode="bilinear", align_corners=True)
        # 1-d 'linear' along the width, then the height doubled (the width's
        # factor 1 is a copy)
        n = h.shape[0]
        e = F.interpolate(h.reshape(n, 32, 8), scale_factor=2.0, mode="linear",
                          align_corners=True).reshape(n, 4, 8, 16)
        e = F.interpolate(e, scale_factor=(2.0, 1.0), mode="bilinear")
        return self.head(torch.cat([a, b, c, d, e], dim=1))
