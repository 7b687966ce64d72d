"""2-D toys: real and fake points over D's heatmap, the arrows along which G moves each fake point,
and mode coverage over time (GAN Lab's view, with the VEEGAN / PacGAN mode metrics)."""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from gan_demo import diagnosis_panel, losses, plots, toylab, toys, ui
from gan_demo.runs import live

PAGE = "toys_2d"

st.title("2-D toys: watch G chase the data")
st.markdown(
    "The **heatmap** is D's output over the plane: where D says *real* and where it says *fake*. "
    "Blue dots are real samples, orange dots G's samples from a fixed batch of noise. Each black "
    "segment starts at a fake point and points along **−∇ₓ L_G(D(x))**: the way G's loss wants that "
    "sample to move (longer = stronger gradient); G's weights change so that its samples follow "
    "these arrows, and then D redraws the map."
)
st.markdown(
    "On the **ring of 8** and the **grid of 25** Gaussians, a sample is *high-quality* if it lies within "
    "3σ of its nearest mode, and a mode is *captured* if at least one high-quality sample is nearest to "
    "it (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018; on 2,500 samples). A G that keeps few modes with high quality has "
    "**collapsed**; one that hops from mode to mode between snapshots is chasing D around the ring."
)
with st.expander("Published numbers on these toys (modes captured / % high-quality; Srivastava et al. 2017, Lin et al. 2018)"):
    st.markdown(
        "| | ring of 8 | grid of 25 |\n|---|---|---|\n"
        "| GAN | 1 / 99.3 | 3.3 / 0.5 |\n| Unrolled GAN | 7.6 / 35.6 | 23.6 / 16 |\n"
        "| VEEGAN | 8 / 52.9 | 24.6 / 40 |\n| PacGAN | 7.9 / 95.6 (pack 2) | 24.8 / 93.6 (pack 4) |"
    )
with st.expander("Remedies for mode collapse you can try in the form below"):
    st.markdown(
        "- **Packing** (*Pack*; PacGAN, Lin et al. 2018): D judges 2–4 samples glued together, so a batch of look-alike "
        "fakes is easy to spot and G is pushed to spread out.\n"
        "- **Instance noise** (Sønderby et al. 2016, Arjovsky & Bottou 2017): the same Gaussian blur is "
        "added to every real and fake point D sees. Eight dots of σ 0.01 and a G that misses them have "
        "(almost) disjoint supports: D separates them perfectly, JS is stuck at log 2, and D's slope "
        "is ~0 away from the data. Blurred, the two overlap, D becomes smooth, and its gradient points "
        "every fake toward real mass, including modes G has not found yet. The blur falls to 0 over "
        "the run, so the end is sharp.\n"
        "- **Learning-rate decay** (*Decay lr to 0*): as the steps shrink, G's points settle onto the "
        "modes and % high-quality climbs (measured here: README, toy benchmark).\n"
        "- **The loss.** On the grid of 25, with pack 2, instance noise, lr decay and the same "
        "learning rates, *non-saturating* kept 22.2 of 25 modes (5 seeds, 26,000 steps) and lost them "
        "late, in the inner columns, as its points sharpened; *hinge* kept 24.4, and with both learning "
        "rates at 3e-3, all 25 on every seed. That is a measurement, not a theorem: train both with the "
        "same seed and compare D's heatmaps and the mode counts over steps (changing the loss refills "
        "the optimizer settings and z with that loss's defaults: set the learning rates and z again).\n"
        "- **WGAN-GP** (Gulrajani et al. 2017): its critic keeps a useful gradient everywhere and covers "
        "the modes, but in a minute of CPU its points stay blurrier here (lower % high-quality).\n\n"
        "The *healthy* presets combine packing, instance noise and lr decay (hinge on the grid, "
        "non-saturating on the ring); remove one at a time to see what each does."
    )

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
        st.caption(f"step {shot.step:,}; mean |∇ₓ L_G| over the fakes: "
                   f"{float(np.linalg.norm(shot.extras['arrows'], axis=1).mean()):.3g}")  # fmt: skip
    with right:
        floor = shot.extras["w1_floor"]
        st.metric("W1 (256 points)", f"{shot.extras['w1']:.3g}", help="Exact W1 between 256 of G's fixed-noise samples "
                  f"and 256 data points (an optimal assignment, scipy's linear_sum_assignment). Two draws of the data "
                  f"itself read {floor:.3g}: a perfect G reads about that, not 0.")  # fmt: skip
        if family == "wgan":
            st.markdown(toylab.critic_note(toylab.last_logged(view.metrics, "w1", shot.step), shot.extras["w1"],
                                           plots.w1_constraint(view.metrics)))  # fmt: skip
        if toy.has_modes:
            a, b, c = st.columns(3)
            a.metric("modes captured", f"{shot.extras['captured']} / {shot.extras['n_modes']}")
            b.metric("high-quality", f"{100 * shot.extras['high_quality']:.1f} %")
            c.metric("dominant mode", shot.extras["dominant"])
            fig = ui.cached_figure(PAGE, "modes", (view.run_id, len(shots), shots[-1].step, shot.step), lambda: toylab.history_figure(
                [s.step for s in shots], ("modes captured", [s.extras["captured"] for s in shots]),
                ("% high-quality", [100 * s.extras["high_quality"] for s in shots]), shot.step,
                uirevision=f"{PAGE}_modes", left_range=[0, shot.extras["n_modes"] + 0.5]))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_modes_chart", config={"displaylogo": False})
        else:
            st.caption("The spiral and the moons have no discrete modes: judge the fit by eye.")
    diagnosis_panel.render(view)


ui.live_view(PAGE, render, every_s=ui.TOY_RUN_EVERY_S,
             empty="Choose the settings (or a preset) and press **Start**: the plane and the mode counts appear here.")
