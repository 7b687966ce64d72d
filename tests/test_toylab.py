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
from gan_demo.training import Trainer


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


@pytest.fixture(autouse=True)
def _one_thread():
    # the shared 2-core machine: two intra-op threads competing with other jobs run ~20x slower
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _trainer(loss: str, data: str = "ring8", **kw) -> Trainer:
    return Trainer(TrainConfig.for_loss(loss, data, device="cpu", steps=50, **kw))


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
