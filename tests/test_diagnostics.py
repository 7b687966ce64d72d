"""Each diagnosis rule fires on a synthetic history made to trigger it and stays quiet on one made
not to; the log of changes names the steps; the module's copies of the loss facts match losses.py."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from gan_demo import diagnostics as dg
from gan_demo import losses

ROWS = 100  # logged rows of a synthetic history
EVERY = 10  # steps per row: the history covers steps 10..1000


def history(rows: int = ROWS, seed: int = 0, **columns) -> dict[str, list[float]]:
    """A calm non-saturating run (D slightly ahead, small batch noise); ``columns`` replace
    columns by arrays or by functions of the row index array."""
    rng = np.random.default_rng(seed)
    i = np.arange(rows, dtype=np.float64)

    def noisy(level: float, rel: float = 0.05) -> np.ndarray:
        return level * (1 + rel * rng.standard_normal(rows))

    cols = {
        "step": (i + 1) * EVERY,
        "loss_d": noisy(1.0),
        "loss_d_real": noisy(0.5),
        "loss_d_fake": noisy(0.5),
        "loss_g": noisy(1.1),
        "d_real": noisy(0.62, 0.02),
        "d_fake": noisy(0.38, 0.02),
        "d_fake_g": noisy(0.36, 0.02),
        "d_acc": noisy(0.75, 0.02),
        "grad_d": noisy(2.0),
        "grad_g": noisy(3.0),
    }
    for name, value in columns.items():
        cols[name] = value(i) if callable(value) else np.broadcast_to(np.asarray(value, dtype=float), (rows,))
    return {k: [float(x) for x in v] for k, v in cols.items()}


def states(findings: list[dg.Finding]) -> list[str]:
    return [f.state for f in findings]


def wgan_history(**columns) -> dict[str, list[float]]:
    base = dict(loss_d=lambda i: -(4.0 - 3.0 * i / ROWS), w1=lambda i: 4.0 - 3.0 * i / ROWS,
                loss_g=-1.0, d_real=2.0, d_fake=-1.0, d_fake_g=-1.0, d_acc=0.85)  # fmt: skip
    return history(**{**base, **columns})


def wave(amplitude: float, period_rows: float, level: float = 0.0):
    return lambda i: level + amplitude * np.sin(2 * np.pi * i / period_rows)


def ring_modes(nearest_per_snapshot: list[list[int]], start: int = 300, hq: float = 0.5) -> list[dict]:
    """Mode stats of successive snapshots (every 100 steps) with the given samples per nearest mode,
    of which the share ``hq`` are high-quality."""
    out = []
    for k, near in enumerate(nearest_per_snapshot):
        counts = [int(n * hq) for n in near]
        out.append({"step": start + 100 * k, "captured": sum(c > 0 for c in counts), "n_modes": len(near),
                    "high_quality": sum(counts) / sum(near), "counts": counts, "nearest": near})  # fmt: skip
    return out


SPREAD = [[300, 320, 310, 290, 305, 315, 300, 360]] * 4
ONE_MODE = [[2500, 0, 0, 0, 0, 0, 0, 0]] * 4
HOPPING = [[2500 if j == k % 3 else 0 for j in range(8)] for k in range(6)]

# (rule, state, loss, arguments of diagnose that trigger it, arguments that do not)
CASES = [
    ("R0", "diverged", "non-saturating",
     dict(metrics=history(loss_d=lambda i: np.where(i >= 60, np.nan, 1.0))), dict(metrics=history())),
    ("R0", "diverged", "wgan",
     dict(metrics=wgan_history(loss_d=lambda i: -1e3 * 10 ** (i / 10))), dict(metrics=wgan_history())),
    ("R3", "exploding_gradients", "non-saturating",
     dict(metrics=history(grad_g=400.0)), dict(metrics=history(grad_g=40.0))),
    ("R2", "vanishing_g_gradient", "minimax",
     dict(metrics=history(d_fake_g=0.001, d_fake=0.002, grad_g=lambda i: 3.0 * np.exp(-i / 5)),
          ), dict(metrics=history(d_fake_g=0.08, grad_g=1.5))),
    ("R2", "vanishing_g_gradient", "non-saturating",
     dict(metrics=history(grad_g=lambda i: np.where(i < 10, 20.0, 1e-6))), dict(metrics=history(grad_g=20.0))),
    ("R1", "d_overpowers_g", "non-saturating",
     dict(metrics=history(loss_d=0.01, d_acc=1.0, d_real=0.995, d_fake=0.004)),
     dict(metrics=history(loss_d=0.35, d_acc=0.94))),
    ("R1", "d_overpowers_g", "lsgan",
     dict(metrics=history(loss_d=0.008, d_acc=1.0)), dict(metrics=history(loss_d=0.07, d_acc=0.93))),
    ("R1", "d_overpowers_g", "hinge",
     dict(metrics=history(loss_d=0.02, d_acc=1.0)), dict(metrics=history(loss_d=1.2, d_acc=0.8))),
    ("R6", "g_failing", "non-saturating",
     dict(metrics=history(loss_d=lambda i: 3.0 - 0.025 * i, loss_g=lambda i: 1.0 + 0.05 * i)),
     dict(metrics=history(loss_d=lambda i: 3.0 - 0.025 * i, loss_g=1.0))),
    ("R8", "oscillation", "non-saturating",
     # D wins (L_D 0.05) for 3/4 of every 24 rows, then loses (L_D 2): bursts, as in real unstable runs
     dict(metrics=history(loss_d=lambda i: np.where(i % 24 < 18, 0.05, 2.0))),
     dict(metrics=history(loss_d=wave(0.3, 24, level=1.0)))),
    ("R8", "oscillation", "wgan",
     dict(metrics=wgan_history(loss_g=lambda i: np.where(i % 7 == 0, 30.0, 1.0 + 0.01 * np.sin(i)))),
     dict(metrics=wgan_history(loss_g=lambda i: 1.0 + 0.01 * np.sin(i)))),
    ("R9", "mode_collapse", "non-saturating",
     dict(metrics=history(), modes=ring_modes(ONE_MODE)), dict(metrics=history(), modes=ring_modes(SPREAD))),
    ("R9", "mode_hopping", "non-saturating",
     dict(metrics=history(), modes=ring_modes(HOPPING)), dict(metrics=history(), modes=ring_modes(ONE_MODE))),
    # spread over all 8 modes, but 10 % high-quality (fires) vs 60 % (quiet: HQ_CONVERGED is 0.5)
    ("R9", "not_converged", "non-saturating",
     dict(metrics=history(), modes=ring_modes(SPREAD, hq=0.1)),
     dict(metrics=history(), modes=ring_modes(SPREAD, hq=0.6))),
    ("R10", "mode_collapse", "non-saturating",
     dict(metrics=history(), diversity=dict(step=1000, fake=5.0, real=6.0, classes=4, n_classes=10)),
     dict(metrics=history(), diversity=dict(step=1000, fake=5.0, real=6.0, classes=10, n_classes=10))),
    ("R11", "low_diversity", "non-saturating",
     dict(metrics=history(), diversity=dict(step=1000, fake=0.8, real=6.0)),
     dict(metrics=history(), diversity=dict(step=1000, fake=4.0, real=6.0))),
    ("R12", "no_progress", "wgan",
     dict(metrics=wgan_history(w1=1.0, loss_d=-1.0)), dict(metrics=wgan_history())),
    ("R14", "clipping_kills_capacity", "wgan",
     dict(metrics=wgan_history(clip_frac=0.9)), dict(metrics=wgan_history(clip_frac=0.4))),
    ("R15", "lipschitz_violated", "wgan-gp",
     dict(metrics=wgan_history(gp_norm=3.0, gp=0.5)), dict(metrics=wgan_history(gp_norm=1.05, gp=0.01))),
    ("R16", "rotation", "non-saturating",
     dict(metrics=history(d_fake=wave(0.15, 20, 0.4)), modes=ring_modes(SPREAD)),
     dict(metrics=history(d_fake=lambda i: 0.4 + 0.15 * np.exp(-i / 8) * np.sin(2 * np.pi * i / 20)),
          modes=ring_modes(SPREAD))),
    ("R4", "near_equilibrium", "non-saturating",
     dict(metrics=history(d_real=0.52, d_fake=0.48, loss_d=lambda i: 1.38 + 0.01 * np.sin(i))),
     dict(metrics=history())),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "state", "loss", "fire", "quiet"), CASES, ids=[f"{c[0]}-{c[1]}-{c[2]}" for c in CASES])
def test_rule_fires_and_stays_quiet(rule, state, loss, fire, quiet):
    found = dg.diagnose(loss=loss, **fire)
    hit = [f for f in found if f.state == state]
    assert hit, f"{state} not diagnosed: {[(f.state, f.evidence) for f in found]}"
    assert hit[0].rule == rule
    assert any(ch.isdigit() for ch in hit[0].evidence), "evidence must quote the numbers"
    assert hit[0].step == int(fire["metrics"]["step"][-1])
    assert state not in states(dg.diagnose(loss=loss, **quiet))


def test_calm_history_is_healthy_and_sorted_by_severity():
    found = dg.diagnose(history(), "non-saturating")
    assert states(found) == ["healthy"] and found[0].severity == "ok"
    many = dg.diagnose(history(loss_d=0.01, d_acc=1.0, grad_g=500.0), "non-saturating",
                       diversity=dict(step=1000, fake=0.5, real=6.0))  # fmt: skip
    assert {"exploding_gradients", "d_overpowers_g", "low_diversity"} <= set(states(many))
    ranks = [dg.SEVERITIES.index(f.severity) for f in many]
    assert ranks == sorted(ranks) and many[0].severity == "error"
    assert "healthy" not in states(many) and "near_equilibrium" not in states(many)


def test_every_finding_points_at_samples_and_a_quality_metric():
    for _, state, loss, fire, _ in CASES:
        for f in dg.diagnose(loss=loss, **fire):
            assert "samples" in f.advice or "points" in f.advice, (state, f.advice)
            assert f.title and f.severity in dg.SEVERITIES and f.state in dg.STATES


def test_not_converged_replaces_healthy_and_near_equilibrium_for_toys():
    calm, at_chance = history(), history(d_real=0.52, d_fake=0.48, loss_d=lambda i: 1.38 + 0.01 * np.sin(i))
    early = ring_modes(SPREAD, hq=0.02)  # 48 of 2,500 samples high-quality (2 % of each mode, rounded down)
    for metrics in (calm, at_chance):
        found = dg.diagnose(metrics, "non-saturating", modes=early)
        assert states(found) == ["not_converged"] and found[0].severity == "info" and not found[0].failing
        assert "1.9 % of the samples are high-quality" in found[0].evidence and "8 of 8 modes" in found[0].evidence
    assert states(dg.diagnose(calm, "non-saturating", modes=ring_modes(SPREAD, hq=0.9))) == ["healthy"]
    # a failure still wins: collapse onto one mode is reported as collapse, not as "not converged"
    assert "not_converged" not in states(dg.diagnose(calm, "non-saturating", modes=ring_modes(ONE_MODE, hq=0.02)))


def test_not_converged_needs_every_snapshot_of_its_window_below_the_bar():
    """Hysteresis: a run hovering at 50 % high-quality does not flip between verdicts every snapshot."""
    calm = history()

    def snapshots(hqs: list[float]) -> list[dict]:  # 8 modes of 300 samples, hq of them high-quality
        return [m | {"step": 300 + 100 * k} for k, hq in enumerate(hqs) for m in ring_modes([[300] * 8], hq=hq)]

    assert dg.HQ_WINDOW == 5 and dg.HQ_CONVERGED == 0.5
    below = snapshots([0.1, 0.2, 0.3, 0.4, 0.45])
    found = dg.diagnose(calm, "non-saturating", modes=below)
    assert states(found) == ["not_converged"]
    assert "45.0 % of the samples" in found[0].evidence and "in each of the last 5 snapshots" in found[0].evidence
    # one snapshot at 60 % among the last five keeps the run out of "not converged" ...
    assert states(dg.diagnose(calm, "non-saturating", modes=snapshots([0.3, 0.6, 0.4, 0.4, 0.4, 0.4]))) == ["healthy"]
    # ... until the dip has lasted five snapshots
    assert states(dg.diagnose(calm, "non-saturating", modes=snapshots([0.6, 0.4, 0.4, 0.4, 0.4, 0.4]))) == [
        "not_converged"
    ]


def test_warm_up_is_not_judged_but_divergence_is():
    early = history(rows=15)  # steps 10..150 < WARMUP_STEPS
    assert dg.diagnose(early, "non-saturating") == []
    nan = history(rows=3, loss_g=[1.0, 2.0, math.inf])
    found = dg.diagnose(nan, "non-saturating")
    assert states(found) == ["diverged"] and "step 30" in found[0].evidence


def test_advice_depends_on_the_loss():
    strong_d = history(d_fake_g=0.001, grad_g=lambda i: 3.0 * np.exp(-i / 5))
    minimax = next(f for f in dg.diagnose(strong_d, "minimax") if f.state == "vanishing_g_gradient")
    assert "non-saturating" in minimax.advice
    wgan = dg.diagnose(wgan_history(loss_d=-1e7, w1=1e7), "wgan")[0]
    assert wgan.state == "diverged" and "clipping" in wgan.advice


def test_log_lists_the_changes_with_their_steps():
    # healthy for 600 steps, then D wins for good (from row 60, step 610)
    h = history(rows=150, loss_d=lambda i: np.where(i < 60, 1.0, 0.01), d_acc=lambda i: np.where(i < 60, 0.75, 1.0))
    changes = dg.history(h, "non-saturating")
    assert [c.state for c in changes] == ["healthy", "d_overpowers_g"]
    assert changes[0].text.startswith("step 300: Healthy")
    # D's window median crosses 0.05 once more than half of the window is past step 600
    assert 700 <= changes[1].step <= 900
    assert changes[1].text.startswith(f"step {changes[1].step}: D overpowers G (L_D 0.01")


def test_log_is_the_same_built_at_once_or_row_by_row():
    h = history(rows=150, loss_d=lambda i: np.where(i < 60, 1.0, 0.01), d_acc=lambda i: np.where(i < 60, 0.75, 1.0))
    log = dg.DiagnosisLog("non-saturating")
    for n in range(1, 151, 7):
        log.update({k: v[:n] for k, v in h.items()})
    log.update(h)
    assert log.changes == dg.history(h, "non-saturating")


def test_a_flicker_shorter_than_confirm_is_not_logged():
    # one bad checkpoint (rows 90-99 have L_D 0.01) inside a healthy run
    h = history(rows=150, loss_d=lambda i: np.where((i >= 40) & (i < 48), 1e-9, 1.0))
    assert [c.state for c in dg.history(h, "non-saturating", every=10, confirm=2)] == ["healthy"]


def test_mode_summary_counts_modes_in_1d_and_2d():
    ring = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)])
    pts = np.concatenate([ring[0] + 0.005 * np.ones((10, 2)), ring[3] + 0.2 * np.ones((5, 2))])
    m = dg.mode_summary(pts, ring, 0.01, step=500)
    assert (m["captured"], m["n_modes"], m["dominant"], m["step"]) == (1, 8, 0, 500)
    assert m["high_quality"] == pytest.approx(10 / 15)
    assert m["nearest"][0] == 10 and m["nearest"][3] == 5 and sum(m["counts"]) == 10
    one_d = dg.mode_summary(np.array([[-3.1], [-1.0], [2.9], [np.nan]]), np.array([[-3.0], [3.0]]), np.array([0.5, 0.5]))
    assert one_d["counts"] == (1, 1) and one_d["nearest"] == (2, 1) and one_d["high_quality"] == pytest.approx(2 / 3)


def test_mean_pairwise_distance():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 0.0]])
    assert dg.mean_pairwise_distance(x) == pytest.approx((5 + 5 + 0) / 3)
    assert dg.mean_pairwise_distance(np.ones((4, 1, 8, 8))) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", losses.NAMES)
def test_the_copied_loss_facts_match_losses_py(name):
    spec = losses.get(name)
    assert dg._FAMILY[name] == spec.family
    for key, value in dg._EQUILIBRIUM.get(name, {}).items():
        assert spec.equilibrium[key] == pytest.approx(value)


# ---------------------------------------------------------------- the view and the panel
def fake_view(metrics: dict[str, list[float]], loss: str = "non-saturating", data: str = "digits", samples=None):
    from gan_demo.config import TrainConfig
    from gan_demo.runs.live import RunView, Snapshot

    cfg = TrainConfig.for_loss(loss, data, steps=int(metrics["step"][-1]))
    snaps = tuple(Snapshot(int(s), x, {}) for s, x in (samples or []))
    return RunView(run_id="r1", config=cfg, status="running", error=None, step=int(metrics["step"][-1]),
                   total_steps=cfg.steps, steps_per_s=100.0, eta_s=None, metrics=metrics, snapshots=snaps,
                   metric_names=tuple(metrics), device="cpu")  # fmt: skip


def test_diagnose_view_measures_image_diversity_and_toy_modes():
    same = np.zeros((64, 1, 8, 8), dtype=np.float32)  # 64 identical samples: no diversity at all
    found = dg.diagnose_view(fake_view(history(), samples=[(500, same), (1000, same)]))
    low = next(f for f in found if f.state == "low_diversity")
    assert "0 vs" in low.evidence and "real batch (0 %" in low.evidence
    ring = np.array([[np.cos(a), np.sin(a)] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)])
    one_mode = np.repeat(ring[:1], 2500, axis=0).astype(np.float32)
    view = fake_view(history(), data="ring8", samples=[(400, one_mode), (800, one_mode)])
    modes, div = dg.view_quality(view)
    assert div is None and [m["captured"] for m in modes] == [1, 1]
    assert "mode_collapse" in states(dg.diagnose_view(view))


def test_panel_renders_headline_evidence_advice_and_history():
    from streamlit.testing.v1 import AppTest

    def page():
        import streamlit as st

        from gan_demo import diagnosis_panel

        diagnosis_panel.render(st.session_state["view"])

    h = history(rows=150, loss_d=lambda i: np.where(i < 60, 1.0, 0.01), d_acc=lambda i: np.where(i < 60, 0.75, 1.0))
    at = AppTest.from_function(page)
    at.session_state["view"] = fake_view(h)
    at.run()
    assert not at.exception
    assert "D overpowers G" in at.warning[0].value and "L_D 0.01" in at.warning[0].value
    assert any("What to try" in m.value for m in at.markdown)
    history_md = at.expander[0].markdown[0].value
    assert "step 300: Healthy" in history_md and "D overpowers G" in history_md
    at.session_state["view"] = fake_view(history(rows=10))  # still warming up
    at.run()
    assert "Warming up" in at.info[0].value


def test_log_of_a_finished_run_ends_with_its_last_row():
    # NaN from step 930 on; the run stops at step 950, between two checkpoints (every 100 steps)
    h = history(rows=95, loss_d=lambda i: np.where(i >= 92, np.nan, 1.0))
    live = dg.history(h, "non-saturating")
    assert [c.state for c in live] == ["healthy"]
    done = dg.history(h, "non-saturating", finished=True)
    assert [c.state for c in done] == ["healthy", "diverged"]
    assert done[1].text.startswith("step 950: Diverged (loss_d became nan at step 930")
    log = dg.DiagnosisLog("non-saturating")
    log.update(h)
    log.update(h, finished=True)
    assert log.update(h, finished=True) == done  # idempotent


# ---------------------------------------------------------------- advice against its sources
SOURCE = re.compile(r"[A-Z][a-zø]+ (?:et al\.|and [A-Z][a-z]+) \d{4}|ganhacks, tip \d+|docs/diagnosis\.md|README|preset")
# the Chinese texts cite the same papers; "ganhacks，第 10 条" is "ganhacks, tip 10", 预设 is "preset"
SOURCE_ZH = re.compile(r"[A-Z][a-zø]+ (?:et al\.|and [A-Z][a-z]+) \d{4}|ganhacks，第 \d+ 条|docs/diagnosis\.md|README|预设")
FAMILIES = [("minimax", "bce"), ("non-saturating", "bce"), ("wgan", "wgan"), ("wgan-gp", "wgan"),
            ("hinge", "hinge"), ("lsgan", "lsgan")]  # fmt: skip


def in_language(lang: str, msg) -> str:
    """``msg`` rendered as a reader of ``lang`` sees it (nested messages too)."""
    from gan_demo import content

    saved = content._source
    content.set_language_source(lambda: lang)
    try:
        return str(msg)
    finally:
        content.set_language_source(saved)


@pytest.mark.parametrize(("loss", "family"), FAMILIES)
@pytest.mark.parametrize("state", dg.STATES)
def test_every_advice_names_its_source_and_ttur_gives_d_the_larger_rate(state, loss, family):
    tip = dg._tip(state, family, loss)  # the tip alone, without the pointer at the samples
    assert SOURCE.search(str(tip)), f"{state}/{loss}: no source named in {str(tip)!r}"
    assert SOURCE_ZH.search(in_language("zh", tip)), f"{state}/{loss}: no source named in {in_language('zh', tip)!r}"
    for kind in ("image", "toy"):
        text = str(dg._advice(state, family, loss, kind))
        assert text.startswith(str(tip)) and str(dg._LOOK[kind]) in text
        assert "raise lr_g" not in text.lower() and "higher lr_g" not in text.lower()
        if "TTUR" in text:  # as published and used (SAGAN): D's learning rate is the larger one
            assert "lr_D 4e-4, lr_G 1e-4" in text and "D gets the larger one" in text
            assert "lr_D 4e-4，lr_G 1e-4" in in_language("zh", dg._advice(state, family, loss, kind))


def test_the_ttur_advice_matches_sagans_rates():
    """SAGAN (Zhang et al. 2019) trains with TTUR at lr_D = 4e-4 and lr_G = 1e-4: D's rate is 4x G's."""
    lr_d, lr_g = (float(x) for x in re.search(r"lr_D (\S+), lr_G (\S+)\)", str(dg._TTUR)).groups())
    assert lr_d / lr_g == 4.0
    g_failing = str(dg._advice("g_failing", "bce", "non-saturating", "image"))
    assert "lower lr_d" in g_failing and str(dg._TTUR) in g_failing
