"""Background training runs: a worker thread per run, and a process-wide registry with a cap.

Streamlit must not be called from a worker thread, so the worker only writes into its :class:`Run`
(status, metric columns, fixed-noise snapshots) under a lock, and a page reads an immutable
:class:`RunView` copy from a ``st.fragment(run_every=...)``. Nothing here imports Streamlit.

The worker's loop is ``Trainer.step`` plus a few attribute writes: metrics are computed only on the
logged steps (the first, every ``log_every``-th and the last) and on the first step whose values are
not finite (the trainer checks every step; the run stops there), the step rate is measured over the
last few seconds, and a snapshot of G's fixed-noise samples is stored every ``snapshot_every``
steps (the interval doubles whenever ``max_snapshots`` would be exceeded, so old snapshots are
thinned evenly and the first and the last are always kept).

A run ends when it is done, when the user stops it, or when its browser session is gone: the
registry gives each run a *lease* (:meth:`RunRegistry.lease`) that the worker checks before every
step, so a run whose session disconnected and did not come back within the grace period, or that
nobody watched for the idle limit, stops itself. Nothing on Streamlit's event loop or in a page
rerun ever waits for a worker thread: they only record times and ask runs to stop.

With ``in_process=True`` (the registry's default, ``GAN_DEMO_TRAIN_IN=process``) the same loop runs
in a worker process (:mod:`gan_demo.runs.workers`: a ``Run`` in a thread there), and this run's
thread is a proxy: it sends the job, mirrors the worker's reports into this record (so a page reads
the same :class:`RunView`), checks the lease twice a second and on every report, and the control
methods send their command to the worker. Seeded runs give the same record either way, bit for bit
(tests/test_workers.py).
"""

from __future__ import annotations

import atexit
import logging
import math
import pickle
import re
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gan_demo import settings
from gan_demo.config import TrainConfig
from gan_demo.content import Msg, t
from gan_demo.runs import workers
from gan_demo.runs.workers import TrainerState
from gan_demo.train import Trainer, make_trainer, use_threads

_LOG = logging.getLogger(__name__)

ACTIVE = ("starting", "running", "paused")  # statuses that hold a training slot
QUEUED = "queued"  # waiting in the registry's queue for a slot (no thread yet)
FINISHED = ("done", "stopped", "failed")
_RATE_EVERY_S = 0.2  # how often the step rate is sampled
_RATE_WINDOW = 25  # samples kept: the rate is measured over about the last 5 s
_LEASE_POLL_S = 0.5  # a paused worker re-checks its lease this often

SnapshotFn = Callable[[Trainer], dict[str, Any]]
Lease = Callable[[], "Msg | None"]  # None while the run may go on, else why it must stop
_STARTED: weakref.WeakSet[Run] = weakref.WeakSet()  # stopped at interpreter exit


@atexit.register
def stop_all(timeout: float = 2.0) -> list[str]:
    """Stop every run of this process that is still alive; returns their ids. Runs at exit too: a
    daemon thread killed inside a torch op aborts the process ('terminate called without an
    active exception')."""
    alive = [run for run in list(_STARTED) if run.alive]
    for run in alive:
        run.stop(timeout)
    return [run.run_id for run in alive]


@dataclass(frozen=True)
class Snapshot:
    step: int
    samples: np.ndarray  # trainer.fixed_samples(): images (n, C, H, W) in [-1, 1], or points (n, d)
    extras: dict[str, Any]  # whatever the run's snapshot_fn returned (a toy page's heatmap, ...)


@dataclass(frozen=True)
class RunView:
    """An immutable copy of a run's record, taken under its lock; pages only ever read this."""

    run_id: str
    config: TrainConfig
    status: str  # "queued", "starting", "running", "paused", "done", "stopped" or "failed"
    error: Msg | str | None  # why it failed, or why it was stopped when not by the user (else None): a Msg
    # (rendered by str() in the reader's language); a run reopened from a folder holds its saved text
    step: int  # G updates done
    total_steps: int
    steps_per_s: float  # over the last few seconds while running; the run's average once finished
    eta_s: float | None  # seconds left at the current rate (None when not running)
    metrics: dict[str, list[float]]  # one column per name in metric_names ("step" first)
    snapshots: tuple[Snapshot, ...]
    metric_names: tuple[str, ...]
    device: str  # "cpu", "cuda", ... (empty while starting)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def waiting(self) -> bool:
        """Waiting in the queue for a training slot."""
        return self.status == QUEUED


_UPDATES = {"D's update": "ui.update_d", "G's update": "ui.update_g", "the D_X and D_Y update": "ui.update_dxy",
            "the G and F update": "ui.update_gf"}  # the trainers' NonFinite.update texts -> their keys


def update_msg(update: str) -> Msg | str:
    """The update a metric went non-finite in (``NonFinite.update``: "D's update", "D update 2 of 5",
    "G's update", CycleGAN's "the D_X and D_Y update" / "the G and F update") as a message; another
    text is returned unchanged."""
    if update in _UPDATES:
        return Msg(_UPDATES[update])
    if (m := re.fullmatch(r"D update (\d+) of (\d+)", update)) is not None:
        return Msg("ui.update_d_k", k=int(m[1]), n=int(m[2]))
    return update


def divergence_message(name: str, value: float, step: int, config: TrainConfig, update: str | None = None) -> Msg:
    """What went non-finite (``name``, in ``update`` when given), where, and what to try (diagnosis
    rule R0), as a message rendered in the reader's language (it is built in the worker thread)."""
    if config.loss == "wgan" and config.clip <= 0:
        hints = "ui.diverged_try_wgan_clip"
    elif config.loss.startswith("wgan"):
        hints = "ui.diverged_try_wgan"
    else:
        hints = "ui.diverged_try"
    what = name if update is None else Msg("ui.diverged_in", name=name, update=update_msg(update))
    return Msg("ui.diverged", name=what, value=value, step=step,
               hints=Msg(hints, lr_d=config.lr_d, lr_g=config.lr_g))  # fmt: skip


class Run:
    """One training run in a daemon thread (or, ``in_process``, in a worker process that a daemon
    thread mirrors), with a thread-safe record of what it did."""

    def __init__(
        self,
        config: TrainConfig,
        snapshot_fn: SnapshotFn | None = None,
        session_id: str = "",
        max_snapshots: int = 200,
        lease: Lease | None = None,
        queued: bool = False,
        in_process: bool = False,
    ):
        self.config = config
        self.in_process = in_process  # train in a worker process (gan_demo.runs.workers), not a thread
        self.snapshot_fn = snapshot_fn
        self.session_id = session_id  # its owner (RunRegistry: a viewer when the owner left, see handed_over)
        self.handed_over = False  # the owner left and a viewer owns it now (RunRegistry._hand_over)
        self._lease = lease  # checked by the worker before every step (and while paused)
        self.on_finish: Callable[[], None] | None = None  # called by the worker thread as it ends
        self.share_key: tuple = ()  # what identical requests have in common (RunRegistry)
        self.max_snapshots = max(2, max_snapshots)
        self.run_id = uuid.uuid4().hex[:8]
        # guards everything below (reentrant); the paused worker waits on it
        self._cond = threading.Condition(threading.RLock())
        self._thread: threading.Thread | None = None
        self._status = QUEUED if queued else "starting"
        self._error: Msg | str | None = None
        self._step = 0
        self._metric_names: tuple[str, ...] = ()
        self._metrics: dict[str, list[float]] = {}
        self._snapshots: list[Snapshot] = []
        self._snap_every = config.snapshot_every
        self._device = ""
        self._rate = 0.0
        self._window: deque[tuple[float, int]] = deque(maxlen=_RATE_WINDOW)
        self._active_s = 0.0  # seconds spent training (pauses excluded)
        self._active_since: float | None = None
        self._paused = False
        self._stop_requested = False
        self._stop_reason: Msg | None = None  # why the run was stopped, when not by the user
        self._single_requested = 0  # one-step requests not yet started
        self._single_done = 0  # one-step requests completed
        self._single_started = 0  # one-step requests started (a step is under way while > _single_done)
        self._version = 0  # bumped on every change; view() reuses its copy while unchanged
        self._view: RunView | None = None
        self._view_version = -1
        self._trainer: Trainer | TrainerState | None = None  # kept once built, so a paused or finished run can be saved
        self._worker: workers.Worker | None = None  # in_process: the process training this run

    # ------------------------------------------------------------------ control (any thread)
    def start(self) -> None:
        """Start the worker thread; the Trainer (and its data) is built inside it. A queued run
        becomes "starting"."""
        with self._cond:
            if self._thread is not None:
                raise RuntimeError(f"run {self.run_id} was already started")
            if self._status in FINISHED:  # stopped before it started
                return
            self._status = "starting"
            self._version += 1
            self._thread = threading.Thread(
                target=self._work, name=f"gan-run-{self.run_id}", daemon=True
            )
            _STARTED.add(self)
        self._thread.start()

    def pause(self, timeout: float = 5.0) -> None:
        """Ask the worker to pause after its current step; returns once it has (or after timeout)."""
        with self._cond:
            if self._status in FINISHED:
                return
            self._paused = True
            self._tell(("pause",))
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._status in ("paused",) + FINISHED, timeout)

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._tell(("resume",))
            self._cond.notify_all()
            if self._thread is not None and self._thread.is_alive():
                self._cond.wait_for(lambda: self._status != "paused", 1.0)

    def step_once(self, timeout: float = 30.0) -> None:
        """When paused: the worker does exactly one step (with metrics and a snapshot), then stays
        paused. Returns once that step is done (or after timeout); does nothing unless paused."""
        with self._cond:
            if self._status != "paused":
                return
            if self._worker is not None:  # the worker process counts the steps it did (_single_done)
                self._single_started += 1
                ticket = self._single_started
                self._tell(("single",))
            else:
                self._single_requested += 1
                ticket = self._single_done + self._single_requested
            self._cond.notify_all()
            self._cond.wait_for(
                lambda: self._single_done >= ticket or self._status in FINISHED, timeout
            )

    def request_stop(self, reason: Msg | None = None) -> None:
        """Ask the worker to stop after its current step, and return at once (it never waits, so
        Streamlit's event loop and page reruns may call it). The status becomes "stopped" (unless
        the run had already finished), with ``reason`` as the view's ``error`` when given."""
        with self._cond:
            if not self._stop_requested:
                self._stop_requested = True
                self._stop_reason = reason
                self._tell(("stop",))
            self._cond.notify_all()
            if self._thread is None and self._status not in FINISHED:
                self._set_finished("stopped", self._stop_reason)

    def stop(self, timeout: float = 10.0) -> None:
        """:meth:`request_stop`, then wait up to ``timeout`` s for the worker thread to end. Only for
        callers that may block: the Stop button's script thread, tests, the exit handler."""
        self.request_stop()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> str:
        return self._status

    @property
    def trainer(self) -> Trainer | TrainerState | None:
        """The run's trainer once built (in a worker process: its tensors as last sent, when paused
        or ended); None before."""
        return self._trainer

    def _tell(self, command: tuple) -> None:
        """Send ``command`` to the worker process, if this run has one (the caller holds the lock).
        A worker that is gone is noticed by the proxy thread, which fails the run."""
        if self._worker is not None:
            try:
                self._worker.send(command)
            except workers.WorkerGone:
                pass

    def progress(self, rows: int, steps: tuple[int, ...]) -> dict[str, Any]:
        """What changed since a reader got ``rows`` metric rows and the snapshots of ``steps``: the
        worker process reports this to the server (:mod:`gan_demo.runs.workers`). Keys: version,
        status, error, step, rate, device, metric_names, rows (name -> the new values), steps (of the
        snapshots kept now), new_snapshots (those not in ``steps``), snap_every, single_requested, single_started, single_done."""
        with self._cond:
            held = set(steps)
            return {"version": self._version, "status": self._status, "error": self._error, "step": self._step,
                    "rate": self._rate, "device": self._device, "metric_names": self._metric_names,
                    "rows": {k: v[rows:] for k, v in self._metrics.items()},
                    "steps": tuple(s.step for s in self._snapshots),
                    "new_snapshots": [s for s in self._snapshots if s.step not in held],
                    "snap_every": self._snap_every, "single_requested": self._single_requested,
                    "single_started": self._single_started, "single_done": self._single_done}  # fmt: skip

    def view(self) -> RunView:
        """An immutable copy of the record (the same object while nothing changed)."""
        with self._cond:
            if self._view is None or self._view_version != self._version:
                self._view_version = self._version
                self._view = RunView(
                    run_id=self.run_id,
                    config=self.config,
                    status=self._status,
                    error=self._error,
                    step=self._step,
                    total_steps=self.config.steps,
                    steps_per_s=self._rate,
                    eta_s=(self.config.steps - self._step) / self._rate
                    if self._status == "running" and self._rate > 0
                    else None,
                    metrics={k: list(v) for k, v in self._metrics.items()},
                    snapshots=tuple(self._snapshots),
                    metric_names=self._metric_names,
                    device=self._device,
                )
            return self._view

    # ------------------------------------------------------------------ the worker
    def _work(self) -> None:
        try:
            self._train_in_worker() if self.in_process else self._train()
        except Exception as e:  # a failing run must never take the app (or the test process) down
            _LOG.exception("run %s failed", self.run_id)
            with self._cond:
                self._set_finished("failed", failure_message(e))
        finally:
            if self.on_finish is not None:  # the registry starts the next queued run (no lock held here)
                try:
                    self.on_finish()
                except Exception:
                    _LOG.exception("on_finish of run %s failed", self.run_id)

    def _train(self) -> None:
        cfg = self.config
        trainer = make_trainer(cfg)
        self._trainer = trainer
        use_threads(trainer.threads)  # once, for this worker thread only (not process-wide)
        with self._cond:
            self._metric_names = trainer.metric_names
            self._metrics = {name: [] for name in trainer.metric_names}
            self._device = str(trainer.device)
            self._status = "running"
            self._active_since = time.perf_counter()
            self._version += 1
        self._snapshot(trainer)  # step 0: what G draws before any training
        total = cfg.steps
        while trainer.step_count < total:
            mode = self._control(trainer)
            if mode == "stop":
                self._snapshot(trainer)
                with self._cond:
                    self._set_finished("stopped", self._stop_reason)
                return
            n = trainer.step_count + 1
            single = mode == "single"
            row = trainer.step(with_metrics=single or trainer.logs(n))
            now = time.perf_counter()
            with self._cond:
                self._step = n
                if row is not None:
                    for name, value in row.items():
                        self._metrics[name].append(value)
                if not self._window or now - self._window[-1][0] >= _RATE_EVERY_S:
                    if self._window:
                        t0, s0 = self._window[0]
                        self._rate = (n - s0) / (now - t0)
                    self._window.append((now, n))
                self._version += 1
            if row is not None:  # every step is checked: a non-finite one returns its row
                bad = trainer.nonfinite
                if bad is not None:
                    error = divergence_message(bad.name, bad.value, bad.step, cfg, bad.update)
                else:
                    name = next((k for k, v in row.items() if not math.isfinite(v)), None)
                    error = None if name is None else divergence_message(name, row[name], n, cfg)
                if error is not None:
                    with self._cond:
                        self._set_finished("failed", error)
                    return
            if single or n % self._snap_every == 0 or n == total:
                self._snapshot(trainer)
            if single:
                with self._cond:
                    self._single_done += 1
                    self._cond.notify_all()
        with self._cond:
            self._set_finished("done", None)

    def _train_in_worker(self) -> None:
        """The proxy of a run in a worker process: send the job, then mirror what the worker reports
        until it has ended; check the lease meanwhile. Commands go straight from the control methods
        (:meth:`_tell`)."""
        pool = workers.pool()
        try:
            worker = pool.acquire()  # an idle warm worker, or seconds to start one (the run shows "starting")
        except (workers.WorkerGone, OSError):  # no process can start here: train in this thread instead
            _LOG.warning("run %s: no training process could start; it trains in a thread of the server",
                         self.run_id, exc_info=True)  # fmt: skip
            self.in_process = False
            self._train()
            return
        healthy = False
        try:
            with self._cond:
                if self._stop_requested:  # stopped while it was starting
                    self._set_finished("stopped", self._stop_reason)
                    healthy = True
                    return
                worker.send(("job", self.config, self.snapshot_fn, self.max_snapshots))
                self._worker = worker
                if self._paused:
                    self._tell(("pause",))
            shots: dict[int, Snapshot] = {}
            while True:
                message = worker.recv(_LEASE_POLL_S)
                self._check_lease()
                if message is None:
                    continue
                kind = message[0]
                if kind == "progress":
                    self._mirror(message[1], shots)
                elif kind == "state":
                    with self._cond:
                        self._trainer = message[1]
                elif kind == "failed":
                    with self._cond:
                        self._set_finished("failed", message[1])
                elif kind == "end":
                    healthy = True
                    return
        except workers.WorkerGone as e:
            with self._cond:
                if self._status not in FINISHED:
                    self._set_finished("failed", Msg("ui.worker_gone", code=str(e.returncode)))
        finally:
            with self._cond:
                self._worker = None
            pool.release(worker, healthy)

    def _mirror(self, p: dict[str, Any], shots: dict[int, Snapshot]) -> None:
        """Take a worker's :meth:`progress` report into this run's record."""
        with self._cond:
            if p["metric_names"] and not self._metric_names:
                self._metric_names = tuple(p["metric_names"])
                self._metrics = {name: [] for name in self._metric_names}
            for name, values in p["rows"].items():
                self._metrics[name].extend(values)
            for shot in p["new_snapshots"]:
                shots[shot.step] = shot
            self._snapshots = [shots[s] for s in p["steps"] if s in shots]
            for s in set(shots) - set(p["steps"]):
                del shots[s]
            self._step, self._rate, self._device = p["step"], p["rate"], p["device"]
            self._snap_every, self._single_done = p["snap_every"], p["single_done"]
            status = p["status"]
            if self._status not in FINISHED:
                if status in FINISHED:  # the user's or the lease's reason is known here, not in the worker
                    self._error = self._stop_reason if status == "stopped" else p["error"]
                self._status = status
            self._version += 1
            self._cond.notify_all()

    def _check_lease(self) -> None:
        """Stop when the registry says the run's session is gone (the run's lock is reentrant)."""
        if self._lease is not None and not self._stop_requested:
            if (reason := self._lease()) is not None:
                self.request_stop(reason)

    def _control(self, trainer: Trainer) -> str:
        """'go', 'single' (one step while paused) or 'stop'; blocks while paused."""
        self._check_lease()
        with self._cond:
            if not (self._paused or self._stop_requested):
                return "go"
            if self._stop_requested:
                return "stop"
            entering = self._status != "paused"
        if entering:
            self._snapshot(trainer)  # the grid shows where the run paused
        with self._cond:
            if entering:
                self._status = "paused"
                self._pause_clock()
                self._version += 1
                self._cond.notify_all()
            # paused: wake on a request, and every _LEASE_POLL_S to check the lease (the registry's
            # lock is taken under the run's lock here, never the other way round)
            while not self._cond.wait_for(
                lambda: not self._paused or self._stop_requested or self._single_requested > 0,
                _LEASE_POLL_S,
            ):
                self._check_lease()
            if self._stop_requested:
                return "stop"
            if self._single_requested > 0:
                self._single_requested -= 1
                self._single_started += 1
                return "single"
            self._status = "running"
            self._active_since = time.perf_counter()
            self._window.clear()
            self._version += 1
            self._cond.notify_all()
            return "go"

    def _pause_clock(self) -> None:
        if self._active_since is not None:
            self._active_s += time.perf_counter() - self._active_since
            self._active_since = None

    def _set_finished(self, status: str, error: Msg | str | None) -> None:
        """Record the final status (the caller holds the lock)."""
        self._pause_clock()
        self._status = status
        self._error = error
        if self._active_s > 0:
            self._rate = self._step / self._active_s
        self._version += 1
        self._cond.notify_all()

    def _snapshot(self, trainer: Trainer) -> None:
        step = trainer.step_count
        if self._snapshots and self._snapshots[-1].step == step:
            return
        samples = trainer.fixed_samples().numpy()
        extras = dict(self.snapshot_fn(trainer)) if self.snapshot_fn is not None else {}
        with self._cond:
            self._snapshots, self._snap_every = add_snapshot(
                self._snapshots, Snapshot(step, samples, extras), self._snap_every, self.max_snapshots
            )
            self._version += 1

    # ------------------------------------------------------------------ saving
    def files(self, **kwargs: Any) -> dict[str, bytes]:
        """The run folder's files of this run (``gan_demo.runs.folder.encode``, ``kwargs`` passed on),
        while it is paused or finished (the worker is not stepping then). Raises ``RuntimeError``
        while it trains or before its networks are built."""
        from gan_demo.runs import folder  # the run format imports this module

        with self._cond:
            stepping = self._single_started > self._single_done  # a Step while paused is under way
            if self._trainer is None or self._status in ("starting", "running") or stepping:
                raise RuntimeError("a run can be saved while it is paused or once it has finished")
            view = self.view()
            return folder.encode(view.config, view.metric_names, view.metrics, view.snapshots, view.step,
                                 self._trainer, status=view.status, steps_per_s=view.steps_per_s,
                                 error=english(view.error) if isinstance(view.error, Msg) else view.error,
                                 **kwargs)  # fmt: skip  (the file holds English, as the CLI's run folders do)


def add_snapshot(shots: list[Snapshot], snap: Snapshot, every: int, keep: int) -> tuple[list[Snapshot], int]:
    """``shots`` with ``snap`` appended, and the snapshot interval: while more than ``keep`` are held
    the interval doubles and only the first, the last and those on the interval stay (the worker and
    the CLI thin alike)."""
    shots = [*shots, snap]
    while len(shots) > keep:
        every *= 2
        last = len(shots) - 1
        shots = [s for i, s in enumerate(shots) if i in (0, last) or s.step % every == 0]
    return shots, every


class Busy(RuntimeError):
    """This session may not start another run now; the message (``args[0]``, a Msg) says why and what
    to do."""


def english(msg: Msg) -> str:
    """``msg`` in English, the Msgs among its parameters too (``Msg.render("en")`` renders those in the
    reader's language): the text a run folder stores, whoever saves it."""
    return t(msg.key, lang="en", **{k: english(v) if isinstance(v, Msg) else v for k, v in msg.params.items()})


def failure_message(e: BaseException) -> Msg:
    """Why a run failed: the exception's type and message; an exception raised with a Msg keeps it,
    so the page renders it in the reader's language."""
    detail = e.args[0] if len(e.args) == 1 and isinstance(e.args[0], Msg) else str(e)
    return Msg("ui.run_failed", kind=type(e).__name__, error=detail)


@dataclass(frozen=True)
class QueuePlace:
    """Where a queued run stands: ``position`` (1 = next) of ``length`` waiting, and the estimated
    seconds until it starts (None while no running run has a measured rate to estimate from)."""

    position: int
    length: int
    eta_s: float | None


def share_key(config: TrainConfig, snapshot_fn: SnapshotFn | None) -> tuple:
    """What two requests must have in common to be one run: the whole config (the seed included: a
    seeded CPU run is deterministic) and the page's snapshot function (module-level functions, so
    the same page gives the same key in every session)."""
    fn = None if snapshot_fn is None else (snapshot_fn.__module__, snapshot_fn.__qualname__)
    return (config, fn)


def sendable(snapshot_fn: SnapshotFn | None) -> bool:
    """Whether ``snapshot_fn`` can go to a worker process: None or a module-level function (sent by
    name); a closure or a lambda cannot."""
    try:
        pickle.dumps(snapshot_fn)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def estimated_start(etas: list[float | None], rate: float | None, slots: int, ahead: list[int]) -> float | None:
    """Seconds until a queued run starts: each training run frees its slot after its ``etas`` entry
    (s), a slot beyond them is free now, and each run ``ahead`` in the queue (its steps) takes the
    earliest free slot and keeps it for ``steps / rate`` (steps/s). None when a training run has no
    estimate yet (paused, starting) or no rate is known.

    Example: 2 slots freeing at 10 s and 30 s, 100 steps/s, one run of 1,000 steps ahead: it takes
    the slot at 10 s and frees it at 20 s, so this run starts at 20 s."""
    if rate is None or rate <= 0 or any(e is None for e in etas):
        return None
    free = sorted([float(e) for e in etas if e is not None] + [0.0] * max(0, slots - len(etas)))
    for steps in ahead:
        free[0] += steps / rate
        free.sort()
    return free[0] if free else None


class RunRegistry:
    """All runs of this process, by browser session: a cap on how many train at once, a first-come
    queue behind it, and one run for identical requests.

    * **Shared runs.** A request identical to a run that is queued, training or done (same config,
      seed included, and same page: :func:`share_key`) attaches the session to that run instead of
      starting another: it watches it live at no extra cost. The session that started it owns it
      (``run.session_id``: Pause, Step, Stop); the others are *viewers* (:meth:`is_owner`) and may
      start a copy of their own (``share=False``). Thirty students on one preset link cost one run.
    * **Queue.** At most ``max_running`` runs train at once (``GAN_DEMO_MAX_RUNS``); a run that cannot
      start waits in a first-come queue (status "queued", :meth:`queue_place`) and starts by itself
      when a slot frees. A session may own at most ``per_session`` runs training or queued at once
      (``GAN_DEMO_RUNS_PER_SESSION``, 1 by default); beyond that :meth:`start` raises :class:`Busy`.
    * **Leases.** A run's worker asks its lease before every step and stops itself when every session
      that watches it (owner and viewers) is gone; a queued run whose sessions are gone leaves the
      queue. When only its owner is gone, the run goes on and passes to the viewer that was here
      last (at the next :meth:`reap`, which every page's :meth:`touch` runs; not in the lease, which
      a thread run checks before every step): it owns Pause, Step and Stop from then on
      (``run.handed_over``), so a class never watches a run that nobody can stop. A session is gone when Streamlit released it (websocket closed) and it was not back
      (:meth:`touch`) within ``grace_s`` seconds, or when nothing touched it for ``idle_timeout_s``
      seconds (pages touch it on every rerun, and the live panel every second while a run trains).

    :meth:`release`, :meth:`touch` and :meth:`reap` only record times, ask runs to stop and start
    queued ones; none waits for a thread, so Streamlit's event loop (which serves every session) and
    page reruns never stall. Records of sessions untouched for four times ``idle_timeout_s`` are
    forgotten once their runs have ended. ``clock`` (seconds, monotonic) is replaceable for tests.

    Lock order: a worker holding its run's lock may take the registry's lock (its lease); the
    registry takes a run's lock only to start a *queued* run, which has no worker yet.
    """

    def __init__(
        self,
        max_running: int | None = None,
        idle_timeout_s: float = 900,
        grace_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        per_session: int | None = None,
        in_process: bool | None = None,
    ):
        current = settings.current()
        # runs train in worker processes (GAN_DEMO_TRAIN_IN=process) unless their snapshot function
        # cannot be sent to one (a closure over live objects: the cGAN page's copy of G)
        self.in_process = current.train_in == "process" if in_process is None else in_process
        self.max_running = current.max_runs if max_running is None else max_running
        self.per_session = current.runs_per_session if per_session is None else per_session
        self.idle_timeout_s = idle_timeout_s
        self.grace_s = current.reconnect_grace_s if grace_s is None else grace_s
        self.keep_finished = 5  # finished runs remembered per session (their snapshots use memory)
        self._clock = clock
        self._lock = threading.Lock()
        self._runs: dict[str, list[Run]] = {}  # session -> the runs it owns or watches, oldest first
        self._viewers: dict[str, set[str]] = {}  # run id -> sessions that attached to it (not the owner)
        self._queue: deque[Run] = deque()
        self._touched: dict[str, float] = {}  # session -> when a page last touched it
        self._released: dict[str, float] = {}  # session -> when Streamlit released it (until back)

    def start(self, session_id: str, config: TrainConfig, snapshot_fn: SnapshotFn | None = None,
              share: bool = True) -> Run:  # fmt: skip
        """The run for this request: an identical queued, training or finished run (``share``), which
        the session then watches; else a new run, started now or queued behind the cap. Raises
        :class:`Busy` when the session already owns ``per_session`` runs that train or wait."""
        self.reap()
        key = share_key(config, snapshot_fn)
        with self._lock:
            self._touched[session_id] = self._clock()
            self._released.pop(session_id, None)
            if share and (run := self._shared(key, session_id)) is not None:
                if run.session_id != session_id:
                    self._viewers.setdefault(run.run_id, set()).add(session_id)
                self._remember(session_id, run)
                return run
            own = [r for r in self._all() if r.session_id == session_id and (r.status in ACTIVE or r.status == QUEUED)]
            if len(own) >= self.per_session:
                raise Busy(Msg("ui.busy_one" if len(own) == 1 else "ui.busy_many", runs=len(own), limit=self.per_session))
            run = Run(config, snapshot_fn, session_id, lease=lambda: self._run_lease(run), queued=True,
                      in_process=self.in_process and sendable(snapshot_fn))  # fmt: skip
            run.share_key = key
            run.on_finish = self._admit
            self._remember(session_id, run)
            self._queue.append(run)
        self._admit()
        return run

    def is_owner(self, session_id: str, run: Run) -> bool:
        """Whether this session started ``run`` (and so may pause, step or stop it)."""
        return run.session_id == session_id

    def detach(self, session_id: str, run: Run) -> None:
        """A viewer stops watching ``run``: it leaves the session's list and no longer keeps it alive.
        The owner cannot detach (it stops its run instead)."""
        with self._lock:
            if run.session_id == session_id:
                return
            self._viewers.get(run.run_id, set()).discard(session_id)
            runs = self._runs.get(session_id, [])
            if run in runs:
                runs.remove(run)

    def viewers(self, run: Run) -> int:
        """How many other sessions watch ``run``."""
        with self._lock:
            return len(self._viewers.get(run.run_id, ()))

    def queue_place(self, run: Run) -> QueuePlace | None:
        """Where ``run`` waits in the queue, or None when it is not waiting; the estimate is
        :func:`estimated_start` with the mean of the running runs' measured rates."""
        with self._lock:
            waiting = [r for r in self._queue if r.status == QUEUED]
            if run not in waiting:
                return None
            position = waiting.index(run) + 1
            training = self._training()
        views = [r.view() for r in training]  # outside the registry's lock (see the lock order)
        rates = [v.steps_per_s for v in views if v.status == "running" and v.steps_per_s > 0]
        eta = estimated_start([v.eta_s for v in views], sum(rates) / len(rates) if rates else None,
                              self.max_running, [r.config.steps for r in waiting[: position - 1]])  # fmt: skip
        return QueuePlace(position, len(waiting), eta)

    def runs_for(self, session_id: str) -> list[Run]:
        with self._lock:
            return list(self._runs.get(session_id, ()))

    def get(self, session_id: str, run_id: str) -> Run | None:
        with self._lock:
            return next((r for r in self._runs.get(session_id, ()) if r.run_id == run_id), None)

    def touch(self, session_id: str) -> None:
        """The session is here (pages call this on every rerun): it is no longer released, its idle
        clock restarts; then :meth:`reap`. Never waits for a thread."""
        with self._lock:
            self._touched[session_id] = self._clock()
            self._released.pop(session_id, None)
        self.reap()

    def release(self, session_id: str) -> None:
        """Streamlit released the session (its websocket closed). Its runs go on for ``grace_s``
        seconds; a :meth:`touch` before then (the browser reconnected to the same session) keeps
        them going. Returns at once: this runs on Streamlit's event loop."""
        with self._lock:
            self._released.setdefault(session_id, self._clock())

    def lease(self, session_id: str) -> Msg | None:
        """None while the session may keep runs going; else why not (a message)."""
        with self._lock:
            return self._why_gone(session_id, self._clock())

    def reap(self) -> int:
        """Ask the runs (training or queued) whose every session is gone to stop, without waiting;
        start queued runs that now fit; forget the records of sessions untouched for four times
        ``idle_timeout_s`` whose runs have ended. Returns how many runs were asked to stop. The
        workers stop themselves anyway at their next lease check; asking here frees their slots
        sooner."""
        now = self._clock()
        to_stop: list[tuple[Run, str]] = []
        with self._lock:
            for run in self._all():
                if run.status in ACTIVE or run.status == QUEUED:
                    self._hand_over(run, now)
                    if (reason := self._gone(run, now)) is not None:
                        to_stop.append((run, reason))
            for sid, seen in list(self._touched.items()):
                runs = self._runs.get(sid, ())
                if now - seen > 4 * self.idle_timeout_s and not any(r.alive for r in runs):
                    del self._touched[sid]
                    self._released.pop(sid, None)
                    for r in self._runs.pop(sid, ()):
                        self._viewers.get(r.run_id, set()).discard(sid)
        for run, reason in to_stop:
            run.request_stop(reason)
        self._admit()
        return len(to_stop)

    def _hand_over(self, run: Run, now: float) -> None:
        """When ``run``'s owner is gone and a viewer is here, the viewer touched last owns it now."""
        if self._why_gone(run.session_id, now) is None:
            return
        viewers = self._viewers.get(run.run_id, set())
        here = [sid for sid in viewers if self._why_gone(sid, now) is None]
        if here:
            heir = max(here, key=lambda sid: self._touched.get(sid, float("-inf")))
            viewers.discard(heir)
            run.session_id, run.handed_over = heir, True

    def running_count(self) -> int:
        with self._lock:
            return len(self._training())

    def queued_count(self) -> int:
        with self._lock:
            return len([r for r in self._queue if r.status == QUEUED])

    # ------------------------------------------------------------------ internals (lock held)
    def _all(self) -> list[Run]:
        """Every run the registry knows, each once (a shared run is in several sessions' lists)."""
        seen: dict[str, Run] = {}
        for runs in self._runs.values():
            for r in runs:
                seen.setdefault(r.run_id, r)
        return list(seen.values())

    def _training(self) -> list[Run]:
        """The runs that hold a training slot (starting, running or paused)."""
        return [r for r in self._all() if r.status in ACTIVE]

    def _shared(self, key: tuple, session_id: str) -> Run | None:
        """The run an identical request joins: one queued or training, else one that finished (done)
        that this session has not seen (pressing Start again on your own finished run trains anew)."""
        candidates = [r for r in self._all() if r.share_key == key]
        mine = {r.run_id for r in self._runs.get(session_id, ())}
        for wanted in (lambda r: r.status in ACTIVE or r.status == QUEUED,
                       lambda r: r.status == "done" and r.run_id not in mine):  # fmt: skip
            found = [r for r in candidates if wanted(r)]
            if found:
                return found[-1]
        return None

    def _remember(self, session_id: str, run: Run) -> None:
        runs = self._runs.setdefault(session_id, [])
        if run in runs:
            return
        finished = [r for r in runs if r.status in FINISHED]
        for old in finished[: max(0, len(finished) - self.keep_finished + 1)]:
            runs.remove(old)
            self._viewers.get(old.run_id, set()).discard(session_id)
        runs.append(run)

    def _sessions_of(self, run: Run) -> set[str]:
        return {run.session_id} | self._viewers.get(run.run_id, set())

    def _gone(self, run: Run, now: float) -> Msg | None:
        """None while any session of ``run`` is here; else why it must stop (its owner's reason)."""
        queued = run.status == QUEUED
        reasons = [self._why_gone(sid, now, queued) for sid in self._sessions_of(run)]
        if any(r is None for r in reasons):
            return None
        return self._why_gone(run.session_id, now, queued) or reasons[0]

    def _run_lease(self, run: Run) -> Msg | None:
        with self._lock:
            return self._gone(run, self._clock())

    def _why_gone(self, session_id: str, now: float, queued: bool = False) -> Msg | None:
        """None while the session is here; else why its run stops (``queued``: why it left the queue)."""
        what = "ui.left_queue" if queued else "ui.stopped"
        released = self._released.get(session_id)
        if released is not None and now - released > self.grace_s:
            return Msg(f"{what}_disconnected", grace_s=self.grace_s)
        touched = self._touched.get(session_id)
        if touched is not None and now - touched > self.idle_timeout_s:
            return Msg(f"{what}_idle", minutes=self.idle_timeout_s / 60)
        return None

    def _admit(self) -> None:
        """Start queued runs, first come first served, while slots are free. Starting a queued run
        takes only its own lock (it has no worker yet), so it is safe under the registry's lock,
        which keeps two callers from admitting past the cap."""
        with self._lock:
            now = self._clock()
            active = len(self._training())
            while self._queue and active < self.max_running:
                run = self._queue.popleft()
                if run.status != QUEUED:  # stopped while it waited
                    continue
                if (reason := self._gone(run, now)) is not None:
                    run.request_stop(reason)
                    continue
                run.start()
                active += 1
            self._queue = deque(r for r in self._queue if r.status == QUEUED)
