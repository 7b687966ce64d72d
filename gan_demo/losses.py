"""The six classic GAN losses, each a small pure function of D's raw outputs (logits).

D always returns logits; the sigmoid lives inside the losses (``softplus`` form), because
``log(sigmoid(l))`` computed as two steps underflows to ``-inf`` once ``l < -88`` in float32.

Conventions (as in StudioGAN and torchgan): D's loss is the real term plus the fake term, so for the
BCE pair ``L_D = -V(D, G)``. The seed's MNIST code divides that sum by 2; we do not.

``get(name)`` returns a :class:`GANLoss` that bundles the D and G losses of one variant with its
formula in LaTeX, its classic hyperparameters and its equilibrium values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_demo.content import Msg

DTerms = tuple[Tensor, Tensor]


# ---------------------------------------------------------------- discriminator losses
def bce_d_terms(real: Tensor, fake: Tensor) -> DTerms:
    r"""Binary cross-entropy on logits, real labelled 1 and fake labelled 0.

    .. math:: L_D = \underbrace{\mathbb{E}[\operatorname{softplus}(-l_r)]}_{-\mathbb{E}\log\sigma(l_r)}
              + \underbrace{\mathbb{E}[\operatorname{softplus}(l_f)]}_{-\mathbb{E}\log(1-\sigma(l_f))}
    """
    return F.softplus(-real).mean(), F.softplus(fake).mean()


def wgan_d_terms(real: Tensor, fake: Tensor) -> DTerms:
    r"""The Wasserstein critic loss: :math:`L_D = \mathbb{E}[l_f] - \mathbb{E}[l_r]`.

    For a 1-Lipschitz critic, ``-L_D`` estimates the Wasserstein-1 distance W1(p_data, p_g).
    """
    return -real.mean(), fake.mean()


def hinge_d_terms(real: Tensor, fake: Tensor) -> DTerms:
    r"""Hinge loss (Geometric GAN): :math:`L_D = \mathbb{E}[\max(0, 1-l_r)] + \mathbb{E}[\max(0, 1+l_f)]`.

    Only samples inside the margin (real below +1, fake above -1) contribute a gradient.
    """
    return F.relu(1.0 - real).mean(), F.relu(1.0 + fake).mean()


def lsgan_d_terms(real: Tensor, fake: Tensor) -> DTerms:
    r"""Least squares with targets a=0 (fake), b=1 (real):
    :math:`L_D = \tfrac12\mathbb{E}[(l_r-1)^2] + \tfrac12\mathbb{E}[l_f^2]`."""
    return 0.5 * (real - 1.0).pow(2).mean(), 0.5 * fake.pow(2).mean()


# ---------------------------------------------------------------- generator losses
def minimax_g_loss(fake: Tensor) -> Tensor:
    r"""The saturating loss of the original minimax game:
    :math:`L_G = \mathbb{E}[\log(1-\sigma(l_f))] = -\mathbb{E}[\operatorname{softplus}(l_f)]`.

    Its gradient with respect to the logit is :math:`-\sigma(l_f)`, which vanishes when D
    confidently rejects the fakes (:math:`\sigma(l_f)\to 0`): G stops learning early in training.
    """
    return -F.softplus(fake).mean()


def non_saturating_g_loss(fake: Tensor) -> Tensor:
    r"""The non-saturating loss: :math:`L_G = -\mathbb{E}[\log\sigma(l_f)] = \mathbb{E}[\operatorname{softplus}(-l_f)]`.

    Its gradient with respect to the logit is :math:`-(1-\sigma(l_f))`, largest when D rejects the fakes.
    """
    return F.softplus(-fake).mean()


def critic_g_loss(fake: Tensor) -> Tensor:
    r"""G maximises the critic's score on fakes (WGAN, WGAN-GP, hinge): :math:`L_G = -\mathbb{E}[l_f]`."""
    return -fake.mean()


def lsgan_g_loss(fake: Tensor) -> Tensor:
    r"""Least squares with target c=1: :math:`L_G = \tfrac12\mathbb{E}[(l_f-1)^2]`."""
    return 0.5 * (fake - 1.0).pow(2).mean()


# ---------------------------------------------------------------- the conditional GAN
def conditional_d_terms(
    d_terms: Callable[[Tensor, Tensor], DTerms], real: Tensor, fake: Tensor, wrong: Tensor | None
) -> tuple[Tensor, Tensor, Tensor | None]:
    r"""The matching-aware discriminator's three terms (the seed's conditional objective; Reed et al.
    2016, GAN-CLS), with any loss variant's ``d_terms``: logits ``real`` = D(x, y) on real pairs,
    ``fake`` = D(G(z, y), y), ``wrong`` = D(x, ŷ) on real images with a wrong label ŷ ≠ y (None: the
    term is off). The wrong pairs take the variant's *fake* term: D must call them fake.

    .. math:: L_D = T_r(l_r) + T_f(l_f) + \lambda\,T_f(l_w)

    (BCE: :math:`T_r(l) = \mathbb{E}[\operatorname{softplus}(-l)]`, :math:`T_f(l) =
    \mathbb{E}[\operatorname{softplus}(l)]`, so :math:`L_D = -\mathbb{E}\log D(x,y) -
    \mathbb{E}\log(1-D(G(z,y),y)) - \lambda\,\mathbb{E}\log(1-D(x,\hat y))`, the seed's three
    terms for λ = 1). Returns (real term, fake term, wrong term unweighted or None); the caller
    multiplies the last by λ (``mismatch_weight``). Reed et al.'s Algorithm 1 weighs them 1, ½, ½.
    """
    real_term, fake_term = d_terms(real, fake)
    wrong_term = None if wrong is None else d_terms(real, wrong)[1]
    return real_term, fake_term, wrong_term


# the fake term of each family on a real image x with a wrong label ŷ, as the forms write it (LaTeX)
WRONG_TERM = {
    "bce": r"-\lambda\,\mathbb{E}_{x,\hat y}[\log(1-D(x,\hat y))]",
    "wgan": r"+\lambda\,\mathbb{E}_{x,\hat y}[D(x,\hat y)]",
    "hinge": r"+\lambda\,\mathbb{E}_{x,\hat y}[\max(0, 1+D(x,\hat y))]",
    "lsgan": r"+\lambda\,\tfrac12\mathbb{E}_{x,\hat y}[D(x,\hat y)^2]",
}


def conditional_note(name: str) -> str:
    """LaTeX: how the conditional GAN changes loss ``name``'s formulas (what
    :func:`conditional_d_terms` computes): D reads the label, and the wrong pairs add λ × the fake term."""
    return (r"\text{conditional: } D(x) \to D(x, y),\; D(G(z)) \to D(G(z, y), y),\quad L_D \mathrel{+}= "
            + WRONG_TERM[get(name).family].lstrip("+"))


# ---------------------------------------------------------------- gradient penalty
def gradient_penalty(
    critic: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    generator: torch.Generator | None = None,
    pack: int | None = None,
) -> tuple[Tensor, Tensor]:
    r"""WGAN-GP's penalty :math:`\mathbb{E}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]` (Gulrajani et
    al. 2017, Algorithm 1), per input of the critic.

    ``real`` and ``fake``: batches of N samples, shape (N, ...). Without packing the critic judges each
    sample: :math:`\hat x = \epsilon x + (1-\epsilon)\tilde x` with one :math:`\epsilon\sim U[0,1]` per
    sample, and the norm is taken per sample over all non-batch dimensions (not per pixel, not over the
    batch). With packing (PacGAN, Lin et al. 2018) the critic judges ``pack`` = m consecutive samples as
    one input (``models``: the MLP concatenates them, the conv critic stacks them along channels), so the
    Lipschitz constraint is about that packed input: one ε per packed input, shared by its m samples, and
    the norm over the whole packed input, :math:`\sqrt{\sum_i \lVert\nabla_{x_i} D\rVert^2}` over its
    m samples. A per-sample norm would hold each slice of the gradient to 1 and let the packed gradient
    reach :math:`\sqrt m`.

    ``pack``: None reads the critic's ``pack`` attribute (1 if it has none). Returns the penalty (to be
    multiplied by λ) and the N/m norms, one per packed input (for ``gp_norm`` and rule R15). Raises
    ``ValueError`` when ``pack`` is not a positive divisor of N.
    """
    m = int(getattr(critic, "pack", 1) if pack is None else pack)
    n = real.shape[0]
    if m < 1 or n % m:
        raise ValueError(f"pack must be a positive divisor of the batch size {n}; got {m}")
    eps_shape = (n // m,) + (1,) * (real.dim() - 1)
    eps = torch.rand(eps_shape, generator=generator, device=real.device, dtype=real.dtype)
    if m > 1:
        eps = eps.repeat_interleave(m, 0)  # the m samples of a packed input share its ε
    x_hat = (eps * real + (1.0 - eps) * fake).detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    norms = grad.reshape(n // m, -1).norm(2, dim=1)  # rows: packed inputs (m consecutive samples)
    return (norms - 1.0).pow(2).mean(), norms.detach()


# ---------------------------------------------------------------- CycleGAN (Zhu et al. 2017)
def l1_distance(a: Tensor, b: Tensor) -> Tensor:
    r""":math:`\mathbb{E}\,\lVert a - b\rVert_1`: the L1 norm of each row's difference (summed over every
    non-batch dimension), averaged over the batch. ``a``, ``b``: (N, ...) of one shape; a 0-d tensor.

    Zhu et al. (2017) write the norm; their reference code takes ``nn.L1Loss``, the mean over every
    element, which is this divided by the number of elements of a sample (2 for a point): a λ of theirs
    is worth λ / d here."""
    if a.shape != b.shape:
        raise ValueError(f"l1_distance needs two tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    return (a - b).abs().reshape(a.shape[0], -1).sum(1).mean()


def cycle_loss(x: Tensor, x_back: Tensor, y: Tensor, y_back: Tensor) -> tuple[Tensor, Tensor]:
    r"""The two cycle-consistency terms of CycleGAN (Zhu et al. 2017, eq. 2), each an
    :func:`l1_distance`:

    .. math:: L_{cyc}(G, F) = \underbrace{\mathbb{E}_{x}\lVert F(G(x)) - x\rVert_1}_{\text{forward}}
              + \underbrace{\mathbb{E}_{y}\lVert G(F(y)) - y\rVert_1}_{\text{backward}}

    ``x_back`` = F(G(x)), ``y_back`` = G(F(y)). The seed post writes the second term
    ‖F(G(y)) − y‖₁, which feeds y to G (made for X) and compares F's output, a point of X, with y:
    the backward cycle starts in Y with F and comes back with G. Returns (forward, backward)."""
    return l1_distance(x_back, x), l1_distance(y_back, y)


def identity_loss(x: Tensor, f_of_x: Tensor, y: Tensor, g_of_y: Tensor) -> tuple[Tensor, Tensor]:
    r"""CycleGAN's identity loss (Zhu et al. 2017, section 5.2, from Taigman et al. 2017): a translator
    fed a sample of its own target domain should leave it alone.

    .. math:: L_{identity}(G, F) = \mathbb{E}_{y}\lVert G(y) - y\rVert_1 + \mathbb{E}_{x}\lVert F(x) - x\rVert_1

    ``g_of_y`` = G(y), ``f_of_x`` = F(x). Returns (the G term, the F term)."""
    return l1_distance(g_of_y, y), l1_distance(f_of_x, x)


# ---------------------------------------------------------------- the variants
@dataclass(frozen=True)
class Defaults:
    """Classic hyperparameters of a loss variant, from its paper or reference code."""

    optimizer: str  # "adam" or "rmsprop"
    lr_d: float
    lr_g: float
    beta1: float  # Adam's β1 (ignored by RMSprop)
    beta2: float  # Adam's β2 (ignored by RMSprop)
    d_steps: int  # D (critic) updates per G update
    clip: float = 0.0  # WGAN weight clipping bound c (0 = no clipping)
    gp_weight: float = 0.0  # WGAN-GP's λ (0 = no penalty)


@dataclass(frozen=True)
class GANLoss:
    """One loss variant: the D and G losses, how to read D's output, and what to teach about it."""

    name: str
    title: Msg  # shown in the reader's language (str())
    family: str  # "bce", "wgan", "hinge" or "lsgan": decides which diagnosis rules apply
    d_terms: Callable[[Tensor, Tensor], DTerms]
    g_loss: Callable[[Tensor], Tensor]
    d_formula: str  # LaTeX
    g_formula: str  # LaTeX
    defaults: Defaults
    equilibrium: dict[str, float] = field(default_factory=dict)  # L_D, L_G, D at p_g = p_data
    note: Msg | str = ""  # shown in the reader's language (str())

    def d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        """D's loss: the real term plus the fake term."""
        real_term, fake_term = self.d_terms(real_logits, fake_logits)
        return real_term + fake_term

    @property
    def uses_sigmoid(self) -> bool:
        """True when D's output is a logit whose sigmoid is a probability (the BCE losses)."""
        return self.family == "bce"

    @property
    def decision_threshold(self) -> float:
        """Where D's output separates 'real' from 'fake' (logit 0, LSGAN's 0.5, hinge's 0)."""
        return 0.5 if self.family == "lsgan" else 0.0

    def d_output(self, logits: Tensor) -> Tensor:
        """D's output on the scale the student reads: σ(logit) for BCE, the raw value otherwise."""
        return torch.sigmoid(logits) if self.uses_sigmoid else logits


LN2 = math.log(2.0)
# D(x) = σ(l(x)) is a probability here, as in V(D, G); the code works on the logit l (theory.NOTATION)
_BCE_D = r"L_D = -\mathbb{E}_{x}[\log D(x)] - \mathbb{E}_{z}[\log(1-D(G(z)))],\quad D(x) = \sigma(l(x))"
_WGAN_D = r"L_D = \mathbb{E}_{z}[D(G(z))] - \mathbb{E}_{x}[D(x)]"
CLIP_STEP = r",\quad w \leftarrow \operatorname{clip}(w, -c, c)"  # WGAN's weight clipping, after each D step
_CRITIC_G = r"L_G = -\mathbb{E}_{z}[D(G(z))]"

_LOSSES = {
    loss.name: loss
    for loss in (
        GANLoss(
            name="minimax",
            title=Msg("losses.minimax.title"),
            family="bce",
            d_terms=bce_d_terms,
            g_loss=minimax_g_loss,
            d_formula=_BCE_D,
            g_formula=r"L_G = \mathbb{E}_{z}[\log(1-D(G(z)))]",
            defaults=Defaults("adam", 2e-4, 2e-4, 0.5, 0.999, 1),
            equilibrium={"loss_d": 2 * LN2, "loss_g": -LN2, "d": 0.5},
            note=Msg("losses.minimax.note"),
        ),
        GANLoss(
            name="non-saturating",
            title=Msg("losses.non_saturating.title"),
            family="bce",
            d_terms=bce_d_terms,
            g_loss=non_saturating_g_loss,
            d_formula=_BCE_D,
            g_formula=r"L_G = -\mathbb{E}_{z}[\log D(G(z))]",
            defaults=Defaults("adam", 2e-4, 2e-4, 0.5, 0.999, 1),
            equilibrium={"loss_d": 2 * LN2, "loss_g": LN2, "d": 0.5},
            note=Msg("losses.non_saturating.note"),
        ),
        GANLoss(
            name="wgan",
            title=Msg("losses.wgan.title"),
            family="wgan",
            d_terms=wgan_d_terms,
            g_loss=critic_g_loss,
            d_formula=_WGAN_D + CLIP_STEP,
            g_formula=_CRITIC_G,
            defaults=Defaults("rmsprop", 5e-5, 5e-5, 0.5, 0.999, 5, clip=0.01),
            equilibrium={"loss_d": 0.0},
            note=Msg("losses.wgan.note"),
        ),
        GANLoss(
            name="wgan-gp",
            title=Msg("losses.wgan_gp.title"),
            family="wgan",
            d_terms=wgan_d_terms,
            g_loss=critic_g_loss,
            d_formula=_WGAN_D
            + r" + \lambda\,\mathbb{E}_{\hat x}[(\lVert\nabla_{\hat x}D(\hat x)\rVert_2-1)^2]",
            g_formula=_CRITIC_G,
            defaults=Defaults("adam", 1e-4, 1e-4, 0.0, 0.9, 5, gp_weight=10.0),
            equilibrium={"loss_d": 0.0, "gp_norm": 1.0},
            note=Msg("losses.wgan_gp.note"),
        ),
        GANLoss(
            name="hinge",
            title=Msg("losses.hinge.title"),
            family="hinge",
            d_terms=hinge_d_terms,
            g_loss=critic_g_loss,
            d_formula=r"L_D = \mathbb{E}_{x}[\max(0, 1-D(x))] + \mathbb{E}_{z}[\max(0, 1+D(G(z)))]",
            g_formula=_CRITIC_G,
            defaults=Defaults("adam", 2e-4, 2e-4, 0.0, 0.9, 1),
            equilibrium={"loss_d": 2.0, "d": 0.0},
            note=Msg("losses.hinge.note"),
        ),
        GANLoss(
            name="lsgan",
            title=Msg("losses.lsgan.title"),
            family="lsgan",
            d_terms=lsgan_d_terms,
            g_loss=lsgan_g_loss,
            d_formula=r"L_D = \tfrac12\mathbb{E}_{x}[(D(x)-1)^2] + \tfrac12\mathbb{E}_{z}[D(G(z))^2]",
            g_formula=r"L_G = \tfrac12\mathbb{E}_{z}[(D(G(z))-1)^2]",
            defaults=Defaults("adam", 2e-4, 2e-4, 0.5, 0.999, 1),
            equilibrium={"loss_d": 0.25, "loss_g": 0.125, "d": 0.5},
            note=Msg("losses.lsgan.note"),
        ),
    )
}

NAMES: tuple[str, ...] = tuple(_LOSSES)


def get(name: str) -> GANLoss:
    """The loss variant called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return _LOSSES[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; choose one of: {', '.join(NAMES)}") from None


def d_formula(name: str, clip: float) -> str:
    """The D formula of loss ``name`` as a run with weight clip ``clip`` trains it: the clipping step
    shown exactly when ``clip`` > 0 (WGAN with c = 0 trains an unconstrained critic)."""
    base = get(name).d_formula.replace(CLIP_STEP, "")
    return base + CLIP_STEP if clip > 0 else base
