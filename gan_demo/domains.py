"""Domain pairs for CycleGAN: two distributions X and Y related by a known map T, sampled independently.

CycleGAN (Zhu et al. 2017) learns from *unpaired* data: a batch of x and a batch of y are drawn on
their own, so no y is "the translation" of any x. Here Y is built as T(X) for a known map T, so the
app can measure what the images hide: where each mode of X lands (:func:`mode_mapping`), how far the
learned G is from T (:meth:`DomainPair.distance_to_t`), and the cycle error.

- ``ring8-stretched``: X is a ring of 8 Gaussians (radius 1, σ 0.05); Y = T(X) with
  T(x) = A·R(10°)·x, R a rotation by 10° and A = diag(1.25, 1) a stretch along the first axis. The
  angle and the stretch are small on purpose: each mode of X is nearer to its own image under T than
  to any other mode of Y (by at least 0.2, with the ring's neighbouring modes 0.77 apart), so a prior
  that G should change little (the identity loss) singles out T among the 8 rotations of the ring
  that also satisfy the cycle (see the page and docs/cyclegan.md).

Every sample is a float32 tensor of shape (n, 2) in the data's own units.

- ``digits-inverted`` (:class:`ImagePair`): X is scikit-learn's 8×8 handwritten digits (in [−1, 1],
  :func:`gan_demo.data.load_images`), Y the same kind of digit with its grey levels inverted,
  T(x) = −x in the data's [−1, 1] units (1 − x in [0, 1] units, 16 − p on the digits' 0..16 levels).
  The 1,797 digits are split into two disjoint halves (stratified by class, ``random_state=0``):
  X draws from one half, Y is T of the *other* half, so no y is the translation of any x (unpaired,
  as CycleGAN assumes). Inversion, not a rotation, because it is an exact bijection of [−1, 1] that
  changes every pixel yet keeps each digit's shape, so the label is defined after it; a rotation by
  180° would turn a 6 into something read as a 9, and a rotation by 90° moves the digits' frame.
  Being a known bijection, T gives Y's classifier exactly: the digits classifier applied to T⁻¹(y) = −y.

Image samples are float32 tensors of shape (n, 1, 8, 8) in [−1, 1].
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from gan_demo.content import Msg, t


def _rotation(degrees: float) -> np.ndarray:
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])


class _Described:
    """A domain pair's title and T in words, in the reader's language (its catalogue keys
    ``title_key`` and ``t_key``, gan_demo.content)."""

    title_key: str
    t_key: str

    @property
    def title(self) -> str:
        return t(self.title_key)

    @property
    def t_text(self) -> str:
        return t(self.t_key)


@dataclass(frozen=True)
class DomainPair(_Described):
    """A 2-D domain pair: X a mixture of Gaussians with ``modes`` (K, 2) and std ``sigma``, and
    Y = T(X) with the linear map T(x) = ``matrix`` · x. Y's mode k is T(X's mode k)."""

    name: str
    title_key: str  # the catalogue key of its title (gan_demo.content)
    modes: tuple[tuple[float, float], ...]
    sigma: float
    matrix: tuple[tuple[float, float], tuple[float, float]]
    t_key: str  # the key of T in words, for the page
    kind = "points"

    @property
    def a(self) -> np.ndarray:
        return np.asarray(self.matrix, dtype=np.float64)

    @property
    def modes_x(self) -> np.ndarray:
        """X's mode centres, (K, 2)."""
        return np.asarray(self.modes, dtype=np.float64)

    @property
    def modes_y(self) -> np.ndarray:
        """Y's mode centres T(m_k), (K, 2), in X's mode order."""
        return self.modes_x @ self.a.T

    @property
    def sigma_y(self) -> float:
        """The largest std of a mode of Y along any direction: σ times T's largest singular value."""
        return self.sigma * float(np.linalg.norm(self.a, 2))

    @staticmethod
    def _spread(modes: np.ndarray, cov: np.ndarray) -> float:
        """sqrt(E‖v − E v‖²) of an equal-weight mixture with these centres and one covariance ``cov``."""
        return math.sqrt(float(((modes - modes.mean(0)) ** 2).sum(1).mean()) + float(np.trace(cov)))

    @property
    def spread_x(self) -> float:
        """X's spread, sqrt(E‖x − E x‖²), in the data's units (ring8: sqrt(1 + 2σ²) ≈ 1.0025)."""
        return self._spread(self.modes_x, self.sigma**2 * np.eye(2))

    @property
    def spread_y(self) -> float:
        """Y's spread, sqrt(E‖y − E y‖²) (covariance of a mode: σ² A Aᵀ)."""
        return self._spread(self.modes_y, self.sigma**2 * self.a @ self.a.T)

    @property
    def extent(self) -> float:
        """Half-width of a square view that holds both domains with a margin."""
        return float(max(np.abs(self.modes_x).max(), np.abs(self.modes_y).max())) * 1.35 + 6 * self.sigma_y

    def sample_x(self, n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> Tensor:
        """``n`` samples of X, (n, 2) float32."""
        modes = torch.tensor(self.modes, dtype=torch.float32, device=device)
        k = torch.randint(len(self.modes), (n,), generator=generator, device=device)
        noise = torch.randn(n, 2, generator=generator, device=device)
        return noise.mul_(self.sigma).add_(modes.index_select(0, k))

    def sample_y(self, n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> Tensor:
        """``n`` samples of Y = T(X) from draws of X independent of any batch of X (no pairs)."""
        return self.t(self.sample_x(n, generator, device))

    def t(self, x: Tensor) -> Tensor:
        """The true map T(x) = A x, for x of shape (n, 2)."""
        return x @ torch.tensor(self.a.T, dtype=x.dtype, device=x.device)

    def distance_to_t(self, x: Tensor, gx: Tensor) -> float:
        """mean ‖G(x) − T(x)‖₂ over the rows of ``x`` / Y's spread: 0 when G is T on these points."""
        return float((gx - self.t(x)).norm(dim=1).mean()) / self.spread_y

    def x_modes_of(self, x: np.ndarray | Tensor) -> np.ndarray:
        """The nearest X mode of each point (n,), int."""
        pts = np.asarray(x, dtype=np.float64).reshape(-1, 2)
        return np.linalg.norm(pts[:, None] - self.modes_x[None], axis=2).argmin(1)


def mode_mapping(x_modes: np.ndarray, gx: np.ndarray, modes_y: np.ndarray, radius: float) -> np.ndarray:
    """Which mode of X lands on which mode of Y: a (K, K + 1) matrix of shares.

    ``x_modes`` (n,): the X mode each input sits on (0..K−1); ``gx`` (n, 2): G of each input;
    ``modes_y`` (K, 2): Y's mode centres; ``radius``: a point lands on its nearest Y mode when it lies
    within ``radius`` of it (the app uses 3σ of Y's modes, as the toys' high-quality rule).
    Row i: the share of X mode i's inputs landing on Y mode j (column j), and in the last column the
    share landing on no mode (farther than ``radius`` from every one, or not finite). Each row with
    inputs sums to 1; a row without inputs is all 0.
    """
    x_modes = np.asarray(x_modes, dtype=np.int64)
    pts = np.asarray(gx, dtype=np.float64).reshape(-1, 2)
    centres = np.asarray(modes_y, dtype=np.float64).reshape(-1, 2)
    k = len(centres)
    dist = np.linalg.norm(pts[:, None] - centres[None], axis=2)
    dist = np.where(np.isfinite(dist), dist, np.inf)
    nearest = dist.argmin(1)
    lands = dist[np.arange(len(pts)), nearest] <= radius
    target = np.where(lands, nearest, k)
    counts = np.zeros((k, k + 1))
    np.add.at(counts, (x_modes, target), 1.0)
    totals = counts.sum(1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


@dataclass(frozen=True)
class Readout:
    """The numbers the page and the CLI report on a fixed set of inputs (see :func:`readout`)."""

    cycle_err_x: float  # mean ‖F(G(x)) − x‖₂ / X's spread
    cycle_err_y: float  # mean ‖G(F(y)) − y‖₂ / Y's spread
    dist_t: float  # mean ‖G(x) − T(x)‖₂ / Y's spread
    y_modes: int  # modes of Y that receive at least one G(x) (within 3σ_Y)
    t_match: float  # share of inputs x whose G(x) lands on T's mode (the one T sends x's mode to)
    mapping: np.ndarray  # mode_mapping's (K, K + 1) shares


def readout(pair: DomainPair, x: Tensor, gx: Tensor, fgx: Tensor, y: Tensor, gfy: Tensor) -> Readout:
    """Cycle errors, distance to T and the mode mapping on inputs ``x``, ``y`` (n, 2) and their
    translations G(x), F(G(x)), G(F(y)) (n, 2 each)."""
    mapping = mode_mapping(pair.x_modes_of(x), gx.numpy(), pair.modes_y, 3 * pair.sigma_y)
    counts = np.bincount(pair.x_modes_of(x), minlength=len(pair.modes)).astype(np.float64)
    landed = (mapping[:, :-1] * counts[:, None]).sum(0)  # inputs landing on each Y mode
    return Readout(
        cycle_err_x=float((fgx - x).norm(dim=1).mean()) / pair.spread_x,
        cycle_err_y=float((gfy - y).norm(dim=1).mean()) / pair.spread_y,
        dist_t=pair.distance_to_t(x, gx),
        y_modes=int((landed > 0).sum()),
        t_match=float((np.diag(mapping[:, :-1]) * counts).sum() / counts.sum()),
        mapping=mapping,
    )


PAIRS: dict[str, DomainPair] = {
    p.name: p
    for p in (
        DomainPair(
            "ring8-stretched",
            "cyclegan.ring8_stretched_title",
            tuple((float(math.cos(a)), float(math.sin(a))) for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)),
            0.05,
            tuple(map(tuple, (np.diag([1.25, 1.0]) @ _rotation(10.0)).tolist())),  # type: ignore[arg-type]
            "cyclegan.ring8_stretched_t",
        ),
    )
}
# ------------------------------------------------------------------ image pairs
def _split_halves(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of two disjoint halves of the data, stratified by class (scikit-learn's
    ``train_test_split``, ``test_size=0.5``, ``random_state=0``): X's and Y's source images."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(labels))
    a, b = train_test_split(idx, test_size=0.5, stratify=labels, random_state=0)
    return np.sort(a), np.sort(b)


@dataclass(frozen=True)
class ImagePair(_Described):
    """An image domain pair: X = the images of ``data`` (one half), Y = T of the other half, with T
    the inversion T(x) = −x of the data's [−1, 1] scale (its own inverse). Images are (n, 1, H, W)
    float32 in [−1, 1]; labels int64 (n,). ``data`` names the data set of :mod:`gan_demo.data` and
    its classifier of :mod:`gan_demo.metrics.classifier`."""

    name: str
    title_key: str  # the catalogue key of its title (gan_demo.content)
    data: str
    t_key: str  # the key of T in words, for the page
    kind = "images"

    @property
    def shape(self) -> tuple[int, int, int]:
        from gan_demo import data

        return data.image_shape(self.data)

    @staticmethod
    def t(x: Tensor) -> Tensor:
        """T(x) = −x: the inverted image (1 − x on a [0, 1] scale)."""
        return -x

    @staticmethod
    def t_inv(y: Tensor) -> Tensor:
        """T⁻¹(y) = −y (inversion is its own inverse)."""
        return -y

    def sample_x(self, n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> Tensor:
        """``n`` images of X drawn with replacement from X's half, (n, C, H, W)."""
        pool = self.halves()["x"]
        return pool[torch.randint(len(pool), (n,), generator=generator)].to(device)

    def sample_y(self, n: int, generator: torch.Generator | None = None, device: str | torch.device = "cpu") -> Tensor:
        """``n`` images of Y drawn with replacement from Y's half (T of the other half: no pairs)."""
        pool = self.halves()["y"]
        return pool[torch.randint(len(pool), (n,), generator=generator)].to(device)

    def halves(self) -> dict[str, Tensor]:
        """The two disjoint halves: ``x``, ``x_labels`` (X's training images, as they are) and ``y``,
        ``y_labels`` (Y's: T of the other half's images, with those images' labels)."""
        return _halves(self.data)

    def fixed(self) -> dict[str, Tensor]:
        """The fixed inputs of a run, every image of the data set once in each domain: ``x`` (X's half,
        then the other half's images as they are, which G never trains on as x), ``x_labels``; ``y``
        (Y's half, then T of X's half), ``y_labels``. (N, 1, H, W) and (N,)."""
        h = self.halves()
        return {"x": torch.cat([h["x"], self.t_inv(h["y"])]), "x_labels": torch.cat([h["x_labels"], h["y_labels"]]),
                "y": torch.cat([h["y"], self.t(h["x"])]), "y_labels": torch.cat([h["y_labels"], h["x_labels"]])}  # fmt: skip


@functools.lru_cache(maxsize=4)
def _halves(name: str) -> dict[str, Tensor]:
    from gan_demo import data

    images, labels = data.load_labelled(name)
    a, b = _split_halves(labels.numpy())
    return {"x": images[a].clone(), "x_labels": labels[a].clone(), "y": ImagePair.t(images[b]),
            "y_labels": labels[b].clone()}  # fmt: skip


def label_table(labels: np.ndarray, read: np.ndarray, k: int = 10) -> np.ndarray:
    """Which class of X becomes which class of Y: a (k, k) matrix, row i = inputs of class i, column
    j = the share of them whose translation the target domain's classifier reads as class j. Each
    row with inputs sums to 1; a row without inputs is all 0. The diagonal is label preservation."""
    labels, read = np.asarray(labels, dtype=np.int64), np.asarray(read, dtype=np.int64)
    counts = np.zeros((k, k))
    np.add.at(counts, (labels, read), 1.0)
    totals = counts.sum(1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)


@dataclass(frozen=True)
class ImageReadout:
    """The numbers the page and the CLI report for an image pair (see :func:`image_readout`)."""

    cycle_err_x: float  # mean |F(G(x)) − x| per pixel, in the data's [−1, 1] units
    cycle_err_y: float  # mean |G(F(y)) − y| per pixel
    dist_t: float  # mean |G(x) − T(x)| per pixel
    label_kept: float  # share of G(x) that Y's classifier reads as x's label
    label_kept_f: float  # share of F(y) that X's classifier reads as y's label
    y_classes: int  # classes of Y that Y's classifier reads in at least one G(x)
    table: np.ndarray  # label_table of G: (10, 10)


def classify(images: Tensor, data: str = "digits") -> np.ndarray:
    """The digits classifier's class (argmax) of each image (n, 1, H, W) in [−1, 1] of domain X; raises
    :class:`gan_demo.metrics.classifier.ClassifierUnavailable` when its weights cannot be loaded."""
    from gan_demo.metrics import classifier

    clf = classifier.cached(data)
    with torch.no_grad():
        return np.concatenate([clf.model(b.float()).argmax(1).numpy() for b in images.split(2048)])


def image_readout(pair: ImagePair, x: Tensor, x_labels: Tensor, gx: Tensor, fgx: Tensor, y: Tensor,
                  y_labels: Tensor, fy: Tensor, gfy: Tensor) -> ImageReadout:  # fmt: skip
    """Cycle errors, distance to T and label preservation on images x, y (n, 1, H, W) with their labels
    (n,) and translations G(x), F(G(x)), F(y), G(F(y)). Y's classifier is X's applied to T⁻¹(y): since
    T is a known bijection this is exactly a classifier of Y, with the same held-out accuracy."""
    read_g = classify(pair.t_inv(gx), pair.data)  # Y's classifier on G(x)
    read_f = classify(fy, pair.data)  # X's classifier on F(y)
    lx, ly = x_labels.numpy(), y_labels.numpy()
    return ImageReadout(
        cycle_err_x=float((fgx - x).abs().mean()), cycle_err_y=float((gfy - y).abs().mean()),
        dist_t=float((gx - pair.t(x)).abs().mean()), label_kept=float((read_g == lx).mean()),
        label_kept_f=float((read_f == ly).mean()), y_classes=int(len(np.unique(read_g))),
        table=label_table(lx, read_g),
    )  # fmt: skip


@functools.lru_cache(maxsize=4)
def _ceiling(name: str) -> float:
    pair = IMAGE_PAIRS[name]
    fixed = pair.fixed()
    return float((classify(fixed["x"], pair.data) == fixed["x_labels"].numpy()).mean())


def classifier_ceiling(pair: ImagePair) -> float:
    """The share of the fixed inputs x (every image of the data set) that the classifier reads right as
    they are: the label preservation of G = T exactly (Y's classifier reads T⁻¹(T(x)) = x), so the most
    any G can score on this readout. It trained on 75 % of these images (its held-out accuracy is in
    ``checkpoints/index.json``)."""
    return _ceiling(pair.name)


def heldout_accuracy(pair: ImagePair) -> float:
    """The classifier's accuracy on its held-out images (``checkpoints/index.json``), 0..1."""
    from gan_demo.metrics import classifier

    return float(classifier.cached(pair.data).entry["heldout_accuracy"])


IMAGE_PAIRS: dict[str, ImagePair] = {
    p.name: p
    for p in (
        ImagePair("digits-inverted", "cyclegan.digits_inverted_title", "digits", "cyclegan.digits_inverted_t"),
    )
}  # fmt: skip


NAMES: tuple[str, ...] = tuple(PAIRS) + tuple(IMAGE_PAIRS)
IMAGE_NAMES: tuple[str, ...] = tuple(IMAGE_PAIRS)


def get(name: str) -> DomainPair | ImagePair:
    """The domain pair called ``name`` (2-D or images); an unknown name raises ``ValueError`` listing
    the valid ones."""
    try:
        return PAIRS[name] if name in PAIRS else IMAGE_PAIRS[name]
    except KeyError:
        raise ValueError(Msg("cyclegan.unknown_pair", name=name, names=", ".join(NAMES))) from None
