"""Tests for gan_demo.runs.live: a run's life (done, pause, one step, resume, stop, failures) and the
registry's cap, session isolation, the reconnect grace period and idle limit (with a fake clock),
and that releasing or reaping a session never waits for a worker. Tiny toy runs on the CPU."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import pytest
import torch

from gan_demo import data, diagnostics, toylab, ui
from gan_demo.config import TrainConfig
from gan_demo.runs import live
from gan_demo.runs.live import Busy, Run, RunRegistry
from gan_demo.train import GanTrainer


def ring8(**overrides) -> TrainConfig:
    return TrainConfig.for_loss("non-saturating", "ring8", **overrides)


ROOT = Path(__file__).resolve().parents[1]
LONG = ring8(steps=1_000_000)  # never finishes inside a test: must be stopped


def long(seed: int) -> TrainConfig:
    """A LONG run of another seed: not identical to LONG, so the registry does not share them."""
    return ring8(steps=1_000_000, seed=seed)


def wait_until(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_short_run_finishes_with_metrics_and_snapshots():
    run = Run(
        ring8(steps=100, log_every=10, snapshot_every=25), snapshot_fn=lambda t: {"n": t.step_count}
    )
    run.start()
    run.join(60)
    view = run.view()
    assert not run.alive
    assert (view.status, view.error, view.step, view.total_steps) == ("done", None, 100, 100)
    # logged: the first step, every 10th, and the last -> 1, 10, 20, ..., 100
    assert view.metrics["step"] == [1.0] + [float(s) for s in range(10, 101, 10)]
    assert view.metric_names[0] == "step" and set(view.metrics) == set(view.metric_names)
    assert all(len(col) == 11 for col in view.metrics.values())
    assert [s.step for s in view.snapshots] == [0, 25, 50, 75, 100]
    assert [s.extras["n"] for s in view.snapshots] == [0, 25, 50, 75, 100]
    assert view.snapshots[0].samples.shape == (2500, 2)  # the toy's fixed noise batch
    assert view.device == "cpu" and view.steps_per_s > 0 and view.eta_s is None
    assert run.view() is view  # nothing changed: the same copy


def test_pause_step_once_resume_stop():
    run = Run(LONG)
    run.start()
    wait_until(lambda: run.view().step >= 5)
    run.pause()
    paused = run.view()
    assert paused.status == "paused"
    time.sleep(0.3)
    assert run.view().step == paused.step  # no progress while paused

    run.step_once()
    after = run.view()
    assert (after.status, after.step) == ("paused", paused.step + 1)
    assert after.metrics["step"][-1] == paused.step + 1  # the single step logs its metrics
    assert after.snapshots[-1].step == paused.step + 1  # ... and snapshots G's samples

    run.resume()
    wait_until(lambda: run.view().step >= after.step + 5)
    assert run.view().status == "running"
    run.stop()
    assert not run.alive
    stopped = run.view()
    assert stopped.status == "stopped" and stopped.error is None
    time.sleep(0.1)
    assert run.view().step == stopped.step


def test_an_exception_in_the_worker_fails_the_run_not_the_process(monkeypatch):
    def boom(self, with_metrics=True):
        raise RuntimeError("boom at the first step")

    monkeypatch.setattr(GanTrainer, "step", boom)
    run = Run(ring8(steps=10))
    run.start()
    run.join(30)
    assert not run.alive
    assert (run.view().status, str(run.view().error)) == (
        "failed",
        "RuntimeError: boom at the first step",
    )


def test_a_data_set_that_cannot_load_fails_with_its_message(monkeypatch):
    def unavailable(name, root=None, train=True):
        raise data.DataUnavailable(f"{name} is not available. To get it: ...")

    monkeypatch.setattr(data, "load_images", unavailable)
    run = Run(TrainConfig(data="mnist", steps=10))
    run.start()
    run.join(30)
    assert run.view().status == "failed"
    assert str(run.view().error) == "DataUnavailable: mnist is not available. To get it: ..."


def test_a_non_finite_metric_stops_the_run_and_names_it(monkeypatch):
    step = GanTrainer.step

    def diverging(self, with_metrics=True):
        row = step(self, with_metrics)
        if row is not None and row["step"] >= 20:
            row["loss_g"] = math.nan
        return row

    monkeypatch.setattr(GanTrainer, "step", diverging)
    run = Run(ring8(steps=1000, log_every=10))
    run.start()
    run.join(30)
    view = run.view()
    assert (view.status, view.step) == ("failed", 20)  # logged steps 1, 10, 20: caught at 20
    assert "loss_g became nan at step 20" in str(view.error)
    assert "lower the learning rates" in str(view.error)
    assert math.isnan(view.metrics["loss_g"][-1])  # the bad row is kept for the diagnosis


def test_snapshots_are_thinned_evenly_keeping_first_and_last():
    run = Run(ring8(steps=100, snapshot_every=10), max_snapshots=4)
    run.start()
    run.join(60)
    # 0..40 every 10 is 5 > 4: the interval doubles to 20, then to 40; the last step is kept
    assert [s.step for s in run.view().snapshots] == [0, 40, 80, 100]


def test_identical_requests_share_one_run_that_only_its_owner_controls():
    """Issue 18: a second session asking for the same config (seed included) and page watches the
    run that trains, at no extra cost; a different seed is another run."""
    reg = RunRegistry(max_running=2)
    a = reg.start("alice", LONG)
    try:
        assert reg.start("bob", LONG) is a and reg.start("carol", LONG) is a
        assert reg.running_count() == 1 and reg.viewers(a) == 2
        assert reg.is_owner("alice", a) and not reg.is_owner("bob", a)
        assert reg.runs_for("bob") == [a] and reg.get("bob", a.run_id) is a
        assert reg.get("dave", a.run_id) is None  # a session sees only the runs it started or joined
        other_page = reg.start("bob", LONG, snapshot_fn=toylab.snapshot_2d)  # the 2-D page
        assert other_page is not a and reg.running_count() == 2
        other_page.stop()
        copy = reg.start("carol", LONG, share=False)  # "take a copy": carol's own run of it
        assert copy is not a and reg.is_owner("carol", copy) and copy.view().status in ("starting", "running")
        copy.stop()
    finally:
        a.stop()


def test_a_finished_run_is_shared_with_other_sessions_but_start_again_trains_anew():
    reg = RunRegistry(max_running=2)
    a = reg.start("alice", ring8(steps=20))
    a.join(30)
    assert a.view().status == "done"
    assert reg.start("bob", ring8(steps=20)) is a  # bob sees the finished run at once
    again = reg.start("alice", ring8(steps=20))  # alice pressing Start again means: train it again
    assert again is not a
    again.join(30)
    assert again.view().status == "done"


def test_runs_beyond_the_cap_wait_in_a_first_come_queue_and_start_by_themselves():
    reg = RunRegistry(max_running=2, per_session=1)
    a, b = reg.start("alice", long(1)), reg.start("bob", long(2))
    c, d = reg.start("carol", long(3)), reg.start("dave", long(4))
    try:
        assert [r.view().status for r in (c, d)] == ["queued", "queued"] and not c.alive
        assert reg.running_count() == 2 and reg.queued_count() == 2
        assert (reg.queue_place(c).position, reg.queue_place(d).position, reg.queue_place(d).length) == (1, 2, 2)
        assert reg.queue_place(a) is None  # a training run is not in the queue
        assert reg.start("erin", long(3)) is c  # an identical request joins the queued run
        a.stop()
        wait_until(lambda: c.view().status == "running")  # c starts by itself when a's slot frees
        assert d.view().status == "queued" and reg.queue_place(d).position == 1
        d.request_stop()  # leaving the queue: d never trains
        assert d.view().status == "stopped" and not d.alive and reg.queued_count() == 0
        b.stop()
        assert reg.running_count() == 1
    finally:
        for run in (a, b, c, d):
            run.stop()


def test_one_run_per_session_by_default_and_paused_runs_hold_their_slot():
    reg = RunRegistry(max_running=1)
    assert reg.per_session == 1  # GAN_DEMO_RUNS_PER_SESSION's default
    a = reg.start("alice", LONG)
    try:
        a.pause()
        with pytest.raises(Busy) as busy:
            reg.start("alice", long(1))
        assert str(busy.value) == ("You already have 1 run training or waiting in this session, and the limit "
                                   "per session is 1: stop it (the Stop button on its page) or wait for it to "
                                   "finish, then press Start again.")  # fmt: skip
        b = reg.start("bob", long(1))
        assert b.view().status == "queued"  # alice's paused run keeps the only slot
        a.stop()
        wait_until(lambda: b.view().status == "running")
        b.stop()
    finally:
        a.stop()


def test_the_estimated_start_takes_the_earliest_free_slot_for_each_run_ahead():
    # 2 slots freeing at 10 s and 30 s, 100 steps/s: a 1,000-step run ahead takes the first at 10 s
    # and frees it at 20 s, so the next run starts at 20 s; with nobody ahead, at 10 s
    assert live.estimated_start([10.0, 30.0], 100.0, 2, [1000]) == 20.0
    assert live.estimated_start([10.0, 30.0], 100.0, 2, []) == 10.0
    assert live.estimated_start([10.0, 30.0], 100.0, 2, [1000, 4000]) == 30.0  # 2nd ahead: 30 -> 70
    assert live.estimated_start([10.0], 100.0, 2, []) == 0.0  # a slot is free
    assert live.estimated_start([None, 30.0], 100.0, 2, []) is None  # a paused run: no estimate
    assert live.estimated_start([10.0, 30.0], None, 2, []) is None


def test_a_shared_run_goes_on_while_any_of_its_sessions_is_here():
    clock = FakeClock()
    reg = RunRegistry(max_running=2, grace_s=60, clock=clock)
    a = reg.start("alice", LONG)
    assert reg.start("bob", LONG) is a
    reg.release("alice")  # the owner leaves; bob still watches
    clock.now += 61
    reg.touch("bob")
    assert reg.reap() == 0 and trains_on(a)
    reg.release("bob")
    clock.now += 61
    wait_until(lambda: not a.alive, timeout=10)  # everyone gone: it ends by itself
    assert str(a.view().error) == "The run was stopped: its browser session disconnected and was not back within 60 s."


def test_a_run_whose_owner_left_passes_to_the_viewer_still_here():
    """The owner gone past the grace period, the run trains on for its viewer, who owns it from then
    on (Pause, Step, Stop), so nobody watches a run that no one can stop."""
    clock = FakeClock()
    reg = RunRegistry(max_running=2, grace_s=60, clock=clock)
    a = reg.start("alice", LONG)
    try:
        assert reg.start("bob", LONG) is a and not reg.is_owner("bob", a) and reg.viewers(a) == 1
        reg.release("alice")
        clock.now += 30  # within the grace period alice still owns it
        reg.touch("bob")
        assert reg.is_owner("alice", a) and not a.handed_over
        clock.now += 31
        reg.touch("bob")
        assert reg.is_owner("bob", a) and a.handed_over and reg.viewers(a) == 0
        assert trains_on(a)
    finally:
        a.stop()


def test_a_viewer_that_takes_a_copy_no_longer_keeps_the_shared_run_going():
    """With one slot: bob watches alice's run, then takes a copy (queued behind it) and no longer
    watches it; alice leaves, so her run stops after the grace period and bob's copy starts."""
    clock = FakeClock()
    reg = RunRegistry(max_running=1, grace_s=5, clock=clock)
    a = reg.start("alice", LONG)
    try:
        assert reg.start("bob", LONG) is a
        copy = reg.start("bob", LONG, share=False)
        reg.detach("bob", a)  # what the page's "Take a copy" does after starting the copy
        assert copy is not a and copy.status == live.QUEUED and reg.viewers(a) == 0
        reg.release("alice")
        clock.now += 6
        reg.touch("bob")
        a.join(10)
        assert a.status == "stopped" and reg.is_owner("alice", a)
        wait_until(lambda: copy.status in live.ACTIVE, timeout=10)
    finally:
        a.stop()
        copy.stop()


def test_a_queued_run_whose_session_left_gives_up_its_place():
    clock = FakeClock()
    reg = RunRegistry(max_running=1, grace_s=60, clock=clock)
    a = reg.start("alice", long(1))
    c = reg.start("carol", long(2))
    d = reg.start("dave", long(3))
    try:
        reg.release("carol")
        clock.now += 61
        reg.touch("alice")  # any rerun reaps
        assert c.view().status == "stopped" and not c.alive
        assert str(c.view().error) == ("The run left the queue: its browser session disconnected and was not "
                                  "back within 60 s.")  # fmt: skip
        assert reg.queue_place(d).position == 1
    finally:
        for run in (a, c, d):
            run.stop()


class FakeClock:
    """A monotonic clock in seconds that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def trains_on(run: Run, steps: int = 5) -> bool:
    """The run is still training: its step moves on by ``steps``."""
    start = run.view().step
    wait_until(lambda: run.view().step >= start + steps)
    return run.view().status == "running"


def test_a_session_back_within_the_grace_period_keeps_its_run():
    clock = FakeClock()
    reg = RunRegistry(max_running=2, grace_s=60, clock=clock)
    a = reg.start("alice", LONG)
    reg.release("alice")  # the websocket closed (a network blip)
    clock.now += 59.9
    assert reg.lease("alice") is None and trains_on(a)
    reg.touch("alice")  # the browser reconnected to the same session: a rerun touches it
    clock.now += 120  # 179.9 s after the release, 120 s after it came back
    assert reg.lease("alice") is None and trains_on(a)
    assert reg.reap() == 0 and a.alive
    reg.release("alice")  # a second disconnect starts a new grace period ...
    clock.now += 60.1
    wait_until(lambda: not a.alive)  # ... and this time nobody comes back
    assert a.view().status == "stopped"


def test_a_session_not_back_within_the_grace_period_ends_its_runs_by_itself():
    """Nothing but the worker's own lease check runs here: no rerun, no touch, no reap."""
    clock = FakeClock()
    reg = RunRegistry(max_running=3, grace_s=60, clock=clock, per_session=2)
    a = reg.start("alice", long(1))
    b = reg.start("alice", long(2))
    c = reg.start("bob", long(3))
    b.pause()  # a paused run (its worker waits) must end too
    reg.release("alice")
    clock.now += 60.0  # exactly the grace period: not yet
    assert reg.lease("alice") is None and trains_on(a) and b.view().status == "paused"
    clock.now += 0.1
    wait_until(lambda: not a.alive and not b.alive, timeout=10)
    for run in (a, b):
        view = run.view()
        assert view.status == "stopped"
        assert str(view.error) == (
            "The run was stopped: its browser session disconnected and was not back within 60 s."
        )
    assert trains_on(c) and reg.running_count() == 1  # bob's run is untouched; alice's slots free
    assert reg.runs_for("alice") == [a, b]  # the records stay (the page can say why they stopped)
    c.stop()


def test_the_idle_limit_ends_a_run_nobody_watches_and_old_records_are_forgotten():
    clock = FakeClock()
    reg = RunRegistry(max_running=2, idle_timeout_s=900, clock=clock)
    a = reg.start("alice", long(1))
    b = reg.start("bob", long(2))
    clock.now += 899
    reg.touch("bob")
    assert trains_on(a) and trains_on(b)
    clock.now += 2  # alice untouched for 901 s, bob for 2 s
    wait_until(lambda: not a.alive, timeout=10)
    assert str(a.view().error) == "The run was stopped: no page watched it for 15 minutes."
    assert trains_on(b)
    for _ in range(3):  # bob's page keeps touching; alice's session stays away
        clock.now += 850
        reg.touch("bob")
        assert reg.runs_for("alice") == [a]  # the record stays (untouched <= 4 x 900 s) ...
    clock.now += 150  # alice untouched for 3601 s > 4 x 900: the next reap forgets her
    reg.touch("bob")
    assert reg.runs_for("alice") == [] and reg.runs_for("bob") == [b]
    assert trains_on(b)  # bob was never idle
    b.stop()


def slow_steps(monkeypatch, seconds: float = 1.0) -> threading.Event:
    """Every training step sleeps ``seconds`` first; the event is set once a worker is mid-step."""
    inside = threading.Event()
    step = live.Trainer.step

    def slow(self, with_metrics=True):
        inside.set()
        time.sleep(seconds)
        return step(self, with_metrics)

    monkeypatch.setattr(live.Trainer, "step", slow)
    return inside


def test_releasing_a_session_returns_at_once_while_its_worker_is_mid_step(monkeypatch):
    """Streamlit calls the session token's on_release on its event loop, which serves every
    session: it must not wait for the worker (the old code joined it for up to 10 s)."""
    inside = slow_steps(monkeypatch, 1.0)
    clock = FakeClock()
    reg = RunRegistry(max_running=1, grace_s=60, clock=clock)
    a = reg.start("alice", LONG)
    assert inside.wait(30)
    t0 = time.perf_counter()
    ui._release_session(ui._SessionToken("alice", reg))  # what on_release calls
    took = time.perf_counter() - t0
    assert took < 0.05, f"on_release took {took * 1000:.0f} ms"
    assert a.alive and a.view().status == "running"  # the grace period has begun, nothing more
    clock.now += 61
    wait_until(lambda: not a.alive, timeout=10)  # ... and the worker ends by itself afterwards
    assert a.view().status == "stopped"


def test_the_idle_reaper_in_a_rerun_does_not_wait_for_the_worker(monkeypatch):
    """touch() runs inside a page rerun: reaping another session's run asks it to stop and
    returns; the worker ends afterwards. (Real time here, so the old code runs this test too.)"""
    inside = slow_steps(monkeypatch, 1.0)
    reg = RunRegistry(max_running=1, idle_timeout_s=0.3)
    a = reg.start("alice", LONG)
    assert inside.wait(30)
    time.sleep(0.4)  # alice is idle now; her worker is still in its first 1 s step
    t0 = time.perf_counter()
    reg.touch("bob")  # bob's page reruns
    took = time.perf_counter() - t0
    assert took < 0.05, f"touch took {took * 1000:.0f} ms"
    assert a.alive
    wait_until(lambda: not a.alive, timeout=10)
    assert a.view().status == "stopped"


def test_the_page_says_why_the_run_of_a_session_that_did_not_come_back_stopped(monkeypatch):
    """AppTest: a Train page run; Streamlit releases the session and the grace period (0 s here)
    passes; the run stops by itself, and when the page draws again it says why."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.number_input(key="train_steps").set_value(1_000_000).run()
    at.button(key="train_start").click().run()
    reg = ui.registry()
    (run,) = reg.runs_for(at.session_state["gan_session_id"])
    monkeypatch.setattr(reg, "grace_s", 0.0)
    reg.release(run.session_id)
    wait_until(lambda: not run.alive, timeout=10)
    at.run()
    assert not at.exception
    assert run.view().status == "stopped"
    assert (
        "The run was stopped: its browser session disconnected and was not back within 0 s."
        in [e.value for e in at.info]
    )


def test_a_step_that_goes_non_finite_between_logged_steps_fails_the_run_at_that_step():
    # issue 12: lsgan, RMSprop, lr 1: ‖∇D‖ is inf from step 2 on; the app used to report step 10
    cfg = TrainConfig.for_loss("lsgan", "ring8", optimizer="rmsprop", lr_d=1.0, lr_g=1.0, steps=50, log_every=10)
    run = Run(cfg)
    run.start()
    run.join(30)
    view = run.view()
    assert (view.status, view.step) == ("failed", 2)
    assert "grad_d (in D's update) became inf at step 2" in str(view.error)
    assert view.metrics["step"] == [1.0, 2.0]  # the first step and the bad one, kept for the diagnosis
    assert math.isinf(view.metrics["grad_d"][-1])
    r0 = diagnostics.diagnose_view(view)[0]
    assert r0.rule == "R0" and "grad_d became inf at step 2" in r0.evidence


def test_the_worker_sets_its_thread_count_once_and_threads_started_meanwhile_keep_the_default():
    def counts(trainer):  # runs in the worker: its own count, and that of a thread started now
        box = []
        t = threading.Thread(target=lambda: box.append(torch.get_num_threads()))
        t.start()
        t.join()
        return {"worker": torch.get_num_threads(), "new thread": box[0]}

    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the process default, above the toy's 1 thread
    try:
        run = Run(ring8(steps=30, snapshot_every=10), snapshot_fn=counts)
        run.start()
        run.join(60)
        assert run.view().status == "done"
        assert [s.extras for s in run.view().snapshots] == [{"worker": 1, "new thread": 2}] * 4  # steps 0-30
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_a_crowded_shared_run_redraws_less_often():
    """docs/load.md: thirty sessions redrawing a toy page twice a second slowed the shared run to a
    fifth of its speed; its watchers now redraw every 0.5 s alone, every 1 s from 4 watchers, every
    4 s at 29 (a class of 30)."""
    assert [ui.redraw_interval(0.5, n) for n in (0, 3, 4, 8, 29)] == [0.5, 0.5, 1.0, 1.5, 4.0]
