"""What state is training in? Rules R0-R16 of design.md applied to a run's metric history.

Every rule reads cheap statistics of the recent *window* of the history (medians, a linear fit, the
spread of each half of the window), so it can rerun every second on a live run. Thresholds marked
(h) are heuristics tuned on real runs; docs/diagnosis.md lists the runs and the numbers behind each.

``diagnose(metrics, loss, ...)`` returns :class:`Finding` s, worst first: failures (``error`` /
``warning``) if any rule fires, else one ``near_equilibrium`` (``info``) or ``healthy`` (``ok``)
finding. An empty list means "too early to judge": the run is still inside its warm-up and no
early rule (divergence, exploding gradients, a dead generator) has fired. Every finding's advice
ends by pointing at the samples and a quality metric, because a falling loss is not progress by
itself (ganhacks: G can fool a bad D with garbage).

``DiagnosisLog`` replays the diagnosis along the history at fixed checkpoints and keeps the
changes of the headline state ("step 1200: D overpowers G (L_D 0.03, ...)"); it is deterministic,
so a page that reruns every second can extend it or recompute it and get the same lines.
Numpy only: ``diagnose_view`` imports the toys and the image data lazily.

Every text here is a :class:`gan_demo.content.Msg` (key + parameters, catalogue ``diagnosis``,
English and Chinese), rendered when it is shown: one diagnosis, cached for the whole server
(``diagnosis_panel``), serves every reader in their own language. A finding's ``title``,
``evidence`` and ``advice`` are that text rendered in the current language; ``title_msg``,
``evidence_msg`` and ``advice_msg`` keep the messages. Every number in a sentence is a parameter
with its format in the message: ``{x:.3g}`` (3 significant digits, the numbers are passed as
:class:`Sig`, which keeps the panel's ``1.2e-05`` below 10⁻³), ``{p:.0f} %`` for a share in percent.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gan_demo.content import Msg, t

if TYPE_CHECKING:
    from gan_demo.config import TrainConfig

SEVERITIES = ("error", "warning", "info", "ok")  # worst first
FAILING = ("error", "warning")

# ---------------------------------------------------------------- thresholds ((h): tuned, see docs)
WARMUP_STEPS = 200  # (h) steps before the trend rules judge anything
MIN_ROWS = 5  # logged rows a window needs
WINDOW_MIN_STEPS = 300  # (h) the window is the last max(300 steps, 25 % of the run)
WINDOW_FRAC = 0.25  # (h)
DIVERGED_ABS = 1e6  # (h) a loss or D output this large has run away (R0)
GRAD_EXPLODING = 100.0  # ganhacks: a gradient norm over 100 (R3)
D_WINS_LOSS = {"bce": 0.05, "hinge": 0.1, "lsgan": 0.02}  # (h) L_D below this (R1)
D_WINS_ACC = 0.98  # (h) and D's accuracy at least this (R1)
FOOLED = 0.05  # (h) mean D(G(z)) below this: D rejects every fake (R2)
GRAD_TINY_REL = 0.1  # (h) ‖∇G‖ below 10 % of its early value (R2)
GRAD_DEAD = 1e-4  # (h) ‖∇G‖ below this: G receives no gradient at all (R2, any non-WGAN loss)
EQ_D_TOL = 0.1  # (h) D(x), D(G(z)) within 0.5 ± 0.1 (R4)
EQ_LOSS_TOL = 0.1  # (h) L_D within 10 % of its equilibrium value (R4)
TREND_REL = 0.25  # (h) L_D falls and L_G rises by 25 % of their level across the window (R6)
OSC_SWING = 0.8  # (h) std of the smoothed L_D above 0.8x its mean (R8)
SPIKE_K = 8.0  # (h) a spike: this many robust standard deviations away from the median (R8)
SPIKES_MIN = 3  # (h) spikes in the window (R8)
COLLAPSE_FRAC = 0.5  # (h) toys: at most half the modes captured (R9)
COVER_SHARE = 0.2  # (h) toys: a mode is covered if 20 % of a fair share of samples sit nearest to it (R9)
HQ_CONVERGED = 0.5  # (h) toys: below this share of high-quality samples a run has not converged (R9) ...
HQ_WINDOW = 5  # (h) ... in each of the last 5 snapshots: one snapshot above it ends "not converged" (R9)
HOP_SHARE = 0.5  # (h) the dominant mode holds half of the samples (R9) ...
HOP_FAIR = 1.5  # (h) ... and 1.5 times its fair share 1/k (R9)
HOP_CHANGES = 2  # (h) ... and changed at least twice over the last 5 snapshots (R9)
DIVERSITY_LOW = 0.3  # (h) fake batch's mean pairwise distance below 30 % of a real batch's (R11)
LABEL_TOP_SHARE = 0.3  # (h) images: one class holds ≥ 30 % of G's samples, 3x a fair share of 10 classes (R10) ...
LABEL_COVER_MIN = 0.5  # (h) ... or under half of the classes get half a fair share (metrics.quality.coverage) (R10)
W1_STUCK = 0.5  # (h) WGAN: the critic's −L_D still above half its peak ... (R12)
W1_DROP = 0.05  # (h) ... and fell less than 5 % across the window (R12)
CLIP_PINNED = 0.7  # (h) share of critic weights at ±c (R14)
GP_NORM_RANGE = (0.5, 2.0)  # (h) mean ‖∇D(x̂)‖ outside this range (R15)
ROTATION_AUTOCORR = -0.3  # (h) the detrended D margin anti-correlates with itself half a period on (R16)
ROTATION_DECAY = 0.7  # (h) ... and its swing in the recent half is at least 70 % of the earlier half
ROTATION_AMP = 0.05  # (h) ... and at least 0.05 (std of the smoothed margin)

STATES: tuple[str, ...] = (
    "healthy", "near_equilibrium", "not_converged", "d_overpowers_g", "vanishing_g_gradient",
    "exploding_gradients", "g_failing", "oscillation", "mode_collapse", "mode_hopping", "low_diversity",
    "no_progress", "clipping_kills_capacity", "lipschitz_violated", "rotation", "diverged",
)  # fmt: skip


def title(state: str) -> Msg:
    """The title of a state (``"d_overpowers_g"`` -> "D overpowers G"), as a message."""
    return Msg(f"diagnosis.title.{state}")


# losses.get(name).family and .equilibrium, copied so that this module needs no torch
# (tests/test_diagnostics.py checks that the copies agree)
_FAMILY = {"minimax": "bce", "non-saturating": "bce", "wgan": "wgan", "wgan-gp": "wgan",
           "hinge": "hinge", "lsgan": "lsgan"}  # fmt: skip
_EQUILIBRIUM = {
    "minimax": {"loss_d": 2 * math.log(2.0), "loss_g": -math.log(2.0), "d": 0.5},
    "non-saturating": {"loss_d": 2 * math.log(2.0), "loss_g": math.log(2.0), "d": 0.5},
    "hinge": {"loss_d": 2.0, "d": 0.0},
    "lsgan": {"loss_d": 0.25, "loss_g": 0.125, "d": 0.5},
}
_RULE_ORDER = ("R0", "R3", "R2", "R1", "R14", "R15", "R9", "R10", "R11", "R12", "R6", "R8", "R16", "R4", "OK")


class Sig(float):
    """A number the diagnosis quotes: ``{x:.3g}`` in a message gives 3 significant digits with no
    trailing zeros, as ``float`` does, except that below 10⁻³ (and not 0) it is written ``.1e``
    (``1.2e-05``), as the panel always wrote small gradient norms. Any other spec is float's."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        x = float(self)
        if spec == ".3g" and math.isfinite(x) and x != 0 and abs(x) < 1e-3:
            return format(x, ".1e")
        return format(x, spec)


def _n(x: float) -> Sig:
    return Sig(float(x))


@dataclass(frozen=True)
class Join:
    """Parts (messages or plain text) joined by a separator message, in the reader's language:
    ``Join((Msg(...), Msg(...)))`` renders "a, b" in English and "a，b" in Chinese."""

    parts: tuple[Any, ...]
    sep: str = "diagnosis.sep_comma"

    def __str__(self) -> str:
        return t(self.sep).join(str(p) for p in self.parts)

    def render(self, lang: str | None = None) -> str:
        """As :meth:`Msg.render`: the text in ``lang`` (default: the current language)."""
        return t(self.sep, lang=lang).join(p.render(lang) if isinstance(p, Msg | Join) else str(p) for p in self.parts)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def _item(label: str, value: float) -> Msg:
    """A symbol and its number, "L_D 0.03" (the same in every language)."""
    return Msg("diagnosis.evidence.item", label=label, value=_n(value))


@dataclass(frozen=True)
class Finding:
    """One diagnosis: which rule fired, the state it names, and the numbers that show it.

    The texts are messages (``*_msg``); ``title``, ``evidence`` and ``advice`` render them in the
    current language (English without a session), so one cached finding serves every reader."""

    rule: str  # "R0" ... "R18"; "OK" for the healthy verdict
    state: str  # a stable id from STATES (cgan_diagnosis.TITLES for R17, R18)
    severity: str  # "ok", "info", "warning" or "error"
    title_msg: Msg
    evidence_msg: Msg | Join  # the numbers, e.g. "L_D 0.03 (< 0.05), D(G(z)) 0.01, D accuracy 100 %"
    advice_msg: Msg  # what to try, for this loss family
    step: int  # the step of the last row the finding was made on

    @property
    def title(self) -> str:
        return str(self.title_msg)

    @property
    def evidence(self) -> str:
        return str(self.evidence_msg)

    @property
    def advice(self) -> str:
        return str(self.advice_msg)

    @property
    def failing(self) -> bool:
        return self.severity in FAILING


# ---------------------------------------------------------------- the window
def window_median(metrics: dict[str, Sequence[float]], name: str) -> float:
    """The median of metric ``name`` over the diagnosis window (the last max(WINDOW_MIN_STEPS,
    WINDOW_FRAC of the run) steps, past the warm-up): the number the diagnosis panel quotes, and what a
    preset's "ends at" claim reads (:mod:`gan_demo.presets`)."""
    h = _History(metrics)
    return float(np.median(h.cols[name][h.win]))


class _History:
    """The metric columns as float arrays, and the recent window's statistics."""

    def __init__(self, metrics: dict[str, Sequence[float]]):
        self.cols = {k: np.asarray(v, dtype=np.float64) for k, v in metrics.items()}
        steps = self.cols.get("step", np.zeros(0))
        self.steps = steps
        self.n = len(steps)
        self.last_step = int(steps[-1]) if self.n else 0
        span = max(WINDOW_MIN_STEPS, WINDOW_FRAC * self.last_step)
        self.win = (steps > self.last_step - span) & (steps >= min(WARMUP_STEPS, self.last_step))
        self.ready = self.last_step >= WARMUP_STEPS and int(self.win.sum()) >= MIN_ROWS

    def has(self, name: str) -> bool:
        return name in self.cols and len(self.cols[name]) == self.n and self.n > 0

    def w(self, name: str) -> np.ndarray:
        return self.cols[name][self.win]

    def med(self, name: str) -> float:
        return float(np.median(self.w(name)))

    def early(self, name: str, rows: int = 5) -> float:
        return float(np.median(self.cols[name][:rows]))

    def fit(self, name: str) -> tuple[float, float]:
        """The linear fit's values at the window's first and last step."""
        x, y = self.steps[self.win], self.w(name)
        slope, icpt = np.polyfit(x, y, 1)
        return float(icpt + slope * x[0]), float(icpt + slope * x[-1])


# ---------------------------------------------------------------- advice
# Every tip names its source beside it: a paper (author, year), ganhacks (Chintala et al. 2016,
# github.com/soumith/ganhacks), or a run of this app that shows it (docs/diagnosis.md, a preset).
# tests/test_diagnostics.py checks that each advice text names one, in English and Chinese.
_LOOK = {"image": Msg("diagnosis.look_image"), "toy": Msg("diagnosis.look_toy")}
# TTUR as published and used: separate learning rates, D's the larger one (SAGAN: lr_D 4e-4, lr_G 1e-4)
_TTUR = Msg("diagnosis.ttur")
_WEAKEN_D = Msg("diagnosis.weaken_d")  # the two d-overpowers-g presets raise lr_d and d_steps
# images: where the data set has a classifier, the Quality panel measures the samples (R10 reads it)
_LOOK_QUALITY = Msg("diagnosis.look_quality")


def _tip(state: str, family: str, loss: str) -> Msg:
    """What to try for ``state`` with this loss: the tip alone, without the pointer at the samples."""
    key = state
    if state == "diverged" and family == "wgan":
        key = "diverged_wgan"
    elif state == "vanishing_g_gradient" and loss == "minimax":
        key = "vanishing_g_gradient_minimax"
    elif state == "d_overpowers_g" and family in ("bce", "hinge", "lsgan"):
        key = "d_overpowers_g_bce_minimax" if loss == "minimax" else f"d_overpowers_g_{family}"
    params: dict[str, Any] = {"exploding_gradients": {"limit": GRAD_EXPLODING},
                              "not_converged": {"bar_pct": 100 * HQ_CONVERGED}}.get(state, {})  # fmt: skip
    return Msg(f"diagnosis.tip.{key}", **params, weaken_d=_WEAKEN_D, ttur=_TTUR)


def _advice(state: str, family: str, loss: str, kind: str) -> Msg:
    tip = _tip(state, family, loss)
    if kind == "image":
        return Msg("diagnosis.advice_image", tip=tip, look=_LOOK[kind], quality=_LOOK_QUALITY)
    return Msg("diagnosis.advice_toy", tip=tip, look=_LOOK[kind])


# ---------------------------------------------------------------- the rules
def _nonfinite(h: _History) -> tuple[str, float, int] | None:
    for name in ("loss_d", "loss_g", "d_real", "d_fake", "d_fake_g", "grad_d", "grad_g", "gp", "gp_norm", "w1"):
        if h.has(name):
            bad = ~np.isfinite(h.cols[name])
            if bad.any():
                i = int(np.argmax(bad))
                return name, float(h.cols[name][i]), int(h.steps[i])
    return None


def _r0(h: _History) -> Msg | None:
    bad = _nonfinite(h)
    if bad is not None:
        name, value, step = bad  # value: nan or ±inf, written as Python writes it
        return Msg("diagnosis.evidence.r0_nonfinite", name=name, value=str(value), step=step)
    big = []
    for name, label in (("loss_d", "L_D"), ("loss_g", "L_G"), ("d_real", "D(x)"), ("d_fake", "D(G(z))")):
        if h.has(name):
            v = float(np.median(h.cols[name][-3:]))
            if abs(v) > DIVERGED_ABS:
                big.append(_item(label, v))
    if big:
        return Msg("diagnosis.evidence.r0_big", values=Join(tuple(big)), limit=_n(DIVERGED_ABS))
    return None


def _recent(h: _History, name: str) -> float:
    """Median of the window once warmed up, else of the last 3 rows (for the early rules)."""
    return h.med(name) if h.ready else float(np.median(h.cols[name][-3:]))


def _r3(h: _History) -> Msg | None:
    parts = tuple(_item(label, v) for name, label in (("grad_d", "‖∇D‖"), ("grad_g", "‖∇G‖"))
                  if h.has(name) and (v := _recent(h, name)) > GRAD_EXPLODING)  # fmt: skip
    return Msg("diagnosis.evidence.r3", values=Join(parts), limit=GRAD_EXPLODING) if parts else None


def _r2(h: _History, loss: str, family: str) -> Msg | None:
    if not (h.has("grad_g") and h.has("d_fake_g")) or family == "wgan" or h.n < 3:
        return None
    grad, early = _recent(h, "grad_g"), h.early("grad_g")
    if loss == "minimax":
        fooled = _recent(h, "d_fake_g")
        tiny = grad < GRAD_TINY_REL * early or grad < GRAD_DEAD
        if fooled < FOOLED and tiny and (h.ready or grad < GRAD_DEAD):
            return Msg("diagnosis.evidence.r2_minimax", fooled=_n(fooled), fooled_max=FOOLED, grad=_n(grad),
                       early=_n(early), rel=GRAD_TINY_REL, dead=GRAD_DEAD)  # fmt: skip
        return None
    if h.ready and grad < GRAD_DEAD and early > 100 * grad:
        return Msg("diagnosis.evidence.r2_dead", grad=_n(grad), dead=GRAD_DEAD, early=_n(early))
    return None


def _r1(h: _History, family: str) -> Msg | None:
    if family not in D_WINS_LOSS or not h.has("d_acc"):
        return None
    ld, acc = h.med("loss_d"), h.med("d_acc")
    if ld < D_WINS_LOSS[family] and acc >= D_WINS_ACC:
        g0, g1 = h.fit("loss_g")
        return Msg("diagnosis.evidence.r1", ld=_n(ld), limit=D_WINS_LOSS[family], dr=_n(h.med("d_real")),
                   df=_n(h.med("d_fake")), acc_pct=100 * acc, g0=_n(g0), g1=_n(g1))  # fmt: skip
    return None


def _r4(h: _History, family: str, equilibrium: dict[str, float]) -> Msg | None:
    if family not in ("bce", "lsgan") or "loss_d" not in equilibrium:
        return None
    eq_l, eq_d = equilibrium["loss_d"], equilibrium["d"]
    dr, df, ld = h.med("d_real"), h.med("d_fake"), h.med("loss_d")
    sd = float(np.std(h.w("loss_d")))
    if (abs(dr - eq_d) <= EQ_D_TOL and abs(df - eq_d) <= EQ_D_TOL and abs(ld - eq_l) <= EQ_LOSS_TOL * eq_l
            and sd <= EQ_LOSS_TOL * eq_l):  # fmt: skip
        return Msg("diagnosis.evidence.r4", dr=_n(dr), df=_n(df), eq_d=eq_d, tol=EQ_D_TOL, ld=_n(ld),
                   eq_l=_n(eq_l), sd=_n(sd))  # fmt: skip
    return None


def _r6(h: _History, family: str, loss: str) -> Msg | None:
    if family == "wgan":
        return None
    d0, d1 = h.fit("loss_d")
    g0, g1 = h.fit("loss_g")
    # relative to the level across the window, or to the loss's own scale (its equilibrium value)
    # when the level is smaller: a minimax L_G moving from -0.25 to -0.14 is not G failing
    eq = _EQUILIBRIUM.get(loss, {})
    d_scale = max(abs(d0 + d1) / 2, eq.get("loss_d", 0.0), 1e-3)
    g_scale = max(abs(g0 + g1) / 2, abs(eq.get("loss_g", 0.0)), 1e-3)
    if d1 - d0 < -TREND_REL * d_scale and g1 - g0 > TREND_REL * g_scale:
        return Msg("diagnosis.evidence.r6", d0=_n(d0), d1=_n(d1), g0=_n(g0), g1=_n(g1), **_span(h))
    return None


def _span(h: _History) -> dict[str, int]:
    """The window's first and last step, the parameters ``first`` and ``last`` of a message."""
    s = h.steps[h.win]
    return {"first": int(s[0]), "last": int(s[-1])}


def _smooth(y: np.ndarray, k: int = 5) -> np.ndarray:
    """Moving average over ``k`` rows: what is left is the slow part of a curve, not its batch noise."""
    return np.convolve(y, np.ones(k) / k, mode="valid") if len(y) >= k else y


def _r8(h: _History, family: str) -> Msg | None:
    """Oscillation: the slow swings of L_D are large next to its level, or L_G spikes.

    "Slow" is the 5-row moving average, so batch-to-batch noise does not count. For BCE, hinge and
    LSGAN, L_D ≥ 0 and its swing is taken relative to its mean; WGAN's losses have no fixed sign or
    level, so only spikes count there."""
    y = h.w("loss_d")
    if len(y) < 2 * MIN_ROWS:
        return None
    if family != "wgan":
        mean = float(np.mean(y))
        swing = float(np.std(_smooth(y)))
        if mean > 0 and swing > OSC_SWING * mean:
            lo, hi = np.percentile(y, [10, 90])
            return Msg("diagnosis.evidence.r8_swing", swing=_n(swing), mean=_n(mean), ratio=_n(swing / mean),
                       limit=OSC_SWING, lo=_n(lo), hi=_n(hi), **_span(h))  # fmt: skip
    g = h.w("loss_g")
    med = float(np.median(g))
    mad = 1.4826 * float(np.median(np.abs(g - med)))
    spikes = int((np.abs(g - med) > SPIKE_K * mad).sum()) if mad > 0 else 0
    if spikes >= SPIKES_MIN:
        return Msg("diagnosis.evidence.r8_spikes", spikes=spikes, k=SPIKE_K, med=_n(med), **_span(h))
    return None


def _r12(h: _History) -> Msg | None:
    if not h.has("w1"):
        return None
    w = h.cols["w1"]
    k = 5  # median filter over 5 rows
    smooth = np.array([np.median(w[max(0, i - k + 1) : i + 1]) for i in range(len(w))])
    peak = float(np.max(smooth))
    sw = smooth[h.win]
    x = h.steps[h.win]
    slope, icpt = np.polyfit(x, sw, 1)
    w0, w1 = float(icpt + slope * x[0]), float(icpt + slope * x[-1])
    if peak > 0 and sw[-1] > W1_STUCK * peak and w1 > w0 - W1_DROP * abs(w0):
        return Msg("diagnosis.evidence.r12", w0=_n(w0), w1=_n(w1), share_pct=100 * (sw[-1] / peak), peak=_n(peak),
                   **_span(h))  # fmt: skip
    return None


def _r14(h: _History) -> Msg | None:
    if not h.has("clip_frac"):
        return None
    frac = h.med("clip_frac")
    if frac > CLIP_PINNED:
        if h.has("w1"):
            return Msg("diagnosis.evidence.r14_w1", frac_pct=100 * frac, limit_pct=100 * CLIP_PINNED,
                       w1=_n(h.med("w1")))  # fmt: skip
        return Msg("diagnosis.evidence.r14", frac_pct=100 * frac, limit_pct=100 * CLIP_PINNED)
    return None


def _r15(h: _History) -> Msg | None:
    if not h.has("gp_norm"):
        return None
    g = h.med("gp_norm")
    lo, hi = GP_NORM_RANGE
    if not lo <= g <= hi:
        return Msg("diagnosis.evidence.r15", g=_n(g), lo=lo, hi=hi)
    return None


def _r16(h: _History) -> Msg | None:
    """Toys: D's margin E[D(x)] − E[D(G(z))] swings back and forth without decaying: after removing
    the trend and the batch noise, it anti-correlates with itself half a period later."""
    if not (h.has("d_real") and h.has("d_fake")):
        return None
    y = h.w("d_real") - h.w("d_fake")
    if len(y) < 4 * MIN_ROWS:
        return None
    x = np.arange(len(y))
    y = _smooth(y - np.polyval(np.polyfit(x, y, 1), x), 3)
    n = len(y)
    old, new = float(np.std(y[: n // 2])), float(np.std(y[n // 2 :]))
    if new < ROTATION_AMP or new < ROTATION_DECAY * old:
        return None
    ac = [float(np.corrcoef(y[:-lag], y[lag:])[0, 1]) for lag in range(2, n // 3)]
    if not ac or min(ac) >= ROTATION_AUTOCORR:
        return None
    lag = int(np.argmin(ac)) + 2
    period = 2 * lag * _row_steps(h)
    return Msg("diagnosis.evidence.r16", period=period, ac=_n(min(ac)), old=_n(old), new=_n(new))


def _row_steps(h: _History) -> int:
    s = h.steps[h.win]
    return int(round(float(np.median(np.diff(s))))) if len(s) > 1 else 1


def _captured(snapshot: dict) -> tuple[int, int]:
    """(modes captured, modes in all) of one toy snapshot's statistics."""
    k = int(snapshot.get("n_modes", len(snapshot.get("counts", ()))))
    return int(snapshot.get("captured", snapshot.get("modes_captured", 0))), k


def _r9(modes: list[dict]) -> list[tuple[str, Msg]]:
    """Toys: collapse (G's samples sit near few modes) and hopping (the mode they sit near moves).

    Uses ``nearest`` (all samples per nearest mode) when present, else ``counts`` (high-quality
    samples only): early in a run, or with the ring's σ = 0.01, G can hold every sample near one
    mode without a single one inside 3σ, and that is collapse all the same."""
    snaps = [m for m in modes if int(m.get("step", 0)) >= WARMUP_STEPS]
    if not snaps:
        return []
    out = []
    last = snaps[-1]
    captured, k = _captured(last)
    if k < 2:
        return []
    cover, doms = [], []
    for m in snaps[-6:]:
        near = np.asarray(m.get("nearest", m.get("counts", ())), dtype=np.float64)
        total = near.sum()
        cover.append(int((near >= COVER_SHARE * total / k).sum()) if total else 0)
        share = float(near.max() / total) if total else 0.0
        # with 2 modes, a 51/49 split must not count as holding "most" samples: 1.5x a fair share too
        doms.append(int(near.argmax()) if share >= max(HOP_SHARE, HOP_FAIR / k) else None)
    hq = float(last.get("high_quality", 0.0))
    if cover[-1] <= COLLAPSE_FRAC * k:
        out.append(("mode_collapse", Msg("diagnosis.evidence.r9_collapse", cover=cover[-1], k=k,
                                         limit_pct=100 * COLLAPSE_FRAC, captured=captured, hq_pct=100 * hq,
                                         step=int(last["step"]))))  # fmt: skip
    held = [d for d in doms if d is not None]
    changes = sum(1 for a, b in zip(held[:-1], held[1:], strict=True) if a != b)
    if len(held) >= 3 and changes >= HOP_CHANGES:
        out.append(("mode_hopping", Msg("diagnosis.evidence.r9_hopping", share_pct=100 * max(HOP_SHARE, HOP_FAIR / k),
                                        changes=changes, n=len(doms), path=" → ".join(map(str, held)))))  # fmt: skip
    return out


def _not_converged(modes: list[dict]) -> Msg | None:
    """Toys: no failure, but under HQ_CONVERGED of the samples are high-quality in each of the last
    HQ_WINDOW snapshots. The window is a hysteresis: once a snapshot has passed the bar, a dip below
    it must last HQ_WINDOW snapshots to count, so a run hovering at the bar does not flip the verdict."""
    judged = [m for m in modes[-HQ_WINDOW:] if int(m.get("step", 0)) >= WARMUP_STEPS and "high_quality" in m]
    last = modes[-1]
    if not judged or judged[-1] is not last or max(float(m["high_quality"]) for m in judged) >= HQ_CONVERGED:
        return None
    captured, k = _captured(last)
    numbers = dict(hq_pct=100 * float(last["high_quality"]), limit_pct=100 * HQ_CONVERGED, captured=captured, k=k,
                   step=int(last["step"]))  # fmt: skip
    if len(judged) > 1:
        return Msg("diagnosis.evidence.not_converged", n=len(judged), **numbers)
    return Msg("diagnosis.evidence.not_converged_one", **numbers)


def _r11(diversity: dict) -> list[tuple[str, str, Msg]]:
    out = []
    fake, real = float(diversity.get("fake", math.nan)), float(diversity.get("real", math.nan))
    if math.isfinite(fake) and real > 0 and fake < DIVERSITY_LOW * real:
        out.append(("R11", "low_diversity", Msg("diagnosis.evidence.r11_low", fake=_n(fake), real=_n(real),
                                                share_pct=100 * (fake / real), limit_pct=100 * DIVERSITY_LOW)))  # fmt: skip
    classes, n_classes = diversity.get("classes"), diversity.get("n_classes")
    if classes is not None and n_classes and int(classes) < int(n_classes):
        out.append(("R10", "mode_collapse", Msg("diagnosis.evidence.r11_classes", classes=int(classes),
                                                n_classes=int(n_classes))))  # fmt: skip
    return out


def _r10(diversity: dict) -> list[tuple[str, str, Msg]]:
    """Images: the classifier's label histogram of G's samples (``label_counts``, from the snapshot's
    quality report) is dominated by one class or covers under half of the classes."""
    counts = diversity.get("label_counts")
    if not counts or sum(counts) <= 0:
        return []
    n, k = int(sum(counts)), len(counts)
    top = int(np.argmax(counts))
    share = counts[top] / n
    cover = int(diversity.get("label_coverage", k))
    if share < LABEL_TOP_SHARE and cover >= LABEL_COVER_MIN * k:
        return []
    names = diversity.get("class_names") or [str(i) for i in range(k)]
    kl_value = _n(diversity.get("label_kl", math.nan))
    if "label_kl_real" in diversity:
        kl = Msg("diagnosis.evidence.r10_kl_real", kl=kl_value, kl_real=_n(diversity["label_kl_real"]), n=n)
    else:
        kl = Msg("diagnosis.evidence.r10_kl", kl=kl_value)
    return [("R10", "mode_collapse", Msg("diagnosis.evidence.r10", share_pct=100 * share, label=names[top],
                                         top=counts[top], n=n, cover=cover, k=k, kl=kl))]  # fmt: skip


# ---------------------------------------------------------------- the diagnosis
def diagnose(
    metrics: dict[str, Sequence[float]],
    loss: str,
    *,
    config: TrainConfig | None = None,
    modes: list[dict] | None = None,
    diversity: dict | None = None,
) -> list[Finding]:
    """Findings on a metric history (columns, "step" first), worst first; [] while warming up.

    ``modes``: toys, one dict per snapshot (``step``, ``captured``, ``n_modes``, ``high_quality``,
    ``counts``, optionally ``dominant``). ``diversity``: images, the latest snapshot's ``fake`` and a
    real batch's ``real`` mean pairwise distance (``step``; optionally ``classes`` / ``n_classes``, and
    the quality report's ``label_counts``, ``label_coverage``, ``label_kl``, ``label_kl_real``,
    ``class_names``, ``fd``, ``fd_floor``, ``n``: see :func:`quality_fields`).
    """
    if loss not in _FAMILY:
        raise ValueError(Msg("diagnosis.unknown_loss", loss=loss, allowed=", ".join(_FAMILY)))
    family = _FAMILY[loss]
    kind = "toy" if (modes is not None or (config is not None and config.is_toy)) else "image"
    h = _History(metrics)
    if h.n == 0 or not h.has("loss_d"):
        return []
    hits: list[tuple[str, str, Msg]] = []  # (rule, state, evidence)

    def add(rule: str, state: str, evidence: Msg | None) -> None:
        if evidence:
            hits.append((rule, state, evidence))

    add("R0", "diverged", _r0(h))
    if not hits:  # after divergence the other numbers mean nothing
        add("R3", "exploding_gradients", _r3(h))
        add("R2", "vanishing_g_gradient", _r2(h, loss, family))
        if h.ready:
            add("R1", "d_overpowers_g", _r1(h, family))
            add("R6", "g_failing", _r6(h, family, loss))
            add("R8", "oscillation", _r8(h, family))
            if family == "wgan":
                add("R12", "no_progress", _r12(h))
                add("R14", "clipping_kills_capacity", _r14(h))
            add("R15", "lipschitz_violated", _r15(h))
            if kind == "toy":
                add("R16", "rotation", _r16(h))
        if modes:
            for state, ev in _r9(modes):
                add("R9", state, ev)
        if diversity and int(diversity.get("step", h.last_step)) >= WARMUP_STEPS:
            hits.extend(_r11(diversity))
            hits.extend(_r10(diversity))
    if not hits:
        if not h.ready:
            return []
        if modes and (early := _not_converged(modes)):  # before R4: a D at chance proves nothing here
            hits.append(("R9", "not_converged", early))
        elif eq := _r4(h, family, _EQUILIBRIUM.get(loss, {})):
            hits.append(("R4", "near_equilibrium", eq))
        else:
            hits.append(("OK", "healthy", _summary(h, family, diversity, modes)))
    findings = [
        Finding(rule, state, _SEVERITY[state], title(state), ev, _advice(state, family, loss, kind), h.last_step)
        for rule, state, ev in hits
    ]
    return sorted(findings, key=lambda f: (SEVERITIES.index(f.severity), _RULE_ORDER.index(f.rule)))


_SEVERITY = {
    "diverged": "error",
    "exploding_gradients": "error",
    "vanishing_g_gradient": "error",
    "mode_collapse": "error",
    "clipping_kills_capacity": "warning",
    "d_overpowers_g": "warning",
    "g_failing": "warning",
    "oscillation": "warning",
    "mode_hopping": "warning",
    "low_diversity": "warning",
    "no_progress": "warning",
    "lipschitz_violated": "warning",
    "rotation": "warning",
    "near_equilibrium": "info",
    "not_converged": "info",
    "healthy": "ok",
}


def _summary(h: _History, family: str, diversity: dict | None, modes: list[dict] | None) -> Msg:
    parts: list[Msg] = [_item("L_D", h.med("loss_d")), _item("L_G", h.med("loss_g"))]
    if family == "wgan" and h.has("w1"):
        parts.append(Msg("diagnosis.evidence.summary_critic", value=_n(h.med("w1"))))
    else:
        parts += [_item("D(x)", h.med("d_real")), _item("D(G(z))", h.med("d_fake"))]
    parts.append(_item("‖∇G‖", h.med("grad_g")))
    if diversity and diversity.get("real"):
        parts.append(Msg("diagnosis.evidence.summary_diversity",
                         pct=100 * (float(diversity["fake"]) / float(diversity["real"]))))  # fmt: skip
    if diversity and "fd" in diversity:
        parts.append(Msg("diagnosis.evidence.summary_fd", fd=_n(diversity["fd"]), floor=_n(diversity["fd_floor"]),
                         n=int(diversity["n"])))  # fmt: skip
    if modes:
        captured, k = _captured(modes[-1])
        parts.append(Msg("diagnosis.evidence.summary_modes", captured=captured, k=k,
                         hq_pct=100 * float(modes[-1].get("high_quality", 0.0))))  # fmt: skip
    return Msg("diagnosis.evidence.summary", parts=Join(tuple(parts)), **_span(h))


# ---------------------------------------------------------------- quality inputs from snapshots
def mode_summary(samples: np.ndarray, centres: np.ndarray, sigmas: np.ndarray | float, step: int = 0) -> dict:
    """Mode statistics of ``samples`` (n, d) around ``centres`` (k, d), as toylab's snapshot extras
    hold them: a sample is high-quality within 3σ of its nearest centre, a mode is captured when it
    is nearest to at least one high-quality sample; ``nearest`` counts every sample by its nearest
    mode, high-quality or not. Works in 1-D (per-mode σ) and 2-D. Non-finite samples are dropped."""
    c = np.asarray(centres, dtype=np.float64)
    c = c.reshape(len(c), -1)
    pts = np.asarray(samples, dtype=np.float64).reshape(-1, c.shape[1])
    pts = pts[np.isfinite(pts).all(axis=1)]
    sig = np.broadcast_to(np.asarray(sigmas, dtype=np.float64), (len(c),))
    if len(pts) == 0:
        counts = near = np.zeros(len(c), dtype=int)
        hq = 0.0
    else:
        dist = np.linalg.norm(pts[:, None, :] - c[None, :, :], axis=2)
        nearest = dist.argmin(axis=1)
        good = dist[np.arange(len(pts)), nearest] <= 3 * sig[nearest]
        counts = np.bincount(nearest[good], minlength=len(c))
        near = np.bincount(nearest, minlength=len(c))
        hq = float(good.mean())
    return {
        "step": int(step),
        "captured": int((counts > 0).sum()),
        "n_modes": len(c),
        "high_quality": hq,
        "counts": tuple(int(x) for x in counts),
        "nearest": tuple(int(x) for x in near),
        "dominant": int(np.argmax(counts)) if counts.sum() else -1,
    }


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance between the distinct pairs of rows of ``x`` (flattened per sample)."""
    f = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    if len(f) < 2:
        return 0.0
    sq = (f * f).sum(axis=1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * f @ f.T, 0.0)
    return float(np.sqrt(d2).sum() / (len(f) * (len(f) - 1)))


def _toy_modes(data: str) -> tuple[np.ndarray, np.ndarray] | None:
    from gan_demo import toys  # lazy: imports torch

    toy = toys.get(data)
    if isinstance(toy, toys.Toy2D):
        return (np.asarray(toy.modes), np.full(len(toy.modes), toy.sigma)) if toy.has_modes else None
    if toy.uniform is not None or len(toy.means) < 2:
        return None
    return np.asarray(toy.means)[:, None], np.asarray(toy.stds)


class _Memo:
    """A bounded get-or-compute cache that any thread may read, fill or clear at any time.

    Every session's live fragment calls :func:`view_quality` in its own thread, so a plain dict
    that is filled, then read back, raised KeyError when another thread cleared it in between.
    Here a lookup holds the lock, the value is computed outside it (a slow computation does not
    block other sessions), and the caller gets the value it computed, never a read-back. The
    oldest entry goes when ``maxsize`` is reached (least recently used)."""

    def __init__(self, maxsize: int):
        self.maxsize = maxsize
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()  # two threads may compute the same key: same value, no harm
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


def _real_mpd(data: str, root: str | None, n: int) -> float:
    from gan_demo.data import load_images  # lazy: imports torch

    return mean_pairwise_distance(load_images(data, root)[:n].numpy())


def real_diversity(data: str, root: str | None = None, n: int = 64) -> float:
    """Mean pairwise distance of the first ``n`` real images (cached per data set)."""
    return _REAL_MPD.get((data, root, n), lambda: _real_mpd(data, root, n))


def view_quality(view: Any) -> tuple[list[dict] | None, list[dict] | None]:
    """(modes, diversity) per snapshot of a ``live.RunView``: for toys with modes, ``mode_summary`` of
    each snapshot's samples (toylab's extras hold the same numbers for 2-D runs, but not the
    ``nearest`` counts R9 needs, nor anything for 1-D runs); for images, the fixed-noise batch's
    mean pairwise distance next to a real batch's. Both are cached per (run, step)."""
    cfg = view.config
    if cfg.is_toy:
        spec = _toy_modes(cfg.data)
        if spec is None:
            return None, None
        modes = [
            _MODES.get((view.run_id, snap.step),
                       lambda snap=snap: mode_summary(snap.samples, spec[0], spec[1], snap.step))
            for snap in view.snapshots
        ]  # fmt: skip
        return modes, None
    div = []
    for snap in view.snapshots:
        fake = _FAKE_MPD.get((view.run_id, snap.step), lambda snap=snap: mean_pairwise_distance(snap.samples))
        n = min(64, len(snap.samples))
        div.append({"step": snap.step, "fake": fake, "real": real_diversity(cfg.data, cfg.data_root, n),
                    **quality_fields(snap.extras.get("quality"))})  # fmt: skip
    return None, div


def quality_fields(report: dict | None) -> dict:
    """The numbers R10 and the summary read from a snapshot's quality report
    (``gan_demo.metrics.quality.report``), renamed for the ``diversity`` dict; {} without one."""
    if not report:
        return {}
    return {"label_counts": list(report["counts"]), "label_coverage": report["coverage"], "label_kl": report["kl"],
            "label_kl_real": report["kl_real"], "class_names": list(report["class_names"]), "fd": report["fd"],
            "fd_floor": report["fd_floor"], "n": report["n"]}  # fmt: skip


# per (run id, step) and per (data, root, n): shared by every session's thread, hence _Memo
_MODES = _Memo(4096)
_FAKE_MPD = _Memo(4096)
_REAL_MPD = _Memo(64)


def _upto(items: list[dict] | None, step: int) -> list[dict] | None:
    return None if items is None else [m for m in items if int(m["step"]) <= step]


def diagnose_view(view: Any) -> list[Finding]:
    """``diagnose`` on a live or finished ``live.RunView``, with its snapshots' quality numbers."""
    modes, div = view_quality(view)
    return diagnose(view.metrics, view.config.loss, config=view.config, modes=modes,
                    diversity=div[-1] if div else None)  # fmt: skip


# ---------------------------------------------------------------- the history of changes
@dataclass(frozen=True)
class Change:
    """The headline diagnosis changed to ``state`` at ``step``; ``text`` is ``text_msg`` rendered in the
    current language."""

    step: int
    state: str
    severity: str
    text_msg: Msg  # "step 1200: D overpowers G (L_D 0.03 (< 0.05), ...)"

    @property
    def text(self) -> str:
        return str(self.text_msg)


class DiagnosisLog:
    """The headline state replayed at fixed checkpoints (every ``every`` logged rows); a change is
    kept once the new state holds for ``confirm`` checkpoints in a row, dated at its first one (an
    ``error`` state is kept at once). When the run has finished, its last row is a checkpoint too
    and a state still waiting for confirmation is kept.

    ``update`` only diagnoses the checkpoints it has not seen, so a page can call it every second
    with the growing history; the lines depend on the history alone, never on when it is called.
    """

    def __init__(self, loss: str, *, config: TrainConfig | None = None, every: int = 10, confirm: int = 2):
        self.loss, self.config = loss, config
        self.every, self.confirm = max(1, every), max(1, confirm)
        self.changes: list[Change] = []
        self._next_row = self.every - 1  # the next checkpoint's row index
        self._last_row = -1  # the last row diagnosed
        self._state: str | None = None  # the confirmed headline
        self._pending: tuple[Finding, int] | None = None  # a new headline and how often it held

    def update(
        self,
        metrics: dict[str, Sequence[float]],
        modes: list[dict] | None = None,
        diversity: list[dict] | None = None,
        *,
        finished: bool = False,
    ) -> list[Change]:
        n = len(metrics.get("step", ()))
        while self._next_row < n:
            self._check(metrics, self._next_row, modes, diversity)
            self._next_row += self.every
        if finished and n:
            if self._last_row != n - 1:
                self._check(metrics, n - 1, modes, diversity)
            if self._pending is not None:
                self._keep(self._pending[0])
        return self.changes

    def _check(self, metrics: dict[str, Sequence[float]], i: int, modes: list[dict] | None, diversity: list[dict] | None) -> None:
        prefix = {k: v[: i + 1] for k, v in metrics.items()}
        step = int(prefix["step"][-1])
        div = _upto(diversity, step)
        found = diagnose(prefix, self.loss, config=self.config, modes=_upto(modes, step),
                         diversity=div[-1] if div else None)  # fmt: skip
        self._last_row = i
        if not found:
            return
        head = found[0]
        if head.state == self._state:
            self._pending = None
            return
        if self._pending is not None and self._pending[0].state == head.state:
            self._pending = (self._pending[0], self._pending[1] + 1)
        else:
            self._pending = (head, 1)
        first, held = self._pending
        if held >= self.confirm or first.severity == "error":
            self._keep(first)

    def _keep(self, first: Finding) -> None:
        line = Msg("diagnosis.log_line", step=first.step, title=first.title_msg, evidence=first.evidence_msg)
        self.changes.append(Change(first.step, first.state, first.severity, line))
        self._state, self._pending = first.state, None


def history(
    metrics: dict[str, Sequence[float]],
    loss: str,
    *,
    config: TrainConfig | None = None,
    modes: list[dict] | None = None,
    diversity: list[dict] | None = None,
    every: int = 10,
    confirm: int = 2,
    finished: bool = False,
) -> list[Change]:
    """The changes of the headline diagnosis over a whole history (a fresh :class:`DiagnosisLog`)."""
    log = DiagnosisLog(loss, config=config, every=every, confirm=confirm)
    return log.update(metrics, modes, diversity, finished=finished)
