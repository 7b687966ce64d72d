"""2-D toys: real and fake points over D's heatmap, the arrows along which G moves each fake point,
and mode coverage over time (GAN Lab's view, with the VEEGAN / PacGAN mode metrics)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_demo import diagnosis_panel, losses, plots, toylab, toys, ui
from gan_demo.content import t
from gan_demo.runs import live

PAGE = "toys_2d"

st.title(t("toys.title"))
st.markdown(t("toys.intro.heatmap"))
st.markdown(t("toys.intro.modes"))
with st.expander(t("toys.published.title")):
    st.markdown(t("toys.published.table"))
with st.expander(t("toys.remedies.title")):
    st.markdown(t("toys.remedies.body"))

_, errors = ui.config_form(PAGE, toys.NAMES_2D)
ui.run_controls(PAGE, errors, snapshot_fn=toylab.snapshot_2d)


@st.cache_data(show_spinner=False)
def real_points(name: str, n: int = 1000) -> np.ndarray:
    """A fixed draw of real samples to plot (seed 0)."""
    return toys.TOYS_2D[name].sample(n, torch.Generator().manual_seed(0)).numpy()


def render(view: live.RunView) -> None:
    """The live panel: the plane at one snapshot, and mode coverage over the snapshots."""
    if (picked := ui.toy_snapshots(PAGE, view, "hz")) is None:
        return
    shots, shot = picked
    toy = toys.TOYS_2D[view.config.data]
    family = losses.get(view.config.loss).family
    left, right = st.columns([3, 2])
    with left:
        fig = ui.cached_figure(PAGE, "plane", (view.run_id, shot.step), lambda: toylab.toy_2d_figure(
            shot.extras, real_points(toy.name), family, toy.extent, uirevision=f"{PAGE}_plane"))  # fmt: skip
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_plane_chart", config={"displaylogo": False})
        st.caption(t("toys.plane_caption", step=shot.step,
                     grad=float(np.linalg.norm(shot.extras["arrows"], axis=1).mean())))  # fmt: skip
    with right:
        floor = shot.extras["w1_floor"]
        st.metric(t("toys.w1.label", n=toylab.N_W1_2D), f"{shot.extras['w1']:.3g}",
                  help=t("toys.w1.help", n=toylab.N_W1_2D, floor=floor))  # fmt: skip
        if family == "wgan":
            st.markdown(toylab.critic_note(toylab.last_logged(view.metrics, "w1", shot.step), shot.extras["w1"],
                                           plots.w1_constraint(view.metrics)))  # fmt: skip
        if toy.has_modes:
            a, b, c = st.columns(3)
            a.metric(t("toys.metric.captured"), f"{shot.extras['captured']} / {shot.extras['n_modes']}")
            hq = 100 * shot.extras["high_quality"]  # "52 %", not "52.4 %", which the narrow column cut to "52.…"
            b.metric(t("toys.metric.high_quality"), f"{hq:.0f} %" if hq >= 9.95 else f"{hq:.1f} %")
            c.metric(t("toys.metric.dominant"), shot.extras["dominant"])
            fig = ui.cached_figure(PAGE, "modes", (view.run_id, len(shots), shots[-1].step, shot.step), lambda: toylab.history_figure(
                [s.step for s in shots], (t("toys.series.captured"), [s.extras["captured"] for s in shots]),
                (t("toys.series.high_quality"), [100 * s.extras["high_quality"] for s in shots]), shot.step,
                uirevision=f"{PAGE}_modes", left_range=[0, shot.extras["n_modes"] + 0.5]))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_modes_chart", config={"displaylogo": False})
        else:
            st.caption(t("toys.no_modes"))
    diagnosis_panel.render(view)


ui.live_view(PAGE, render, every_s=ui.TOY_RUN_EVERY_S, empty=t("toys.empty"))
