"""Tests for gan_demo.onedim: D*, the JS identity of Goodfellow et al. (2014, Thm 1), W1 and the KDE.

Every expected value is one a reader can check by hand: 3/(3+1), -log 4, ln 2, |μ1-μ2|,
|σ-1|·sqrt(2/π), 1/sqrt(2π).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

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


# ---------------------------------------------------------------- issue 12, item 3: wherever p_g goes
# The 1-D page's sliders: mean in [-8, 8], std in [0.1, 3], weight in [0, 1]; plus a p_g far past them.
SLIDER_SWEEP = [
    *[([m], [s], [1.0]) for m in (-8.0, -2.5, 0.0, 2.0, 8.0) for s in (0.1, 1.0, 3.0)],
    ([-8.0, 8.0], [0.1, 3.0], [0.3, 0.7]),
    ([2.0, -2.0], [1.0, 1.0], [0.5, 0.5]),  # the page's default mixture
    ([-3.0, 3.0], [0.5, 0.5], [0.05, 0.95]),
    ([25.0], [0.1], [1.0]),  # far away and very narrow
    ([-40.0, 60.0], [0.1, 0.2], [0.5, 0.5]),
]


@pytest.mark.parametrize("name", toys.NAMES_1D)
@pytest.mark.parametrize("means, stds, weights", SLIDER_SWEEP, ids=[f"pg{i}" for i in range(len(SLIDER_SWEEP))])
def test_identity_holds_for_every_p_data_and_slider_setting(name, means, stds, weights):
    """Goodfellow 2014, Thm 1: V(D*, G) = −log 4 + 2·JS, both sides integrated independently. On the old
    grid code the uniform at the default sliders (p_g = N(2, 1)) gave −0.72224 against −0.72250."""
    c = onedim.compare(toys.TOYS_1D[name], onedim.mixture(means, stds, weights))
    assert math.isfinite(c.js) and math.isfinite(c.v_star) and math.isfinite(c.w1)
    assert -1e-12 <= c.js <= math.log(2) + 1e-12
    assert abs(c.v_star - (-math.log(4) + 2 * c.js)) < 1e-4
    assert c.v_from_js == pytest.approx(-math.log(4) + 2 * c.js, abs=1e-15)


@pytest.mark.parametrize("name", toys.NAMES_1D)
@pytest.mark.parametrize("mean", [25.0, -30.0, 200.0])
def test_disjoint_supports_give_ln2_and_v_zero(name, mean):
    """p_g = N(25, 0.1²): p_data (N(0, 1): density 1e-136 there, a uniform: 0) and p_g do not overlap.
    The old grid code gave JS = inf for N(0, 1) against G at 25 (a denormal over an m that rounds to 0)."""
    c = onedim.compare(toys.TOYS_1D[name], onedim.mixture([mean], [0.1]))
    assert c.js == pytest.approx(math.log(2), abs=1e-6)  # ln 2 = 0.693147
    assert c.v_star == pytest.approx(0.0, abs=1e-6)


def _uniform(low: float, high: float) -> toys.Toy1D:
    return toys.Toy1D("u", f"U[{low}, {high}]", uniform=(low, high))


@pytest.mark.parametrize("m1, m2, s", [(0.0, 1.0, 1.0), (-3.0, 3.0, 0.5), (0.0, 25.0, 0.1), (-8.0, 8.0, 3.0)])
def test_exact_w1_between_equal_sigma_gaussians_is_the_mean_shift(m1, m2, s):
    c = onedim.compare(onedim.mixture([m1], [s]), onedim.mixture([m2], [s]))
    assert c.w1 == pytest.approx(abs(m2 - m1), abs=1e-6)


@pytest.mark.parametrize("shift", [0.3, -1.0, 3.5, 30.0])
def test_exact_w1_and_js_between_shifted_uniforms(shift):
    """U[−2, 2] against U[−2 + a, 2 + a]: W1 = |a|; JS = (|a|/4)·ln 2 while they overlap (each density
    is 1/4 and alone on a strip of width |a|), ln 2 once they do not."""
    c = onedim.compare(toys.TOYS_1D["uniform"], _uniform(-2.0 + shift, 2.0 + shift))
    assert c.w1 == pytest.approx(abs(shift), abs=1e-6)
    assert c.js == pytest.approx(min(abs(shift) / 4, 1.0) * math.log(2), abs=1e-6)
    assert c.v_star == pytest.approx(-math.log(4) + 2 * c.js, abs=1e-6)


@pytest.mark.parametrize("c", [0.7, 40.0, -2.5e4])
def test_w1_to_samples_all_at_one_point(c):
    """Every sample at c, p_data = N(0, 1): W1 = E|X − c| = c(2Φ(c) − 1) + 2φ(c) (40.0 and −25,000
    lie far outside the plotted range: their distance counts in full)."""
    phi, Phi = math.exp(-0.5 * c * c) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(c / math.sqrt(2)))
    expected = c * (2 * Phi - 1) + 2 * phi  # 0.7 → 0.9659; 40 → 40; −25,000 → 25,000
    assert onedim.w1_to_samples(toys.TOYS_1D["gaussian"], np.full(100, c)) == pytest.approx(expected, rel=1e-7, abs=1e-7)


def test_w1_to_samples_matches_scipy_between_two_samples_of_a_uniform():
    """For p_data uniform on [−2, 2], the 20,000 quantiles −2 + 4(j + ½)/20,000 stand for it to within
    1e-4 in W1; scipy.stats.wasserstein_distance against them must agree with the exact integral."""
    from scipy.stats import wasserstein_distance

    rng = np.random.default_rng(0)
    samples = np.concatenate([rng.normal(1.0, 0.5, 800), rng.normal(60.0, 5.0, 200)])
    quantiles = -2 + 4 * (np.arange(20_000) + 0.5) / 20_000
    exact = onedim.w1_to_samples(toys.TOYS_1D["uniform"], samples)
    assert exact == pytest.approx(wasserstein_distance(samples, quantiles), abs=2e-4)


def test_sample_fit_counts_mass_far_outside_the_grid():
    """A diverged G (samples at 2.5e4 and beyond, as WGAN without clipping at lr 0.1 on mix2): JS = ln 2,
    V(D*, G) = 0 and W1 = the samples' mean distance; the old page read JS 0.3466 and W1 30."""
    samples = 2.5e4 + np.abs(np.random.default_rng(0).normal(0.0, 2.6e4, 2500))
    fit = onedim.sample_fit(toys.TOYS_1D["mix2"], samples)
    assert fit.js == pytest.approx(math.log(2), abs=1e-9) and fit.v_star == pytest.approx(0.0, abs=1e-9)
    assert fit.outside == pytest.approx(1.0, abs=1e-12)
    assert fit.w1 == pytest.approx(samples.mean(), rel=1e-9)  # mix2's mean is 0; every sample is right of it
    with pytest.raises(ValueError, match="finite"):
        onedim.sample_fit(toys.TOYS_1D["mix2"], np.array([0.0, np.inf]))


def test_sample_fit_half_far_counts_half_of_ln2():
    """Half the samples from p_data, half at x = 1e4: p_g = ½p + ½(far spike). Near p_data, m = ¾p, so
    p log(p/m) = p ln(4/3) and q log(q/m) = ½p ln(2/3); far, q log(q/m) = ½ ln 2. Hence
    JS = ½[ln(4/3) + ½ ln(2/3) + ½ ln 2] = 0.2158."""
    toy = toys.TOYS_1D["mix2"]
    near = toy.sample(20_000, torch.Generator().manual_seed(0)).numpy().ravel()
    samples = np.concatenate([near, np.full(20_000, 1e4)])
    expected = 0.5 * (math.log(4 / 3) + 0.5 * math.log(2 / 3) + 0.5 * math.log(2))
    assert onedim.sample_fit(toy, samples).js == pytest.approx(expected, abs=3e-3)  # the KDE's own error: ~5e-4
