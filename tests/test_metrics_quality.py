"""Label statistics by hand, and the quality report on real, one-class and noise images."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_demo import content, data
from gan_demo.metrics import quality as Q


def test_kl_to_uniform_by_hand():
    assert Q.kl_to_uniform(np.full(10, 7)) == pytest.approx(0.0, abs=1e-15)
    assert Q.kl_to_uniform(np.eye(10)[3] * 64) == pytest.approx(math.log(10))
    # p = (1/2, 1/4, 1/4), K = 3: ½ log 1.5 + 2 · ¼ log 0.75 = 0.058892
    assert Q.kl_to_uniform(np.array([2, 1, 1])) == pytest.approx(0.5 * math.log(1.5) + 0.5 * math.log(0.75))
    with pytest.raises(ValueError, match="empty"):
        Q.kl_to_uniform(np.zeros(10))


def test_coverage_counts_classes_with_half_a_fair_share():
    # n = 64, K = 10: a fair share is 6.4 images, half of it 3.2, so 4 counts and 3 does not
    assert Q.coverage(np.array([40, 4, 3, 3, 3, 3, 2, 2, 2, 2])) == 2
    assert Q.coverage(np.full(10, 5)) == 10


def _real(n, seed=1, label=None):
    x = data.load_images("digits")
    if label is not None:
        x = x[data.load_labels("digits") == label]
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n]]


def test_real_images_sit_at_the_floor_and_one_class_far_above():
    real = Q.report(_real(64), "digits")
    assert real["n"] == 64 and real["fd_floor_min"] <= real["fd_floor"] <= real["fd_floor_max"]
    assert real["fd"] < 2 * real["fd_floor"]  # a real batch is within the benchmark's target
    assert real["coverage"] >= 8 and real["kl"] < 0.2
    ones = Q.report(_real(64, label=1), "digits")
    assert ones["counts"][1] >= 62 and ones["top_class"] == 1 and ones["coverage"] == 1
    assert ones["kl"] > 2.0 and ones["fd"] > 5 * ones["fd_floor"]


def test_noise_is_far_and_unconfident():
    noise = torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    r = Q.report(noise, "digits")
    assert r["fd"] > 10 * r["fd_floor"]
    assert r["confidence"] < r["confidence_real"] - 0.2


def test_floor_depends_on_the_sample_size():
    small, large = Q.real_reference("digits", None, 32), Q.real_reference("digits", None, 256)
    assert small.n == 32 and large.n == 256 and large.floor < small.floor  # the bias shrinks with n


def test_bad_inputs():
    with pytest.raises(ValueError, match="NaN or Inf"):
        Q.report(torch.full((8, 1, 8, 8), float("nan")), "digits")
    with pytest.raises(ValueError, match="needs n >= 2 and at least 2000 images; digits has 1797"):
        Q.real_reference("digits", None, 1000)
    why = Q.available("mnist")  # a Msg: str() renders it in the reader's language (issue 19)
    assert str(why).startswith("Quality numbers hidden: no classifier weights for 'mnist'")
    try:
        content.set_language_source(lambda: "zh")
        assert str(why).startswith("不显示质量指标：") and "没有 'mnist' 的分类器权重" in str(why)
    finally:
        content.set_language_source(None)
    assert str(Q.available("ring8")) == "ring8 is not an image data set"
    assert Q.available("digits") is None


@pytest.mark.slow
def test_a_short_seeded_run_distance_falls():
    """WGAN-GP on the digits (the healthy-wgan-gp preset, seed 0): the distance to real digits falls
    as G learns (measured: about 2,200 at step 0, 860 at 100, 310 at 300, floor 38)."""
    from gan_demo import presets
    from gan_demo.train import GanTrainer

    trainer = GanTrainer(presets.get("healthy-wgan-gp").config())
    fd = {0: Q.snapshot_extras(trainer)["quality"]["fd"]}
    for step in (100, 300):
        while trainer.step_count < step:
            trainer.step(with_metrics=False)
        fd[step] = Q.snapshot_extras(trainer)["quality"]["fd"]
    assert fd[300] < fd[100] / 2 and fd[100] < fd[0] / 2
