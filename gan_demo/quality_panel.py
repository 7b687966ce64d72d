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
from gan_demo.metrics import quality

SOURCE = ("Fréchet distance: Heusel et al. 2017 (FID's formula), here on the penultimate features of a "
          "small CNN trained on this data set, not Inception-v3: not comparable with published FIDs.")  # fmt: skip


def reports(view: Any) -> list[tuple[int, dict]]:
    """(step, report) of every snapshot that has a quality report."""
    return [(s.step, s.extras["quality"]) for s in view.snapshots if s.extras.get("quality")]


def fd_figure(points: list[tuple[int, dict]], uirevision: str) -> go.Figure:
    """Fréchet distance per snapshot (log y) with the real-vs-real floor and 2x the floor."""
    steps = [s for s, _ in points]
    last = points[-1][1]
    fig = go.Figure()
    fig.add_scatter(x=steps, y=[r["fd"] for _, r in points], mode="lines+markers", name="G vs real",
                    line={"color": "#d62728"})  # fmt: skip
    for y, name, dash in ((last["fd_floor"], "real vs real (floor)", "dash"), (2 * last["fd_floor"], "2 × floor", "dot")):
        fig.add_scatter(x=[steps[0], steps[-1]], y=[y, y], mode="lines", name=name,
                        line={"color": "#555", "dash": dash})  # fmt: skip
    fig.update_layout(title={"text": f"Fréchet distance (classifier features, n = {last['n']})", "font": {"size": 15}},
                      uirevision=uirevision, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.3, "x": 0}, xaxis_title="step",
                      yaxis_title="Fréchet distance", hovermode="x unified")  # fmt: skip
    plots.log_axis(fig)
    return fig


def histogram_figure(report: dict, step: int, uirevision: str) -> go.Figure:
    """The classifier's predicted labels of G's samples, with the fair share n/K dashed."""
    n, k = report["n"], len(report["counts"])
    fig = go.Figure(go.Bar(x=report["class_names"], y=report["counts"], marker_color="#1f77b4"))
    fig.add_hline(y=n / k, line_dash="dash", line_color="#555", annotation_text=f"fair share n/K = {n / k:.3g}")
    fig.update_layout(title={"text": f"G's samples by predicted label (step {step:,}, n = {n})", "font": {"size": 15}},
                      uirevision=uirevision, height=320, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      yaxis_title="samples", xaxis_type="category")  # fmt: skip
    return fig


def render(view: Any, page: str) -> None:
    """The panel for a ``live.RunView`` of an image run (nothing for toys)."""
    from gan_demo import ui  # the page layer; imported here because ui imports this module

    if view.config.is_toy:
        return
    st.subheader("Quality")
    if (why := quality.available(view.config.data)) is not None:
        st.caption(why)
        return
    points = reports(view)
    if not points:
        st.caption("The quality numbers appear with the first snapshot.")
        return
    step, r = points[-1]
    n, k = r["n"], len(r["counts"])
    st.caption(f"Every figure below is on G's **n = {n}** fixed-noise samples (and real batches of {n}): "
               "the sample size changes the numbers.")  # fmt: skip
    cols = st.columns(4)
    cols[0].metric("Fréchet distance", f"{r['fd']:.3g}",
                   help=f"between G's {n} fixed-noise samples and a real batch of {n}, in the classifier's "
                   f"features. {SOURCE}")  # fmt: skip
    cols[1].metric("Real-vs-real floor", f"{r['fd_floor']:.3g}",
                   help=f"the same distance between two real batches of {n} (mean of {quality.FLOOR_BATCHES}; "
                   f"{r['fd_floor_min']:.3g} to {r['fd_floor_max']:.3g}): what a perfect G would score")  # fmt: skip
    cols[2].metric("Label coverage", f"{r['coverage']} of {k}",
                   help=f"classes with at least half a fair share ({quality.FAIR_SHARE:g} × n/K = "
                   f"{quality.FAIR_SHARE * n / k:.3g} samples); a real batch of {n}: {r['coverage_real']} of {k}")  # fmt: skip
    cols[3].metric("Confidence", f"{r['confidence']:.2f}",
                   help=f"the classifier's mean largest class probability on G's samples; on a real batch of "
                   f"{n}: {r['confidence_real']:.2f}. Blurry or in-between images score low.")  # fmt: skip
    st.caption(f"Step {step:,}, n = {n} fixed-noise samples: KL(labels ‖ uniform) {r['kl']:.2f} nats (a real batch "
               f"of {n}: {r['kl_real']:.2f}); confidence on real images {r['confidence_real']:.2f}; the classifier "
               f"scores {100 * r['accuracy']:.1f} % on held-out real images. {SOURCE}")  # fmt: skip
    left, right = st.columns(2)
    key = (view.run_id, step)
    with left:
        fig = ui.cached_figure(page, "quality_fd", key, lambda: fd_figure(points, view.run_id))
        st.plotly_chart(fig, width="stretch", key=f"{page}_chart_quality_fd", config={"displaylogo": False})
    with right:
        fig = ui.cached_figure(page, "quality_labels", key, lambda: histogram_figure(r, step, view.run_id))
        st.plotly_chart(fig, width="stretch", key=f"{page}_chart_quality_labels", config={"displaylogo": False})
