"""CycleGAN's networks for 2-D domains: a translator (G: X → Y or F: Y → X) and a discriminator.

Both are small MLPs (3 hidden layers of ``hidden`` units, ReLU), built with the toy MLPs' layer
helpers of :mod:`gan_demo.models`. A translator maps a point (n, 2) to a point (n, 2): it divides its
input by the source domain's spread and multiplies its (linear) output by the target domain's
(ganhacks: work on normalised data). A discriminator returns one logit per point, shape (n,), on its
input divided by its domain's spread; the losses of :mod:`gan_demo.losses` apply the sigmoid.
"""

from __future__ import annotations

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
