"""AppTest for the CycleGAN page: the form shows CycleGAN's fields only, the lessons' links fill it, a
short live run draws the two planes, the mode table and the readouts, and a bad λ is refused.

``run_every`` timers never fire in AppTest: the live panel is driven by ``at.run()`` until "done".
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from gan_demo import presets, ui

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE_FILE = "app_pages/cyclegan.py"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny networks, one intra-op thread


def train_until_done(at: AppTest, timeout_s: float) -> None:
    """Press Start and rerun the page until its progress bar says "done" (no exception on the way)."""
    at.button(key="cyclegan_start").click().run()
    deadline = time.monotonic() + timeout_s
    while "done" not in _progress(at):
        assert time.monotonic() < deadline, _progress(at)
        time.sleep(0.3)
        at.run()
        assert not at.exception
    at.run()


def open_page(preset: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if preset:
        at.query_params["preset"] = preset
    at.run()
    at.switch_page(PAGE_FILE).run()
    assert not at.exception
    return at


def _progress(at: AppTest) -> str:
    bars = at.get("progress")
    return bars[0].proto.text if bars else ""


def test_the_page_is_in_the_menu_and_its_form_shows_cyclegans_fields_only():
    assert "app_pages/cyclegan.py" in [p.path for p in ui.PAGES]
    at = open_page()
    keys = {w.key for w in at.number_input}
    assert {"cyclegan_lambda_cyc", "cyclegan_lambda_id", "cyclegan_d_steps"} <= keys
    assert not {"cyclegan_z_dim", "cyclegan_pack", "cyclegan_instance_noise"} & keys
    assert at.selectbox(key="cyclegan_data").value == "ring8-stretched"
    assert at.selectbox(key="cyclegan_model").value == "mlp"  # shown as "translator MLPs"
    assert at.selectbox(key="cyclegan_data").options == ["ring8-stretched", "digits-inverted"]
    # the GAN pages do not show CycleGAN's weights
    at.switch_page("app_pages/toys_2d.py").run()
    assert not {"toys_2d_lambda_cyc", "toys_2d_lambda_id"} & {w.key for w in at.number_input}
    # the corrected objective and the lessons' links
    text = " ".join(m.value for m in at.switch_page(PAGE_FILE).run().markdown)
    assert "D_X(F(y))" in text and "G(F(y)) - y" in text and "slips of the seed post" in text
    for p in presets.for_page("cyclegan"):
        assert f"](/cyclegan?preset={p.name}&lang=en)" in text


@pytest.mark.parametrize("name", [p.name for p in presets.for_page("cyclegan")])
def test_each_lesson_link_fills_the_form(name):
    at = open_page(name)
    cfg = presets.get(name).config()
    got = {k: at.number_input(key=f"cyclegan_{k}").value for k in ("lambda_cyc", "lambda_id", "steps")}
    assert got == {"lambda_cyc": cfg.lambda_cyc, "lambda_id": cfg.lambda_id, "steps": cfg.steps}
    assert presets.get(name).watch_for[:40] in " ".join(i.value for i in at.info)
    assert not at.button(key="cyclegan_start").disabled


def test_a_negative_lambda_is_refused_with_its_range():
    at = open_page()
    at.number_input(key="cyclegan_lambda_cyc").set_value(-1.0).run()
    assert "must be in [0, 1000], got -1" in " ".join(e.value for e in at.error)
    assert at.button(key="cyclegan_start").disabled


def test_a_short_run_draws_the_planes_the_mode_table_and_the_readouts():
    at = open_page("healthy-cyclegan")
    at.number_input(key="cyclegan_steps").set_value(40.0)
    at.number_input(key="cyclegan_snapshot_every").set_value(20.0)
    at.run()
    train_until_done(at, 40)
    charts = at.get("plotly_chart")
    revisions = [json.loads(c.proto.spec)["layout"]["uirevision"] for c in charts]
    assert revisions == ["cyclegan_forward", "cyclegan_backward", "cyclegan_mapping", "cyclegan_losses",
                         "cyclegan_readouts"]  # fmt: skip
    mapping = json.loads(charts[2].proto.spec)["data"][0]
    assert len(mapping["z"]) == 8 and len(mapping["z"][0]) == 9  # 8 modes of X × (8 of Y + none)
    labels = [m.label for m in at.metric]
    assert labels == ["cycle error", "distance of G to T", "modes of Y receiving G(x)", "x sent where T sends it"]
    assert at.metric[2].value.endswith("/ 8")


def test_a_short_image_run_shows_the_batches_label_preservation_and_the_probe():
    at = open_page("healthy-cyclegan-digits")
    assert at.selectbox(key="cyclegan_data").value == "digits-inverted"
    assert at.selectbox(key="cyclegan_model").value == "dcgan"
    at.number_input(key="cyclegan_steps").set_value(20.0)
    at.number_input(key="cyclegan_snapshot_every").set_value(10.0)
    at.number_input(key="cyclegan_log_every").set_value(10.0)
    at.run()
    train_until_done(at, 60)
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["G(x) read as x's digit", "F(y) read as y's digit", "cycle error", "distance of G to T"]
    assert labels[4:] == ["|F(G(x)) − x| per pixel", "|F(G(x) + noise) − x| per pixel", "the noise, mean |n| per pixel"]
    assert at.metric[0].value.endswith("%")
    captions = " ".join(c.value for c in at.caption)
    assert "450 held-out digits right" in captions and "98.4 %" in captions
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert captions == ["x", "G(x): should be x inverted", "F(G(x)): should be x again", "y",
                        "F(y): should be y inverted back", "G(F(y)): should be y again", "G(x) + noise (std 0.05)",
                        "F(G(x))", "F(G(x) + noise)"]  # fmt: skip
    charts = at.get("plotly_chart")
    revisions = [json.loads(c.proto.spec)["layout"]["uirevision"] for c in charts]
    assert revisions == ["cyclegan_labels", "cyclegan_losses", "cyclegan_readouts", "cyclegan_errors"]
    table = json.loads(charts[0].proto.spec)["data"][0]
    assert len(table["z"]) == 10 and len(table["z"][0]) == 10
    # the probe's slider picks a noise level; the noise's size and the noisy grid follow (E|n| = σ·sqrt(2/π))
    assert abs(float(at.metric[6].value) - 0.05 * 0.7979) < 0.002
    at.select_slider(key="cyclegan_stego_std").set_value(0.2).run()
    assert not at.exception and abs(float(at.metric[6].value) - 0.2 * 0.7979) < 0.003
    assert [i.proto.imgs[0].caption for i in at.get("image")][6] == "G(x) + noise (std 0.2)"
