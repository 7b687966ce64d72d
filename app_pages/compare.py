"""Compare: two to four runs (this session's, uploaded, recorded) side by side."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gan_demo import (
    compare,
    diagnosis_panel,
    diagnostics,
    plots,
    presets,
    runs_panel,
    toys,
    ui,
)
from gan_demo.content import t
from gan_demo.runs import live, recordings

PAGE = "compare"
PICK = "compare_runs"
LETTERS = "ABCD"
HIGHLIGHT = "background-color: #fff3b0; font-weight: 600"  # i18n-ok: CSS of the rows that differ, not text

st.title(t("compare.title"))
st.markdown(t("compare.intro"))


def _sources() -> dict[str, tuple[str, object]]:
    """key -> (label, the run: a live live.Run or a RunData)."""
    out: dict[str, tuple[str, object]] = {}
    for run in ui.registry().runs_for(ui.session_id()):
        cfg = run.config
        out[f"live:{run.run_id}"] = (t("compare.source_live", loss=cfg.loss, data=cfg.data, run_id=run.run_id,
                                       status=runs_panel.status_text(run.status)), run)  # fmt: skip
    for key, run in runs_panel.uploads().items():
        out[f"upload:{key}"] = (t("compare.source_upload", key=key, loss=run.config.loss, data=run.config.data), run)
    for name in runs_panel.recorded():
        title = recordings.get(name).title if name in recordings.VARIANTS or name in presets.PRESETS else name
        out[f"recording:{name}"] = (t("compare.source_recording", title=str(title)), ("recording", name))
    return out


def _view(item: object) -> live.RunView | None:
    if isinstance(item, live.Run):
        return item.view()
    if isinstance(item, tuple):
        run = runs_panel.source(item)
        return None if run is None else run.view(run_id=f"recording-{item[1]}")
    return item.view(run_id=f"upload-{item.name}")


def _pick(keys: list[str], metric: str) -> None:
    st.session_state[PICK] = keys
    st.session_state[f"{PAGE}_metric"] = metric
    st.session_state.pop(f"{PAGE}_step", None)  # a lesson opens at its runs' last step, not the last lesson's step


def _lessons(sources: dict[str, tuple[str, object]]) -> None:
    ready = [lesson for lesson in recordings.LESSONS if all(f"recording:{n}" in sources for n in lesson[1])]
    if not ready:
        return
    cols = st.columns(len(ready))
    for col, (title, names, _, metric) in zip(cols, ready, strict=True):
        col.button(str(title), key=f"{PAGE}_lesson_{names[0]}", on_click=_pick,
                   args=([f"recording:{n}" for n in names], metric), icon=":material/school:", width="stretch")  # fmt: skip
    chosen = st.session_state.get(PICK, [])
    for title, names, text, _ in ready:
        if chosen == [f"recording:{n}" for n in names]:
            st.info(t("compare.lesson_box", title=title, text=text), icon=":material/school:")


def _numbers(shot: live.Snapshot) -> str:
    """The snapshot's quality numbers, as the run's own page shows them (from its extras)."""
    ex = shot.extras
    if "captured" in ex:  # 2-D mixtures: toys.mode_stats on the 2,500 fixed-noise samples
        return t("compare.numbers_modes", captured=ex["captured"], n_modes=ex["n_modes"],
                 high_quality=100 * ex["high_quality"])  # fmt: skip
    if "js" in ex:  # 1-D: onedim.sample_fit
        return t("compare.numbers_1d", js=ex["js"], js_floor=ex["js_floor"], w1=ex["w1"])
    if q := ex.get("quality"):  # images: gan_demo.metrics.quality.report
        return t("compare.numbers_images", fd=q["fd"], fd_floor=q["fd_floor"], n=q["n"], coverage=q["coverage"],
                 classes=len(q["counts"]))  # fmt: skip
    return ""


def _samples(view: live.RunView, shot: live.Snapshot | None) -> None:
    if shot is None:
        st.caption(t("compare.no_snapshot"))
        return
    if shot.samples.ndim == 4:
        st.image(plots.image_grid(shot.samples, min_width=240), caption=t("compare.grid_caption", step=shot.step))
        if numbers := _numbers(shot):
            st.caption(numbers)
        return
    pts = np.asarray(shot.samples, dtype=np.float32)
    fig = go.Figure()
    if pts.shape[1] == 2:
        fig.add_scattergl(x=pts[:1000, 0], y=pts[:1000, 1], mode="markers", marker={"size": 3, "color": "#d62728"},
                          name="G")  # fmt: skip
        ext = toys.get(view.config.data).extent  # the 2-D page's view: [-extent, extent] on both axes
        fig.update_layout(xaxis={"range": [-ext, ext]}, yaxis={"range": [-ext, ext], "scaleanchor": "x"})
    else:
        fig.add_histogram(x=pts[:, 0], nbinsx=80, marker_color="#d62728", name="G")
    fig.update_layout(height=260, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False)
    st.plotly_chart(fig, width="stretch", key=f"{PAGE}_samples_{view.run_id}", config={"displaylogo": False})
    numbers = _numbers(shot)
    st.caption(t("compare.points_caption_numbers", step=shot.step, numbers=numbers) if numbers
               else t("compare.points_caption", step=shot.step))  # fmt: skip


def _diagnosis(view: live.RunView) -> None:
    findings = diagnostics.diagnose_view(view)
    if not findings:
        st.caption(t("compare.warming_up", steps=diagnostics.WARMUP_STEPS))
        return
    head = findings[0]
    box = {"error": st.error, "warning": st.warning, "info": st.info, "ok": st.success}[head.severity]
    box(f"**{head.title}** ({head.rule})  \n{head.evidence}", icon=diagnosis_panel.ICONS[head.severity])


def _upto(view: live.RunView, step: int) -> live.RunView:
    keep = sum(1 for s in view.metrics.get("step", []) if s <= step)
    return dataclasses.replace(view, metrics={k: v[:keep] for k, v in view.metrics.items()},
                               snapshots=tuple(s for s in view.snapshots if s.step <= step), step=min(step, view.step))  # fmt: skip


def main() -> None:
    sources = _sources()
    _lessons(sources)
    if PICK in st.session_state:  # a run that is gone (an old upload, a forgotten live run) leaves the pick
        st.session_state[PICK] = [k for k in st.session_state[PICK] if k in sources]
    picked = st.multiselect(t("compare.runs"), list(sources), key=PICK, max_selections=4,
                            format_func=lambda k: sources[k][0], placeholder=t("compare.runs_placeholder"))  # fmt: skip
    with st.expander(t("compare.open_zip"), icon=":material/upload_file:"):
        runs_panel.upload(PAGE)
    if len(picked) < 2:
        st.info(t("compare.pick_two"))
        return
    views = [(LETTERS[i], sources[k][0], v) for i, k in enumerate(picked) if (v := _view(sources[k][1])) is not None]
    st.caption(t("compare.legend", runs=" · ".join(t("compare.legend_item", letter=letter, label=label)
                                                    for letter, label, _ in views)))  # fmt: skip

    metrics = compare.common_metrics([v.metric_names for _, _, v in views])
    if metrics:
        metric = st.selectbox(t("compare.metric"), metrics, key=f"{PAGE}_metric", format_func=compare.metric_label)
        fig = compare.overlay_figure([(t("compare.trace", letter=letter, loss=v.config.loss, data=v.config.data), v.metrics)
                                      for letter, _, v in views], metric)  # fmt: skip
        st.plotly_chart(fig, width="stretch", key=f"{PAGE}_chart", config={"displaylogo": False})

    steps = sorted({s.step for _, _, v in views for s in v.snapshots})
    step = steps[-1] if len(steps) < 2 else st.select_slider(
        t("compare.step"), steps, value=steps[-1], key=f"{PAGE}_step", help=t("compare.step_help"))
    for col, (letter, _, v) in zip(st.columns(len(views)), views, strict=True):
        with col:
            st.markdown(t("compare.column", letter=letter, loss=v.config.loss, data=v.config.data,
                          step=min(step, v.step), total=v.total_steps))  # fmt: skip
            at = _upto(v, step)
            _samples(at, compare.snapshot_at(v.snapshots, step))
            _diagnosis(at)

    st.subheader(t("compare.settings"))
    rows, differ = compare.config_table([letter for letter, _, _ in views], [v.config for _, _, v in views])
    rows.sort(key=lambda r: r[0] not in differ)  # the settings that differ first (a stable sort keeps the order)
    column = t("compare.setting_column")
    frame = pd.DataFrame(rows, columns=[column, *(letter for letter, _, _ in views)]).astype(str)
    styled = frame.style.apply(lambda r: [HIGHLIGHT if r[column] in differ else "" for _ in r], axis=1)
    st.caption(t("compare.differ", fields=", ".join(differ) or t("compare.differ_none")))
    st.dataframe(styled, hide_index=True, width="stretch", height=36 * (len(rows) + 1) + 2)


main()
