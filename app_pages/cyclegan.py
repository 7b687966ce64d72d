"""CycleGAN: unpaired translation between two 2-D domains related by a known map T, so the student can
see where each mode lands, and what the cycle loss does not fix."""

from __future__ import annotations

import streamlit as st

from gan_demo import cyclelab, domains, presets, theory, ui
from gan_demo.runs import live

PAGE = "cyclegan"

st.title("CycleGAN: unpaired translation, and what the cycle loss does not fix")
st.markdown(
    "Two domains, **X** and **Y**, and no pairs: each step draws a batch of x and a batch of y on their own. "
    "**G** translates X → Y and **F** translates Y → X; **D_Y** tells Y's samples from G's, **D_X** tells "
    "X's samples from F's. Here Y was made from X by a known map **T**, so the page can show what a "
    "picture of a horse turned zebra hides: *which* mode of X lands on *which* mode of Y, and how far G "
    "is from T."
)
pair = domains.get(domains.NAMES[0])
st.markdown(f"**{pair.title}.** {pair.t_text}. Colours mark the mode of X a point comes from.")
with st.expander("The objective (Zhu et al. 2017), corrected", expanded=False):
    st.markdown(theory.CYCLE_TEXT)
    for formula in theory.CYCLE_FORMULAS:
        st.latex(formula)
    st.caption("The code beside these formulas: Theory page, section 9.")
st.markdown("**Three lessons**, one click each (or hand out the link):")
for p in presets.for_page(PAGE):
    st.markdown(f"- [{p.title}](/{PAGE}?preset={p.name})")

_, errors = ui.config_form(PAGE, domains.NAMES, objective="cyclegan")
ui.run_controls(PAGE, errors, snapshot_fn=cyclelab.snapshot)

_LOSSES = {"loss_gan_g": "GAN term of G (judged by D_Y)", "loss_gan_f": "GAN term of F (judged by D_X)",
           "loss_cyc_x": "‖F(G(x)) − x‖₁", "loss_cyc_y": "‖G(F(y)) − y‖₁", "loss_id": "identity",
           "loss_d_x": "L of D_X", "loss_d_y": "L of D_Y"}  # fmt: skip
_READOUTS = {"cycle_err": "cycle error x → G → F (% of X's spread)",
             "cycle_err_y": "cycle error y → F → G (% of Y's spread)",
             "dist_t": "distance of G to T (% of Y's spread)", "t_match": "x sent where T sends it (%)"}  # fmt: skip


def render(view: live.RunView) -> None:
    """The live panel: the plane at one snapshot, the mode table, and the readouts over steps."""
    if (picked := ui.toy_snapshots(PAGE, view, "mapping")) is None:
        return
    shots, shot = picked
    pair = domains.get(view.config.data)
    e = shot.extras
    a, b, c, d = st.columns(4)
    a.metric("cycle error", f"{100 * e['cycle_err']:.1f} %",
             help="mean ‖F(G(x)) − x‖₂ over the 2,500 fixed x, as a share of X's spread sqrt(E‖x − E x‖²); "
             f"the other way round, mean ‖G(F(y)) − y‖₂: {100 * e['cycle_err_y']:.1f} % of Y's spread")  # fmt: skip
    b.metric("distance of G to T", f"{100 * e['dist_t']:.1f} %",
             help="mean ‖G(x) − T(x)‖₂ over the fixed x, as a share of Y's spread: 0 when G is T")
    c.metric("modes of Y receiving G(x)", f"{e['y_modes']} / {len(pair.modes)}",
             help="a G(x) lands on a mode of Y when it lies within 3σ of it (σ of Y's modes along their "
             "longest axis)")  # fmt: skip
    d.metric("x sent where T sends it", f"{100 * e['t_match']:.0f} %",
             help="the share of the fixed x whose G(x) lands on T's image of x's mode: the diagonal of the table")
    left, right = st.columns(2)
    key = (view.run_id, shot.step)
    with left:
        fig = ui.cached_figure(PAGE, "forward", key, lambda: cyclelab.forward_figure(e, pair, f"{PAGE}_forward"))
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_forward_chart", config={"displaylogo": False})
    with right:
        fig = ui.cached_figure(PAGE, "backward", key, lambda: cyclelab.backward_figure(e, pair, f"{PAGE}_backward"))
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_backward_chart", config={"displaylogo": False})
    st.caption(f"step {shot.step:,}. Left: Y's samples in grey with T's image of each mode of X ringed in its "
               "colour; G(x) as diamonds in the colour of x's mode, faint dots x, a line from a few x to G(x). "
               "Right: going back, F(G(x)) over X.")  # fmt: skip
    fig = ui.cached_figure(PAGE, "mapping", key, lambda: cyclelab.mapping_figure(e["mapping"], f"{PAGE}_mapping"))
    st.plotly_chart(fig, width="stretch", key=f"{PAGE}_mapping_chart", config={"displaylogo": False})
    st.caption("Row i: where the inputs of mode i of X land. T is the diagonal; a one-to-one map has one "
               "full cell per row and per column; the cycle loss cannot tell T from any other one-to-one "
               "map.")  # fmt: skip
    if view.metrics.get("step"):
        left, right = st.columns(2)
        hist_key = (view.run_id, shots[-1].step)  # redrawn with each snapshot, not at every redraw
        with left:
            fig = ui.cached_figure(PAGE, "losses", hist_key, lambda: cyclelab.history_figure(
                view.metrics, _LOSSES, "Loss terms", f"{PAGE}_losses"))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_losses_chart", config={"displaylogo": False})
        with right:
            fig = ui.cached_figure(PAGE, "readouts", hist_key, lambda: cyclelab.history_figure(
                view.metrics, _READOUTS, "Readouts on the fixed inputs", f"{PAGE}_readouts", percent=True))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_readouts_chart", config={"displaylogo": False})


ui.live_view(PAGE, render, every_s=ui.TOY_RUN_EVERY_S,
             empty="Choose a lesson (or the settings) and press **Start**: the two planes, the mode table "
             "and the readouts appear here.")  # fmt: skip
