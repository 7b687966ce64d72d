"""The conditional GAN's networks: G(z, y) and D(x, y) for K classes, MLP and small conv versions.

G reads a learned embedding e(y) (``label_dim`` numbers) beside z: the MLP takes [z, e(y)], the conv
G projects [z, e(y)] to its first feature map (as ``models.ConvGenerator`` projects z).

D reads the label in one of the ways a student should compare (``condition``):

- ``"concat"``: the one-hot vector of y beside the flattened image (MLP), or K constant feature maps
  (one per class, 1 on y's map) beside the image channels (conv): Mirza & Osindero 2014's cGAN;
- ``"embedding"``: a learned vector e_D(y) beside the image (conv: one extra map, e_D(y) ∈ R^{H·W});
- ``"projection"``: the projection discriminator of Miyato & Koyama 2018 (eq. 3),
  D(x, y) = ψ(φ(x)) + e_yᵀ φ(x), with φ(x) D's last hidden features, ψ a linear layer to one logit
  and e_y a learned vector per class (an ``nn.Embedding``);
- ``"none"``: D(x, y) = ψ(φ(x)) ignores y (the "label ignored" failure: nothing tells G to draw y).

Every D returns logits of shape (N,) and has no BatchNorm (WGAN-GP's penalty is per sample), like
``models.MLPDiscriminator`` / ``models.ConvDiscriminator``, whose layer sizes these follow.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_demo.content import Msg
from gan_demo.models import _mlp

CONDITIONS = ("projection", "concat", "embedding", "none")


class CondMLPGenerator(nn.Module):
    """[z, e(y)] → hidden × depth (ReLU) → prod(shape) → Tanh; images (N, *shape) in [-1, 1]."""

    def __init__(self, z_dim: int, shape: tuple[int, ...], n_classes: int, label_dim: int = 16,
                 hidden: int = 256, depth: int = 2):  # fmt: skip
        super().__init__()
        self.shape, self.n_classes = tuple(shape), n_classes
        self.embed = nn.Embedding(n_classes, label_dim)
        self.net = nn.Sequential(*_mlp([z_dim + label_dim] + [hidden] * depth + [math.prod(shape)]), nn.Tanh())

    def forward(self, z: Tensor, y: Tensor | None = None, label_vec: Tensor | None = None) -> Tensor:
        """G(z, y) for labels ``y`` (N,) int64; or for embeddings ``label_vec`` (N, label_dim) given
        directly (class interpolation blends two classes' embeddings)."""
        e = self.embed(y) if label_vec is None else label_vec
        return self.net(torch.cat([z, e], 1)).view(-1, *self.shape)


class CondConvGenerator(nn.Module):
    """DCGAN-style, as ``models.ConvGenerator``, with [z, e(y)] projected to the first feature map."""

    def __init__(self, z_dim: int, shape: tuple[int, int, int], n_classes: int, label_dim: int = 16,
                 channels: int = 64):  # fmt: skip
        super().__init__()
        c, h, _ = shape
        self.n_classes = n_classes
        self.embed = nn.Embedding(n_classes, label_dim)
        self.start = (2 * channels, h // 4, h // 4)
        self.project = nn.Sequential(nn.Linear(z_dim + label_dim, math.prod(self.start)),
                                     nn.BatchNorm1d(math.prod(self.start)), nn.ReLU())  # fmt: skip
        self.net = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, 2, 1), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, c, 4, 2, 1), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z: Tensor, y: Tensor | None = None, label_vec: Tensor | None = None) -> Tensor:
        e = self.embed(y) if label_vec is None else label_vec
        return self.net(self.project(torch.cat([z, e], 1)).view(-1, *self.start))


class _CondD(nn.Module):
    """What every conditional D shares: the label input of ``condition`` and the projection head.

    A subclass sets ``self.phi`` (input → features (N, F)) and calls :meth:`_head`."""

    def __init__(self, n_classes: int, condition: str, features: int, label_numbers: int):
        super().__init__()
        if condition not in CONDITIONS:
            raise ValueError(Msg("cgan.error.condition", value=condition, allowed=", ".join(CONDITIONS)))
        self.n_classes, self.condition = n_classes, condition
        self.psi = nn.Linear(features, 1)
        if condition == "projection":
            self.embed = nn.Embedding(n_classes, features)  # e_y, one vector per class
        elif condition == "embedding":
            self.embed = nn.Embedding(n_classes, label_numbers)

    def label_input(self, y: Tensor) -> Tensor | None:
        """What the first layer reads beside x: one-hot y ("concat"), e_D(y) ("embedding"), else None."""
        if self.condition == "concat":
            return F.one_hot(y, self.n_classes).to(torch.float32)
        if self.condition == "embedding":
            return self.embed(y)
        return None

    def _head(self, phi: Tensor, y: Tensor) -> Tensor:
        """ψ(φ) (+ e_yᵀφ for the projection D): logits (N,)."""
        out = self.psi(phi).squeeze(1)
        if self.condition == "projection":
            out = out + (self.embed(y) * phi).sum(1)
        return out


class CondMLPDiscriminator(_CondD):
    """flatten(x) [, label input] → hidden × depth (ReLU) = φ(x) → ψ (+ e_yᵀφ): logits (N,)."""

    def __init__(self, shape: tuple[int, ...], n_classes: int, condition: str = "projection",
                 hidden: int = 256, depth: int = 2, label_dim: int = 16):  # fmt: skip
        extra = {"concat": n_classes, "embedding": label_dim}.get(condition, 0)
        super().__init__(n_classes, condition, hidden, label_dim)
        self.phi = nn.Sequential(*_mlp([math.prod(shape) + extra] + [hidden] * depth), nn.ReLU())  # ψ follows

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        x = x.reshape(x.shape[0], -1)
        lab = self.label_input(y)
        return self._head(self.phi(x if lab is None else torch.cat([x, lab], 1)), y)


class CondConvDiscriminator(_CondD):
    """As ``models.ConvDiscriminator`` (conv stride 2 × 2, LeakyReLU 0.2): φ(x) is the flattened
    feature map, with K one-hot maps ("concat") or one embedding map ("embedding") beside the image."""

    def __init__(self, shape: tuple[int, int, int], n_classes: int, condition: str = "projection",
                 channels: int = 64, label_dim: int = 16):  # fmt: skip
        c, h, w = shape
        self.hw = (h, w)
        extra = {"concat": n_classes, "embedding": 1}.get(condition, 0)
        features = 2 * channels * (h // 4) * (w // 4)
        super().__init__(n_classes, condition, features, h * w)
        self.phi = nn.Sequential(
            nn.Conv2d(c + extra, channels, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
        )  # fmt: skip

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        lab = self.label_input(y)
        if lab is not None:
            n, (h, w) = x.shape[0], self.hw
            maps = lab[:, :, None, None].expand(n, lab.shape[1], h, w) if self.condition == "concat" \
                else lab.view(n, 1, h, w)  # fmt: skip
            x = torch.cat([x, maps], 1)
        return self._head(self.phi(x), y)


def build(model: str, shape: tuple[int, ...], z_dim: int, hidden: int, n_classes: int, condition: str,
          label_dim: int) -> tuple[nn.Module, nn.Module]:  # fmt: skip
    """(G, D) of the conditional GAN for images of ``shape`` (C, H, W); sizes as ``models.build``."""
    if model == "mlp":
        return (CondMLPGenerator(z_dim, shape, n_classes, label_dim, hidden),
                CondMLPDiscriminator(shape, n_classes, condition, hidden, label_dim=label_dim))  # fmt: skip
    if model == "dcgan":
        if len(shape) != 3 or shape[1] != shape[2] or shape[1] % 4:
            raise ValueError(Msg("cgan.error.dcgan_shape", shape=shape))
        ch = max(8, hidden // 4)
        return (CondConvGenerator(z_dim, shape, n_classes, label_dim, ch),
                CondConvDiscriminator(shape, n_classes, condition, ch, label_dim))  # fmt: skip
    raise ValueError(Msg("cgan.error.model", value=model))


@torch.no_grad()
def interpolate(G: nn.Module, z: Tensor, y0: int, y1: int, steps: int) -> Tensor:
    """G's images with z fixed while its label embedding goes from e(y0) to e(y1) in ``steps`` equal
    steps: ``(1 − t)·e(y0) + t·e(y1)`` for t = 0, 1/(steps − 1), ..., 1 (the first image is G(z, y0),
    the last G(z, y1)). ``z``: (z_dim,) or (1, z_dim); returns (steps, C, H, W) on z's device. G is put
    in eval mode (BatchNorm's running statistics) and back."""
    if steps < 2:
        raise ValueError(Msg("cgan.error.interp_steps", steps=steps))
    was_training = G.training
    G.eval()
    try:
        t = torch.linspace(0.0, 1.0, steps, device=z.device)[:, None]
        e = G.embed.weight
        vec = (1.0 - t) * e[y0] + t * e[y1]
        return G(z.reshape(1, -1).expand(steps, -1), label_vec=vec)
    finally:
        G.train(was_training)
