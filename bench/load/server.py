"""The server under test and what is sampled from it: ``streamlit run app.py`` in a subprocess, its
resident memory, CPU and threads every ``interval`` seconds (psutil when installed, else /proc),
and the load average of the machine.

Training threads are recognised by their work, not their names (Python 3.11 does not give a
thread's name to the OS): a thread of the server that burns more than ``BUSY`` of a core between
two samples is busy; after every session disconnected only the training threads stay busy (no
page reruns any more), so :meth:`Sampler.busy_tids` then names them.

The server's child processes (the app's training workers, ``GAN_DEMO_TRAIN_IN=process``) are
sampled with it: their threads count among the threads and the busy ones, their CPU in ``cpu``,
their memory in ``workers_rss_mb`` (``rss_mb`` is the server process alone). RSS counts the pages
a process shares with others (torch's libraries, mapped by every process that imports it) in each
of them, so a sum of RSS over processes counts them several times; ``pss_mb`` and
``workers_pss_mb`` are the proportional set sizes (``/proc/<pid>/smaps_rollup``: each shared page
divided among the processes that map it), whose sum is the memory the process tree uses.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUSY = 0.1  # share of a core above which a thread counts as busy (the machine is shared)
_TICK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run app.py`` on a free loopback port with ``env`` added and ``options`` (Streamlit
    config options, ``{"runner.postScriptGC": "false"}``) on its command line; a context manager."""

    def __init__(self, env: dict[str, str], log: Path, options: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._env = {**os.environ, **env}
        self._log = log
        self._options = [a for k, v in (options or {}).items() for a in (f"--{k}", v)]
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.fileWatcherType", "none", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", *self._options]  # fmt: skip
        self._log.parent.mkdir(parents=True, exist_ok=True)
        self._out = open(self._log, "w")  # noqa: SIM115 (closed in __exit__)
        # with --clients-nice, a session (and so a scheduling group, autogroup) of its own, apart from the clients
        own = os.environ.get("BENCH_CLIENTS_NICE", "0") != "0"
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self._env, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=own)  # fmt: skip
        deadline = time.monotonic() + 90
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}; see {self._log}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {self.url} within 90 s")
            time.sleep(0.3)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._out.close()


def load_average() -> str:
    """The output of ``uptime`` (load averages over 1, 5 and 15 minutes)."""
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


@dataclass
class Sample:
    t: float  # time.perf_counter()
    rss_mb: float  # the server process
    cpu: float  # cores used since the previous sample by the server and its workers (1.0 = one core)
    threads: int  # of the server and its workers
    busy: tuple[int, ...]  # ids of threads above BUSY since the previous sample (server and workers)
    workers_rss_mb: float = 0.0  # the server's child processes (training workers), summed
    workers: int = 0  # how many child processes
    pss_mb: float = 0.0  # the server process's proportional set size
    workers_pss_mb: float = 0.0  # its child processes', summed

    @property
    def total_rss_mb(self) -> float:
        return self.rss_mb + self.workers_rss_mb

    @property
    def total_pss_mb(self) -> float:
        """The memory the server and its workers use together (shared pages counted once)."""
        return self.pss_mb + self.workers_pss_mb


def pss_mb(pid: int) -> float:
    """The proportional set size of ``pid`` in MB (``Pss:`` of /proc/<pid>/smaps_rollup), 0 if unreadable."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """The process ids of ``pid``'s children, grandchildren, ... (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except FileNotFoundError:
            continue
        for tid in tasks:
            try:
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


@dataclass
class Sampler:
    """Samples process ``pid`` every ``interval`` s until :meth:`stop`: in a daemon thread, or, with
    ``own_process`` (``--clients-nice``: this process's scheduling group then runs at low priority with
    the light sessions), in a process of its own, in its own session and scheduling group, which
    prints each sample as a JSON line (its ``t`` is ``time.perf_counter()``, the system's monotonic
    clock, so it compares with this process's times)."""

    pid: int
    interval: float = 0.5
    samples: list[Sample] = field(default_factory=list)
    own_process: bool = False

    def __post_init__(self):
        self._stop = threading.Event()
        self._proc: subprocess.Popen | None = None
        if self.own_process:
            code = f"from bench.load.server import Sampler; Sampler.print_samples({self.pid}, {self.interval})"
            self._proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                                          start_new_session=True)  # fmt: skip
            target = self._read_lines
        else:
            target = lambda: self._loop(self.samples.append)  # noqa: E731
        self._thread = threading.Thread(target=target, name="bench-sampler", daemon=True)
        self._thread.start()

    @classmethod
    def print_samples(cls, pid: int, interval: float) -> None:
        """The sampler process: one JSON line per sample on stdout until ``pid`` is gone."""
        import json
        from dataclasses import asdict

        sampler = cls.__new__(cls)  # the loop only, no thread
        sampler.pid, sampler.interval, sampler._stop = pid, interval, threading.Event()
        sampler._loop(lambda s: print(json.dumps(asdict(s)), flush=True))

    def _read_lines(self) -> None:
        import json

        for line in self._proc.stdout:
            self.samples.append(Sample(**{k: tuple(v) if k == "busy" else v for k, v in json.loads(line).items()}))

    def stop(self) -> list[Sample]:
        self._stop.set()
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(5)
        self._thread.join(5)
        return self.samples

    def between(self, t0: float, t1: float = float("inf")) -> list[Sample]:
        return [s for s in self.samples if t0 <= s.t <= t1]

    def busy_tids(self) -> set[int]:
        return set(self.samples[-1].busy) if self.samples else set()

    def alive_tids(self) -> set[int]:
        tids: set[int] = set()
        for pid in [self.pid, *descendants(self.pid)]:
            try:
                tids |= {int(t) for t in os.listdir(f"/proc/{pid}/task")}
            except FileNotFoundError:
                continue
        return tids

    def _read(self) -> tuple[float, float, dict[int, float], float, int, float, float]:
        """(server rss MB, CPU seconds, CPU seconds by thread id, workers' rss MB, workers, server pss
        MB, workers' pss MB) for the server and its child processes."""
        rss, cpu, threads = self._read_one(self.pid)
        kids = descendants(self.pid)
        kids_rss = kids_pss = 0.0
        for kid in kids:
            try:
                r, c, th = self._read_one(kid)
            except (FileNotFoundError, ProcessLookupError):
                continue
            kids_rss, kids_pss, cpu = kids_rss + r, kids_pss + pss_mb(kid), cpu + c
            threads.update(th)
        return rss, cpu, threads, kids_rss, len(kids), pss_mb(self.pid), kids_pss

    @staticmethod
    def _read_one(pid: int) -> tuple[float, float, dict[int, float]]:
        """(rss MB, process CPU seconds, CPU seconds by thread id) of one process, from /proc (psutil
        if present)."""
        try:
            import psutil

            p = psutil.Process(pid)
            rss = p.memory_info().rss / 2**20
            threads = {t.id: t.user_time + t.system_time for t in p.threads()}
            ct = p.cpu_times()
            return rss, ct.user + ct.system, threads
        except ImportError:
            pass
        with open(f"/proc/{pid}/statm") as f:
            rss = int(f.read().split()[1]) * _PAGE / 2**20
        threads = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                threads[int(tid)] = (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime
            except (FileNotFoundError, ProcessLookupError):
                continue
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return rss, (int(fields[11]) + int(fields[12])) / _TICK, threads

    def _loop(self, emit) -> None:
        prev_t, prev_threads = None, {}
        while not self._stop.is_set():
            try:
                rss, _, threads, kids_rss, kids, pss, kids_pss = self._read()
            except (FileNotFoundError, ProcessLookupError):
                return
            now = time.perf_counter()
            if prev_t is not None:
                dt = now - prev_t
                # CPU from the threads seen in both samples: a worker that ended or started between
                # them adds nothing instead of its whole lifetime
                used = {tid: c - prev_threads[tid] for tid, c in threads.items() if tid in prev_threads}
                busy = tuple(tid for tid, c in used.items() if tid != self.pid and c / dt > BUSY)
                emit(Sample(now, rss, max(0.0, sum(used.values())) / dt, len(threads), busy, kids_rss, kids,
                            pss, kids_pss))  # fmt: skip
            prev_t, prev_threads = now, threads
            self._stop.wait(self.interval)
