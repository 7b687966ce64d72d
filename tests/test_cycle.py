"""CycleGAN (issue 16): the cycle and identity losses against hand-computed values, the corrected GAN
terms judged by the right discriminator, the mode-mapping readout on hand-placed points, a short
seeded run whose cycle error falls, the config's checks, the CLI's files, and the lessons' claims."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_demo import cli, domains, losses, presets
from gan_demo.config import ConfigError, TrainConfig
from gan_demo.runs import folder as runfolder
from gan_demo.train import CycleTrainer, make_trainer
from gan_demo.translator import Translator

PAIR = "ring8-stretched"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny networks, one intra-op thread


def cycle_config(**overrides) -> TrainConfig:
    return TrainConfig.for_loss(overrides.pop("loss", "non-saturating"), PAIR, objective="cyclegan", **overrides)


# ---------------------------------------------------------------- the losses
def test_cycle_loss_is_the_mean_l1_norm_of_each_cycle():
    x = torch.tensor([[0.0, 0.0], [1.0, 2.0]])
    x_back = torch.tensor([[1.0, -1.0], [1.0, 2.5]])  # rows: |1| + |-1| = 2, 0 + 0.5 = 0.5 -> mean 1.25
    y = torch.tensor([[3.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    y_back = torch.tensor([[0.0, 0.0], [0.0, -0.25], [1.0, 1.0]])  # 3, 0.25, 0 -> mean 3.25 / 3
    forward, backward = losses.cycle_loss(x, x_back, y, y_back)
    assert forward.item() == pytest.approx(1.25)
    assert backward.item() == pytest.approx(3.25 / 3)


def test_identity_loss_compares_each_translator_with_its_own_target_domain():
    x = torch.tensor([[1.0, 1.0]])
    f_of_x = torch.tensor([[1.5, 0.0]])  # F(x) - x: 0.5 + 1 = 1.5
    y = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    g_of_y = torch.tensor([[2.0, 0.0], [0.0, 0.0]])  # G(y) - y: 0, 2 -> mean 1
    g_term, f_term = losses.identity_loss(x, f_of_x, y, g_of_y)
    assert (g_term.item(), f_term.item()) == pytest.approx((1.0, 1.5))


def test_l1_distance_sums_over_every_non_batch_dimension_and_refuses_two_shapes():
    a = torch.zeros(2, 1, 2, 2)
    b = torch.tensor([[[[1.0, -1.0], [0.5, 0.0]]], [[[0.0, 0.0], [0.0, 0.0]]]])  # 2.5 and 0 -> 1.25
    assert losses.l1_distance(b, a).item() == pytest.approx(1.25)
    with pytest.raises(ValueError, match=r"one shape.*\(2, 1, 2, 2\) and \(2, 4\)"):
        losses.l1_distance(a, torch.zeros(2, 4))


# ---------------------------------------------------------------- the right discriminators
def _constant(critic: torch.nn.Module, logit: float) -> None:
    """Make a discriminator output ``logit`` for every input (last layer: zero weights, bias = logit)."""
    last = critic.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(logit)


def test_each_gan_term_is_judged_by_the_discriminator_of_its_target_domain():
    """D_X outputs logit 2 everywhere, D_Y logit -1. G's term is judged by D_Y: softplus(1) = 1.313262;
    F's by D_X: softplus(-2) = 0.126928 (the seed's D_Y(F(y)) would give 1.313262 for F too)."""
    t = CycleTrainer(cycle_config(seed=0, batch_size=8))
    _constant(t.D_X, 2.0)
    _constant(t.D_Y, -1.0)
    x, y = t.pair.sample_x(8, t.gen), t.pair.sample_y(8, t.gen)
    fake_y, fake_x = t.G(x), t.F(y)
    g = t.g_losses(x, y, fake_x, fake_y)
    assert g["loss_gan_g"].item() == pytest.approx(math.log1p(math.exp(1.0)), abs=1e-6)  # 1.313262
    assert g["loss_gan_f"].item() == pytest.approx(math.log1p(math.exp(-2.0)), abs=1e-6)  # 0.126928
    d = t.d_losses(x, y, fake_x, fake_y)  # ℓ_D = softplus(-l_real) + softplus(l_fake), one D per domain
    assert d["loss_d_x"].item() == pytest.approx(math.log1p(math.exp(-2.0)) + math.log1p(math.exp(2.0)), abs=1e-6)
    assert d["loss_d_y"].item() == pytest.approx(math.log1p(math.exp(1.0)) + math.log1p(math.exp(-1.0)), abs=1e-6)


def test_the_backward_cycle_is_g_of_f_of_y():
    """‖G(F(y)) − y‖₁, not the seed's ‖F(G(y)) − y‖₁ (which differs for these untrained nets)."""
    t = CycleTrainer(cycle_config(seed=0, batch_size=16))
    x, y = t.pair.sample_x(16, t.gen), t.pair.sample_y(16, t.gen)
    with torch.no_grad():
        g = t.g_losses(x, y, t.F(y), t.G(x))
        right = losses.l1_distance(t.G(t.F(y)), y).item()
        seed = losses.l1_distance(t.F(t.G(y)), y).item()
        forward = losses.l1_distance(t.F(t.G(x)), x).item()
    assert g["loss_cyc_y"].item() == pytest.approx(right) and abs(right - seed) > 0.1
    assert g["loss_cyc_x"].item() == pytest.approx(forward)
    total = g["loss_gan_g"] + g["loss_gan_f"] + 10.0 * (g["loss_cyc_x"] + g["loss_cyc_y"])  # λ_cyc 10, no identity
    assert g["loss_g"].item() == pytest.approx(total.item()) and "loss_id" not in g


# ---------------------------------------------------------------- the readouts
def test_mode_mapping_on_hand_placed_points():
    modes_y = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x_modes = np.array([0, 0, 1, 1, 2])
    gx = np.array([[0.1, 0.0], [10.0, 0.2], [10.0, -0.1], [50.0, 50.0], [0.0, 9.9]])
    m = domains.mode_mapping(x_modes, gx, modes_y, radius=1.0)
    assert m.tolist() == [[0.5, 0.5, 0.0, 0.0], [0.0, 0.5, 0.0, 0.5], [0.0, 0.0, 1.0, 0.0]]
    empty = domains.mode_mapping(np.array([0]), np.array([[np.nan, 0.0]]), modes_y, 1.0)  # no finite G(x)
    assert empty.tolist() == [[0.0, 0.0, 0.0, 1.0], [0.0] * 4, [0.0] * 4]


def test_readout_of_t_itself_and_of_t_followed_by_a_half_turn():
    pair = domains.get(PAIR)
    x = pair.sample_x(800, torch.Generator().manual_seed(0))
    y = pair.sample_y(800, torch.Generator().manual_seed(1))
    right = domains.readout(pair, x, pair.t(x), x, y, y)
    assert (right.dist_t, right.y_modes, right.cycle_err_x) == (0.0, 8, 0.0)
    # within 3σ of a 2-D Gaussian's centre: 1 − exp(−9/2) = 98.9 % of its samples; the rest land on no mode
    assert right.t_match == pytest.approx(1 - math.exp(-4.5), abs=0.01)
    off = right.mapping[:, :8] - np.diag(np.diag(right.mapping[:, :8]))
    assert not off.any() and np.allclose(right.mapping.sum(1), 1.0)
    turned = domains.readout(pair, x, -pair.t(x), x, y, y)  # one-to-one, each mode to the opposite one
    assert turned.t_match == 0.0 and turned.y_modes == 8
    assert turned.mapping[0, 4] > 0.95 and turned.mapping[3, 7] > 0.95 and turned.mapping[0, :4].sum() == 0
    # ‖−T(x) − T(x)‖ = 2‖T(x)‖: the mean of 2‖T(x)‖ over x, over Y's spread
    assert turned.dist_t == pytest.approx(2 * float(pair.t(x).norm(dim=1).mean()) / pair.spread_y, rel=1e-5)


def test_domain_pair_spreads_and_map():
    pair = domains.get(PAIR)
    assert pair.spread_x == pytest.approx(math.sqrt(1 + 2 * 0.05**2))
    # Y's modes sit at A R x_k: E‖T(m)‖² = (1.25² + 1²) / 2 for modes evenly spread on the unit circle
    assert pair.spread_y == pytest.approx(math.sqrt((1.25**2 + 1) / 2 * (1 + 2 * 0.05**2)), rel=1e-9)
    big = pair.sample_y(200_000, torch.Generator().manual_seed(0))
    assert float((big - big.mean(0)).pow(2).sum(1).mean().sqrt()) == pytest.approx(pair.spread_y, rel=5e-3)
    # each mode of X is nearest to its own image under T (the identity loss's prior picks T)
    d = np.linalg.norm(pair.modes_x[:, None] - pair.modes_y[None], axis=2)
    assert d.argmin(1).tolist() == list(range(8))
    with pytest.raises(ValueError, match="ring8-stretched"):
        domains.get("horses")


# ---------------------------------------------------------------- training
def test_a_short_seeded_run_closes_the_cycle():
    t = make_trainer(cycle_config(seed=0, steps=400, log_every=399))
    assert isinstance(t, CycleTrainer) and t.threads == 1
    rows = [r for i in range(400) if (r := t.step(with_metrics=i in (0, 399))) is not None]
    first, last = rows[0], rows[-1]
    assert first["cycle_err"] > 0.5  # untrained: F(G(x)) far from x (the spread of X is 1)
    assert last["cycle_err"] < 0.1 * first["cycle_err"] and last["cycle_err_y"] < 0.1 * first["cycle_err_y"]
    assert list(last) == list(t.metric_names) and t.nonfinite is None


def test_same_seed_same_run_and_every_loss_variant_trains():
    a, b = (make_trainer(cycle_config(seed=3, steps=5)) for _ in range(2))
    ra, rb = [[t.step() for _ in range(5)][-1] for t in (a, b)]
    assert ra == rb
    for name in losses.NAMES:
        t = make_trainer(cycle_config(loss=name, seed=0, steps=3, lambda_id=1.0))
        rows = [t.step() for _ in range(3)]
        assert all(math.isfinite(v) for v in rows[-1].values()), (name, rows[-1])
        assert ("gp" in rows[-1]) == (t.config.gp_weight > 0) and "loss_id" in rows[-1]


# ---------------------------------------------------------------- config
def test_config_names_what_the_objective_needs():
    with pytest.raises(ConfigError, match="not a domain pair; cyclegan trains on one of: ring8-stretched") as e:
        TrainConfig(objective="cyclegan", data="ring8")
    assert set(e.value.errors) == {"data"}
    with pytest.raises(ConfigError, match="is a domain pair for the cyclegan objective") as e:
        TrainConfig(data=PAIR)
    with pytest.raises(ConfigError) as e:
        cycle_config(pack=2, instance_noise=0.5)
    assert e.value.errors == {"pack": "not used by cyclegan: must be 1, got 2",
                              "instance_noise": "not used by cyclegan: must be 0, got 0.5"}  # fmt: skip
    with pytest.raises(ConfigError, match=r"lambda_cyc: must be in \[0, 1000\], got -1"):
        cycle_config(lambda_cyc=-1.0)
    with pytest.raises(ConfigError, match="objective: 'cycle' is not allowed; choose one of: gan, cgan, cyclegan"):
        TrainConfig(objective="cycle")


# ---------------------------------------------------------------- the command line
def test_cli_writes_the_run_files(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(["train", "--objective", "cyclegan", "--data", PAIR, "--seed", "0", "--out", str(out),
                     "--steps", "30", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["objective"], cfg["data"], cfg["seed"], cfg["steps"]) == ("cyclegan", PAIR, 0, 30)
    inputs, samples = np.load(out / "inputs.npy"), np.load(out / "samples.npy")
    assert inputs.shape == samples.shape == (2500, 2) and inputs.dtype == samples.dtype == np.float32
    # samples.npy is G of each input, in order: rebuild G from the written weights
    tensors = load_file(str(out / "weights.safetensors"))
    assert {k.split(".")[0] for k in tensors} == {"G", "F", "D_X", "D_Y", "fixed_noise"}
    pair = domains.get(PAIR)
    G = Translator(2, cfg["hidden"], pair.spread_x, pair.spread_y)
    G.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("G.")})
    with torch.no_grad():
        assert np.allclose(G(torch.from_numpy(inputs)).numpy(), samples, atol=1e-6)
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"loss_gan_g", "loss_gan_f", "loss_cyc_x", "loss_cyc_y", "cycle_err", "dist_t", "y_modes"} <= set(header)
    assert "Cycle error:" in capsys.readouterr().out
    run = runfolder.load(out)  # the run folder loads (its four networks checked) and samples without data
    assert np.allclose(run.sample(), samples, atol=1e-6)


def test_cli_lists_the_domain_pairs_and_refuses_a_wrong_pair(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    assert "cyclegan: a domain pair X, Y (ring8-stretched, digits-inverted)" in " ".join(capsys.readouterr().out.split())
    code = cli.main(["train", "--objective", "cyclegan", "--data", "digits", "--out", str(tmp_path / "x")])
    assert code == 2 and "'digits' is not a domain pair" in capsys.readouterr().err


# ---------------------------------------------------------------- the lessons
CYCLE_PRESETS = presets.for_page("cyclegan")


def test_the_lessons_are_presets_of_the_page():
    assert [p.name for p in CYCLE_PRESETS] == ["cyclegan-no-cycle", "cyclegan-cycle-not-t", "healthy-cyclegan",
                                               "healthy-cyclegan-digits", "cyclegan-digits-identity",
                                               "cyclegan-digits-no-cycle"]  # fmt: skip
    for p in CYCLE_PRESETS:
        cfg = p.config()
        assert cfg.objective == "cyclegan" and cfg.data == (PAIR if "digits" not in p.name else "digits-inverted")
    assert [p.config().lambda_cyc for p in CYCLE_PRESETS] == [0.0, 10.0, 10.0, 0.3, 10.0, 0.0]
    assert [p.config().lambda_id for p in CYCLE_PRESETS] == [0.0, 0.0, 5.0, 0.0, 0.0, 0.0]
    assert [p.config().model for p in CYCLE_PRESETS[3:]] == ["dcgan", "dcgan", "mlp"]


@pytest.mark.slow
@pytest.mark.parametrize("preset", CYCLE_PRESETS, ids=[p.name for p in CYCLE_PRESETS])
def test_each_lesson_does_what_its_text_says(preset):
    """Train the preset as the app does (metrics every log_every steps) and check every claim."""
    t = make_trainer(preset.config())
    rows = [r for i in range(t.config.steps) if (r := t.step(with_metrics=t.logs(i + 1))) is not None]
    metrics = {n: [r[n] for r in rows] for n in t.metric_names}
    wrong = [f"{c.text}: measured {c.measure(metrics):.4g}" for c in preset.claims if not c.holds(c.measure(metrics))]
    assert not wrong, wrong
