"""The GAN trainer's one-op losses (gan_demo.train.gan.ONE_OP_D_LOSS / ONE_OP_G_LOSS): the same values
and gradients as the loss's own terms (gan_demo.losses), to float32 rounding, and a run that follows
the terms path."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from gan_demo import losses, presets
from gan_demo.train import GanTrainer
from gan_demo.train.gan import ONE_OP_D_LOSS, ONE_OP_G_LOSS


def _logits(n: int) -> torch.Tensor:
    torch.manual_seed(0)
    # ordinary logits, and far out where softplus is e^-|l| or |l|: 1e-30 vs 0 would show
    return torch.cat([3 * torch.randn(n - 4), torch.tensor([60.0, -60.0, 15.0, -15.0])])


@pytest.mark.parametrize("name", ["non-saturating", "minimax", "lsgan"])
def test_one_op_d_loss_is_the_sum_of_the_terms_with_the_same_gradient(name):
    loss = losses.get(name)
    one_op = ONE_OP_D_LOSS[loss.d_terms]
    n = 64
    logits = _logits(2 * n).requires_grad_()
    target = torch.cat([torch.ones(n), torch.zeros(n)])
    real_term, fake_term = loss.d_terms(logits[:n], logits[n:])
    terms = real_term + fake_term
    fused = one_op(logits, target)
    assert fused.item() == pytest.approx(terms.item(), rel=1e-6)
    (g_terms,) = torch.autograd.grad(terms, logits)
    (g_fused,) = torch.autograd.grad(fused, logits)
    assert (g_terms - g_fused).abs().max().item() <= 1e-6 * g_terms.abs().max().item()
    # by hand, at the first real and the first fake logit: BCE's d/dl of E[softplus(-l_r)] is
    # -σ(-l)/n, of E[softplus(l_f)] σ(l)/n; least squares' (l_r - 1)/n and l_f/n
    l_r, l_f = logits[0].item(), logits[n].item()
    sig = lambda v: 1 / (1 + torch.exp(torch.tensor(-v)).item())  # noqa: E731
    expected = (-sig(-l_r) / n, sig(l_f) / n) if loss.family == "bce" else ((l_r - 1) / n, l_f / n)
    assert (g_fused[0].item(), g_fused[n].item()) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("name", ["non-saturating", "lsgan"])
def test_one_op_g_loss_is_the_loss_with_the_same_gradient(name):
    loss = losses.get(name)
    logits = _logits(64).requires_grad_()
    own, fused = loss.g_loss(logits), ONE_OP_G_LOSS[loss.g_loss](logits, torch.ones(64))
    assert fused.item() == pytest.approx(own.item(), rel=1e-6)
    (g_own,) = torch.autograd.grad(own, logits)
    (g_fused,) = torch.autograd.grad(fused, logits)
    assert (g_own - g_fused).abs().max().item() <= 1e-6 * g_own.abs().max().item()


def test_only_the_losses_written_as_one_op_take_it():
    assert set(ONE_OP_D_LOSS) == {losses.bce_d_terms, losses.lsgan_d_terms}
    assert set(ONE_OP_G_LOSS) == {losses.non_saturating_g_loss, losses.lsgan_g_loss}
    for name, d, g in [("non-saturating", True, True), ("minimax", True, False), ("lsgan", True, True),
                       ("hinge", False, False), ("wgan-gp", False, False)]:  # fmt: skip
        cfg = dataclasses.replace(presets.get("healthy-lsgan").config(), loss=name, steps=10, device="cpu")
        trainer = GanTrainer(cfg)
        assert trainer._one_op
        assert (trainer.loss.d_terms in ONE_OP_D_LOSS, trainer.loss.g_loss in ONE_OP_G_LOSS) == (d, g), name
    # toys keep the terms (their presets' outcomes were measured on them)
    toy = GanTrainer(dataclasses.replace(presets.get("healthy-mix2").config(), steps=10, device="cpu"))
    assert toy.config.loss == "non-saturating" and not toy._one_op


def test_a_loss_replaced_after_construction_is_the_one_trained():
    # the one-op loss is looked up on each step: a trainer built for LSGAN whose loss is then set to
    # non-saturating trains non-saturating, exactly as one built for it (same seed, same draws)
    base = dataclasses.replace(presets.get("healthy-lsgan").config(), steps=10, device="cpu", seed=0)
    swapped, built = GanTrainer(base), GanTrainer(dataclasses.replace(base, loss="non-saturating"))
    swapped.loss = losses.get("non-saturating")
    for _ in range(3):
        x, y = swapped.step(), built.step()
        assert x == y


@pytest.mark.parametrize("preset", ["healthy-lsgan", "healthy-non-saturating"])
def test_a_run_with_the_one_op_losses_follows_the_terms_path(preset):
    cfg = dataclasses.replace(presets.get(preset).config(), steps=100, device="cpu", seed=0, log_every=1)
    fused, terms = GanTrainer(cfg), GanTrainer(cfg)
    terms._one_op = False
    assert fused._one_op
    rows = [(fused.step(), terms.step())]
    a, b = fused.state_tensors(), terms.state_tensors()
    for key in a:  # after one step: the same weights up to rounding
        if key in ("G.project.0.bias", "G.net.0.bias"):  # a BatchNorm follows: gradient 0 up to rounding,
            assert (a[key] - b[key]).abs().max().item() <= 2 * cfg.lr_g  # which Adam scales to about lr
        else:
            assert (a[key] - b[key]).abs().max().item() <= 1e-4 * max(b[key].abs().max().item(), 1e-3), key
    rows += [(fused.step(), terms.step()) for _ in range(19)]
    for x, y in rows:  # 20 steps: the same metrics to 1e-4; L_D is the sum of its terms on both paths
        for name in ("loss_d", "loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake", "d_fake_g", "grad_d",
                     "grad_g"):  # fmt: skip
            assert x[name] == pytest.approx(y[name], abs=1e-4, rel=1e-4), (x["step"], name)
        assert x["loss_d"] == pytest.approx(x["loss_d_real"] + x["loss_d_fake"], abs=1e-6)
    # a step without metrics takes the same path: the next logged row still matches
    fused.step(with_metrics=False), terms.step(with_metrics=False)
    x, y = fused.step(), terms.step()
    assert x["loss_d"] == pytest.approx(y["loss_d"], abs=1e-4) and x["loss_g"] == pytest.approx(y["loss_g"], abs=1e-4)
