"""Saved runs in the app: Replay of a recording or an uploaded run, the upload, and the downloads.

A page shows a *replay* instead of its live run while one is open (``st.session_state
["<page>_replay"]``): a recorded preset (``checkpoints/runs``, loaded once per server process, so it
opens at once however busy the server is) or a run this session uploaded. A slider picks the step the
run is shown at: the charts, the sample grid and the diagnosis get the run as it was at that step
(:meth:`RunData.view` with ``upto``), as if it had just trained that far. **Train it live** fills the
page's form with the run's settings and starts it; Start does the same for the form's settings.

Uploaded runs live in this browser session (at most :data:`MAX_UPLOADS`); the Compare page lists
them with this session's runs and the recordings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import streamlit as st

from gan_demo.content import Msg, t
from gan_demo.runs import archive, export, live, recordings
from gan_demo.runs.folder import RunData, RunFormatError

UPLOADS = "gan_uploaded_runs"  # session_state: {key: RunData}
MAX_UPLOADS = 8
STATUSES = ("queued", "starting", "running", "paused", "done", "stopped", "failed", "replay")  # runs.status.<s>


def _key(page: str, name: str) -> str:
    return f"{page}_{name}"


# ---------------------------------------------------------------- sources
@st.cache_resource(show_spinner=False)
def recording(name: str) -> RunData:
    """A preset's recording, read and checked once per server process (shared, read-only)."""
    return recordings.load(name)


def recorded() -> dict[str, dict]:
    """The recordings' index entries by preset name."""
    return recordings.entries()


def uploads() -> dict[str, RunData]:
    return st.session_state.setdefault(UPLOADS, {})


def source(ref: tuple[str, str]) -> RunData | None:
    """("recording", preset) or ("upload", key) -> the run, or None if it is gone."""
    kind, name = ref
    if kind == "recording":
        try:
            return recording(name)
        except RunFormatError:
            return None
    return uploads().get(name)


def label(ref: tuple[str, str]) -> str:
    kind, name = ref
    return t("runs.label_recording", name=name) if kind == "recording" else t("runs.label_upload", name=name)


def status_text(status: str) -> str:
    """A run's status ("done", "paused", ...) in the reader's language (an unknown one as it is)."""
    return t(f"runs.status.{status}") if status in STATUSES else status


# ---------------------------------------------------------------- replay
def open_replay(page: str, ref: tuple[str, str]) -> None:
    st.session_state[_key(page, "replay")] = ref


def close_replay(page: str) -> None:
    st.session_state.pop(_key(page, "replay"), None)


def replay_open(page: str) -> bool:
    return st.session_state.get(_key(page, "replay")) is not None


def replay_of_preset(page: str, preset: str) -> bool:
    """Open the recording of ``preset`` on ``page`` if there is one; whether it was opened."""
    if preset in recorded():
        open_replay(page, ("recording", preset))
        return True
    return False


def _train_live(page: str, run: RunData) -> None:
    from gan_demo import ui
    from gan_demo.runs.loop import snapshot_fn

    values = {**run.config.to_dict(), "device": "auto"}
    ui.write_form(page, values)
    ui.start(page, snapshot_fn(run.config))  # closes the replay, or keeps it while the run waits in the queue


def replay_panel(page: str, render: Callable[[live.RunView], None], offer_live: bool = True) -> bool:
    """Draw the page's open replay (header, "Train it live" unless ``offer_live`` is False, step
    slider, ``render(view)``); False when none is open. When every training slot of the server is
    taken, it says that "Train it live" waits in the queue, and that the replay stays meanwhile."""
    ref = st.session_state.get(_key(page, "replay"))
    run = source(ref) if ref else None
    if run is None:
        return False
    made = run.manifest.get("made_by", {})
    st.info(t("runs.replay_info", label=label(ref), steps=run.step, status=status_text(run.manifest["status"]),
              made=made.get("command") or made.get("tool", "?")), icon=":material/replay:")  # fmt: skip
    if offer_live:
        from gan_demo import ui

        a, b, _ = st.columns([1, 1, 3])
        a.button(t("runs.train_live"), icon=":material/play_arrow:", key=_key(page, "train_live"), type="primary",
                 on_click=_train_live, args=(page, run), width="stretch", help=t("runs.train_live_help"))  # fmt: skip
        b.button(t("runs.close_replay"), icon=":material/close:", key=_key(page, "close_replay"),
                 on_click=close_replay, args=(page,), width="stretch")  # fmt: skip
        registry = ui.registry()
        if registry.running_count() >= registry.max_running:
            st.caption(t("runs.server_full", slots=registry.max_running, waiting=registry.queued_count()))
    steps = [s.step for s in run.snapshots]
    name = hashlib.sha1(repr(ref).encode()).hexdigest()[:8]
    at = st.select_slider(t("runs.replay_step"), steps, value=steps[-1], key=_key(page, f"replay_step_{name}"),
                          help=t("runs.replay_step_help"))  # fmt: skip
    render(run.view(run_id=f"replay-{name}-{at}", upto=at))
    return True


# ---------------------------------------------------------------- upload and downloads
def upload(page: str, data_names: tuple[str, ...] = ()) -> None:
    """An uploader for a run ``.zip``; a valid one is kept in this session and opened as a replay on
    this page when its data is one of ``data_names``. A bad or foreign file gets the message naming
    the problem, and nothing runs."""
    file = st.file_uploader(t("runs.upload"), type=["zip"], key=_key(page, "upload"),
                            help=t("runs.upload_help", max_mb=archive.MAX_ZIP_BYTES // 2**20, allowed=archive.ALLOWED))
    if file is None:
        return
    seen = st.session_state.get(_key(page, "upload_seen"))
    if seen and seen[0] == file.file_id:
        if seen[1]:
            st.error(str(seen[1]), icon=":material/error:")  # a Msg: in the language of the moment
        return
    try:
        run = archive.from_zip(file.getvalue(), file.name)
    except RunFormatError as e:
        refusal = Msg("runs.not_opened", error=e)  # e holds a Msg: names the file, what is wrong, what is allowed
        st.session_state[_key(page, "upload_seen")] = (file.file_id, refusal)
        st.error(str(refusal), icon=":material/error:")
        return
    store = uploads()
    key = file.name.removesuffix(".zip")
    while key in store:
        key += "+"
    store[key] = run
    while len(store) > MAX_UPLOADS:
        store.pop(next(iter(store)))
    st.session_state[_key(page, "upload_seen")] = (file.file_id, None)
    here = run.config.data in data_names
    if not data_names:  # a page that replays nothing itself (Compare): the run joins its list
        where = t("runs.opened_compare")
    elif here:
        where = t("runs.opened_here")
    else:
        where = t("runs.opened_elsewhere")
    st.success(t("runs.opened", file=file.name, loss=run.config.loss, data=run.config.data, step=run.step, where=where),
               icon=":material/check:")  # fmt: skip
    if here:
        open_replay(page, ("upload", key))


def zip_source(page: str, view: Any) -> Callable[[], bytes] | None:
    """How to build the zip of what the page shows (an open replay's run, or the page's paused or
    finished run), or None when there is nothing to zip. Everything the session knows is looked up
    here, in the page's script thread: Streamlit calls a download button's ``data`` callable later,
    outside it, where ``st.session_state`` is empty (the zip came out as 0 bytes that way)."""
    from gan_demo import ui

    ref = st.session_state.get(_key(page, "replay"))
    if ref:
        kind, name = ref
        if kind == "recording":
            entry = recorded().get(name, {})
            path = recordings.CHECKPOINTS / entry["file"] if entry else None
            return None if path is None else path.read_bytes
        run = uploads().get(name)
        return None if run is None else (lambda: archive.to_zip(run.files, name))
    current = ui.current_run(page)
    if current is None or current.run_id != view.run_id:
        return None
    name = f"gan-run-{current.run_id}"
    return lambda: archive.to_zip(current.files(name=name, made_by={"tool": "app"}), name)


def downloads(page: str, view: Any, shot: live.Snapshot | None) -> None:
    """The shown grid as PNG, the fixed-noise grids as a GIF, the whole run as a .zip."""
    if shot is not None and shot.samples.ndim == 4:
        st.download_button(t("runs.png"), data=lambda: export.png_bytes(shot.samples),
                           file_name=f"gan-samples-step{shot.step}.png", mime="image/png",
                           key=_key(page, "png"), on_click="ignore", icon=":material/image:")  # fmt: skip
        image_shots = [s for s in view.snapshots if s.samples.ndim == 4]
        st.download_button(t("runs.gif"), data=lambda: export.gif_bytes(image_shots),
                           file_name="gan-training.gif", mime="image/gif", key=_key(page, "gif"),
                           on_click="ignore", icon=":material/animation:")  # fmt: skip
    active = view.status in ("starting", "running")
    source = None if active else zip_source(page, view)
    st.download_button(t("runs.zip"), data=source or b"", file_name=f"{view.run_id}.zip",
                       mime="application/zip", key=_key(page, "zip"), on_click="ignore", icon=":material/folder_zip:",
                       disabled=active or source is None,
                       help=t("runs.zip_busy") if active else t("runs.zip_help"))  # fmt: skip
