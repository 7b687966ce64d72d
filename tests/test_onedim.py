"""Tests for gan_demo.onedim: D*, the JS identity of Goodfellow et al. (2014, Thm 1), W1 and the KDE.

Every expected value is one a reader can check by hand: 3/(3+1), -log 4, ln 2, |μ1-μ2|,
|σ-1|·sqrt(2/π), 1/sqrt(2π).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gan_demo import onedim, toys

LOG4 = math.log(4.0)  # -log 4 = -1.386294...


def _pair(m1: float, s1: float, m2: float, s2: float, n: int = 4001):
    a, b = onedim.mixture([m1], [s1]), onedim.mixture([m2], [s2])
    x = onedim.covering_grid(a, b, n=n)
    return a, b, x


def test_d_star_at_given_densities():
    d = onedim.d_star(np.array([3.0, 1.0, 0.0, 0.0, 2.0]), np.array([1.0, 1.0, 0.0, 5.0, 0.0]))
    np.testing.assert_allclose(d, [0.75, 0.5, 0.5, 0.0, 1.0])  # 0.5 where both densities are 0
    assert onedim.lsgan_d_star is onedim.d_star  # a=0, b=c=1: the same optimum


def test_hinge_and_critic_slope_are_signs():
    np.testing.assert_array_equal(onedim.hinge_d_star(np.array([3.0, 1.0, 1.0]), np.array([1.0, 3.0, 1.0])), [1, -1, 0])
    np.testing.assert_array_equal(onedim.optimal_critic_slope(np.array([0.2, 0.7]), np.array([0.5, 0.1])), [1, -1])


@pytest.mark.parametrize(
    "m1, s1, m2, s2",
    [(0, 1, 0, 1), (0, 1, 1, 1), (0, 1, 0, 2), (-1, 0.5, 2, 1.5), (-3, 0.5, 3, 0.5), (0, 1, 20, 1)],
)
def test_v_star_equals_minus_log4_plus_2js(m1, s1, m2, s2):
    a, b, x = _pair(m1, s1, m2, s2, n=20001)
    p, q = a.pdf(x), b.pdf(x)
    js = onedim.js_divergence(p, q, x)
    assert -1e-12 <= js <= math.log(2) + 1e-9
    assert onedim.v_star(p, q, x) == pytest.approx(onedim.v_star_from_js(js), abs=1e-4)


def test_identical_densities_give_js_zero_and_v_minus_log4():
    a, b, x = _pair(0, 1, 0, 1)
    p, q = a.pdf(x), b.pdf(x)
    assert onedim.js_divergence(p, q, x) == pytest.approx(0.0, abs=1e-12)
    assert onedim.v_star(p, q, x) == pytest.approx(-1.386294, abs=1e-5)
    assert onedim.v_of_d(np.full_like(x, 0.5), p, q, x) == pytest.approx(-LOG4, abs=1e-5)
    np.testing.assert_allclose(onedim.d_star(p, q), 0.5)


def test_far_apart_densities_saturate_js_at_ln2():
    a, b, x = _pair(0, 1, 20, 1)
    p, q = a.pdf(x), b.pdf(x)
    assert onedim.js_divergence(p, q, x) == pytest.approx(math.log(2), abs=1e-3)
    assert onedim.v_star(p, q, x) == pytest.approx(0.0, abs=1e-3)  # -log 4 + 2 ln 2 = 0


def test_v_of_d_is_largest_at_d_star():
    a, b, x = _pair(0, 1, 1, 1)
    p, q = a.pdf(x), b.pdf(x)
    best = onedim.v_of_d(onedim.d_star(p, q), p, q, x)
    assert best == pytest.approx(onedim.v_star(p, q, x), abs=1e-9)
    for other in (np.full_like(x, 0.5), np.clip(onedim.d_star(p, q) + 0.05, 0, 0.999)):
        assert onedim.v_of_d(other, p, q, x) < best - 1e-4


@pytest.mark.parametrize("m2, s2", [(1.0, 1.0), (0.0, 2.0), (2.5, 0.7)])
def test_js_matches_an_independent_fine_quadrature(m2, s2):
    a, b, x = _pair(0, 1, m2, s2)  # the default 4,001-point grid
    js = onedim.js_divergence(a.pdf(x), b.pdf(x), x)
    fine = np.linspace(-30, 30, 200_001)
    p, q = a.pdf(fine), b.pdf(fine)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = 0.5 * np.nan_to_num(p * np.log(p / m)) + 0.5 * np.nan_to_num(q * np.log(q / m))
    assert js == pytest.approx(np.trapezoid(integrand, fine), abs=1e-6)


@pytest.mark.parametrize("m1, m2", [(0.0, 1.0), (-2.0, 3.5), (1.0, 1.0)])
def test_w1_between_equal_sigma_gaussians_is_the_mean_shift(m1, m2):
    a, b, x = _pair(m1, 1.0, m2, 1.0)
    assert onedim.w1_from_cdfs(a.cdf(x), b.cdf(x), x) == pytest.approx(abs(m1 - m2), abs=1e-3)


@pytest.mark.parametrize("sigma", [2.0, 0.5])
def test_w1_between_n01_and_n0sigma(sigma):
    a, b, x = _pair(0.0, 1.0, 0.0, sigma)
    expected = abs(sigma - 1) * math.sqrt(2 / math.pi)  # 0.797885 for σ = 2
    assert onedim.w1_from_cdfs(a.cdf(x), b.cdf(x), x) == pytest.approx(expected, abs=1e-3)


def test_optimal_critic_attains_w1():
    a, b, x = _pair(0.0, 1.0, 1.5, 0.6)
    f = onedim.optimal_critic(a.cdf(x), b.cdf(x), x)
    assert np.abs(np.diff(f) / np.diff(x)).max() <= 1 + 1e-9  # 1-Lipschitz
    gap = np.trapezoid(f * a.pdf(x), x) - np.trapezoid(f * b.pdf(x), x)  # E_data f - E_g f
    assert gap == pytest.approx(onedim.w1_from_cdfs(a.cdf(x), b.cdf(x), x), abs=1e-3)


def test_kde_of_normal_samples_near_the_true_pdf():
    rng = np.random.default_rng(0)
    samples = rng.standard_normal(20_000)
    true0 = 1 / math.sqrt(2 * math.pi)  # 0.398942
    assert onedim.kde(samples, np.array([0.0]))[0] == pytest.approx(true0, abs=0.02)
    assert onedim.kde(samples, np.array([0.0]), "silverman")[0] == pytest.approx(true0, abs=0.02)
    # the binned path on an even grid agrees with the direct sum
    x = onedim.grid(-5, 5, 1001)
    direct = onedim.kde(samples[:2000], x[None, :]).ravel()
    np.testing.assert_allclose(onedim.kde(samples[:2000], x), direct, atol=2e-4)
    assert np.trapezoid(onedim.kde(samples, x), x) == pytest.approx(1.0, abs=1e-3)


def test_kde_of_a_collapsed_generator_keeps_mass_one():
    x = onedim.grid(-5, 5, 1001)
    spike = onedim.kde(np.full(2500, 0.123), x)
    assert np.trapezoid(spike, x) == pytest.approx(1.0, abs=1e-6)
    assert x[spike.argmax()] == pytest.approx(0.12, abs=0.011)


def test_histogram_density_and_empirical_cdf():
    rng = np.random.default_rng(1)
    samples = rng.uniform(-1, 1, 10_000)
    x = onedim.grid(-2, 2, 401)
    hist = onedim.histogram_density(samples, x, bins=40)
    assert hist[200] == pytest.approx(0.5, abs=0.05) and hist[10] == 0.0
    np.testing.assert_allclose(onedim.empirical_cdf(np.array([0.0, 1.0]), np.array([-1, 0, 0.5, 2])), [0, 0.5, 0.5, 1])


def test_mixture_builder():
    p = onedim.mixture([-1.0, 2.0], [0.5, 1.0], [3.0, 1.0])
    assert p.weights == (0.75, 0.25)
    x = onedim.covering_grid(p)
    assert np.trapezoid(p.pdf(x), x) == pytest.approx(1.0, abs=1e-5)
    assert onedim.mixture([0.0, 5.0], [1.0, 1.0], [1.0, 0.0]).means == (0.0,)  # weight 0 dropped
    with pytest.raises(ValueError):
        onedim.mixture([0.0], [0.0])


@pytest.mark.parametrize("name", toys.NAMES_1D)
def test_each_data_toy_against_itself_is_at_equilibrium(name):
    toy = toys.TOYS_1D[name]
    x = onedim.covering_grid(toy, n=20001)
    p = toy.pdf(x)
    assert onedim.js_divergence(p, p, x) == 0.0
    assert onedim.v_star(p, p, x) == pytest.approx(-LOG4, abs=3e-3)  # uniform: its jumps cost O(dx)
