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
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import threading
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from gan_demo.config import TrainConfig
from gan_demo.training import Trainer, use_threads

_LOG = logging.getLogger(__name__)

ACTIVE = ("starting", "running", "paused")  # statuses that hold a training slot
FINISHED = ("done", "stopped", "failed")
_RATE_EVERY_S = 0.2  # how often the step rate is sampled
_RATE_WINDOW = 25  # samples kept: the rate is measured over about the last 5 s

SnapshotFn = Callable[[Trainer], dict[str, Any]]
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
    status: str  # "starting", "running", "paused", "done", "stopped" or "failed"
    error: str | None
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


def divergence_message(name: str, value: float, step: int, config: TrainConfig) -> str:
    """What went non-finite, where, and what to try (diagnosis rule R0)."""
    hints = [f"lower the learning rates (lr_d={config.lr_d:g}, lr_g={config.lr_g:g})"]
    if config.loss == "wgan" and config.clip <= 0:
        hints.append(
            "WGAN needs weight clipping (clip, e.g. 0.01) or the gradient penalty (wgan-gp)"
        )
    elif config.loss.startswith("wgan"):
        hints.append(
            "keep the critic Lipschitz: clipping (clip) or the gradient penalty (gp_weight)"
        )
    hints.append(
        "watch D's logits (d_real, d_fake): when they grow without bound D outruns G; "
        "lower lr_d or d_steps"
    )
    return (
        f"Training diverged: {name} became {value} at step {step}. The run was stopped. "
        "Try: " + "; ".join(hints) + "."
    )


class Run:
    """One training run in a daemon thread, with a thread-safe record of what it did."""

    def __init__(
        self,
        config: TrainConfig,
        snapshot_fn: SnapshotFn | None = None,
        session_id: str = "",
        max_snapshots: int = 200,
    ):
        self.config = config
        self.snapshot_fn = snapshot_fn
        self.session_id = session_id
        self.max_snapshots = max(2, max_snapshots)
        self.run_id = uuid.uuid4().hex[:8]
        # guards everything below; the paused worker waits on it
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._status = "starting"
        self._error: str | None = None
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
        self._single_requested = 0  # one-step requests not yet started
        self._single_done = 0  # one-step requests completed
        self._version = 0  # bumped on every change; view() reuses its copy while unchanged
        self._view: RunView | None = None
        self._view_version = -1

    # ------------------------------------------------------------------ control (any thread)
    def start(self) -> None:
        """Start the worker thread; the Trainer (and its data) is built inside it."""
        with self._cond:
            if self._thread is not None:
                raise RuntimeError(f"run {self.run_id} was already started")
            if self._status in FINISHED:  # stopped before it started
                return
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
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._status in ("paused",) + FINISHED, timeout)

    def resume(self) -> None:
        with self._cond:
            self._paused = False
            self._cond.notify_all()
            if self._thread is not None and self._thread.is_alive():
                self._cond.wait_for(lambda: self._status != "paused", 1.0)

    def step_once(self, timeout: float = 30.0) -> None:
        """When paused: the worker does exactly one step (with metrics and a snapshot), then stays
        paused. Returns once that step is done (or after timeout); does nothing unless paused."""
        with self._cond:
            if self._status != "paused":
                return
            self._single_requested += 1
            ticket = self._single_done + self._single_requested
            self._cond.notify_all()
            self._cond.wait_for(
                lambda: self._single_done >= ticket or self._status in FINISHED, timeout
            )

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the run and join its thread (status "stopped" unless it had already finished)."""
        with self._cond:
            self._stop_requested = True
            self._cond.notify_all()
            if self._thread is None and self._status not in FINISHED:
                self._set_finished("stopped", None)
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
            self._train()
        except Exception as e:  # a failing run must never take the app (or the test process) down
            _LOG.exception("run %s failed", self.run_id)
            with self._cond:
                self._set_finished("failed", f"{type(e).__name__}: {e}")

    def _train(self) -> None:
        cfg = self.config
        trainer = Trainer(cfg)
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
                    self._set_finished("stopped", None)
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
                    error = divergence_message(f"{bad.name} (in {bad.update})", bad.value, bad.step, cfg)
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

    def _control(self, trainer: Trainer) -> str:
        """'go', 'single' (one step while paused) or 'stop'; blocks while paused."""
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
            self._cond.wait_for(
                lambda: not self._paused or self._stop_requested or self._single_requested > 0
            )
            if self._stop_requested:
                return "stop"
            if self._single_requested > 0:
                self._single_requested -= 1
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

    def _set_finished(self, status: str, error: str | None) -> None:
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
            self._snapshots.append(Snapshot(step, samples, extras))
            while len(self._snapshots) > self.max_snapshots:
                self._snap_every *= 2
                last = len(self._snapshots) - 1
                self._snapshots = [
                    s for i, s in enumerate(self._snapshots)
                    if i in (0, last) or s.step % self._snap_every == 0
                ]  # fmt: skip
            self._version += 1


class Busy(RuntimeError):
    """The server already trains as many runs as it may; the message says what to do."""


class RunRegistry:
    """All runs of this process, by browser session, with a cap on how many train at once.

    A session sees only its own runs. Sessions that have not been touched for ``idle_timeout_s``
    get their runs stopped (checked whenever anyone starts a run or touches a session), and their
    records are forgotten after four times that.
    """

    def __init__(self, max_running: int | None = None, idle_timeout_s: float = 900):
        if max_running is None:
            max_running = int(os.environ.get("GAN_DEMO_MAX_RUNS", "2"))
        self.max_running = max_running
        self.idle_timeout_s = idle_timeout_s
        self.keep_finished = 5  # finished runs remembered per session (their snapshots use memory)
        self._lock = threading.Lock()
        self._runs: dict[str, list[Run]] = {}
        self._touched: dict[str, float] = {}

    def start(
        self, session_id: str, config: TrainConfig, snapshot_fn: SnapshotFn | None = None
    ) -> Run:
        """Start a run for this session; raises :class:`Busy` when the cap is reached."""
        self.reap_idle()
        with self._lock:
            active = self._active()
            if len(active) >= self.max_running:
                mine = sum(r.session_id == session_id for r in active)
                yours = f" ({mine} of them yours)" if mine else ""
                raise Busy(
                    f"{len(active)} runs are training on this server now{yours}, and the limit is "
                    f"{self.max_running}. Stop one of yours or wait for one to finish, then press "
                    "Start again."
                )
            run = Run(config, snapshot_fn, session_id)
            runs = self._runs.setdefault(session_id, [])
            finished = [r for r in runs if r.status in FINISHED]
            for old in finished[: max(0, len(finished) - self.keep_finished + 1)]:
                runs.remove(old)
            runs.append(run)
            self._touched[session_id] = time.monotonic()
        run.start()
        return run

    def runs_for(self, session_id: str) -> list[Run]:
        with self._lock:
            return list(self._runs.get(session_id, ()))

    def get(self, session_id: str, run_id: str) -> Run | None:
        with self._lock:
            return next((r for r in self._runs.get(session_id, ()) if r.run_id == run_id), None)

    def touch(self, session_id: str) -> None:
        """Mark the session as alive (pages call this on every rerun), then reap idle ones."""
        with self._lock:
            self._touched[session_id] = time.monotonic()
        self.reap_idle()

    def reap_idle(self) -> int:
        """Stop the runs of sessions idle for ``idle_timeout_s``; returns how many were stopped."""
        now = time.monotonic()
        with self._lock:
            idle = [s for s, t in self._touched.items() if now - t > self.idle_timeout_s]
            to_stop = [r for s in idle for r in self._runs.get(s, ()) if r.status in ACTIVE]
            for s in idle:
                if now - self._touched[s] > 4 * self.idle_timeout_s:
                    del self._touched[s]
                    self._runs.pop(s, None)
        for run in to_stop:
            run.stop()
        return len(to_stop)

    def stop_session(self, session_id: str) -> None:
        """Stop every run of this session (its browser tab closed)."""
        for run in self.runs_for(session_id):
            run.stop()

    def running_count(self) -> int:
        with self._lock:
            return len(self._active())

    def _active(self) -> list[Run]:
        return [r for runs in self._runs.values() for r in runs if r.status in ACTIVE]
