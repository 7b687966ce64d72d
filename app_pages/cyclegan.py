"""CycleGAN: unpaired translation between two domains related by a known map T (2-D points, or digits
and their inverted copies), so the student can see where each mode (or digit) lands, and what the
cycle loss does not fix."""

from __future__ import annotations

import streamlit as st

from gan_demo import cyclelab, domains, language, presets, theory, ui
from gan_demo.content import t
from gan_demo.metrics.classifier import ClassifierUnavailable
from gan_demo.runs import live

PAGE = "cyclegan"

st.title(t("cyclegan.title"))
st.markdown(t("cyclegan.intro"))
pair = domains.get(domains.NAMES[0])
image_pair = domains.get(domains.IMAGE_NAMES[0])
st.markdown(t("cyclegan.pair_2d", title=pair.title, t_text=pair.t_text))
st.markdown(t("cyclegan.pair_images", title=image_pair.title, t_text=image_pair.t_text))
with st.expander(t("cyclegan.objective_expander"), expanded=False):
    st.markdown(theory.CYCLE_TEXT)
    for formula in theory.CYCLE_FORMULAS:
        st.latex(formula)
    st.caption(t("cyclegan.objective_code"))
_LESSONS = presets.for_page(PAGE)
st.markdown(t("cyclegan.lessons_2d"))
for p in _LESSONS:
    if p.config().data not in domains.IMAGE_NAMES:
        st.markdown(f"- [{p.title}]({language.href(PAGE, preset=p.name)})")
st.markdown(t("cyclegan.lessons_images"))
for p in _LESSONS:
    if p.config().data in domains.IMAGE_NAMES:
        st.markdown(f"- [{p.title}]({language.href(PAGE, preset=p.name)})")

_, errors = ui.config_form(PAGE, domains.NAMES, objective="cyclegan")
ui.run_controls(PAGE, errors, snapshot_fn=cyclelab.snapshot)

_LOSSES = {"loss_gan_g": t("cyclegan.loss_gan_g"), "loss_gan_f": t("cyclegan.loss_gan_f"),
           "loss_cyc_x": "‖F(G(x)) − x‖₁", "loss_cyc_y": "‖G(F(y)) − y‖₁", "loss_id": t("cyclegan.loss_id"),
           "loss_d_x": t("cyclegan.loss_d_x"), "loss_d_y": t("cyclegan.loss_d_y")}  # fmt: skip
_READOUTS = {"cycle_err": t("cyclegan.readout_cycle_err"), "cycle_err_y": t("cyclegan.readout_cycle_err_y"),
             "dist_t": t("cyclegan.readout_dist_t"), "t_match": t("cyclegan.readout_t_match")}  # fmt: skip
_IMAGE_READOUTS = {"label_kept": t("cyclegan.img_readout_label"), "label_kept_f": t("cyclegan.img_readout_label_f")}
_IMAGE_ERRORS = {"cycle_err": t("cyclegan.img_err_cycle"), "cycle_err_y": t("cyclegan.img_err_cycle_y"),
                 "dist_t": t("cyclegan.img_err_dist_t")}  # fmt: skip


def _grids(e: dict, names: tuple[str, str, str], labels: tuple[str, str, str]) -> None:
    for col, name, label in zip(st.columns(3), names, labels, strict=True):
        col.image(cyclelab.grid(e[name]), caption=label)


def _chart(name: str, key: tuple, build) -> None:
    """One Plotly chart, built once per run and snapshot for the whole server (ui.cached_figure)."""
    fig = ui.cached_figure(PAGE, name, key, build)
    st.plotly_chart(fig, width="stretch", key=f"{PAGE}_{name}_chart", config={"displaylogo": False})


def _histories(view: live.RunView, last_step: int, charts: tuple[tuple[str, dict, str, bool], ...]) -> None:
    """Side by side, the logged metrics over steps: one chart per (name, metric labels, title, percent),
    redrawn with each snapshot, not at every redraw."""
    if not view.metrics.get("step"):
        return
    key = (view.run_id, last_step)
    for column, (name, names, title, percent) in zip(st.columns(len(charts)), charts, strict=True):
        with column:
            _chart(name, key, lambda name=name, names=names, title=title, percent=percent: cyclelab.history_figure(
                view.metrics, names, title, f"{PAGE}_{name}", percent=percent))  # fmt: skip


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
        st.warning(t("cyclegan.no_classifier", error=str(err)))
        heldout = ceiling = float("nan")
    a, b, c, d = st.columns(4)
    a.metric(t("cyclegan.metric_label_kept"), f"{100 * e['label_kept']:.1f} %",
             help=t("cyclegan.metric_label_kept_help", ceiling=100 * ceiling))
    b.metric(t("cyclegan.metric_label_kept_f"), f"{100 * e['label_kept_f']:.1f} %",
             help=t("cyclegan.metric_label_kept_f_help"))
    c.metric(t("cyclegan.metric_cycle"), f"{e['cycle_err']:.3f}",
             help=t("cyclegan.metric_cycle_img_help", other=e["cycle_err_y"]))
    d.metric(t("cyclegan.metric_dist_t"), f"{e['dist_t']:.3f}", help=t("cyclegan.metric_dist_t_img_help"))
    st.caption(t("cyclegan.classifier_caption", heldout=100 * heldout, ceiling=100 * ceiling, step=shot.step,
                 classes=e["y_classes"]))  # fmt: skip
    st.markdown(t("cyclegan.batch_x"))
    _grids(e, ("x", "gx", "fgx"), (t("cyclegan.cap_x"), t("cyclegan.cap_gx"), t("cyclegan.cap_fgx")))
    st.markdown(t("cyclegan.batch_y"))
    _grids(e, ("y", "fy", "gfy"), (t("cyclegan.cap_y"), t("cyclegan.cap_fy"), t("cyclegan.cap_gfy")))

    st.markdown(t("cyclegan.stego_intro"))
    levels = [p["std"] for p in e["stego"]]
    std = st.select_slider(t("cyclegan.stego_slider"), levels, value=levels[1], key=f"{PAGE}_stego_std")
    probe = e["stego"][levels.index(std)]
    s1, s2, s3 = st.columns(3)
    s1.image(cyclelab.grid(probe["gx_noisy"]), caption=t("cyclegan.cap_noisy", std=std))
    s2.image(cyclelab.grid(e["fgx"]), caption=t("cyclegan.cap_fgx_plain"))
    s3.image(cyclelab.grid(probe["fgx_noisy"]), caption=t("cyclegan.cap_fgx_noisy"))
    m1, m2, m3 = st.columns(3)
    m1.metric(t("cyclegan.stego_err"), f"{probe['err']:.3f}")
    m2.metric(t("cyclegan.stego_err_noisy"), f"{probe['err_noisy']:.3f}",
              delta=f"{probe['err_noisy'] - probe['err']:+.3f}", delta_color="inverse")  # fmt: skip
    m3.metric(t("cyclegan.stego_noise"), f"{probe['noise']:.3f}", help=t("cyclegan.stego_noise_help"))
    st.caption(t("cyclegan.stego_caption"))
    key = (view.run_id, shot.step)
    _chart("labels", key, lambda: cyclelab.label_figure(e["table"], f"{PAGE}_labels"))
    st.caption(t("cyclegan.labels_caption"))
    _histories(view, shots[-1].step, (("losses", _LOSSES, t("cyclegan.chart_losses"), False),
                                      ("readouts", _IMAGE_READOUTS, t("cyclegan.chart_labels"), True),
                                      ("errors", _IMAGE_ERRORS, t("cyclegan.chart_errors"), False)))  # fmt: skip


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
    a.metric(t("cyclegan.metric_cycle"), f"{100 * e['cycle_err']:.1f} %",
             help=t("cyclegan.metric_cycle_help", other=100 * e["cycle_err_y"]))
    b.metric(t("cyclegan.metric_dist_t"), f"{100 * e['dist_t']:.1f} %", help=t("cyclegan.metric_dist_t_help"))
    c.metric(t("cyclegan.metric_y_modes"), f"{e['y_modes']} / {len(pair.modes)}",
             help=t("cyclegan.metric_y_modes_help"))
    d.metric(t("cyclegan.metric_t_match"), f"{100 * e['t_match']:.0f} %", help=t("cyclegan.metric_t_match_help"))
    left, right = st.columns(2)
    key = (view.run_id, shot.step)
    with left:
        _chart("forward", key, lambda: cyclelab.forward_figure(e, pair, f"{PAGE}_forward"))
    with right:
        _chart("backward", key, lambda: cyclelab.backward_figure(e, pair, f"{PAGE}_backward"))
    st.caption(t("cyclegan.planes_caption", step=shot.step))
    _chart("mapping", key, lambda: cyclelab.mapping_figure(e["mapping"], f"{PAGE}_mapping"))
    st.caption(t("cyclegan.mapping_caption"))
    _histories(view, shots[-1].step, (("losses", _LOSSES, t("cyclegan.chart_losses"), False),
                                      ("readouts", _READOUTS, t("cyclegan.chart_readouts"), True)))  # fmt: skip

ui.live_view(PAGE, render, every_s=ui.TOY_RUN_EVERY_S, empty=t("cyclegan.empty"))
