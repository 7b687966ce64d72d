"""Shared test fixtures: no worker thread may raise unseen, and none may outlive its test."""

from __future__ import annotations

import os
import threading
import time

import pytest

# A message key missing from a catalogue, or a parameter missing from a call, raises in the tests
# (gan_demo.content) instead of falling back to English: every page test is also a catalogue test.
os.environ.setdefault("GAN_DEMO_STRICT_I18N", "1")
# AppTest pages train in threads of the test process (fast to start, and the thread checks below see
# them); tests/test_workers.py covers the worker processes, and the browser tests' servers use the
# app's default, worker processes (tests/browser.py drops this variable for them).
os.environ.setdefault("GAN_DEMO_TRAIN_IN", "thread")  # before gan_demo's import: it reads the settings

from gan_demo.runs import live  # noqa: E402

THREAD_PREFIX = "gan-"  # every thread the app starts is named "gan-..." (runs: "gan-run-<id>")


def pytest_configure(config: pytest.Config) -> None:
    # An exception that escapes any thread fails the test it happened in (Streamlit's own tests do
    # the same with their ExceptionCapturingThread), instead of being a warning nobody reads.
    config.addinivalue_line("filterwarnings", "error::pytest.PytestUnhandledThreadExceptionWarning")


@pytest.fixture
def one_torch_thread():
    """One intra-op torch thread for the test (as the app's worker and the CLI use for tiny networks):
    on a shared 2-core machine two threads competing with other jobs run many times slower."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def full_server():
    """Every training slot of the app's registry taken by other sessions' long runs (ring8, 10⁶
    steps, seeds 100, 101, ...); yields those runs (tests free a slot by stopping one) and stops
    them after."""
    from gan_demo import ui
    from gan_demo.config import TrainConfig

    reg = ui.registry()
    others: list[live.Run] = []
    try:
        while reg.running_count() < reg.max_running:
            others.append(reg.start(f"someone-else-{len(others)}", TrainConfig.for_loss(
                "non-saturating", "ring8", steps=1_000_000, seed=100 + len(others))))  # fmt: skip
        yield others
    finally:
        for run in others:
            run.stop()


def gan_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    """Fail a test that leaves a gan-* thread alive (after a 5 s grace for threads still ending).

    Each test also gets a fresh app registry (as on a fresh server): the registry shares a finished
    run with any session that asks for the same settings (issue 18), so one test's runs would
    otherwise show up in the next one's pages."""
    from gan_demo import ui

    ui.registry.clear()
    yield
    left = live.stop_all(
        timeout=10.0
    )  # clean up first, so one bad test does not fail the next ones
    assert not left, f"runs still alive after the test: {left}; stop() your runs"
    deadline = time.monotonic() + 5.0
    while gan_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = [t.name for t in gan_threads()]
    assert not alive, f"threads still running after the test: {alive}; stop() your runs"
