"""Every preset builds a valid config under a unique slug, and, trained for real with the Trainer,
ends in the state it promises: each failure diagnosed as its failure within its budget, each healthy
run with no failure diagnosed, and every number its "watch for" text states (its claims) true of the
seeded run. docs/diagnosis.md holds the measured tables (`python tests/test_presets.py` prints them)."""

from __future__ import annotations

import dataclasses
import re
import sys
import time
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from gan_demo import diagnostics as dg
from gan_demo import presets
from gan_demo.config import TrainConfig
from gan_demo.metrics import quality
from gan_demo.train import GanTrainer

PAGES = ("train", "toys_2d", "d_star_1d", "cyclegan")
# the GAN objective's presets: the diagnosis panel reads them (CycleGAN's lessons: tests/test_cycle.py)
GAN = [p for p in presets._ALL if p.page != "cyclegan"]
GOOD = ("healthy", "near_equilibrium")  # the two verdicts that mean "no failure"


@dataclass(frozen=True)
class Outcome:
    preset: str
    steps: int
    seconds: float  # training plus the diagnosis inputs (snapshots' quality numbers)
    final: list[dg.Finding]
    first_step: int | None  # see train_and_diagnose
    changes: list[dg.Change]
    metrics: dict[str, list[float]]  # the logged history, one column per metric
    diversity: list[dict] | None  # images: per snapshot, fake and real mean pairwise distance
    modes: list[dict] | None  # toys with modes: per snapshot, dg.mode_summary
    trainer: GanTrainer | None = None  # the trained networks (for further measures, see __main__)


def train_and_diagnose(preset: presets.Preset) -> Outcome:
    """Train the preset as the app's worker does (metrics every log_every steps, a snapshot every
    snapshot_every), then diagnose the whole history and replay it checkpoint by checkpoint."""
    cfg = preset.config()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models on a shared 2-core machine: one thread is as fast, and fair
    try:
        return _train_and_diagnose(preset, cfg)
    finally:
        torch.set_num_threads(threads)


def _train_and_diagnose(preset: presets.Preset, cfg: TrainConfig) -> Outcome:
    t0 = time.perf_counter()
    trainer = GanTrainer(cfg)
    cols: dict[str, list[float]] = {n: [] for n in trainer.metric_names}
    modes: list[dict] | None = [] if cfg.is_toy else None
    div: list[dict] | None = None if cfg.is_toy else []
    spec = dg._toy_modes(cfg.data) if cfg.is_toy else None
    real = None if cfg.is_toy else dg.real_diversity(cfg.data, cfg.data_root, 64)
    for n in range(1, cfg.steps + 1):
        row = trainer.step(with_metrics=n == 1 or n % cfg.log_every == 0 or n == cfg.steps)
        if row is not None:
            for k, v in row.items():
                cols[k].append(v)
            if not all(np.isfinite(list(row.values()))):
                break  # the app stops a run at its first non-finite number
        if n % cfg.snapshot_every == 0 or n == cfg.steps:
            x = trainer.fixed_samples().numpy()
            if spec is not None:
                modes.append(dg.mode_summary(x, spec[0], spec[1], n))
            elif div is not None:  # as the app's worker: the Quality panel's report (R10 reads it)
                div.append({"step": n, "fake": dg.mean_pairwise_distance(x), "real": real,
                            **dg.quality_fields(quality.snapshot_extras(trainer).get("quality"))})
    seconds = time.perf_counter() - t0
    final = dg.diagnose(cols, cfg.loss, config=cfg, modes=modes, diversity=div[-1] if div else None)
    # first checkpoint (every 100 steps) with the expected failure; for a healthy preset, the first
    # checkpoint from which no failure is diagnosed any more
    first = None
    steps = np.asarray(cols["step"])
    for s in range(100, int(steps[-1]) + 1, 100):
        k = int(np.searchsorted(steps, s, side="right"))
        prefix = {name: v[:k] for name, v in cols.items()}
        d = dg._upto(div, s)
        found = dg.diagnose(prefix, cfg.loss, config=cfg, modes=dg._upto(modes, s), diversity=d[-1] if d else None)
        if preset.expect in GOOD:
            ok = bool(found) and not any(f.failing for f in found)
            first = (first or s) if ok else None
        elif preset.expect in [f.state for f in found]:
            first = s
            break
    changes = dg.history(cols, cfg.loss, config=cfg, modes=modes, diversity=div, finished=True)
    return Outcome(preset.name, int(steps[-1]), seconds, final, first, changes, cols, div, modes, trainer)


def snapshot_numbers(out: Outcome) -> list[dict]:
    """The snapshot numbers claims read: images' diversity (fake / real MPD), toys' mode counts."""
    shots = [{"step": d["step"], "diversity": d["fake"] / d["real"]} for d in out.diversity or []]
    for shot, d in zip(shots, out.diversity or [], strict=True):  # the quality report's numbers
        if "fd" in d:
            shot.update(fd_ratio=d["fd"] / d["fd_floor"], top_share=max(d["label_counts"]) / sum(d["label_counts"]))
    for m in out.modes or []:
        near = m["nearest"]
        shots.append({"step": m["step"], "modes": m["captured"], "high_quality": m["high_quality"],
                      "top_share": max(near) / max(1, sum(near))})  # fmt: skip
    return shots


def claim_values(preset: presets.Preset, out: Outcome) -> list[tuple[presets.Claim, float]]:
    shots = snapshot_numbers(out)
    return [(c, c.measure(out.metrics, shots)) for c in preset.claims]


def assert_claims_hold(preset: presets.Preset, out: Outcome) -> None:
    wrong = [f"{c.text}: measured {v:.4g}" for c, v in claim_values(preset, out) if not c.holds(v)]
    assert not wrong, f"{preset.name}: the text states what the seeded run does not do: {wrong}"


# ---------------------------------------------------------------- static checks
def test_presets_are_unique_slugs_on_known_pages_with_valid_configs():
    assert len(presets.PRESETS) == len(presets._ALL) + len(presets._CGAN) and len(presets._ALL) >= 12
    for p in presets._ALL:  # the conditional GAN's presets: tests/test_cgan.py
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", p.name), p.name
        assert p.page in PAGES and p.title and 20 <= len(p.watch_for) <= 500
        cfg = p.config()
        assert isinstance(cfg, TrainConfig) and cfg.steps == p.overrides["steps"]
        assert (p.page == "cyclegan") == (cfg.objective == "cyclegan")
        if p.page != "cyclegan":
            assert p.expect in dg.STATES
            assert (p.page == "train") == (not cfg.is_toy)
    assert presets.get("mode-collapse").page == "toys_2d"
    assert {p.name for p in presets.for_page("d_star_1d")} == {"healthy-mix2", "mode-collapse-1d"}
    with pytest.raises(ValueError, match="healthy-ring8"):
        presets.get("no-such-preset")


CITATION = re.compile(r"\(?[A-Z][A-Za-z]+(?: et al\.| and [A-Z][a-z]+)? \d{4}\)?")  # "(Lin et al. 2018)"


@pytest.mark.parametrize("preset", presets._ALL, ids=[p.name for p in presets._ALL])
def test_every_number_a_preset_text_states_is_a_checked_claim(preset):
    """The text is a story with no numbers, then the claims rendered: a number can only get into
    it through a claim, which the training tests below check on the seeded run."""
    story, _, _ = preset.watch_for.partition(" Seeded run (")
    assert preset.watch_for == presets.watch_text(story, preset.claims)
    assert len(preset.claims) >= 2
    bare = CITATION.sub("", story).replace("W1", "").replace("β1", "")
    assert not re.search(r"\d", bare), f"a number outside the claims: {story!r}"


def test_claims_render_and_measure_as_documented():
    steps = [10.0 * i for i in range(1, 31)]  # steps 10..300
    metrics = {"step": steps, "loss_d": [3.0 - 0.01 * s for s in steps], "w1": [0.0] * 5 + [2e6] * 25}
    end = presets.Claim("loss_d", "end", 0.0, 0.5, "L_D")
    # the diagnosis window: the last max(300 steps, 25 %) of the run, past the 200-step warm-up: 200..300
    assert end.measure(metrics) == pytest.approx(3.0 - 0.01 * 250)
    assert end.text == "L_D ends at 0–0.5" and end.holds(0.45) and not end.holds(0.6)
    assert presets.Claim("loss_d", "peak", 2, 3, "L_D").measure(metrics) == pytest.approx(2.9)
    assert presets.Claim("loss_d", "low", 0.1, 0.1, "L_D").measure(metrics) == pytest.approx(3.0 - 2.55)
    first = presets.Claim("w1", "first_above", 1e6, 50, "−L_D")
    assert first.measure(metrics) == 60.0 and not first.holds(60.0) and first.text == "|−L_D| passes 1e6 by step 50"
    shots = [{"step": 100, "modes": 3}, {"step": 300, "modes": 5}, {"step": 400, "modes": 4}]
    assert presets.Claim("modes", "max", 5, 5, "modes").measure(metrics, shots) == 5
    assert presets.Claim("d_acc", "end", 0.85, 0.95, "D's accuracy").text == "D's accuracy ends at 85–95 %"


def test_every_loss_has_a_healthy_preset_and_every_failure_is_covered():
    healthy = {p.config().loss for p in presets.PRESETS.values() if p.name.startswith("healthy-") and p.page == "train"}
    assert healthy == {"non-saturating", "minimax", "lsgan", "hinge", "wgan-gp"}  # WGAN-clip: see docs
    assert all(p.name.startswith("healthy-") == (p.expect == "healthy") for p in presets._ALL)  # CycleGAN's too
    failures = {p.expect for p in presets.PRESETS.values() if p.expect != "healthy"}
    assert {"vanishing_g_gradient", "d_overpowers_g", "mode_collapse", "diverged",
            "clipping_kills_capacity"} <= failures  # fmt: skip
    # no seeded preset shows R8's oscillation as its headline (docs/diagnosis.md, "Oscillation"):
    # the preset that used to be called so is named for what it shows
    assert "oscillation" not in presets.PRESETS


# ---------------------------------------------------------------- real training
FAILURES = [p for p in GAN if p.expect not in GOOD]
HEALTHY = [p for p in GAN if p.expect in GOOD]


@pytest.mark.parametrize("preset", FAILURES, ids=[p.name for p in FAILURES])
def test_failure_preset_is_diagnosed_as_its_failure(preset):
    out = train_and_diagnose(preset)
    states = [f.state for f in out.final]
    assert preset.expect in states, [(f.state, f.evidence) for f in out.final]
    assert out.final[0].failing and "healthy" not in states
    assert out.first_step is not None and out.first_step <= preset.config().steps
    assert any(c.severity in dg.FAILING for c in out.changes)  # the log shows the failure too
    assert_claims_hold(preset, out)


@pytest.mark.slow
@pytest.mark.parametrize("preset", HEALTHY, ids=[p.name for p in HEALTHY])
def test_healthy_preset_ends_with_no_failure(preset):
    out = train_and_diagnose(preset)
    states = [f.state for f in out.final]
    assert len(states) == 1 and states[0] in GOOD, [(f.state, f.evidence) for f in out.final]
    assert out.first_step is not None  # no failure at the last checkpoints either
    if preset.page == "train":  # images: the classifier judged the samples at every snapshot, and R10
        # (mode collapse by the label histogram) stayed quiet at the end; its numbers are in the claims
        assert all("label_counts" in d for d in out.diversity), "no quality report: digits' classifier missing?"
        last = out.diversity[-1]
        assert max(last["label_counts"]) < dg.LABEL_TOP_SHARE * 64 and last["label_coverage"] >= 5, last
        assert {"fd_ratio", "top_share"} <= {c.metric for c in preset.claims}
    assert_claims_hold(preset, out)


def quality_table(seeds: list[int]) -> None:
    """docs/quality.md's table: each image preset (seed ``seeds``) at its end, the quality report on its
    fixed-noise batch (n = 64) and on 256 samples from ``torch.randn`` seeded with 1."""
    print("| preset | seed | FD n = 64 (× floor) | top / cover | FD n = 256 (× floor) | top / cover | R10 | state at the end | seconds |")
    print("|---|---|---|---|---|---|---|---|---|")
    for p in presets.for_page("train"):
        for seed in seeds:
            o = train_and_diagnose(dataclasses.replace(p, overrides={**p.overrides, "seed": seed}))
            noise = torch.randn(256, o.trainer.config.z_dim, generator=torch.Generator().manual_seed(1))
            r = [quality.report(o.trainer.fixed_samples(), "digits"), quality.report(o.trainer.sample(noise=noise), "digits")]
            cells = [f"{q['fd']:.3g} ({q['fd'] / q['fd_floor']:.2f}×) | {100 * q['top_share']:.0f} % / {q['coverage']}" for q in r]
            r10 = "fires" if any(f.rule == "R10" for f in o.final) else "quiet"
            print(f"| {p.name} | {seed} | {' | '.join(cells)} | {r10} | {', '.join(f.state for f in o.final)} | {o.seconds:.0f} |",
                  flush=True)  # fmt: skip


if __name__ == "__main__" and sys.argv[1:2] == ["--quality"]:  # docs/quality.md: --quality 0,1,2
    quality_table([int(s) for s in sys.argv[2].split(",")] if len(sys.argv) > 2 else [0])
elif __name__ == "__main__":  # the table of docs/diagnosis.md
    print("| preset | page | steps | seconds | state at the end (all findings) | expected | first step diagnosed (healthy: no failure from) |")
    print("|---|---|---|---|---|---|---|")
    claims: list[str] = []
    for p in GAN:
        o = train_and_diagnose(p)
        found = ", ".join(f.state for f in o.final)
        print(f"| {p.name} | {p.page} | {o.steps} | {o.seconds:.1f} | {found} | {p.expect} | {o.first_step} |", flush=True)
        claims.extend(f"| {p.name} | {c.text} | {c._fmt(v)} |".replace("|L_D|", "\\|L_D\\|") for c, v in claim_values(p, o))
    print("\n| preset | claim in its text | measured |\n|---|---|---|")
    print("\n".join(claims))
