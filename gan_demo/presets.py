"""One-click presets: a healthy run for each loss, and each classic failure, reproducible on a CPU.

A teacher hands out one link per preset: ``<app>/train?preset=<name>`` (or ``/toys_2d``,
``/d_star_1d``, as ``Preset.page`` says) opens the page with the preset's settings filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gan_demo.config import TrainConfig, defaults_for
from gan_demo.toybench import BEST


@dataclass(frozen=True)
class Preset:
    name: str  # slug used in links: ?preset=<name>
    title: str  # shown on the button
    page: str  # "train", "toys_2d" or "d_star_1d": where the preset opens
    overrides: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields over the loss defaults
    # the state the diagnosis should reach (a diagnostics state id); for a healthy preset "healthy"
    # means no failure: a converged toy may also read "near_equilibrium" (D at chance), which is fine
    expect: str = "healthy"
    watch_for: str = ""  # what the student should look at while it trains

    def config(self) -> TrainConfig:
        """The loss's classic defaults on the preset's data, then the preset's overrides."""
        loss = self.overrides.get("loss", "non-saturating")
        data = self.overrides.get("data", "digits")
        return TrainConfig.from_dict({**defaults_for(loss, data), **self.overrides})


_FAST = dict(data="digits", model="mlp", batch_size=128, steps=1200)  # 8×8 digits, seed 001's MLP

_ALL: list[Preset] = [
    # ------------------------------------------------------------ healthy runs, one per loss
    Preset("healthy-non-saturating", "Healthy: non-saturating", "train",
           dict(_FAST, loss="non-saturating"), "healthy",
           "The first ~800 steps the samples all look alike (low diversity) while D pulls ahead; then "
           "G spreads out: L_D settles near 0.4, L_G near 3, and the grid shows distinct digits."),
    Preset("healthy-minimax", "Healthy: minimax (saturating)", "train",
           dict(_FAST, loss="minimax"), "healthy",
           "With D no stronger than G, even the saturating loss learns: D(G(z)) stays above 0.05 "
           "and ‖∇G‖ does not vanish. Compare with the preset d-overpowers-g."),
    Preset("healthy-lsgan", "Healthy: least squares (LSGAN)", "train",
           dict(_FAST, loss="lsgan"), "healthy",
           "L_D stays well above 0 (about 0.05-0.1, equilibrium 0.25) and D's outputs on fakes rise "
           "toward 0.1-0.2 as the samples diversify."),
    Preset("healthy-hinge", "Healthy: hinge (with packing)", "train",
           dict(_FAST, loss="hinge", pack=2), "healthy",
           "On these digits the hinge alone stays collapsed (diversity ~20 % of a real batch); packing "
           "2 samples per D input lets D see diversity, and after ~800 steps the digits spread out."),
    Preset("healthy-wgan-gp", "Healthy: WGAN-GP", "train",
           dict(data="digits", model="mlp", loss="wgan-gp", steps=400), "healthy",
           "−L_D, the critic's estimate of W1, falls steadily (about 4 → 1) and the gradient norm at "
           "the interpolates stays near 1: a loss curve that tracks sample quality."),
    # ------------------------------------------------------------ healthy toys (toybench's tuning)
    Preset("healthy-ring8", "Healthy: ring of 8 Gaussians", "toys_2d",
           dict(BEST["ring8"], data="ring8"), "healthy",
           "Packing (D judges several samples at once), instance noise and learning-rate decay: all 8 "
           "modes get covered early, and the points tighten onto them as the blur and the learning rate "
           "fall to 0."),
    Preset("healthy-grid25", "Healthy: grid of 25 Gaussians", "toys_2d",
           dict(BEST["grid25"], data="grid25"), "healthy",
           "The hinge loss with packing, instance noise and learning-rate decay. G first spreads over "
           "the whole square while D's margin swings back and forth (the panel calls it rotation while "
           "the learning rate is high); as the rate falls, the swings fade and the points gather onto "
           "all 25 modes."),
    Preset("healthy-mix2", "Healthy: mixture of 2 Gaussians", "d_star_1d",
           dict(BEST["mix2"], data="mix2"), "healthy",
           "p_g grows two bumps at ±3 and D(x) flattens toward D* = 1/2 where p_g matches p_data; "
           "JS(p_data‖p_g) falls toward 0."),
    # ------------------------------------------------------------ each classic failure
    Preset("d-overpowers-g", "Failure: D overpowers G (saturating loss)", "train",
           dict(data="digits", loss="minimax", lr_d=1e-3, d_steps=5, steps=300), "vanishing_g_gradient",
           "Within 100 steps L_D drops to ~0 and D(G(z)) to ~0; ‖∇G‖ then decays toward 1e-8 because "
           "the minimax loss's gradient is −D(G(z)): G stops learning and the grid freezes."),
    Preset("d-overpowers-g-non-saturating", "Same strong D, non-saturating loss", "train",
           dict(data="digits", loss="non-saturating", lr_d=1e-3, d_steps=5, steps=300), "d_overpowers_g",
           "D still wins (L_D near 0, D accuracy 100 %), but with the non-saturating loss ‖∇G‖ stays "
           "large (tens) and the samples keep diversifying: the loss choice, not D, stopped G before."),
    Preset("oscillation", "Failure: oscillation (high learning rate, β1 0.9)", "train",
           dict(data="digits", loss="hinge", lr_d=2e-3, lr_g=2e-3, beta1=0.9, steps=600), "oscillation",
           "L_D jumps between 0 (D wins outright) and bursts near 1 while L_G swings between 3 and 13; "
           "the samples change wholesale from one snapshot to the next."),
    Preset("mode-collapse", "Failure: mode collapse (ring of 8)", "toys_2d",
           dict(data="ring8", loss="non-saturating", steps=1500), "mode_collapse",
           "All 2,500 points gather near one or two modes and jump to another mode every few hundred "
           "steps (mode hopping); modes captured stays at 0-1 of 8."),
    Preset("mode-collapse-1d", "Failure: mode collapse (two bumps)", "d_star_1d",
           dict(data="mix2", loss="non-saturating", lr_d=1e-3, lr_g=1e-3, beta1=0.9, steps=600), "mode_collapse",
           "p_g piles onto one of the two bumps and stays there: D* is ~1 over the missed bump, but G "
           "gets no gradient that carries mass across the gap."),
    Preset("divergence", "Failure: divergence (WGAN without clipping)", "train",
           dict(data="digits", loss="wgan", clip=0.0, lr_d=5e-3, lr_g=5e-3, steps=100), "diverged",
           "Without clipping or a penalty the critic is unbounded: −L_D grows past a million within "
           "10 steps and keeps growing; G's gradient is useless."),
    Preset("wgan-clip-too-tight", "Failure: WGAN clipping too tight (c = 0.0001)", "train",
           dict(data="digits", loss="wgan", clip=1e-4, steps=300), "clipping_kills_capacity",
           "About 90 % of the critic's weights sit at ±c and −L_D (the W1 estimate) is ~1e-6: the "
           "critic is nearly a fixed linear function and tells G almost nothing."),
]  # fmt: skip

PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def get(name: str) -> Preset:
    """The preset called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def for_page(page: str) -> list[Preset]:
    return [p for p in PRESETS.values() if p.page == page]
