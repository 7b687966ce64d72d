"""The six losses against hand-computed values, their equilibria, gradients, and the gradient penalty."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gan_demo import losses, models

REAL = torch.tensor([2.0, -1.0])  # D's logits on two real samples
FAKE = torch.tensor([0.5, -3.0])  # ... and on two fakes


def sp(x: float) -> float:
    """softplus(x) = ln(1 + e^x), by hand."""
    return math.log(1.0 + math.exp(x))


# (loss, expected real term, expected fake term, expected L_G), each written out by hand
HAND = {
    "minimax": ((sp(-2) + sp(1)) / 2, (sp(0.5) + sp(-3)) / 2, -(sp(0.5) + sp(-3)) / 2),
    "non-saturating": ((sp(-2) + sp(1)) / 2, (sp(0.5) + sp(-3)) / 2, (sp(-0.5) + sp(3)) / 2),
    "wgan": (-(2 - 1) / 2, (0.5 - 3) / 2, -(0.5 - 3) / 2),
    "wgan-gp": (-0.5, -1.25, 1.25),
    "hinge": ((0 + 2) / 2, (1.5 + 0) / 2, 1.25),  # relu(1-2), relu(1+1); relu(1+0.5), relu(1-3)
    "lsgan": (0.5 * (1 + 4) / 2, 0.5 * (0.25 + 9) / 2, 0.5 * (0.25 + 16) / 2),
}


def test_hand_table_covers_every_loss():
    assert set(HAND) == set(losses.NAMES)


@pytest.mark.parametrize("name", losses.NAMES)
def test_each_loss_matches_hand_computed_values(name):
    loss = losses.get(name)
    real_term, fake_term, g = HAND[name]
    r, f = loss.d_terms(REAL, FAKE)
    assert r.item() == pytest.approx(real_term, rel=1e-6)
    assert f.item() == pytest.approx(fake_term, rel=1e-6)
    assert loss.d_loss(REAL, FAKE).item() == pytest.approx(real_term + fake_term, rel=1e-6)
    assert loss.g_loss(FAKE).item() == pytest.approx(g, rel=1e-6)


def test_three_bce_forms_of_seed_003_agree():
    real = torch.linspace(-6, 6, 25)
    fake = torch.linspace(5, -7, 25)
    direct = (-torch.log(torch.sigmoid(real))).mean() + (-torch.log(1 - torch.sigmoid(fake))).mean()
    bce = torch.nn.BCEWithLogitsLoss()
    with_labels = bce(real, torch.ones_like(real)) + bce(fake, torch.zeros_like(fake))
    softplus = F.softplus(-real).mean() + F.softplus(fake).mean()
    ours = losses.get("non-saturating").d_loss(real, fake)
    for other in (direct, with_labels, softplus):
        assert torch.allclose(ours, other, atol=1e-6)


def test_softplus_form_does_not_underflow_where_log_sigmoid_does():
    logit = torch.tensor([-120.0])
    assert torch.isinf(-torch.log(torch.sigmoid(logit))).all()  # the two-step form gives inf
    assert losses.non_saturating_g_loss(logit).item() == pytest.approx(120.0)


def test_equilibria_from_design():
    zero = torch.zeros(8)
    ln2 = math.log(2)
    assert losses.get("minimax").d_loss(zero, zero).item() == pytest.approx(2 * ln2)
    assert losses.get("minimax").g_loss(zero).item() == pytest.approx(-ln2)
    assert losses.get("non-saturating").g_loss(zero).item() == pytest.approx(ln2)
    half = torch.full((8,), 0.5)  # LSGAN: D outputs 0.5 on everything
    assert losses.get("lsgan").d_loss(half, half).item() == pytest.approx(0.25)
    assert losses.get("lsgan").g_loss(half).item() == pytest.approx(0.125)
    assert losses.get("hinge").d_loss(zero, zero).item() == pytest.approx(2.0)
    # and each variant's stated equilibrium is what its own functions compute there
    for name in ("minimax", "non-saturating", "hinge", "lsgan"):
        loss = losses.get(name)
        x = half if name == "lsgan" else zero
        assert loss.equilibrium["loss_d"] == pytest.approx(loss.d_loss(x, x).item())
        if "loss_g" in loss.equilibrium:
            assert loss.equilibrium["loss_g"] == pytest.approx(loss.g_loss(x).item())


def _logit_grad(g_loss, logits: torch.Tensor) -> torch.Tensor:
    logits = logits.clone().requires_grad_(True)
    g_loss(logits).backward()
    return logits.grad


def test_minimax_gradient_vanishes_and_non_saturating_does_not():
    logits = torch.tensor([-10.0, -5.0, 0.0, 5.0])  # D rejects the first fakes confidently
    n = len(logits)
    g_mm = _logit_grad(losses.minimax_g_loss, logits)
    g_ns = _logit_grad(losses.non_saturating_g_loss, logits)
    assert torch.allclose(g_mm, -torch.sigmoid(logits) / n)
    assert torch.allclose(g_ns, -(1 - torch.sigmoid(logits)) / n)
    assert g_mm[0].item() == pytest.approx(-1 / (1 + math.exp(10)) / n)  # -σ(-10)/4 = -1.1e-5: G stalls
    assert g_ns[0].item() == pytest.approx(-(1 - 1 / (1 + math.exp(10))) / n)  # ≈ -1/4
    assert abs(g_ns[0].item()) > 10_000 * abs(g_mm[0].item())


def _half_square_norm(x: torch.Tensor) -> torch.Tensor:
    """D(x) = ½‖x‖² per sample: its gradient is x itself."""
    return 0.5 * x.flatten(1).pow(2).sum(1)


def test_gradient_penalty_uses_per_sample_norms():
    x = torch.tensor([[3.0, 0.0], [0.3, 0.4]])  # per-sample norms 3 and 0.5
    penalty, norms = losses.gradient_penalty(_half_square_norm, x, x.clone())  # x_hat = x for any ε
    assert torch.allclose(norms, torch.tensor([3.0, 0.5]))
    assert penalty.item() == pytest.approx(((3 - 1) ** 2 + (0.5 - 1) ** 2) / 2)  # 2.125
    whole_batch = (math.sqrt(9 + 0.25) - 1) ** 2  # one norm over the whole batch: 4.17
    assert abs(penalty.item() - whole_batch) > 1.0


def test_gradient_penalty_draws_one_epsilon_per_sample():
    real = torch.arange(24, dtype=torch.float32).reshape(3, 2, 2, 2) + 1.0
    fake = -real
    seen = []

    def critic(x):
        seen.append(x.detach())
        return _half_square_norm(x)

    gen = torch.Generator().manual_seed(0)
    losses.gradient_penalty(critic, real, fake, gen)
    (x_hat,) = seen
    eps = (x_hat - fake) / (real - fake)  # x_hat = ε·real + (1-ε)·fake, solved for ε elementwise
    per_sample = eps.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample), atol=1e-6)  # one ε each
    assert ((per_sample >= 0) & (per_sample <= 1)).all()
    assert len(set(per_sample[:, 0].tolist())) == 3  # and the samples' ε differ


def test_gradient_penalty_gradient_reaches_the_critic():
    w = torch.tensor([2.0, 0.0], requires_grad=True)  # D(x) = w·x: ‖∇D‖ = ‖w‖ = 2
    penalty, norms = losses.gradient_penalty(lambda x: x @ w, torch.randn(4, 2), torch.randn(4, 2))
    assert torch.allclose(norms, torch.full((4,), 2.0))
    penalty.backward()  # d/dw (‖w‖-1)² = 2(‖w‖-1)·w/‖w‖ = (2, 0)
    assert torch.allclose(w.grad, torch.tensor([2.0, 0.0]))


# ---------------------------------------------------------------- the penalty with packing (PacGAN)
SQRT2_PENALTY = (math.sqrt(2) - 1) ** 2  # 0.171573: a packed gradient of norm √2


def _linear_mlp_critic(pack: int) -> models.MLPDiscriminator:
    """The app's MLP critic on 2-D points with no hidden layer: D(packed x) = w·x + 0, where w puts
    weight 1 on the first coordinate of every sample of the pack. Each sample's slice of the gradient
    has norm 1; the packed input's gradient has norm √pack."""
    critic = models.MLPDiscriminator((2,), hidden=8, depth=0, pack=pack)
    with torch.no_grad():
        (layer,) = critic.net
        layer.weight.copy_(torch.tensor([[1.0, 0.0] * pack]))
        layer.bias.zero_()
    return critic


@pytest.mark.parametrize(("pack", "norm", "penalty"), [(1, 1.0, 0.0), (2, math.sqrt(2), SQRT2_PENALTY), (4, 2.0, 1.0)])
def test_gradient_penalty_takes_the_norm_per_packed_input_of_the_mlp_critic(pack, norm, penalty):
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    for pack_arg in (None, pack):  # None: read from the critic
        p, norms = losses.gradient_penalty(_linear_mlp_critic(pack), real, fake, pack=pack_arg)
        assert norms.shape == (8 // pack,)  # one norm per input D sees
        assert torch.allclose(norms, torch.full((8 // pack,), norm))
        assert p.item() == pytest.approx(penalty, abs=1e-6)  # pack 2: 0.1716 (per sample it was 0)


def _one_by_one_conv_critic(pack: int, c: int = 1):
    """A linear conv critic that packs as the app's ConvDiscriminator does (m samples stacked along
    channels): a 1x1 convolution with every weight ½ over the pack·c channels, summed over 2x2 pixels.
    Each sample's gradient is ½ on each of its 4 pixels (norm 1); the packed input's has norm √pack."""
    weight = torch.full((1, pack * c, 1, 1), 0.5)

    def critic(x):
        n, ch, h, w = x.shape
        return F.conv2d(x.reshape(n // pack, pack * ch, h, w), weight).sum((1, 2, 3))

    return critic


@pytest.mark.parametrize(("pack", "norm", "penalty"), [(1, 1.0, 0.0), (2, math.sqrt(2), SQRT2_PENALTY), (4, 2.0, 1.0)])
def test_gradient_penalty_takes_the_norm_per_packed_input_of_a_conv_critic(pack, norm, penalty):
    real, fake = torch.randn(8, 1, 2, 2), torch.randn(8, 1, 2, 2)
    p, norms = losses.gradient_penalty(_one_by_one_conv_critic(pack), real, fake, pack=pack)
    assert torch.allclose(norms, torch.full((8 // pack,), norm))
    assert p.item() == pytest.approx(penalty, abs=1e-6)


def test_gradient_penalty_of_the_apps_conv_critic_uses_the_gradient_of_its_packed_input():
    # ConvDiscriminator made linear (its LeakyReLUs removed): its gradient over one packed input
    # (2 images stacked along channels) is one constant array a; the norm must be ‖a‖, not the norm
    # of either image's half of a.
    critic = models.ConvDiscriminator((1, 4, 4), channels=8, pack=2)
    critic.net[1] = critic.net[3] = torch.nn.Identity()
    probe = torch.zeros(2, 1, 4, 4, requires_grad=True)
    (a,) = torch.autograd.grad(critic(probe).sum(), probe)
    per_sample = a.flatten(1).norm(dim=1)
    assert abs(per_sample[0].item() - a.norm().item()) > 0.1 * a.norm().item()
    p, norms = losses.gradient_penalty(critic, torch.randn(6, 1, 4, 4), torch.randn(6, 1, 4, 4))
    assert torch.allclose(norms, torch.full((3,), a.norm().item()), rtol=1e-5)
    assert p.item() == pytest.approx((a.norm().item() - 1) ** 2, rel=1e-4)


def test_gradient_penalty_draws_one_epsilon_per_packed_input():
    real = torch.arange(16, dtype=torch.float32).reshape(8, 2) + 1.0
    fake = -real
    seen = []

    def critic(x):
        seen.append(x.detach())
        return x.reshape(4, 4).sum(1)  # packs of 2 consecutive samples

    losses.gradient_penalty(critic, real, fake, torch.Generator().manual_seed(0), pack=2)
    eps = ((seen[0] - fake) / (real - fake))[:, 0]  # x_hat = ε·real + (1-ε)·fake, solved for ε
    pairs = eps.reshape(4, 2)
    assert torch.allclose(pairs[:, 0], pairs[:, 1])  # the two samples of a pack share ε
    assert len(set(pairs[:, 0].tolist())) == 4  # and the packs' ε differ


def test_gradient_penalty_refuses_a_pack_that_does_not_divide_the_batch():
    with pytest.raises(ValueError, match="pack must be a positive divisor of the batch size 6; got 4"):
        losses.gradient_penalty(_linear_mlp_critic(1), torch.randn(6, 2), torch.randn(6, 2), pack=4)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        losses.get("vanilla")
    for name in losses.NAMES:
        assert name in str(err.value)


# design.md's table: (optimizer, lr_d, lr_g, beta1, beta2, d_steps, clip, gp_weight)
DESIGN_DEFAULTS = {
    "minimax": ("adam", 2e-4, 2e-4, 0.5, 0.999, 1, 0.0, 0.0),
    "non-saturating": ("adam", 2e-4, 2e-4, 0.5, 0.999, 1, 0.0, 0.0),
    "wgan": ("rmsprop", 5e-5, 5e-5, None, None, 5, 0.01, 0.0),
    "wgan-gp": ("adam", 1e-4, 1e-4, 0.0, 0.9, 5, 0.0, 10.0),
    "hinge": ("adam", 2e-4, 2e-4, 0.0, 0.9, 1, 0.0, 0.0),
    "lsgan": ("adam", 2e-4, 2e-4, 0.5, 0.999, 1, 0.0, 0.0),
}


@pytest.mark.parametrize("name", losses.NAMES)
def test_defaults_match_design_table(name):
    d = losses.get(name).defaults
    opt, lr_d, lr_g, b1, b2, d_steps, clip, gp = DESIGN_DEFAULTS[name]
    assert (d.optimizer, d.lr_d, d.lr_g, d.d_steps, d.clip, d.gp_weight) == (opt, lr_d, lr_g, d_steps, clip, gp)
    if opt == "adam":  # RMSprop has no betas
        assert (d.beta1, d.beta2) == (b1, b2)


# a fragment of each D formula as design.md writes it
FORMULA_PARTS = {
    # BCE: D(x) = σ(l) is a probability, as everywhere in the app (theory.NOTATION); never σ(D(x))
    "minimax": [r"\log D(x)", r"\log(1-D(G(z)))", r"D(x) = \sigma(l(x))"],
    "non-saturating": [r"\log D(x)", r"\log(1-D(G(z)))", r"D(x) = \sigma(l(x))"],
    "wgan": [r"\mathbb{E}_{z}[D(G(z))] - \mathbb{E}_{x}[D(x)]", r"\operatorname{clip}(w, -c, c)"],
    "wgan-gp": [r"\mathbb{E}_{z}[D(G(z))] - \mathbb{E}_{x}[D(x)]", r"\lambda", r"\rVert_2-1)^2"],
    "hinge": [r"\max(0, 1-D(x))", r"\max(0, 1+D(G(z)))"],
    "lsgan": [r"(D(x)-1)^2", r"D(G(z))^2"],
}


@pytest.mark.parametrize("name", losses.NAMES)
def test_d_formula_shows_the_computed_loss(name):
    for part in FORMULA_PARTS[name]:
        assert part in losses.get(name).d_formula
    spec = losses.get(name)
    assert r"\sigma(D(" not in spec.d_formula + spec.g_formula  # D is never a logit in a formula


@pytest.mark.parametrize("name, clip, shown", [("wgan", 0.01, True), ("wgan", 0.0, False),
                                               ("wgan-gp", 0.0, False), ("wgan-gp", 0.05, True)])  # fmt: skip
def test_the_d_formula_shows_weight_clipping_exactly_when_the_run_clips(name, clip, shown):
    formula = losses.d_formula(name, clip)
    assert (r"\operatorname{clip}(w, -c, c)" in formula) == shown
    assert formula.startswith(r"L_D = \mathbb{E}_{z}[D(G(z))] - \mathbb{E}_{x}[D(x)]")
