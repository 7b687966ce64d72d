"""Streamlit pieces shared by the pages: the run registry, the config form, run controls, live panels.

Widget functions draw and return values; everything they compute comes from ``config``, ``runs.live``
and ``plots``. Every widget key starts with the page's name (``"train_lr_d"``), so two pages can
hold two forms and two runs. A page's run lives in the process-wide :class:`RunRegistry` (one per
server, in ``st.cache_resource``) under this browser session's id. When Streamlit releases the
session (its websocket closed: a tab closed or a network blip), a session-scoped resource tells the
registry, and the session's runs stop unless it is back within the grace period (60 s by default);
runs nobody watched for 15 minutes stop too.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st
import torch

from gan_demo import (
    config,
    content,
    data,
    diagnosis_panel,
    domains,
    losses,
    plots,
    presets,
    runs_panel,
    settings,
    toys,
)
from gan_demo.config import TrainConfig
from gan_demo.content import Msg, t
from gan_demo.runs import live, workers

RUN_EVERY_S = 1.0  # how often the live panel redraws while a run trains
TOY_RUN_EVERY_S = 0.5  # the toy pages redraw twice a second (their charts are cached per snapshot)
WATCHERS_PER_INTERVAL = 4  # a shared run's redraw interval grows by one every_s per this many watchers


@dataclass(frozen=True)
class PageInfo:
    """A menu entry: its script, its catalogue name (title ``app.page_<name>``, Home's line about it
    ``app.blurb_<name>``), icon and URL path."""

    path: str
    name: str
    icon: str
    url_path: str | None = None

    @property
    def title(self) -> str:
        return t(f"app.page_{self.name}")

    @property
    def blurb(self) -> str:
        return t(f"app.blurb_{self.name}")


# The app's pages, in menu order: app.py builds st.navigation from this, Home links to each one.
PAGES: tuple[PageInfo, ...] = (
    PageInfo("app_pages/home.py", "home", ":material/home:"),
    PageInfo("app_pages/train.py", "train", ":material/model_training:", "train"),
    PageInfo("app_pages/d_star_1d.py", "d_star_1d", ":material/show_chart:", "d_star_1d"),
    PageInfo("app_pages/toys_2d.py", "toys_2d", ":material/scatter_plot:", "toys_2d"),
    PageInfo("app_pages/cgan.py", "cgan", ":material/category:", "cgan"),
    PageInfo("app_pages/cyclegan.py", "cyclegan", ":material/sync_alt:", "cyclegan"),
    PageInfo("app_pages/compare.py", "compare", ":material/compare:", "compare"),
    PageInfo("app_pages/theory.py", "theory", ":material/menu_book:", "theory"),
)


_T = TypeVar("_T")


# ---------------------------------------------------------------- process and session
@st.cache_resource(show_spinner=False)
def registry() -> live.RunRegistry:
    """The one run registry of this server process (it holds the concurrency cap).

    Its grace period (``GAN_DEMO_RECONNECT_GRACE_S``, 60 s by default) is capped at Streamlit's
    ``server.disconnectedSessionTTL`` (120 s by default): after that Streamlit may drop the
    disconnected session, and a browser that reconnects gets a new one, which cannot see the run."""
    ttl = float(st.get_option("server.disconnectedSessionTTL"))
    runs = live.RunRegistry(grace_s=min(settings.current().reconnect_grace_s, ttl))
    if runs.in_process:  # start the worker processes now, so a first Start does not wait for one
        workers.pool().warm()
    return runs


@dataclass(frozen=True)
class _SessionToken:
    session_id: str
    registry: live.RunRegistry


def _release_session(token: _SessionToken) -> None:
    """``on_release`` of the session token. Streamlit calls it on its event loop, which serves every
    session, when the session's websocket closes; so it only tells the registry, which notes the
    time and returns (the runs stop by themselves if the session is not back in time)."""
    token.registry.release(token.session_id)


@st.cache_resource(scope="session", show_spinner=False, on_release=_release_session)
def _session_token(session_id: str) -> _SessionToken:
    """Lives as long as the browser session's websocket: Streamlit releases it when the websocket
    closes (a tab closed, or a dropped connection that may come back: the session, with its
    ``st.session_state``, is kept for ``server.disconnectedSessionTTL`` s for a reconnect). The next
    rerun after a reconnect builds a new token and :func:`session_id` touches the session."""
    return _SessionToken(session_id, registry())


def session_id() -> str:
    """This browser session's id (a uuid in st.session_state); marks the session as active."""
    sid = st.session_state.setdefault("gan_session_id", uuid.uuid4().hex)
    _session_token(sid)
    registry().touch(sid)
    return sid


@st.cache_resource(show_spinner=False)
def device_label() -> str:
    """'CPU' or 'GPU: <name>', what a run with device 'auto' trains on."""
    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)}"
    return "CPU"


def data_problem(name: str, root: str | None = None) -> Msg | str | None:
    """Why an image data set cannot be loaded (DataUnavailable's message), or None if it can. The
    answer is cached for the whole server, so it is the exception's Msg (rendered by ``str()`` in each
    reader's language) when it was raised with one."""
    with st.spinner(t("ui.data_looking")):  # shows only when the lookup takes over half a second
        return _data_problem(name, root)


@st.cache_data(ttl=600, show_spinner=False)
def _data_problem(name: str, root: str | None = None) -> Msg | str | None:
    if name not in data.IMAGE_DATASETS:
        return None
    try:
        data.load_images(name, root)
    except (data.DataUnavailable, ValueError) as e:
        return data.message(e)  # a Msg, rendered when shown: the cache serves every language
    return None


data_problem.clear = _data_problem.clear  # type: ignore[attr-defined]  # forget the cached answers


def _detail(e: Exception) -> Msg | str:
    """An exception's message: the Msg it was raised with (kept, to render in the reader's language), else its text."""
    return e.args[0] if len(e.args) == 1 and isinstance(e.args[0], Msg) else str(e)


# ---------------------------------------------------------------- the config form
_FIELDS = tuple(f.name for f in dataclasses.fields(TrainConfig))

# The form's rows of settings per objective (a cell is a field name: a number box, a selectbox for a
# field with choices, or the optimizer's selectbox and lr_decay's checkbox): a form shows only what its objective's trainer uses. The fields it
# leaves out keep the values the form was filled with (the defaults, or a preset's).
FORM_ROWS: dict[str, tuple[tuple[str, ...], ...]] = {
    "gan": (("steps", "batch_size", "z_dim", "hidden", "seed"),
            ("optimizer", "lr_d", "lr_g", "beta1", "beta2"),
            ("d_steps", "clip", "gp_weight", "pack", "instance_noise", "lr_decay")),
    "cgan": (("steps", "batch_size", "z_dim", "hidden", "seed"),
             ("optimizer", "lr_d", "lr_g", "beta1", "beta2"),
             ("d_steps", "clip", "gp_weight", "lr_decay"),
             ("condition", "mismatch_weight", "label_dim")),
    "cyclegan": (("steps", "batch_size", "hidden", "seed"),
                 ("optimizer", "lr_d", "lr_g", "beta1", "beta2"),
                 ("lambda_cyc", "lambda_id", "d_steps", "clip", "gp_weight", "lr_decay")),
}  # fmt: skip
_LOGGING = ("log_every", "snapshot_every")


def form_numbers(objective: str = "gan") -> tuple[str, ...]:
    """The number fields the form of ``objective`` shows, in order (the Logging expander's last)."""
    return tuple(n for row in FORM_ROWS[objective] for n in row if n in config.NUMBERS) + _LOGGING


def _key(page: str, name: str) -> str:
    return f"{page}_{name}"


def form_entries(page: str) -> tuple[dict, dict[str, str]]:
    """The form's values as TrainConfig fields (from st.session_state), and a message for each number
    field whose entry is not of its type (``config.Field.from_form``: empty, not a number, 64.5 for
    an integer). An integer field's float-typed widget value 2000.0 comes back as the int 2000."""
    values, problems = {}, {}
    for name in _FIELDS:
        value = st.session_state[_key(page, name)]
        if name in config.NUMBERS:
            value, problem = config.FIELDS[name].from_form(value)
            if problem:
                problems[name] = problem
        values[name] = value
    return values, problems


def form_values(page: str) -> dict:
    """The form's current values as TrainConfig fields (see :func:`form_entries`)."""
    return form_entries(page)[0]


def form_errors(page: str) -> dict[str, str]:
    """Messages by field for the form's values: its entries' own (:func:`form_entries`) over
    ``config.check``'s type and range messages; empty when the form holds a valid config."""
    values, problems = form_entries(page)
    return {**config.check(values), **problems}


def preset_changes(page: str, values: dict) -> tuple[presets.Preset | None, list[str]]:
    """The preset chosen in the page's Preset box, and the fields (TrainConfig names) where the
    form's ``values`` differ from that preset's ``config()``: all of them are compared, because a
    preset's "watch for" numbers come from one seeded run of exactly that config (the seed, the
    logging interval and the device change them too). (None, []) when no preset is chosen."""
    chosen = st.session_state.get(_key(page, "preset"))
    if not chosen or chosen not in presets.PRESETS:
        return None, []
    preset = presets.get(chosen)
    try:
        expected = preset.config().to_dict()
    except config.ConfigError:
        return preset, []  # the box's own error says why it cannot be loaded
    return preset, [name for name in _FIELDS if values.get(name) != expected[name]]


def _write(page: str, values: dict) -> None:
    for name, value in values.items():
        if name in config.NUMBERS and config.FIELDS[name].kind is float:
            value = float(value)  # a float field's widget holds a float (its step is a float too)
        st.session_state[_key(page, name)] = value


write_form = _write  # for runs_panel's "Train it live"


def _on_loss_change(page: str) -> None:
    """The loss's classic defaults replace the optimizer settings (Adam 2e-4 vs RMSprop 5e-5...)."""
    _write(page, config.defaults_for(st.session_state[_key(page, "loss")],
                                     st.session_state[_key(page, "data")]))  # fmt: skip


def _on_preset_change(page: str) -> None:
    """The chosen preset fills the form; a preset whose values the config refuses (wrong type or
    range) leaves the form as it was and says why under the Preset box."""
    name = st.session_state[_key(page, "preset")]
    if name:
        try:
            values = presets.get(name).config().to_dict()
        except config.ConfigError as e:
            st.session_state[_key(page, "preset_error")] = Msg("ui.preset_cannot_load", name=name, error=_detail(e))
            return
        _write(page, values)


def pending_preset(page: str) -> presets.Preset | None:
    """The preset a ``?preset=<name>`` link asks for on this page, until the form has applied it.

    For a page whose own widgets above the form depend on the preset (the 1-D page's p_data and mode):
    it reads this before drawing them. An unknown name gives None (the form shows the error)."""
    name = presets.RENAMED.get(st.query_params.get("preset") or "", st.query_params.get("preset"))
    if not name or name not in {p.name for p in presets.for_page(page)}:
        return None
    return None if st.session_state.get(_key(page, "preset_from_url")) == name else presets.get(name)


def _preset_from_url(page: str) -> None:
    """?preset=<name> fills the form once; an unknown name shows the valid ones."""
    name = st.query_params.get("preset")
    if not name:
        return
    if name in presets.RENAMED:
        st.info(t("ui.preset_renamed", old=name, new=presets.RENAMED[name]), icon=":material/info:")
        name = presets.RENAMED[name]
    valid = [p.name for p in presets.for_page(page)]
    if name not in valid:
        titles = {p.url_path: p.title for p in PAGES if p.url_path}
        others = {p.name: titles.get(p.page, p.page) for p in presets.PRESETS.values()}
        listed = t("ui.list_sep").join(valid) or t("ui.preset_none_yet")
        if name in others:
            st.error(t("ui.preset_other_page", name=name, page=others[name], valid=listed))
        else:
            st.error(t("ui.preset_unknown", name=name, valid=listed))
        return
    if pending_preset(page) is not None:
        st.session_state[_key(page, "preset_from_url")] = name
        st.session_state[_key(page, "preset")] = name
        _on_preset_change(page)
        runs_panel.replay_of_preset(page, name)  # the recording opens at once (if there is one)


def config_form(page: str, data_choices: tuple[str, ...], objective: str = "gan") -> tuple[dict, dict[str, str]]:
    """The TrainConfig settings of ``objective`` as widgets (:data:`FORM_ROWS`); returns (values, errors
    by field: :func:`form_errors`).

    Changing the loss refills the optimizer settings with that loss's classic defaults. Each bad
    value's message is shown under its widget. The page trains ``objective`` and shows the fields its
    trainer reads (``FORM_ROWS[objective]``; the conditional GAN's own get a row of their own).
    """
    if _key(page, "loss") not in st.session_state:
        _write(
            page,
            {**TrainConfig().to_dict(), **config.defaults_for("non-saturating", data_choices[0]),
             "objective": objective},
        )
    st.session_state[_key(page, "objective")] = objective  # a page trains its own objective
    _preset_from_url(page)
    values = form_values(page)
    errors = form_errors(page)
    if "data" not in errors and (problem := data_problem(values["data"], values["data_root"])):
        errors["data"] = problem

    def note(name: str) -> None:
        if name in errors:
            st.error(str(errors[name]), icon=":material/error:")

    def number(name: str, disabled: bool = False) -> None:
        f = config.FIELDS[name]  # label, help, step and format all come from the config's table
        # Float-typed for integers too, with no default (value=None): an integer widget's frontend
        # reads "1e6" as 1 and "64.5" as 64 without a word, and a widget with a default turns an
        # empty or unparseable entry into that default. form_entries checks what was typed.
        st.number_input(f.label, value=None, step=float(f.step), format=f.format, help=f.help,
                        placeholder=f"{f.label}: {f.allowed()}", key=_key(page, name), disabled=disabled,
                        persist_state="session")  # fmt: skip
        note(name)

    page_presets = presets.for_page(page)
    preset, changed = preset_changes(page, values) if page_presets else (None, [])
    cols = st.columns(4 if page_presets else 3)
    if page_presets:
        with cols[-1]:
            # "" (no preset) first; the texts are made here, as a format_func may be called outside this run
            titles = {"": t("ui.preset_none"), **{p.name: p.title for p in page_presets}}
            # The box's label, not its option's text, says the form left the preset: the browser keeps
            # showing the text it had for the chosen value, and that text is the widget's value.
            label = t("ui.preset_changed") if preset is not None and changed else t("ui.preset")
            st.selectbox(label, list(titles), key=_key(page, "preset"),
                         format_func=lambda n: titles.get(n, n), persist_state="session",
                         on_change=_on_preset_change, args=(page,))  # fmt: skip
    with cols[0]:
        st.selectbox(config.FIELDS["data"].label, data_choices, key=_key(page, "data"), persist_state="session")
    with cols[1]:
        if all(name in domains.NAMES for name in data_choices):  # CycleGAN: MLPs, or convolutions for images
            st.selectbox(t("ui.model"), config.MODELS, key=_key(page, "model"), persist_state="session",
                         format_func=lambda m: t({"mlp": "cyclegan.model_mlp", "dcgan": "cyclegan.model_conv"}[m]),
                         help=t("cyclegan.model_help"))  # fmt: skip
        elif all(name in toys.NAMES for name in data_choices):  # toys always train the toy MLPs
            st.selectbox(t("ui.model"), [t("ui.model_toy")], disabled=True, key=_key(page, "model_shown"),
                         help=t("ui.model_toy_help"))  # fmt: skip
        else:
            st.selectbox(t("ui.model"), config.MODELS, key=_key(page, "model"), persist_state="session",
                         help=config.FIELDS["model"].help)  # fmt: skip
        note("model")
    with cols[2]:
        loss_titles = {n: str(losses.get(n).title) for n in losses.NAMES}
        st.selectbox(t("ui.loss"), losses.NAMES, key=_key(page, "loss"), persist_state="session",
                     format_func=lambda n: loss_titles.get(n, n), on_change=_on_loss_change,
                     args=(page,), help=config.FIELDS["loss"].help)  # fmt: skip
        note("loss")
    note("data")  # full width: a missing data set's message says where to get it, in a few lines
    if problem := st.session_state.pop(_key(page, "preset_error"), None):
        st.error(str(problem), icon=":material/error:")
    if preset is not None and changed:
        labels = t("ui.list_sep").join(str(config.FIELDS[name].label) for name in changed)
        st.caption(t("ui.preset_left", fields=labels, preset=preset.title))
    elif preset is not None and preset.watch_for:
        st.info(t("ui.watch_for", text=preset.watch_for), icon=":material/visibility:")
    if preset is not None and preset.name in runs_panel.recorded():
        st.button(t("ui.replay_preset"), icon=":material/replay:", key=_key(page, "replay_preset"),
                  on_click=runs_panel.replay_of_preset, args=(page, preset.name),
                  help=t("ui.replay_preset_help"))  # fmt: skip
    if values["loss"] in losses.NAMES:
        spec = losses.get(values["loss"])
        clip = st.session_state.get(_key(page, "clip"))  # the form's c (None while the field is empty)
        st.latex(losses.d_formula(spec.name, clip if isinstance(clip, (int, float)) else 0.0))
        st.latex(spec.g_formula)
        if objective == "cgan":
            st.latex(losses.conditional_note(spec.name))
        st.caption(str(spec.note))
        if objective == "cyclegan":
            st.caption(t("ui.cyclegan_loss_note"))

    def optimizer() -> None:
        st.selectbox(t("ui.optimizer"), config.OPTIMIZERS, key=_key(page, "optimizer"),
                     persist_state="session", help=config.FIELDS["optimizer"].help)  # fmt: skip
        note("optimizer")

    def lr_decay() -> None:
        f = config.FIELDS["lr_decay"]
        st.checkbox(f.label, key=_key(page, "lr_decay"), persist_state="session", help=f.help)

    adam = values["optimizer"] == "adam"
    special = {"optimizer": optimizer, "lr_decay": lr_decay}
    for row in FORM_ROWS[objective]:
        for col, cell in zip(st.columns(len(row)), row, strict=True):
            with col:
                if cell in special:
                    special[cell]()
                elif (f := config.FIELDS[cell]).choices is not None:  # an objective's own choice (cgan's D)
                    st.selectbox(f.label, f.choices, key=_key(page, cell), persist_state="session", help=f.help)
                    note(cell)
                else:
                    number(cell, disabled=cell.startswith("beta") and not adam)
    shown = {cell for row in FORM_ROWS[objective] for cell in row} | {"data", "model", "loss", *_LOGGING}
    for name in sorted(set(errors) - shown):  # a field this form does not show, still set wrong: say so
        note(name)
    with st.expander(t("ui.logging")):
        for col, name in zip(st.columns(5), _LOGGING, strict=False):
            with col:
                number(name)
    return values, errors


# ---------------------------------------------------------------- run controls
def current_run(page: str) -> live.Run | None:
    """The run this page started in this session (the latest one), if the registry still has it."""
    run_id = st.session_state.get(_key(page, "run_id"))
    return registry().get(session_id(), run_id) if run_id else None


def _start(page: str, snapshot_fn: live.SnapshotFn | None, share: bool = True) -> None:
    values = form_values(page)
    if form_errors(page):  # the form shows the messages; a bad config never starts
        return
    old = current_run(page)
    try:
        run = registry().start(session_id(), TrainConfig.from_dict(values), snapshot_fn, share=share)
    except live.Busy as e:
        st.session_state[_key(page, "notice")] = _detail(e)
        return
    if run.run_id == st.session_state.get(_key(page, "run_id")) and not registry().is_owner(session_id(), run):
        st.session_state[_key(page, "notice")] = Msg("ui.start_joined_again")
    _switch_to(page, old, run)


def _switch_to(page: str, old: live.Run | None, run: live.Run) -> None:
    """The page shows ``run`` from now on: it no longer watches another session's ``old`` run (which
    it would otherwise keep going after its owner left). The live run replaces an open replay, except
    while it waits in the queue: the recording stays on the page until its run starts
    (:func:`live_view`)."""
    if old is not None and old is not run:
        registry().detach(session_id(), old)
    st.session_state[_key(page, "run_id")] = run.run_id
    if run.status == live.QUEUED and runs_panel.replay_open(page):
        st.session_state[_key(page, "replay_until_start")] = run.run_id
    else:
        runs_panel.close_replay(page)


def _take_copy(page: str, snapshot_fn: live.SnapshotFn | None) -> None:
    """A viewer's own copy of the shared run it watches: the same config, trained by its own run."""
    if (run := current_run(page)) is None or registry().is_owner(session_id(), run):
        return  # a second click that arrives after the copy replaced the watched run
    try:
        copy = registry().start(session_id(), run.config, snapshot_fn, share=False)
    except live.Busy as e:
        st.session_state[_key(page, "notice")] = _detail(e)
        return
    _switch_to(page, run, copy)


start = _start  # for runs_panel's "Train it live"


def _control(page: str, action: str) -> None:
    if (run := current_run(page)) is not None and registry().is_owner(session_id(), run):
        queued = run.status == live.QUEUED
        getattr(run, action)()
        if action == "stop" and queued:  # it never trained: the page is free again, no empty run shown
            st.session_state.pop(_key(page, "run_id"), None)
            st.session_state.pop(_key(page, "replay_until_start"), None)
            st.session_state[_key(page, "notice")] = Msg("ui.queue_given_up")


def _leave(page: str) -> None:
    """A viewer stops watching (the run goes on for its owner); the page's form is free again."""
    if (run := current_run(page)) is not None:
        registry().detach(session_id(), run)
    st.session_state.pop(_key(page, "run_id"), None)


def run_controls(
    page: str, errors: dict[str, str], snapshot_fn: live.SnapshotFn | None = None
) -> None:
    """Start / Pause / Resume / Stop / Step buttons for the page's run.

    Start trains the form's settings (``form_values(page)``) and is refused while ``errors`` is not
    empty; ``snapshot_fn(trainer) -> dict`` adds extras to every snapshot (toy pages' heatmaps).
    A request identical to a run on the server joins it (issue 18): the session that started it
    owns Pause, Step and Stop; the others watch, and may take a copy that trains on its own. A run
    that finds every slot taken waits in the queue (Stop leaves the queue).
    """
    run = current_run(page)
    status = run.status if run is not None else None
    owner = run is None or registry().is_owner(session_id(), run)
    busy = status in live.ACTIVE or status == live.QUEUED
    buttons = (  # (name: its label's key ui.<name> and its widget key <page>_<name>, ...)
        ("start", ":material/play_arrow:", _start, (page, snapshot_fn), (busy and owner) or bool(errors)),
        ("pause", ":material/pause:", _control, (page, "pause"), not owner or status not in ("starting", "running")),
        ("resume", ":material/resume:", _control, (page, "resume"), not owner or status != "paused"),
        ("step", ":material/skip_next:", _control, (page, "step_once"), not owner or status != "paused"),
        ("stop", ":material/stop:", _control, (page, "stop"), not owner or not busy),
    )  # fmt: skip
    with st.container(horizontal=True):  # each button as wide as its label ("Resume" was cut in a column)
        for name, icon, callback, args, disabled in buttons:
            st.button(t(f"ui.{name}"), icon=icon, key=_key(page, name), on_click=callback, args=args,
                      disabled=disabled, type="primary" if name == "start" else "secondary")  # fmt: skip
    if run is not None and owner and run.handed_over and status not in live.FINISHED:
        st.info(t("ui.handed_over"), icon=":material/group:")
    if run is not None and not owner:
        watchers = registry().viewers(run)
        if status in live.FINISHED:
            view = run.view()
            st.info(t(f"ui.shared_{status}", step=view.step, total=view.total_steps), icon=":material/group:")
        else:
            st.info(t("ui.watching_one" if watchers == 1 else "ui.watching_many", watchers=watchers),
                    icon=":material/group:")  # fmt: skip
        left, right, _ = st.columns([1, 1, 3])
        with left:
            st.button(t("ui.copy"), icon=":material/content_copy:", key=_key(page, "copy"), on_click=_take_copy,
                      args=(page, snapshot_fn), width="stretch", help=t("ui.copy_help"))  # fmt: skip
        with right:
            st.button(t("ui.leave"), icon=":material/visibility_off:", key=_key(page, "leave"), on_click=_leave,
                      args=(page,), width="stretch", help=t("ui.leave_help"))  # fmt: skip
    if notice := st.session_state.pop(_key(page, "notice"), None):
        st.warning(str(notice), icon=":material/hourglass:")
    if errors:
        fields = t("ui.list_sep").join(str(config.FIELDS[n].label) if n in config.FIELDS else n for n in sorted(errors))
        st.error(t("ui.start_off", fields=fields), icon=":material/block:")


# ---------------------------------------------------------------- live view
def redraw_interval(every_s: float, viewers: int) -> float:
    """Seconds between a live panel's redraws for a run watched by ``viewers`` sessions besides its
    owner: ``every_s``, plus ``every_s`` per :data:`WATCHERS_PER_INTERVAL` watchers."""
    return every_s * (1 + viewers // WATCHERS_PER_INTERVAL)


def live_view(page: str, render: Callable[[live.RunView], None], every_s: float = RUN_EVERY_S,
              empty: str | None = None) -> None:  # fmt: skip
    """Draw ``render(view)`` for the page's run in a fragment that reruns every ``every_s`` seconds
    while the run trains (and has no timer otherwise, so an idle page costs nothing; a shared run
    with 4 or more watchers besides its owner redraws every 2 × ``every_s``, 8 or more every 3 ×, ...:
    :data:`WATCHERS_PER_INTERVAL`). Each redraw
    marks the session as watching, so the idle reaper leaves its run alone. A run that waits in the
    queue keeps the page's replay (a preset's recording) below its place until it starts."""
    run = current_run(page)
    replay_below = run is not None and _replay_while_queued(page, run)
    if not replay_below and runs_panel.replay_panel(page, render):  # a recording or an uploaded run
        return
    if run is None:
        st.info(t("ui.live_empty") if empty is None else empty)
        return
    first = run.view()
    owner = registry().is_owner(session_id(), run)
    # a shared run's watchers redraw less often as they grow (every 4 more watchers add every_s): each
    # redraw serialises the page's charts in the server's one Python process, so thirty sessions
    # redrawing twice a second left the training thread a fifth of its speed (docs/load.md)
    every = redraw_interval(every_s, registry().viewers(run)) if first.active or first.waiting else None

    @st.fragment(run_every=every)
    def _live() -> None:
        registry().touch(session_id())
        view = run.view()
        if view.waiting:
            queue_notice(run)
            return
        render(view)
        if every is not None and (first.waiting or not view.active or registry().is_owner(session_id(), run) != owner):
            st.rerun()  # started, finished or handed over: a full rerun updates the buttons (and the timer)

    _live()
    if replay_below:
        runs_panel.replay_panel(page, render, offer_live=False)


def _replay_while_queued(page: str, run: live.Run) -> bool:
    """Whether the page's replay stays below ``run``'s place in the queue (:func:`_switch_to`); once
    the run has started (or left the queue) the replay closes and the live run takes its place."""
    if st.session_state.get(_key(page, "replay_until_start")) != run.run_id:
        return False
    if run.status == live.QUEUED and runs_panel.replay_open(page):
        return True
    st.session_state.pop(_key(page, "replay_until_start"), None)
    runs_panel.close_replay(page)
    return False


def queue_notice(run: live.Run) -> None:
    """What a queued run's page shows: its place, the estimated wait, and that leaving gives it up."""
    place = registry().queue_place(run)
    if place is None:
        st.caption(t("ui.starting"))
        return
    eta = t("ui.eta_none") if place.eta_s is None else t("ui.eta_s", seconds=place.eta_s)
    st.info(t("ui.queue", slots=registry().max_running, position=place.position, length=place.length, eta=eta,
              grace_s=registry().grace_s), icon=":material/hourglass_top:")  # fmt: skip


def pick_snapshot(page: str, shots: list[live.Snapshot], run_id: str) -> live.Snapshot:
    """The latest snapshot while "Follow the latest snapshot" is on; with it off, a slider scrubs
    through the snapshots. (A slider that follows by rewriting its own value fights the browser,
    which sends back the value it shows: it got stuck on an old step in the browser test.) The
    keys name the run, so a new run starts by following again; both keep their values when the
    user visits another page and comes back."""
    steps = [s.step for s in shots]
    if len(steps) == 1:
        return shots[0]
    if st.toggle(t("ui.follow"), value=True, key=_key(page, f"follow_{run_id}"),
                 persist_state="session", help=t("ui.follow_help")):  # fmt: skip
        return shots[-1]
    chosen = st.select_slider(t("ui.snapshot_step"), steps, value=steps[-1], key=_key(page, f"snapshot_{run_id}"),
                              persist_state="session")  # fmt: skip
    return shots[steps.index(chosen)] if chosen in steps else shots[-1]


def toy_snapshots(page: str, view: live.RunView, extra: str) -> tuple[list[live.Snapshot], live.Snapshot] | None:
    """A toy page's live panel header: the run's progress, then (the snapshots that carry ``extra``,
    the one to show: :func:`pick_snapshot`), or a caption and None before the first one."""
    progress(view)
    shots = [s for s in view.snapshots if extra in s.extras]
    if not shots:
        st.caption(t("ui.first_snapshot"))
        return None
    return shots, pick_snapshot(page, shots, view.run_id)


def cached_figure(page: str, name: str, key: tuple, build: Callable[[], _T]) -> _T:
    """A chart changes only when a snapshot arrives (``key`` changes, and names the run): build it
    then, once for the whole server, not at every redraw of every session that watches the run
    (building a Plotly figure costs tens of ms of the GIL that the training threads need; thirty
    students watching one shared run would otherwise build it thirty times, issue 18). Its titles and
    legends are text, so the cache holds one figure per language."""
    return _shared_figure(page, name, (*key, content.current_language()), build)


@st.cache_resource(max_entries=512, show_spinner=False)
def _shared_figure(page: str, name: str, key: tuple, _build: Callable[[], _T]) -> _T:
    return _build()


def progress(view: live.RunView) -> None:
    """A progress bar: "step X of N · Y steps/s · Z s left", and the run's error if it failed."""
    st.progress(min(1.0, view.step / view.total_steps), text=progress_text(view))
    if view.status == "failed":
        st.error(str(view.error or t("ui.run_failed_plain")), icon=":material/error:")
    elif view.error:  # stopped because its session was gone (the registry's reason)
        st.info(str(view.error), icon=":material/stop_circle:")


def progress_text(view: live.RunView) -> str:
    """The progress bar's text in the reader's language: "step X of N · Y steps/s · Z s left", then
    the status when it is not "running"."""
    parts = [t("ui.progress_step", step=view.step, total=view.total_steps)]
    if view.steps_per_s > 0:
        parts.append(t("ui.progress_rate", rate=view.steps_per_s))
    if view.eta_s is not None:
        parts.append(t("ui.progress_left", seconds=view.eta_s))
    if view.status != "running":  # a status of its own (a run folder's manifest, "replay") is shown as it is
        parts.append(t(f"ui.status_{view.status}") if view.status in _STATUSES else view.status)
    return " · ".join(parts)


_STATUSES = (*live.ACTIVE, live.QUEUED, *live.FINISHED, "replay")  # those with a text: ui.status_<status>


def curves(view: live.RunView, page: str) -> None:
    """The metric charts (losses, D's outputs, gradient norms, W1) with a smoothing control."""
    if not view.metrics.get("step"):
        st.caption(t("ui.curves_later"))
        return
    weight = st.slider(t("ui.smoothing"), 0.0, 0.99, 0.6, 0.01, key=_key(page, "smoothing"),
                       persist_state="session", help=t("ui.smoothing_help"))  # fmt: skip
    rows = len(view.metrics["step"])  # a run's rows only grow: (run, rows) names its history
    figs = cached_figure(page, "run_figures", (view.run_id, rows, view.config.loss, weight),
                         lambda: plots.run_figures(view.metrics, view.config.loss, weight, uirevision=view.run_id))
    cols = st.columns(2)
    for i, (name, fig) in enumerate(figs.items()):
        with cols[i % 2]:
            st.plotly_chart(fig, width="stretch", key=_key(page, f"chart_{name}"),
                            config={"displaylogo": False})  # fmt: skip


def sample_grid(view: live.RunView, page: str) -> live.Snapshot | None:
    """G's samples from the run's fixed noise, with a slider that scrubs through the snapshots; returns
    the snapshot shown (None before the first)."""
    shots = [s for s in view.snapshots if s.samples.ndim == 4]
    if not shots:
        return None
    shot = pick_snapshot(page, shots, view.run_id)
    grid = cached_figure(page, "sample_grid", (view.run_id, shot.step), lambda: plots.image_grid(shot.samples))
    st.image(grid, caption=t("ui.fixed_noise_step", step=shot.step))
    return shot


def downloads(view: live.RunView, page: str, shot: live.Snapshot | None = None) -> None:
    st.download_button(t("ui.metrics_csv"), data=lambda: plots.metrics_csv(view.metrics),
                       file_name=f"gan-run-{view.run_id}.csv", mime="text/csv",
                       key=_key(page, "csv"), on_click="ignore", icon=":material/download:")  # fmt: skip
    runs_panel.downloads(page, view, shot)  # PNG, GIF, the whole run


def image_run_panel(page: str) -> Callable[[live.RunView], None]:
    """The Train page's live panel: progress, curves, quality, diagnosis, sample grid, downloads."""
    from gan_demo import quality_panel  # imports ui back (cached figures)

    def render(view: live.RunView) -> None:
        progress(view)
        left, right = st.columns([3, 1])
        with left:
            curves(view, page)
            quality_panel.render(view, page)  # the classifier's numbers beside the losses (issue 14)
        with right:
            shot = sample_grid(view, page)
            downloads(view, page, shot)
            with st.expander(t("ui.run_settings")):
                st.json(view.config.to_dict(), expanded=False)
        diagnosis_panel.render(view)

    return render
