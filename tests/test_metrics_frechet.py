"""The Fréchet distance on inputs whose answer is known by hand."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from gan_demo.metrics.frechet import feature_stats, frechet_distance, frechet_distance_features

# μ1 = (0, 0), μ2 = (3, 4): ‖μ1 − μ2‖² = 25.  Σ1 = diag(1, 4), Σ2 = diag(4, 9) commute, so
# (Σ1 Σ2)^{1/2} = diag(2, 6) and Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}) = 5 + 13 − 16 = 2: d² = 27.
MU1, MU2 = np.zeros(2), np.array([3.0, 4.0])
S1, S2 = np.diag([1.0, 4.0]), np.diag([4.0, 9.0])


def test_two_gaussians_closed_form():
    assert frechet_distance(MU1, S1, MU2, S2) == pytest.approx(27.0, abs=1e-12)


def test_rotated_gaussians_same_distance():
    # rotating both Gaussians by the same angle changes nothing: still 25 + 2 = 27
    c, s = np.cos(0.7), np.sin(0.7)
    rot = np.array([[c, -s], [s, c]])
    d = frechet_distance(rot @ MU1, rot @ S1 @ rot.T, rot @ MU2, rot @ S2 @ rot.T)
    assert d == pytest.approx(27.0, abs=1e-9)


def test_one_dimension_is_w2_squared():
    # 1-D: (μ1 − μ2)² + (σ1 − σ2)² = (1 − 4)² + (2 − 0.5)² = 9 + 2.25
    assert frechet_distance(np.array([1.0]), np.array([[4.0]]), np.array([4.0]), np.array([[0.25]])) == pytest.approx(11.25)


def test_agrees_with_scipy_sqrtm_on_non_commuting_covariances():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    s1, s2 = a @ a.T + 0.1 * np.eye(5), b @ b.T + 0.1 * np.eye(5)
    mu1, mu2 = rng.normal(size=5), rng.normal(size=5)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    expected = float((mu1 - mu2) @ (mu1 - mu2) + np.trace(s1 + s2 - 2 * covmean))
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_identical_sets_give_zero():
    f = np.random.default_rng(1).normal(size=(64, 32))  # n = 64, d = 32: as on the Train page
    assert frechet_distance_features(f, f.copy()) < 1e-9


def test_samples_of_the_two_gaussians_approach_the_closed_form():
    rng = np.random.default_rng(2)
    a = rng.multivariate_normal(MU1, S1, size=200_000)
    b = rng.multivariate_normal(MU2, S2, size=200_000)
    assert frechet_distance_features(a, b) == pytest.approx(27.0, abs=0.2)


def test_stats_and_errors():
    mu, cov = feature_stats(np.array([[0.0, 1.0], [2.0, 3.0]]))
    assert mu.tolist() == [1.0, 2.0]
    assert cov.tolist() == [[2.0, 2.0], [2.0, 2.0]]  # unbiased: sum of squares / (n − 1)
    with pytest.raises(ValueError, match="n >= 2"):
        feature_stats(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        feature_stats(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="shapes do not match"):
        frechet_distance(MU1, S1, np.zeros(3), np.eye(3))
