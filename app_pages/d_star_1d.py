"""D* on 1-D: the optimal discriminator, JS and V(D*, G) on exact densities, then a live toy GAN."""

from __future__ import annotations

import math

import streamlit as st

from gan_demo import diagnosis_panel, onedim, plots, toylab, toys, ui
from gan_demo.content import t
from gan_demo.runs import live

PAGE = "d_star_1d"
MODES = ("Explore", "Train")  # the Mode radio's values (a ?preset= link sets "Train"); shown through t()
PG_KINDS = ("gaussian", "mixture")  # p_g: one Gaussian or a mixture of 2
VIEWS = ("bce", "hinge", "wgan")  # the Explore chart's loss views (toylab.explore_figure)

st.title(t("dstar.title"))
derivation, identity = st.columns(2)
with derivation:
    st.markdown(t("dstar.derivation"))
    st.latex(r"V(D,G)=\int_x p_\text{data}(x)\log D(x)+p_g(x)\log\bigl(1-D(x)\bigr)\,dx")
    st.latex(r"\frac{\partial}{\partial D(x)}:\quad \frac{p_\text{data}(x)}{D(x)}-\frac{p_g(x)}{1-D(x)}=0")
    st.latex(r"D^*(x)=\frac{p_\text{data}(x)}{p_\text{data}(x)+p_g(x)}")
with identity:
    st.markdown(t("dstar.identity"))
    st.latex(r"V(D^*,G)=-\log 4+2\,JS(p_\text{data}\,\|\,p_g)")
    st.latex(r"JS(p\|q)=\tfrac12 KL(p\|m)+\tfrac12 KL(q\|m),\quad m=\tfrac{p+q}{2}")
with st.expander(t("dstar.saturation.title")):
    st.markdown(t("dstar.saturation.body"))
    st.latex(r"W_1=\int|F_\text{data}(x)-F_g(x)|\,dx,\qquad f^{*\prime}(x)=\operatorname{sign}(F_g(x)-F_\text{data}(x))")
    st.markdown(t("dstar.other_losses"))

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
p_data_name = st.selectbox("p_data", toys.NAMES_1D, key=f"{PAGE}_pdata",  # i18n-ok: the symbol p_data
                           format_func=lambda n: str(toys.TOYS_1D[n].title),
                           on_change=_pdata_changed, persist_state="session")  # fmt: skip
p_data = toys.TOYS_1D[p_data_name]
mode = st.radio(t("dstar.mode.label"), MODES, horizontal=True, key=f"{PAGE}_mode", persist_state="session",
                format_func=lambda m: t(f"dstar.mode.{m.lower()}"),
                captions=[t("dstar.mode.explore_caption"), t("dstar.mode.train_caption")])  # fmt: skip


def explore() -> None:
    kind = st.radio("p_g", PG_KINDS, horizontal=True, key=f"{PAGE}_pg_kind",  # i18n-ok: the symbol p_g
                    format_func=lambda k: t(f"dstar.pg.{k}"), persist_state="session")  # fmt: skip
    cols = st.columns(5)
    mu1 = cols[0].slider(t("dstar.slider.mean", k=1), -8.0, 8.0, 2.0, 0.1, key=f"{PAGE}_mu1", persist_state="session")
    sd1 = cols[1].slider(t("dstar.slider.std", k=1), 0.1, 3.0, 1.0, 0.05, key=f"{PAGE}_sd1", persist_state="session")
    means, stds, weights = [mu1], [sd1], [1.0]
    if kind == "mixture":
        mu2 = cols[2].slider(t("dstar.slider.mean", k=2), -8.0, 8.0, -2.0, 0.1, key=f"{PAGE}_mu2", persist_state="session")
        sd2 = cols[3].slider(t("dstar.slider.std", k=2), 0.1, 3.0, 1.0, 0.05, key=f"{PAGE}_sd2", persist_state="session")
        w1 = cols[4].slider(t("dstar.slider.weight", k=1), 0.0, 1.0, 0.5, 0.05, key=f"{PAGE}_w1", persist_state="session")
        means, stds, weights = [mu1, mu2], [sd1, sd2], [w1, 1.0 - w1]
    view = st.selectbox(t("dstar.view.label"), VIEWS, key=f"{PAGE}_view", persist_state="session",
                        format_func=lambda v: t(f"dstar.view.{v}"))  # fmt: skip
    c = onedim.compare(p_data, onedim.mixture(means, stds, weights))
    chart, numbers = st.columns([3, 1])
    with chart:
        st.plotly_chart(toylab.explore_figure(c, view, uirevision=f"{PAGE}_explore"), width="stretch",
                        key=f"{PAGE}_explore_chart", config={"displaylogo": False})  # fmt: skip
    with numbers:
        # the labels are symbols, alike in both languages; the help says how each number is integrated
        st.metric("JS(p_data‖p_g)", f"{c.js:.5f}", help=t("dstar.explore.js_help"))  # i18n-ok: a symbol
        st.metric("V(D*, G)", f"{c.v_star:.5f}", help=t("dstar.explore.v_star_help"))  # i18n-ok: a symbol
        st.metric("−log 4 + 2·JS", f"{c.v_from_js:.5f}", help=t("dstar.explore.v_from_js_help"))  # i18n-ok: a formula
        st.metric("W1", f"{c.w1:.5f}", help=t("dstar.explore.w1_help"))  # i18n-ok: a symbol
    if abs(c.js) < 1e-3:
        st.success(t("dstar.explore.equal"))
    elif c.js > math.log(2) - 1e-3:
        st.warning(t("dstar.explore.saturated", w1=c.w1))


def render(view: live.RunView) -> None:
    """The live panel: the snapshot's D, D* and p_g; JS (with a perfect G's floor) and W1 over the snapshots."""
    if (picked := ui.toy_snapshots(PAGE, view, "js")) is None:
        return
    shots, shot = picked
    ex = shot.extras
    left, right = st.columns([3, 2])
    with left:
        fig = ui.cached_figure(PAGE, "train", (view.run_id, shot.step), lambda: toylab.train_1d_figure(
            ex, uirevision=f"{PAGE}_train", title=t("dstar.train.step", step=shot.step)))  # fmt: skip
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_train_chart", config={"displaylogo": False})
        if ex["n_nonfinite"]:
            st.error(t("dstar.train.nonfinite", bad=ex["n_nonfinite"], n=ex["n"]))
        elif ex["shown"] < 1.0:
            st.warning(t("dstar.train.outside", off=100 * (1 - ex["shown"]), span=toylab.MAX_SPAN_1D,
                         outside=100 * ex["outside"]))  # fmt: skip
    with right:
        a, b, c = st.columns(3)
        a.metric("JS", f"{ex['js']:.4f}", help=t("dstar.train.js_help", n=ex["n"], h=ex["bandwidth"],  # i18n-ok: a symbol
                 floor=ex["js_floor"], floor_sd=ex["js_floor_sd"]))  # fmt: skip
        w1 = f"{ex['w1']:.4f}" if abs(ex["w1"]) < 1e3 else f"{ex['w1']:.2e}".replace("e+0", "e").replace("e+", "e")
        b.metric("W1", w1, help=t("dstar.train.w1_help"))  # i18n-ok: a symbol
        c.metric("V(D*, G)", f"{ex['v_star']:.4f}", help=t("dstar.train.v_star_help", v=ex["v_from_js"]))  # i18n-ok: a symbol
        st.caption(t("dstar.train.floor", n=ex["n"], floor=ex["js_floor"], seeds=onedim.FLOOR_SEEDS))
        if ex["family"] == "wgan":
            est = toylab.last_logged(view.metrics, "w1", shot.step)
            note = toylab.critic_note(est, ex["w1"], plots.w1_constraint(view.metrics))
            st.markdown(t("dstar.train.critic_slope", note=note, slope=ex["critic_slope"]))
        fig = ui.cached_figure(PAGE, "history", (view.run_id, len(shots), shots[-1].step, shot.step), lambda: toylab.history_figure(
            [s.step for s in shots], ("JS", [s.extras["js"] for s in shots]), ("W1", [s.extras["w1"] for s in shots]),
            shot.step, uirevision=f"{PAGE}_history", left_range=[0, math.log(2) * 1.02],
            left_floor=(ex["js_floor"], t("dstar.train.floor_line", n=ex["n"], floor=ex["js_floor"]))))  # fmt: skip
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_history_chart", config={"displaylogo": False})
    diagnosis_panel.render(view)


def train() -> None:
    h_mix, h_uniform = (onedim.js_bandwidth(toys.TOYS_1D[name], toylab.N_KDE) for name in ("mix2", "uniform"))
    st.caption(t("dstar.train.kde", n=toylab.N_KDE, h_mix=h_mix, h_uniform=h_uniform))
    st.session_state[f"{PAGE}_data"] = p_data_name  # the form trains on the p_data chosen above
    _, errors = ui.config_form(PAGE, (p_data_name,))
    ui.run_controls(PAGE, errors, snapshot_fn=toylab.snapshot_1d)
    ui.live_view(PAGE, render, every_s=ui.TOY_RUN_EVERY_S, empty=t("dstar.train.empty"))


if mode == "Explore":
    explore()
else:
    train()
