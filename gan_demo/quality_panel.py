"""The Train page's Quality panel: what the offline classifier says about G's fixed-noise samples.

Each snapshot of an image run carries ``extras["quality"]`` (:func:`gan_demo.metrics.quality.report`
on G's fixed-noise batch, computed in the worker by :func:`gan_demo.metrics.quality.snapshot_extras`).
The panel shows the latest snapshot's report (not the one the sample grid's slider scrubs to), each
number with its sample size, the
Fréchet distance over the steps next to its real-vs-real floor (so a student can see that the loss
curves and the quality do not move together), and the label histogram. A data set without
classifier weights gets one line saying why, not an error.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from gan_demo import plots
from gan_demo.content import Msg, t
from gan_demo.metrics import quality

SOURCE = Msg("quality.source")  # where the distance comes from, and why it is not a published FID


def reports(view: Any) -> list[tuple[int, dict]]:
    """(step, report) of every snapshot that has a quality report."""
    return [(s.step, s.extras["quality"]) for s in view.snapshots if s.extras.get("quality")]


def fd_figure(points: list[tuple[int, dict]], uirevision: str) -> go.Figure:
    """Fréchet distance per snapshot (log y) with the real-vs-real floor and 2x the floor."""
    steps = [s for s, _ in points]
    last = points[-1][1]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=[r["fd"] for _, r in points], mode="lines+markers", name=t("quality.fd.g_vs_real"),
                    line={"color": "#d62728"})  # fmt: skip
    lines = ((last["fd_floor"], t("quality.fd.floor"), "dash"), (2 * last["fd_floor"], t("quality.fd.twice_floor"), "dot"))
    for y, name, dash in lines:
        fig.add_scatter(x=[steps[0], steps[-1]], y=[y, y], mode="lines", name=name,
                        line={"color": "#555", "dash": dash})  # fmt: skip
    fig.update_layout(title={"text": t("quality.fd.title", n=last["n"]), "font": {"size": 15}},
                      uirevision=uirevision, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0},
                      xaxis_title=t("quality.axis.step"), yaxis_title=t("quality.fd.yaxis"),
                      hovermode="x unified")  # fmt: skip
    plots.log_axis(fig)
    return fig


def histogram_figure(report: dict, step: int, uirevision: str) -> go.Figure:
    """The classifier's predicted labels of G's samples, with the fair share n/K dashed."""
    n, k = report["n"], len(report["counts"])
    fig = go.Figure(go.Bar(x=quality.class_labels(report["class_names"]), y=report["counts"], marker_color="#1f77b4"))
    fig.add_hline(y=n / k, line_dash="dash", line_color="#555", annotation_text=t("quality.hist.fair_share", fair=n / k))
    fig.update_layout(title={"text": t("quality.hist.title", step=step, n=n), "font": {"size": 15}},
                      uirevision=uirevision, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      yaxis_title=t("quality.hist.yaxis"), xaxis_type="category")  # fmt: skip
    return fig


def render(view: Any, page: str) -> None:
    """The panel for a ``live.RunView`` of an image run (nothing for toys)."""
    from gan_demo import ui  # the page layer; imported here because ui imports this module

    if view.config.is_toy:
        return
    st.subheader(t("quality.header"))
    if (why := quality.available(view.config.data)) is not None:
        st.caption(str(why))
        return
    points = reports(view)
    if not points:
        st.caption(t("quality.waiting"))
        return
    step, r = points[-1]
    n, k = r["n"], len(r["counts"])
    st.caption(t("quality.sample_size", n=n))
    cols = st.columns(4)
    cols[0].metric(t("quality.metric.fd"), f"{r['fd']:.3g}", help=t("quality.metric.fd_help", n=n, source=SOURCE))
    cols[1].metric(t("quality.metric.floor"), f"{r['fd_floor']:.3g}",
                   help=t("quality.metric.floor_help", n=n, batches=quality.FLOOR_BATCHES, low=r["fd_floor_min"],
                          high=r["fd_floor_max"]))  # fmt: skip
    cols[2].metric(t("quality.metric.coverage"), t("quality.metric.coverage_value", covered=r["coverage"], k=k),
                   help=t("quality.metric.coverage_help", fair_share=quality.FAIR_SHARE,
                          threshold=quality.FAIR_SHARE * n / k, n=n, covered_real=r["coverage_real"], k=k))  # fmt: skip
    cols[3].metric(t("quality.metric.confidence"), f"{r['confidence']:.2f}",
                   help=t("quality.metric.confidence_help", n=n, real=r["confidence_real"]))
    st.caption(t("quality.summary", step=step, n=n, kl=r["kl"], kl_real=r["kl_real"],
                 confidence_real=r["confidence_real"], accuracy=100 * r["accuracy"], source=SOURCE))  # fmt: skip
    left, right = st.columns(2)
    key = (view.run_id, step)
    with left:
        fig = ui.cached_figure(page, "quality_fd", key, lambda: fd_figure(points, view.run_id))
        st.plotly_chart(fig, width="stretch", key=f"{page}_chart_quality_fd", config={"displaylogo": False})
    with right:
        fig = ui.cached_figure(page, "quality_labels", key, lambda: histogram_figure(r, step, view.run_id))
        st.plotly_chart(fig, width="stretch", key=f"{page}_chart_quality_labels", config={"displaylogo": False})
