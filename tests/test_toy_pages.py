"""AppTest for the two toy pages: the D* explorer's numbers, and a short live run on each page.

``run_every`` timers never fire in AppTest, so a live panel is driven by calling ``at.run()`` while
the background run trains, until its progress bar says "done".
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
D_STAR = str(ROOT / "app_pages" / "d_star_1d.py")
TOYS_2D = str(ROOT / "app_pages" / "toys_2d.py")


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny networks, one intra-op thread


def _metrics(at: AppTest) -> dict[str, float]:
    return {m.label: float(m.value) for m in at.metric}


def _progress(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def _train_until_done(at: AppTest, page: str, steps: int, every: int, timeout_s: float = 40) -> None:
    at.number_input(key=f"{page}_steps").set_value(steps)
    at.number_input(key=f"{page}_snapshot_every").set_value(every)
    at.run()
    at.button(key=f"{page}_start").click().run()
    assert not at.exception
    deadline = time.monotonic() + timeout_s
    while "done" not in _progress(at):
        if time.monotonic() > deadline:
            at.button(key=f"{page}_stop").click().run()
            pytest.fail(f"the run did not finish in {timeout_s} s: {_progress(at)!r}")
        time.sleep(0.3)
        at.run()
        assert not at.exception
    at.run()  # the fragment's st.rerun() after "done": the page settles


def _uirevision(chart) -> str:
    return json.loads(chart.proto.spec)["layout"]["uirevision"]


def test_explore_numbers_follow_p_g():
    at = AppTest.from_file(D_STAR, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="d_star_1d_pdata").value == "gaussian"  # N(0, 1)
    at.slider(key="d_star_1d_mu1").set_value(0.0)
    at.slider(key="d_star_1d_sd1").set_value(1.0).run()
    m = _metrics(at)
    assert m["JS(p_data‖p_g)"] == pytest.approx(0.0, abs=1e-5)
    assert m["V(D*, G)"] == pytest.approx(-1.38629, abs=2e-5)
    assert m["−log 4 + 2·JS"] == pytest.approx(-math.log(4), abs=2e-5)
    assert m["W1"] == pytest.approx(0.0, abs=1e-5)
    assert "flat at ½" in at.success[0].value
    at.slider(key="d_star_1d_mu1").set_value(1.0).run()
    near = _metrics(at)
    at.slider(key="d_star_1d_mu1").set_value(3.0).run()
    far = _metrics(at)
    assert 0.05 < near["JS(p_data‖p_g)"] < far["JS(p_data‖p_g)"] < math.log(2)
    assert far["V(D*, G)"] == pytest.approx(far["−log 4 + 2·JS"], abs=1e-4)
    assert near["W1"] == pytest.approx(1.0, abs=1e-3) and far["W1"] == pytest.approx(3.0, abs=1e-3)


def test_explore_saturated_js_and_every_view():
    at = AppTest.from_file(D_STAR, default_timeout=60).run()
    at.selectbox(key="d_star_1d_pdata").set_value("mix2").run()
    at.slider(key="d_star_1d_mu1").set_value(8.0)
    at.slider(key="d_star_1d_sd1").set_value(0.1).run()
    assert _metrics(at)["JS(p_data‖p_g)"] == pytest.approx(math.log(2), abs=1e-3)
    assert at.warning and "ln 2" in at.warning[0].value
    at.radio(key="d_star_1d_pg_kind").set_value("mixture").run()
    for view in ("hinge", "wgan", "bce"):
        at.selectbox(key="d_star_1d_view").set_value(view).run()
        assert not at.exception
        (chart,) = at.get("plotly_chart")
        assert _uirevision(chart) == "d_star_1d_explore"
    at.slider(key="d_star_1d_mu1").set_value(-3.0)
    at.slider(key="d_star_1d_mu2").set_value(3.0)
    at.slider(key="d_star_1d_sd1").set_value(0.5)
    at.slider(key="d_star_1d_sd2").set_value(0.5).run()  # p_g = p_data = mix2
    assert _metrics(at)["JS(p_data‖p_g)"] == pytest.approx(0.0, abs=1e-5)


def test_d_star_train_mode_runs_live():
    at = AppTest.from_file(D_STAR, default_timeout=60).run()
    at.radio(key="d_star_1d_mode").set_value("Train").run()
    assert not at.exception and at.button(key="d_star_1d_start")
    at.selectbox(key="d_star_1d_loss").set_value("wgan-gp").run()  # the raw-critic chart, on its own axis
    _train_until_done(at, "d_star_1d", steps=30, every=10)
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # D / D* / p_g, and JS and W1 over the snapshots
    assert _uirevision(charts[0]) == "d_star_1d_train"
    (follow,) = at.toggle  # follows the latest snapshot; switched off, a slider scrubs back
    assert follow.value and not at.select_slider
    follow.set_value(False).run()
    assert [s.options for s in at.select_slider][0] == ["0", "10", "20", "30"]
    at.select_slider[0].set_value(10).run()
    assert "step 10" in json.dumps(json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"])
    assert 0 <= _metrics(at)["JS"] <= math.log(2)


def test_d_star_preset_link_opens_train_mode_on_the_presets_p_data():
    """Both 1-D presets train on the mixture of 2 while the page's p_data starts on N(0, 1): a link
    must move p_data too, or the student trains the preset's settings on the wrong distribution."""
    at = AppTest.from_file(D_STAR, default_timeout=60)
    at.query_params["preset"] = "healthy-mix2"
    at.run()
    assert not at.exception and at.radio(key="d_star_1d_mode").value == "Train"
    assert at.selectbox(key="d_star_1d_pdata").value == at.selectbox(key="d_star_1d_data").value == "mix2"
    assert [at.number_input(key=f"d_star_1d_{k}").value for k in ("steps", "pack")] == [12000, 4]
    at.selectbox(key="d_star_1d_pdata").set_value("uniform").run()  # the student's own p_data wins after
    assert at.selectbox(key="d_star_1d_data").value == "uniform"
    assert at.number_input(key="d_star_1d_steps").value == 12000  # the preset's other settings stay


def test_d_star_preset_box_moves_p_data_and_p_data_moves_the_form():
    at = AppTest.from_file(D_STAR, default_timeout=60).run()
    at.radio(key="d_star_1d_mode").set_value("Train").run()
    assert at.selectbox(key="d_star_1d_pdata").value == at.selectbox(key="d_star_1d_data").value == "gaussian"
    at.selectbox(key="d_star_1d_preset").set_value("mode-collapse-1d").run()
    assert not at.exception
    assert at.selectbox(key="d_star_1d_pdata").value == at.selectbox(key="d_star_1d_data").value == "mix2"
    assert at.number_input(key="d_star_1d_steps").value == 600
    at.radio(key="d_star_1d_mode").set_value("Explore").run()
    at.selectbox(key="d_star_1d_pdata").set_value("mix3").run()
    at.radio(key="d_star_1d_mode").set_value("Train").run()
    assert at.selectbox(key="d_star_1d_data").value == "mix3" and not at.exception


def test_toys_2d_page_runs_live_and_counts_modes():
    at = AppTest.from_file(TOYS_2D, default_timeout=60).run()
    assert not at.exception
    assert at.selectbox(key="toys_2d_data").value == "ring8"
    _train_until_done(at, "toys_2d", steps=20, every=10)
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # the plane, and modes / % high-quality over the snapshots
    assert [_uirevision(c) for c in charts] == ["toys_2d_plane", "toys_2d_modes"]
    spec = json.loads(charts[0].proto.spec)
    assert [t["type"] for t in spec["data"]] == ["heatmap", "scattergl", "scattergl", "scatter"]
    captured = next(m.value for m in at.metric if m.label == "modes captured")
    assert captured.endswith("/ 8")


def test_toys_2d_unknown_preset_lists_the_valid_ones():
    at = AppTest.from_file(TOYS_2D, default_timeout=60)
    at.query_params["preset"] = "no-such-preset"
    at.run()
    assert not at.exception
    assert "no-such-preset" in at.error[0].value and "Valid presets here" in at.error[0].value


def test_toys_2d_preset_fills_the_remedies_and_a_bad_noise_level_is_refused():
    at = AppTest.from_file(TOYS_2D, default_timeout=60)
    at.query_params["preset"] = "healthy-ring8"
    at.run()
    assert not at.exception
    got = {k: at.number_input(key=f"toys_2d_{k}").value for k in ("pack", "instance_noise", "steps")}
    assert got == {"pack": 2, "instance_noise": pytest.approx(0.1), "steps": 10000}
    assert at.checkbox(key="toys_2d_lr_decay").value is True
    at.number_input(key="toys_2d_instance_noise").set_value(-0.1).run()
    assert "must be in [0, 10], got -0.1" in " ".join(e.value for e in at.error)
    assert at.button(key="toys_2d_start").disabled


def test_toys_2d_grid25_preset_fills_the_hinge_settings_it_was_measured_with():
    """The healthy-grid25 link opens the form on toybench's grid25 preset: hinge with its classic Adam
    betas (0, 0.9), both learning rates 3e-3, z 16, pack 2, instance noise 0.1, lr decay, 26,000 steps."""
    at = AppTest.from_file(TOYS_2D, default_timeout=60)
    at.query_params["preset"] = "healthy-grid25"
    at.run()
    assert not at.exception
    assert at.selectbox(key="toys_2d_data").value == "grid25" and at.selectbox(key="toys_2d_loss").value == "hinge"
    names = ("lr_d", "lr_g", "beta1", "beta2", "z_dim", "pack", "instance_noise", "steps")
    got = {k: at.number_input(key=f"toys_2d_{k}").value for k in names}
    assert got == {"lr_d": pytest.approx(3e-3), "lr_g": pytest.approx(3e-3), "beta1": 0.0, "beta2": pytest.approx(0.9),
                   "z_dim": 16, "pack": 2, "instance_noise": pytest.approx(0.1), "steps": 26000}  # fmt: skip
    assert at.checkbox(key="toys_2d_lr_decay").value is True
    assert "The loss." in " ".join(e.value for e in at.markdown)


# ---------------------------------------------------------------- controls survive a visit to Theory
APP = str(ROOT / "app.py")


def _open(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def _visit_theory_and_return(at: AppTest, page: str) -> None:
    at.switch_page("app_pages/theory.py").run()
    assert not at.exception and "Theory" in at.title[0].value
    at.switch_page(page).run()
    assert not at.exception


def test_d_star_explore_controls_keep_their_values_across_pages():
    page = "app_pages/d_star_1d.py"
    at = _open(page)
    assert at.slider(key="d_star_1d_mu1").value == 2.0  # the default
    at.selectbox(key="d_star_1d_pdata").set_value("mix2")
    at.radio(key="d_star_1d_pg_kind").set_value("mixture").run()
    chosen = {"mu1": -4.0, "sd1": 0.35, "mu2": 5.5, "sd2": 2.25, "w1": 0.15}
    for name, value in chosen.items():
        at.slider(key=f"d_star_1d_{name}").set_value(value)
    at.selectbox(key="d_star_1d_view").set_value("wgan").run()
    w1_before = _metrics(at)["W1"]
    _visit_theory_and_return(at, page)
    assert {n: at.slider(key=f"d_star_1d_{n}").value for n in chosen} == pytest.approx(chosen)
    assert at.selectbox(key="d_star_1d_pdata").value == "mix2"
    assert at.radio(key="d_star_1d_pg_kind").value == "mixture"
    assert at.selectbox(key="d_star_1d_view").value == "wgan"
    assert _metrics(at)["W1"] == w1_before  # the numbers are those of the kept values


def test_d_star_train_mode_form_and_snapshot_slider_keep_their_values_across_pages():
    page = "app_pages/d_star_1d.py"
    at = _open(page)
    at.radio(key="d_star_1d_mode").set_value("Train").run()
    at.selectbox(key="d_star_1d_loss").set_value("hinge").run()
    at.number_input(key="d_star_1d_lr_d").set_value(3e-4)
    at.checkbox(key="d_star_1d_lr_decay").set_value(True)
    _train_until_done(at, "d_star_1d", steps=30, every=10)
    (follow,) = at.toggle
    follow.set_value(False).run()
    at.select_slider[0].set_value(10).run()
    _visit_theory_and_return(at, page)
    assert at.radio(key="d_star_1d_mode").value == "Train"
    assert at.selectbox(key="d_star_1d_loss").value == "hinge"
    assert at.number_input(key="d_star_1d_lr_d").value == 3e-4
    assert at.checkbox(key="d_star_1d_lr_decay").value is True
    assert at.toggle[0].value is False  # still scrubbing
    assert at.select_slider[0].value == 10
    assert "step 10" in json.dumps(json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"])


def test_toys_2d_controls_keep_their_values_across_pages():
    page = "app_pages/toys_2d.py"
    at = _open(page)
    at.selectbox(key="toys_2d_preset").set_value("mode-collapse").run()
    at.selectbox(key="toys_2d_data").set_value("grid25")
    at.number_input(key="toys_2d_pack").set_value(4)
    at.number_input(key="toys_2d_instance_noise").set_value(0.35)
    at.checkbox(key="toys_2d_lr_decay").set_value(True).run()
    _train_until_done(at, "toys_2d", steps=20, every=10)
    at.toggle[0].set_value(False).run()
    at.select_slider[0].set_value(10).run()
    _visit_theory_and_return(at, page)
    assert at.toggle[0].value is False and at.select_slider[0].value == 10  # the snapshot shown
    assert any(c.value.startswith("step 10;") for c in at.caption)  # the plane of step 10
    assert at.selectbox(key="toys_2d_preset").value == "mode-collapse"
    assert at.selectbox(key="toys_2d_data").value == "grid25"
    assert at.number_input(key="toys_2d_pack").value == 4
    assert at.number_input(key="toys_2d_instance_noise").value == 0.35
    assert at.checkbox(key="toys_2d_lr_decay").value is True


def test_explore_identity_holds_on_the_uniform_at_the_default_sliders():
    """Issue 12, item 3: the old grid read V(D*, G) −0.72224 beside −log 4 + 2·JS −0.72250 here."""
    at = AppTest.from_file(D_STAR, default_timeout=60).run()
    at.selectbox(key="d_star_1d_pdata").set_value("uniform").run()
    m = _metrics(at)
    assert m["V(D*, G)"] == pytest.approx(m["−log 4 + 2·JS"], abs=1e-5)  # both shown to 5 decimals
    assert m["V(D*, G)"] == pytest.approx(-0.72262, abs=1e-5)  # quad_vec; −log 4 + 2·0.331836


def test_train_mode_shows_the_js_floor_and_the_clipped_critics_k():
    """Items 4 and 5: the perfect-G floor beside JS, and for WGAN with clipping the critic's −L_D beside
    the true W1 with the warning that it estimates K·W1 for an unknown K."""
    at = AppTest.from_file(D_STAR, default_timeout=60).run()
    at.selectbox(key="d_star_1d_pdata").set_value("mix2").run()
    at.radio(key="d_star_1d_mode").set_value("Train").run()
    at.selectbox(key="d_star_1d_loss").set_value("wgan").run()
    _train_until_done(at, "d_star_1d", steps=20, every=10)
    captions = " ".join(c.value for c in at.caption)
    assert "JS of a perfect G with 2,500 samples ≈ 0.0011" in captions  # mix2's measured floor
    text = " ".join(md.value for md in at.markdown)
    assert "true W1" in text and "K·W1" in text and "weight clipping bounds K" in text
    history = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert any("JS ≈ 0.0011" in a["text"] for a in history["layout"]["annotations"])


def test_toys_2d_shows_the_exact_w1_and_the_critics_k():
    """Item 5 on the 2-D toys: the exact W1 of 256 points (with the data's own floor in its help) and, for
    WGAN with clipping, the critic's −L_D beside it with what it estimates."""
    at = AppTest.from_file(TOYS_2D, default_timeout=60).run()
    at.selectbox(key="toys_2d_loss").set_value("wgan").run()
    _train_until_done(at, "toys_2d", steps=10, every=10)
    (w1,) = [m for m in at.metric if m.label == "W1 (256 points)"]
    assert 0 < float(w1.value) < 10 and "Two draws of the data itself read 0.0932" in w1.help
    text = " ".join(md.value for md in at.markdown)
    assert "true W1" in text and "weight clipping bounds K" in text
