"""Generators and discriminators. Every D returns raw logits (shape (N,)); losses apply the sigmoid.

- The MLP pair of seed 001 (G: z→256→256→image, Tanh; D: image→256→256→1), sized from the data.
- A small DCGAN-style conv pair for square images whose side is a multiple of 4 (8×8, 28×28). On
  the 8×8 digits its convolutions run as dense matrix products (:class:`_DenseConv`): the same
  networks and parameters, a faster way to compute them on images this small.
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


# the convolutions of an image this small run as one dense matrix product each (see _DenseConv)
_DENSE_POSITIONS = 64  # pixel positions (8x8) at most, on both sides of a layer


def _taps(size: int, kernel: int, stride: int, padding: int) -> tuple[Tensor, int]:
    """Where a square convolution's kernel taps fall: a 0/1 matrix of shape (kernel², L · size²) whose
    entry (t, l · size² + q) is 1 exactly when input pixel q lies under tap t at output position l,
    and L, the number of output positions (``F.unfold`` of the identity images)."""
    eye = torch.eye(size * size).view(size * size, 1, size, size)
    cols = F.unfold(eye, kernel, padding=padding, stride=stride)  # (size², kernel², L)
    return cols.permute(1, 2, 0).reshape(kernel * kernel, -1).contiguous(), cols.shape[2]


class _DenseConv(nn.Module):
    """A ``Conv2d`` or ``ConvTranspose2d`` layer (square kernel and input, no dilation or groups, no
    output padding) on inputs of one fixed size, run as one matrix product, in one of two ways:

    - ``matrix``: with the dense matrix of the layer's linear map (the Toeplitz matrix of the
      convolution), built from the layer's weight on every call: ``W (out, in · kernel²) @ taps`` and
      a transpose.
    - ``patches`` (a ``Conv2d`` whose kernel covers fewer pixels than its input has, kernel² < size²):
      with the input's patches (im2col: rows (position, in · kernel²) gathered from the flat input and
      a zero for the padding by one ``index_select``) times the weight as a (in · kernel², out)
      matrix. On D's
      first layer of the 8×8 digits (1 channel in, 16 out, 4×4 outputs) the dense matrix is 81 %
      zeros; the patches hold the padding's zeros only, a quarter of the dense product's
      multiplications, and no matrix is built from the weight.

    Same function of the same parameters; the sums run in another order, so values differ from
    ``Conv2d``'s in the last bits (relative 1e-6, tests/test_models.py). On the 8×8 digits, where a
    layer has at most 64 positions on either side, oneDNN's convolution kernels spend most of their
    time outside the arithmetic, above all in the backward pass: with these products the Trainer's
    DCGAN step runs about 1.6× as fast on one CPU thread (``python -m gan_demo bench-quality --preset
    healthy-lsgan --threads 1 --rates 3000``; figures in docs/quality.md), and the patches on D's
    first layer take a further part off (docs/quality.md). It holds no parameters (``layer`` does, and
    state dicts are unchanged), only non-persistent buffers.

    Layout between planned layers (:func:`_dense_plan`): a layer's input and output are images
    (n, channels, size, size), or, where ``in_rows`` / ``out_rows`` says so, rows (n, positions,
    channels), the order a ``patches`` product gives its output in and which a ``matrix`` product
    reads as cheaply (its matrix's columns are ordered to match): D's first layer hands its output
    to the second (through the LeakyReLU) without a transpose. :func:`_run_dense` turns rows back
    into images before any other kind of layer.

    ``layer`` is read on each call through ``owner[index]``, so a layer replaced in the Sequential
    after construction is used as it is (a layer that is no longer a convolution is called as is).
    """

    def __init__(self, layer: nn.Conv2d | nn.ConvTranspose2d, size: int, patches: bool = True):
        super().__init__()
        self.transposed = isinstance(layer, nn.ConvTranspose2d)
        (k, _), (s, _), (p, _) = layer.kernel_size, layer.stride, layer.padding
        self.size, self.kernel, self.stride, self.padding = size, k, s, p
        # a transposed convolution is the adjoint of the convolution with the same weight and settings
        # over its output image: taps over the larger image, product with the matrix not transposed
        self.out_size = (size - 1) * s - 2 * p + k if self.transposed else (size + 2 * p - k) // s + 1
        self.mode = "patches" if patches and not self.transposed and k * k < size * size else "matrix"
        self.in_rows = self.out_rows = False  # set by _dense_plan: rows (n, positions, channels), not images
        big = self.out_size if self.transposed else size
        if self.mode == "matrix":
            taps, positions = _taps(big, k, s, p)
            self.register_buffer("taps", taps, persistent=False)
        else:
            positions = self.out_size**2
            self.register_buffer("where", _patch_index(size, layer.in_channels, k, s, p), persistent=False)
        self.positions, self.pixels = positions, big * big  # of the convolution: output positions, input pixels

    @staticmethod
    def fits(layer: nn.Module, size: int) -> bool:
        if not isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            return False
        k, s, p = layer.kernel_size, layer.stride, layer.padding
        if k[0] != k[1] or s[0] != s[1] or p[0] != p[1] or layer.groups != 1 or layer.dilation != (1, 1) \
                or layer.padding_mode != "zeros" or any(getattr(layer, "output_padding", (0, 0))):
            return False
        out = (size - 1) * s[0] - 2 * p[0] + k[0] if isinstance(layer, nn.ConvTranspose2d) \
            else (size + 2 * p[0] - k[0]) // s[0] + 1
        return 0 < out and max(size, out) ** 2 <= _DENSE_POSITIONS

    def forward(self, layer: nn.Conv2d | nn.ConvTranspose2d, x: Tensor) -> Tensor:
        if self.mode == "patches":
            return self._patches(layer, x)
        w = layer.weight  # Conv2d: (out, in, k, k); ConvTranspose2d: (in, out, k, k)
        a, b = w.shape[:2]
        # the convolution's matrix, rows (a, output position), columns (b, input pixel); rows or columns
        # by (position, channel) where that side of the layer is in rows
        rows_by_position = self.in_rows if self.transposed else self.out_rows
        cols_by_position = self.out_rows if self.transposed else self.in_rows
        m = (w.reshape(a * b, -1) @ self.taps).view(a, b, self.positions, self.pixels)
        m = m.permute(2 if rows_by_position else 0, 0 if rows_by_position else 2,
                      3 if cols_by_position else 1, 1 if cols_by_position else 3)  # fmt: skip
        m = m.reshape(a * self.positions, b * self.pixels)
        n = x.shape[0]
        channels = b if self.transposed else a
        flat = x.reshape(n, -1)  # transposed: (n, a · L); else (n, b · pixels); each in its order
        m = m if self.transposed else m.t()
        if layer.bias is None:
            out = flat @ m
        else:  # the bias of each output channel at each of its positions, added inside the product
            out = torch.addmm(self._bias(layer.bias, channels), flat, m)
        return self._shaped(out, n, channels)

    def _bias(self, bias: Tensor, channels: int) -> Tensor:
        """The bias of each output channel at each output position, in the output's order."""
        if self.out_rows:
            return bias.view(1, channels).expand(self.out_size**2, channels).reshape(-1)
        return bias.view(channels, 1).expand(channels, self.out_size**2).reshape(-1)

    def _shaped(self, out: Tensor, n: int, channels: int) -> Tensor:
        if self.out_rows:
            return out.view(n, self.out_size**2, channels)
        return out.view(n, channels, self.out_size, self.out_size)

    def _patches(self, layer: nn.Conv2d, x: Tensor) -> Tensor:
        w = layer.weight  # (out, in, k, k)
        a, b = w.shape[:2]
        n = x.shape[0]  # x: images (_dense_plan never gives a patches product rows)
        if self.where.numel() != self.positions * b * self.kernel**2:  # a layer with other channels put in
            self.where = _patch_index(self.size, b, self.kernel, self.stride, self.padding).to(x.device)
        # the patches, rows (n · position, b · k²): one gather from the flat input and a zero (the padding)
        flat = torch.cat([x.reshape(n, -1), x.new_zeros(n, 1)], 1)
        cols = flat.index_select(1, self.where).view(n * self.positions, -1)
        weight = w.reshape(a, -1).t()
        out = cols @ weight if layer.bias is None else torch.addmm(layer.bias, cols, weight)  # (n · position, a)
        if self.out_rows:
            return out.view(n, self.positions, a)
        return out.view(n, self.out_size, self.out_size, a).permute(0, 3, 1, 2)


def _patch_index(size: int, channels: int, kernel: int, stride: int, padding: int) -> Tensor:
    """For each output position, input channel and kernel tap (in that order, taps row by row) of a
    square convolution over ``channels`` × ``size`` × ``size`` images: the index of the input value under
    that tap in the flat image (channel, row, column), or ``channels · size²`` where the tap falls on the
    padding (a zero appended to the flat image). Shape (positions · channels · kernel²,)."""
    padded = size + 2 * padding
    image = torch.full((channels, padded, padded), channels * size * size, dtype=torch.float64)
    image[:, padding : padding + size, padding : padding + size] = torch.arange(channels * size * size,
                                                                               dtype=torch.float64).view(channels, size, size)  # fmt: skip
    windows = image.unfold(1, kernel, stride).unfold(2, kernel, stride)  # (channels, out, out, k, k)
    return windows.permute(1, 2, 0, 3, 4).reshape(-1).long()


def _images(x: Tensor) -> Tensor:
    """Rows (n, positions, channels) as images (n, channels, side, side)."""
    n, positions, channels = x.shape
    side = math.isqrt(positions)
    return x.transpose(1, 2).reshape(n, channels, side, side)


# layers that act on each value alone: they take rows (n, positions, channels) as they take images
_ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.Tanh)


def _dense_plan(net: nn.Sequential, size: int, patches: bool = True) -> nn.ModuleDict:
    """A :class:`_DenseConv` for each convolution of ``net`` that fits one (keyed by its index in
    ``net``), following the image size from ``size`` through the layers; a planned layer whose output
    reaches the next planned layer through elementwise layers only (:data:`_ELEMENTWISE`) hands it over
    as rows when the next one reads rows (a ``matrix`` product). ``patches=False``: every layer a
    ``matrix`` product (the engine before the patches; ``python -m gan_demo bench-quality --engine``)."""
    plan = nn.ModuleDict()
    for i, layer in enumerate(net):
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            if _DenseConv.fits(layer, size):
                plan[str(i)] = _DenseConv(layer, size, patches)
            k, s, p = layer.kernel_size[0], layer.stride[0], layer.padding[0]
            size = (size - 1) * s - 2 * p + k if isinstance(layer, nn.ConvTranspose2d) else (size + 2 * p - k) // s + 1
    for i, dense in plan.items():
        j = int(i) + 1
        while j < len(net) and type(net[j]) in _ELEMENTWISE:
            j += 1
        after = plan[str(j)] if str(j) in plan else None
        if after is not None and after.mode == "matrix" and dense.mode == "patches":
            dense.out_rows = after.in_rows = True
    return plan


def _run_dense(net: nn.Sequential, plan: nn.ModuleDict, x: Tensor) -> Tensor:
    """``net(x)`` with the planned convolutions as matrix products (:class:`_DenseConv`); values between
    two of them may travel as rows (n, positions, channels), turned back into images before any
    layer that is not a planned convolution or elementwise."""
    rows = False
    for i, layer in enumerate(net):
        dense = plan[str(i)] if str(i) in plan else None
        if dense is not None and isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            if rows != dense.in_rows:
                x = _images(x) if rows else x.flatten(2).transpose(1, 2)
            x = dense(layer, x)
            rows = dense.out_rows
        elif rows and type(layer) in _ELEMENTWISE:
            x = layer(x)
        else:
            if rows:
                x, rows = _images(x), False
            x = layer(x)
    return _images(x) if rows else x


class ConvGenerator(nn.Module):
    """DCGAN-style: z → (2c, s/4, s/4) → ConvT → (c, s/2, s/2) → ConvT → (C, s, s), Tanh.

    ``dense`` (default: on when the image has at most 8×8 pixels) runs the transposed convolutions as
    dense matrix products (:class:`_DenseConv`): the same network, faster on small images; it can be
    switched at any time (the attribute)."""

    def __init__(self, z_dim: int, shape: tuple[int, int, int], channels: int = 64, dense: bool | None = None):
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
        self._dense = _dense_plan(self.net, h // 4)
        self.dense = bool(self._dense) if dense is None else dense and bool(self._dense)

    def forward(self, z: Tensor) -> Tensor:
        x = self.project(z).view(-1, *self.start)
        return _run_dense(self.net, self._dense, x) if self.dense else self.net(x)


class ConvDiscriminator(nn.Module):
    """DCGAN-style critic without BatchNorm: conv(stride 2) × 2 with LeakyReLU(0.2), then linear.

    ``dense``: as for :class:`ConvGenerator`, the convolutions as dense matrix products."""

    def __init__(self, shape: tuple[int, int, int], channels: int = 64, pack: int = 1, dense: bool | None = None):
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
        self._dense = _dense_plan(self.net, h) if h == w else nn.ModuleDict()
        self.dense = bool(self._dense) if dense is None else dense and bool(self._dense)

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        x = x.reshape(n // self.pack, self.pack * c, h, w)
        return (_run_dense(self.net, self._dense, x) if self.dense else self.net(x)).squeeze(1)


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
