r"""The theory of the 1-D page on a grid: the optimal discriminator, JS, V(D*, G), W1 and a KDE.

Every function is a pure numpy function of densities (or CDFs) sampled on a grid ``x``; integrals
are trapezoidal sums (``np.trapezoid``). Logarithms are natural, so :math:`0 \le JS \le \ln 2`.

For a fixed G, the BCE objective :math:`V(D,G)=\int p_{data}\log D + p_g\log(1-D)\,dx` is maximised
pointwise by :math:`D^*=p_{data}/(p_{data}+p_g)`, and then
:math:`V(D^*,G) = -\log 4 + 2\,JS(p_{data}\,\|\,p_g)` (Goodfellow et al. 2014, Theorem 1).
This module computes both sides independently so that a test (and the page) can show they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gan_demo import toys

LOG4 = math.log(4.0)
LN2 = math.log(2.0)
_ArrayLike = np.ndarray | list[float]


# ---------------------------------------------------------------- grids and densities
def grid(low: float, high: float, n: int = 4001) -> np.ndarray:
    """``n`` evenly spaced points on [low, high] (both ends included), float64."""
    if not high > low or n < 2:
        raise ValueError(f"grid needs high > low and n >= 2, got [{low}, {high}] with n={n}")
    return np.linspace(low, high, n, dtype=np.float64)


def covering_grid(*dists: toys.Toy1D, n: int = 4001, extra: tuple[float, float] | None = None) -> np.ndarray:
    """A grid over the union of the distributions' supports (and of ``extra``, a (low, high) range)."""
    lows = [d.support[0] for d in dists] + ([extra[0]] if extra else [])
    highs = [d.support[1] for d in dists] + ([extra[1]] if extra else [])
    return grid(min(lows), max(highs), n)


def mixture(means: _ArrayLike, stds: _ArrayLike, weights: _ArrayLike | None = None, name: str = "p_g") -> toys.Toy1D:
    r"""A Gaussian mixture :math:`p(x)=\sum_k w_k\,\mathcal N(x;\mu_k,\sigma_k^2)` (weights normalised
    to sum to 1; equal weights when ``None``), with an exact ``pdf`` and ``cdf`` (a :class:`toys.Toy1D`).

    The 1-D page builds p_g from its sliders with this: one component is a Gaussian.
    """
    means = [float(m) for m in means]
    stds = [float(s) for s in stds]
    w = np.ones(len(means)) if weights is None else np.asarray(weights, dtype=np.float64)
    if len(means) == 0 or len(stds) != len(means) or len(w) != len(means):
        raise ValueError("mixture needs as many means, stds and weights, at least one")
    if min(stds) <= 0 or (w < 0).any() or w.sum() <= 0:
        raise ValueError(f"stds must be > 0 and weights >= 0 with a positive sum; got {stds}, {w.tolist()}")
    w = w / w.sum()
    keep = w > 0
    title = " + ".join(f"{wk:.2f}·N({m:g}, {s:g}²)" for wk, m, s, k in zip(w, means, stds, keep, strict=True) if k)
    return toys.Toy1D(
        name,
        title,
        tuple(float(v) for v in w[keep]),
        tuple(m for m, k in zip(means, keep, strict=True) if k),
        tuple(s for s, k in zip(stds, keep, strict=True) if k),
    )


def _scott(samples: np.ndarray) -> float:
    return float(samples.std(ddof=1)) * len(samples) ** (-1 / 5)


def _silverman(samples: np.ndarray) -> float:
    q75, q25 = np.percentile(samples, [75, 25])
    spread = min(float(samples.std(ddof=1)), float(q75 - q25) / 1.34) or float(samples.std(ddof=1))
    return 0.9 * spread * len(samples) ** (-1 / 5)


def kde_bandwidth(samples: np.ndarray, rule: str = "scott") -> float:
    r"""Gaussian-KDE bandwidth. Scott: :math:`h=\hat\sigma n^{-1/5}`; Silverman:
    :math:`h=0.9\min(\hat\sigma, \mathrm{IQR}/1.34)\,n^{-1/5}`. Never below 1e-3 (a collapsed G)."""
    samples = np.asarray(samples, dtype=np.float64).ravel()
    if len(samples) < 2:
        return 1.0
    h = _silverman(samples) if rule == "silverman" else _scott(samples) if rule == "scott" else None
    if h is None:
        raise ValueError(f"unknown bandwidth rule {rule!r}; choose 'scott' or 'silverman'")
    return max(h, 1e-3)


def kde(samples: np.ndarray, x: np.ndarray, bandwidth: float | str | None = None) -> np.ndarray:
    r"""Gaussian kernel density estimate on ``x``: :math:`\hat p(x)=\frac1{nh}\sum_i\varphi((x-x_i)/h)`.

    ``bandwidth``: a number, ``"scott"`` (the default, also for ``None``) or ``"silverman"``.
    On an evenly spaced grid with many samples the sum is computed by linear binning of the samples
    onto the grid and one convolution with the kernel (normalised to integrate to 1 on the grid, so
    a collapsed G with h below the grid step still has mass 1); otherwise directly, in chunks.
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64)
    h = float(bandwidth) if isinstance(bandwidth, (int, float)) else kde_bandwidth(s, bandwidth or "scott")
    if x.ndim == 1 and len(x) >= 3 and len(s) * len(x) > 200_000:
        step = np.diff(x)
        if np.allclose(step, step[0], rtol=1e-6, atol=0.0) and step[0] > 0:
            return _binned_kde(s, x, h, float(step[0]))
    out = np.zeros(x.shape, dtype=np.float64)
    flat, xs = out.reshape(-1), x.reshape(-1)
    chunk = max(1, 1_000_000 // max(1, len(s)))
    norm = 1.0 / (len(s) * h * math.sqrt(2 * math.pi))
    for start in range(0, len(xs), chunk):
        u = (xs[start : start + chunk, None] - s[None, :]) / h
        flat[start : start + chunk] = np.exp(-0.5 * u * u).sum(axis=1) * norm
    return out


def _binned_kde(s: np.ndarray, x: np.ndarray, h: float, dx: float) -> np.ndarray:
    pos = (s - x[0]) / dx
    inside = (pos >= 0) & (pos <= len(x) - 1)
    pos = pos[inside]
    left = np.minimum(np.floor(pos).astype(np.int64), len(x) - 2)
    frac = pos - left
    counts = np.bincount(left, 1.0 - frac, minlength=len(x)) + np.bincount(left + 1, frac, minlength=len(x))
    half = min(len(x) - 1, int(math.ceil(5 * h / dx)))
    offsets = np.arange(-half, half + 1) * dx
    kernel = np.exp(-0.5 * (offsets / h) ** 2)
    kernel /= kernel.sum() * dx
    full = np.convolve(counts, kernel)  # length len(x) + 2*half; the grid's values are the middle
    return full[half : half + len(x)] / max(1, len(s))


def histogram_density(samples: np.ndarray, x: np.ndarray, bins: int = 60) -> np.ndarray:
    """A histogram density (``np.histogram(density=True)`` over x's range) read off at each x."""
    s = np.asarray(samples, dtype=np.float64).ravel()
    x = np.asarray(x, dtype=np.float64)
    heights, edges = np.histogram(s, bins=bins, range=(float(x.min()), float(x.max())))
    heights = heights / max(1, len(s)) / np.diff(edges)  # samples outside x's range still count in n
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
    return heights[idx]


def empirical_cdf(samples: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The empirical CDF F_n(x) = #{x_i <= x} / n."""
    s = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    return np.searchsorted(s, np.asarray(x, dtype=np.float64), side="right") / max(1, len(s))


# ---------------------------------------------------------------- optimal discriminators
def d_star(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    r"""The optimal BCE discriminator :math:`D^*(x)=p_{data}(x)/(p_{data}(x)+p_g(x))`.

    Where both densities are 0 the value does not matter to V; we return 0.5 there.
    LSGAN with targets a=0 (fake), b=1 (real) has the same optimum:
    :math:`D^*=(b\,p_{data}+a\,p_g)/(p_{data}+p_g)`.
    """
    p, q = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    total = p + q
    return np.divide(p, total, out=np.full_like(total, 0.5), where=total > 0)


lsgan_d_star = d_star


def hinge_d_star(p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    r"""The optimal hinge discriminator :math:`D^*(x)=\operatorname{sign}(p_{data}(x)-p_g(x))`.

    Pointwise, :math:`p\max(0,1-d)+q\max(0,1+d)` is linear in d on [-1, 1] with slope q-p, so it is
    minimised at d=+1 where p>q and d=-1 where p<q (any d in [-1, 1] where p=q: we return 0).
    """
    return np.sign(np.asarray(p_data, dtype=np.float64) - np.asarray(p_g, dtype=np.float64))


def optimal_critic_slope(F_data: np.ndarray, F_g: np.ndarray) -> np.ndarray:
    r"""The slope of an optimal 1-Lipschitz WGAN critic in 1-D: :math:`f'(x)=\operatorname{sign}(F_g(x)-F_{data}(x))`.

    Integrating by parts, :math:`\mathbb E_{data}f-\mathbb E_g f=\int f'(x)\,(F_g(x)-F_{data}(x))\,dx`,
    which with :math:`|f'|\le1` is largest when f' is that sign; its value is then W1.
    """
    return np.sign(np.asarray(F_g, dtype=np.float64) - np.asarray(F_data, dtype=np.float64))


def optimal_critic(F_data: np.ndarray, F_g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """An optimal critic f(x) = ∫ slope dx (cumulative trapezoid), shifted to mean 0 on the grid
    (a critic is defined up to a constant)."""
    slope = optimal_critic_slope(F_data, F_g)
    f = np.concatenate([[0.0], np.cumsum(0.5 * (slope[1:] + slope[:-1]) * np.diff(x))])
    return f - f.mean()


def optimal_d(family: str, p_data: np.ndarray, p_g: np.ndarray) -> np.ndarray:
    """D* of a loss family ("bce", "lsgan", "hinge") on the scale D's output is read on."""
    if family in ("bce", "lsgan"):
        return d_star(p_data, p_g)
    if family == "hinge":
        return hinge_d_star(p_data, p_g)
    raise ValueError(f"no pointwise D* for family {family!r}; WGAN's critic is optimal_critic(F_data, F_g, x)")


# ---------------------------------------------------------------- divergences and values
def _xlogy_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·log(a/b) with 0·log(0/b) = 0."""
    out = np.zeros_like(a)
    mask = a > 0
    out[mask] = a[mask] * np.log(a[mask] / b[mask])
    return out


def js_divergence(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    r""":math:`JS(p\|q)=\tfrac12 KL(p\|m)+\tfrac12 KL(q\|m)`, :math:`m=(p+q)/2`, by the trapezoid rule
    (natural log, so :math:`0\le JS\le\ln2`; ln 2 when the supports do not overlap)."""
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = 0.5 * (p + q)
    integrand = 0.5 * (_xlogy_ratio(p, m) + _xlogy_ratio(q, m))
    return float(np.trapezoid(integrand, x))


def v_of_d(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    r""":math:`V(D,G)=\int p_{data}(x)\log D(x)+p_g(x)\log(1-D(x))\,dx`, with 0·log 0 = 0
    (a D of exactly 0 where p_data > 0 gives -inf, as it should)."""
    d = np.asarray(d, dtype=np.float64)
    p, q = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    with np.errstate(divide="ignore"):
        real = np.where(p > 0, p * np.log(np.where(p > 0, d, 1.0)), 0.0)
        fake = np.where(q > 0, q * np.log(np.where(q > 0, 1.0 - d, 1.0)), 0.0)
    return float(np.trapezoid(real + fake, x))


def v_star(p_data: np.ndarray, p_g: np.ndarray, x: np.ndarray) -> float:
    r"""V(D*, G): V at the optimal :math:`D^*=p_{data}/(p_{data}+p_g)`, written out as
    :math:`\int p_{data}\log\frac{p_{data}}{p_{data}+p_g}+p_g\log\frac{p_g}{p_{data}+p_g}\,dx`
    so that a D* that rounds to 0 or 1 where the other density is tiny cannot give log 0."""
    p, q = np.asarray(p_data, dtype=np.float64), np.asarray(p_g, dtype=np.float64)
    total = p + q
    return float(np.trapezoid(_xlogy_ratio(p, total) + _xlogy_ratio(q, total), x))


def v_star_from_js(js: float) -> float:
    r"""The right side of Theorem 1: :math:`-\log 4 + 2\,JS`."""
    return -LOG4 + 2.0 * js


def w1_from_cdfs(F1: np.ndarray, F2: np.ndarray, x: np.ndarray) -> float:
    r"""Wasserstein-1 in 1-D: :math:`W_1=\int|F_1(x)-F_2(x)|\,dx` (trapezoid rule)."""
    return float(np.trapezoid(np.abs(np.asarray(F1, dtype=np.float64) - np.asarray(F2, dtype=np.float64)), x))


# ---------------------------------------------------------------- one comparison, for the page
@dataclass(frozen=True)
class Comparison:
    """p_data against p_g on one grid: the densities, CDFs and every number the 1-D page shows."""

    x: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    F_data: np.ndarray
    F_g: np.ndarray
    js: float  # JS(p_data || p_g), nats
    v_star: float  # V(D*, G), computed from D*
    v_from_js: float  # -log 4 + 2 JS, computed from JS: equal to v_star (Theorem 1)
    w1: float  # ∫|F_data - F_g| dx

    @property
    def d_star(self) -> np.ndarray:
        return d_star(self.p_data, self.p_g)


def compare(data: toys.Toy1D, gen: toys.Toy1D, n: int = 4001) -> Comparison:
    """Evaluate both exact densities on a grid covering both, and every quantity of the page."""
    x = covering_grid(data, gen, n=n)
    p, q = data.pdf(x), gen.pdf(x)
    F, G = data.cdf(x), gen.cdf(x)
    js = js_divergence(p, q, x)
    return Comparison(x, p, q, F, G, js, v_star(p, q, x), v_star_from_js(js), w1_from_cdfs(F, G, x))
