"""Plotly figures of a run's metric history, and the fixed-noise sample grid.

Every curve is drawn twice: the raw values faintly and an exponential moving average on top, because
heavy smoothing alone can invent a trend (seed 002). Each figure's ``layout.uirevision`` is a
constant per run, so a zoom the user made survives the figure being redrawn every second.
Reference lines come from the loss variant itself (``losses.get(name).equilibrium``), so the chart
cannot disagree with the Theory page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import torch
import torchvision.utils

from gan_demo import losses
from gan_demo.content import t

MAX_POINTS = 2000  # points drawn per trace; longer histories are thinned evenly (after smoothing)
_COLORS = {
    "loss_d": "#1f77b4", "loss_d_real": "#17becf", "loss_d_fake": "#9467bd", "loss_g": "#d62728",
    "gp": "#8c564b", "d_real": "#1f77b4", "d_fake": "#ff7f0e", "d_fake_g": "#d62728",
    "d_acc": "#7f7f7f", "grad_d": "#1f77b4", "grad_g": "#d62728", "gp_norm": "#2ca02c",
    "w1": "#2ca02c", "clip_frac": "#7f7f7f", "loss_d_wrong": "#bcbd22", "d_wrong": "#bcbd22",
}  # fmt: skip
LABELLED = ("loss_d", "loss_d_real", "loss_d_fake", "loss_g", "gp", "d_real", "d_fake", "d_fake_g", "d_acc",
            "grad_d", "grad_g", "gp_norm", "w1", "clip_frac", "loss_d_wrong", "d_wrong")  # fmt: skip
# the metrics with a legend label of their own (plots.metric_<name>); "loss_d_wrong" is the conditional
# GAN's third term of L_D (before λ)


def label(name: str) -> str:
    """A metric's legend label in the reader's language (``plots.metric_<name>``: "L_D (real + fake)",
    "D(G(z)) in D's step", ...); a metric without one is labelled by its name."""
    return t(f"plots.metric_{name}") if name in LABELLED else name


def smooth(values: Sequence[float], weight: float) -> np.ndarray:
    """Exponential moving average: ``s_t = weight·s_{t-1} + (1-weight)·x_t``, ``s_0 = x_0``.

    ``weight`` 0 returns the values unchanged; NaNs are skipped, not spread.
    """
    x = pd.Series(np.asarray(values, dtype=np.float64))
    if weight <= 0 or x.empty:
        return x.to_numpy()
    return x.ewm(alpha=1.0 - weight, adjust=False, ignore_na=True).mean().to_numpy()


def _thin(n: int) -> slice:
    return slice(None, None, max(1, math.ceil(n / MAX_POINTS)))


def _figure(title: str, uirevision: str, y_title: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title={"text": title, "font": {"size": 15}},
        uirevision=uirevision,
        height=320,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
        xaxis_title=t("plots.step"),
        yaxis_title=y_title,
        hovermode="x unified",
    )
    return fig


def _add_series(
    fig: go.Figure,
    metrics: Mapping[str, Sequence[float]],
    names: Sequence[str],
    smoothing: float,
    secondary: bool = False,
) -> None:
    """Each metric as a faint raw line plus its smoothed line (one legend entry for both)."""
    steps = np.asarray(metrics.get("step", ()), dtype=np.float64)
    cut = _thin(len(steps))
    for name in names:
        if name not in metrics or not len(metrics[name]):
            continue
        raw = np.asarray(metrics[name], dtype=np.float64)
        color = _COLORS.get(name)
        common = {"legendgroup": name, "line": {"color": color}}
        if secondary:
            common["yaxis"] = "y2"
        if smoothing > 0:
            fig.add_scatter(x=steps[cut], y=raw[cut], name=t("plots.raw", label=label(name)),
                            mode="lines", opacity=0.25, showlegend=False, hoverinfo="skip", **common)  # fmt: skip
        fig.add_scatter(x=steps[cut], y=smooth(raw, smoothing)[cut], name=label(name),
                        mode="lines", **common)  # fmt: skip


def log_axis(fig: go.Figure) -> None:
    """A log y axis labelled once per decade (10⁻², 10⁻¹, 1, 10), with unlabelled minor ticks between:
    Plotly's default labels the 2s and 5s between decades with their first digit alone ("2, 5, 2")."""
    fig.update_yaxes(type="log", dtick=1, exponentformat="power", minor={"dtick": "D1", "ticks": "outside"})


def _hline(fig: go.Figure, y: float, text: str, color: str = "#555") -> None:
    fig.add_hline(y=y, line={"dash": "dash", "color": color, "width": 1}, annotation_text=text,
                  annotation_position="top left", annotation_font={"size": 11, "color": color})  # fmt: skip


def loss_figure(metrics: Mapping[str, Sequence[float]], loss: str, smoothing: float = 0.0,
                uirevision: str = "losses") -> go.Figure:  # fmt: skip
    """L_D with its real and fake terms, L_G (and λ·GP), with the loss's equilibrium lines."""
    spec = losses.get(loss)
    fig = _figure(t("plots.losses_title", loss=spec.title), uirevision, t("plots.loss"))
    _add_series(fig, metrics, ["loss_d", "loss_d_real", "loss_d_fake", "loss_d_wrong", "loss_g", "gp"], smoothing)
    eq = spec.equilibrium
    if "loss_d" in eq:
        _hline(fig, eq["loss_d"], t("plots.eq_loss_d", value=eq["loss_d"]), _COLORS["loss_d"])
    if "loss_g" in eq:
        _hline(fig, eq["loss_g"], t("plots.eq_loss_g", value=eq["loss_g"]), _COLORS["loss_g"])
    return fig


def d_output_figure(metrics: Mapping[str, Sequence[float]], loss: str, smoothing: float = 0.0,
                    uirevision: str = "d_outputs") -> go.Figure:  # fmt: skip
    """D(x), D(G(z)) before and after D's update, and D's accuracy (right axis)."""
    spec = losses.get(loss)
    scale = t("plots.scale_sigmoid") if spec.uses_sigmoid else t("plots.scale_raw")
    fig = _figure(t("plots.d_outputs_title", scale=scale), uirevision, t("plots.d_output"))
    _add_series(fig, metrics, ["d_real", "d_fake", "d_fake_g", "d_wrong"], smoothing)
    _add_series(fig, metrics, ["d_acc"], smoothing, secondary=True)
    fig.update_layout(yaxis2={"title": t("plots.accuracy"), "overlaying": "y", "side": "right",
                              "range": [0, 1.05], "showgrid": False})  # fmt: skip
    if spec.family == "hinge":  # at p_g = p_data every D in [-1, 1] is optimal: no single line
        for margin in (-1.0, 1.0):
            _hline(fig, margin, "", "#aaa")  # the band's one label says what the lines mean
        fig.add_hrect(y0=-1.0, y1=1.0, fillcolor="#aaa", opacity=0.08, line_width=0,
                      annotation_text=t("plots.hinge_band", value=spec.equilibrium["loss_d"]),
                      annotation_position="bottom left", annotation_font={"size": 11, "color": "#777"})  # fmt: skip
    elif "d" in spec.equilibrium:  # (for BCE and LSGAN also the decision threshold 0.5)
        _hline(fig, spec.equilibrium["d"], t("plots.eq_d", value=spec.equilibrium["d"]))
    return fig


def grad_figure(metrics: Mapping[str, Sequence[float]], smoothing: float = 0.0,
                uirevision: str = "grads") -> go.Figure:  # fmt: skip
    """Gradient norms of D and G (log scale), and WGAN-GP's ‖∇D(x̂)‖ with its target 1."""
    fig = _figure(t("plots.grads_title"), uirevision, t("plots.grads_axis"))
    _add_series(fig, metrics, ["grad_d", "grad_g", "gp_norm"], smoothing)
    log_axis(fig)
    if "gp_norm" in metrics:
        _hline(fig, 1.0, t("plots.gp_target"), _COLORS["gp_norm"])
    return fig


# What the critic's −L_D measures depends on how the critic is kept Lipschitz. For a K-Lipschitz critic f,
# E f(x) − E f(G(z)) ≤ K·W1 (Kantorovich-Rubinstein duality; Arjovsky et al. 2017, §3): weight clipping
# bounds K by a constant nobody knows (often far below 1: −L_D ~1e-4 while W1 ~1 on mix2); the gradient
# penalty pulls K toward 1 (Gulrajani et al. 2017); with neither, K is unbounded.
W1_TITLES = {"clip": "plots.w1_title_clip", "gp": "plots.w1_title_gp", "none": "plots.w1_title_none"}  # their keys


def w1_constraint(metrics: Mapping[str, Sequence[float]]) -> str:
    """How the run keeps its critic Lipschitz, read from the metrics it logs: "clip" (``clip_frac``),
    "gp" (``gp``) or "none"."""
    return "clip" if "clip_frac" in metrics else "gp" if "gp" in metrics else "none"


def wgan_figure(metrics: Mapping[str, Sequence[float]], smoothing: float = 0.0,
                uirevision: str = "w1") -> go.Figure:  # fmt: skip
    """The critic's −L_D (should fall as G improves), titled with what it estimates (:data:`W1_TITLES`' keys:
    "Critic's −L_D ≤ K·W1, K unknown (clipping)", "... ≈ W1 (the GP holds K near 1)", "...: K unbounded"),
    and, with clipping, the share of pinned weights."""
    fig = _figure(t(W1_TITLES[w1_constraint(metrics)]), uirevision, "−L_D")
    _add_series(fig, metrics, ["w1"], smoothing)
    if "clip_frac" in metrics:
        _add_series(fig, metrics, ["clip_frac"], smoothing, secondary=True)
        fig.update_layout(yaxis2={"title": t("plots.share_at_c"), "overlaying": "y", "side": "right",
                                  "range": [0, 1.05], "showgrid": False})  # fmt: skip
    return fig


def run_figures(metrics: Mapping[str, Sequence[float]], loss: str, smoothing: float = 0.0,
                uirevision: str = "run") -> dict[str, go.Figure]:  # fmt: skip
    """All the charts that apply to a run, by name: losses, d_outputs, grads, and w1 for WGANs."""
    figs = {
        "losses": loss_figure(metrics, loss, smoothing, uirevision),
        "d_outputs": d_output_figure(metrics, loss, smoothing, uirevision),
        "grads": grad_figure(metrics, smoothing, uirevision),
    }
    if "w1" in metrics:
        figs["w1"] = wgan_figure(metrics, smoothing, uirevision)
    return figs


def image_grid(samples: np.ndarray, nrow: int = 8, min_width: int = 320) -> np.ndarray:
    """Images (n, C, H, W) in [-1, 1] as one (H', W', C) uint8 picture, enlarged by an integer
    factor (nearest neighbour, so 8x8 digits stay crisp) to at least ``min_width`` pixels."""
    grid = torchvision.utils.make_grid(torch.as_tensor(samples, dtype=torch.float32), nrow=nrow,
                                       padding=2, normalize=True, value_range=(-1, 1), pad_value=1.0)  # fmt: skip
    factor = max(1, math.ceil(min_width / grid.shape[-1]))
    if factor > 1:
        grid = grid.repeat_interleave(factor, 1).repeat_interleave(factor, 2)
    return (grid.permute(1, 2, 0) * 255).round().to(torch.uint8).numpy()


def metrics_frame(metrics: Mapping[str, Sequence[float]]) -> pd.DataFrame:
    """The metric history as a table, one row per logged step."""
    return pd.DataFrame({k: list(v) for k, v in metrics.items()})


def metrics_csv(metrics: Mapping[str, Sequence[float]]) -> str:
    return metrics_frame(metrics).to_csv(index=False)
