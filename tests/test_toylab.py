"""Tests for gan_demo.toylab: D's heatmap, G's gradient field on a known critic, the snapshots, and a
short seeded 1-D run whose JS divergence to p_data falls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from gan_demo import toylab, toys
from gan_demo.config import TrainConfig
from gan_demo.train import GanTrainer


class LinearCritic(nn.Module):
    """D(x) = w·x, returning shape (N,) like the app's discriminators."""

    def __init__(self, w: list[float]):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w


class PackedLinear(nn.Module):
    """D(x_1..x_pack) = w·concat(x_1..x_pack), as the app's MLP critic packs its input."""

    def __init__(self, w: list[float], pack: int):
        super().__init__()
        self.pack = pack
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0] // self.pack, -1) @ self.w


class FirstColumn(nn.Module):
    """G(z) = z[:, :1]: with z ~ N(0, I), its samples are exactly N(0, 1), p_data of "gaussian"."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, :1]


class ModeCentres(nn.Module):
    """A 'generator' that puts sample i exactly on mode i mod K."""

    def __init__(self, modes):
        super().__init__()
        self.register_buffer("modes", torch.tensor(modes, dtype=torch.float32))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.modes[torch.arange(len(z)) % len(self.modes)]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny networks, one intra-op thread


def _trainer(loss: str, data: str = "ring8", **kw) -> GanTrainer:
    return GanTrainer(TrainConfig.for_loss(loss, data, device="cpu", steps=50, **kw))


@pytest.mark.parametrize("loss", ["wgan", "hinge", "wgan-gp"])
def test_g_field_of_a_linear_critic_is_plus_w_everywhere(loss):
    # critic G losses are L_G = -mean D(x): -∇_x L_G per point = +w, the unit vector is w/||w||
    trainer = _trainer(loss)
    trainer.D = LinearCritic([3.0, -4.0])
    pts = np.random.default_rng(0).uniform(-2, 2, (50, 2)).astype(np.float32)
    np.testing.assert_allclose(toylab.g_field(trainer, pts), np.tile([0.6, -0.8], (50, 1)), atol=1e-6)
    np.testing.assert_allclose(toylab.g_field(trainer, pts, normalize=False), np.tile([3.0, -4.0], (50, 1)), atol=1e-5)


def test_g_field_non_saturating_scales_with_one_minus_sigma():
    # L_G = softplus(-w·x): -∇_x = (1 - σ(w·x))·w, so the arrow is shorter where D already says "real"
    trainer = _trainer("non-saturating")
    trainer.D = LinearCritic([1.0, 0.0])
    pts = np.array([[-2.0, 0.0], [0.0, 0.0], [2.0, 0.0]], dtype=np.float32)
    raw = toylab.g_field(trainer, pts, normalize=False)
    sig = 1 / (1 + np.exp(-pts[:, 0]))
    np.testing.assert_allclose(raw[:, 0], 1 - sig, atol=1e-6)
    np.testing.assert_allclose(raw[:, 1], 0.0, atol=1e-7)


def test_g_field_with_packing_packs_each_point_with_itself():
    # D sees (x, x) packed: D = [1, 2, 3, 4]·(x1, x2, x1, x2), so ∇_x D = (1 + 3, 2 + 4)
    trainer = _trainer("hinge", pack=2)
    trainer.D = PackedLinear([1.0, 2.0, 3.0, 4.0], pack=2)
    pts = np.zeros((5, 2), dtype=np.float32)
    np.testing.assert_allclose(toylab.g_field(trainer, pts, normalize=False), np.tile([4.0, 6.0], (5, 1)), atol=1e-5)


def test_d_heatmap_shape_and_orientation():
    trainer = _trainer("wgan")
    trainer.D = LinearCritic([1.0, 0.0])  # raw critic = x coordinate
    xs, ys, values = toylab.d_heatmap(trainer, (-1.0, 3.0, -2.0, 2.0), n=40)
    assert xs.shape == ys.shape == (40,) and values.shape == (40, 40)
    np.testing.assert_allclose(values[7], xs, atol=1e-6)  # each row runs along x
    xs, ys, values = toylab.d_heatmap(_trainer("non-saturating"), 2.0, n=16)
    assert values.shape == (16, 16) and xs[0] == -2.0 and ys[-1] == 2.0
    assert ((values > 0) & (values < 1)).all()  # σ(logit) for a BCE loss


def test_arrow_segments_keep_relative_length():
    xs, ys = toylab.arrow_segments(np.zeros((2, 2)), np.array([[2.0, 0.0], [0.0, 1.0]]), length=0.5)
    np.testing.assert_array_equal(xs, [0.0, 0.5, np.nan, 0.0, 0.0, np.nan])  # NaN breaks the line
    np.testing.assert_array_equal(ys, [0.0, 0.0, np.nan, 0.0, 0.25, np.nan])


def test_snapshot_2d_on_exact_mode_centres_captures_all_modes():
    trainer = _trainer("non-saturating", "ring8")
    trainer.G = ModeCentres(toys.TOYS_2D["ring8"].modes)
    snap = toylab.snapshot_2d(trainer)
    assert snap["captured"] == 8 and snap["n_modes"] == 8 and snap["high_quality"] == 1.0
    assert sum(snap["counts"]) == 2500 and snap["counts"][0] == 313  # 2,500 = 4 × 313 + 4 × 312
    assert snap["dominant"] == 0
    assert snap["points"].shape == (500, 2) and snap["arrows"].shape == (500, 2)
    assert snap["hz"].shape == (toylab.HEATMAP_N, toylab.HEATMAP_N)


def test_snapshot_2d_collapsed_generator_and_a_mode_free_toy():
    trainer = _trainer("non-saturating", "grid25")
    trainer.G = ModeCentres([toys.TOYS_2D["grid25"].modes[7]])
    snap = toylab.snapshot_2d(trainer)
    assert (snap["captured"], snap["n_modes"], snap["dominant"]) == (1, 25, 7)
    snap = toylab.snapshot_2d(_trainer("non-saturating", "moons"))
    assert "captured" not in snap and snap["points"].shape == (500, 2)


def test_snapshot_1d_on_a_generator_that_samples_p_data():
    trainer = _trainer("non-saturating", "gaussian")
    trainer.G = FirstColumn()
    snap = toylab.snapshot_1d(trainer)
    assert snap["js"] < 0.005 and snap["w1"] < 0.05
    assert abs(snap["v_star"] - (-math.log(4) + 2 * snap["js"])) < 1e-4
    core = np.abs(snap["x"]) < 1.5
    assert np.abs(snap["d_star"][core] - 0.5).max() < 0.05
    assert snap["d_learned"].shape == snap["x"].shape and snap["family"] == "bce"


def test_snapshot_1d_per_loss_optimum():
    hinge = toylab.snapshot_1d(_trainer("hinge", "mix2"))
    assert set(np.unique(hinge["d_opt"])) <= {-1.0, 0.0, 1.0}
    critic = toylab.snapshot_1d(_trainer("wgan", "mix2"))
    slopes = np.diff(critic["d_opt"]) / np.diff(critic["x"])
    assert np.abs(slopes).max() <= 1 + 1e-3


def test_short_seeded_run_lowers_js():
    # measured (1 thread): JS 0.6931 -> 0.259 / 0.467 / 0.352 / 0.228 after 50 / 150 / 300 / 400 steps
    # (400 steps ~1 s); G first jumps to one mode, then spreads over both
    trainer = _trainer("non-saturating", "mix2")
    before = toylab.snapshot_1d(trainer)
    for _ in range(400):
        trainer.step(with_metrics=False)
    after = toylab.snapshot_1d(trainer)
    assert before["js"] == pytest.approx(math.log(2), abs=1e-3)  # G starts as a spike between the modes
    assert after["js"] < before["js"] - 0.4


def test_figures_put_each_curve_on_its_axis():
    from gan_demo import onedim

    c = onedim.compare(toys.TOYS_1D["gaussian"], onedim.mixture([2.0], [1.0]))
    bce = toylab.explore_figure(c, "bce", uirevision="u")
    assert [t.yaxis for t in bce.data] == ["y", "y", "y2", "y2"] and bce.layout.uirevision == "u"
    wgan = toylab.explore_figure(c, "wgan", uirevision="u")
    assert "W1 = 2.0000" in wgan.data[1].name and wgan.data[1].fill == "tonexty"
    assert set(np.unique(wgan.data[2].y)) <= {-1.0, 0.0, 1.0}  # the critic's slope
    snap = toylab.snapshot_1d(_trainer("wgan-gp", "mix2"))
    fig = toylab.train_1d_figure(snap, uirevision="t")
    assert [t.yaxis for t in fig.data] == ["y", "y", "y2", "y3"]  # the raw critic gets its own axis
    assert fig.layout.yaxis.range[1] <= 1.15 * 2.5 * snap["p_data"].max() + 1e-6  # G's spike is capped


# ---------------------------------------------------------------- issue 12, items 3-5: the 1-D snapshot's numbers
class Sampler(nn.Module):
    """A perfect G: it ignores z and returns fresh samples of the toy (seeded), optionally shifted."""

    def __init__(self, toy: toys.Toy1D, shift: float = 0.0, seed: int = 123):
        super().__init__()
        self.toy, self.shift, self.seed = toy, shift, seed

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.toy.sample(len(z), torch.Generator().manual_seed(self.seed)) + self.shift


class Constant(nn.Module):
    """G(z) = values[i mod len(values)]: a G that sits wherever the test puts it."""

    def __init__(self, values):
        super().__init__()
        self.register_buffer("values", torch.as_tensor(values, dtype=torch.float32).reshape(-1, 1))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.values[torch.arange(len(z)) % len(self.values)]


# A perfect G's JS with 2,500 samples (measured, docs/onedim.md): N(0, 1) 0.0006, mix2 0.0011, mix3 0.0015,
# uniform 0.0043; Scott's bandwidth on G's samples (the old estimator) read 0.05 on mix2.
PERFECT_JS_BOUND = {"gaussian": 0.003, "mix2": 0.003, "mix3": 0.003, "uniform": 0.006}


@pytest.mark.parametrize("name", toys.NAMES_1D)
def test_snapshot_1d_of_a_perfect_generator_reads_js_near_zero_and_d_star_near_half(name):
    toy = toys.TOYS_1D[name]
    trainer = _trainer("non-saturating", name)
    trainer.G = Sampler(toy)
    snap = toylab.snapshot_1d(trainer)
    assert snap["js"] < PERFECT_JS_BOUND[name] and snap["js_floor"] < PERFECT_JS_BOUND[name]
    assert abs(snap["v_star"] - (-math.log(4) + 2 * snap["js"])) < 1e-4
    # D* within a band of ½ where p_data has mass (≥ ¼ of its peak; a uniform: ≥ 3h inside its edges,
    # where any KDE halves the density). The KDE's relative noise sqrt(0.28/(n·h·p)) makes D*'s standard
    # deviation about 0.03 at a quarter of mix3's peak, 0.035 on the uniform: the bands are 4-6 of those.
    x, h = snap["x"], snap["bandwidth"]
    mass = snap["p_data"] >= 0.25 * snap["p_data"].max()
    if toy.uniform is not None:
        mass &= (x > toy.uniform[0] + 3 * h) & (x < toy.uniform[1] - 3 * h)
    band = 0.2 if toy.uniform is not None else 0.12
    assert np.abs(snap["d_star"][mass] - 0.5).max() < band
    trainer.G = Sampler(toy, shift=toy.scale)  # one standard deviation off
    assert toylab.snapshot_1d(trainer)["js"] > 10 * PERFECT_JS_BOUND[name]


def test_snapshot_1d_of_a_diverged_generator_far_off_the_grid():
    """Samples at 2.5e4 and beyond (WGAN without clipping, lr 0.1, mix2): the plot stops at ±30, the numbers
    do not. Old code: JS 0.3466, W1 30, V(D*, G) 0 beside −log 4 + 2·JS = −0.693."""
    far = 2.5e4 + np.abs(np.random.default_rng(0).normal(0.0, 2.6e4, 2500))
    trainer = _trainer("wgan", "mix2", clip=0.0)
    trainer.G = Constant(far)
    snap = toylab.snapshot_1d(trainer)
    assert snap["js"] == pytest.approx(math.log(2), abs=1e-9)
    assert snap["v_star"] == pytest.approx(snap["v_from_js"], abs=1e-9) == pytest.approx(0.0, abs=1e-9)
    assert snap["w1"] == pytest.approx(far.astype(np.float32).astype(np.float64).mean(), rel=1e-6)  # ≈ 4.6e4
    assert snap["shown"] == 0.0 and snap["outside"] == pytest.approx(1.0)


def test_snapshot_1d_of_a_generator_at_25_is_finite_ln2():
    """G at x = 25: p_data = N(0, 1) is 1e-136 there (denormal in the old grid's m) and p_g is 0 at 0:
    the old code gave JS = inf. Right: JS = ln 2, W1 = 25."""
    trainer = _trainer("non-saturating", "gaussian")
    trainer.G = Constant([25.0])
    snap = toylab.snapshot_1d(trainer)
    assert snap["js"] == pytest.approx(math.log(2), abs=1e-9) and snap["w1"] == pytest.approx(25.0, abs=1e-9)


def test_snapshot_1d_reports_the_critics_steepest_slope():
    """−L_D ≤ K·W1 for a K-Lipschitz critic. A linear critic D(x) = 0.003·x has K = 0.003 exactly."""
    trainer = _trainer("wgan", "mix2")
    trainer.D = LinearCritic([0.003])
    snap = toylab.snapshot_1d(trainer)
    assert snap["critic_slope"] == pytest.approx(0.003, rel=1e-3)
    assert "critic_slope" not in toylab.snapshot_1d(_trainer("hinge", "mix2"))


def test_js_history_chart_draws_the_perfect_g_floor():
    fig = toylab.history_figure([0, 10], ("JS", [0.6, 0.1]), ("W1", [3.0, 1.0]), 10, "u", [0, 0.71],
                                left_floor=(0.0011, "perfect G, 2,500 samples: JS ≈ 0.0011"))  # fmt: skip
    floor = [s for s in fig.layout.shapes if s.y0 == s.y1 == 0.0011]
    assert len(floor) == 1 and fig.layout.annotations[0].text.endswith("JS ≈ 0.0011")


def test_w1_points_is_exact_for_a_shift_and_ignores_order():
    """W1 between a point set and its translate by v is |v| (the mean gap bounds it below and the
    identity assignment attains it), whatever order the points come in."""
    a = np.random.default_rng(0).normal(size=(256, 2))
    b = (a + [0.3, -0.4])[np.random.default_rng(1).permutation(256)]
    assert toylab.w1_points(a, b) == pytest.approx(0.5, abs=1e-12)
    with pytest.raises(ValueError, match="one shape"):
        toylab.w1_points(a, b[:10])


def test_snapshot_2d_w1_of_a_far_generator_and_the_floor():
    """All of G's points at (100, 0): every assignment costs the same, so W1 = the mean distance from the
    256 data points (seed 0) to (100, 0), about 100. The floor: two draws of ring8 read 0.093 (sd 0.03)."""
    trainer = _trainer("wgan", "ring8")
    trainer.G = ModeCentres([(100.0, 0.0)])
    snap = toylab.snapshot_2d(trainer)
    real = toys.TOYS_2D["ring8"].sample(256, torch.Generator().manual_seed(0)).numpy().astype(np.float64)
    assert snap["w1"] == pytest.approx(np.linalg.norm(real - [100.0, 0.0], axis=1).mean(), rel=1e-6)
    assert 0.03 < snap["w1_floor"] < 0.2
