"""What the toy pages draw: D on a grid, G's gradient field, the snapshot extras a background run
stores for the 1-D and the 2-D page, and the Plotly figures made from them.

The snapshot functions run in the worker thread (``live.Run(snapshot_fn=...)``) and return plain
numpy arrays and numbers (float32 for the big arrays), never touching the UI. The figure functions
are pure (data in, ``go.Figure`` out) but for their text: titles, legends and axis labels are
rendered with :func:`gan_demo.content.t` in the current language, so call them in the Streamlit
script thread (``ui.cached_figure`` keeps one figure per language). Each takes a ``uirevision``
that the page keeps constant, so a zoom survives the redraws.
"""

from __future__ import annotations

import functools

import numpy as np
import plotly.graph_objects as go
import torch
from scipy import optimize
from scipy.spatial import distance
from torch import Tensor

from gan_demo import onedim, toys
from gan_demo.content import Msg, t
from gan_demo.train import GanTrainer

N_KDE = 2500  # G samples behind the 1-D density estimate (the run's fixed noise)
N_POINTS_2D = 500  # fake points (and arrows) kept per 2-D snapshot
HEATMAP_N = 80  # heatmap resolution per axis
GRID_1D = 1001  # points of the 1-D snapshot grid
MAX_SPAN_1D = 30.0  # the 1-D plotting grid stops at ±this even if G's samples run away (the numbers do not)

Extent = float | tuple[float, float, float, float]


def _bounds(extent: Extent) -> tuple[float, float, float, float]:
    if isinstance(extent, (int, float)):
        e = float(extent)
        return -e, e, -e, e
    x0, x1, y0, y1 = (float(v) for v in extent)
    return x0, x1, y0, y1


def d_heatmap(trainer: GanTrainer, extent: Extent, n: int = HEATMAP_N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """D's output on an n×n grid over ``extent`` (a half-width, or (x0, x1, y0, y1)).

    Returns ``(xs, ys, values)`` with ``values[i, j]`` = D((xs[j], ys[i])) (rows are y, as
    ``go.Heatmap(z=values, x=xs, y=ys)`` expects); σ(logit) for the BCE losses, raw otherwise.
    """
    x0, x1, y0, y1 = _bounds(extent)
    xs = np.linspace(x0, x1, n, dtype=np.float32)
    ys = np.linspace(y0, y1, n, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)  # gx[i, j] = xs[j], gy[i, j] = ys[i]
    pts = torch.from_numpy(np.stack([gx.ravel(), gy.ravel()], axis=1))
    values = trainer.d_values(pts).numpy().reshape(n, n)
    return xs, ys, values


def g_field(trainer: GanTrainer, points: np.ndarray | Tensor, normalize: bool = True) -> np.ndarray:
    r"""The direction in which G's loss moves each fake point: :math:`-\nabla_x L_G(D(x))`, per point.

    :math:`L_G` is the run's generator loss on logits (a batch mean, so the gradient of the loss of
    one point is N times its share of the mean's gradient). With ``pack`` > 1, each point is packed
    with copies of itself, as in ``Trainer.d_values``. ``normalize`` makes each arrow a unit vector
    (zero arrows stay zero); otherwise the raw gradient is returned. Shape (N, dim), float32.
    """
    x = torch.as_tensor(np.asarray(points) if not isinstance(points, Tensor) else points)
    x = x.detach().to(trainer.device, torch.float32).clone().requires_grad_(True)
    n = x.shape[0]
    was_frozen = [p.requires_grad for p in trainer.D.parameters()]
    trainer.D.requires_grad_(False)
    try:
        with torch.enable_grad():
            logits = trainer.D(x.repeat_interleave(trainer.config.pack, 0))
            loss = trainer.loss.g_loss(logits) * n
            (grad,) = torch.autograd.grad(loss, x)
    finally:
        for p, flag in zip(trainer.D.parameters(), was_frozen, strict=True):
            p.requires_grad_(flag)
    field = -grad.detach().cpu()
    if normalize:
        norms = field.norm(dim=1, keepdim=True)
        field = torch.where(norms > 0, field / norms.clamp_min(1e-30), torch.zeros_like(field))
    return field.numpy().astype(np.float32)


def arrow_segments(points: np.ndarray, field: np.ndarray, length: float, max_arrows: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """One scatter trace's x and y for ``max_arrows`` arrows: segments from each point along its
    field vector, scaled so the longest is ``length``, separated by NaN (Plotly breaks the line
    there; numpy arrays validate much faster than lists with None). The relative lengths are kept:
    short arrows mean a weak gradient."""
    pts = np.asarray(points, dtype=np.float64)[:max_arrows]
    vec = np.asarray(field, dtype=np.float64)[:max_arrows]
    top = float(np.linalg.norm(vec, axis=1).max()) if len(vec) else 0.0
    ends = pts + vec * (length / top if top > 0 else 0.0)
    segs = np.stack([pts, ends, np.full_like(pts, np.nan)], axis=1)  # (n, 3, 2): start, end, gap
    return segs[:, :, 0].ravel(), segs[:, :, 1].ravel()


# ---------------------------------------------------------------- snapshots for background runs
def snapshot_1d(trainer: GanTrainer) -> dict:
    """Extras for the 1-D page, from G's 2,500 fixed-noise samples.

    Numbers (see :func:`onedim.sample_fit`; NaN when a sample is not finite, with ``n_nonfinite``
    saying how many): ``js`` (p_g a Gaussian KDE of bandwidth ``bandwidth`` =
    :func:`onedim.js_bandwidth`, mass outside the grid counted), ``v_star``, ``v_from_js``
    (−log 4 + 2·JS), ``w1`` (exact, to the samples' empirical CDF, wherever they are),
    ``js_floor`` and ``js_floor_sd`` (the same JS for samples of p_data itself:
    :func:`onedim.perfect_g_floor`), ``n``, ``shown`` (share of the samples inside the plotted
    range), ``outside`` (share of the KDE's mass outside p_data's range), ``family``; for WGAN
    losses ``critic_slope``, the learned critic's steepest slope on the grid (a lower bound on its
    Lipschitz constant K, so the critic's −L_D is at most about K·W1).

    Curves on the plotting grid ``x`` (float32): ``p_data``, ``p_g`` (the same KDE), ``d_star`` =
    p_data/(p_data+p_g), ``d_opt`` (the run's loss family's optimum: D*, hinge's sign(p_data − p_g),
    or WGAN's optimal critic) and ``d_learned`` (D on the grid, σ(logit) for BCE, raw otherwise).
    """
    toy = trainer.toy
    if not isinstance(toy, toys.Toy1D):
        raise ValueError(Msg("toys.error.snapshot_1d"))
    samples = trainer.fixed_samples().numpy().ravel()[:N_KDE].astype(np.float64)
    ok = np.isfinite(samples)
    finite = samples[ok]
    low, high = toy.support
    if len(finite):
        low = max(min(low, float(finite.min()) - 1.0), -MAX_SPAN_1D)
        high = min(max(high, float(finite.max()) + 1.0), MAX_SPAN_1D)
    x = onedim.grid(low, high, GRID_1D)
    h = onedim.js_bandwidth(toy, len(samples))
    p_data = toy.pdf(x)
    p_g = _plot_kde(finite, x, h, len(samples))
    family = trainer.loss.family
    F_data, F_g = onedim.cdf(toy, x), onedim.empirical_cdf(finite, x)
    nan = float("nan")
    fit = onedim.sample_fit(toy, samples, h) if ok.all() else onedim.SampleFit(nan, nan, nan, nan, h, nan)
    floor, floor_sd = onedim.perfect_g_floor(toy, len(samples), h)
    d_opt = onedim.optimal_critic(F_data, F_g, x) if family == "wgan" else onedim.optimal_d(family, p_data, p_g)
    d_learned = trainer.d_values(torch.from_numpy(x.astype(np.float32)).unsqueeze(1)).numpy().astype(np.float64)
    out = {
        "x": x.astype(np.float32),
        "p_data": p_data.astype(np.float32),
        "p_g": p_g.astype(np.float32),
        "d_star": onedim.d_star(p_data, p_g).astype(np.float32),
        "d_opt": d_opt.astype(np.float32),
        "d_learned": d_learned.astype(np.float32),
        "js": fit.js,
        "v_star": fit.v_star,
        "v_from_js": fit.v_from_js,
        "w1": fit.w1,
        "outside": fit.outside,
        "js_floor": floor,
        "js_floor_sd": floor_sd,
        "n": len(samples),
        "n_nonfinite": int((~ok).sum()),
        "shown": float(np.mean((samples >= x[0]) & (samples <= x[-1]))),
        "family": family,
        "bandwidth": h,
    }
    if family == "wgan":
        out["critic_slope"] = float(np.abs(np.diff(d_learned) / np.diff(x)).max())
    return out


def _plot_kde(samples: np.ndarray, x: np.ndarray, h: float, n: int) -> np.ndarray:
    """G's KDE on the plotting grid (binned, so a kernel narrower than the grid's step keeps mass 1);
    ``n`` counts every sample, so non-finite ones are missing mass, not spread over the rest."""
    if len(samples) == 0:
        return np.zeros_like(x)
    return onedim.kde(samples, x, h) * len(samples) / n


N_W1_2D = 256  # points per side of the exact 2-D W1 (an assignment problem: about 20 ms)


def w1_points(a: np.ndarray, b: np.ndarray) -> float:
    r"""The exact W1 between two equal-size point sets a, b (shape (n, d)), each point of mass 1/n:
    :math:`\min_\pi \frac1n\sum_i\|a_i-b_{\pi(i)}\|_2` over permutations π (for equal uniform
    weights an optimal transport plan is a permutation: Birkhoff-von Neumann), solved by
    ``scipy.optimize.linear_sum_assignment``. Raises ``ValueError`` for unequal sizes or non-finite points."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 2 or not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError(Msg("toys.error.w1_points", a=str(a.shape), b=str(b.shape)))
    cost = distance.cdist(a, b)
    rows, cols = optimize.linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


@functools.lru_cache(maxsize=16)
def w1_floor_2d(toy: toys.Toy2D, n: int = N_W1_2D, seeds: int = 10) -> tuple[float, float]:
    """What :func:`w1_points` reads between two independent draws of ``n`` points of the toy itself
    (seeds 2k, 2k+1 for k < ``seeds``): a perfect G's W1 at this sample size. (mean, standard deviation)."""
    values = [w1_points(toy.sample(n, torch.Generator().manual_seed(2 * k)).numpy(),
                        toy.sample(n, torch.Generator().manual_seed(2 * k + 1)).numpy()) for k in range(seeds)]  # fmt: skip
    return float(np.mean(values)), float(np.std(values))


def snapshot_2d(trainer: GanTrainer) -> dict:
    """Extras for the 2-D page: the heatmap (``hx``, ``hy``, ``hz``) over the toy's view, up to 500
    fake points (``points``) and G's raw gradient field on them (``arrows``, see :func:`g_field`),
    ``w1`` (exact W1 between the first 256 fixed-noise samples and 256 fixed data points, NaN when a
    sample is not finite) with ``w1_floor`` (the same for two draws of the data, :func:`w1_floor_2d`),
    and for the mixtures ``mode_stats`` on the 2,500 fixed-noise samples: ``captured``,
    ``n_modes``, ``high_quality``, ``counts``, ``dominant`` (the mode with most high-quality
    samples, -1 when there are none)."""
    toy = trainer.toy
    if not isinstance(toy, toys.Toy2D):
        raise ValueError(Msg("toys.error.snapshot_2d"))
    samples = trainer.fixed_samples().numpy()
    hx, hy, hz = d_heatmap(trainer, toy.extent)
    pts = samples[:N_POINTS_2D]
    out: dict = {
        "hx": hx,
        "hy": hy,
        "hz": hz.astype(np.float32),
        "points": pts.astype(np.float32),
        "arrows": g_field(trainer, pts, normalize=False) if np.isfinite(pts).all() else np.zeros_like(pts),
        "w1_floor": w1_floor_2d(toy)[0],
    }
    fakes = samples[:N_W1_2D]
    real = toy.sample(N_W1_2D, torch.Generator().manual_seed(0)).numpy()
    out["w1"] = w1_points(fakes, real) if np.isfinite(fakes).all() else float("nan")
    if toy.has_modes:
        stats = toys.mode_stats(samples, np.asarray(toy.modes), toy.sigma)
        out.update(
            captured=stats.captured,
            n_modes=stats.n_modes,
            high_quality=stats.high_quality,
            counts=stats.counts,
            dominant=int(np.argmax(stats.counts)) if any(stats.counts) else -1,
        )
    return out


def last_logged(metrics: dict[str, list[float]], name: str, step: int) -> float | None:
    """The last logged value of metric ``name`` at or before ``step`` (None when there is none)."""
    values = [v for s, v in zip(metrics.get("step", []), metrics.get(name, []), strict=False) if s <= step]
    return values[-1] if values else None


def critic_note(estimate: float | None, w1: float, constraint: str) -> str:
    """One sentence for a WGAN run, in the current language: the critic's −L_D beside the true W1,
    and why they differ (``constraint``: "clip", "gp" or "none", as :func:`plots.w1_constraint`
    reads it; another value raises ``KeyError``)."""
    est = "—" if estimate is None else f"{estimate:.3g}"
    why = CRITIC_WHY[constraint]
    return t("toys.critic.note", est=est, w1=w1, why=Msg(why))


CRITIC_WHY = {"clip": "toys.critic.clip", "gp": "toys.critic.gp", "none": "toys.critic.none"}  # constraint -> key


# ---------------------------------------------------------------- figures
_DATA, _GEN, _OPT, _LEARNED = "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"
_PROB_TICKS = [0, 0.25, 0.5, 0.75, 1]
_LEGEND = dict(orientation="h", yanchor="bottom", y=1.02, x=0)


def _layout(fig: go.Figure, uirevision: str, title: str = "", height: int = 420, hover: str = "x unified") -> go.Figure:
    fig.update_layout(title=title or None, uirevision=uirevision, height=height, legend=_LEGEND,
                      margin=dict(l=10, r=10, t=60 if title else 30, b=10), hovermode=hover)  # fmt: skip
    return fig


def _line(x, y, name: str, color: str, axis: str = "y", dash: str | None = None, fill: str | None = None) -> go.Scatter:
    return go.Scatter(x=x, y=y, name=name, yaxis=axis, mode="lines", fill=fill,
                      line=dict(color=color, dash=dash, width=2))  # fmt: skip


def explore_figure(c: onedim.Comparison, view: str = "bce", uirevision: str = "explore") -> go.Figure:
    """The Explore chart. ``view`` "bce" (also LSGAN): p_data, p_g and D* on a second axis;
    "hinge": D* = sign(p_data - p_g); "wgan": the two CDFs (the area between them is W1) and the
    optimal critic's slope sign(F_g - F_data) with the critic itself on the second axis.
    D* is drawn only where p_data + p_g carries mass (see :func:`_where_mass`)."""
    fig = go.Figure()
    if view == "wgan":
        fig.add_trace(_line(c.x, c.F_data, t("toys.fig.f_data"), _DATA))
        fig.add_trace(_line(c.x, c.F_g, t("toys.fig.f_g", w1=c.w1), _GEN, fill="tonexty"))
        fig.add_trace(_line(c.x, onedim.optimal_critic_slope(c.F_data, c.F_g), t("toys.fig.critic_slope"), _OPT, "y2"))
        fig.add_trace(_line(c.x, onedim.optimal_critic(c.F_data, c.F_g, c.x), t("toys.fig.optimal_critic_f"),
                            _LEARNED, "y2", dash="dot"))  # fmt: skip
        fig.update_layout(yaxis=dict(title="CDF", range=[0, 1.05]),  # i18n-ok: the symbol CDF, in both languages
                          yaxis2=dict(title=t("toys.fig.critic"), overlaying="y", side="right", showgrid=False))
        return _layout(fig, uirevision)
    fig.add_trace(_line(c.x, c.p_data, "p_data", _DATA, fill="tozeroy"))
    fig.add_trace(_line(c.x, c.p_g, "p_g", _GEN, fill="tozeroy"))
    if view == "hinge":
        d = _where_mass(onedim.hinge_d_star(c.p_data, c.p_g), c.p_data, c.p_g)
        fig.add_trace(_line(c.x, d, t("toys.fig.hinge_d_star"), _OPT, "y2"))
        y2 = dict(title="D*(x)", range=[-1.1, 1.1], overlaying="y", side="right", tickvals=[-1, 0, 1], showgrid=False)
    else:
        d = _where_mass(c.d_star, c.p_data, c.p_g)
        fig.add_trace(_line(c.x, d, "D* = p_data / (p_data + p_g)", _OPT, "y2"))  # i18n-ok: a formula
        fig.add_trace(_line(c.x, np.full_like(c.x, 0.5), "D = ½", "#999", "y2", dash="dot"))
        y2 = dict(title="D*(x)", range=[-0.02, 1.02], overlaying="y", side="right", tickvals=_PROB_TICKS, showgrid=False)
    fig.update_layout(yaxis=dict(title=t("toys.fig.density"), rangemode="tozero"), yaxis2=y2)
    return _layout(fig, uirevision)


def _where_mass(d: np.ndarray, p_data: np.ndarray, p_g: np.ndarray, floor: float = 1e-4) -> np.ndarray:
    """D* only matters where there is mass: NaN (a gap in the line) where p_data + p_g is below
    ``floor`` times its peak, so the tails' ratio of two vanishing numbers is not drawn."""
    total = np.asarray(p_data, dtype=np.float64) + np.asarray(p_g, dtype=np.float64)
    return np.where(total > floor * total.max(), d, np.nan)


def train_1d_figure(extras: dict, uirevision: str, title: str = "") -> go.Figure:
    """One 1-D snapshot: p_data and G's KDE (the density axis is capped at 2.5× p_data's peak, so a
    collapsed G's spike does not flatten p_data); the analytic optimum for the run's loss family on
    the second axis; the learned D there too for BCE (both are probabilities), on a third axis
    otherwise (raw outputs have their own scale)."""
    family, x, p, q = extras["family"], extras["x"], extras["p_data"], extras["p_g"]
    fig = go.Figure()
    fig.add_trace(_line(x, p, "p_data", _DATA, fill="tozeroy"))
    n, h = extras.get("n", N_KDE), extras.get("bandwidth")
    kde = t("toys.fig.p_g_kde_h", n=n, h=h) if h else t("toys.fig.p_g_kde", n=n)
    fig.add_trace(_line(x, q, kde, _GEN, fill="tozeroy"))
    names = {"bce": "D* = p_data/(p_data+p_g)", "lsgan": "D* = p_data/(p_data+p_g)",
             "hinge": "D* = sign(p_data − p_g)", "wgan": t("toys.fig.optimal_critic")}  # fmt: skip
    d_opt = extras["d_opt"] if family == "wgan" else _where_mass(extras["d_opt"], p, q)
    fig.add_trace(_line(x, d_opt, names[family], _OPT, "y2", dash="dash"))
    learned_axis = "y2" if family == "bce" else "y3"
    label = t("toys.fig.learned_sigmoid") if family == "bce" else t("toys.fig.learned_raw")
    fig.add_trace(_line(x, extras["d_learned"], label, _LEARNED, learned_axis))
    y2 = dict(title="D*(x)", overlaying="y", side="right", showgrid=False)
    if family in ("bce", "lsgan"):
        y2_title = "D(x), D*(x)" if family == "bce" else "D*(x)"
        y2.update(range=[-0.02, 1.02], tickvals=_PROB_TICKS, title=y2_title)
    elif family == "hinge":
        y2.update(range=[-1.1, 1.1], tickvals=[-1, 0, 1])
    else:
        y2.update(title=t("toys.fig.optimal_critic_fx"))
    top = 1.15 * max(float(np.max(p)), min(float(np.max(q)), 2.5 * float(np.max(p))))
    fig.update_layout(xaxis=dict(domain=[0, 1.0 if family == "bce" else 0.88]),
                      yaxis=dict(title=t("toys.fig.density"), range=[0, top]), yaxis2=y2)  # fmt: skip
    if family != "bce":
        fig.update_layout(yaxis3=dict(title=t("toys.fig.learned_d_raw"), overlaying="y", side="right", anchor="free",
                                      position=1.0, showgrid=False, color=_LEARNED))  # fmt: skip
    return _layout(fig, uirevision, title)


def history_figure(steps: list[int], left: tuple[str, list[float]], right: tuple[str, list[float]] | None,
                   current: int | None, uirevision: str, left_range: list[float] | None = None,
                   left_floor: tuple[float, str] | None = None) -> go.Figure:  # fmt: skip
    """Two series over snapshot steps (e.g. JS and W1, or modes captured and % high-quality), each on
    its own axis, with a vertical line at the snapshot being shown; ``left_floor`` (value, text): a
    dashed line on the left axis (JS's floor for a perfect G)."""
    fig = go.Figure()
    if left_floor is not None:
        fig.add_hline(y=left_floor[0], line=dict(color=_GEN, dash="dash", width=1), annotation_text=left_floor[1],
                      annotation_position="top right", annotation_font=dict(size=11, color=_GEN))  # fmt: skip
    fig.add_trace(go.Scatter(x=steps, y=left[1], name=left[0], mode="lines+markers", line=dict(color=_GEN)))
    fig.update_layout(yaxis=dict(title=left[0], range=left_range), xaxis=dict(title=t("toys.fig.step")))
    if right is not None:
        fig.add_trace(go.Scatter(x=steps, y=right[1], name=right[0], mode="lines+markers",
                                 yaxis="y2", line=dict(color=_OPT)))  # fmt: skip
        fig.update_layout(yaxis2=dict(title=right[0], overlaying="y", side="right", rangemode="tozero"))
    if current is not None:
        fig.add_vline(x=current, line=dict(color="#999", dash="dot"))
    return _layout(fig, uirevision, height=300)


def toy_2d_figure(extras: dict, real: np.ndarray, family: str, extent: float, uirevision: str,
                  n_arrows: int = 200) -> go.Figure:  # fmt: skip
    """GAN Lab's view: D's heatmap under the real (blue) and fake (orange) points, and for
    ``n_arrows`` fakes a segment along -∇_x L_G (the longest is 12 % of the view's half-width)."""
    zrange = dict(zmin=0.0, zmax=1.0) if family == "bce" else dict(zmid=0.5 if family == "lsgan" else 0.0)
    fig = go.Figure(go.Heatmap(x=extras["hx"], y=extras["hy"], z=extras["hz"], colorscale="RdBu", opacity=0.75,
                               colorbar=dict(title="D(x)"), hoverinfo="skip", **zrange))  # fmt: skip
    fig.add_trace(go.Scattergl(x=real[:, 0], y=real[:, 1], mode="markers", name=t("toys.fig.real"),
                               marker=dict(size=3, color=_DATA)))  # fmt: skip
    pts = extras["points"]
    fig.add_trace(go.Scattergl(x=pts[:, 0], y=pts[:, 1], mode="markers", name=t("toys.fig.fake"),
                               marker=dict(size=4, color=_GEN)))  # fmt: skip
    xs, ys = arrow_segments(pts, extras["arrows"], 0.12 * extent, n_arrows)
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=t("toys.fig.arrows"),
                             line=dict(color="#222", width=1), hoverinfo="skip"))  # fmt: skip
    fig.update_layout(xaxis=dict(range=[-extent, extent], constrain="domain"),
                      yaxis=dict(range=[-extent, extent], scaleanchor="x", scaleratio=1))  # fmt: skip
    return _layout(fig, uirevision, height=560, hover="closest")
