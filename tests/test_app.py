"""AppTest tests of the app frame and the Train page: every page loads, the form follows the loss,
bad values are refused, runs start and stop, and the live charts appear.

``run_every`` timers never fire in AppTest, so a test drives the live view by waiting on the run
object and calling ``at.run()``.
"""

from __future__ import annotations

import decimal
import json
import math
import random
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import config, data, plots, presets, settings, ui
from gan_demo.config import TrainConfig
from gan_demo.runs import live
from gan_demo.train import GanTrainer

APP = str(Path(__file__).resolve().parents[1] / "app.py")
LONG = TrainConfig.for_loss("non-saturating", "ring8", steps=1_000_000)  # must be stopped


def open_train() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    return at


def page_runs(at: AppTest) -> list[live.Run]:
    return ui.registry().runs_for(at.session_state["gan_session_id"])


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def wait_finished(run: live.Run, timeout: float = 60.0) -> None:
    run.join(timeout)
    assert not run.alive, "the run did not finish in time"


@pytest.mark.parametrize("page", [p.path for p in ui.PAGES])
def test_every_page_runs_without_exception(page):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    at.switch_page(page).run()
    assert not at.exception
    assert at.title  # each page has a title


def test_changing_the_loss_loads_its_classic_settings():
    at = open_train()
    assert at.number_input(key="train_lr_d").value == pytest.approx(2e-4)
    at.selectbox(key="train_loss").set_value("wgan").run()
    values = {
        k: at.number_input(key=f"train_{k}").value for k in ("lr_d", "lr_g", "d_steps", "clip")
    }
    assert values == {
        "lr_d": pytest.approx(5e-5),
        "lr_g": pytest.approx(5e-5),
        "d_steps": 5,
        "clip": 0.01,
    }
    assert at.selectbox(key="train_optimizer").value == "rmsprop"
    assert at.number_input(key="train_beta1").disabled  # RMSprop has no betas

    at.selectbox(key="train_loss").set_value("wgan-gp").run()
    got = {
        k: at.number_input(key=f"train_{k}").value
        for k in ("lr_d", "beta1", "beta2", "gp_weight", "clip")
    }
    assert got == {
        "lr_d": pytest.approx(1e-4),
        "beta1": 0.0,
        "beta2": 0.9,
        "gp_weight": 10.0,
        "clip": 0.0,
    }
    assert at.selectbox(key="train_optimizer").value == "adam"
    assert any("lambda" in e.value for e in at.latex)  # the GP formula is shown


def test_bad_values_show_their_message_and_start_nothing():
    at = open_train()
    before = ui.registry().running_count()
    at.number_input(key="train_pack").set_value(3)
    at.number_input(key="train_lr_g").set_value(0.0)
    at.run()
    errors = texts(at.error)
    assert "must divide batch_size (64); got 3" in errors
    assert "must be in (0, 1], got 0" in errors
    assert any("Start is off until these settings are fixed: lr G, Pack (PacGAN)." in e for e in errors)
    assert at.button(key="train_start").disabled
    assert ui.registry().running_count() == before and page_runs(at) == []


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("batch_size", 64.5, "must be a whole number in [2, 4096], got 64.5"),
        ("steps", 1e12, "must be in [1, 1000000], got 1000000000000"),
        ("steps", None, "enter a whole number in [1, 1000000]: the field is empty or does not hold a finite number"),
        ("lr_d", None, "enter a finite number in (0, 1]: the field is empty or does not hold a finite number"),
    ],
)  # fmt: skip
def test_a_number_field_quotes_what_was_typed_and_start_stays_off(name, typed, message):
    """What the browser sends: the float it parsed ("64.5", "1e12"), or None for an empty or
    unparseable entry ("abc", or "1e309" which parses to Infinity). Before, an integer widget
    truncated 64.5 to 64 without a word and turned None into its default 0 ("got 0")."""
    at = open_train()
    at.number_input(key=f"train_{name}").set_value(typed).run()
    assert not at.exception
    assert message in texts(at.error)
    assert at.button(key="train_start").disabled
    assert not any("got 0" in e for e in texts(at.error))  # no value the user did not type


def test_a_whole_number_written_as_a_float_trains_that_many_steps():
    """"2e3" reaches the app as 2000.0 from the (float-typed) widget and trains as the int 2000."""
    at = open_train()
    steps = at.number_input(key="train_steps")
    assert steps.proto.data_type == steps.proto.DataType.FLOAT  # an INT widget's frontend reads "2e3" as 2
    steps.set_value(2e3)
    at.number_input(key="train_batch_size").set_value(128.0).run()
    assert not at.error and not at.button(key="train_start").disabled
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    try:
        cfg = run.view().config
        assert (cfg.steps, cfg.batch_size) == (2000, 128) and type(cfg.steps) is int
    finally:
        run.stop()
        run.join(30)


def test_a_data_set_that_cannot_load_shows_its_message(monkeypatch):
    def unavailable(name, root=None, train=True):
        raise data.DataUnavailable(
            f"{name} (train split) is not available. To get it: download it."
        )

    monkeypatch.setattr(data, "load_images", unavailable)
    ui.data_problem.clear()
    try:
        at = open_train()
        at.selectbox(key="train_data").set_value("mnist").run()
        assert not at.exception
        assert "mnist (train split) is not available. To get it: download it." in texts(at.error)
        assert at.button(key="train_start").disabled
    finally:
        ui.data_problem.clear()


def test_start_then_stop_ends_the_thread():
    at = open_train()
    at.number_input(key="train_steps").set_value(1_000_000).run()
    at.button(key="train_start").click().run()
    assert not at.exception
    (run,) = page_runs(at)
    assert run.alive and run.view().status in ("starting", "running")
    assert not at.button(key="train_stop").disabled and at.button(key="train_start").disabled
    at.button(key="train_stop").click().run()
    assert not run.alive and run.view().status == "stopped"
    assert not at.button(key="train_start").disabled


def test_pause_step_resume_from_the_page():
    at = open_train()
    at.number_input(key="train_steps").set_value(1_000_000).run()
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    try:
        at.button(key="train_pause").click().run()
        step = run.view().step
        assert run.view().status == "paused" and not at.button(key="train_step").disabled
        at.button(key="train_step").click().run()
        assert run.view().step == step + 1
        assert "paused" in at.get("progress")[0].proto.text
        at.button(key="train_resume").click().run()
        assert run.view().status == "running"
    finally:
        run.stop()


def test_a_short_run_shows_charts_with_equilibrium_lines_and_samples():
    at = open_train()
    at.number_input(key="train_steps").set_value(40).run()
    at.number_input(key="train_snapshot_every").set_value(20).run()
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    wait_finished(run)
    at.run()
    assert not at.exception
    assert run.view().status == "done"
    charts = at.get("plotly_chart")
    # losses, D's outputs, gradient norms (no W1 chart for a BCE loss); then the Quality panel's
    # Fréchet distance and label histogram (tests/test_quality_app.py)
    assert len(charts) == 5
    losses_fig = json.loads(charts[0].proto.spec)
    assert losses_fig["layout"]["uirevision"] == run.run_id
    labels = [a["text"] for a in losses_fig["layout"]["annotations"]]
    assert labels == ["L_D at equilibrium = 1.39", "L_G at equilibrium = 0.693"]
    assert [s["y0"] for s in losses_fig["layout"]["shapes"]] == pytest.approx(
        [1.3863, 0.6931], abs=1e-4
    )
    assert at.toggle(key=f"train_follow_{run.run_id}").value  # follows the latest snapshot
    assert at.get("image")[0].proto.imgs[0].caption == "fixed noise, step 40"
    at.toggle(key=f"train_follow_{run.run_id}").set_value(False).run()  # scrub back
    slider = at.select_slider(key=f"train_snapshot_{run.run_id}")
    assert slider.options == ["0", "20", "40"] and slider.value == 40
    slider.set_value(20).run()
    assert at.get("image")[0].proto.imgs[0].caption == "fixed noise, step 20"
    assert len(at.get("image")) == 1
    assert "step 40 of 40" in at.get("progress")[0].proto.text

    at.run()  # a redraw keeps the same uirevision, so a user's zoom survives it
    assert json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["uirevision"] == run.run_id


def test_a_failed_run_shows_its_error_and_the_app_stays_up(monkeypatch):
    def boom(self, with_metrics=True):
        raise FloatingPointError("D exploded")

    monkeypatch.setattr(GanTrainer, "step", boom)
    at = open_train()
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    wait_finished(run)
    at.run()
    assert not at.exception
    assert "FloatingPointError: D exploded" in texts(at.error)


def test_a_full_server_queues_the_run_and_the_page_shows_its_place(full_server):
    """Issue 18: instead of "busy", the run waits in the queue; the page says its place and starts
    it by itself when a slot frees."""
    others = full_server
    try:
        at = open_train()
        at.button(key="train_start").click().run()
        assert not at.exception and not at.warning
        (run,) = page_runs(at)
        assert run.view().status == "queued" and not run.alive
        (info,) = [t for t in texts(at.info) if "queue" in t]
        assert "place 1 of 1" in info and "Stop gives up the place" in info
        assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled
        others[0].stop()
        run.join(0.5)
        assert run.view().status in ("starting", "running", "done")  # started by itself
        at.run()
        assert not [t for t in texts(at.info) if "queue" in t]
    finally:
        for r in page_runs(at):
            r.stop()


def test_a_second_session_with_the_same_settings_watches_the_first_ones_run():
    """Issue 18: thirty students pressing Start on one preset link cost one run; only the owner
    controls it, the others can take a copy."""
    alice, bob = open_train(), open_train()
    for at in (alice, bob):
        at.number_input(key="train_steps").set_value(1_000_000).run()
        at.button(key="train_start").click().run()
        assert not at.exception
    (run,) = page_runs(alice)
    try:
        assert page_runs(bob) == [run] and ui.registry().running_count() == 1
        assert not alice.button(key="train_pause").disabled and not [t for t in texts(alice.info) if "watching" in t]
        assert bob.button(key="train_pause").disabled and bob.button(key="train_stop").disabled
        (note,) = [t for t in texts(bob.info) if "watching" in t]
        assert "1 session watching besides its owner" in note
        bob.button(key="train_start").click().run()  # the same settings again: it says so, not nothing
        assert page_runs(bob) == [run] and ui.registry().running_count() == 1
        assert any("the run you are already watching" in w for w in texts(bob.warning))
        bob.button(key="train_copy").click().run()
        mine = [r for r in page_runs(bob) if r is not run]
        assert len(mine) == 1 and mine[0].config == run.config and ui.registry().is_owner(
            bob.session_state["gan_session_id"], mine[0])  # fmt: skip
        assert not bob.button(key="train_stop").disabled
        # bob's page shows his copy: he no longer watches alice's run, nor keeps it going if she leaves
        assert ui.registry().viewers(run) == 0 and run not in page_runs(bob)
        mine[0].stop()
        # the owner's Stop stops the run for its watchers, whose page says so with the step
        carol = open_train()
        carol.number_input(key="train_steps").set_value(1_000_000).run()
        carol.button(key="train_start").click().run()
        assert page_runs(carol) == [run]
        alice.button(key="train_stop").click().run()
        run.join(10)
        carol.run()
        step = run.view().step
        (note,) = [t for t in texts(carol.info) if "was stopped" in t]
        assert note.startswith(f"This run was stopped at step {step:,} of 1,000,000") and "finished" not in note
    finally:
        run.stop()


def test_a_run_whose_owner_left_is_handed_to_the_session_still_watching(monkeypatch):
    """The owner's tab closes for longer than the grace period while another session watches: the
    run goes on, and the watcher's page gets Pause and Stop and says why."""
    alice, bob = open_train(), open_train()
    for at in (alice, bob):
        at.number_input(key="train_steps").set_value(1_000_000).run()
        at.button(key="train_start").click().run()
    (run,) = page_runs(alice)
    try:
        assert bob.button(key="train_stop").disabled
        monkeypatch.setattr(ui.registry(), "grace_s", 0.0)
        ui.registry().release(alice.session_state["gan_session_id"])
        bob.run()
        assert not bob.exception and run.status in live.ACTIVE
        assert ui.registry().is_owner(bob.session_state["gan_session_id"], run)
        assert not bob.button(key="train_stop").disabled and not bob.button(key="train_pause").disabled
        (note,) = [t for t in texts(bob.info) if "has left" in t]
        assert note.startswith("The session that started this run has left.") and "it is yours now" in note
        assert not [t for t in texts(bob.info) if "watching" in t and "besides its owner" in t]
    finally:
        run.stop()


def test_stopping_a_queued_run_gives_up_the_place_and_shows_no_empty_run(full_server):
    at = open_train()
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    assert run.status == "queued"
    at.button(key="train_stop").click().run()
    assert not at.exception and run.status == "stopped" and ui.registry().queued_count() == 0
    assert not at.get("progress") and not at.get("download_button")  # no "step 0 · stopped" run, no downloads
    assert any(w.startswith("You gave up your place in the queue") for w in texts(at.warning))
    assert not at.button(key="train_start").disabled


def test_a_session_that_asks_for_a_finished_identical_run_sees_its_curves_at_once():
    alice = open_train()
    alice.number_input(key="train_steps").set_value(40).run()
    alice.button(key="train_start").click().run()
    (run,) = page_runs(alice)
    wait_finished(run)
    bob = open_train()
    bob.number_input(key="train_steps").set_value(40).run()
    bob.button(key="train_start").click().run()
    assert not bob.exception
    assert page_runs(bob) == [run] and ui.registry().running_count() == 0  # no second run trained
    assert len(bob.get("plotly_chart")) == 5 and "step 40 of 40" in bob.get("progress")[0].proto.text
    (note,) = [t for t in texts(bob.info) if "Another session trained it" in t]  # not "watching": it is done
    assert note.startswith("This run has finished.") and not [t for t in texts(bob.info) if "watching" in t]


def test_unknown_preset_in_the_url_shows_the_valid_ones():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "no-such-preset"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert any(
        e.startswith("There is no preset 'no-such-preset'. Valid presets here: ") for e in texts(at.error)
    )


def test_a_preset_on_another_page_names_that_page_by_its_title():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "healthy-ring8"  # a 2-D toys preset, opened on the Train page
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert any(e.startswith("Preset 'healthy-ring8' is for another page. It belongs on the '2-D toys' page.")
               for e in texts(at.error))  # fmt: skip


def test_an_old_link_to_a_renamed_preset_opens_the_new_one_and_says_so():
    """?preset=oscillation was renamed d-wins-in-bursts (its run shows D winning in bursts); a handout
    with the old link still opens it, with a line saying what it is called now."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "oscillation"
    at.run()
    at.switch_page("app_pages/train.py").run()
    # no error about the link (the replay of its recording shows the run's own diagnosis, which may be one)
    assert not at.exception and not [e for e in texts(at.error) if "preset" in e.lower()]
    assert at.selectbox(key="train_preset").value == "d-wins-in-bursts"
    expected = presets.get("d-wins-in-bursts").config()
    assert at.number_input(key="train_lr_d").value == pytest.approx(expected.lr_d)
    assert at.number_input(key="train_steps").value == expected.steps
    assert any("is now called 'd-wins-in-bursts'" in e.value for e in at.info)


def test_a_preset_in_the_url_fills_the_form(monkeypatch):
    demo = presets.Preset("demo-wgan", "WGAN demo", "train", {"loss": "wgan", "steps": 300, "seed": 7},
                          watch_for="W1 falling while the samples improve")  # fmt: skip
    monkeypatch.setitem(presets.PRESETS, demo.name, demo)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "demo-wgan"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception and not at.error
    assert at.selectbox(key="train_loss").value == "wgan"
    assert at.selectbox(key="train_preset").value == "demo-wgan"
    got = {k: at.number_input(key=f"train_{k}").value for k in ("steps", "seed", "d_steps", "clip")}
    assert got == {"steps": 300, "seed": 7, "d_steps": 5, "clip": 0.01}
    assert any("W1 falling while the samples improve" in e.value for e in at.info)

    at.number_input(key="train_steps").set_value(500).run()  # the user's edit is not overwritten
    assert at.number_input(key="train_steps").value == 500


def _watch_for(at: AppTest) -> list[str]:
    return [e.value for e in at.info if e.value.startswith("**Watch for:**")]


def _changed_notes(at: AppTest) -> list[str]:
    return [c.value for c in at.caption if "its notes no longer apply" in c.value]


def test_a_presets_notes_show_only_while_the_form_holds_its_config():
    """divergence's text promises |L_D| > 1e6 by step 30 for WGAN with lr 5e-3 and no clipping: with
    the loss set to hinge (which loads Adam 2e-4), those numbers are about another run."""
    p = presets.get("divergence")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "divergence"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert _watch_for(at) == [f"**Watch for:** {p.watch_for}"] and _changed_notes(at) == []

    at.selectbox(key="train_loss").set_value("hinge").run()
    assert not at.exception and _watch_for(at) == []
    assert _changed_notes(at) == [
        ":material/edit: You changed Loss, Optimizer, lr D, lr G, Adam β1, Adam β2, D steps per G step "
        "from the preset 'Failure: divergence (WGAN without clipping)': its notes no longer apply."
    ]
    box = at.selectbox(key="train_preset")
    assert box.value == "divergence" and box.label == "Preset (changed)"

    # equal configs bring the notes back: the preset again (by way of another one), or an edit undone
    box.set_value("healthy-lsgan").run()
    at.selectbox(key="train_preset").set_value("divergence").run()
    assert _watch_for(at) == [f"**Watch for:** {p.watch_for}"]
    at.number_input(key="train_seed").set_value(1.0).run()
    assert _watch_for(at) == [] and _changed_notes(at)[0].startswith(":material/edit: You changed Seed from")
    at.number_input(key="train_seed").set_value(0.0).run()
    assert _watch_for(at) == [f"**Watch for:** {p.watch_for}"] and _changed_notes(at) == []
    assert at.selectbox(key="train_preset").label == "Preset"


def test_a_1d_presets_notes_go_when_p_data_changes():
    p = presets.get("healthy-mix2")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "healthy-mix2"
    at.run()
    at.switch_page("app_pages/d_star_1d.py").run()
    assert not at.exception and _watch_for(at) == [f"**Watch for:** {p.watch_for}"]
    at.selectbox(key="d_star_1d_pdata").set_value("uniform").run()
    assert not at.exception and _watch_for(at) == []
    assert _changed_notes(at) == [
        ":material/edit: You changed Data set from the preset 'Healthy: mixture of 2 Gaussians': its notes "
        "no longer apply."
    ]
    at.selectbox(key="d_star_1d_pdata").set_value("mix2").run()  # back to the preset's p_data
    assert _watch_for(at) == [f"**Watch for:** {p.watch_for}"]


def test_the_form_survives_a_visit_to_another_page():
    at = open_train()
    at.number_input(key="train_lr_d").set_value(3e-4).run()
    at.switch_page("app_pages/home.py").run()
    at.switch_page("app_pages/train.py").run()
    assert at.number_input(key="train_lr_d").value == pytest.approx(3e-4)


# ---------------------------------------------------------------- the charts behind the live view
def test_smoothing_is_an_ema_and_the_raw_values_stay_visible():
    assert plots.smooth([0.0, 1.0, 1.0], 0.5).tolist() == [
        0.0,
        0.5,
        0.75,
    ]  # s_t = .5 s_(t-1) + .5 x_t
    assert (
        plots.smooth([2.0, float("nan"), 4.0], 0.5).tolist()[2] == 3.0
    )  # a NaN is skipped, not spread
    metrics = {"step": [1.0, 10.0, 20.0], "loss_d": [1.0, 2.0, 3.0], "loss_g": [0.5, 0.6, 0.7]}
    fig = plots.loss_figure(metrics, "lsgan", smoothing=0.9, uirevision="r1")
    raw = [t for t in fig.data if t.name == "L_D (real + fake) (raw)"]
    assert len(raw) == 1 and raw[0].opacity == 0.25 and list(raw[0].y) == [1.0, 2.0, 3.0]
    assert [s.y0 for s in fig.layout.shapes] == [0.25, 0.125]  # LSGAN's L_D and L_G at equilibrium
    assert fig.layout.uirevision == "r1"
    unsmoothed = plots.loss_figure(metrics, "lsgan", smoothing=0.0)
    assert [t.name for t in unsmoothed.data] == [
        "L_D (real + fake)",
        "L_G",
    ]  # no duplicate raw lines


def test_wgan_runs_get_a_w1_chart():
    metrics = {"step": [1.0], "loss_d": [-0.2], "w1": [0.2], "clip_frac": [0.5], "grad_d": [1.0]}
    assert list(plots.run_figures(metrics, "wgan")) == ["losses", "d_outputs", "grads", "w1"]
    assert list(plots.run_figures({"step": [1.0]}, "hinge")) == ["losses", "d_outputs", "grads"]


# ---------------------------------------------------------------- values of the wrong type from a link
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"steps": 300.0}, "steps: must be an integer in [1, 1000000], got 300.0 (float)"),
        ({"lr_decay": "yes"}, "lr_decay: must be true or false, got 'yes' (str)"),
    ],
)
def test_a_preset_link_with_a_value_of_the_wrong_type_says_which(monkeypatch, overrides, message):
    bad = presets.Preset("demo-bad", "bad demo", "train", {"loss": "wgan", **overrides})
    monkeypatch.setitem(presets.PRESETS, bad.name, bad)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "demo-bad"
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert f"Preset 'demo-bad' cannot be loaded: {message}" in texts(at.error)
    assert at.selectbox(key="train_loss").value == "non-saturating"  # the form is left as it was
    assert at.number_input(key="train_steps").value == 2000


# ---------------------------------------------------------------- number fields show their value
def js_number(value: float) -> str:
    """JavaScript's ``String(value)`` (ECMAScript Number::toString): the shortest digits that
    round-trip, in fixed notation for 1e-7 < |value| < 1e21 and exponent notation otherwise."""
    if value == 0:
        return "0"
    sign, digits, exp = decimal.Decimal(repr(abs(value))).normalize().as_tuple()
    s, k = "".join(map(str, digits)), len(digits)
    n = k + exp  # value = 0.s × 10^n
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + s
    else:
        e = n - 1
        out = (s[0] + ("." + s[1:] if k > 1 else "")) + ("e+" if e >= 0 else "e-") + str(abs(e))
    return ("-" if value < 0 else "") + out


def shown(fmt: str, value: float) -> str:
    """What Streamlit's number_input shows: the frontend's bundled sprintf.js applied to ``fmt``.
    Its bare ``%g`` is ``String(parseFloat(v))``; ``%.Nf`` is ``toFixed(N)``; ``%d`` truncates."""
    if fmt in ("%d", "%i"):
        return str(int(value))
    if fmt == "%g":
        return js_number(float(value))
    if m := re.fullmatch(r"%0?\.(\d+)f", fmt):
        return f"{value:.{int(m[1])}f}"
    if m := re.fullmatch(r"%0?\.(\d+)e", fmt):
        mant, e = f"{value:.{int(m[1])}e}".split("e")
        return f"{mant}e{int(e):+d}"
    raise AssertionError(f"the test does not know how sprintf.js shows {fmt!r}")


def test_js_number_matches_javascripts_number_to_string():
    # values of ECMAScript's own examples and the edges of fixed notation
    assert [js_number(v) for v in (0.0001, 5e-5, 2e-4, 1e-6, 1e-7, 123.0, 0.5, 1e21, 1.5e-7, 0.999)] == [
        "0.0001", "0.00005", "0.0002", "0.000001", "1e-7", "123", "0.5", "1e+21", "1.5e-7", "0.999"]  # fmt: skip


@pytest.mark.parametrize("name", config.NUMBERS)
def test_every_value_in_a_fields_range_shows_distinctly(name):
    f = config.FIELDS[name]
    rng = random.Random(0)
    lo = f.low if f.low_inclusive else math.nextafter(f.low, math.inf)
    values = {lo, f.high, math.nextafter(f.high, -math.inf) if f.kind is float else f.high - 1}
    if f.kind is int:
        values |= {rng.randint(int(f.low), int(f.high)) for _ in range(200)}
    else:
        values |= {rng.uniform(f.low, f.high) for _ in range(200)}
        values |= {10 ** rng.uniform(-9, math.log10(f.high)) for _ in range(200)}  # small rates and clips
        values |= {v + math.ulp(v) for v in list(values) if v + math.ulp(v) <= f.high}
    values = {f.kind(v) for v in values if f.problem(f.kind(v)) is None}
    displays = {shown(f.format, v) for v in values}
    assert len(displays) == len(values)  # no two values look the same
    assert all(f.kind(shown(f.format, v)) == v for v in values)  # and each reads back as itself


_PRESET_PAGES = {"train": "app_pages/train.py", "toys_2d": "app_pages/toys_2d.py", "d_star_1d": "app_pages/d_star_1d.py",
                 "cgan": "app_pages/cgan.py", "cyclegan": "app_pages/cyclegan.py"}  # fmt: skip


@pytest.mark.parametrize("preset", list(presets.PRESETS))
def test_every_number_field_shows_every_presets_value(preset):
    p = presets.get(preset)
    expected = p.config().to_dict()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = preset
    at.run()
    at.switch_page(_PRESET_PAGES[p.page]).run()
    assert not at.exception
    shown_fields = ui.form_numbers(expected["objective"])  # the fields the page's form shows
    assert len(shown_fields) >= 15
    for name in shown_fields:
        widget = at.number_input(key=f"{p.page}_{name}")
        text = shown(widget.proto.format, widget.value)
        assert float(text) == expected[name], f"{name}: shows {text!r} for {expected[name]!r}"


def test_the_clip_of_wgan_clip_too_tight_shows_as_0_0001():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = "wgan-clip-too-tight"
    at.run()
    at.switch_page("app_pages/train.py").run()
    clip = at.number_input(key="train_clip")
    assert clip.value == 0.0001 and shown(clip.proto.format, clip.value) == "0.0001"  # was "0.000"


# ---------------------------------------------------------------- settings from the environment
def test_a_bad_environment_variable_warns_once_and_the_app_runs(monkeypatch):
    monkeypatch.setenv("GAN_DEMO_MAX_RUNS", "two")
    settings.current.cache_clear()
    ui.registry.clear()  # a fresh server: the registry reads the setting when it is built
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.run()
        assert not at.exception
        assert texts(at.warning) == ["GAN_DEMO_MAX_RUNS='two' is not allowed: it must be a whole number "
                                     "from 1 to 64. Using the default, 2."]  # fmt: skip
        assert ui.registry().max_running == 2
        at.switch_page("app_pages/train.py").run()  # every page works; the warning was said once
        assert not at.exception and at.title and texts(at.warning) == []
    finally:
        monkeypatch.delenv("GAN_DEMO_MAX_RUNS")
        settings.current.cache_clear()
        ui.registry.clear()


def test_the_train_pages_live_controls_survive_a_visit_to_another_page():
    at = open_train()
    at.number_input(key="train_steps").set_value(40)
    at.number_input(key="train_snapshot_every").set_value(20).run()
    at.button(key="train_start").click().run()
    (run,) = page_runs(at)
    wait_finished(run)
    at.run()
    at.slider(key="train_smoothing").set_value(0.9).run()
    at.toggle(key=f"train_follow_{run.run_id}").set_value(False).run()
    at.select_slider(key=f"train_snapshot_{run.run_id}").set_value(20).run()
    at.switch_page("app_pages/theory.py").run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert at.slider(key="train_smoothing").value == 0.9
    assert at.toggle(key=f"train_follow_{run.run_id}").value is False
    assert at.select_slider(key=f"train_snapshot_{run.run_id}").value == 20
    assert at.get("image")[0].proto.imgs[0].caption == "fixed noise, step 20"
    assert at.number_input(key="train_steps").value == 40


def test_the_wgan_formula_drops_the_clipping_step_when_c_is_0():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_loss").set_value("wgan").run()
    clipped = [x.value for x in at.latex if x.value.startswith("L_D") or "L_D =" in x.value]
    assert any(r"\operatorname{clip}" in v for v in clipped)
    at.number_input(key="train_clip").set_value(0.0).run()
    assert not at.exception
    assert not any(r"\operatorname{clip}" in x.value for x in at.latex)
