"""Convolutional models for dpc's end-to-end tests, written by make_cnn_model.py.

TorchScript needs a class's source in a file to script it, hence this module.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    """Every CNN op dpc supports, on 3x16x16 images: convolutions with and
    without bias, strided, dilated and grouped; BatchNorm2d with and without
    affine parameters and running statistics; max, average (with padding,
    count_include_pad=False) and adaptive average pooling; a residual block
    with a strided 1x1 shortcut; nn.Sequential; flatten; a linear head.
    Only the convolution that no BatchNorm follows has a bias (a bias before
    BatchNorm has a zero gradient, numerically pure rounding noise)."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(),
        )
        self.conv1 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16, momentum=0.2)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=4, bias=False)
        self.bn2 = nn.BatchNorm2d(16, affine=False)
        self.shortcut = nn.Sequential(
            nn.Conv2d(8, 16, 1, stride=2, bias=False),
            nn.BatchNorm2d(16, track_running_stats=False),
        )
        self.conv3 = nn.Conv2d(16, 16, 3, padding=1)
        self.head = nn.Linear(16 * 2 * 2, classes)

    def forward(self, x):
        h = self.stem(x)                                    # 8x16x16
        h = F.max_pool2d(h, 2)                              # 8x8x8
        r = F.relu(self.bn1(self.conv1(h)))                 # 16x4x4
        r = self.bn2(self.conv2(r))
        h = F.relu(r + self.shortcut(h))                    # residual add
        h = F.relu(self.conv3(h))
        h = F.avg_pool2d(h, 3, stride=1, padding=1, count_include_pad=False)
        h = F.adaptive_avg_pool2d(h, (2, 2))                # 16x2x2
        return self.head(torch.flatten(h, 1))


class BasicBlock(nn.Module):
    """ResNet's basic block, written as torchvision writes it (in-place ReLU,
    out += identity), with a 1x1 downsample shortcut when the shape
    changes."""

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class ResNet18(nn.Module):
    """ResNet-18 for 32x32 images (CIFAR-style stem: 3x3 convolution, no
    max pooling): four stages of two BasicBlocks, widths `width` x (1, 2, 4,
    8), adaptive average pooling, a linear head. width=64 is the full
    network (11.2M parameters)."""

    def __init__(self, width=64, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        layers = []
        inplanes = width
        for i, planes in enumerate([width, 2 * width, 4 * width, 8 * width]):
            stride = 1 if i == 0 else 2
            layers.append(nn.Sequential(BasicBlock(inplanes, planes, stride),
                                        BasicBlock(planes, planes)))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(8 * width, classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


class FrozenBNCNN(nn.Module):
    """Fine-tuning with a frozen BatchNorm: `freeze()` puts bn_frozen in
    eval mode (it normalizes with its running statistics, which stay as they
    are, while its weight and bias still train); bn_train stays in training
    mode. The frozen statistics are far from the batch statistics, so a
    compiler that trained bn_frozen on batch statistics would be visibly
    off."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn_frozen = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1, bias=False)
        self.bn_train = nn.BatchNorm2d(8)
        self.head = nn.Linear(8 * 4 * 4, classes)
        with torch.no_grad():
            self.bn_frozen.running_mean.uniform_(-0.5, 0.5)
            self.bn_frozen.running_var.uniform_(0.5, 2.0)
            self.bn_frozen.num_batches_tracked.fill_(100)

    def freeze(self):
        self.bn_frozen.eval()

    def forward(self, x):
        h = F.relu(self.bn_frozen(self.conv1(x)))          # 8x16x16
        h = F.relu(self.bn_train(self.conv2(h)))            # 8x8x8
        h = F.avg_pool2d(h, 2)                              # 8x4x4
        return self.head(torch.flatten(h, 1))


class StochasticDepthCNN(nn.Module):
    """Residual blocks whose branch torchvision's StochasticDepth drops: per
    sample (mode "row", p=0.5), for the whole batch (mode "batch", p=0.4)
    and with p=0 (the identity: draws nothing), then an nn.Dropout (which
    shares the random calls' site numbering with StochasticDepth). No
    BatchNorm, so the comparison with PyTorch float32 is well-conditioned."""

    def __init__(self, classes=10):
        super().__init__()
        from torchvision.ops import StochasticDepth
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.drop_row = StochasticDepth(0.5, "row")
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.drop_batch = StochasticDepth(0.4, "batch")
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1)
        self.keep_all = StochasticDepth(0.0, "row")
        self.dropout = nn.Dropout(0.25)
        self.head = nn.Linear(8 * 2 * 2, classes)

    def forward(self, x):
        h = F.relu(self.stem(x))                            # 8x8x8
        h = h + self.drop_row(F.relu(self.conv1(h)))
        h = F.max_pool2d(h, 2)                              # 8x4x4
        h = h + self.drop_batch(torch.tanh(self.conv2(h)))
        h = h + self.keep_all(F.relu(self.conv3(h)))
        h = F.adaptive_avg_pool2d(h, (2, 2))                # 8x2x2
        return self.head(self.dropout(torch.flatten(h, 1)))


class SequenceCNN(nn.Module):
    """A 1-d CNN sequence classifier, [N, 4, 32] -> 10 classes: Conv1d in
    several geometries (padding, 'same' with dilation and groups, stride, no
    bias), BatchNorm1d on [N, C, L] and on [N, C], max, average (ceil_mode,
    count_include_pad=False) and adaptive average and max pooling, a
    ConvTranspose1d, the functional forms F.conv1d and F.max_pool1d, and a
    Linear head."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv1d(4, 8, 5, padding=2, bias=False)
        self.bn1 = nn.BatchNorm1d(8)
        self.pool1 = nn.MaxPool1d(2)                                 # 32 -> 16
        self.conv2 = nn.Conv1d(8, 16, 3, padding="same", dilation=2, groups=2, bias=False)
        self.bn2 = nn.BatchNorm1d(16)
        self.pool2 = nn.AvgPool1d(3, stride=2, padding=1, ceil_mode=True,
                                  count_include_pad=False)            # 16 -> 9
        self.up = nn.ConvTranspose1d(16, 8, 3, stride=2, padding=1, output_padding=1)  # 9 -> 18
        self.conv3 = nn.Conv1d(8, 16, 3, stride=2, padding=1)        # 18 -> 9
        self.kernel4 = nn.Parameter(torch.randn(16, 16, 2) * 0.2)
        self.avg = nn.AdaptiveAvgPool1d(3)
        self.max = nn.AdaptiveMaxPool1d(2)
        self.bn3 = nn.BatchNorm1d(80)
        self.head = nn.Linear(80, classes)

    def forward(self, x):
        h = self.pool1(F.relu(self.bn1(self.conv1(x))))
        h = self.pool2(F.relu(self.bn2(self.conv2(h))))
        h = F.relu(self.conv3(torch.tanh(self.up(h))))
        h = F.max_pool1d(F.conv1d(h, self.kernel4, padding=1), 3, stride=1, padding=1)  # 10
        feats = torch.cat([self.avg(h), self.max(h)], dim=2)          # 16 x 5
        return self.head(F.relu(self.bn3(torch.flatten(feats, 1))))


MODELS = {
    "small-cnn": (SmallCNN, (3, 16, 16)),
    "resnet18": (lambda: ResNet18(64), (3, 32, 32)),
    "resnet18-narrow": (lambda: ResNet18(8), (3, 32, 32)),
    "frozen-bn-cnn": (FrozenBNCNN, (3, 16, 16)),
    "stochastic-depth-cnn": (StochasticDepthCNN, (3, 8, 8)),
    "sequence-cnn": (SequenceCNN, (4, 32)),
}
