"""Runs in worker processes (gan_demo.runs.workers, GAN_DEMO_TRAIN_IN=process): the same record as
a run in a thread, bit for bit; the controls, the lease, saving, and a worker that dies."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import time

import numpy as np
import pytest
import safetensors.torch
import torch

from gan_demo import settings, toylab
from gan_demo.config import TrainConfig
from gan_demo.content import Msg
from gan_demo.runs import folder, live, workers
from gan_demo.runs.live import Run, RunRegistry


def ring8(**overrides) -> TrainConfig:
    return TrainConfig.for_loss("lsgan", "ring8", **overrides)


LONG = ring8(steps=1_000_000)


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture(scope="module", autouse=True)
def worker_pool():
    """One warm worker for the module (each test would otherwise pay ~4 s of imports); ended after."""
    pool = workers.pool()
    pool.warm(1).join(120)
    yield pool
    pool.close()
    assert pool.pids() == []


def test_a_run_in_a_worker_process_records_what_a_thread_records_bit_for_bit():
    config = ring8(steps=300, log_every=10, snapshot_every=100, seed=3)
    remote, local = Run(config, toylab.snapshot_2d, in_process=True), Run(config, toylab.snapshot_2d)
    for run in (remote, local):
        run.start()
        run.join(120)
    a, b = remote.view(), local.view()
    assert (a.status, a.step, a.device) == (b.status, b.step, b.device) == ("done", 300, "cpu")
    assert a.metric_names == b.metric_names
    assert len(a.metrics["step"]) == 31  # steps 1, 10, ..., 300
    for name in b.metric_names:
        assert np.array_equal(a.metrics[name], b.metrics[name], equal_nan=True), name
    assert [s.step for s in a.snapshots] == [s.step for s in b.snapshots] == [0, 100, 200, 300]
    for x, y in zip(a.snapshots, b.snapshots, strict=True):
        assert np.array_equal(x.samples, y.samples)
        assert np.array_equal(x.extras["hz"], y.extras["hz"]) and x.extras["w1"] == y.extras["w1"]
    assert a.steps_per_s > 0
    # saving: the worker sent its trainer's tensors when the run ended; the weights files are identical
    assert isinstance(remote.trainer, workers.TrainerState) and remote.trainer.step_count == 300
    fa, fb = remote.files(), local.files()
    assert fa[folder.WEIGHTS] == fb[folder.WEIGHTS] and fa[folder.METRICS] == fb[folder.METRICS]
    sa, sb = safetensors.torch.load(fa[folder.STATE]), safetensors.torch.load(fb[folder.STATE])
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sb)  # Adam's moments, the RNG, ...
    assert header(fa[folder.STATE]) == header(fb[folder.STATE])  # (the header's key order is not fixed)


def header(safetensors_bytes: bytes) -> dict:
    """The JSON header of a safetensors file: its 8-byte length, then the header."""
    (size,) = struct.unpack("<Q", safetensors_bytes[:8])
    return json.loads(safetensors_bytes[8 : 8 + size])


def test_pause_step_resume_and_stop_reach_the_worker():
    run = Run(LONG, in_process=True)
    run.start()
    wait_until(lambda: run.view().step >= 50)
    run.pause()
    paused = run.view()
    assert paused.status == "paused"
    time.sleep(0.3)
    assert run.view().step == paused.step  # the worker does not step while paused
    wait_until(lambda: run.trainer is not None and run.trainer.step_count == paused.step)
    assert run.files()[folder.WEIGHTS]  # a paused run can be saved

    run.step_once()
    after = run.view()
    assert (after.status, after.step) == ("paused", paused.step + 1)
    assert after.metrics["step"][-1] == paused.step + 1  # the single step logs its row
    assert after.snapshots[-1].step == paused.step + 1  # ... and its snapshot
    wait_until(lambda: run.trainer.step_count == paused.step + 1)  # saving sees the step just done

    run.resume()
    wait_until(lambda: run.view().step >= after.step + 50)
    assert run.view().status == "running"
    run.request_stop(Msg("ui.stopped_idle", minutes=15))
    run.join(30)
    stopped = run.view()
    assert not run.alive and stopped.status == "stopped"
    assert str(stopped.error) == str(Msg("ui.stopped_idle", minutes=15))  # the parent's reason, not the worker's


def test_the_lease_stops_a_run_in_a_worker_within_a_second():
    gone: list[float] = []
    run = Run(LONG, lease=lambda: Msg("ui.stopped_disconnected", grace_s=5) if gone else None, in_process=True)
    run.start()
    wait_until(lambda: run.view().step >= 20)
    gone.append(time.monotonic())
    run.join(10)
    assert not run.alive and run.view().status == "stopped"
    assert time.monotonic() - gone[0] < 2.0
    assert "5" in str(run.view().error)


def test_a_diverging_run_in_a_worker_fails_with_rule_r0s_message_in_either_language():
    # lsgan, RMSprop, lr 1: ‖∇D‖ is inf from step 2 on (tests/test_jobs.py, issue 12)
    config = TrainConfig.for_loss("lsgan", "ring8", optimizer="rmsprop", lr_d=1.0, lr_g=1.0, steps=50, log_every=10)
    local, remote = Run(config), Run(config, in_process=True)
    for run in (local, remote):
        run.start()
        run.join(60)
    a, b = remote.view(), local.view()
    assert (a.status, a.step) == (b.status, b.step) == ("failed", 2)
    assert "grad_d (in D's update) became inf at step 2" in str(a.error)
    assert isinstance(a.error, Msg)  # crossed the process boundary as a message, rendered per reader
    assert a.error.render("zh") == b.error.render("zh") and a.error.render("en") == b.error.render("en")


def test_a_worker_that_dies_fails_its_run_with_the_exit_code_and_the_next_run_gets_a_new_one(worker_pool):
    run = Run(LONG, in_process=True)
    run.start()
    wait_until(lambda: run.view().step >= 20)
    (pid,) = [p for p in worker_pool.pids()]
    os.kill(pid, signal.SIGKILL)
    run.join(30)
    view = run.view()
    assert not run.alive and view.status == "failed"
    assert str(view.error) == str(Msg("ui.worker_gone", code="-9"))
    assert "-9" in str(view.error)
    again = Run(ring8(steps=50), in_process=True)
    again.start()
    again.join(120)
    assert again.view().status == "done" and again.view().step == 50
    assert pid not in worker_pool.pids()


def test_a_worker_exits_when_the_server_is_gone():
    worker = workers.Worker()
    worker.wait_ready()
    worker.sock.close()  # what the server's death does to its end of the socket
    deadline = time.monotonic() + 10
    while worker.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.alive and worker.process.returncode == 0


def test_identical_requests_share_one_worker_and_a_closure_trains_in_a_thread():
    reg = RunRegistry(max_running=2, in_process=True)
    a = reg.start("s1", ring8(steps=1_000_000, seed=7))
    b = reg.start("s2", ring8(steps=1_000_000, seed=7))
    assert a is b and a.in_process
    wait_until(lambda: a.view().step >= 10)
    assert workers.pool().counts()[1] == 1  # one busy worker for two sessions
    c = reg.start("s3", ring8(steps=10, seed=8), snapshot_fn=lambda t: {})  # a closure cannot be sent
    assert not c.in_process
    a.stop(30)
    c.join(30)
    assert (a.view().status, c.view().status) == ("stopped", "done")


def test_sendable_tells_module_functions_from_closures():
    assert live.sendable(None) and live.sendable(toylab.snapshot_2d)
    assert not live.sendable(lambda t: {})


def test_framing_round_trips_a_snapshot_and_reports_a_closed_peer():
    a, b = socket.socketpair()
    shot = live.Snapshot(5, np.arange(6, dtype=np.float32).reshape(3, 2), {"w1": 0.25})
    workers.send(a, ("progress", {"new_snapshots": [shot]}))
    kind, body = workers.recv(b, timeout=5)
    got = body["new_snapshots"][0]
    assert kind == "progress" and got.step == 5 and np.array_equal(got.samples, shot.samples) and got.extras == {"w1": 0.25}
    assert workers.recv(b, timeout=0.05) is None  # nothing more
    a.close()
    with pytest.raises(EOFError):
        workers.recv(b, timeout=1)
    b.close()


@pytest.mark.parametrize(("text", "value", "problem"), [("process", "process", False), (" THREAD ", "thread", False),
                                                        ("gpu", "process", True), ("", "process", True)])  # fmt: skip
def test_train_in_is_process_or_thread_and_the_registry_follows_it(text, value, problem, monkeypatch):
    s = settings.load({"GAN_DEMO_TRAIN_IN": text})
    assert s.train_in == value
    assert tuple(map(str, s.problems)) == ((f"GAN_DEMO_TRAIN_IN={text!r} is not allowed: it must be process (each run "
                                             "trains in a worker process of its own) or thread (in the server "
                                             "process). Using the default, process.",) if problem else ())  # fmt: skip
    monkeypatch.setenv("GAN_DEMO_TRAIN_IN", text)
    settings.current.cache_clear()
    try:
        assert RunRegistry().in_process is (value == "process")
    finally:
        settings.current.cache_clear()


def test_a_run_whose_worker_cannot_start_trains_in_a_thread_instead(monkeypatch):
    class NoProcesses(workers.Pool):
        def acquire(self):
            raise workers.WorkerGone(1)

    monkeypatch.setattr(workers, "pool", lambda: NoProcesses(1))
    run = Run(ring8(steps=40, log_every=10), in_process=True)
    run.start()
    run.join(60)
    view = run.view()
    assert (view.status, view.step, view.metrics["step"]) == ("done", 40, [1.0, 10.0, 20.0, 30.0, 40.0])
    assert not run.in_process and run.trainer is not None and run.trainer.step_count == 40


def test_a_training_worker_stops_and_exits_when_the_server_is_gone():
    worker = workers.Worker()
    worker.wait_ready()
    worker.send(("job", LONG, None, 200))
    deadline = time.monotonic() + 60
    step = 0
    while step < 20:  # training: its reports arrive
        assert time.monotonic() < deadline
        message = worker.recv(1.0)
        if message is not None and message[0] == "progress":
            step = message[1]["step"]
    worker.sock.close()  # the server died mid-run
    deadline = time.monotonic() + 15
    while worker.alive and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not worker.alive and worker.process.returncode == 0  # it stopped its run and exited by itself


def test_a_worker_does_not_log_the_servers_bad_settings_again(monkeypatch, capfd):
    """A bad GAN_DEMO_* value is logged once, by the server; its workers read the same environment
    and stay quiet about it (with two workers the log said it three times)."""
    monkeypatch.setenv("GAN_DEMO_MAX_RUNS", "two")
    worker = workers.Worker()
    try:
        worker.wait_ready()
    finally:
        worker.close()
    err = capfd.readouterr().err
    assert "GAN_DEMO_MAX_RUNS='two' is not allowed" not in err
    assert settings.load({"GAN_DEMO_MAX_RUNS": "two"}).problems  # the value is bad: the server says so
