"""CycleGAN's networks: a translator (G: X → Y or F: Y → X) and a discriminator, for 2-D domains and
for small images.

Both are small MLPs (3 hidden layers of ``hidden`` units, ReLU), built with the toy MLPs' layer
helpers of :mod:`gan_demo.models`. A translator maps a point (n, 2) to a point (n, 2): it divides its
input by the source domain's spread and multiplies its (linear) output by the target domain's
(ganhacks: work on normalised data). A discriminator returns one logit per point, shape (n,), on its
input divided by its domain's spread; the losses of :mod:`gan_demo.losses` apply the sigmoid.

For image pairs (:class:`ImageTranslator`, :class:`ImageCritic`) the same MLPs read the flattened image
(n, C·H·W): the translator ends in tanh and returns (n, C, H, W) in [−1, 1], the critic one logit per
image. MLPs, not convolutions, to stay cheap on a CPU (an 8×8 image is 64 numbers) and because they
carry no built-in bias towards pixel-by-pixel maps: what keeps the digit is the loss, not the network.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from gan_demo.models import _mlp, _plan, _run

DEPTH = 3  # hidden layers


class Translator(nn.Module):
    """x (n, dim) in the source domain → (n, dim) in the target domain."""

    def __init__(self, dim: int = 2, hidden: int = 64, scale_in: float = 1.0, scale_out: float = 1.0):
        super().__init__()
        self.scale_in, self.scale_out = float(scale_in), float(scale_out)  # constants, not parameters
        self.net = nn.Sequential(*_mlp([dim] + [hidden] * DEPTH + [dim]))
        self._plan = _plan(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return _run(self._plan, x * (1.0 / self.scale_in)) * self.scale_out


class PointCritic(nn.Module):
    """x (n, dim) → one logit per point, (n,)."""

    def __init__(self, dim: int = 2, hidden: int = 64, scale: float = 1.0):
        super().__init__()
        self.scale = float(scale)
        self.net = nn.Sequential(*_mlp([dim] + [hidden] * DEPTH + [1]))
        self._plan = _plan(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return _run(self._plan, x * (1.0 / self.scale)).squeeze(1)


class ImageTranslator(nn.Module):
    """Images (n, C, H, W) in [−1, 1] → (n, C, H, W) in [−1, 1]: an MLP of ``DEPTH`` hidden ReLU layers on
    the flattened image, then tanh."""

    def __init__(self, shape: tuple[int, int, int], hidden: int = 256):
        super().__init__()
        self.shape = tuple(shape)
        n = math.prod(self.shape)
        self.net = nn.Sequential(*_mlp([n] + [hidden] * DEPTH + [n]), nn.Tanh())
        self._plan = _plan(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return _run(self._plan, x.flatten(1)).view(-1, *self.shape)


class ImageCritic(nn.Module):
    """Images (n, C, H, W) → one logit per image, (n,): an MLP of ``DEPTH`` hidden ReLU layers."""

    def __init__(self, shape: tuple[int, int, int], hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(*_mlp([math.prod(shape)] + [hidden] * DEPTH + [1]))
        self._plan = _plan(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return _run(self._plan, x.flatten(1)).squeeze(1)


class ConvTranslator(nn.Module):
    """Images (n, C, H, W) → (n, C, H, W) in [−1, 1]: three 3×3 convolutions (``hidden`` channels,
    padding 1, ReLU between), then tanh. Each output pixel sees only a 7×7 neighbourhood of its input."""

    def __init__(self, shape: tuple[int, int, int], hidden: int = 32):
        super().__init__()
        c = shape[0]
        self.net = nn.Sequential(nn.Conv2d(c, hidden, 3, padding=1), nn.ReLU(), nn.Conv2d(hidden, hidden, 3, padding=1),
                                 nn.ReLU(), nn.Conv2d(hidden, c, 3, padding=1), nn.Tanh())  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ConvCritic(nn.Module):
    """Images (n, C, H, W) → one logit per image, (n,): two stride-2 3×3 convolutions (``hidden`` and
    2·``hidden`` channels, ReLU) and a linear layer."""

    def __init__(self, shape: tuple[int, int, int], hidden: int = 32):
        super().__init__()
        c, h, w = shape
        self.net = nn.Sequential(nn.Conv2d(c, hidden, 3, 2, 1), nn.ReLU(), nn.Conv2d(hidden, 2 * hidden, 3, 2, 1),
                                 nn.ReLU(), nn.Flatten(), nn.Linear(2 * hidden * math.ceil(h / 4) * math.ceil(w / 4), 1))  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)
