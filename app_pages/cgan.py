"""Conditional GAN: G(z, y) draws the class it is asked for; D(x, y) checks image and label."""

from __future__ import annotations

import streamlit as st

from gan_demo import (
    cgan_diagnosis,
    cgan_views,
    diagnosis_panel,
    language,
    losses,
    plots,
    presets,
    theory,
    ui,
)
from gan_demo.content import t
from gan_demo.data import CLASS_NAMES, IMAGE_DATASETS
from gan_demo.metrics import quality
from gan_demo.train.cgan import GRID_COLUMNS

PAGE = "cgan"
_SECTION = next(s for s in theory.SECTIONS if losses.conditional_d_terms in s.code)  # the cGAN section

st.title(t("cgan.title"))
st.markdown(t("cgan.intro"))
with st.expander(t("cgan.objective_expander")):
    for formula in _SECTION.formulas:
        st.latex(formula)
    st.markdown(str(_SECTION.text))
    st.code(theory.source(_SECTION.code[0]), language="python")
st.markdown(t("cgan.presets_intro"))
for p in presets.for_page(PAGE):
    st.markdown(f"- [{p.title}]({language.href(PAGE, preset=p.name)})")
values, errors = ui.config_form(PAGE, IMAGE_DATASETS, objective="cgan")
ui.run_controls(PAGE, errors, cgan_views.snapshot_fn())


def _class_picker(label: str, names: tuple[str, ...], key: str, default: int = 0) -> int:
    return st.selectbox(label, range(len(names)), index=default, format_func=lambda k: f"{k}: {names[k]}",
                        key=ui._key(PAGE, key), persist_state="session")  # fmt: skip


def _generator_views(view, names: tuple[str, ...]) -> None:
    """"Pick a digit" and class interpolation, on the copy of G at the latest snapshot."""
    holder = next((s.extras["latest_g"] for s in reversed(view.snapshots) if "latest_g" in s.extras), None)
    step, state = holder.get() if holder is not None else (-1, None)
    if state is None:
        st.caption(t("cgan.no_weights_yet"))
        return None, -1
    G = ui.cached_figure(PAGE, "G", (view.run_id, step), lambda: cgan_views.generator_from(view.config, state))
    return G, step


def render(view) -> None:
    ui.progress(view)
    names = tuple(quality.class_labels(CLASS_NAMES[view.config.data]))  # in the reader's language
    shots = [s for s in view.snapshots if s.samples.ndim == 4]
    reports = [(s.step, s.extras["cgan"]) for s in view.snapshots if "cgan" in s.extras]
    tabs = ("grid", "pick", "interp", "accuracy", "frechet", "curves")
    grid, pick, interp, acc, fd, curves = st.tabs([t(f"cgan.tab.{name}") for name in tabs])
    with grid:
        if shots:
            shot = ui.pick_snapshot(PAGE, shots, view.run_id)
            st.image(plots.image_grid(shot.samples, nrow=GRID_COLUMNS),
                     caption=t("cgan.grid_caption", step=shot.step, first=", ".join(names[:3])))
    G, step = None, -1
    with pick:
        G, step = _generator_views(view, names)
        if G is not None:
            k = _class_picker(t("cgan.class"), names, "pick_class")
            pic = ui.cached_figure(PAGE, "pick", (view.run_id, step, k),
                                   lambda: plots.image_grid(cgan_views.class_samples(G, k, 64, seed=0).numpy(), nrow=8))
            st.image(pic, caption=t("cgan.pick_caption", n=64, name=names[k], step=step))
    with interp:
        if G is not None:
            c0, c1, c2 = st.columns(3)
            with c0:
                y0 = _class_picker(t("cgan.from_class"), names, "interp_from", 1)
            with c1:
                y1 = _class_picker(t("cgan.to_class"), names, "interp_to", 7)
            with c2:
                seed = st.number_input(t("cgan.z_seed"), 0, 10_000, 0, key=ui._key(PAGE, "interp_seed"), persist_state="session")
            def build():
                frames = cgan_views.interpolation_frames(G, y0, y1, 12, int(seed))
                return frames, cgan_views.gif_bytes(frames)

            frames, gif = ui.cached_figure(PAGE, "interp", (view.run_id, step, y0, y1, int(seed)), build)
            left, right = st.columns([1, 2])
            with left:
                st.image(gif, caption=t("cgan.interp_caption", start=names[y0], end=names[y1]))
                st.download_button(t("cgan.gif"), data=gif, file_name=f"cgan-{y0}-to-{y1}-step{step}.gif", mime="image/gif",
                                   key=ui._key(PAGE, "gif"), on_click="ignore", icon=":material/download:")  # fmt: skip
            with right:
                st.image(plots.image_grid((frames[:, None] / 127.5 - 1.0), nrow=len(frames)),
                         caption=t("cgan.frames_caption"))  # fmt: skip
    with acc:
        if reports:
            fig = ui.cached_figure(PAGE, "acc", (view.run_id, len(reports)),
                                   lambda: cgan_views.accuracy_figure(reports, view.run_id))
            st.plotly_chart(fig, width="stretch", key=ui._key(PAGE, "acc_chart"))
        else:
            st.caption(t("cgan.no_classifier"))
    with fd:
        if reports:
            fig = ui.cached_figure(PAGE, "fd", (view.run_id, reports[-1][0]),
                                   lambda: cgan_views.frechet_figure(reports[-1][1], reports[-1][0], view.run_id))
            st.plotly_chart(fig, width="stretch", key=ui._key(PAGE, "fd_chart"))
    with curves:
        ui.curves(view, PAGE)
    st.subheader(t("cgan.diagnosis_header"))
    found = cgan_diagnosis.diagnose([{**r, "step": s} for s, r in reports], view.config.condition,
                                    view.config.mismatch_weight)  # fmt: skip
    if not found:
        st.info(t("cgan.judged_after", warmup=cgan_diagnosis.WARMUP_STEPS, step=view.step))
    for f in found:
        box = {"warning": st.warning, "ok": st.success}.get(f.severity, st.info)
        box(f"**{f.title}** ({f.rule})  \n{f.evidence}")
        st.markdown(t("cgan.what_to_try", advice=f.advice))
    diagnosis_panel.render(view)


ui.live_view(PAGE, render)
