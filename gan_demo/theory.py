"""The Theory page's content: each formula of the seed documents beside the code that computes it.

Each section names functions of ``gan_demo``; the page shows their source with ``inspect.getsource``,
so the code on the page is the code that runs (a test checks that every name resolves).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from gan_demo import losses, training


@dataclass(frozen=True)
class Section:
    title: str
    text: str  # Markdown, with $...$ maths
    formulas: tuple[str, ...]  # LaTeX blocks
    code: tuple[Callable, ...]  # functions whose source is shown beside the formulas


def source(fn: Callable) -> str:
    """The source of ``fn`` as it runs (methods and functions alike)."""
    return inspect.getsource(fn)


SECTIONS: tuple[Section, ...] = (
    Section(
        "1. The minimax game",
        "Two networks play against each other. **D** (the discriminator) outputs the probability "
        "that its input is real; **G** (the generator) maps noise $z$ to a sample. D maximises $V$: "
        "$\\log D(x)$ rewards calling real samples real, $\\log(1-D(G(z)))$ rewards calling fakes "
        "fake. G minimises the same $V$, that is, it tries to make $D(G(z))$ large. Training "
        "alternates: fix G and update D, then fix D and update G.",
        (
            r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]",
        ),
        (training.Trainer.step,),
    ),
    Section(
        "2. D's loss is binary cross-entropy (three equal forms)",
        "Maximising $V$ over D is minimising the binary cross-entropy with label 1 for real and 0 "
        "for fake. With D's raw output (logit) $l$ and $\\sigma$ the sigmoid, "
        "$-\\log\\sigma(l) = \\operatorname{softplus}(-l)$ and $-\\log(1-\\sigma(l)) = "
        "\\operatorname{softplus}(l)$, so `-log(sigmoid(l))`, `BCEWithLogitsLoss(l, y)` and "
        "`softplus` are the same number. We use softplus: `log(sigmoid(l))` in two steps underflows "
        "to $-\\infty$ once $l < -88$. Our $L_D$ is the real term **plus** the fake term "
        "($= -V$); the seed's MNIST code divides it by 2, which halves every D curve.",
        (
            r"L_D = -\frac{1}{N}\sum_i \log\sigma(l_{r,i}) - \frac{1}{N}\sum_i \log(1-\sigma(l_{f,i}))"
            r" = \overline{\operatorname{softplus}(-l_r)} + \overline{\operatorname{softplus}(l_f)}",
        ),
        (losses.bce_d_terms,),
    ),
    Section(
        "3. The optimal discriminator and the JS divergence",
        "For a fixed G, write $V$ as an integral over $x$ and maximise the integrand pointwise: "
        "$f(D) = p_{data}\\log D + p_g \\log(1-D)$ has $f'(D) = p_{data}/D - p_g/(1-D) = 0$ at "
        "$D^*$. Substituting $D^*$ back gives the Jensen-Shannon divergence: G, facing the best D, "
        "minimises JS, which is 0 only when $p_g = p_{data}$, where $D^* = 1/2$ everywhere. "
        "When the two supports do not overlap, JS is stuck at $\\log 2$ and gives G no gradient: "
        "the motivation for WGAN. The **D\\* on 1-D** page computes all of this numerically.",
        (
            r"D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}",
            r"V(D^*, G) = -\log 4 + 2\,\mathrm{JS}(p_{data} \,\|\, p_g)",
        ),
        (),
    ),
    Section(
        "4. G's loss: saturating and non-saturating",
        "The minimax G loss $\\log(1-\\sigma(l_f))$ has derivative $-\\sigma(l_f)$ with respect to "
        "the logit: when D confidently rejects the fakes early in training, $\\sigma(l_f)\\to 0$ and "
        "G gets no gradient. The non-saturating loss $-\\log\\sigma(l_f)$ has the same fixed point "
        "and derivative $-(1-\\sigma(l_f))$, largest exactly then.",
        (
            r"L_G^{\text{minimax}} = \mathbb{E}_z[\log(1-\sigma(l_f))], \qquad \frac{\partial}{\partial l}\log(1-\sigma(l)) = -\sigma(l)",
            r"L_G^{\text{non-sat}} = -\mathbb{E}_z[\log\sigma(l_f)], \qquad \frac{\partial}{\partial l}\left(-\log\sigma(l)\right) = -(1-\sigma(l))",
        ),
        (losses.minimax_g_loss, losses.non_saturating_g_loss),
    ),
    Section(
        "5. WGAN: the Wasserstein distance",
        "WGAN's critic is a regression, not a classifier: no sigmoid. For a 1-Lipschitz critic, "
        "$\\max_D \\mathbb{E}[D(x)] - \\mathbb{E}[D(G(z))]$ is the Wasserstein-1 distance, which "
        "keeps giving G a gradient when the supports do not overlap. The original WGAN keeps D "
        "Lipschitz by clipping every weight to $[-c, c]$; WGAN-GP instead penalises the gradient "
        "norm at random interpolates $\\hat x$, one $\\epsilon$ per sample, the norm per sample.",
        (
            r"L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)], \qquad L_G = -\mathbb{E}_z[D(G(z))]",
            r"L_{GP} = \lambda\,\mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2\big],\quad \hat x = \epsilon x + (1-\epsilon)\tilde x",
        ),
        (losses.wgan_d_terms, losses.critic_g_loss, losses.gradient_penalty),
    ),
    Section(
        "6. Hinge loss",
        "From SVMs via Geometric GAN: D tries to push real samples above $+1$ and fakes below $-1$; "
        "samples already beyond the margin contribute no gradient, which makes training calmer. "
        "G maximises D's score on its fakes.",
        (
            r"L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))], \qquad L_G = -\mathbb{E}_z[D(G(z))]",
        ),
        (losses.hinge_d_terms,),
    ),
    Section(
        "7. Least squares (LSGAN)",
        "D regresses real samples to 1 and fakes to 0; G pushes its fakes towards 1. The squares "
        "penalise fakes far from the decision boundary even when they are on the right side of it. "
        "At equilibrium D outputs 1/2: $L_D = 1/4$, $L_G = 1/8$.",
        (
            r"L_D = \tfrac12\mathbb{E}_x[(D(x)-1)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2], \qquad L_G = \tfrac12\mathbb{E}_z[(D(G(z))-1)^2]",
        ),
        (losses.lsgan_d_terms, losses.lsgan_g_loss),
    ),
)


def equilibrium_table() -> list[dict[str, str]]:
    """Each loss's classic defaults and its values at p_g = p_data, for the page's table."""
    rows = []
    for name in losses.NAMES:
        loss = losses.get(name)
        d = loss.defaults
        eq = ", ".join(f"{k} = {v:.3f}" for k, v in loss.equilibrium.items())
        opt = f"{d.optimizer} lr {d.lr_d:g}" + (f", β=({d.beta1:g}, {d.beta2:g})" if d.optimizer == "adam" else "")
        extra = f", clip ±{d.clip:g}" if d.clip else (f", λ = {d.gp_weight:g}" if d.gp_weight else "")
        rows.append({"loss": loss.title, "equilibrium": eq, "classic defaults": f"{opt}, {d.d_steps} D step(s){extra}"})
    return rows
