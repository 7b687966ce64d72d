"""What the CycleGAN page draws: the snapshot a background run stores, and the Plotly figures.

:func:`snapshot` runs in the worker thread (``live.Run(snapshot_fn=...)``) and returns numpy arrays
and numbers; the figure functions are pure (data in, ``go.Figure`` out), each with a ``uirevision``
the page keeps constant so a zoom survives the redraws.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gan_demo import domains, plots
from gan_demo.content import t
from gan_demo.train import CycleTrainer

N_POINTS = 400  # points of each domain kept per snapshot
N_ARROWS = 3  # arrows x → G(x) per mode of X
# one colour per mode of X (Plotly's D3 palette), used for x, G(x) and F(G(x)) alike
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_GREY = "#c7c7c7"
# the steganography probe's noise levels: std of the Gaussian noise added to G(x), in the data's
# [−1, 1] units (0.02 is a quarter of one of the digits' 17 grey levels, 2/16 = 0.125)
STEGO_STDS = (0.02, 0.05, 0.1, 0.2)


def snapshot(trainer: CycleTrainer) -> dict:
    """Extras for the page (:func:`image_snapshot` for an image pair), on the run's first ``N_POINTS`` fixed inputs of each domain: ``x``,
    ``gx`` = G(x), ``fgx`` = F(G(x)), ``y``, ``fy`` = F(y), ``gfy`` = G(F(y)) (float32 (n, 2)),
    ``x_mode`` (each x's mode of X), and on all 2,500 fixed inputs the :class:`domains.Readout`
    numbers: ``cycle_err``, ``cycle_err_y``, ``dist_t``, ``y_modes``, ``t_match`` and ``mapping``
    ((K, K + 1) shares, :func:`domains.mode_mapping`)."""
    if trainer.images:
        return image_snapshot(trainer)
    c = trainer.cycles()
    r = domains.readout(trainer.pair, c["x"], c["gx"], c["fgx"], c["y"], c["gfy"])
    out = {k: v[:N_POINTS].numpy().astype(np.float32) for k, v in c.items()}
    out.update(x_mode=trainer.pair.x_modes_of(out["x"]), cycle_err=r.cycle_err_x, cycle_err_y=r.cycle_err_y,
               dist_t=r.dist_t, y_modes=r.y_modes, t_match=r.t_match, mapping=r.mapping)  # fmt: skip
    return out


def _layout(fig: go.Figure, extent: float, uirevision: str, title: str) -> go.Figure:
    fig.update_layout(title=title, uirevision=uirevision, height=460, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.1, x=0), hovermode="closest",
                      xaxis=dict(range=[-extent, extent], constrain="domain"),
                      yaxis=dict(range=[-extent, extent], scaleanchor="x", scaleratio=1))  # fmt: skip
    return fig


def _by_mode(fig: go.Figure, pts: np.ndarray, modes: np.ndarray, name: str, size: int, symbol: str = "circle",
             opacity: float = 1.0) -> None:  # fmt: skip
    """One trace per mode of X (its colour), the first with ``name`` in the legend."""
    for k in range(len(COLOURS)):
        sel = pts[modes == k]
        fig.add_trace(go.Scattergl(x=sel[:, 0], y=sel[:, 1], mode="markers", name=name, legendgroup=name,
                                   showlegend=k == 0, opacity=opacity,
                                   marker=dict(size=size, color=COLOURS[k], symbol=symbol)))  # fmt: skip


def forward_figure(extras: dict, pair: domains.DomainPair, uirevision: str) -> go.Figure:
    """G: X → Y. Y's samples in grey, with T's image of each mode of X marked ("T(k)"); x faint and
    G(x) solid, both coloured by x's mode; an arrow from a few x to their G(x)."""
    x, gx, modes = extras["x"], extras["gx"], extras["x_mode"]
    fig = go.Figure(go.Scattergl(x=extras["y"][:, 0], y=extras["y"][:, 1], mode="markers", name=t("cyclegan.fig_y_samples"),
                                 marker=dict(size=4, color=_GREY)))  # fmt: skip
    _by_mode(fig, x, modes, t("cyclegan.fig_x_by_mode"), 4, opacity=0.35)
    _by_mode(fig, gx, modes, t("cyclegan.fig_gx"), 6, symbol="diamond")
    ty = pair.modes_y
    fig.add_trace(go.Scatter(x=ty[:, 0], y=ty[:, 1], mode="markers+text", name=t("cyclegan.fig_t_modes"),
                             text=[f"T({k})" for k in range(len(ty))], textposition="top center",
                             marker=dict(size=14, color="rgba(0,0,0,0)", line=dict(width=2, color=list(COLOURS))),
                             hoverinfo="text"))  # fmt: skip
    picks = np.concatenate([np.flatnonzero(modes == k)[:N_ARROWS] for k in range(len(COLOURS))])
    segs = np.stack([x[picks], gx[picks], np.full((len(picks), 2), np.nan)], axis=1).reshape(-1, 2)
    fig.add_trace(go.Scatter(x=segs[:, 0], y=segs[:, 1], mode="lines", name=t("cyclegan.fig_x_to_gx"),
                             line=dict(color="#222", width=1), hoverinfo="skip"))  # fmt: skip
    return _layout(fig, pair.extent, uirevision, t("cyclegan.fig_forward_title"))


def backward_figure(extras: dict, pair: domains.DomainPair, uirevision: str) -> go.Figure:
    """The cycle back: F(G(x)) over X's samples, coloured by x's mode (on top of x if the cycle closes)."""
    x, modes = extras["x"], extras["x_mode"]
    fig = go.Figure(go.Scattergl(x=x[:, 0], y=x[:, 1], mode="markers", name=t("cyclegan.fig_x_samples"),
                                 marker=dict(size=4, color=_GREY)))  # fmt: skip
    _by_mode(fig, extras["fgx"], modes, t("cyclegan.fig_fgx"), 6, symbol="diamond")
    mx = pair.modes_x
    fig.add_trace(go.Scatter(x=mx[:, 0], y=mx[:, 1], mode="text", name=t("cyclegan.fig_mode_k"),
                             text=[str(k) for k in range(len(mx))], textfont=dict(size=14, color=list(COLOURS)),
                             hoverinfo="text"))  # fmt: skip
    return _layout(fig, pair.extent, uirevision, t("cyclegan.fig_backward_title"))


def mapping_figure(mapping: np.ndarray, uirevision: str) -> go.Figure:
    """The mode table as a heatmap: row i = mode i of X, column j = mode T(j) of Y (last: no mode);
    the cell is the share of mode i's inputs whose G(x) lands there. T itself is the diagonal."""
    k = mapping.shape[0]
    cols = [f"T({j})" for j in range(k)] + [t("cyclegan.fig_none")]
    text = [[f"{100 * v:.0f} %" if v > 0 else "" for v in row] for row in mapping]
    fig = go.Figure(go.Heatmap(z=np.asarray(mapping).tolist(), x=cols, y=[t("cyclegan.fig_mode_row", k=i) for i in range(k)], zmin=0, zmax=1,
                               colorscale="Blues", text=text, showscale=False,
                               texttemplate="%{text}",  # i18n-ok: Plotly's template, no words
                               hovertemplate="%{y} → %{x}: %{z:.0%}<extra></extra>"))  # i18n-ok: Plotly's template
    fig.update_layout(uirevision=uirevision, height=330, margin=dict(l=10, r=10, t=40, b=10),
                      title=t("cyclegan.fig_mapping_title"), yaxis=dict(autorange="reversed"))  # fmt: skip
    return fig


def history_figure(metrics: dict[str, list[float]], names: dict[str, str], title: str, uirevision: str,
                   percent: bool = False) -> go.Figure:  # fmt: skip
    """Logged metrics ``names`` (metric → label) over steps; ``percent``: values × 100, a % axis."""
    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    for name, label in names.items():
        if name in metrics:
            fig.add_trace(go.Scatter(x=metrics["step"], y=[scale * v for v in metrics[name]], name=label, mode="lines"))
    fig.update_layout(title=title, uirevision=uirevision, height=320, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.32, x=0), hovermode="x unified",
                      xaxis=dict(title=t("cyclegan.fig_step")), yaxis=dict(title="%" if percent else None, rangemode="tozero"))  # fmt: skip
    return fig


# ---------------------------------------------------------------------------------------- image pairs
def image_snapshot(trainer: CycleTrainer) -> dict:
    """An image pair's extras: on the fixed batch the page shows (``trainer.grid_x``, ``grid_y``), the
    images ``x``, ``gx``, ``fgx``, ``y``, ``fy``, ``gfy`` (float32 (n, 1, H, W)); on every fixed input
    the :class:`domains.ImageReadout` numbers (``cycle_err``, ``cycle_err_y``, ``dist_t``, ``label_kept``,
    ``label_kept_f``, ``y_classes``, ``table``); and ``stego``, one dict per noise level of
    :data:`STEGO_STDS` (:meth:`CycleTrainer.stego_probe`: ``std``, ``err``, ``err_noisy``, ``noise``, and
    ``gx_noisy``, ``fgx_noisy`` on the batch)."""
    c = trainer.cycles()
    r = domains.image_readout(trainer.pair, c["x"], trainer.fixed_x_labels, c["gx"], c["fgx"], c["y"],
                              trainer.fixed_y_labels, c["fy"], c["gfy"])  # fmt: skip
    gx_idx, gy_idx = trainer.grid_x, trainer.grid_y
    out: dict = {k: c[k][gx_idx].numpy().astype(np.float32) for k in ("x", "gx", "fgx")}
    out.update({k: c[k][gy_idx].numpy().astype(np.float32) for k in ("y", "fy", "gfy")})
    stego = []
    for i, std in enumerate(STEGO_STDS):
        p = trainer.stego_probe(std, seed=i)
        stego.append({"std": std, "err": p["err"], "err_noisy": p["err_noisy"], "noise": p["noise"],
                      "gx_noisy": p["gx_noisy"][gx_idx].numpy().astype(np.float32),
                      "fgx_noisy": p["fgx_noisy"][gx_idx].numpy().astype(np.float32)})  # fmt: skip
    out.update(cycle_err=r.cycle_err_x, cycle_err_y=r.cycle_err_y, dist_t=r.dist_t, label_kept=r.label_kept,
               label_kept_f=r.label_kept_f, y_classes=r.y_classes, table=r.table, stego=stego)  # fmt: skip
    return out


def grid(images: np.ndarray, per_row: int = 10) -> np.ndarray:
    """Images (n, 1, H, W) in [−1, 1] as one uint8 picture (torchvision's make_grid via
    :func:`gan_demo.plots.image_grid`), ``per_row`` to a row; values outside [−1, 1] are clipped for
    display only, NaN drawn black."""
    pics = np.clip(np.nan_to_num(np.asarray(images, dtype=np.float32), nan=-1.0), -1.0, 1.0)
    return plots.image_grid(pics, nrow=per_row, min_width=200)


def label_figure(table: np.ndarray, uirevision: str, read_by: str | None = None) -> go.Figure:
    """The label table as a heatmap: row i = digits of class i in X, column j = the share of their
    G(x) that ``read_by`` reads as class j. Label preservation is the diagonal."""
    k = table.shape[0]
    read_by = t("cyclegan.fig_read_by_y") if read_by is None else read_by
    text = [[f"{100 * v:.0f} %" if v >= 0.005 else "" for v in row] for row in table]
    fig = go.Figure(go.Heatmap(z=np.asarray(table).tolist(), x=[t("cyclegan.fig_read_as", j=j) for j in range(k)],
                               y=[t("cyclegan.fig_x_is", i=i) for i in range(k)], zmin=0, zmax=1, colorscale="Blues",
                               text=text, showscale=False,
                               texttemplate="%{text}",  # i18n-ok: Plotly's template, no words
                               hovertemplate="%{y}, G(x) %{x}: %{z:.0%}<extra></extra>"))  # i18n-ok: Plotly's template
    fig.update_layout(uirevision=uirevision, height=360, margin=dict(l=10, r=10, t=40, b=10),
                      title=t("cyclegan.fig_labels_title", read_by=read_by), yaxis=dict(autorange="reversed"))  # fmt: skip
    return fig
