"""One-click presets: a healthy run for each loss, and each classic failure, reproducible on a CPU.

A teacher hands out one link per preset: ``<app>/train?preset=<name>`` (or ``/toys_2d``,
``/d_star_1d``, as ``Preset.page`` says) opens the page with the preset's settings filled in.

Every number a preset's "watch for" text states comes from one of its :class:`Claim` s: the text is
its story (no numbers) followed by the claims rendered, and tests/test_presets.py trains each preset
with its seed and checks every claim against the run (``python tests/test_presets.py`` prints the
measured values; docs/diagnosis.md holds them).

Texts (issue 19): a preset's title and story are the catalogue's ``presets.<name>.title`` and
``presets.<name>.watch_for`` (``<name>`` with "_" for "-"), a claim's words ``presets.claim.<stat>``
with its label and numbers as parameters; ``Preset.title``, ``Preset.watch_for`` and ``Claim.text``
render them in the reader's language when read (English without a session).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gan_demo import diagnostics
from gan_demo.config import TrainConfig, defaults_for
from gan_demo.content import Msg, t
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
    # how the text names the metric: a symbol shown alike in both languages ("L_D", "‖∇G‖"), or a
    # Msg for words ("D's accuracy": Msg("presets.label.d_acc"))
    label: str | Msg

    def __post_init__(self) -> None:
        if self.stat not in _STATS or not (self.lo <= self.hi or self.stat.startswith("first_")):
            raise ValueError(f"bad claim {self}: stat must be one of {_STATS}, with lo <= hi")  # i18n-ok: a bug in the table

    def _fmt(self, x: float) -> str:
        return f"{100 * x:.0f} %" if self.metric in _PERCENT else _num(x)

    def _range(self) -> str:
        if self.lo == self.hi:
            return self._fmt(self.lo)
        if self.metric in _PERCENT:
            return f"{100 * self.lo:.0f}–{100 * self.hi:.0f} %"
        return f"{_num(self.lo)}–{_num(self.hi)}"

    @property
    def msg(self) -> Msg:
        """The claim as the preset's text states it, as a message (``presets.claim.<stat>``): the
        label and the numbers, formatted as above, are its parameters."""
        if self.stat == "first_above":  # a metric by its size (|L_D|); a snapshot's share as it is
            label = self.label if self.metric in _SNAPSHOT else Msg("presets.abs", value=self.label)
            return Msg("presets.claim.first_above", label=label, value=self._fmt(self.lo), step=int(self.hi))
        if self.stat == "first_below":
            return Msg("presets.claim.first_below", label=self.label, value=self._fmt(self.lo), step=int(self.hi))
        if self.stat == "low":
            return Msg("presets.claim.low", label=self.label, value=self._fmt(self.lo), step=WARMUP)
        return Msg(f"presets.claim.{self.stat}", label=self.label, range=self._range())

    @property
    def text(self) -> str:
        """The claim as the preset's text states it, in the reader's language."""
        return str(self.msg)

    def measure(self, metrics: Mapping[str, Sequence[float]], snapshots: Sequence[Mapping[str, Any]] = ()) -> float:
        """The claimed number on a run: ``metrics`` the logged history (columns, "step" first),
        ``snapshots`` one dict per snapshot with "step" and the snapshot numbers (see above).
        A "first_*" claim that never happens measures ``inf``."""
        if self.metric in _SNAPSHOT:
            shots = [s for s in snapshots if self.metric in s]
            if not shots:
                raise ValueError(f"claim on {self.metric!r} needs snapshots with it")  # i18n-ok: a bug in the table
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


@dataclass(frozen=True, init=False)
class Preset:
    """A one-click setting of the form, with what to watch for while it trains.

    ``Preset(name, title, page, overrides, expect, watch_for, claims)``: ``title`` and ``watch_for``
    (the story, no numbers) are Msgs for the catalogue's presets (:func:`_preset`) or plain texts for
    one made on the spot; the attributes ``title`` and ``watch_for`` render them in the reader's
    language when read, ``watch_for`` followed by the claims (:func:`watch_text`)."""

    name: str  # slug used in links: ?preset=<name>
    page: str  # "train", "toys_2d", "d_star_1d", "cgan" or "cyclegan": where the preset opens
    overrides: dict[str, Any]  # TrainConfig fields over the loss defaults
    # the state the diagnosis should reach (a diagnostics state id); for a healthy preset "healthy"
    # means no failure: a converged toy may also read "near_equilibrium" (D at chance), which is fine.
    # CycleGAN's lessons (page "cyclegan", which has no diagnosis panel): "healthy", "arbitrary_map" or
    # "cycle_not_t", checked by their claims (tests/test_cycle.py)
    expect: str
    claims: tuple[Claim, ...]  # the numbers watch_for states, checked on the seeded run
    title_msg: str | Msg  # shown on the button
    story: str | Msg  # what the student should look at while it trains (no numbers)

    def __init__(self, name: str, title: str | Msg, page: str, overrides: dict[str, Any] | None = None,
                 expect: str = "healthy", watch_for: str | Msg = "", claims: tuple[Claim, ...] = ()) -> None:  # fmt: skip
        for attr, value in (("name", name), ("page", page), ("overrides", dict(overrides or {})), ("expect", expect),
                            ("claims", tuple(claims)), ("title_msg", title), ("story", watch_for)):  # fmt: skip
            object.__setattr__(self, attr, value)

    @property
    def title(self) -> str:
        """The button's text, in the reader's language."""
        return str(self.title_msg)

    @property
    def watch_for(self) -> str:
        """What to watch for, in the reader's language: the story, then the claims (:func:`watch_text`)."""
        return watch_text(self.story, self.claims)

    def config(self) -> TrainConfig:
        """The loss's classic defaults on the preset's data, then the preset's overrides."""
        loss = self.overrides.get("loss", "non-saturating")
        data = self.overrides.get("data", "digits")
        return TrainConfig.from_dict({**defaults_for(loss, data), **self.overrides})


def watch_text(story: str | Msg, claims: Sequence[Claim]) -> str:
    """A preset's "watch for" text in the reader's language: the story (no numbers), then each claim."""
    if not claims:
        return str(story)
    # "ends at": the median over the diagnosis window, the number the panel quotes; "peaks at": the
    # largest median over SPAN steps (Claim.measure)
    return t("presets.seeded_run", story=story, claims=t("presets.claims_joiner").join(c.text for c in claims))


def _key(name: str) -> str:
    """A preset's name as a catalogue key part: "d-overpowers-g" -> "d_overpowers_g"."""
    return name.replace("-", "_")


def _label(name: str) -> Msg:
    """A claim's label in words (``presets.label.<name>``)."""
    return Msg(f"presets.label.{name}")


def _preset(name: str, page: str, overrides: dict[str, Any], expect: str, *claims: Claim) -> Preset:
    """A preset whose title and story are the catalogue's ``presets.<name>.title`` / ``.watch_for``."""
    return Preset(name, Msg(f"presets.{_key(name)}.title"), page, overrides, expect,
                  Msg(f"presets.{_key(name)}.watch_for"), tuple(claims))  # fmt: skip


# the healthy image presets: the small DCGAN pair (models.ConvGenerator / ConvDiscriminator, 64
# channels) on the 8×8 digits. With seed 001's MLP pair (batch 128, 1,200 steps) they ended 4-13x the
# real-vs-real floor of the Fréchet distance, R10 firing for three of the five: docs/quality.md,
# "The image presets, judged by the quality report"
_DC = dict(data="digits", model="dcgan", hidden=64, batch_size=128, steps=3000)
_QUALITY = (Claim("fd_ratio", "end", 0.5, 2.0, _label("fd_ratio")),
            Claim("top_share", "end", 0.1, 0.25, _label("top_class")))  # fmt: skip

# CycleGAN on the 2-D domain pair (gan_demo.domains): 3,000 steps of the toy-sized nets, well under
# a minute on a CPU (docs/cyclegan.md)
_CYCLE = dict(objective="cyclegan", data="ring8-stretched", loss="non-saturating", steps=3000, log_every=20)
# CycleGAN on the digits and their inverted copies: small translators on 8×8 images; the readouts run
# the classifier over all 1,797 fixed inputs, so they are logged every 50 steps (docs/cyclegan.md)
_CYCLE_DIGITS = dict(objective="cyclegan", data="digits-inverted", loss="non-saturating", hidden=16, batch_size=64,
                     log_every=50, snapshot_every=100)  # fmt: skip

_ALL: list[Preset] = [
    # ------------------------------------------------------------ healthy runs, one per loss
    _preset("healthy-non-saturating", "train",
            dict(_DC, loss="non-saturating"), "healthy",
            Claim("loss_d", "end", 1.25, 1.38, "L_D"), Claim("loss_g", "end", 0.7, 0.8, "L_G"),
            Claim("d_acc", "end", 0.6, 0.75, _label("d_acc")), *_QUALITY),
    _preset("healthy-minimax", "train",
            dict(_DC, loss="minimax"), "healthy",
            Claim("d_fake_g", "low", 0.3, 0.3, "D(G(z))"), Claim("loss_d", "end", 1.25, 1.38, "L_D"),
            Claim("d_acc", "end", 0.6, 0.75, _label("d_acc")), *_QUALITY),
    _preset("healthy-lsgan", "train",
            dict(_DC, loss="lsgan"), "healthy",
            Claim("loss_d", "low", 0.08, 0.08, "L_D"), Claim("loss_d", "end", 0.18, 0.24, "L_D"),
            Claim("d_fake", "end", 0.4, 0.5, "D(G(z))"), *_QUALITY),
    _preset("healthy-hinge", "train",
            dict(_DC, loss="hinge"), "healthy",
            Claim("loss_d", "end", 1.7, 1.95, "L_D"), Claim("d_acc", "end", 0.55, 0.7, _label("d_acc")), *_QUALITY),
    _preset("healthy-wgan-gp", "train",
            dict(data="digits", model="mlp", loss="wgan-gp", steps=1000), "healthy",
            Claim("w1", "peak", 3.8, 4.6, "−L_D"), Claim("w1", "end", 0.6, 1.0, "−L_D"),
            Claim("gp_norm", "end", 0.95, 1.15, "‖∇D(x̂)‖"), *_QUALITY),
    # ------------------------------------------------------------ healthy toys (toybench's tuning)
    _preset("healthy-ring8", "toys_2d",
            dict(BEST["ring8"], data="ring8"), "healthy",
            Claim("modes", "end", 8, 8, _label("modes")),
            Claim("high_quality", "end", 0.9, 1.0, _label("high_quality"))),
    _preset("healthy-grid25", "toys_2d",
            dict(BEST["grid25"], data="grid25"), "healthy",
            Claim("modes", "end", 25, 25, _label("modes")),
            Claim("high_quality", "end", 0.9, 1.0, _label("high_quality"))),
    _preset("healthy-mix2", "d_star_1d",
            dict(BEST["mix2"], data="mix2"), "healthy",
            Claim("modes", "end", 2, 2, _label("modes")),
            Claim("d_real", "end", 0.45, 0.55, "D(x)"), Claim("d_fake", "end", 0.45, 0.55, "D(G(z))")),
    # ------------------------------------------------------------ each classic failure
    _preset("d-overpowers-g", "train",
            dict(data="digits", loss="minimax", lr_d=1e-3, d_steps=5, steps=300), "vanishing_g_gradient",
            Claim("loss_d", "first_below", 0.01, 30, "L_D"),
            Claim("d_fake", "end", 1e-7, 5e-6, "D(G(z))"), Claim("grad_g", "end", 1e-5, 5e-5, "‖∇G‖")),
    _preset("d-overpowers-g-non-saturating", "train",
            dict(data="digits", loss="non-saturating", lr_d=1e-3, d_steps=5, steps=300), "d_overpowers_g",
            Claim("loss_d", "end", 0.005, 0.03, "L_D"), Claim("d_acc", "end", 0.99, 1.0, _label("d_acc")),
            Claim("grad_g", "end", 40, 70, "‖∇G‖"),
            Claim("diversity", "end", 0.3, 0.45, _label("diversity"))),
    _preset("d-wins-in-bursts", "train",
            dict(data="digits", loss="hinge", lr_d=2e-3, lr_g=2e-3, beta1=0.9, steps=600), "d_overpowers_g",
            Claim("loss_d", "end", 1e-3, 1e-2, "L_D"), Claim("loss_g", "peak", 4, 6, "L_G"),
            Claim("d_acc", "end", 0.93, 1.0, _label("d_acc")),
            Claim("diversity", "end", 0.1, 0.25, _label("diversity"))),
    _preset("mode-collapse", "toys_2d",
            dict(data="ring8", loss="non-saturating", steps=1500), "mode_collapse",
            Claim("modes", "max", 2, 2, _label("modes_of_8")),
            Claim("high_quality", "end", 0.0, 0.02, _label("high_quality"))),
    _preset("mode-collapse-1d", "d_star_1d",
            dict(data="mix2", loss="non-saturating", lr_d=1e-3, lr_g=1e-3, beta1=0.9, steps=600), "mode_collapse",
            Claim("top_share", "end", 0.99, 1.0, _label("one_bump")),
            Claim("modes", "end", 1, 1, _label("modes"))),
    _preset("divergence", "train",
            dict(data="digits", loss="wgan", clip=0.0, lr_d=5e-3, lr_g=5e-3, steps=100), "diverged",
            Claim("loss_d", "first_above", 1e6, 30, "L_D"), Claim("d_real", "end", 1e7, 1e8, "D(x)")),
    _preset("wgan-clip-too-tight", "train",
            dict(data="digits", loss="wgan", clip=1e-4, steps=300), "clipping_kills_capacity",
            Claim("clip_frac", "end", 0.9, 0.97, _label("clip_frac")),
            Claim("w1", "end", 5e-7, 1.5e-6, "−L_D")),
    # ------------------------------------------------------------ CycleGAN's lessons (page "cyclegan")
    _preset("cyclegan-no-cycle", "cyclegan",
            dict(_CYCLE, lambda_cyc=0.0, lambda_id=0.0), "arbitrary_map",
            Claim("cycle_err", "end", 0.8, 1.6, _label("cycle_err_rel")),
            Claim("t_match", "end", 0.0, 0.2, _label("t_match"))),
    _preset("cyclegan-cycle-not-t", "cyclegan",
            dict(_CYCLE, lambda_cyc=10.0, lambda_id=0.0), "cycle_not_t",
            Claim("cycle_err", "end", 0.0, 0.03, _label("cycle_err")),
            Claim("y_modes", "end", 8, 8, _label("y_modes")),
            Claim("t_match", "end", 0.0, 0.05, _label("t_match")),
            Claim("dist_t", "end", 1.8, 2.1, _label("dist_t_rel"))),
    _preset("healthy-cyclegan", "cyclegan",
            dict(_CYCLE, lambda_cyc=10.0, lambda_id=5.0), "healthy",
            Claim("cycle_err", "end", 0.0, 0.04, _label("cycle_err")),
            Claim("y_modes", "end", 8, 8, _label("y_modes")),
            Claim("t_match", "end", 0.95, 1.0, _label("t_match")),
            Claim("dist_t", "end", 0.0, 0.06, _label("dist_t_rel"))),
    # the digits and their inverted copies (docs/cyclegan.md, "The image lessons")
    _preset("healthy-cyclegan-digits", "cyclegan",
            dict(_CYCLE_DIGITS, model="dcgan", lambda_cyc=0.3, lambda_id=0.0, steps=1000), "healthy",
            Claim("label_kept", "end", 0.9, 1.0, _label("label_kept")),
            Claim("label_kept_f", "end", 0.9, 1.0, _label("label_kept_f"))),
    _preset("cyclegan-digits-identity", "cyclegan",
            dict(_CYCLE_DIGITS, model="dcgan", lambda_cyc=10.0, lambda_id=0.0, steps=600), "cycle_not_t",
            Claim("label_kept", "end", 0.0, 0.1, _label("label_kept")),
            Claim("d_y_fake", "end", 0.0, 0.05, _label("d_y_fake"))),
    _preset("cyclegan-digits-no-cycle", "cyclegan",
            dict(_CYCLE_DIGITS, model="mlp", hidden=256, lambda_cyc=0.0, lambda_id=0.0, steps=1000), "arbitrary_map",
            Claim("label_kept", "end", 0.0, 0.2, _label("label_kept")),
            Claim("y_classes", "end", 1, 2, _label("y_classes"))),
]  # fmt: skip

# the conditional GAN (page "cgan"): the seed's matching-aware D, on the digits with seed 001's MLP pair
# (tests/test_cgan.py trains each one and checks its claims; docs/cgan.md holds the runs)
_CG = dict(data="digits", model="mlp", objective="cgan", steps=1500)
_CGAN: list[Preset] = [
    _preset("cgan-healthy", "cgan",
            dict(_CG, condition="projection", mismatch_weight=1.0, steps=3000), "labels_followed",
            Claim("label_acc", "first_above", 0.9, 500, _label("label_acc")),
            Claim("label_acc", "end", 0.97, 1.0, _label("label_acc")),
            Claim("loss_d_wrong", "end", 0.0, 0.05, _label("mismatch"))),
    _preset("cgan-label-ignored", "cgan",
            dict(_CG, condition="none", mismatch_weight=0.0), "label_ignored",
            Claim("label_acc", "end", 0.0, 0.25, _label("label_acc")),
            Claim("confidence", "end", 0.75, 1.0, _label("confidence"))),
    _preset("cgan-concat-mismatch", "cgan",
            dict(_CG, condition="concat", mismatch_weight=1.0), "class_collapse",
            Claim("label_acc", "first_above", 0.5, 500, _label("label_acc")),
            Claim("label_acc", "first_above", 0.9, 800, _label("label_acc")),
            Claim("label_acc", "end", 0.97, 1.0, _label("label_acc"))),
    _preset("cgan-concat-no-mismatch", "cgan",
            dict(_CG, condition="concat", mismatch_weight=0.0), "class_collapse",
            Claim("label_acc", "first_above", 0.5, 1500, _label("label_acc")),
            Claim("label_acc", "end", 0.55, 0.85, _label("label_acc"))),
]  # fmt: skip

PRESETS: dict[str, Preset] = {p.name: p for p in _ALL + _CGAN}


# old link names -> the preset that replaced them (a teacher's handout keeps working)
RENAMED = {"oscillation": "d-wins-in-bursts"}  # its run is diagnosed "D overpowers G", in bursts


def get(name: str) -> Preset:
    """The preset called ``name``; an unknown name raises ``ValueError`` listing the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(Msg("presets.unknown", name=name, choices=", ".join(PRESETS))) from None


def for_page(page: str) -> list[Preset]:
    return [p for p in PRESETS.values() if p.page == page]
