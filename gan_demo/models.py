"""Generators and discriminators. Every D returns raw logits (shape (N,)); losses apply the sigmoid.

- The MLP pair of seed 001 (G: z→256→256→image, Tanh; D: image→256→256→1), sized from the data.
- A small DCGAN-style conv pair for square images whose side is a multiple of 4 (8×8, 28×28).
- Toy MLPs (3 hidden layers, ReLU) for the 1-D and 2-D distributions; G's output is linear, and both
  work on the data divided by its standard deviation (``scale``).

``pack`` (PacGAN) makes D judge ``pack`` samples at once: D reshapes its input batch of N samples
into N/pack packed samples, so D returns N/pack logits. The critic for WGAN-GP has no BatchNorm
(the penalty is per input of D, a sample or a packed input; BatchNorm mixes inputs).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_ACTIVATIONS = {nn.ReLU: torch.relu, nn.Tanh: torch.tanh}


def _plan(layers: nn.Sequential) -> tuple[tuple[dict, Callable[[Tensor], Tensor] | None], ...]:
    """A Linear/activation stack as (the Linear's parameter dict, the activation after it or None).

    The dicts are the layers' own ``_parameters``, so the plan follows ``load_state_dict``, ``.to()``
    and a parameter replaced by assignment; only the stack's structure is fixed at construction."""
    plan: list[tuple[dict, Callable[[Tensor], Tensor] | None]] = []
    for layer in layers:
        if isinstance(layer, nn.Linear):
            plan.append((layer._parameters, None))
        elif type(layer) in _ACTIVATIONS and plan and plan[-1][1] is None:
            plan[-1] = (plan[-1][0], _ACTIVATIONS[type(layer)])
        else:
            raise TypeError(f"an MLP here holds Linear layers, each followed by at most one ReLU or Tanh; got {layer!r}")
    return tuple(plan)


def _run(plan: tuple[tuple[dict, Callable[[Tensor], Tensor] | None], ...], x: Tensor) -> Tensor:
    """The MLP's forward pass as a loop of ``F.linear`` and activations: on the toy MLPs, calling each
    layer as a Module (``__call__``, hook checks, two ``Module.__getattr__`` per Linear) cost 8 % of a
    training step (measured). Same operations, same results; hooks on the inner layers are not run."""
    for params, act in plan:
        x = F.linear(x, params["weight"], params["bias"])
        if act is not None:
            x = act(x)
    return x


def _mlp(sizes: list[int], act: type[nn.Module] = nn.ReLU) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(act())
    return layers


class MLPGenerator(nn.Module):
    """z → hidden × depth (ReLU) → prod(shape), then Tanh for images (values in [-1, 1]).

    ``scale`` multiplies the output: a toy's networks work on data divided by its standard deviation
    (ganhacks: normalise the inputs), while G's samples stay in the data's own units.
    """

    def __init__(self, z_dim: int, shape: tuple[int, ...], hidden: int = 256, depth: int = 2, tanh: bool = True,
                 scale: float = 1.0):  # fmt: skip
        super().__init__()
        self.shape = tuple(shape)
        self.scale = float(scale)  # a constant, not a parameter or a buffer: checkpoints do not hold it
        layers = _mlp([z_dim] + [hidden] * depth + [math.prod(shape)])
        if tanh:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        self._plan = _plan(self.net)

    def forward(self, z: Tensor) -> Tensor:
        out = self.raw(z)
        return out * self.scale if self.scale != 1.0 else out

    def raw(self, z: Tensor) -> Tensor:
        """G's samples in the networks' own units (the data divided by ``scale``), as training uses them."""
        out = _run(self._plan, z)
        return out if len(self.shape) == 1 else out.view(-1, *self.shape)  # toys: (N, dim) already


class MLPDiscriminator(nn.Module):
    """flatten(pack samples) → hidden × depth (ReLU) → 1 logit; the input is divided by ``scale``."""

    def __init__(self, shape: tuple[int, ...], hidden: int = 256, depth: int = 2, pack: int = 1, scale: float = 1.0):
        super().__init__()
        self.pack = pack
        self.scale = float(scale)
        self.net = nn.Sequential(*_mlp([pack * math.prod(shape)] + [hidden] * depth + [1]))
        self._plan = _plan(self.net)

    def forward(self, x: Tensor) -> Tensor:
        return self.raw(x * (1.0 / self.scale) if self.scale != 1.0 else x)

    def raw(self, x: Tensor) -> Tensor:
        """D's logits on samples already divided by ``scale`` (the networks' own units)."""
        if self.pack > 1 or x.dim() > 2:
            x = x.reshape(x.shape[0] // self.pack, -1)
        return _run(self._plan, x).squeeze(1)


class ConvGenerator(nn.Module):
    """DCGAN-style: z → (2c, s/4, s/4) → ConvT → (c, s/2, s/2) → ConvT → (C, s, s), Tanh."""

    def __init__(self, z_dim: int, shape: tuple[int, int, int], channels: int = 64):
        super().__init__()
        c, h, _ = shape
        self.start = (2 * channels, h // 4, h // 4)
        self.project = nn.Sequential(
            nn.Linear(z_dim, math.prod(self.start)), nn.BatchNorm1d(math.prod(self.start)), nn.ReLU()
        )
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1),
            nn.BatchNorm2d(channels),
            nn.ReLU(),
            nn.ConvTranspose2d(channels, c, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: Tensor) -> Tensor:
        return self.net(self.project(z).view(-1, *self.start))


class ConvDiscriminator(nn.Module):
    """DCGAN-style critic without BatchNorm: conv(stride 2) × 2 with LeakyReLU(0.2), then linear."""

    def __init__(self, shape: tuple[int, int, int], channels: int = 64, pack: int = 1):
        super().__init__()
        c, h, w = shape
        self.pack = pack
        self.net = nn.Sequential(
            nn.Conv2d(pack * c, channels, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Flatten(),
            nn.Linear(2 * channels * (h // 4) * (w // 4), 1),
        )

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        return self.net(x.reshape(n // self.pack, self.pack * c, h, w)).squeeze(1)


def build(model: str, shape: tuple[int, ...], z_dim: int, hidden: int, pack: int = 1, toy: bool = False,
          scale: float = 1.0) -> tuple[nn.Module, nn.Module]:  # fmt: skip
    """(G, D) for data of ``shape`` (without the batch dimension); ``scale``: a toy's standard deviation."""
    if toy:
        return (
            MLPGenerator(z_dim, shape, hidden, depth=3, tanh=False, scale=scale),
            MLPDiscriminator(shape, hidden, depth=3, pack=pack, scale=scale),
        )
    if model == "mlp":
        return MLPGenerator(z_dim, shape, hidden, depth=2), MLPDiscriminator(shape, hidden, depth=2, pack=pack)
    if model == "dcgan":
        if len(shape) != 3 or shape[1] != shape[2] or shape[1] % 4:
            raise ValueError(f"dcgan needs square images whose side is a multiple of 4, got shape {shape}")
        channels = max(8, hidden // 4)
        return ConvGenerator(z_dim, shape, channels), ConvDiscriminator(shape, channels, pack)
    raise ValueError(f"unknown model {model!r}; choose 'mlp' or 'dcgan'")


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


__all__ = ["build", "count_parameters", "MLPGenerator", "MLPDiscriminator", "ConvGenerator", "ConvDiscriminator", "torch"]
