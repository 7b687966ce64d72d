"""Toy distributions with exact densities (1-D) or known modes (2-D), and the mode metrics.

1-D toys have an exact ``pdf`` and ``cdf`` so that the optimal discriminator, the JS divergence
and W1 can be computed by quadrature. 2-D toys are the benchmarks of VEEGAN and PacGAN: a ring of
8 Gaussians (σ = 0.01) and a grid of 25 (σ = 0.05); the spiral and the two moons have no discrete
modes and are there to look at.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gan_demo.content import Msg

_SQRT2 = math.sqrt(2.0)


def _erf(x: np.ndarray) -> np.ndarray:
    return torch.special.erf(torch.from_numpy(np.asarray(x, dtype=np.float64))).numpy()


@functools.lru_cache(maxsize=64)
def _as_tensors(values: tuple, device: str) -> tuple[Tensor, ...]:
    """Float32 tensors of a toy's constants, made once per device (not on every batch)."""
    return tuple(torch.tensor(v, dtype=torch.float32, device=device) for v in values)


@dataclass(frozen=True)
class Toy1D:
    """A 1-D density: a mixture of Gaussians (weights, means, stds) or a uniform on [low, high].
    ``title`` is what the page shows: a :class:`~gan_demo.content.Msg` for the named toys (rendered
    in the reader's language by ``str()``), a plain formula for a p_g built from sliders."""

    name: str
    title: str | Msg
    weights: tuple[float, ...] = ()
    means: tuple[float, ...] = ()
    stds: tuple[float, ...] = ()
    uniform: tuple[float, float] | None = None
    dim: int = 1

    @property
    def scale(self) -> float:
        """The standard deviation: the toy networks work on ``x / scale`` and G's output is scaled
        back (ganhacks' first rule, normalise the inputs; see ``models.MLPDiscriminator``)."""
        if self.uniform is not None:
            low, high = self.uniform
            return (high - low) / math.sqrt(12.0)
        w, m, s = (np.asarray(v, dtype=np.float64) for v in (self.weights, self.means, self.stds))
        mean = float((w * m).sum())
        return math.sqrt(float((w * (s**2 + m**2)).sum()) - mean**2)

    @property
    def support(self) -> tuple[float, float]:
        """A plotting range that holds all but a negligible part of the mass."""
        if self.uniform is not None:
            low, high = self.uniform
            pad = 0.5 * (high - low)
            return low - pad, high + pad
        return min(self.means) - 5 * max(self.stds), max(self.means) + 5 * max(self.stds)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.uniform is not None:
            low, high = self.uniform
            return np.where((x >= low) & (x <= high), 1.0 / (high - low), 0.0)
        out = np.zeros_like(x)
        for w, m, s in zip(self.weights, self.means, self.stds, strict=True):
            out += w * np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
        return out

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self.uniform is not None:
            low, high = self.uniform
            return np.clip((x - low) / (high - low), 0.0, 1.0)
        out = np.zeros_like(x)
        for w, m, s in zip(self.weights, self.means, self.stds, strict=True):
            out += w * 0.5 * (1.0 + _erf((x - m) / (s * _SQRT2)))
        return out

    def sample(
        self, n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu"
    ) -> Tensor:
        """``n`` samples as a float32 tensor of shape (n, 1)."""
        if self.uniform is not None:
            low, high = self.uniform
            return low + (high - low) * torch.rand(n, 1, generator=generator, device=device)
        weights, means, stds = _as_tensors((self.weights, self.means, self.stds), str(device))
        k = torch.multinomial(weights, n, replacement=True, generator=generator)
        means, stds = means[k], stds[k]
        noise = torch.randn(n, generator=generator, device=device)
        return (means + stds * noise).unsqueeze(1)


@dataclass(frozen=True)
class Toy2D:
    """A 2-D distribution. Mixtures have ``modes`` (K, 2) and a common ``sigma``; others have none.
    ``title``: a :class:`~gan_demo.content.Msg`, rendered in the reader's language by ``str()``."""

    name: str
    title: str | Msg
    modes: tuple[tuple[float, float], ...] = ()
    sigma: float = 0.0
    dim: int = 2

    @property
    def scale(self) -> float:
        """The per-coordinate standard deviation (RMS over the two axes) of a mixture, which the
        trainer divides samples by; 1 for the spiral and the moons, drawn to about [-1, 1]²."""
        if not self.has_modes:
            return 1.0
        modes = np.asarray(self.modes, dtype=np.float64)
        return math.sqrt(float(modes.var(axis=0).mean()) + self.sigma**2)

    @property
    def has_modes(self) -> bool:
        return bool(self.modes)

    @property
    def extent(self) -> float:
        """Half-width of a square view that holds the data with a margin."""
        if self.has_modes:
            return float(np.abs(np.asarray(self.modes)).max()) * 1.5 + 10 * self.sigma
        return 1.6

    def sample(
        self, n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu"
    ) -> Tensor:
        """``n`` samples as a float32 tensor of shape (n, 2)."""
        if self.has_modes:
            (modes,) = _as_tensors((self.modes,), str(device))
            k = torch.randint(len(self.modes), (n,), generator=generator, device=device)
            noise = torch.randn(n, 2, generator=generator, device=device)
            return noise.mul_(self.sigma).add_(modes.index_select(0, k))
        u = torch.rand(n, generator=generator, device=device)
        noise = torch.randn(n, 2, generator=generator, device=device)
        if self.name == "spiral":
            theta = 3 * math.pi * u.sqrt()  # sqrt: uniform density along the arm
            r = theta / (3 * math.pi)
            pts = torch.stack([r * torch.cos(theta), r * torch.sin(theta)], dim=1)
            return pts + 0.02 * noise
        # two moons, scaled to about [-1, 1]^2
        upper = torch.rand(n, generator=generator, device=device) < 0.5
        t = math.pi * u
        x = torch.where(upper, torch.cos(t), 1 - torch.cos(t))
        y = torch.where(upper, torch.sin(t), 0.5 - torch.sin(t))
        pts = torch.stack([(x - 0.5) / 1.5, (y - 0.25) / 1.5], dim=1)
        return pts + 0.03 * noise


def _ring(k: int = 8, radius: float = 1.0) -> tuple[tuple[float, float], ...]:
    # endpoint=False: linspace(0, 2π, 8) would put two modes on top of each other
    angles = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    return tuple((float(radius * np.cos(a)), float(radius * np.sin(a))) for a in angles)


def _grid(values: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0)) -> tuple[tuple[float, float], ...]:
    return tuple((x, y) for x in values for y in values)


TOYS_1D: dict[str, Toy1D] = {
    t.name: t
    for t in (
        Toy1D("gaussian", Msg("toys.toy.gaussian"), (1.0,), (0.0,), (1.0,)),
        Toy1D("mix2", Msg("toys.toy.mix2"), (0.5, 0.5), (-3.0, 3.0), (0.5, 0.5)),
        Toy1D(
            "mix3",
            Msg("toys.toy.mix3"),
            (1 / 3, 1 / 3, 1 / 3),
            (-4.0, 0.0, 4.0),
            (0.5, 0.5, 0.5),
        ),
        Toy1D("uniform", Msg("toys.toy.uniform"), uniform=(-2.0, 2.0)),
    )
}
TOYS_2D: dict[str, Toy2D] = {
    t.name: t
    for t in (
        Toy2D("ring8", Msg("toys.toy.ring8"), _ring(), 0.01),
        Toy2D("grid25", Msg("toys.toy.grid25"), _grid(), 0.05),
        Toy2D("spiral", Msg("toys.toy.spiral")),
        Toy2D("moons", Msg("toys.toy.moons")),
    )
}
NAMES_1D: tuple[str, ...] = tuple(TOYS_1D)
NAMES_2D: tuple[str, ...] = tuple(TOYS_2D)
NAMES: tuple[str, ...] = NAMES_1D + NAMES_2D


def get(name: str) -> Toy1D | Toy2D:
    """The toy called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    if name in TOYS_1D:
        return TOYS_1D[name]
    if name in TOYS_2D:
        return TOYS_2D[name]
    raise ValueError(Msg("toys.error.unknown", name=repr(name), allowed=", ".join(NAMES)))


@dataclass(frozen=True)
class ModeStats:
    """How well samples cover a mixture's modes (VEEGAN / PacGAN definitions)."""

    captured: int  # modes that are nearest to at least one high-quality sample
    n_modes: int
    high_quality: float  # fraction of samples within 3σ of their nearest mode
    counts: tuple[int, ...]  # high-quality samples per mode


def mode_stats(samples: np.ndarray | Tensor, modes: np.ndarray, sigma: float) -> ModeStats:
    """A sample is high-quality if it lies within 3σ of its nearest mode; a mode is captured if at
    least one high-quality sample is nearest to it."""
    if isinstance(samples, Tensor):
        samples = samples.detach().cpu().numpy()
    pts = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    centres = np.asarray(modes, dtype=np.float64).reshape(-1, 2)
    dist = np.linalg.norm(pts[:, None, :] - centres[None, :, :], axis=2)
    nearest = dist.argmin(axis=1)
    good = dist[np.arange(len(pts)), nearest] <= 3 * sigma
    counts = np.bincount(nearest[good], minlength=len(centres))
    return ModeStats(
        captured=int((counts > 0).sum()),
        n_modes=len(centres),
        high_quality=float(good.mean()) if len(pts) else 0.0,
        counts=tuple(int(c) for c in counts),
    )
