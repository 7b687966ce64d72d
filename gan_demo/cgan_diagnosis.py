"""The conditional GAN's two states, read from the snapshots' per-class report
(:func:`gan_demo.metrics.conditional.class_report`), in design.md's format (rule, state, evidence,
advice; thresholds marked (h) are heuristics, docs/cgan.md lists the runs behind them):

| id | condition | diagnosis |
|---|---|---|
| R17 | label accuracy < 3 × chance (h) while the classifier is confident (≥ 0.7 (h)) the samples are of *some* class | label ignored: G draws good images of classes it picks itself |
| R18 | a class's samples have a mean pairwise distance < 30 % (h, as R11) of its real images', while that class is drawn right (and R17 is quiet) | class collapse: one class's samples all alike |

Both judge only after :data:`WARMUP_STEPS`, on the latest snapshot; :func:`diagnose` returns
:class:`gan_demo.diagnostics.Finding` s, worst first (an empty list: too early, or nothing to say).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from gan_demo.diagnostics import Finding

WARMUP_STEPS = 500  # (h) G first learns images, then labels: judge after this many steps
IGNORED_ACC_FACTOR = 3.0  # (h) label accuracy under 3x chance (30 % for 10 classes) ...
IGNORED_CONFIDENCE = 0.7  # (h) ... while the classifier's mean top probability is at least this
COLLAPSE_DIVERSITY = 0.3  # (h) a class's diversity (G's mean pairwise distance / real's) below this ...
COLLAPSE_ACC = 0.5  # (h) ... for a class drawn right at least this often (else the label is the problem)

TITLES = {"label_ignored": "Label ignored: G draws good images of the wrong classes",
          "class_collapse": "Class collapse: one class's samples are all alike",
          "labels_followed": "Labels followed: G draws the class it is asked for"}  # fmt: skip
_LOOK = "Look at the per-class grid: each row should be its class, each column one z in every class."


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def label_ignored(report: dict) -> str | None:
    """R17's evidence, or None."""
    k = len(report["accuracy"])
    acc, conf = report["accuracy_mean"], report["confidence"]
    if acc < IGNORED_ACC_FACTOR / k and conf >= IGNORED_CONFIDENCE:
        return (f"label accuracy {_pct(acc)} (chance {_pct(1 / k)}, < {_pct(IGNORED_ACC_FACTOR / k)}) while the "
                f"classifier is {_pct(conf)} confident on G's samples (≥ {_pct(IGNORED_CONFIDENCE)}): they look "
                "like real images, of classes that do not follow the label")  # fmt: skip


def class_collapse(report: dict) -> list[tuple[int, str]]:
    """R18: (class, evidence) for each collapsed class."""
    names = report["class_names"]
    out = []
    for k, (div, acc) in enumerate(zip(report["diversity"], report["accuracy"], strict=True)):
        if math.isfinite(div) and div < COLLAPSE_DIVERSITY and acc >= COLLAPSE_ACC:
            out.append((k, f"'{names[k]}': mean pairwise distance {_pct(div)} of the real '{names[k]}' images' "
                           f"(< {_pct(COLLAPSE_DIVERSITY)}), drawn right {_pct(acc)} of the time"))  # fmt: skip
    return out


def diagnose(reports: Sequence[dict], condition: str, mismatch_weight: float) -> list[Finding]:
    """Findings on the latest of ``reports`` (dicts of ``class_report`` with a ``step``), worst first."""
    if not reports or reports[-1]["step"] < WARMUP_STEPS:
        return []
    r, step = reports[-1], int(reports[-1]["step"])
    found = []
    if (ev := label_ignored(r)) is not None:
        if condition == "none":
            advice = ("D never sees the label (conditioning 'none'), so nothing rewards G for following it. "
                      "Condition D: 'projection' (Miyato & Koyama 2018) or 'concat'. ")
        else:
            advice = ("D sees the label but does not use it yet. Add or raise the mismatched-pair term (D must "
                      "reject real images with a wrong label, Reed et al. 2016), or try the projection D. ")
        found.append(Finding("R17", "label_ignored", "warning", TITLES["label_ignored"], ev, advice + _LOOK, step))
    collapsed = class_collapse(r) if not found else []  # a row of the wrong class says nothing of its own
    if collapsed:
        ev = "; ".join(e for _, e in collapsed[:3]) + (f"; and {len(collapsed) - 3} more" if len(collapsed) > 3 else "")
        found.append(Finding("R18", "class_collapse", "warning", TITLES["class_collapse"], ev,
                             "G found one image per class that D accepts. Train longer (the classes often "
                             "spread out later), lower the learning rates, or use the conv nets; compare the "
                             "columns of the per-class grid: in a collapsed row they are all the same. "
                             + _LOOK, step))  # fmt: skip
    if not found:
        k = len(r["accuracy"])
        found.append(Finding("OK", "labels_followed", "ok", TITLES["labels_followed"],
                             f"label accuracy {_pct(r['accuracy_mean'])} (chance {_pct(1 / k)}; the classifier "
                             f"itself reads {_pct(r['classifier_accuracy'])} of held-out real images right)",
                             _LOOK, step))  # fmt: skip
    return found
