"""The Theory page's content: each formula of the seed documents beside the code that computes it.

Each section names functions of ``gan_demo``; the page shows their source with ``inspect.getsource``,
so the code on the page is the code that runs (tests/test_theory.py checks that each one is called
when the feature it explains runs, and that section 1's code makes the two updates in order).
Numbers in the texts (equilibrium values, the healthy presets' end values) are formatted from
``losses.py`` and ``presets.py``, where the tests pin them.

Where a seed document is wrong, the text says so and teaches the corrected form (design.md, "The
seeds' slips").

The texts are keys of the ``theory`` catalogue (``gan_demo/content/locale/{en,zh}/LC_MESSAGES/theory.po``,
issue 19), rendered in the reader's language when read; the formulas (LaTeX) and the code are shared
by both languages. A section's numbers are parameters of its message, computed here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gan_demo import conditional, losses, onedim, presets
from gan_demo.content import Msg, t
from gan_demo.train import cgan, cycle, gan


@dataclass(frozen=True)
class Section:
    key: str  # catalogue key of the section: its title is ``<key>.title``, its text ``<key>.text``
    formulas: tuple[str, ...]  # LaTeX blocks, the same in every language
    code: tuple[Callable, ...]  # functions whose source is shown beside the formulas
    params: dict[str, Any] = field(default_factory=dict, hash=False)  # the numbers the text shows

    @property
    def title(self) -> str:
        """The section's title in the reader's language ("1. The minimax game"; every language keeps
        the number first, so ``title.startswith("8.")`` finds a section in any of them)."""
        return t(f"{self.key}.title")

    @property
    def text(self) -> str:
        """The section's Markdown text (with $...$ maths) in the reader's language."""
        return t(f"{self.key}.text", **self.params)


def source(fn: Callable) -> str:
    """The source of ``fn`` as it runs (methods and functions alike)."""
    return inspect.getsource(fn)


# The one notation of the app, stated on Home, Train and Theory: a Msg, so that one module constant
# shows in each reader's language (``str(NOTATION)``; st.markdown renders it with str()).
NOTATION = Msg("theory.notation")


def _claim(preset: str, metric: str) -> presets.Claim:
    return next(c for c in presets.get(preset).claims if c.metric == metric and c.stat == "end")


def curves_note() -> str:
    """How to read the loss curves against their dashed lines (Train page), with the healthy preset's
    end values from its claims (tests/test_presets.py checks them on the seeded run)."""
    ld, acc = _claim("healthy-non-saturating", "loss_d"), _claim("healthy-non-saturating", "d_acc")
    return t("theory.curves_note", ld_lo=ld.lo, ld_hi=ld.hi, line=losses.get("non-saturating").equilibrium["loss_d"],
             acc_lo=100 * acc.lo, acc_hi=100 * acc.hi)  # fmt: skip


# CycleGAN (Zhu et al. 2017), corrected: the CycleGAN page and section 9 show these
CYCLE_FORMULAS: tuple[str, ...] = (  # short lines: the Theory page's formula column is narrow, and projected
    r"\begin{aligned}\mathcal{L}(G, F, D_X, D_Y) ={}& \mathcal{L}_{GAN}(G, D_Y, X, Y)\\ &+ \mathcal{L}_{GAN}(F, D_X, Y, X)"
    r"\\ &+ \lambda_{cyc}\,\mathcal{L}_{cyc}(G, F)\\ &+ \lambda_{id}\,\mathcal{L}_{identity}(G, F)\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{GAN}(G, D_Y, X, Y) ={}& \mathbb{E}_{y}[\log D_Y(y)]\\ &+ \mathbb{E}_{x}[\log(1 - D_Y(G(x)))]\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{GAN}(F, D_X, Y, X) ={}& \mathbb{E}_{x}[\log D_X(x)]\\ &+ \mathbb{E}_{y}[\log(1 - D_X(F(y)))]\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{cyc}(G, F) ={}& \mathbb{E}_{x}\lVert F(G(x)) - x\rVert_1\\ &+ \mathbb{E}_{y}\lVert G(F(y)) - y\rVert_1\end{aligned}",
    r"\begin{aligned}\mathcal{L}_{identity}(G, F) ={}& \mathbb{E}_{y}\lVert G(y) - y\rVert_1\\ &+ \mathbb{E}_{x}\lVert F(x) - x\rVert_1\end{aligned}",
)
# Msgs: the CycleGAN page shows CYCLE_TEXT (with the slips at its end) in its reader's language
CYCLE_SLIPS = Msg("theory.s9.slips")
CYCLE_IMAGES_TEXT = Msg("theory.s9.images")  # the image pair and the steganography probe (the page's digits)
CYCLE_TEXT = Msg("theory.s9.text", slips=CYCLE_SLIPS, images=CYCLE_IMAGES_TEXT)



SECTIONS: tuple[Section, ...] = (
    Section(
        "theory.s1",
        (
            r"\min_G \max_D V(D,G) = \mathbb{E}_{x\sim p_{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1-D(G(z)))]",
            r"D(G(z)) \to 1 \;\Rightarrow\; \log(1-D(G(z))) \to -\infty \quad(\text{D fixed})",
            r"\min_G V(D^*_G, G) = -\log 4 \;\text{ at }\; p_g = p_{data},\; D^* = \tfrac12",
        ),
        (gan.GanTrainer._step,),
    ),
    Section(
        "theory.s2",
        (
            r"L_D = -\frac{1}{N}\sum_i \log\sigma(l_{r,i}) - \frac{1}{N}\sum_i \log(1-\sigma(l_{f,i}))"
            r" = \overline{\operatorname{softplus}(-l_r)} + \overline{\operatorname{softplus}(l_f)}",
        ),
        (losses.bce_d_terms,),
    ),
    Section(
        "theory.s3",
        (
            r"D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}",
            r"V(D^*, G) = -\log 4 + 2\,\mathrm{JS}(p_{data} \,\|\, p_g)",
        ),
        (onedim.d_star, onedim._js_v_integrands, onedim.exact_divergences),
    ),
    Section(
        "theory.s4",
        (
            r"L_G^{\text{minimax}} = \mathbb{E}_z[\log(1-\sigma(l_f))], \qquad \frac{\partial}{\partial l}\log(1-\sigma(l)) = -\sigma(l)",
            r"L_G^{\text{non-sat}} = -\mathbb{E}_z[\log\sigma(l_f)], \qquad \frac{\partial}{\partial l}\left(-\log\sigma(l)\right) = -(1-\sigma(l))",
        ),
        (losses.minimax_g_loss, losses.non_saturating_g_loss),
    ),
    Section(
        "theory.s5",
        (
            r"L_D = \mathbb{E}_z[D(G(z))] - \mathbb{E}_x[D(x)], \qquad L_G = -\mathbb{E}_z[D(G(z))]",
            r"L_{GP} = \lambda\,\mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2\big],\quad \hat x = \epsilon x + (1-\epsilon)\tilde x",
        ),
        (losses.wgan_d_terms, losses.critic_g_loss, losses.gradient_penalty),
    ),
    Section(
        "theory.s6",
        (
            r"L_D = \mathbb{E}_x[\max(0, 1 - D(x))] + \mathbb{E}_z[\max(0, 1 + D(G(z)))], \qquad L_G = -\mathbb{E}_z[D(G(z))]",
        ),
        (losses.hinge_d_terms,),
        params={"hinge_ld": losses.get("hinge").equilibrium["loss_d"]},
    ),
    Section(
        "theory.s7",
        (
            r"L_D = \tfrac12\mathbb{E}_x[(D(x)-1)^2] + \tfrac12\mathbb{E}_z[D(G(z))^2], \qquad L_G = \tfrac12\mathbb{E}_z[(D(G(z))-1)^2]",
        ),
        (losses.lsgan_d_terms, losses.lsgan_g_loss),
        params={k: losses.get("lsgan").equilibrium[k] for k in ("d", "loss_d", "loss_g")},
    ),
    Section(
        "theory.s8",
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
        "theory.s9",
        CYCLE_FORMULAS,
        (cycle.CycleTrainer.g_losses, cycle.CycleTrainer.d_losses, losses.cycle_loss, losses.identity_loss),
        params={"slips": CYCLE_SLIPS, "images": CYCLE_IMAGES_TEXT},
    ),
)


def equilibrium_table() -> list[dict[str, str]]:
    """Each loss's classic defaults and its values at p_g = p_data, for the page's table, in the
    reader's language (the row's fields are identifiers: "loss", "equilibrium", "defaults";
    the page labels its columns with ``theory.table.col_*``).

    Hinge has no single equilibrium output: at p_g = p_data any D in [-1, 1] gives L_D = 2
    (section 6), so its row says so instead of listing losses.py's representative D = 0."""
    rows = []
    for name in losses.NAMES:
        loss = losses.get(name)
        d = loss.defaults
        eq = ", ".join(f"{k} = {v:.3f}" if not (k == "d" and loss.family == "hinge") else t("theory.table.hinge_d")
                       for k, v in loss.equilibrium.items())  # fmt: skip
        betas = t("theory.table.betas", beta1=d.beta1, beta2=d.beta2) if d.optimizer == "adam" else ""
        extra = (t("theory.table.clip", clip=d.clip) if d.clip
                 else t("theory.table.gp", gp=d.gp_weight) if d.gp_weight else "")  # fmt: skip
        defaults = t("theory.table.defaults", optimizer=d.optimizer, lr=d.lr_d, betas=betas, steps=d.d_steps,
                     extra=extra)  # fmt: skip
        rows.append({"loss": str(loss.title), "equilibrium": eq, "defaults": defaults})
    return rows
