"""The Train page's Quality panel: numbers with their sample size for digits, one line for MNIST."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from gan_demo import ui

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_a_short_digits_run_shows_the_quality_numbers_and_curve():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("app_pages/train.py").run()
    at.number_input(key="train_steps").set_value(40).run()
    at.number_input(key="train_snapshot_every").set_value(20).run()
    at.button(key="train_start").click().run()
    (run,) = ui.registry().runs_for(at.session_state["gan_session_id"])
    run.join(60)
    assert not run.alive
    at.run()
    assert not at.exception
    shots = run.view().snapshots
    assert [s.step for s in shots] == [0, 20, 40]
    report = shots[-1].extras["quality"]  # computed in the worker at each snapshot
    assert report["n"] == 64 and sum(report["counts"]) == 64
    metrics = {m.label: m.value for m in at.metric}
    assert any("**n = 64** fixed-noise samples" in c.value for c in at.caption)  # the sample size, stated once
    assert metrics["Fréchet distance"] == f"{report['fd']:.3g}"
    assert metrics["Real-vs-real floor"] == f"{report['fd_floor']:.3g}"
    assert metrics["Label coverage"] == f"{report['coverage']} of 10"
    assert metrics["Confidence"] == f"{report['confidence']:.2f}"
    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    (fd_fig,) = [f for f in charts.values() if f["layout"]["title"]["text"].startswith("Fréchet distance")]
    assert fd_fig["data"][0]["x"] == [0, 20, 40]
    assert fd_fig["data"][0]["y"] == [s.extras["quality"]["fd"] for s in shots]
    assert fd_fig["data"][1]["y"] == [report["fd_floor"]] * 2  # the floor beside it
    (hist,) = [f for f in charts.values() if f["layout"]["title"]["text"].startswith("G's samples by predicted label")]
    assert hist["data"][0]["y"] == report["counts"]


def test_mnist_without_weights_gets_one_line_saying_why():
    def script():
        from types import SimpleNamespace

        from gan_demo import quality_panel
        from gan_demo.config import TrainConfig

        quality_panel.render(SimpleNamespace(config=TrainConfig.for_loss("non-saturating", "mnist"), snapshots=(),
                                             run_id="x"), "train")  # fmt: skip

    at = AppTest.from_function(script, default_timeout=30).run()
    assert not at.exception
    (caption,) = at.caption
    assert caption.value.startswith("Quality numbers hidden: no classifier weights for 'mnist'")
    assert "could not be downloaded" in caption.value
    assert not at.metric
