"""The conditional GAN's two states, read from the snapshots' per-class report
(:func:`gan_demo.metrics.conditional.class_report`), in design.md's format (rule, state, evidence,
advice; thresholds marked (h) are heuristics, docs/cgan.md lists the runs behind them):

| id | condition | diagnosis |
|---|---|---|
| R17 | label accuracy < 3 × chance (h) while the classifier is confident (≥ 0.7 (h)) the samples are of *some* class | label ignored: G draws good images of classes it picks itself |
| R18 | a class's samples have a mean pairwise distance < 30 % (h, as R11) of its real images', while that class is drawn right (and R17 is quiet) | class collapse: one class's samples all alike |

Both judge only after :data:`WARMUP_STEPS`, on the latest snapshot; :func:`diagnose` returns
:class:`gan_demo.diagnostics.Finding` s, worst first (an empty list: too early, or nothing to say).
Their texts are messages of the ``diagnosis`` catalogue, rendered in the reader's language when shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_demo.content import Msg
from gan_demo.diagnostics import Finding, Join

WARMUP_STEPS = 500  # (h) G first learns images, then labels: judge after this many steps
IGNORED_ACC_FACTOR = 3.0  # (h) label accuracy under 3x chance (30 % for 10 classes) ...
IGNORED_CONFIDENCE = 0.7  # (h) ... while the classifier's mean top probability is at least this
COLLAPSE_DIVERSITY = 0.3  # (h) a class's diversity (G's mean pairwise distance / real's) below this ...
COLLAPSE_ACC = 0.5  # (h) ... for a class drawn right at least this often (else the label is the problem)
SHOWN = 3  # collapsed classes named in the evidence; the rest are counted

# the titles of the states, as messages (catalogue "diagnosis", English and Chinese)
TITLES = {state: Msg(f"diagnosis.title.{state}") for state in ("label_ignored", "class_collapse", "labels_followed")}
_LOOK = Msg("diagnosis.cgan.look")  # the per-class grid: one row per class, one column per z


def _advice(tip: str) -> Msg:
    return Msg("diagnosis.cgan.advice", tip=Msg(f"diagnosis.cgan.{tip}"), look=_LOOK)


def label_ignored(report: dict) -> Msg | None:
    """R17's evidence, or None."""
    k = len(report["accuracy"])
    acc, conf = report["accuracy_mean"], report["confidence"]
    if acc < IGNORED_ACC_FACTOR / k and conf >= IGNORED_CONFIDENCE:
        return Msg("diagnosis.cgan.r17", acc_pct=100 * acc, chance_pct=100 * (1 / k),
                   limit_pct=100 * (IGNORED_ACC_FACTOR / k), conf_pct=100 * conf,
                   conf_min_pct=100 * IGNORED_CONFIDENCE)  # fmt: skip
    return None


def class_collapse(report: dict) -> list[tuple[int, Msg]]:
    """R18: (class, evidence) for each collapsed class."""
    names = report["class_names"]
    out = []
    for k, (div, acc) in enumerate(zip(report["diversity"], report["accuracy"], strict=True)):
        if math.isfinite(div) and div < COLLAPSE_DIVERSITY and acc >= COLLAPSE_ACC:
            out.append((k, Msg("diagnosis.cgan.r18", label=names[k], div_pct=100 * div,
                               limit_pct=100 * COLLAPSE_DIVERSITY, acc_pct=100 * acc)))  # fmt: skip
    return out


def diagnose(reports: Sequence[dict], condition: str, mismatch_weight: float) -> list[Finding]:
    """Findings on the latest of ``reports`` (dicts of ``class_report`` with a ``step``), worst first."""
    if not reports or reports[-1]["step"] < WARMUP_STEPS:
        return []
    r, step = reports[-1], int(reports[-1]["step"])
    found = []
    if (ev := label_ignored(r)) is not None:
        # 'none': D never sees the label; otherwise it sees it but does not use it yet
        advice = _advice("tip_none" if condition == "none" else "tip_unused")
        found.append(Finding("R17", "label_ignored", "warning", TITLES["label_ignored"], ev, advice, step))
    collapsed = class_collapse(r) if not found else []  # a row of the wrong class says nothing of its own
    if collapsed:
        parts = [e for _, e in collapsed[:SHOWN]]
        if len(collapsed) > SHOWN:
            parts.append(Msg("diagnosis.cgan.r18_more", n=len(collapsed) - SHOWN))
        found.append(Finding("R18", "class_collapse", "warning", TITLES["class_collapse"],
                             Join(tuple(parts), "diagnosis.sep_semicolon"),
                             _advice("tip_collapse"), step))  # fmt: skip
    if not found:
        k = len(r["accuracy"])
        found.append(Finding("OK", "labels_followed", "ok", TITLES["labels_followed"],
                             Msg("diagnosis.cgan.ok", acc_pct=100 * r["accuracy_mean"], chance_pct=100 * (1 / k),
                                 clf_pct=100 * r["classifier_accuracy"]),
                             _LOOK, step))  # fmt: skip
    return found
