"""One-click presets: a healthy run for each loss, and each classic failure, reproducible on a CPU.

A teacher hands out one link per preset: ``<app>/train?preset=<name>`` (or ``/toys_2d``,
``/d_star_1d``, as ``Preset.page`` says) opens the page with the preset's settings filled in.

Every number a preset's "watch for" text states comes from one of its :class:`Claim` s: the text is
its story (no numbers) followed by the claims rendered, and tests/test_presets.py trains each preset
with its seed and checks every claim against the run (``python tests/test_presets.py`` prints the
measured values; docs/diagnosis.md holds them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gan_demo import diagnostics
from gan_demo.config import TrainConfig, defaults_for
from gan_demo.toybench import BEST

SPAN = 100  # steps: "peaks at" and "stays above" read medians over this many steps ("ends at": the diagnosis window)
WARMUP = 200  # steps: "stays above" and a snapshot's "reaches at most" skip the first steps (a blob)
_PERCENT = ("d_acc", "clip_frac", "diversity", "high_quality", "top_share", "label_acc", "confidence", "cycle_err",
            "dist_t", "t_match", "label_kept", "label_kept_f")  # shown as %
_SNAPSHOT = ("diversity", "modes", "high_quality", "top_share", "fd_ratio", "label_acc", "confidence")  # snapshots
_STATS = ("end", "peak", "low", "max", "first_above", "first_below")


def _num(x: float) -> str:
    """A number as the texts print it: 0.05, 2.3, 1e6, 2e-5 (no '+', no trailing zeros)."""
    if x == 0 or 1e-3 <= abs(x) < 1e4:
        return f"{x:.3g}"
    mant, exp = f"{x:.1e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


@dataclass(frozen=True)
class Claim:
    """A number a preset's text states about its seeded run, and how to read it off the run.

    ``metric``: a Trainer metric ("loss_d", "grad_g", "d_acc", ...), or a snapshot number:
    "diversity" (mean pairwise distance of the fixed-noise samples / a real batch's, images),
    "modes" (modes captured), "high_quality" (share of samples within 3σ of a mode) or "top_share"
    (toys: share of the samples nearest to the most crowded mode; images: share of the fixed-noise
    samples in the classifier's most frequent class), "fd_ratio" (images: the quality report's Fréchet
    distance over its real-vs-real floor, n = 64, :mod:`gan_demo.metrics.quality`); the conditional
    GAN's "label_acc" (the share of G's samples the classifier puts in the class they were asked for)
    and "confidence" (its mean top probability on them), :mod:`gan_demo.metrics.conditional`.
    ``stat``: "end" (the median over the diagnosis window, the number the diagnosis panel quotes:
    :func:`diagnostics.window_median`; snapshots: the last one), "peak" (the
    largest such median), "low" (the smallest after ``WARMUP``), "max" (snapshots: the largest value
    after ``WARMUP``), "first_above" / "first_below" (the first logged step where |value| passes ``lo``;
    it must come by step ``hi``). The claim holds when the value lies in [``lo``, ``hi``] ("low":
    at least ``lo``; "first_*": a step no later than ``hi``).
    """

    metric: str
    stat: str
    lo: float
    hi: float
    label: str  # how the text names the metric: "L_D", "‖∇G‖", "D's accuracy"

    def __post_init__(self) -> None:
        if self.stat not in _STATS or not (self.lo <= self.hi or self.stat.startswith("first_")):
            raise ValueError(f"bad claim {self}: stat must be one of {_STATS}, with lo <= hi")

    def _fmt(self, x: float) -> str:
        return f"{100 * x:.0f} %" if self.metric in _PERCENT else _num(x)

    def _range(self) -> str:
        if self.lo == self.hi:
            return self._fmt(self.lo)
        if self.metric in _PERCENT:
            return f"{100 * self.lo:.0f}–{100 * self.hi:.0f} %"
        return f"{_num(self.lo)}–{_num(self.hi)}"

    @property
    def text(self) -> str:
        """The claim as the preset's text states it."""
        if self.stat == "first_above":  # a metric by its size (|L_D|); a snapshot's share as it is
            label = self.label if self.metric in _SNAPSHOT else f"|{self.label}|"
            return f"{label} passes {self._fmt(self.lo)} by step {self.hi:.0f}"
        if self.stat == "first_below":
            return f"{self.label} falls below {self._fmt(self.lo)} by step {self.hi:.0f}"
        if self.stat == "low":
            return f"{self.label} stays above {self._fmt(self.lo)} after step {WARMUP}"
        verb = {"end": "ends at", "peak": "peaks at", "max": "reaches at most"}[self.stat]
        return f"{self.label} {verb} {self._range()}"

    def measure(self, metrics: Mapping[str, Sequence[float]], snapshots: Sequence[Mapping[str, Any]] = ()) -> float:
        """The claimed number on a run: ``metrics`` the logged history (columns, "step" first),
        ``snapshots`` one dict per snapshot with "step" and the snapshot numbers (see above).
        A "first_*" claim that never happens measures ``inf``."""
        if self.metric in _SNAPSHOT:
            shots = [s for s in snapshots if self.metric in s]
            if not shots:
                raise ValueError(f"claim on {self.metric!r} needs snapshots with it")
            if self.stat in ("first_above", "first_below"):  # the first snapshot past lo
                past = [s["step"] for s in shots
                        if (s[self.metric] > self.lo if self.stat == "first_above" else s[self.metric] < self.lo)]
                return float(past[0]) if past else math.inf
            if self.stat == "end":
                return float(shots[-1][self.metric])
            late = [float(s[self.metric]) for s in shots if s["step"] >= WARMUP]
            return {"max": max, "peak": max, "low": min}[self.stat](late)
        steps = np.asarray(metrics["step"], dtype=np.float64)
        values = np.asarray(metrics[self.metric], dtype=np.float64)
        if self.stat in ("first_above", "first_below"):
            hit = np.abs(values) > self.lo if self.stat == "first_above" else np.abs(values) < self.lo
            return float(steps[np.argmax(hit)]) if hit.any() else math.inf
        if self.stat == "end":  # what the diagnosis panel quotes at the end of the run
            return diagnostics.window_median(metrics, self.metric)
        medians = np.array([np.median(values[(steps > s - SPAN) & (steps <= s)]) for s in steps])
        if self.stat in ("peak", "max"):
            return float(medians.max())
        return float(medians[steps >= WARMUP].min())

    def holds(self, value: float) -> bool:
        if self.stat == "first_above" or self.stat == "first_below":
            return value <= self.hi
        if self.stat == "low":
            return value >= self.lo
        return self.lo <= value <= self.hi


@dataclass(frozen=True)
class Preset:
    name: str  # slug used in links: ?preset=<name>
    title: str  # shown on the button
    page: str  # "train", "toys_2d" or "d_star_1d": where the preset opens
    overrides: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields over the loss defaults
    # the state the diagnosis should reach (a diagnostics state id); for a healthy preset "healthy"
    # means no failure: a converged toy may also read "near_equilibrium" (D at chance), which is fine.
    # CycleGAN's lessons (page "cyclegan", which has no diagnosis panel): "healthy", "arbitrary_map" or
    # "cycle_not_t", checked by their claims (tests/test_cycle.py)
    expect: str = "healthy"
    watch_for: str = ""  # what the student should look at while it trains (story, then the claims)
    claims: tuple[Claim, ...] = ()  # the numbers watch_for states, checked on the seeded run

    def config(self) -> TrainConfig:
        """The loss's classic defaults on the preset's data, then the preset's overrides."""
        loss = self.overrides.get("loss", "non-saturating")
        data = self.overrides.get("data", "digits")
        return TrainConfig.from_dict({**defaults_for(loss, data), **self.overrides})


def watch_text(story: str, claims: Sequence[Claim]) -> str:
    """A preset's "watch for" text: the story (no numbers), then each claim."""
    if not claims:
        return story
    # "ends at": the median over the diagnosis window, the number the panel quotes; "peaks at": the
    # largest median over SPAN steps (Claim.measure)
    return (f"{story} Seeded run (medians, as the diagnosis reads them): "
            + "; ".join(c.text for c in claims) + ".")  # fmt: skip


def _preset(name: str, title: str, page: str, overrides: dict[str, Any], expect: str, story: str,
            *claims: Claim) -> Preset:  # fmt: skip
    return Preset(name, title, page, overrides, expect, watch_text(story, claims), tuple(claims))


# the healthy image presets: the small DCGAN pair (models.ConvGenerator / ConvDiscriminator, 64
# channels) on the 8×8 digits. With seed 001's MLP pair (batch 128, 1,200 steps) they ended 4-13x the
# real-vs-real floor of the Fréchet distance, R10 firing for three of the five: docs/quality.md,
# "The image presets, judged by the quality report"
_DC = dict(data="digits", model="dcgan", hidden=64, batch_size=128, steps=3000)
_QUALITY = (Claim("fd_ratio", "end", 0.5, 2.0, "Fréchet distance / its floor (n = 64)"),
            Claim("top_share", "end", 0.1, 0.25, "the largest class's share"))  # fmt: skip

# CycleGAN on the 2-D domain pair (gan_demo.domains): 3,000 steps of the toy-sized nets, well under
# a minute on a CPU (docs/cyclegan.md)
_CYCLE = dict(objective="cyclegan", data="ring8-stretched", loss="non-saturating", steps=3000, log_every=20)
# CycleGAN on the digits and their inverted copies: small translators on 8×8 images; the readouts run
# the classifier over all 1,797 fixed inputs, so they are logged every 50 steps (docs/cyclegan.md)
_CYCLE_DIGITS = dict(objective="cyclegan", data="digits-inverted", loss="non-saturating", hidden=16, batch_size=64,
                     log_every=50, snapshot_every=100)  # fmt: skip

_ALL: list[Preset] = [
    # ------------------------------------------------------------ healthy runs, one per loss
    _preset("healthy-non-saturating", "Healthy: non-saturating", "train",
            dict(_DC, loss="non-saturating"), "healthy",
            "First blurred strokes, then distinct digits: the Quality panel's Fréchet distance falls "
            "toward its real-vs-real floor and the labels spread over the classes. D keeps a small "
            "edge: the curves end just on D's side of the dashed lines.",
            Claim("loss_d", "end", 1.25, 1.38, "L_D"), Claim("loss_g", "end", 0.7, 0.8, "L_G"),
            Claim("d_acc", "end", 0.6, 0.75, "D's accuracy"), *_QUALITY),
    _preset("healthy-minimax", "Healthy: minimax (saturating)", "train",
            dict(_DC, loss="minimax"), "healthy",
            "With D no stronger than G, even the saturating loss learns: D(G(z)) stays clear of the "
            "level where its gradient vanishes, and the samples spread over the classes. Compare with the "
            "preset d-overpowers-g.",
            Claim("d_fake_g", "low", 0.3, 0.3, "D(G(z))"), Claim("loss_d", "end", 1.25, 1.38, "L_D"),
            Claim("d_acc", "end", 0.6, 0.75, "D's accuracy"), *_QUALITY),
    _preset("healthy-lsgan", "Healthy: least squares (LSGAN)", "train",
            dict(_DC, loss="lsgan"), "healthy",
            "L_D falls below its equilibrium line and comes back up toward it as the samples improve; "
            "D's outputs on the fakes rise toward one half.",
            Claim("loss_d", "low", 0.08, 0.08, "L_D"), Claim("loss_d", "end", 0.18, 0.24, "L_D"),
            Claim("d_fake", "end", 0.4, 0.5, "D(G(z))"), *_QUALITY),
    _preset("healthy-hinge", "Healthy: hinge", "train",
            dict(_DC, loss="hinge"), "healthy",
            "The digits sharpen while D separates the samples only a little better than chance: L_D "
            "ends just below its equilibrium line. (With the MLP pair the hinge stays collapsed on "
            "these digits; docs/diagnosis.md lists the runs.)",
            Claim("loss_d", "end", 1.7, 1.95, "L_D"), Claim("d_acc", "end", 0.55, 0.7, "D's accuracy"), *_QUALITY),
    _preset("healthy-wgan-gp", "Healthy: WGAN-GP", "train",
            dict(data="digits", model="mlp", loss="wgan-gp", steps=1000), "healthy",
            "−L_D, the critic's lower bound on K·W1 (K is near one under the gradient penalty), first rises while the critic learns, then falls as G "
            "improves, and the gradient norm at the interpolates stays near its target: a loss curve "
            "that tracks sample quality, here with the MLP pair.",
            Claim("w1", "peak", 3.8, 4.6, "−L_D"), Claim("w1", "end", 0.6, 1.0, "−L_D"),
            Claim("gp_norm", "end", 0.95, 1.15, "‖∇D(x̂)‖"), *_QUALITY),
    # ------------------------------------------------------------ healthy toys (toybench's tuning)
    _preset("healthy-ring8", "Healthy: ring of 8 Gaussians", "toys_2d",
            dict(BEST["ring8"], data="ring8"), "healthy",
            "Packing (D judges several samples at once), instance noise and learning-rate decay: every "
            "mode gets covered early, and the points tighten onto them as the blur and the learning "
            "rate fall to zero.",
            Claim("modes", "end", 8, 8, "modes captured"),
            Claim("high_quality", "end", 0.9, 1.0, "the high-quality share")),
    _preset("healthy-grid25", "Healthy: grid of 25 Gaussians", "toys_2d",
            dict(BEST["grid25"], data="grid25"), "healthy",
            "The hinge loss with packing, instance noise and learning-rate decay. G first spreads over "
            "the whole square while D's margin swings back and forth (the panel calls it rotation while "
            "the learning rate is high); as the rate falls, the swings fade and the points gather onto "
            "every mode.",
            Claim("modes", "end", 25, 25, "modes captured"),
            Claim("high_quality", "end", 0.9, 1.0, "the high-quality share")),
    _preset("healthy-mix2", "Healthy: mixture of 2 Gaussians", "d_star_1d",
            dict(BEST["mix2"], data="mix2"), "healthy",
            "p_g grows a bump on each of p_data's bumps, and the learned D(x) flattens toward "
            "D* = ½ where p_g matches p_data: D can only guess.",
            Claim("modes", "end", 2, 2, "modes captured"),
            Claim("d_real", "end", 0.45, 0.55, "D(x)"), Claim("d_fake", "end", 0.45, 0.55, "D(G(z))")),
    # ------------------------------------------------------------ each classic failure
    _preset("d-overpowers-g", "Failure: D overpowers G (saturating loss)", "train",
            dict(data="digits", loss="minimax", lr_d=1e-3, d_steps=5, steps=300), "vanishing_g_gradient",
            "D rejects every fake at once. The minimax loss's gradient with respect to D's logit is "
            "−D(G(z)), so ‖∇G‖ decays with it: G stops learning and the grid freezes.",
            Claim("loss_d", "first_below", 0.01, 30, "L_D"),
            Claim("d_fake", "end", 1e-7, 5e-6, "D(G(z))"), Claim("grad_g", "end", 1e-5, 5e-5, "‖∇G‖")),
    _preset("d-overpowers-g-non-saturating", "Same strong D, non-saturating loss", "train",
            dict(data="digits", loss="non-saturating", lr_d=1e-3, d_steps=5, steps=300), "d_overpowers_g",
            "D still wins, but with the non-saturating loss ‖∇G‖ stays large and the samples keep "
            "diversifying: the loss choice, not D, stopped G before.",
            Claim("loss_d", "end", 0.005, 0.03, "L_D"), Claim("d_acc", "end", 0.99, 1.0, "D's accuracy"),
            Claim("grad_g", "end", 40, 70, "‖∇G‖"),
            Claim("diversity", "end", 0.3, 0.45, "diversity (vs a real batch)")),
    _preset("d-wins-in-bursts", "Failure: learning rate too high, β1 0.9 (D wins, in bursts)", "train",
            dict(data="digits", loss="hinge", lr_d=2e-3, lr_g=2e-3, beta1=0.9, steps=600), "d_overpowers_g",
            "With a large learning rate and Adam's default momentum, D wins outright (L_D at zero) for "
            "long stretches, with bursts where G catches up; L_G swings and the samples collapse. The "
            "panel reads D overpowers G, and oscillation as the bursts pile up.",
            Claim("loss_d", "end", 1e-3, 1e-2, "L_D"), Claim("loss_g", "peak", 4, 6, "L_G"),
            Claim("d_acc", "end", 0.93, 1.0, "D's accuracy"),
            Claim("diversity", "end", 0.1, 0.25, "diversity (vs a real batch)")),
    _preset("mode-collapse", "Failure: mode collapse (ring of 8)", "toys_2d",
            dict(data="ring8", loss="non-saturating", steps=1500), "mode_collapse",
            "The points gather near one or two modes and jump to another mode every few hundred "
            "steps (mode hopping).",
            Claim("modes", "max", 2, 2, "modes captured (of 8)"),
            Claim("high_quality", "end", 0.0, 0.02, "the high-quality share")),
    _preset("mode-collapse-1d", "Failure: mode collapse (two bumps)", "d_star_1d",
            dict(data="mix2", loss="non-saturating", lr_d=1e-3, lr_g=1e-3, beta1=0.9, steps=600), "mode_collapse",
            "p_g piles onto one of the two bumps and stays there: D* is near one over the missed bump, "
            "but G gets no gradient that carries mass across the gap.",
            Claim("top_share", "end", 0.99, 1.0, "the share of samples at one bump"),
            Claim("modes", "end", 1, 1, "modes captured")),
    _preset("divergence", "Failure: divergence (WGAN without clipping)", "train",
            dict(data="digits", loss="wgan", clip=0.0, lr_d=5e-3, lr_g=5e-3, steps=100), "diverged",
            "Without clipping or a penalty the critic is unbounded: its outputs on real data and −L_D "
            "grow without limit, and G's gradient is useless.",
            Claim("loss_d", "first_above", 1e6, 30, "L_D"), Claim("d_real", "end", 1e7, 1e8, "D(x)")),
    _preset("wgan-clip-too-tight", "Failure: WGAN clipping too tight (c = 0.0001)", "train",
            dict(data="digits", loss="wgan", clip=1e-4, steps=300), "clipping_kills_capacity",
            "Most of the critic's weights sit at ±c, so the critic is nearly a fixed linear function "
            "and tells G almost nothing: its −L_D is tiny (a clipped critic is K-Lipschitz for a K far below one, so −L_D ≤ K·W1 says little about W1).",
            Claim("clip_frac", "end", 0.9, 0.97, "the share of weights at ±c"),
            Claim("w1", "end", 5e-7, 1.5e-6, "−L_D")),
    # ------------------------------------------------------------ CycleGAN's lessons (page "cyclegan")
    _preset("cyclegan-no-cycle", "CycleGAN without the cycle loss: an arbitrary map", "cyclegan",
            dict(_CYCLE, lambda_cyc=0.0, lambda_id=0.0), "arbitrary_map",
            "With the adversarial terms alone, G and F each only have to fool their own discriminator, "
            "and nothing ties F back to G: here G sends each mode of X around the ring to some other mode "
            "of Y (the mode table is off the diagonal), and going there and back does not return to the "
            "start (with other seeds G even sends several modes of X to one mode of Y).",
            Claim("cycle_err", "end", 0.8, 1.6, "‖F(G(x)) − x‖ / X's spread"),
            Claim("t_match", "end", 0.0, 0.2, "the share of x sent where T sends it")),
    _preset("cyclegan-cycle-not-t", "Cycle loss on: one-to-one, but not T", "cyclegan",
            dict(_CYCLE, lambda_cyc=10.0, lambda_id=0.0), "cycle_not_t",
            "G and F become inverse to each other: each mode of Y receives one mode of X and the way "
            "back is nearly exact. But each mode goes to the opposite side of the ring: T and a half "
            "turn closes the cycle as well as T does. The cycle does not pick the right translation.",
            Claim("cycle_err", "end", 0.0, 0.03, "the cycle error"),
            Claim("y_modes", "end", 8, 8, "modes of Y receiving G(x)"),
            Claim("t_match", "end", 0.0, 0.05, "the share of x sent where T sends it"),
            Claim("dist_t", "end", 1.8, 2.1, "‖G(x) − T(x)‖ / Y's spread")),
    _preset("healthy-cyclegan", "Healthy: CycleGAN finds T (cycle + identity loss)", "cyclegan",
            dict(_CYCLE, lambda_cyc=10.0, lambda_id=5.0), "healthy",
            "The identity loss (a translator fed its own target domain should leave it alone) adds a "
            "prior that G changes little. T is a small change, so among the matchings that close the "
            "cycle the one nearest to doing nothing is T itself: the mode table's diagonal lights up.",
            Claim("cycle_err", "end", 0.0, 0.04, "the cycle error"),
            Claim("y_modes", "end", 8, 8, "modes of Y receiving G(x)"),
            Claim("t_match", "end", 0.95, 1.0, "the share of x sent where T sends it"),
            Claim("dist_t", "end", 0.0, 0.06, "‖G(x) − T(x)‖ / Y's spread")),
    _preset("healthy-cyclegan-digits", "Digits: conv translators and a light cycle loss keep the digit", "cyclegan",
            dict(_CYCLE_DIGITS, model="dcgan", lambda_cyc=0.3, lambda_id=0.0, steps=1000), "healthy",
            "G learns to invert the grey levels in a few hundred steps: G(x) is x's digit black on white, "
            "F(G(x)) is x again, and Y's classifier reads nearly every G(x) as x's digit. Small convolution "
            "filters see only a pixel's neighbourhood; inverting each pixel is the simplest local way from X "
            "to Y. The cycle weight is light (summed over pixels; the paper averages them).",
            Claim("label_kept", "end", 0.9, 1.0, "G(x) read as x's digit"),
            Claim("label_kept_f", "end", 0.9, 1.0, "F(y) read as y's digit")),
    _preset("cyclegan-digits-identity", "Digits: a heavy cycle weight, and the cycle closes by doing nothing",
            "cyclegan", dict(_CYCLE_DIGITS, model="dcgan", lambda_cyc=10.0, lambda_id=0.0, steps=600),
            "cycle_not_t",
            "Same nets, a heavy cycle weight (summed over pixels, far above the paper's per-pixel one). The "
            "cycle term rules the start, and the quickest way to F(G(x)) = x is for G and F to nearly copy "
            "their input: G(x) stays close to x, white on black, D_Y tells it from Y at once, yet the cycle "
            "error is small. Y's classifier reads G(x) inverted and almost never finds x's digit.",
            Claim("label_kept", "end", 0.0, 0.1, "G(x) read as x's digit"),
            Claim("d_y_fake", "end", 0.0, 0.05, "D_Y's output on G(x)")),
    _preset("cyclegan-digits-no-cycle", "Digits: MLP translators without the cycle loss turn every digit into one",
            "cyclegan", dict(_CYCLE_DIGITS, model="mlp", hidden=256, lambda_cyc=0.0, lambda_id=0.0, steps=1000),
            "arbitrary_map",
            "With the adversarial terms alone nothing ties G(x) to x: G only has to draw something D_Y takes "
            "for an inverted digit, and here it draws the same digit for every x (one column of the table "
            "lights up). (The conv translators keep the digit even without the cycle loss: there the "
            "network's locality, not the loss, ties G(x) to x.)",
            Claim("label_kept", "end", 0.0, 0.2, "G(x) read as x's digit"),
            Claim("y_classes", "end", 1, 2, "digits appearing among the G(x)")),
]  # fmt: skip

# the conditional GAN (page "cgan"): the seed's matching-aware D, on the digits with seed 001's MLP pair
# (tests/test_cgan.py trains each one and checks its claims; docs/cgan.md holds the runs)
_CG = dict(data="digits", model="mlp", objective="cgan", steps=1500)
_CGAN: list[Preset] = [
    _preset("cgan-healthy", "Healthy: conditional GAN, projection D", "cgan",
            dict(_CG, condition="projection", mismatch_weight=1.0, steps=3000), "labels_followed",
            "Each row of the grid becomes its digit within a few hundred steps, and each column keeps one "
            "style across the rows. D rejects real digits paired with a wrong label almost at once, so "
            "that term's curve drops near zero.",
            Claim("label_acc", "first_above", 0.9, 500, "label accuracy"),
            Claim("label_acc", "end", 0.97, 1.0, "label accuracy"),
            Claim("loss_d_wrong", "end", 0.0, 0.05, "the mismatched term")),
    _preset("cgan-label-ignored", "Failure: label ignored (D does not see the label)", "cgan",
            dict(_CG, condition="none", mismatch_weight=0.0), "label_ignored",
            "D judges the image alone, so G is never rewarded for drawing the digit it is asked for: the "
            "classifier reads digits, of classes that do not follow the rows.",
            Claim("label_acc", "end", 0.0, 0.25, "label accuracy"),
            Claim("confidence", "end", 0.75, 1.0, "the classifier's confidence")),
    _preset("cgan-concat-mismatch", "Concatenated label, with the mismatched term", "cgan",
            dict(_CG, condition="concat", mismatch_weight=1.0), "class_collapse",
            "D reads the one-hot label beside the image and must also reject real digits with a wrong "
            "label: the rows follow their labels early. Within a row, though, the columns look alike: this "
            "MLP D lets each class collapse (compare the projection D of the healthy preset).",
            Claim("label_acc", "first_above", 0.5, 500, "label accuracy"),
            Claim("label_acc", "first_above", 0.9, 800, "label accuracy"),
            Claim("label_acc", "end", 0.97, 1.0, "label accuracy")),
    _preset("cgan-concat-no-mismatch", "Concatenated label, without the mismatched term", "cgan",
            dict(_CG, condition="concat", mismatch_weight=0.0), "class_collapse",
            "The same run without the third term: D can learn the label only from G's fakes, so the rows "
            "stay near chance for a long time before they start to follow their labels, and the columns "
            "of a row look alike here too.",
            Claim("label_acc", "first_above", 0.5, 1500, "label accuracy"),
            Claim("label_acc", "end", 0.55, 0.85, "label accuracy")),
]  # fmt: skip

PRESETS: dict[str, Preset] = {p.name: p for p in _ALL + _CGAN}


# old link names -> the preset that replaced them (a teacher's handout keeps working)
RENAMED = {"oscillation": "d-wins-in-bursts"}  # its run is diagnosed "D overpowers G", in bursts


def get(name: str) -> Preset:
    """The preset called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def for_page(page: str) -> list[Preset]:
    return [p for p in PRESETS.values() if p.page == page]
