"""The load benchmark's light client (bench/load/protocol.py) against a real server: it speaks
Streamlit's websocket protocol well enough to open a page, press Start and see the run, and its
probe of Streamlit's internal messages fails loudly when one is missing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: Streamlit's own dependency reads TOML
    import toml as tomllib

from bench.load import protocol
from tests.browser import streamlit_server


def test_probe_finds_the_messages_of_the_installed_streamlit():
    protos = protocol.probe()
    assert {"BackMsg", "ClientState", "WidgetStates", "ForwardMsg", "AutoRerun"} <= set(protos)


def test_probe_names_what_is_missing(monkeypatch):
    needed = dict(protocol._NEEDED)
    needed["ClientState_pb2.ClientState"] += ("no_such_field",)
    needed["Nope_pb2.Nope"] = ("x",)
    monkeypatch.setattr(protocol, "_NEEDED", needed)
    with pytest.raises(protocol.ProtocolMismatch) as e:
        protocol.probe()
    assert "ClientState.no_such_field" in str(e.value)
    assert "streamlit.proto.Nope_pb2.Nope" in str(e.value)


def test_two_light_sessions_share_one_run():
    """One session presses Start on a preset link: its page shows the run's progress bar ("step s of
    1,500", the preset's steps) and the fragment timer redraws it; a second session asking for the
    same run is told it watches the first one's run (issue 18's shared run)."""
    protos = protocol.probe()
    env = {"GAN_DEMO_MAX_RUNS": "1", "GAN_DEMO_RECONNECT_GRACE_S": "1"}
    with streamlit_server(env) as url:

        async def main():
            link = f"{url}/toys_2d?preset=mode-collapse"
            a, b = protocol.LightSession(link, protos), protocol.LightSession(link, protos)
            await a.connect()
            await b.connect()
            await a.press("toys_2d_start")
            deadline = time.monotonic() + 60
            while (not a.seen.fragment_s or not a.seen.progress) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await b.press("toys_2d_start")
            while not any("watching a run" in t for t in b.texts) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await a.close()
            await b.close()
            return a, b

        a, b = asyncio.run(main())
    assert a.seen.first_progress is not None and a.seen.first_progress > a.seen.start_sent
    assert a.seen.progress[-1][2] == 1500, a.seen.progress[-1]
    assert a.seen.fragment_s, "the live panel's fragment timer never reran"
    assert any("watching a run that another session started" in t for t in b.texts), b.texts
    assert not a.seen.errors and not b.seen.errors, (a.seen.errors, b.seen.errors)


def test_streamlit_skips_the_full_gc_after_each_rerun():
    """Streamlit's default ``runner.postScriptGC = true`` runs gc.collect(2) after every script run,
    fragment reruns included; with torch and plotly loaded that held the GIL for 0.3-2 s per rerun
    and, with thirty sessions, starved the training threads (docs/load.md: 0 of 30 queued runs done
    in 914 s with it, 30 of 30 in 61 s without)."""
    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml").read_text())
    assert cfg["runner"]["postScriptGC"] is False


def test_the_class_rate_counts_only_the_pages_that_show_the_run_training():
    """A run of 26,000 steps at 1,000 steps/s ends at t = 26 s; a window of 30 s that also holds the
    pages' "done" bars of t = 26…30 s would read 26,000 steps in 30 s (867 steps/s, the artefact of
    run 5 in docs/load.md); only the bars of a training run give its speed, 1,000 steps/s."""
    from bench.load import scenarios

    seen = [(t, 1000 * t, f"step {1000 * t:,} of 26,000 · 1,000.0 steps/s · {26 - t} s left") for t in range(0, 26, 2)]
    seen += [(t, 26_000, "step 26,000 of 26,000 · 1,000.0 steps/s · done") for t in (26, 28, 30)]
    assert scenarios._rate([(0, 0), (30, 26_000)]) == pytest.approx(866.7, abs=0.1)
    running = [(t, s) for t, s, text in seen if scenarios._running(text)]
    assert [s for _, s in running][-1] == 24_000
    assert scenarios._rate(running) == pytest.approx(1000.0)
    # the one viewer's speed over the same steps as the class's window
    assert scenarios._in_steps(running, 10_000, 20_000) == [(t, 1000 * t) for t in range(10, 21, 2)]


def test_the_table_calls_a_speed_taken_after_the_run_ended_not_measured():
    """The (a) speed row says "met" only when every light page still showed the run training at the
    window's end and the one viewer covered the class's steps; otherwise "not measured"."""
    from bench.load.__main__ import table

    a = {"sessions": 30, "browsers": 3, "to_progress_s_light": [0.1] * 27, "to_progress_s_browser": [0.3] * 3,
         "steps_per_s_one_viewer": 1000.0, "steps_per_s_class": 800.0, "class_steps": [10_000, 40_000],
         "one_viewer_same_steps": [10_100, 39_900], "sessions_training_at_window_end": 27,
         "server_class": {}, "fragment_p95_s": 0.3, "fragment_p50_s": 0.1, "fragment_reruns": 600}  # fmt: skip

    def row(**change):
        (line,) = [r for r in table({**a, **change}, {}).splitlines() if "shared run's speed" in r]
        return line

    assert "80 %" in row() and row().endswith("| met |")
    assert row(steps_per_s_class=650.0).endswith("| missed by 5 points |")
    assert row(sessions_training_at_window_end=20).endswith("| not measured |")
    assert "raise --baseline" in row(one_viewer_same_steps=[10_100, 20_000])
