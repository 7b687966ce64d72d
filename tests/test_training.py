"""The trainer: exact repeats, real learning on a 1-D toy, every loss on ring8, images, D frozen
during G's update, WGAN clipping, and checkpoints."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from gan_demo import checkpoints, losses, models, toys
from gan_demo.config import TrainConfig
from gan_demo.train import Draws, GanTrainer, cpu_threads, fastpath, is_finite, loop, scalar_grads

BASE = ["step", "loss_d", "loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake", "d_fake_g",
        "d_acc", "grad_d", "grad_g"]  # fmt: skip


def toy_trainer(loss: str = "non-saturating", data: str = "ring8", **kw) -> GanTrainer:
    kw = {"hidden": 32, "batch_size": 64, "device": "cpu", **kw}
    return GanTrainer(TrainConfig.for_loss(loss, data, **kw))


def run(trainer: GanTrainer, steps: int) -> list[dict[str, float]]:
    return [trainer.step() for _ in range(steps)]


def test_seeded_run_repeats_exactly_and_another_seed_differs():
    a = run(toy_trainer(seed=3), 20)
    b = run(toy_trainer(seed=3), 20)
    c = run(toy_trainer(seed=4), 20)
    assert a == b  # every metric of every step, bit for bit
    assert a[-1]["loss_d"] != c[-1]["loss_d"]


def test_seeded_image_run_repeats_exactly():
    a, b = (GanTrainer(TrainConfig(data="digits", hidden=32, seed=1, device="cpu")) for _ in range(2))
    run(a, 5), run(b, 5)
    assert torch.equal(a.fixed_samples(), b.fixed_samples())


def _w1_to_target(samples: np.ndarray, toy: toys.Toy1D) -> float:
    """W1 = ∫ |F_G(x) - F_data(x)| dx with G's empirical CDF (trapezoid on a fine grid)."""
    x = np.sort(samples.ravel().astype(np.float64))
    grid = np.linspace(min(x[0], -6.0), max(x[-1], 6.0), 40_001)
    f_g = np.searchsorted(x, grid, side="right") / len(x)
    return float(np.trapezoid(np.abs(f_g - toy.cdf(grid)), grid))


def test_short_run_learns_the_1d_gaussian():
    # G starts as a near-point mass close to 0, so W1 ≈ E|X| = sqrt(2/π) ≈ 0.80 for X ~ N(0, 1).
    # With the default toy config, G matches mean 0 and std 1 after ~1,000 steps (measured W1 0.05
    # at 1,200 steps with seed 0); 0.15 is five times below the start, and three times above the
    # sampling noise of 2,500 samples (W1 of 2,500 true samples to N(0, 1) is about 0.02).
    toy = toys.get("gaussian")
    trainer = GanTrainer(TrainConfig.for_loss("non-saturating", "gaussian", seed=0, device="cpu"))
    start = _w1_to_target(trainer.sample(2500).numpy(), toy)
    for _ in range(1200):
        trainer.step(with_metrics=False)
    end = _w1_to_target(trainer.sample(2500).numpy(), toy)
    assert start > 0.6
    assert end < 0.15


def test_w1_helper_on_true_samples():
    toy = toys.get("gaussian")
    true = toy.sample(2500, torch.Generator().manual_seed(0)).numpy()
    assert _w1_to_target(true, toy) < 0.05
    assert _w1_to_target(true + 0.5, toy) == pytest.approx(0.5, abs=0.05)  # a shift of 0.5


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_short_image_run(model):
    trainer = GanTrainer(TrainConfig(data="digits", model=model, hidden=32, device="cpu"))
    rows = run(trainer, 20)
    assert all(is_finite(r) for r in rows)
    samples = trainer.fixed_samples()
    assert samples.shape == (64, 1, 8, 8)
    assert samples.min() >= -1.0 and samples.max() <= 1.0


@pytest.mark.parametrize("name", losses.NAMES)
def test_each_loss_runs_on_ring8_with_the_documented_metrics(name):
    trainer = toy_trainer(name)
    rows = run(trainer, 5)
    expected = list(BASE)
    if trainer.config.gp_weight > 0:
        expected += ["gp", "gp_norm"]
    if losses.get(name).family == "wgan":
        expected += ["w1"]
    if trainer.config.clip > 0:
        expected += ["clip_frac"]
    assert list(trainer.metric_names) == expected
    for i, row in enumerate(rows, start=1):
        assert list(row) == expected
        assert row["step"] == i
        assert is_finite(row)
    assert 0.0 <= rows[-1]["d_acc"] <= 1.0
    if losses.get(name).family == "wgan":
        assert rows[-1]["w1"] == pytest.approx(-rows[-1]["loss_d"])


def test_metrics_only_on_asked_steps():
    trainer = toy_trainer()
    assert trainer.step(with_metrics=False) is None
    assert trainer.step()["step"] == 2


def test_wgan_clipping_keeps_every_d_weight_in_bounds():
    trainer = toy_trainer("wgan")
    c = trainer.config.clip
    assert max(p.abs().max().item() for p in trainer.D.parameters()) > 10 * c  # initial weights
    row = run(trainer, 3)[-1]
    for p in trainer.D.parameters():
        assert p.abs().max().item() <= c
    assert 0.0 < row["clip_frac"] <= 1.0


def test_g_update_leaves_d_unchanged_and_no_gradient_is_kept():
    trainer = toy_trainer()
    run(trainer, 2)
    after_d_update: list[torch.Tensor] = []
    d_apply = trainer.opt_d.apply

    def apply_then_record(grads):  # D's weights as D's own update left them
        d_apply(grads)
        after_d_update[:] = [p.detach().clone() for p in trainer.D.parameters()]

    trainer.opt_d.apply = apply_then_record
    g_before = [p.detach().clone() for p in trainer.G.parameters()]
    trainer.step()
    assert len(after_d_update) == len(list(trainer.D.parameters())) == 8  # 4 linear layers
    for before, p in zip(after_d_update, trainer.D.parameters(), strict=True):
        assert torch.equal(before, p)  # G's update did not move D
        assert p.requires_grad
    assert all(p.grad is None for p in [*trainer.D.parameters(), *trainer.G.parameters()])
    assert any(not torch.equal(a, b) for a, b in zip(g_before, trainer.G.parameters(), strict=True))


def test_instance_noise_falls_linearly_to_zero_in_units_of_the_data_std():
    trainer = GanTrainer(TrainConfig.for_loss("non-saturating", "ring8", steps=100, instance_noise=0.5))
    std = trainer.toy.scale
    assert std == pytest.approx(np.sqrt(0.5 + 0.01**2))  # ring8: modes on the unit circle, σ 0.01
    assert trainer.instance_noise_std() == pytest.approx(0.5 * std)
    run(trainer, 50)
    assert trainer.instance_noise_std() == pytest.approx(0.25 * std)
    run(trainer, 50)
    assert trainer.instance_noise_std() == 0.0
    assert toy_trainer().instance_noise_std() == 0.0  # off by default


@pytest.mark.parametrize("level", [0.0, 0.5])
def test_instance_noise_blurs_what_d_sees_in_both_updates(level):
    """D's step and G's step see the same fakes: without noise D's inputs for them are equal; with
    noise each gets its own draw, so they differ by noise of std √2 · σ. The step works in the
    networks' units (data / std), where σ = 0.5 and ring8's radius is 1 / std."""
    trainer = GanTrainer(TrainConfig.for_loss("non-saturating", "ring8", steps=1000, instance_noise=level))
    seen: list[torch.Tensor] = []
    d_step = trainer._d_step
    trainer._d_step = lambda x: (seen.append(x.detach().clone()), d_step(x))[1]
    trainer.step()
    b, std = trainer.config.batch_size, trainer.toy.scale
    assert [len(x) for x in seen] == [2 * b, b]  # D's update (real and fake), then G's
    real, fake_for_d, fake_for_g = seen[0][:b] * std, seen[0][b:], seen[1]
    diff = (fake_for_g - fake_for_d).flatten()
    off_ring = (real.norm(dim=1) - 1).abs()  # ring8's real points lie within 0.05 of the unit circle
    if level == 0:
        assert torch.equal(fake_for_g, fake_for_d) and off_ring.max() < 0.05
    else:
        assert diff.std().item() == pytest.approx(np.sqrt(2) * 0.5, rel=0.1)
        assert off_ring.mean() > 0.15  # E|N(0, σ²)| along the radius ≈ 0.8 σ std ≈ 0.28


def test_draws_serve_a_block_in_order_and_sample_once_per_block():
    calls = []

    def sample(n):
        calls.append(n)
        return torch.arange(n, dtype=torch.float32) + 1000 * len(calls)

    draws = Draws(sample, batch=3, per_block=4)
    batches = [draws() for _ in range(5)]
    assert calls == [12, 12]  # the fifth batch opened a second block
    assert torch.equal(torch.cat(batches[:4]), torch.arange(12.0) + 1000)
    assert torch.equal(batches[4], torch.tensor([2000.0, 2001.0, 2002.0]))


def test_toy_runs_use_one_thread():
    assert toy_trainer().threads == 1
    assert cpu_threads(TrainConfig(data="digits"), torch.device("cpu")) == 1  # 8x8 images: small too
    assert cpu_threads(TrainConfig(data="fashion-mnist"), torch.device("cpu")) is None  # 28x28: default
    assert cpu_threads(TrainConfig(data="ring8"), torch.device("cuda")) is None


def _count_in_new_thread() -> int:
    seen = []
    t = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    t.start()
    t.join()
    return seen[0]


@pytest.fixture
def two_threads():
    """A process default of 2 torch threads (above the toys' 1, so a leak shows), restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_step_changes_no_thread_count_in_the_caller_or_in_threads_started_during_it(two_threads):
    # torch.set_num_threads also sets the count new threads start with: a Streamlit script thread
    # started during a toy step used to get 1 thread. A step must leave both alone.
    trainer = toy_trainer()
    seen = []
    d_apply = trainer.opt_d.apply
    trainer.opt_d.apply = lambda grads: (seen.append((torch.get_num_threads(), _count_in_new_thread())),
                                         d_apply(grads))  # fmt: skip
    trainer.step()
    assert seen == [(2, 2)]  # in the step: the caller's count, and a thread started now gets 2
    assert torch.get_num_threads() == 2 and _count_in_new_thread() == 2


def test_use_threads_sets_the_calling_threads_count_only(two_threads):
    seen = {}

    def worker():
        seen["returned"] = loop.use_threads(1)
        torch.ones(256, 256) @ torch.ones(256, 256)  # a parallel op: ATen's per-thread init must not undo it
        seen["worker"] = torch.get_num_threads()
        seen["new thread"] = _count_in_new_thread()
        seen["None"] = loop.use_threads(None)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == {"returned": 1, "worker": 1, "new thread": 2, "None": 1}
    assert torch.get_num_threads() == 2 and _count_in_new_thread() == 2


def test_gp_norm_is_per_packed_input(monkeypatch):
    # A linear critic on ring8 with pack 2 whose gradient, in data units, is (1, 0) on each sample of
    # a pack: per packed input ‖∇D(x̂)‖ = √2 and the penalty λ·(√2 − 1)² = 10 × 0.1716 = 1.716; taken
    # per sample it was 1 and 0.
    trainer = toy_trainer("wgan-gp", pack=2, d_steps=1)
    critic = models.MLPDiscriminator((2,), hidden=8, depth=0, pack=2, scale=trainer._data_std)
    with torch.no_grad():  # D sees x / std, so a weight std on x's first coordinate is 1 per data unit
        critic.net[0].weight.copy_(torch.tensor([[1.0, 0.0, 1.0, 0.0]]) * trainer._data_std)
        critic.net[0].bias.zero_()
    trainer.D, trainer._d_step, trainer._d_params = critic, critic.raw, list(critic.parameters())
    trainer.opt_d = trainer._optimizer(critic, trainer.config.lr_d)
    row = trainer.step()
    assert row["gp_norm"] == pytest.approx(math.sqrt(2), rel=1e-5)
    assert row["gp"] == pytest.approx(10 * (math.sqrt(2) - 1) ** 2, rel=1e-4)


# ---------------------------------------------------------------- a non-finite step is caught on every step
ISSUE_12_DIVERGENCE = dict(optimizer="rmsprop", lr_d=1.0, lr_g=1.0, steps=50, log_every=1000)


def test_a_non_finite_step_is_caught_on_a_step_without_metrics():
    # issue 12's case (lsgan, RMSprop, lr 1): at step 2 ‖∇D‖ overflows to inf (L_D 8.4e33); the
    # step is not a logged one, yet it returns its row and names what went non-finite
    trainer = GanTrainer(TrainConfig.for_loss("lsgan", "ring8", **ISSUE_12_DIVERGENCE))
    assert trainer.step(with_metrics=False) is None and trainer.nonfinite is None
    row = trainer.step(with_metrics=False)
    assert row is not None and row["step"] == 2 and math.isinf(row["grad_d"])
    assert all(math.isfinite(row[k]) for k in ("loss_d", "loss_g", "d_real", "d_fake"))
    assert trainer.nonfinite == loop.NonFinite(2, "grad_d", math.inf, "D's update")
    assert str(trainer.nonfinite) == "grad_d became inf at step 2, in D's update"
    trainer.step(with_metrics=False)
    assert trainer.nonfinite.step == 2  # the first one is kept


def test_a_non_finite_earlier_d_update_is_named_with_its_update():
    # WGAN, 5 critic updates per step: a NaN batch in the 2nd D update of step 4 is named there
    trainer = toy_trainer("wgan")
    real, calls = trainer._real, []

    def real_batch():
        calls.append(1)
        batch = real()
        return batch * math.nan if len(calls) == 3 * 5 + 2 else batch

    trainer._real = real_batch
    rows = [trainer.step(with_metrics=False) for _ in range(4)]
    assert rows[:3] == [None, None, None]
    assert rows[3]["step"] == 4
    bad = trainer.nonfinite
    assert (bad.step, bad.name, bad.update) == (4, "loss_d", "D update 2 of 5") and math.isnan(bad.value)


def test_logged_steps_are_the_first_every_log_every_th_and_the_last():
    trainer = toy_trainer(steps=25, log_every=10)
    assert [n for n in range(1, 26) if trainer.logs(n)] == [1, 10, 20, 25]


def test_checkpoint_round_trip_gives_identical_samples(tmp_path):
    trainer = toy_trainer("wgan-gp", seed=5)
    run(trainer, 3)
    path = checkpoints.save(trainer, tmp_path / "run" / "ckpt.safetensors")
    loaded = checkpoints.load(path, device="cpu")
    assert loaded.config == trainer.config
    assert loaded.step_count == 3
    assert torch.equal(loaded.fixed_samples(), trainer.fixed_samples())
    x = torch.linspace(-1, 1, 10).reshape(5, 2)
    assert torch.equal(loaded.d_values(x), trainer.d_values(x))


def test_checkpoint_of_an_image_run(tmp_path):
    trainer = GanTrainer(TrainConfig(data="digits", model="dcgan", hidden=32, device="cpu"))
    run(trainer, 2)
    loaded = checkpoints.load(checkpoints.save(trainer, tmp_path / "c.safetensors"), device="cpu")
    loaded.G.eval(), trainer.G.eval()  # BatchNorm: compare in eval mode, with the running stats
    assert torch.equal(loaded.fixed_samples(), trainer.fixed_samples())


def _bad_files(tmp_path, trainer):
    good = checkpoints.save(trainer, tmp_path / "good.safetensors")
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(raw[: len(raw) // 2])
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"PK\x03\x04 this is a zip file, not safetensors" * 10)
    from safetensors.torch import save_file

    no_meta = tmp_path / "no_meta.safetensors"
    save_file(trainer.state_tensors(), str(no_meta))
    bad_config = tmp_path / "bad_config.safetensors"
    cfg = trainer.config.to_dict() | {"lr_d": -1}
    save_file(trainer.state_tensors(), str(bad_config),
              metadata={"format": checkpoints.FORMAT, "config": str(cfg), "step": "1"})  # fmt: skip
    return {truncated: "safetensors", junk: "safetensors", no_meta: "not a gan_demo checkpoint",
            bad_config: "config", tmp_path / "missing.safetensors": "no such"}  # fmt: skip


def test_corrupt_checkpoint_raises_checkpoint_error_naming_the_file(tmp_path):
    trainer = toy_trainer()
    for path, words in _bad_files(tmp_path, trainer).items():
        with pytest.raises(checkpoints.CheckpointError) as err:
            checkpoints.load(path, device="cpu")
        assert str(path) in str(err.value) and words in str(err.value), str(err.value)
    assert issubclass(checkpoints.CheckpointError, ValueError)


def test_checkpoint_with_an_invalid_config_value(tmp_path):
    import json

    from safetensors.torch import save_file

    trainer = toy_trainer()
    path = tmp_path / "lr.safetensors"
    cfg = json.dumps(trainer.config.to_dict() | {"lr_d": 0})
    save_file(trainer.state_tensors(), str(path), metadata={"format": checkpoints.FORMAT, "config": cfg, "step": "1"})
    with pytest.raises(checkpoints.CheckpointError, match="lr_d"):
        checkpoints.load(path, device="cpu")


def test_fast_adam_matches_torch_adam_bit_for_bit():
    from gan_demo.train import FastAdam

    def make(cls, **kw):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        opt = cls(net.parameters(), lr=1e-2, betas=(0.5, 0.999), **kw)
        return net, opt, torch.optim.lr_scheduler.LambdaLR(opt, lambda t: 1 - t / 10)

    x = torch.randn(16, 3)
    ref, fast, direct = make(torch.optim.Adam, fused=True), make(FastAdam), make(FastAdam)
    for _ in range(6):
        for net, opt, sched in (ref, fast):
            opt.zero_grad(set_to_none=True)
            net(x).pow(2).mean().backward()
            opt.step()
            sched.step()  # the learning rate changes every step
        net, opt, sched = direct  # the trainer's way: gradients passed in, no .grad
        opt.apply(torch.autograd.grad(net(x).pow(2).mean(), list(net.parameters())))
        sched.step()
    assert fast[1]._lists is not None and direct[1]._lists is not None  # the fast path ran
    for a, b, c in zip(ref[0].parameters(), fast[0].parameters(), direct[0].parameters(), strict=True):
        assert torch.equal(a, b) and torch.equal(a, c)
    state = fast[1].state_dict()["state"][0]
    assert state["step"].item() == 6 and torch.equal(state["exp_avg"], ref[1].state_dict()["state"][0]["exp_avg"])


@pytest.mark.parametrize("engine", ["direct", "public"])
def test_scalar_grads_equal_autograd_grad_and_refuse_an_unused_parameter(engine, monkeypatch):
    """Straight on the engine (what the pinned PyTorch runs: the probe finds it) or, where the private
    engine call is missing or changed, through torch.autograd.grad: the same gradients either way."""
    assert fastpath._autograd_engine() is not None
    if engine == "public":
        monkeypatch.setattr(fastpath, "_ENGINE", None)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    params, x = list(net.parameters()), torch.randn(16, 3)
    expected = torch.autograd.grad(net(x).pow(2).mean(), params)
    got = scalar_grads(net(x).pow(2).mean(), params, torch.ones(()))
    assert len(got) == 4 and all(torch.equal(a, b) for a, b in zip(got, expected, strict=True))
    assert all(p.grad is None for p in params)  # returned, not accumulated
    unused = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(RuntimeError, match="not have been used in the graph"):
        scalar_grads(net(x).sum(), [*params, unused], torch.ones(()))


def test_toy_networks_work_on_standardised_data():
    trainer = toy_trainer(data="grid25")
    scale = toys.TOYS_2D["grid25"].scale
    assert trainer.G.scale == trainer.D.scale == pytest.approx(scale)
    z, x = torch.randn(4, trainer.config.z_dim), torch.randn(4, 2)
    with torch.no_grad():
        assert torch.allclose(trainer.G(z), trainer.G.net(z) * scale)  # samples in the data's units
        assert torch.allclose(trainer.D(x), trainer.D.net(x / scale).squeeze(1), atol=1e-6)
        # what a training step calls: the same networks, in their own units (data / scale)
        assert torch.equal(trainer.G.raw(z), trainer.G.net(z)) and scale == pytest.approx(2.83, abs=0.01)
        assert torch.equal(trainer.D.raw(x), trainer.D.net(x).squeeze(1))
    real = trainer._real()
    assert real.std().item() == pytest.approx(1.0, abs=0.15)  # data / std: 2.83 in the data's own units
    image = GanTrainer(TrainConfig(data="digits", hidden=32, device="cpu"))
    assert image.G.scale == image.D.scale == 1.0


@pytest.mark.parametrize("pack", [1, 2])
def test_mlp_forward_by_plan_equals_the_layers_called_in_turn(pack):
    """The MLPs' forward runs F.linear over each Linear's own parameter dict; it gives the output of
    the nn.Sequential called as usual, and follows parameters loaded or replaced after construction."""
    torch.manual_seed(0)
    G, D = models.build("mlp", (2,), z_dim=8, hidden=16, pack=pack, toy=True)
    image_g, _ = models.build("mlp", (1, 8, 8), z_dim=8, hidden=16)  # ends in Tanh
    z, x = torch.randn(6, 8), torch.randn(6, 2)
    with torch.no_grad():
        assert torch.equal(G(z), G.net(z))
        assert torch.equal(D(x), D.net(x.reshape(6 // pack, -1)).squeeze(1))
        assert torch.equal(image_g(z), image_g.net(z).view(-1, 1, 8, 8))
        assert image_g(z).abs().max() <= 1.0
        G.load_state_dict({k: torch.zeros_like(v) for k, v in G.state_dict().items()})
        assert torch.equal(G(z), torch.zeros(6, 2))  # loaded in place: the plan sees it
        G.net[-1].bias = torch.nn.Parameter(torch.tensor([1.0, -2.0]))  # replaced by assignment
        assert torch.equal(G(z), torch.tensor([[1.0, -2.0]]).expand(6, 2))
    with pytest.raises(TypeError, match="Linear layers, each followed by at most one ReLU or Tanh"):
        models._plan(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))


def test_clamp_clips_every_tensor_the_same_with_and_without_the_foreach_kernel(monkeypatch):
    """WGAN's weight clipping: the private ``torch._foreach_clamp_*`` path and the public loop both
    leave every weight in [-0.01, 0.01], equal element for element."""
    torch.manual_seed(0)
    params = [torch.randn(3, 4), torch.randn(5)]
    fast = [p.clone() for p in params]
    fastpath.clamp_(fast, 0.01)
    monkeypatch.delattr(torch, "_foreach_clamp_min_")
    slow = [p.clone() for p in params]
    fastpath.clamp_(slow, 0.01)
    for f, s, p in zip(fast, slow, params, strict=True):
        assert torch.equal(f, s)
        assert float(f.abs().max()) == pytest.approx(0.01) and torch.equal(f, p.clamp(-0.01, 0.01))


def test_private_torch_calls_live_only_in_the_fastpath_module():
    """House rule (architecture.md): every ``torch._*`` call is in gan_demo/train/fastpath.py."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1] / "gan_demo"
    found = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py") if p.name != "fastpath.py"
             for i, line in enumerate(p.read_text().splitlines(), 1) if re.search(r"\btorch\._[a-z]", line)]  # fmt: skip
    assert found == []
