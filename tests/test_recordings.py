"""The recorded presets (checkpoints/runs), their index, Replay on the pages and the Compare page."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import compare, diagnostics, presets, ui
from gan_demo.config import TrainConfig
from gan_demo.runs import recordings

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ROOT = recordings.CHECKPOINTS
ALL = [*recordings.RECORDED_PRESETS, *recordings.VARIANTS]


# ---------------------------------------------------------------- the index and the files
def test_every_preset_and_lesson_variant_is_recorded_and_the_index_matches_the_files():
    entries = recordings.entries()
    assert sorted(entries) == sorted(ALL)
    on_disk = sorted(p.name for p in (ROOT / recordings.SUBFOLDER).iterdir())
    assert on_disk == sorted(f"{name}.zip" for name in ALL)  # nothing unlisted lies there
    for name, entry in entries.items():
        blob = (ROOT / entry["file"]).read_bytes()
        assert entry["size"] == len(blob) and entry["sha256"] == hashlib.sha256(blob).hexdigest(), name
        assert entry["command"] == "python -m gan_demo record-presets" and entry["preset"] == name


def test_the_recordings_are_small():
    total = sum(e["size"] for e in recordings.entries().values())
    assert total < 5_000_000, f"checkpoints/runs holds {total / 1e6:.2f} MB"
    assert all(e["snapshots"] <= recordings.KEEP_SNAPSHOTS for e in recordings.entries().values())


@pytest.mark.parametrize("name", ALL)
def test_each_recording_is_its_presets_seeded_cpu_run(name):
    run = recordings.load(name)
    expected = TrainConfig.from_dict({**recordings.get(name).config().to_dict(), "device": "cpu"})
    assert run.config == expected and run.manifest["preset"] == name
    assert run.step == recordings.entries()[name]["steps"]
    assert run.metrics["step"][-1] == run.step or run.manifest["status"] == "failed"
    assert run.snapshots[0].step == 0 and len(run.snapshots) <= recordings.KEEP_SNAPSHOTS


def test_a_changed_recording_is_refused(tmp_path):
    (tmp_path / "runs").mkdir()
    entry = recordings.entries()["divergence"]
    blob = bytearray((ROOT / entry["file"]).read_bytes())
    blob[-30] ^= 1
    (tmp_path / entry["file"]).write_bytes(bytes(blob))
    (tmp_path / "index.json").write_text(json.dumps({"recordings": {"divergence": entry}}))
    with pytest.raises(recordings.RunFormatError, match="sha256 differs from the index's"):
        recordings.load("divergence", tmp_path)
    with pytest.raises(recordings.RunFormatError, match="no recording of 'nope'"):
        recordings.load("nope", tmp_path)


# ---------------------------------------------------------------- Replay
def _ys(chart, trace_name: str) -> np.ndarray:
    """A trace's y values from a plotly_chart element (plain lists or plotly's base64 'bdata')."""
    spec = json.loads(chart.proto.spec)
    trace = next(t for t in spec["data"] if t.get("name") == trace_name)
    y = trace["y"]
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=np.dtype(y["dtype"]))
    return np.asarray(y, dtype=np.float64)


def _chart(at: AppTest, title_start: str):
    for chart in at.get("plotly_chart"):
        if json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", "").startswith(title_start):
            return chart
    raise AssertionError(f"no chart titled {title_start!r}")


def _replay_slider(at: AppTest):
    return next(s for s in at.select_slider if s.label == "Replay up to step")


def test_a_preset_link_opens_its_recording_at_once_with_the_recorded_curves():
    name = "healthy-non-saturating"
    run = recordings.load(name)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = name
    at.run()
    at.switch_page("app_pages/train.py").run()
    assert not at.exception
    assert any(i.value.startswith(f"**Replay** of the recording of the preset '{name}': 3,000 steps") for i in at.info)
    assert not ui.registry().runs_for(at.session_state["gan_session_id"])  # nothing trains
    losses_chart = _chart(at, "Losses")
    assert np.array_equal(_ys(losses_chart, "L_D (real + fake) (raw)"), np.asarray(run.metrics["loss_d"]))
    assert np.array_equal(_ys(losses_chart, "L_G (raw)"), np.asarray(run.metrics["loss_g"]))
    assert at.get("image")[0].proto.imgs[0].caption == "fixed noise, step 3,000"
    head = diagnostics.diagnose_view(run.view())[0]
    assert any(head.title in e.value for e in [*at.success, *at.info, *at.warning, *at.error])

    # scrub back: every chart, the grid and the diagnosis show the run as it was then
    slider = _replay_slider(at)
    step = run.snapshots[4].step
    slider.set_value(step).run()
    assert not at.exception
    keep = sum(1 for s in run.metrics["step"] if s <= step)
    assert np.array_equal(_ys(_chart(at, "Losses"), "L_D (real + fake) (raw)"), np.asarray(run.metrics["loss_d"][:keep]))
    assert at.get("image")[0].proto.imgs[0].caption == f"fixed noise, step {step:,}"
    progress = at.get("progress")[0].proto.text  # a replay scrubbed back says so, not "paused"
    assert progress.startswith(f"step {step:,} of ") and progress.endswith("· replay") and "paused" not in progress
    early = diagnostics.diagnose_view(run.view(upto=step))
    if early:
        assert any(early[0].title in e.value for e in [*at.success, *at.info, *at.warning, *at.error])


def test_train_it_live_starts_the_presets_run_and_closes_the_replay():
    name = "mode-collapse"
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["preset"] = name
    at.run()
    at.switch_page("app_pages/toys_2d.py").run()
    assert not at.exception and _replay_slider(at)
    at.button(key="toys_2d_train_live").click().run()
    runs = ui.registry().runs_for(at.session_state["gan_session_id"])
    try:
        assert len(runs) == 1
        expected = {**presets.get(name).config().to_dict(), "device": "auto"}
        assert runs[0].config.to_dict() == expected
        assert not any(s.label == "Replay up to step" for s in at.select_slider)
    finally:
        for run in runs:
            run.stop()


def test_the_replay_button_beside_a_chosen_preset():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.selectbox(key="train_preset").set_value("divergence").run()
    at.button(key="train_replay_preset").click().run()
    assert not at.exception
    assert any(i.value.startswith("**Replay** of the recording of the preset 'divergence'") for i in at.info)
    at.button(key="train_close_replay").click().run()
    assert not any(s.label == "Replay up to step" for s in at.select_slider)


# ---------------------------------------------------------------- Compare
def open_compare() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/compare.py").run()
    assert not at.exception
    return at


def test_compare_needs_two_runs():
    at = open_compare()
    assert any(i.value.startswith("Pick two to four runs") for i in at.info)
    assert not at.get("plotly_chart")


def test_compare_overlays_two_recordings_and_highlights_what_differs():
    a, b = "d-overpowers-g", "d-overpowers-g-non-saturating"
    at = open_compare()
    at.button(key=f"compare_lesson_{a}").click().run()  # "Minimax vs non-saturating G loss"
    assert not at.exception
    assert at.multiselect(key="compare_runs").value == [f"recording:{a}", f"recording:{b}"]
    assert any(i.value.startswith("**Minimax vs non-saturating G loss.**") for i in at.info)
    assert at.selectbox(key="compare_metric").value == "grad_g"  # the lesson opens on ‖∇G‖
    chart = _chart(at, "‖∇G‖ by step")
    runs = [recordings.load(a), recordings.load(b)]
    spec = json.loads(chart.proto.spec)
    assert [t["name"] for t in spec["data"]] == ["A: minimax on digits", "B: non-saturating on digits"]
    for letter, run in zip("AB", runs, strict=True):
        assert np.array_equal(_ys(chart, f"{letter}: {run.config.loss} on digits"), np.asarray(run.metrics["grad_g"]))
    assert compare.differing_fields([r.config for r in runs]) == ["loss"]
    assert any(c.value == "Highlighted: the settings that differ (loss)." for c in at.caption)
    # the diagnoses side by side: each run's own headline
    boxes = " ".join(e.value for e in [*at.success, *at.info, *at.warning, *at.error])
    for run in runs:
        assert diagnostics.diagnose_view(run.view())[0].title in boxes


def test_compare_a_live_run_with_a_recording():
    at = open_compare()
    run = ui.registry().start(at.session_state["gan_session_id"],
                              TrainConfig.for_loss("non-saturating", "ring8", steps=60, hidden=16))  # fmt: skip
    run.join(60)
    at.run()
    key = f"live:{run.run_id}"
    at.multiselect(key="compare_runs").set_value([key, "recording:mode-collapse"]).run()
    assert not at.exception
    chart = _chart(at, "L_D by step")
    assert np.array_equal(_ys(chart, "A: non-saturating on ring8"), np.asarray(run.view().metrics["loss_d"]))
    differ = compare.differing_fields([run.config, recordings.load("mode-collapse").config])
    assert "hidden" in differ and "steps" in differ and "device" in differ


@pytest.mark.parametrize("name", list(recordings.RECORDED_PRESETS))
def test_each_recording_shows_the_numbers_its_presets_text_states(name):
    """A replay shows what the preset's "watch for" text promises: every claim on a logged metric holds
    on the recorded rows (snapshot claims need every snapshot, and a recording keeps 12)."""
    run, preset = recordings.load(name), presets.get(name)
    for claim in preset.claims:
        if claim.metric in ("diversity", "modes", "high_quality", "top_share", "fd_ratio"):
            continue
        value = claim.measure(run.metrics)
        assert claim.holds(value), f"{name}: {claim.text}: measured {value}"


def test_each_lesson_compares_recordings_that_differ_in_what_it_names():
    differ = {str(title): compare.differing_fields([recordings.load(n).config for n in names])
              for title, names, _, _ in recordings.LESSONS}  # fmt: skip
    assert differ == {
        "Minimax vs non-saturating G loss": ["loss"],
        "With and without packing": ["pack"],
        # each WGAN with its classic settings (Arjovsky et al. 2017; Gulrajani et al. 2017)
        "Weight clipping vs gradient penalty": ["loss", "optimizer", "lr_d", "lr_g", "beta1", "beta2", "clip", "gp_weight"],
    }


def test_compare_shows_each_toy_runs_modes_under_its_samples():
    at = open_compare()
    at.button(key="compare_lesson_mode-collapse").click().run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    for name in ("mode-collapse", "mode-collapse-packed"):
        ex = recordings.load(name).snapshots[-1].extras
        line = (f"G's fixed-noise samples, step 1,500: modes captured {ex['captured']} / 8 · "
                f"high quality {100 * ex['high_quality']:.1f} %")
        assert line in captions, (line, captions)


def test_the_settings_table_of_two_gan_runs_leaves_out_the_other_objectives_fields():
    from gan_demo import compare
    from gan_demo.config import TrainConfig

    a = TrainConfig.for_loss("minimax", "digits")
    b = TrainConfig.for_loss("non-saturating", "digits")
    rows, differ = compare.config_table(["A", "B"], [a, b])
    names = [r[0] for r in rows]
    assert differ == ["loss"]
    assert not {"lambda_cyc", "lambda_id", "condition", "mismatch_weight", "label_dim"} & set(names)
    assert {"loss", "lr_d", "pack", "objective"} <= set(names)
    c = TrainConfig(objective="cgan", condition="concat")  # a conditional run beside them brings its own
    rows, _ = compare.config_table(["A", "C"], [a, c])
    assert {"condition", "mismatch_weight", "label_dim"} <= {r[0] for r in rows}


def test_a_lesson_opens_at_its_runs_last_step_after_another_lesson():
    at = open_compare()
    at.button(key="compare_lesson_d-overpowers-g").click().run()
    first = recordings.load("d-overpowers-g").step
    assert at.select_slider(key="compare_step").value == first
    at.button(key="compare_lesson_mode-collapse").click().run()  # the slider kept the first lesson's step before
    assert not at.exception
    last = recordings.load("mode-collapse").step
    assert last != first and at.select_slider(key="compare_step").value == last


def test_on_a_full_server_the_recording_stays_while_its_live_run_waits_in_the_queue(full_server):
    """Issue 18, "recordings first when the server is full": the replay says that every slot is
    taken; Train it live queues the run and the replay stays below the queue's place (without a
    second Train it live); when a slot frees, the run starts by itself and replaces the replay."""
    reg, others = ui.registry(), full_server
    at = None
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["preset"] = "mode-collapse"
        at.run()
        at.switch_page("app_pages/toys_2d.py").run()
        assert not at.exception and _replay_slider(at)
        (full,) = [c.value for c in at.caption if c.value.startswith("Every training slot")]
        assert f"({reg.max_running}; 0 waiting)" in full and "this recording stays on the page" in full
        at.button(key="toys_2d_train_live").click().run()
        assert not at.exception
        (run,) = ui.registry().runs_for(at.session_state["gan_session_id"])
        assert run.status == "queued"
        (place,) = [i.value for i in at.info if "place 1 of 1" in i.value]
        assert _replay_slider(at) and any(i.value.startswith("**Replay** of the recording") for i in at.info)
        assert not [b for b in at.button if b.key == "toys_2d_train_live"]  # no second Train it live
        others[0].stop()
        run.join(0.5)
        assert run.status != "queued"
        at.run()
        assert not at.exception
        assert not any(s.label == "Replay up to step" for s in at.select_slider)  # the live run replaced it
        assert at.get("progress")[0].proto.text.startswith("step ")
    finally:
        if at is not None:
            for r in ui.registry().runs_for(at.session_state["gan_session_id"]):
                r.stop()
