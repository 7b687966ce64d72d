"""The Theory page's content: each formula of the seed documents beside the code that computes it.

Each section names functions of ``gan_demo``; the page shows their source with ``inspect.getsource``,
so the code on the page is the code that runs (tests/test_theory.py checks that each one is called
when the feature it explains runs, and that section 1's code makes the two updates in order).
Numbers in the texts (equilibrium values, the healthy presets' end values) are formatted from
``losses.py`` and ``presets.py``, where the tests pin them.

Where a seed document is wrong, the text says so and teaches the corrected form (design.md, "The
seeds' slips").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from gan_demo import conditional, losses, onedim, presets
from gan_demo.train import cgan, cycle, gan


@dataclass(frozen=True)
class Section:
    title: str
    text: str  # Markdown, with $...$ maths
    formulas: tuple[str, ...]  # LaTeX blocks
    code: tuple[Callable, ...]  # functions whose source is shown beside the formulas


def source(fn: Callable) -> str:
    """The source of ``fn`` as it runs (methods and functions alike)."""
    return inspect.getsource(fn)


def _eq(name: str, key: str) -> str:
    """An equilibrium value of a loss, as the texts print it (3 decimals)."""
    return f"{losses.get(name).equilibrium[key]:.3f}"


# The one notation of the app, stated on Home, Train and Theory.
NOTATION = (
    "**Notation.** $l(x)$ is D's raw output, its *logit*. For the BCE losses (minimax, "
    "non-saturating) $D(x) = \\sigma(l(x))$ is a probability, the one in $V(D,G)$; the code works "
    "on $l$ ($l_r$ on a real batch, $l_f$ on a fake one). WGAN, hinge and LSGAN use no sigmoid: "
    "there $D(x)$ is the raw score $l(x)$ itself, as in their papers."
)


def _claim(preset: str, metric: str) -> presets.Claim:
    return next(c for c in presets.get(preset).claims if c.metric == metric and c.stat == "end")


def curves_note() -> str:
    """How to read the loss curves against their dashed lines (Train page), with the healthy preset's
    end values from its claims (tests/test_presets.py checks them on the seeded run)."""
    ld, acc = _claim("healthy-non-saturating", "loss_d"), _claim("healthy-non-saturating", "d_acc")
    return (
        "The dashed lines are each loss's values at $p_g = p_{data}$ with D at its optimum (the "
        "table on the Theory page). A healthy run ends close to them, on D's side: the "
        f"healthy-non-saturating preset ends at $L_D$ {ld.lo:g}–{ld.hi:g} (the line is "
        f"{_eq('non-saturating', 'loss_d')}) with D right on {100 * acc.lo:.0f}–{100 * acc.hi:.0f} % "
        "of its batch: a D of finite capacity still separates some fakes. A D far ahead is no sign "
        "of health: with seed 001's MLP pair the same loss ends far below the line while its samples "
        "fall into a few classes (docs/quality.md). Read the lines as where a perfect G would put the "
        "curves, and judge progress by the samples and the Quality panel. The two losses are not a training and a validation loss either: they measure the "
        "two players against each other, so a GAN's curves do not show overfitting and do not tell "
        "when to stop early (seed 001 reads them that way; corrected here)."
    )


# CycleGAN (Zhu et al. 2017), corrected: the CycleGAN page and section 9 show these
CYCLE_FORMULAS: tuple[str, ...] = (  # short lines: the Theory page's formula column is narrow, and projected
    r"\begin{aligned}\mathcal{L}(G, F, D_X, D_Y) ={}& \mathcal{L}_{GAN}(G, D_Y, X, Y)\\ &+ \mathcal{L}_{GAN}(F, D_X, Y, X)"
    r"\\ &+ \lambda_{cyc}\,\mathcal{L}_{cyc}(G, F)\\ &+ \lambda_{id}\,\mathcal{L}_{identity}(G, F)\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{GAN}(G, D_Y, X, Y) ={}& \mathbb{E}_{y}[\log D_Y(y)]\\ &+ \mathbb{E}_{x}[\log(1 - D_Y(G(x)))]\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{GAN}(F, D_X, Y, X) ={}& \mathbb{E}_{x}[\log D_X(x)]\\ &+ \mathbb{E}_{y}[\log(1 - D_X(F(y)))]\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{cyc}(G, F) ={}& \mathbb{E}_{x}\lVert F(G(x)) - x\rVert_1\\ &+ \mathbb{E}_{y}\lVert G(F(y)) - y\rVert_1\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{identity}(G, F) ={}& \mathbb{E}_{y}\lVert G(y) - y\rVert_1\\ &+ \mathbb{E}_{x}\lVert F(x) - x\rVert_1\end{aligned}",
)
CYCLE_SLIPS = (
    "**Two slips of the seed post, corrected here.** (1) F's adversarial term is judged by $D_X$, the "
    "discriminator of F's target domain X: $\\mathbb{E}_y[\\log(1 - D_X(F(y)))]$; the post writes "
    "$D_Y(F(y))$, which would ask Y's discriminator about points of X. (2) The backward cycle starts in Y "
    "and goes through F, then G: $\\lVert G(F(y)) - y\\rVert_1$; the post writes $\\lVert F(G(y)) - y\\rVert_1$, "
    "which feeds y to G (made for X) and compares a point of X with y."
)
CYCLE_TEXT = (
    "G translates X to Y and F translates Y to X; $D_Y$ tells Y's samples from G's, $D_X$ tells X's from "
    "F's (Zhu et al. 2017). The data are unpaired: a batch of x and a batch of y are drawn on their own. "
    "G and F minimise the objective, $D_X$ and $D_Y$ maximise its GAN terms: as everywhere in the app, "
    "the code trains each GAN term with the run's loss variant ($\\ell_D$ for the discriminators, "
    "$\\ell_G$, non-saturating by default, for the translators), so the log terms below are the minimax "
    "form of the paper (eq. 1). The cycle loss (eq. 2) asks that going there and back returns the input; "
    "the identity loss (section 5.2, from Taigman et al. 2017) that a translator fed its own target "
    "domain leaves it alone. The code's $\\lVert\\cdot\\rVert_1$ is the L1 norm of each sample, averaged "
    "over the batch; the authors' code averages over every element instead (a λ of theirs is worth "
    "λ / d here, d the sample's size). " + CYCLE_SLIPS
)


CYCLE_IMAGES_TEXT = (
    "**On images** (the CycleGAN page's digits): X is one half of the 8×8 digits, Y the other half with "
    "inverted grey levels, T(x) = −x on the [−1, 1] scale; a classifier of Y is the digits classifier "
    "applied to $T^{-1}(y) = -y$, which reads how many G(x) keep x's digit. The cycle loss does not "
    "decide it alone: small convolutional translators keep the digit with a light cycle weight, a "
    "heavy one lets G and F copy their input (the cycle closes, nothing is translated), and MLP "
    "translators without the cycle send every digit to one. Chu, Zhmoginov & Sandler (2017, "
    "\"CycleGAN, a Master of Steganography\") found that a trained G can hide x in low-amplitude "
    "detail of G(x) that F reads back, so a small noise added to G(x) wrecks F(G(x)). The page's probe "
    "adds that noise: on the app's digit runs F damps it instead (the error rises by a fifth of the "
    "noise or less), since inverting loses nothing and G has nothing to hide (docs/cyclegan.md)."
)

SECTIONS: tuple[Section, ...] = (
    Section(
        "1. The minimax game",
        "Two networks play against each other. **D** (the discriminator) outputs the probability "
        "$D(x)$ that its input is real; **G** (the generator) maps noise $z$ to a sample. D maximises "
        "$V$: $\\log D(x)$ rewards calling real samples real, $\\log(1-D(G(z)))$ rewards calling fakes "
        "fake. In this minimax game G minimises the same $V$, that is, it tries to make $D(G(z))$ "
        "large (the non-saturating G loss of section 4, the app's default, gives G a different "
        "objective with the same fixed point). Training alternates, as in the code on the right: "
        "(1) D's loss and a step of D's optimizer with G fixed, then (2) G's loss and a step of G's "
        "optimizer with D fixed.\n\n"
        "Seed 000 says that as $D(G(z)) \\to 1$, $\\log(1-D(G(z))) \\to 0$; it goes to "
        "$-\\infty$ (corrected here). That limit is about a **fixed** D that G fools: against the "
        "best D for each G, $D^*$ (section 3), a better G drives $D^*(G(z))$ toward $\\tfrac12$, "
        "not 1, and $V(D^*, G)$ falls toward its minimum $-\\log 4$, reached when "
        "$p_g = p_{data}$. $V$ approaches 0 from below only when D is right everywhere: "
        "$D(x)\\to 1$, $D(G(z))\\to 0$.",
        (
            r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]",
            r"D(G(z)) \to 1 \;\Rightarrow\; \log(1-D(G(z))) \to -\infty \quad(\text{D fixed})",
            r"\min_G V(D^*_G, G) = -\log 4 \;\text{ at }\; p_g = p_{data},\; D^* = \tfrac12",
        ),
        (gan.GanTrainer._step,),
    ),
    Section(
        "2. D's loss is binary cross-entropy (three equal forms)",
        "Maximising $V$ over D is minimising the binary cross-entropy with label 1 for real and 0 "
        "for fake. With D's logit $l$ and $\\sigma$ the sigmoid ($D = \\sigma(l)$), "
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
        "$D^*$. Substituting $D^*$ back gives the Jensen-Shannon divergence (Goodfellow et al. 2014, "
        "Theorem 1): G, facing the best D, minimises JS, which is 0 only when $p_g = p_{data}$, "
        "where $D^* = 1/2$ everywhere. When the two supports do not overlap, JS is stuck at "
        "$\\log 2$ and gives G no gradient: the motivation for WGAN. The **D\\* on 1-D** page "
        "draws $D^*$ with the first function on the right and integrates JS and $V(D^*, G)$, each "
        "written out on its own, over the whole line with the second (log densities, so no "
        "$0\\cdot\\log 0$ or underflow), then shows $V(D^*, G)$ beside $-\\log 4 + 2\\,\\mathrm{JS}$: "
        "two separate computations that agree to 1e-10.",
        (
            r"D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}",
            r"V(D^*, G) = -\log 4 + 2\,\mathrm{JS}(p_{data} \,\|\, p_g)",
        ),
        (onedim.d_star, onedim._js_v_integrands, onedim.exact_divergences),
    ),
    Section(
        "4. G's loss: saturating and non-saturating",
        "The minimax G loss $\\log(1-\\sigma(l_f))$ has derivative $-\\sigma(l_f)$ with respect to "
        "the logit: when D confidently rejects the fakes early in training, $\\sigma(l_f)\\to 0$ and "
        "G gets no gradient. The non-saturating loss $-\\log\\sigma(l_f)$ (Goodfellow et al. 2014, "
        "section 3) has the same fixed point and derivative $-(1-\\sigma(l_f))$, largest exactly "
        "then. With it, G no longer minimises $V$: D and G optimise two different values, so the "
        "game is no longer zero-sum.\n\n"
        "The seed's MNIST post writes G's loss as the saturating $\\min_G \\log(1-D(G(z)))$, but "
        "its code, `criterion(discriminator(gen_imgs), real_labels)` with `BCELoss`, computes "
        "$-\\log D(G(z))$: it trains the **non-saturating** loss (corrected here; the app names the "
        "two and trains the one you pick).",
        (
            r"L_G^{\text{minimax}} = \mathbb{E}_z[\log(1-\sigma(l_f))], \qquad \frac{\partial}{\partial l}\log(1-\sigma(l)) = -\sigma(l)",
            r"L_G^{\text{non-sat}} = -\mathbb{E}_z[\log\sigma(l_f)], \qquad \frac{\partial}{\partial l}\left(-\log\sigma(l)\right) = -(1-\sigma(l))",
        ),
        (losses.minimax_g_loss, losses.non_saturating_g_loss),
    ),
    Section(
        "5. WGAN: the Wasserstein distance",
        "WGAN's critic is a regression, not a classifier: no sigmoid, so here $D(x)$ is the raw "
        "score $l(x)$. For a 1-Lipschitz critic, $\\max_D \\mathbb{E}[D(x)] - \\mathbb{E}[D(G(z))]$ is "
        "the Wasserstein-1 distance, which keeps giving G a gradient when the supports do not "
        "overlap (Arjovsky et al. 2017). The original WGAN keeps D Lipschitz by clipping every "
        "weight to $[-c, c]$; WGAN-GP (Gulrajani et al. 2017) instead penalises the gradient norm "
        "at random interpolates $\\hat x$, one $\\epsilon$ per sample, the norm per sample.",
        (
            r"L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)], \qquad L_G = -\mathbb{E}_z[D(G(z))]",
            r"L_{GP} = \lambda\,\mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2\big],\quad \hat x = \epsilon x + (1-\epsilon)\tilde x",
        ),
        (losses.wgan_d_terms, losses.critic_g_loss, losses.gradient_penalty),
    ),
    Section(
        "6. Hinge loss",
        "From SVMs via Geometric GAN (Lim and Ye 2017): D (raw score, no sigmoid) tries to push "
        "real samples above $+1$ and fakes below $-1$; samples already beyond the margin contribute "
        "no gradient. G maximises D's score on its fakes. At $p_g = p_{data}$ the loss at each $x$ "
        "is $p(x)\\,[\\max(0, 1-D) + \\max(0, 1+D)]$, which is $2p(x)$ for **any** $D$ in "
        f"$[-1, 1]$: every such D is optimal and $L_D = {losses.get('hinge').equilibrium['loss_d']:g}$. "
        "There is no single equilibrium output (0 is just one of them).",
        (
            r"L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))], \qquad L_G = -\mathbb{E}_z[D(G(z))]",
        ),
        (losses.hinge_d_terms,),
    ),
    Section(
        "7. Least squares (LSGAN)",
        "D (raw score, no sigmoid) regresses real samples to 1 and fakes to 0; G pushes its fakes "
        "towards 1 (Mao et al. 2017, targets a = 0, b = c = 1). The squares penalise fakes far from "
        "the decision boundary even when they are on the right side of it. At equilibrium D outputs "
        f"{losses.get('lsgan').equilibrium['d']:g}: $L_D = {losses.get('lsgan').equilibrium['loss_d']:g}$, "
        f"$L_G = {losses.get('lsgan').equilibrium['loss_g']:g}$.",
        (
            r"L_D = \tfrac12\mathbb{E}_x[(D(x)-1)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2], \qquad L_G = \tfrac12\mathbb{E}_z[(D(G(z))-1)^2]",
        ),
        (losses.lsgan_d_terms, losses.lsgan_g_loss),
    ),
    Section(
        "8. The conditional GAN: a discriminator that checks the label",
        "G draws $G(z, c)$ for a condition $c$ (here a class label); D judges pairs $(c, x)$. Seed 004 "
        "gives D three terms: a real image with its own label is real; G's image with the label it was "
        "asked for is fake; and a **real image with a wrong label** ($p_{data'}$, the mismatched pairs) "
        "is fake too. The third term is the matching-aware discriminator of Reed et al. 2016 (GAN-CLS): "
        "without it D could accept any realistic image whatever its label. Seed 004 says the term lets "
        "D tell whether *G's output* matches its label; the term itself is about **real** images with "
        "wrong labels (corrected here): G's images are all called fake by the second term anyway, and G "
        "learns to follow the label because D has learnt what a matching pair looks like.\n\n"
        "**Weights.** The seed adds the three terms with weight 1. Reed et al.'s Algorithm 1 takes "
        "$\\log s_r + (\\log(1-s_w) + \\log(1-s_f))/2$: the wrong and the fake term weigh ½ each. The app "
        "keeps the seed's sum with a weight λ on the third term (`mismatch_weight`, 1 by default): with "
        "λ = 0 $L_D$ is exactly the GAN's (same curves, same dashed lines), and the term's own curve shows "
        "beside the real and fake terms. Every loss variant works conditionally: the wrong pairs take the "
        "variant's fake term (code on the right). When labels are a function of the image (digits), at "
        "the optimum the wrong term goes to 0 and real + fake goes to the GAN's $2\\log 2$.\n\n"
        "**How D reads the label.** Concatenation (one-hot or a learned vector beside $x$, Mirza & "
        "Osindero 2014) or the projection discriminator of Miyato & Koyama 2018: "
        "$D(x, y) = \\psi(\\phi(x)) + e_y^\\top \\phi(x)$, an inner product of D's features with a "
        "learned vector per class.",
        (
            r"\begin{aligned}\max_D V ={}& \mathbb{E}_{(c,x)\sim p_{data}}[\log D(c,x)]"
            r"\\ &+ \mathbb{E}_{c\sim p_{data},\,z\sim p_z}[\log(1-D(c,G(c,z)))]"
            r"\\ &+ \lambda\,\mathbb{E}_{(c,x)\sim p_{data'}}[\log(1-D(c,x))]\end{aligned}",
            r"\begin{aligned}&\text{Reed et al. 2016:}\\ &L_D = -\log s_r - \tfrac12\left(\log(1-s_w) + \log(1-s_f)\right)\end{aligned}",
            r"D(x, y) = \psi(\phi(x)) + e_y^\top \phi(x)\quad\text{(projection D)}",
        ),
        (losses.conditional_d_terms, cgan.CganTrainer._step, conditional._CondD._head),
    ),
    Section(
        "9. CycleGAN: two translators, two discriminators, the cycle",
        CYCLE_TEXT + "\n\n" + CYCLE_IMAGES_TEXT,
        CYCLE_FORMULAS,
        (cycle.CycleTrainer.g_losses, cycle.CycleTrainer.d_losses, losses.cycle_loss, losses.identity_loss),
    ),
)


def equilibrium_table() -> list[dict[str, str]]:
    """Each loss's classic defaults and its values at p_g = p_data, for the page's table.

    Hinge has no single equilibrium output: at p_g = p_data any D in [-1, 1] gives L_D = 2
    (section 6), so its row says so instead of listing losses.py's representative D = 0."""
    rows = []
    for name in losses.NAMES:
        loss = losses.get(name)
        d = loss.defaults
        eq = ", ".join(f"{k} = {v:.3f}" if not (k == "d" and loss.family == "hinge") else "d = any value in [−1, 1]"
                       for k, v in loss.equilibrium.items())  # fmt: skip
        opt = f"{d.optimizer} lr {d.lr_d:g}" + (f", β=({d.beta1:g}, {d.beta2:g})" if d.optimizer == "adam" else "")
        extra = f", clip ±{d.clip:g}" if d.clip else (f", λ = {d.gp_weight:g}" if d.gp_weight else "")
        rows.append({"loss": loss.title, "equilibrium": eq, "classic defaults": f"{opt}, {d.d_steps} D step(s){extra}"})
    return rows
