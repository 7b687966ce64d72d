r"""The theory of the 1-D page: the optimal discriminator, JS, V(D*, G), W1, and G's density.

Two settings, each with its own integration:

- **Exact p_g** (Explore mode, :func:`compare`): both densities are known in closed form, so JS,
  V(D*, G) and W1 are integrals computed by ``scipy.integrate.quad_vec`` (adaptive Gauss-Kronrod)
  over the union of both supports, with breakpoints at every Gaussian's μ + kσ and at a uniform's
  edges; the integrands work in log densities (``np.logaddexp``), so a density that underflows
  where the other is 0 gives 0, never inf.
- **G's samples** (Train mode, :func:`sample_fit`): p_g is a Gaussian KDE with a fixed bandwidth
  (:func:`js_bandwidth`); JS and V(D*, G) are integrated on a fine grid over p_data's support
  and the KDE's mass outside it is counted in closed form, so a G that runs off to x = 2.5e4
  still reads JS = ln 2. W1 is exact for the samples' empirical CDF (:func:`w1_to_samples`).

The grid functions (:func:`js_divergence`, :func:`v_star`, :func:`w1_from_cdfs`) integrate densities
sampled on a grid ``x`` by the trapezoid rule (``np.trapezoid``). Logarithms are natural, so
:math:`0 \le JS \le \ln 2`.

For a fixed G, the BCE objective :math:`V(D,G)=\int p_{data}\log D + p_g\log(1-D)\,dx` is maximised
pointwise by :math:`D^*=p_{data}/(p_{data}+p_g)`, and then
:math:`V(D^*,G) = -\log 4 + 2\,JS(p_{data}\,\|\,p_g)` (Goodfellow et al. 2014, Theorem 1).
This module computes both sides independently (two integrands) so that a test and the page can show
they agree.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import integrate, special

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
    half = min(len(x) - 1, int(math.ceil(8 * h / dx)))  # the kernel's mass beyond 8h: 1e-15
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


# ---------------------------------------------------------------- divergences and values (on a grid)
def _xlogy_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·log(a/b) with 0·log(0/b) = 0, computed as a·(log a − log b): a denormal ``a`` over a ``b``
    that rounds to 0 cannot give inf (callers pass b ≥ a/2 mathematically)."""
    out = np.zeros_like(a)
    mask = a > 0
    with np.errstate(divide="ignore"):
        out[mask] = a[mask] * (np.log(a[mask]) - np.log(b[mask]))
    return np.where(np.isfinite(out), out, 0.0)


def js_divergence(p: np.ndarray, q: np.ndarray, x: np.ndarray) -> float:
    r""":math:`JS(p\|q)=\tfrac12 KL(p\|m)+\tfrac12 KL(q\|m)`, :math:`m=(p+q)/2`, by the trapezoid rule
    (natural log, so :math:`0\le JS\le\ln2`; ln 2 when the supports do not overlap).

    Only the mass on the grid counts: for densities whose mass runs past ``x`` use :func:`compare`
    (exact densities) or :func:`sample_fit` (G's samples)."""
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
    r"""Wasserstein-1 in 1-D: :math:`W_1=\int|F_1(x)-F_2(x)|\,dx` (trapezoid rule over ``x`` only)."""
    return float(np.trapezoid(np.abs(np.asarray(F1, dtype=np.float64) - np.asarray(F2, dtype=np.float64)), x))


# ---------------------------------------------------------------- exact densities, in logs
TAIL_SIGMAS = 12.0  # a Gaussian's mass beyond 12σ is 1.8e-33: below every figure the page shows


def _components(dist: toys.Toy1D) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.asarray(v, dtype=np.float64) for v in (dist.weights, dist.means, dist.stds))  # type: ignore[return-value]


def logpdf(dist: toys.Toy1D, x: np.ndarray | float) -> np.ndarray:
    """log p(x) of a 1-D toy (mixture of Gaussians or uniform), -inf where p = 0; any shape of x."""
    x = np.asarray(x, dtype=np.float64)
    if dist.uniform is not None:
        low, high = dist.uniform
        return np.where((x >= low) & (x <= high), -math.log(high - low), -np.inf)
    w, m, s = _components(dist)
    z = (x[..., None] - m) / s
    terms = np.log(w) - np.log(s) - 0.5 * math.log(2 * math.pi) - 0.5 * z * z  # finite for finite x
    top = terms.max(axis=-1)
    return top + np.log(np.exp(terms - top[..., None]).sum(axis=-1))  # log-sum-exp


def cdf(dist: toys.Toy1D, x: np.ndarray | float) -> np.ndarray:
    """F(x) of a 1-D toy, float64 (``scipy.special.ndtr`` per Gaussian component); any shape of x."""
    x = np.asarray(x, dtype=np.float64)
    if dist.uniform is not None:
        low, high = dist.uniform
        return np.clip((x - low) / (high - low), 0.0, 1.0)
    w, m, s = _components(dist)
    return (w * special.ndtr((x[..., None] - m) / s)).sum(axis=-1)


def mass_range(dist: toys.Toy1D) -> tuple[float, float]:
    """Where the distribution's mass is: a uniform's [low, high]; a mixture's [min μ − 12σ, max μ + 12σ]
    (outside it the mass is below 1e-32)."""
    if dist.uniform is not None:
        return float(dist.uniform[0]), float(dist.uniform[1])
    _, m, s = _components(dist)
    return float((m - TAIL_SIGMAS * s).min()), float((m + TAIL_SIGMAS * s).max())


def breakpoints(*dists: toys.Toy1D) -> np.ndarray:
    """Sorted points where the integrands change fast: each Gaussian's μ + kσ (k = 0, ±1, ±2, ±3, ±4,
    ±6, ±8, ±12) and each uniform's edges and quarter points."""
    pts: list[np.ndarray] = []
    ks = np.array([0.0, 1, 2, 3, 4, 6, 8, 12])
    ks = np.concatenate([-ks[:0:-1], ks])
    for d in dists:
        if d.uniform is not None:
            pts.append(np.linspace(d.uniform[0], d.uniform[1], 5))
        else:
            _, m, s = _components(d)
            pts.append((m[:, None] + s[:, None] * ks).ravel())
    return np.unique(np.concatenate(pts))


def _js_v_integrands(lp: np.ndarray, lq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The integrands of JS and of V(D*, G) from log densities, each written out on its own:
    :math:`\tfrac12[p\log\frac{p}{m}+q\log\frac{q}{m}]` and :math:`p\log\frac{p}{p+q}+q\log\frac{q}{p+q}`,
    with log(p+q) = logaddexp(log p, log q) and 0·log 0 = 0."""
    p, q = np.exp(lp), np.exp(lq)
    log_sum = np.logaddexp(lp, lq)  # log(p + q); -inf only where both are 0
    log_m = log_sum - LN2
    with np.errstate(invalid="ignore"):
        tp_m, tq_m = np.where(p > 0, p * (lp - log_m), 0.0), np.where(q > 0, q * (lq - log_m), 0.0)
        tp_s, tq_s = np.where(p > 0, p * (lp - log_sum), 0.0), np.where(q > 0, q * (lq - log_sum), 0.0)
    return 0.5 * (tp_m + tq_m), tp_s + tq_s


@dataclass(frozen=True)
class Divergences:
    """JS(p_data‖p_g) in nats, V(D*, G) computed from D*, −log 4 + 2·JS computed from JS, and W1."""

    js: float
    v_star: float
    v_from_js: float
    w1: float


def exact_divergences(data: toys.Toy1D, gen: toys.Toy1D) -> Divergences:
    r"""JS, V(D*, G) and W1 between two exact densities, wherever their mass is.

    One adaptive quadrature (``scipy.integrate.quad_vec``, absolute tolerance 1e-11) of three
    integrands over the union of both :func:`mass_range`\ s, with :func:`breakpoints`: the JS and the
    V(D*, G) integrands of :func:`_js_v_integrands`, and :math:`|F_{data}-F_g|` (W1). Beyond that
    union both densities are below 1e-32 and both CDFs are 0 or 1, so nothing is left out.
    """
    (a0, b0), (a1, b1) = mass_range(data), mass_range(gen)
    lo, hi = min(a0, a1), max(b0, b1)
    pts = breakpoints(data, gen)
    pts = pts[(pts > lo) & (pts < hi)]

    def integrands(x: float) -> np.ndarray:
        js, v = _js_v_integrands(logpdf(data, x), logpdf(gen, x))
        return np.array([js, v, abs(float(cdf(data, x)) - float(cdf(gen, x)))])

    res, _err = integrate.quad_vec(integrands, lo, hi, points=pts, epsabs=1e-11, epsrel=1e-10, norm="max")
    js, v, w1 = (float(r) for r in res)
    return Divergences(js, v, v_star_from_js(js), w1)


# ---------------------------------------------------------------- G's samples: KDE, JS floor, exact W1
KDE_GRID_STEPS_PER_H = 8  # the JS grid's step is at most h/8 (and σ_min/8 of p_data)


def js_bandwidth(data: toys.Toy1D, n: int) -> float:
    r"""The KDE bandwidth behind JS and D* in Train mode, fixed by p_data and the sample size n.

    - Mixtures of Gaussians: the normal-reference rule :math:`h = 1.06\,\sigma_{min}\,n^{-1/5}`
      (Silverman 1986, eq. 3.28) applied to p_data's **narrowest** component, σ_min
      (mix2 and mix3: σ 0.5, h = 0.111 at n = 2,500; N(0, 1): h = 0.222).
    - A uniform on [a, b]: :math:`h = rac{b-a}{\sqrt{12}}\,n^{-1/2}` (0.023 on [−2, 2] at
      n = 2,500). Its error comes from the two jumps, where smoothing costs O(h) rather than
      O(h⁴), against a variance O(1/(nh)): the best h falls like :math:`n^{-1/2}`, not :math:`n^{-1/5}`.

    Why not Scott's rule on G's samples (the earlier choice): it takes their overall spread (3.04 on
    mix2: h = 0.64 at n = 2,500), wider than the bumps themselves, and a perfect G then reads
    JS ≈ 0.05. A bandwidth fixed by p_data also keeps the JS curve one estimator over the whole run.
    What it leaves for a perfect G is measured by :func:`perfect_g_floor` (docs/onedim.md).
    Raises ``ValueError`` for n < 1.
    """
    if n < 1:
        raise ValueError(f"js_bandwidth needs n >= 1 samples, got {n}")
    if data.uniform is not None:
        return (data.uniform[1] - data.uniform[0]) / math.sqrt(12.0) * n ** (-0.5)
    return 1.06 * float(min(data.stds)) * n ** (-0.2)


def w1_to_samples(data: toys.Toy1D, samples: np.ndarray) -> float:
    r"""W1 between p_data and the empirical distribution of ``samples`` (shape (n,), finite):
    :math:`\int|F_{data}(x)-F_n(x)|\,dx` over the whole line.

    Outside p_data's :func:`mass_range` [lo, hi], F_data is 0 (or 1) and the integral is exact:
    :math:`\frac1n\sum_{s_i<lo}(lo-s_i)+\frac1n\sum_{s_i>hi}(s_i-hi)`. Inside, on the nodes of a
    20,001-point grid merged with the samples, F_n is constant on each piece and the trapezoid rule
    integrates |F_data − F_n| there (error O(step²)).
    """
    s = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    if len(s) == 0 or not np.isfinite(s).all():
        raise ValueError("w1_to_samples needs at least one sample, all finite")
    lo, hi = mass_range(data)
    n = len(s)
    tails = (float((lo - s[s < lo]).sum()) + float((s[s > hi] - hi).sum())) / n
    x = np.union1d(np.linspace(lo, hi, 20001), s[(s >= lo) & (s <= hi)])
    F_n = np.searchsorted(s, x[:-1], side="right") / n  # F_n on [x_j, x_{j+1})
    F = cdf(data, x)
    inner = 0.5 * (np.abs(F[:-1] - F_n) + np.abs(F[1:] - F_n)) * np.diff(x)
    return tails + float(inner.sum())


@dataclass(frozen=True)
class SampleFit:
    """p_data against G's samples: the numbers of the Train mode (see :func:`sample_fit`)."""

    js: float  # JS(p_data ‖ KDE of the samples), nats
    v_star: float  # V(D*, G) with that KDE, from the D* integrand
    v_from_js: float  # −log 4 + 2·JS
    w1: float  # exact W1 to the samples' empirical distribution
    bandwidth: float  # the KDE's h
    outside: float  # share of the KDE's mass outside p_data's mass_range (counted in JS as ½·ln 2 each)


def sample_fit(data: toys.Toy1D, samples: np.ndarray, bandwidth: float | None = None) -> SampleFit:
    r"""JS, V(D*, G) and W1 between p_data (exact) and G's ``samples`` (shape (n,), finite), with p_g a
    Gaussian KDE of bandwidth ``bandwidth`` (default :func:`js_bandwidth`).

    Inside p_data's :func:`mass_range` [lo, hi] the two integrands of :func:`_js_v_integrands` are
    integrated by the trapezoid rule on a grid of step ≤ h/8 whose ends are lo and hi exactly (a
    uniform's edges). Outside, p_data is 0 (below 1e-32): there the KDE's mass
    :math:`Q_{out}=1-\frac1n\sum_i[\Phi(\frac{hi-s_i}h)-\Phi(\frac{lo-s_i}h)]` adds
    :math:`\tfrac12\ln2\cdot Q_{out}` to JS and 0 to V(D*, G), however far the samples are.
    Raises ``ValueError`` for an empty or non-finite sample.
    """
    s = np.asarray(samples, dtype=np.float64).ravel()
    if len(s) == 0 or not np.isfinite(s).all():
        raise ValueError("sample_fit needs at least one sample, all finite (a diverged G has none)")
    h = float(bandwidth) if bandwidth is not None else js_bandwidth(data, len(s))
    if not h > 0:
        raise ValueError(f"bandwidth must be > 0, got {h}")
    lo, hi = mass_range(data)
    step = h / KDE_GRID_STEPS_PER_H
    if data.uniform is None:
        step = min(step, float(min(data.stds)) / KDE_GRID_STEPS_PER_H)
    m = min(200_001, int(math.ceil((hi - lo) / step)) + 1)
    dx = (hi - lo) / (m - 1)
    pad = int(math.ceil(10 * h / dx))  # samples within 10h outside [lo, hi] still put mass inside
    wide = lo + dx * np.arange(-pad, m + pad)
    q = _binned_kde(s, wide, h, dx)[pad : pad + m]  # linear binning: the kernel's variance grows by dx²/6 = h²/384
    x = wide[pad : pad + m].copy()
    x[0], x[-1] = lo, hi  # a uniform's edges are nodes exactly
    with np.errstate(divide="ignore"):
        js_i, v_i = _js_v_integrands(logpdf(data, x), np.log(q))
    q_out = max(0.0, 1.0 - float(np.mean(special.ndtr((hi - s) / h) - special.ndtr((lo - s) / h))))
    js = float(np.trapezoid(js_i, x)) + 0.5 * LN2 * q_out
    v = float(np.trapezoid(v_i, x))
    return SampleFit(js, v, v_star_from_js(js), w1_to_samples(data, s), h, q_out)


FLOOR_SEEDS = 20  # seeded draws behind perfect_g_floor (the 1-D page's caption names this number)


@functools.lru_cache(maxsize=64)
def perfect_g_floor(data: toys.Toy1D, n: int, bandwidth: float | None = None, seeds: int = FLOOR_SEEDS) -> tuple[float, float]:
    """What :func:`sample_fit` reads for a perfect G: JS between p_data and the KDE of ``n`` samples of
    p_data itself, over ``seeds`` seeded draws (torch generator seeds 0..seeds-1, float32 samples like
    G's). Returns (mean, standard deviation) in nats; cached per (toy, n, bandwidth, seeds)."""
    values = [sample_fit(data, data.sample(n, torch.Generator().manual_seed(seed)).numpy().ravel(), bandwidth).js
              for seed in range(seeds)]  # fmt: skip
    return float(np.mean(values)), float(np.std(values))


# ---------------------------------------------------------------- one comparison, for the page
@dataclass(frozen=True)
class Comparison:
    """p_data against an exact p_g: curves on a plotting grid, and every number the 1-D page shows
    (from :func:`exact_divergences`, not from the grid)."""

    x: np.ndarray
    p_data: np.ndarray
    p_g: np.ndarray
    F_data: np.ndarray
    F_g: np.ndarray
    js: float  # JS(p_data || p_g), nats
    v_star: float  # V(D*, G), computed from D*
    v_from_js: float  # -log 4 + 2 JS, computed from JS: equal to v_star (Theorem 1)
    w1: float  # ∫|F_data - F_g| dx over the whole line

    @property
    def d_star(self) -> np.ndarray:
        return d_star(self.p_data, self.p_g)


def compare(data: toys.Toy1D, gen: toys.Toy1D, n: int = 4001) -> Comparison:
    """Both exact densities and CDFs on an ``n``-point grid covering both (for the chart), and JS,
    V(D*, G), −log 4 + 2·JS and W1 by :func:`exact_divergences`."""
    x = covering_grid(data, gen, n=n)
    div = exact_divergences(data, gen)
    return Comparison(x, data.pdf(x), gen.pdf(x), cdf(data, x), cdf(gen, x), div.js, div.v_star, div.v_from_js, div.w1)
