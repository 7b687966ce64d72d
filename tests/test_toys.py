"""Toy distributions: exact pdf/cdf, samplers that match them, ring modes, and mode statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gan_demo import toys


def _grid(toy: toys.Toy1D, step: float = 1e-4) -> np.ndarray:
    low, high = toy.support
    return np.linspace(low, high, int(round((high - low) / step)) + 1)


def _cumtrapz(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(0.5 * (y[1:] + y[:-1]) * np.diff(x))])


@pytest.mark.parametrize("name", toys.NAMES_1D)
def test_pdf_integrates_to_one(name):
    toy = toys.get(name)
    x = _grid(toy)
    # trapezoid error: O(h²) for the smooth mixtures; at each of the uniform's two jumps it adds h·p/2
    tol = 1e-6 if toy.uniform is None else 2 * (x[1] - x[0]) * 0.25 / 2 + 1e-9
    assert abs(np.trapezoid(toy.pdf(x), x) - 1.0) <= tol


@pytest.mark.parametrize("name", toys.NAMES_1D)
def test_cdf_is_the_integral_of_the_pdf(name):
    toy = toys.get(name)
    x = _grid(toy)
    assert toy.cdf(x[0]) < 1e-6 and toy.cdf(x[-1]) > 1 - 1e-6
    err = np.abs(toy.cdf(x) - toy.cdf(x[0]) - _cumtrapz(toy.pdf(x), x)).max()
    assert err <= (1e-6 if toy.uniform is None else 1e-4 * 0.25)


@pytest.mark.parametrize("name", toys.NAMES_1D)
def test_sample_mean_and_std_match_the_distribution(name):
    toy = toys.get(name)
    n = 100_000
    x = toy.sample(n, torch.Generator().manual_seed(0)).numpy().astype(np.float64).ravel()
    assert toy.sample(3).shape == (3, 1)
    # exact moments by quadrature of the pdf
    g = _grid(toy, 1e-3)
    p = toy.pdf(g)
    mean = np.trapezoid(g * p, g)
    var = np.trapezoid((g - mean) ** 2 * p, g)
    m4 = np.trapezoid((g - mean) ** 4 * p, g)
    se_mean = math.sqrt(var / n)
    se_std = math.sqrt((m4 - var**2) / n) / (2 * math.sqrt(var))  # delta method on the variance
    assert abs(x.mean() - mean) < 5 * se_mean
    assert abs(x.std() - math.sqrt(var)) < 5 * se_std


def test_mixture_moments_by_formula():
    toy = toys.get("mix2")  # ±3, σ 0.5, equal weights: mean 0, variance 0.25 + 9
    g = _grid(toy, 1e-3)
    assert np.trapezoid(g * toy.pdf(g), g) == pytest.approx(0.0, abs=1e-9)
    assert np.trapezoid(g**2 * toy.pdf(g), g) == pytest.approx(9.25, rel=1e-6)


def test_ring8_has_eight_distinct_modes_on_the_unit_circle():
    modes = np.asarray(toys.get("ring8").modes)
    assert modes.shape == (8, 2)
    assert np.allclose(np.linalg.norm(modes, axis=1), 1.0)
    d = np.linalg.norm(modes[:, None] - modes[None], axis=2) + np.eye(8) * 10
    assert d.min() == pytest.approx(2 * math.sin(math.pi / 8))  # neighbours 45° apart, no repeat at 2π
    assert np.allclose(modes[0], (1.0, 0.0))


def test_grid25_modes_and_samples():
    toy = toys.get("grid25")
    modes = np.asarray(toy.modes)
    assert len({tuple(m) for m in modes.tolist()}) == 25
    assert set(modes.ravel().tolist()) == {-4.0, -2.0, 0.0, 2.0, 4.0}
    pts = toy.sample(20_000, torch.Generator().manual_seed(1)).numpy()
    stats = toys.mode_stats(pts, modes, toy.sigma)
    assert stats.captured == 25
    # within 3σ in 2-D: P(chi2_2 <= 9) = 1 - e^{-4.5} = 0.9889
    assert stats.high_quality == pytest.approx(1 - math.exp(-4.5), abs=0.005)


def test_mode_stats_on_hand_placed_points():
    toy = toys.get("ring8")
    m = np.asarray(toy.modes)
    pts = np.array([
        m[0] + (0.01, 0.0),  # 1σ from mode 0
        m[1] + (0.0, -0.02),  # 2σ from mode 1
        m[2],  # on mode 2
        (0.0, 0.0),  # the centre: 1 away from every mode, not high-quality
    ])  # fmt: skip
    stats = toys.mode_stats(pts, m, toy.sigma)
    assert stats.captured == 3
    assert stats.high_quality == 0.75
    assert stats.counts == (1, 1, 1, 0, 0, 0, 0, 0)
    assert toys.mode_stats(torch.from_numpy(pts), m, toy.sigma) == stats


def test_unknown_toy_lists_the_names():
    with pytest.raises(ValueError, match="ring8"):
        toys.get("ring9")


def test_scale_is_the_standard_deviation():
    # mix2: w = ½, ½ at ±3, σ 0.5 → var = 0.25 + 9; uniform[-2, 2] → 4/√12; grid25: var of {-4..4 step 2} = 8
    assert toys.TOYS_1D["mix2"].scale == pytest.approx(math.sqrt(9.25))
    assert toys.TOYS_1D["gaussian"].scale == pytest.approx(1.0)
    assert toys.TOYS_1D["uniform"].scale == pytest.approx(4 / math.sqrt(12))
    assert toys.TOYS_2D["grid25"].scale == pytest.approx(math.sqrt(8 + 0.05**2))
    assert toys.TOYS_2D["ring8"].scale == pytest.approx(math.sqrt(0.5 + 0.01**2))
    samples = toys.TOYS_1D["mix3"].sample(200_000, torch.Generator().manual_seed(0))
    assert samples.std().item() == pytest.approx(toys.TOYS_1D["mix3"].scale, rel=0.01)
