"""CycleGAN: unpaired translation between two domains related by a known map T (2-D points, or digits
and their inverted copies), so the student can see where each mode (or digit) lands, and what the
cycle loss does not fix."""

from __future__ import annotations

import streamlit as st

from gan_demo import cyclelab, domains, presets, theory, ui
from gan_demo.metrics.classifier import ClassifierUnavailable
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
image_pair = domains.get(domains.IMAGE_NAMES[0])
st.markdown(f"**2-D: {pair.title}.** {pair.t_text}. Colours mark the mode of X a point comes from.")
st.markdown(
    f"**Images: {image_pair.title}.** {image_pair.t_text}. The 1,797 digits of scikit-learn are split into "
    "two disjoint halves (stratified by class): X draws from one half, Y is the inverted *other* half, so "
    "no y is the inverted copy of any x. Inversion, because it is an exact bijection that changes every "
    "pixel yet keeps the digit's shape, so \"is G(x) still the same digit?\" has an answer (a rotation by "
    "180° would turn a 6 into a 9)."
)
with st.expander("The objective (Zhu et al. 2017), corrected", expanded=False):
    st.markdown(theory.CYCLE_TEXT)
    for formula in theory.CYCLE_FORMULAS:
        st.latex(formula)
    st.caption("The code beside these formulas: Theory page, section 9.")
_LESSONS = presets.for_page(PAGE)
st.markdown("**The lessons**, one click each (or hand out the link). On the 2-D pair:")
for p in _LESSONS:
    if p.config().data not in domains.IMAGE_NAMES:
        st.markdown(f"- [{p.title}](/{PAGE}?preset={p.name})")
st.markdown("On the digits:")
for p in _LESSONS:
    if p.config().data in domains.IMAGE_NAMES:
        st.markdown(f"- [{p.title}](/{PAGE}?preset={p.name})")

_, errors = ui.config_form(PAGE, domains.NAMES, objective="cyclegan")
ui.run_controls(PAGE, errors, snapshot_fn=cyclelab.snapshot)

_LOSSES = {"loss_gan_g": "GAN term of G (judged by D_Y)", "loss_gan_f": "GAN term of F (judged by D_X)",
           "loss_cyc_x": "‖F(G(x)) − x‖₁", "loss_cyc_y": "‖G(F(y)) − y‖₁", "loss_id": "identity",
           "loss_d_x": "L of D_X", "loss_d_y": "L of D_Y"}  # fmt: skip
_READOUTS = {"cycle_err": "cycle error x → G → F (% of X's spread)",
             "cycle_err_y": "cycle error y → F → G (% of Y's spread)",
             "dist_t": "distance of G to T (% of Y's spread)", "t_match": "x sent where T sends it (%)"}  # fmt: skip


_IMAGE_READOUTS = {"label_kept": "G(x) read as x's digit (%)", "label_kept_f": "F(y) read as y's digit (%)"}
_IMAGE_ERRORS = {"cycle_err": "|F(G(x)) − x| per pixel", "cycle_err_y": "|G(F(y)) − y| per pixel",
                 "dist_t": "|G(x) − T(x)| per pixel"}  # fmt: skip


def _grids(e: dict, names: tuple[str, str, str], labels: tuple[str, str, str]) -> None:
    for col, name, label in zip(st.columns(3), names, labels, strict=True):
        col.image(cyclelab.grid(e[name]), caption=label)


def render_images(view: live.RunView) -> None:
    """The live panel of an image pair: the fixed batches, label preservation, the steganography probe,
    the label table and the readouts over steps."""
    if (picked := ui.toy_snapshots(PAGE, view, "table")) is None:
        return
    shots, shot = picked
    pair = domains.get(view.config.data)
    e = shot.extras
    try:
        heldout, ceiling = domains.heldout_accuracy(pair), domains.classifier_ceiling(pair)
    except ClassifierUnavailable as err:  # its weights missing or damaged: say so, keep going
        st.warning(f"The digits classifier cannot be loaded ({err}); the label readouts need it.")
        heldout = ceiling = float("nan")
    a, b, c, d = st.columns(4)
    a.metric("G(x) read as x's digit", f"{100 * e['label_kept']:.1f} %",
             help="label preservation: the share of the 1,797 fixed x whose G(x) the classifier of Y reads as "
             "x's label. Y's classifier is the digits classifier applied to T⁻¹(G(x)) = −G(x): T is a known "
             f"bijection, so this is exactly a classifier of Y. G = T would score {100 * ceiling:.1f} % here "
             "(the classifier's own reading of the untranslated x).")  # fmt: skip
    b.metric("F(y) read as y's digit", f"{100 * e['label_kept_f']:.1f} %",
             help="the other direction: the share of the 1,797 fixed y whose F(y) the digits classifier reads as "
             "y's label")  # fmt: skip
    c.metric("cycle error", f"{e['cycle_err']:.3f}",
             help="mean |F(G(x)) − x| per pixel over the fixed x, in the data's units (pixels in [−1, 1]; one of "
             f"the digits' 17 grey levels is 0.125); the other way, mean |G(F(y)) − y|: {e['cycle_err_y']:.3f}")  # fmt: skip
    d.metric("distance of G to T", f"{e['dist_t']:.3f}",
             help="mean |G(x) − T(x)| = |G(x) + x| per pixel: 0 when G inverts exactly; G = identity scores "
             "2·mean|x| ≈ 1.4")  # fmt: skip
    st.caption(f"The classifier (checkpoints/classifier-digits.safetensors) reads {100 * heldout:.1f} % of its "
               f"450 held-out digits right; on all 1,797 fixed x it reads {100 * ceiling:.1f} % right (it trained "
               "on 75 % of them): that is the most G can score above. Step "
               f"{shot.step:,}; {e['y_classes']} of 10 digits appear among the G(x).")  # fmt: skip
    st.markdown("**x → G(x) → F(G(x))** (a fixed batch of X's training half, two of each digit)")
    _grids(e, ("x", "gx", "fgx"), ("x", "G(x): should be x inverted", "F(G(x)): should be x again"))
    st.markdown("**y → F(y) → G(F(y))** (a fixed batch of Y's half)")
    _grids(e, ("y", "fy", "gfy"), ("y", "F(y): should be y inverted back", "G(F(y)): should be y again"))

    st.markdown("**Steganography probe** (Chu, Zhmoginov & Sandler 2017): add a little Gaussian noise to G(x) "
                "and translate back. If F needs only what the eye sees in G(x), F(G(x) + noise) stays near x; "
                "if G hid x in invisible detail, the noise wipes it and the way back falls apart.")  # fmt: skip
    levels = [p["std"] for p in e["stego"]]
    std = st.select_slider("noise std (pixels in [−1, 1]; a grey level of the digits is 0.125)", levels,
                           value=levels[1], key=f"{PAGE}_stego_std")  # fmt: skip
    probe = e["stego"][levels.index(std)]
    s1, s2, s3 = st.columns(3)
    s1.image(cyclelab.grid(probe["gx_noisy"]), caption=f"G(x) + noise (std {std})")
    s2.image(cyclelab.grid(e["fgx"]), caption="F(G(x))")
    s3.image(cyclelab.grid(probe["fgx_noisy"]), caption="F(G(x) + noise)")
    m1, m2, m3 = st.columns(3)
    m1.metric("|F(G(x)) − x| per pixel", f"{probe['err']:.3f}")
    m2.metric("|F(G(x) + noise) − x| per pixel", f"{probe['err_noisy']:.3f}",
              delta=f"{probe['err_noisy'] - probe['err']:+.3f}", delta_color="inverse")  # fmt: skip
    m3.metric("the noise, mean |n| per pixel", f"{probe['noise']:.3f}",
              help="F = T⁻¹ exactly (F(y) = −y) would give |F(G(x) + n) − F(G(x))| = |n|: a rise of about this "
              "much means F passes the noise through; a rise much larger means F amplifies invisible "
              "detail, which is where a hidden x would sit")  # fmt: skip
    st.caption("On all 1,797 fixed x; the noise is drawn once per level with its own seed, and G(x) + noise "
               "is not clipped to [−1, 1] (the grid clips it for display only).")  # fmt: skip
    key = (view.run_id, shot.step)
    fig = ui.cached_figure(PAGE, "labels", key, lambda: cyclelab.label_figure(e["table"], f"{PAGE}_labels"))
    st.plotly_chart(fig, width="stretch", key=f"{PAGE}_labels_chart", config={"displaylogo": False})
    st.caption("Row i: the digits i of X, and what the classifier of Y reads in their G(x). Label "
               "preservation is the diagonal; a whole column lit is G sending every digit to one digit.")  # fmt: skip
    if view.metrics.get("step"):
        left, mid, right = st.columns(3)
        hist_key = (view.run_id, shots[-1].step)
        with left:
            fig = ui.cached_figure(PAGE, "losses", hist_key, lambda: cyclelab.history_figure(
                view.metrics, _LOSSES, "Loss terms", f"{PAGE}_losses"))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_losses_chart", config={"displaylogo": False})
        with mid:
            fig = ui.cached_figure(PAGE, "readouts", hist_key, lambda: cyclelab.history_figure(
                view.metrics, _IMAGE_READOUTS, "Label preservation", f"{PAGE}_readouts", percent=True))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_readouts_chart", config={"displaylogo": False})
        with right:
            fig = ui.cached_figure(PAGE, "errors", hist_key, lambda: cyclelab.history_figure(
                view.metrics, _IMAGE_ERRORS, "Errors per pixel (pixels in [−1, 1])", f"{PAGE}_errors"))  # fmt: skip
            st.plotly_chart(fig, width="stretch", key=f"{PAGE}_errors_chart", config={"displaylogo": False})


def render(view: live.RunView) -> None:
    """The live panel: the plane at one snapshot, the mode table, and the readouts over steps."""
    if view.config.data in domains.IMAGE_NAMES:
        render_images(view)
        return
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
             "and the readouts (for the digits: the images, label preservation and the steganography probe) "
             "appear here.")  # fmt: skip
