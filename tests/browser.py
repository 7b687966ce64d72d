"""Helpers for the end-to-end tests: a real `streamlit run app.py` server and Debian's chromium.

Streamlit's own e2e tests start the server with ``--server.headless true --server.fileWatcherType
none``, poll ``/_stcore/health``, and wait for ``[data-testid="stApp"]`` to say it is connected and
not running before they act. Playwright cannot download a browser here, so it drives
``/usr/bin/chromium``. Without a browser the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip


def require_browser() -> None:
    """Skip without chromium or Playwright, except under CI where a missing browser is a failure."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        message = "end-to-end test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must install it")
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SERVERS: dict[str, subprocess.Popen] = {}  # url -> the server process, while it runs


def child_cpu_seconds(url: str) -> dict[int, float]:
    """CPU seconds (user + system) of each child process of the server at ``url`` (its training
    workers, GAN_DEMO_TRAIN_IN=process), from /proc."""
    pid, out = SERVERS[url].pid, {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            for child in map(int, f.read().split()):
                try:
                    with open(f"/proc/{child}/stat") as st:
                        fields = st.read().rsplit(")", 1)[1].split()
                except FileNotFoundError:
                    continue
                out[child] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


@contextmanager
def streamlit_server(env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a free loopback port; yield its URL; stop it afterwards."""
    port = free_port()
    # the app's default training backend (worker processes), not the one conftest sets for AppTest
    server_env = {k: v for k, v in os.environ.items() if k != "GAN_DEMO_TRAIN_IN"}
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
        "--server.fileWatcherType", "none", "--server.port", str(port),
        "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env={**server_env, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    SERVERS[url] = proc
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not answer on {url} within {timeout} s")
            time.sleep(0.3)
        yield url
    finally:
        SERVERS.pop(url, None)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


SHOTS = os.environ.get("E2E_SCREENSHOTS")  # a folder to keep the browser tests' screenshots in


def shot(page, name: str) -> None:
    """Save a full-page screenshot as ``<E2E_SCREENSHOTS>/<name>.png`` when that variable is set."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def no_exception(page) -> None:
    """Fail with the text of the first exception box Streamlit shows on the page, if any."""
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def wait_idle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app is connected and not running a script (Streamlit's e2e convention)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-connection-state="CONNECTED"]', timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=timeout_ms)


class CuttableProxy:
    """A loopback TCP proxy between the browser and the server that can cut the network.

    ``cut(seconds)`` closes every open connection (the websocket included: the browser sees it
    drop, as when Wi-Fi goes away) and, for ``seconds``, closes each new connection as soon as it
    is accepted; after that it forwards again. One thread accepts, two threads per connection copy
    bytes; all are daemon threads named ``proxy-*`` and end within 0.2 s of :meth:`close`.
    Playwright's ``set_offline`` does not close an open websocket, so it cannot show this.
    """

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut_until = 0.0
        self._closed = False
        self.refused = 0  # connections closed at once during a cut
        self._acceptor = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._acceptor.start()

    def cut(self, seconds: float) -> int:
        """Close every open connection and refuse new ones for ``seconds``; returns how many
        connections were open."""
        with self._lock:
            self._cut_until = time.monotonic() + seconds
            victims = list(self._open)
            self._open.clear()
        for s in victims:
            _hang_up(s)
        return len(victims) // 2

    def close(self) -> None:
        self._closed = True
        self.cut(0)
        self._acceptor.join(5)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if time.monotonic() < self._cut_until or self._closed:
                self.refused += 1
                _hang_up(client)
                continue
            try:
                server = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                _hang_up(client)
                continue
            client.settimeout(None)
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for src, dst in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(src, dst), name="proxy-pump", daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        with self._lock:
            self._open.discard(src)
            self._open.discard(dst)
        _hang_up(src)
        _hang_up(dst)


def _hang_up(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv() on this socket
    except OSError:
        pass
    s.close()
