"""Rule R10 (mode collapse on images) reads the quality report's label histogram."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gan_demo import diagnostics as dg
from gan_demo.config import TrainConfig
from gan_demo.metrics import quality as Q


def calm_history(rows: int = 100) -> dict[str, list[float]]:
    """A calm non-saturating run over steps 10..1000 (D slightly ahead): no other rule fires."""
    rng = np.random.default_rng(0)
    levels = {"loss_d": 1.0, "loss_d_real": 0.5, "loss_d_fake": 0.5, "loss_g": 1.1, "d_real": 0.62,
              "d_fake": 0.38, "d_fake_g": 0.36, "d_acc": 0.75, "grad_d": 2.0, "grad_g": 3.0}  # fmt: skip
    cols = {"step": [10.0 * (i + 1) for i in range(rows)]}
    cols.update({k: list(v * (1 + 0.02 * rng.standard_normal(rows))) for k, v in levels.items()})
    return cols


def fields(counts: list[int], names=tuple(str(i) for i in range(10))) -> dict:
    counts_a = np.array(counts)
    return {"step": 1000, "fake": 5.0, "real": 6.0, "label_counts": counts, "label_coverage": Q.coverage(counts_a),
            "label_kl": Q.kl_to_uniform(counts_a), "label_kl_real": 0.06, "class_names": list(names), "fd": 40.0,
            "fd_floor": 35.0, "n": int(counts_a.sum())}  # fmt: skip


def r10(diversity: dict) -> list[dg.Finding]:
    return [f for f in dg.diagnose(calm_history(), "non-saturating", diversity=diversity) if f.rule == "R10"]


def test_fires_on_one_dominant_class_with_the_share_in_words():
    # 39 of 64 samples are '1': 61 %
    (f,) = r10(fields([3, 39, 3, 3, 3, 3, 3, 3, 2, 2]))
    assert f.state == "mode_collapse" and f.severity == "error"
    assert f.evidence.startswith("G's samples are 61 % '1' (39 of 64, by the classifier); 1 of 10 classes")
    # KL = 39/64 ln(390/64) + 7 · 3/64 ln(30/64) + 2 · 2/64 ln(20/64) = 1.1013 − 0.2486 − 0.0727 = 0.780
    assert "KL(histogram ‖ uniform) 0.78 nats vs 0.06 for a real batch of 64" in f.evidence


def test_fires_on_a_single_class_histogram():
    (f,) = r10(fields([0] * 7 + [64, 0, 0], names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")))  # fmt: skip
    assert "G's samples are 100 % 'Sneaker' (64 of 64" in f.evidence and "KL(histogram ‖ uniform) 2.3 nats" in f.evidence
    # the same histogram inside the warm-up (step 100 < WARMUP_STEPS) is not judged
    assert r10({**fields([0] * 7 + [64, 0, 0]), "step": 100}) == []


def test_fires_when_few_classes_are_covered_even_without_a_dominant_one():
    assert r10(fields([16, 16, 16, 16, 0, 0, 0, 0, 0, 0]))  # 25 % each, but 4 of 10 covered (< 5)


@pytest.mark.parametrize("counts", [[7, 7, 7, 7, 6, 6, 6, 6, 6, 6], [3, 8, 5, 5, 10, 7, 8, 9, 5, 4]])
def test_quiet_on_a_uniform_or_a_real_batch_histogram(counts):
    # the second is the classifier's histogram of a real batch of 64 digits (tests/test_metrics_quality.py)
    assert r10(fields(counts)) == []
    (head,) = dg.diagnose(calm_history(), "non-saturating", diversity=fields(counts))
    assert head.state == "healthy" and "Fréchet distance 40 (real-vs-real floor 35, n = 64)" in head.evidence


def test_image_advice_points_at_the_quality_numbers():
    (f,) = r10(fields([64] + [0] * 9))
    assert "Quality panel" in f.advice and "real-vs-real floor" in f.advice


def test_view_quality_passes_the_snapshot_report_on():
    report = {"counts": [64] + [0] * 9, "coverage": 1, "kl": 2.3, "kl_real": 0.06, "class_names": list("0123456789"),
              "fd": 700.0, "fd_floor": 35.0, "n": 64}  # fmt: skip
    snap = SimpleNamespace(step=500, samples=np.zeros((64, 1, 8, 8), np.float32), extras={"quality": report})
    view = SimpleNamespace(config=TrainConfig.for_loss("non-saturating", "digits"), run_id="r10test", snapshots=(snap,))
    _, div = dg.view_quality(view)
    assert div[-1]["label_counts"][0] == 64 and div[-1]["fd_floor"] == 35.0
