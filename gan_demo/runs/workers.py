"""Training in worker processes, outside the server's GIL (issue 18).

A run's :class:`~gan_demo.train.Trainer` is mostly Python between small torch kernels, so in the
server process its thread and the script threads of every page that watches it take turns on one
interpreter lock: thirty watching pages slowed a shared toy run to about half its speed on two idle
cores (docs/load.md). Here the run trains in a process of its own; the server keeps a thin proxy
(:class:`gan_demo.runs.live.Run` with ``in_process=True``) that mirrors what the worker reports.

* **Workers** are ``python -c "from gan_demo.runs.workers import main; main(FD)"`` processes started with :mod:`subprocess`
  (not :mod:`multiprocessing`'s spawn, which would re-run the parent's ``__main__``: in a Streamlit
  server that can be a page script). Each one imports torch and the training modules once, says
  "ready", then trains one job after another. :class:`Pool` keeps up to ``size`` idle workers warm,
  so a Start costs no interpreter start (about 4 s on a 2-core machine).
* **Messages** are pickles on a local socket pair, framed by an 8-byte length (:func:`send`,
  :func:`recv`). Only this project's two ends ever write to it: nothing from a user or a file is
  unpickled here (uploads go through ``runs.folder``, which never unpickles).
* **A job** (:func:`_job`) runs the same :class:`~gan_demo.runs.live.Run` as the thread backend,
  in a thread of the worker; the worker's main thread forwards the parent's commands to it (pause,
  resume, one step, stop) and sends what changed every :data:`REPORT_EVERY_S` seconds: the step,
  the rate, the status, new metric rows, new snapshots, and the trainer's tensors whenever the run
  is paused or has ended (what saving a run needs, :class:`TrainerState`).
* **Ends.** A worker whose parent is gone (its socket reads end-of-file) exits; the parent kills a
  worker that does not answer, and a job whose worker died fails with a message naming the exit code.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LOG = logging.getLogger(__name__)

REPORT_EVERY_S = 0.05  # how often a worker reports a training run's progress
START_TIMEOUT_S = 120.0  # a new worker must say "ready" within this (imports on a loaded 2-core machine)
_HEADER = struct.Struct("!Q")
_ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the gan_demo package


class WorkerGone(RuntimeError):
    """The worker process ended or closed its socket; ``returncode`` is its exit status when known."""

    def __init__(self, returncode: int | None):
        super().__init__(f"the training process ended (exit code {returncode})")
        self.returncode = returncode


# ---------------------------------------------------------------- framing (both ends)
def send(sock: socket.socket, message: Any) -> None:
    """Write one message: its pickle's length, then the pickle. Raises OSError when the peer is gone."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    sock.sendall(_HEADER.pack(len(data)) + data)


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("socket closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket, timeout: float | None = None) -> Any:
    """The next message, or None when none arrived within ``timeout`` seconds (None: wait).
    Raises EOFError when the peer closed the socket."""
    if timeout is not None and not select.select([sock], [], [], timeout)[0]:
        return None
    (size,) = _HEADER.unpack(_read_exactly(sock, _HEADER.size))
    return pickle.loads(_read_exactly(sock, size))


# ---------------------------------------------------------------- what saving a run needs
@dataclass(frozen=True)
class TrainerState:
    """A trainer's tensors as the worker sent them (CPU tensors), standing in for the
    :class:`~gan_demo.train.Trainer` where a run folder is written (``runs.folder.encode`` calls
    :meth:`state_tensors` and :meth:`resume_state`). ``resume`` is None for an objective that cannot
    be resumed; :meth:`resume_state` then raises NotImplementedError, as that trainer does."""

    step_count: int
    tensors: dict[str, Any]
    resume: tuple[dict[str, Any], dict] | None

    @classmethod
    def of(cls, trainer: Any) -> TrainerState:
        try:
            resume = trainer.resume_state()
        except NotImplementedError:
            resume = None
        return cls(trainer.step_count, trainer.state_tensors(), resume)

    def state_tensors(self) -> dict[str, Any]:
        return self.tensors

    def resume_state(self) -> tuple[dict[str, Any], dict]:
        if self.resume is None:
            raise NotImplementedError("this run's objective cannot be resumed")
        return self.resume


# ---------------------------------------------------------------- the parent's side
class Worker:
    """One worker process and the parent's end of its socket. :meth:`send` may be called from any
    thread (a page's Pause, the event loop's stop); :meth:`recv` only from the run's proxy thread."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        # not -m: pickles name this module. The server has logged any bad GAN_DEMO_* value once already;
        # the worker reads the same environment (on import), and keeps quiet about it
        entry = (f"import logging; logging.getLogger('gan_demo.settings').setLevel(logging.ERROR); "
                 f"from gan_demo.runs.workers import main; main({child.fileno()})")  # fmt: skip
        self.process = subprocess.Popen([sys.executable, "-c", entry],
                                        pass_fds=(child.fileno(),), cwd=_ROOT, env=env)  # fmt: skip
        child.close()
        self.sock = parent
        self._send_lock = threading.Lock()
        self.pid = self.process.pid

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Block until the worker has imported what it trains with. Raises :class:`WorkerGone`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.recv(min(left, 1.0))
            if message == ("ready",):
                return
        self.kill()
        raise WorkerGone(self.process.poll())

    def send(self, message: Any) -> None:
        """Raises :class:`WorkerGone` when the worker is gone."""
        try:
            with self._send_lock:
                send(self.sock, message)
        except OSError as e:
            raise WorkerGone(self.process.poll()) from e

    def recv(self, timeout: float | None) -> Any:
        """The next message or None after ``timeout`` s; raises :class:`WorkerGone` when it is gone."""
        try:
            return recv(self.sock, timeout)
        except (EOFError, OSError) as e:
            raise WorkerGone(self._exit_code()) from e

    def _exit_code(self) -> int | None:
        try:
            return self.process.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            return None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.kill()
        self.sock.close()
        try:
            self.process.wait(timeout=5.0)
        except subprocess.TimeoutExpired:
            _LOG.warning("training process %s did not exit after SIGKILL", self.pid)

    def close(self, timeout: float = 3.0) -> None:
        """Ask the worker to exit; kill it if it has not within ``timeout`` s."""
        try:
            self.send(("exit",))
            self.process.wait(timeout=timeout)
        except (WorkerGone, subprocess.TimeoutExpired):
            pass
        if self.alive:
            self.kill()
        self.sock.close()


class Pool:
    """Warm worker processes for this server: :meth:`acquire` hands out an idle one (or starts one),
    :meth:`release` takes it back, keeping at most ``size`` idle. Thread-safe."""

    def __init__(self, size: int):
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._warming = 0

    def acquire(self) -> Worker:
        """An idle worker, or a new one once it is ready (seconds: it imports torch). Raises
        :class:`WorkerGone` when a new worker does not start."""
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    self._busy.add(worker)
                    return worker
                worker.close()
        worker = Worker()
        with self._lock:
            self._busy.add(worker)
        try:
            worker.wait_ready()
        except WorkerGone:
            with self._lock:
                self._busy.discard(worker)
            raise
        return worker

    def release(self, worker: Worker, healthy: bool = True) -> None:
        """Take ``worker`` back after a job: idle when it is healthy and alive and the pool has room,
        else ended."""
        with self._lock:
            self._busy.discard(worker)
            keep = healthy and worker.alive and len(self._idle) < self.size
            if keep:
                self._idle.append(worker)
        if not keep:
            worker.close()

    def warm(self, n: int | None = None) -> threading.Thread:
        """Start workers in a background thread until ``n`` (default ``size``) are idle or busy;
        returns the thread (a page never waits for it)."""
        want = self.size if n is None else min(n, self.size)

        def fill() -> None:
            while True:
                with self._lock:
                    if len(self._idle) + len(self._busy) + self._warming >= want:
                        return
                    self._warming += 1
                try:
                    worker = Worker()
                    worker.wait_ready()
                except (WorkerGone, OSError):
                    _LOG.exception("a training process did not start")
                    return
                finally:
                    with self._lock:
                        self._warming -= 1
                self.release(worker)

        thread = threading.Thread(target=fill, name="gan-warm-workers", daemon=True)
        thread.start()
        return thread

    def counts(self) -> tuple[int, int]:
        """(idle, busy) workers."""
        with self._lock:
            return len(self._idle), len(self._busy)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in [*self._idle, *self._busy] if w.alive]

    def close(self) -> None:
        """End every worker (idle and busy)."""
        with self._lock:
            workers, self._idle, self._busy = [*self._idle, *self._busy], [], set()
        for worker in workers:
            worker.close(timeout=1.0)


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> Pool:
    """This process's pool, sized by ``GAN_DEMO_MAX_RUNS`` (the runs that may train at once)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            import atexit

            from gan_demo import settings

            _POOL = Pool(settings.current().max_runs)
            atexit.register(_POOL.close)
        return _POOL


# ---------------------------------------------------------------- the worker's side
def _job(sock: socket.socket, config: Any, snapshot_fn: Any, max_snapshots: int) -> None:
    """Train one run, forwarding commands and reporting progress until it has ended."""
    from gan_demo.runs.live import FINISHED, Run

    run = Run(config, snapshot_fn, max_snapshots=max_snapshots)
    run.start()
    rows = 0  # metric rows sent
    steps: tuple[int, ...] = ()  # the steps of the snapshots the parent holds
    state_at: tuple | None = None  # (status, step, single steps done) of the last TrainerState sent
    version = -1
    while True:
        command = recv(sock, REPORT_EVERY_S)
        if command is not None:
            kind = command[0]
            if kind == "exit":  # the server is shutting down
                run.stop(5.0)
                raise SystemExit(0)
            if kind == "pause":
                run.pause(timeout=0)
            elif kind == "resume":
                run.resume()
            elif kind == "single":
                run.step_once(timeout=0)
            elif kind == "stop":
                run.request_stop()
        progress = run.progress(rows, steps)
        ended = progress["status"] in FINISHED  # the trainer no longer steps
        # the tensors go first, so the server has them by the time it shows the run paused or ended
        key = (progress["status"], progress["step"], progress["single_done"])
        stepping = progress["single_requested"] > 0 or progress["single_started"] > progress["single_done"]
        trainer = run.trainer
        if trainer is not None and key != state_at and not stepping and (ended or progress["status"] == "paused"):
            state_at = key
            send(sock, ("state", TrainerState.of(trainer)))
        if progress["version"] != version:
            version = progress["version"]
            rows += max((len(v) for v in progress["rows"].values()), default=0)
            steps = progress["steps"]
            send(sock, ("progress", progress))
        if ended and not run.alive:
            send(sock, ("end",))
            return


def main(fd: int) -> None:
    """A worker process: import what training needs, say ready, train one job after another until
    the parent says "exit" or goes away."""
    sock = socket.socket(fileno=fd)
    logging.basicConfig(level=logging.WARNING)
    # imported before "ready", so a job starts at once (the toy pages' snapshot functions pull in plotly
    # and scipy); the CycleGAN page's (gan_demo.cyclelab, +110 MB) is imported by its first job
    from gan_demo import toylab  # noqa: F401
    from gan_demo.config import TrainConfig
    from gan_demo.metrics import quality  # noqa: F401
    from gan_demo.runs import live  # noqa: F401
    from gan_demo.train import make_trainer

    try:  # one tiny step: torch's first optimizer imports its compiler package (dynamo) (sympy, triton: about 150 MB)
        make_trainer(TrainConfig.for_loss("non-saturating", "ring8", steps=1, hidden=8)).step()
    except Exception:  # a job will say what is wrong
        _LOG.exception("the training process's warm-up step failed")
    release_memory()
    send(sock, ("ready",))
    while True:
        try:
            message = recv(sock)
        except (EOFError, OSError):
            return  # the server is gone
        if message[0] == "exit":
            return
        if message[0] == "job":
            try:
                _job(sock, *message[1:])
            except (EOFError, BrokenPipeError, ConnectionResetError):
                return
            except Exception as e:  # a job that cannot be reported (e.g. extras that do not pickle)
                _LOG.exception("training job failed")
                from gan_demo.runs.live import failure_message

                send(sock, ("failed", failure_message(e)))
                send(sock, ("end",))
            release_memory()


def release_memory() -> None:
    """Between jobs: collect the finished run's objects and hand the heap's free pages back to the
    system (glibc's ``malloc_trim``; elsewhere only the collection), so an idle worker's memory goes
    back to about where it started."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
