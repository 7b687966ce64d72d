"""D* on 1-D: the optimal discriminator, JS and V(D*, G) on exact densities, then a live toy GAN."""

from __future__ import annotations

import math

import streamlit as st

from gan_demo import diagnosis_panel, onedim, plots, toylab, toys, ui
from gan_demo.runs import live

PAGE = "d_star_1d"

st.title("The optimal discriminator D* in 1-D")
derivation, identity = st.columns(2)
with derivation:
    st.markdown("For a fixed G, D maximises V(D, G) point by point; the best it can do has a closed form:")
    st.latex(r"V(D,G)=\int_x p_\text{data}(x)\log D(x)+p_g(x)\log\bigl(1-D(x)\bigr)\,dx")
    st.latex(r"\frac{\partial}{\partial D(x)}:\quad \frac{p_\text{data}(x)}{D(x)}-\frac{p_g(x)}{1-D(x)}=0")
    st.latex(r"D^*(x)=\frac{p_\text{data}(x)}{p_\text{data}(x)+p_g(x)}")
with identity:
    st.markdown(
        "Put D* back into V (Goodfellow et al. 2014, Theorem 1): against the best D, G minimises the "
        "Jensen-Shannon divergence. Its minimum is reached only at p_g = p_data, where D* = ½ everywhere "
        "and V = −log 4 ≈ −1.3863."
    )
    st.latex(r"V(D^*,G)=-\log 4+2\,JS(p_\text{data}\,\|\,p_g)")
    st.latex(r"JS(p\|q)=\tfrac12 KL(p\|m)+\tfrac12 KL(q\|m),\quad m=\tfrac{p+q}{2}")
with st.expander("Why JS saturates, and what WGAN does about it"):
    st.markdown(
        "When p_data and p_g do not overlap, D* is 1 on one and 0 on the other: JS = ln 2 ≈ 0.6931 and "
        "V(D*, G) = 0 **however far apart they are**. Moving p_g closer changes nothing, so G gets no "
        "gradient (try it below: p_data = mixture of 2, p_g = N(8, 0.2²), then N(6, 0.2²): JS stays at 0.6931 while W1 drops from 8 to 6). "
        "The Wasserstein-1 distance keeps measuring how far mass must move, so WGAN trains G against a "
        "1-Lipschitz critic f that estimates it. In 1-D it has a closed form too:"
    )
    st.latex(r"W_1=\int|F_\text{data}(x)-F_g(x)|\,dx,\qquad f^{*\prime}(x)=\operatorname{sign}(F_g(x)-F_\text{data}(x))")
    st.markdown(
        "Other losses have other optima: LSGAN (targets a = 0, b = c = 1) has the same D* as BCE; "
        "hinge's D* = sign(p_data − p_g), +1 where data is more likely, −1 where G's samples are."
    )

# A preset carries its own p_data: a ?preset= link sets it (and opens Train mode), and so does the
# form's Preset box, whose callback has just written the form's data when it differs from p_data.
if (linked := ui.pending_preset(PAGE)) is not None and linked.overrides.get("data") in toys.NAMES_1D:
    st.session_state[f"{PAGE}_pdata"] = linked.overrides["data"]  # (the form checks the rest)
    st.session_state[f"{PAGE}_mode"] = "Train"
elif (form_data := st.session_state.get(f"{PAGE}_data")) in toys.NAMES_1D:
    st.session_state[f"{PAGE}_pdata"] = form_data


def _pdata_changed() -> None:  # the form trains on the p_data chosen here
    st.session_state[f"{PAGE}_data"] = st.session_state[f"{PAGE}_pdata"]


# Every control keeps its value when the user visits another page and comes back
# (persist_state="session", as the config form's widgets do).
p_data_name = st.selectbox("p_data", toys.NAMES_1D, key=f"{PAGE}_pdata", format_func=lambda n: toys.TOYS_1D[n].title,
                           on_change=_pdata_changed, persist_state="session")  # fmt: skip
p_data = toys.TOYS_1D[p_data_name]
mode = st.radio("Mode", ["Explore", "Train"], horizontal=True, key=f"{PAGE}_mode", persist_state="session",
                captions=["set p_g with sliders: no training", "a toy GAN trains live"])  # fmt: skip


def explore() -> None:
    kind = st.radio("p_g", ["Gaussian", "Mixture of 2"], horizontal=True, key=f"{PAGE}_pg_kind", persist_state="session")
    cols = st.columns(5)
    mu1 = cols[0].slider("mean 1", -8.0, 8.0, 2.0, 0.1, key=f"{PAGE}_mu1", persist_state="session")
    sd1 = cols[1].slider("std 1", 0.1, 3.0, 1.0, 0.05, key=f"{PAGE}_sd1", persist_state="session")
    means, stds, weights = [mu1], [sd1], [1.0]
    if kind == "Mixture of 2":
        mu2 = cols[2].slider("mean 2", -8.0, 8.0, -2.0, 0.1, key=f"{PAGE}_mu2", persist_state="session")
        sd2 = cols[3].slider("std 2", 0.1, 3.0, 1.0, 0.05, key=f"{PAGE}_sd2", persist_state="session")
        w1 = cols[4].slider("weight of 1", 0.0, 1.0, 0.5, 0.05, key=f"{PAGE}_w1", persist_state="session")
        means, stds, weights = [mu1, mu2], [sd1, sd2], [w1, 1.0 - w1]
    view = st.selectbox("Loss view", ["bce", "hinge", "wgan"], key=f"{PAGE}_view", persist_state="session",
                        format_func={"bce": "BCE / LSGAN: D* = p_data/(p_data+p_g)", "hinge": "Hinge: sign(p_data − p_g)",
                                     "wgan": "WGAN: CDFs, critic slope, W1"}.get)  # fmt: skip
    c = onedim.compare(p_data, onedim.mixture(means, stds, weights))
    chart, numbers = st.columns([3, 1])
    with chart:
        st.plotly_chart(toylab.explore_figure(c, view, uirevision=f"{PAGE}_explore"), width="stretch",
                        key=f"{PAGE}_explore_chart", config={"displaylogo": False})  # fmt: skip
    with numbers:
        where = "over the whole line (adaptive quadrature, scipy's quad_vec), not only over the plotted range"
        st.metric("JS(p_data‖p_g)", f"{c.js:.5f}", help=f"nats; between 0 and ln 2 = 0.69315; integrated {where}")
        st.metric("V(D*, G)", f"{c.v_star:.5f}", help=f"∫ p_data log D* + p_g log(1 − D*) dx, integrated {where}")
        st.metric("−log 4 + 2·JS", f"{c.v_from_js:.5f}", help="Theorem 1 (Goodfellow et al. 2014): equals V(D*, G); "
                  "the two are computed from different integrands and agree to 1e-10")  # fmt: skip
        st.metric("W1", f"{c.w1:.5f}", help=f"∫|F_data − F_g| dx, integrated {where}")
    if abs(c.js) < 1e-3:
        st.success("p_g = p_data: D* is flat at ½ (D can only guess) and V(D*, G) = −log 4 = −1.3863, its minimum.")
    elif c.js > math.log(2) - 1e-3:
        st.warning("The supports barely overlap: JS is stuck at ln 2 and V(D*, G) at 0, so moving p_g a little "
                   f"changes nothing for G. W1 = {c.w1:.3f} still measures the distance.")  # fmt: skip


def render(view: live.RunView) -> None:
    """The live panel: the snapshot's D, D* and p_g; JS (with a perfect G's floor) and W1 over the snapshots."""
    if (picked := ui.toy_snapshots(PAGE, view, "js")) is None:
        return
    shots, shot = picked
    ex = shot.extras
    left, right = st.columns([3, 2])
    with left:
        fig = ui.cached_figure(PAGE, "train", (view.run_id, shot.step), lambda: toylab.train_1d_figure(
            ex, uirevision=f"{PAGE}_train", title=f"step {shot.step:,}"))  # fmt: skip
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_train_chart", config={"displaylogo": False})
        if ex["n_nonfinite"]:
            st.error(f"{ex['n_nonfinite']:,} of G's {ex['n']:,} samples are not finite: the run diverged, so JS, "
                     "V(D*, G) and W1 are undefined.")  # fmt: skip
        elif ex["shown"] < 1.0:
            st.warning(f"{100 * (1 - ex['shown']):.1f} % of G's samples lie outside the plotted range (it stops at "
                       f"±{toylab.MAX_SPAN_1D:g}). They still count: in JS (KDE mass outside p_data's range "
                       f"{100 * ex['outside']:.1f} %, each unit adding ½·ln 2) and in W1, which is exact.")  # fmt: skip
    with right:
        a, b, c = st.columns(3)
        a.metric("JS", f"{ex['js']:.4f}", help=f"JS(p_data‖p_g), nats, with p_g a Gaussian KDE of G's {ex['n']:,} "
                 f"samples (bandwidth {ex['bandwidth']:.3f}). A perfect G (samples of p_data itself) reads "
                 f"{ex['js_floor']:.4f} ± {ex['js_floor_sd']:.4f}: below that, JS cannot tell G from p_data.")  # fmt: skip
        w1 = f"{ex['w1']:.4f}" if abs(ex["w1"]) < 1e3 else f"{ex['w1']:.2e}".replace("e+0", "e").replace("e+", "e")
        b.metric("W1", w1, help="∫|F_data − F_g| dx with G's empirical CDF, exact wherever the samples are")
        c.metric("V(D*, G)", f"{ex['v_star']:.4f}", help=f"−log 4 + 2·JS = {ex['v_from_js']:.4f} (Goodfellow et al. "
                 "2014, Theorem 1), computed from the JS integrand instead of D*'s")  # fmt: skip
        st.caption(f"JS of a perfect G with {ex['n']:,} samples ≈ {ex['js_floor']:.4f} (p_data's own samples, "
                   "20 seeds; dashed line below): the estimate's floor.")  # fmt: skip
        if ex["family"] == "wgan":
            est = toylab.last_logged(view.metrics, "w1", shot.step)
            st.markdown(toylab.critic_note(est, ex["w1"], plots.w1_constraint(view.metrics))
                        + f" This critic's steepest slope on the plot is {ex['critic_slope']:.3g}: K is at least that.")  # fmt: skip
        fig = ui.cached_figure(PAGE, "history", (view.run_id, len(shots), shots[-1].step, shot.step), lambda: toylab.history_figure(
            [s.step for s in shots], ("JS", [s.extras["js"] for s in shots]), ("W1", [s.extras["w1"] for s in shots]),
            shot.step, uirevision=f"{PAGE}_history", left_range=[0, math.log(2) * 1.02],
            left_floor=(ex["js_floor"], f"perfect G, {ex['n']:,} samples: JS ≈ {ex['js_floor']:.4f}")))  # fmt: skip
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_history_chart", config={"displaylogo": False})
    diagnosis_panel.render(view)


def train() -> None:
    st.caption("p_g is a Gaussian KDE of 2,500 samples from G's fixed noise, with a bandwidth fixed by p_data "
               "(the normal-reference rule, Silverman 1986, on p_data's narrowest bump: 0.111 on the mixtures; a "
               "uniform's jumps need less: 0.023); D* uses the exact p_data and that estimate. BCE's D is σ(logit); the other "
               "losses' raw D has its own axis.")  # fmt: skip
    st.session_state[f"{PAGE}_data"] = p_data_name  # the form trains on the p_data chosen above
    _, errors = ui.config_form(PAGE, (p_data_name,))
    ui.run_controls(PAGE, errors, snapshot_fn=toylab.snapshot_1d)
    ui.live_view(PAGE, render, every_s=ui.TOY_RUN_EVERY_S,
                 empty="Choose a loss and press **Start**: D, D* and p_g appear here and update as G trains.")


if mode == "Explore":
    explore()
else:
    train()
