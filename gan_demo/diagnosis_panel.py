"""The diagnosis panel: what state training is in, the numbers that show it, and what to try.

``render(view)`` draws it for a ``live.RunView``. It runs inside the page's ``st.fragment`` every
second, so it stays cheap: the rules read medians of the recent window, the quality numbers are
cached per (run, snapshot), and the history of changes lives in a :class:`DiagnosisLog` kept in
``st.session_state`` per run, which only diagnoses the checkpoints it has not seen yet.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from gan_demo import diagnostics
from gan_demo.diagnostics import DiagnosisLog, Finding

ICONS = {"error": "🛑", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}
HISTORY_LINES = 8  # changes shown in the history


def _box(severity: str) -> Any:
    return {"error": st.error, "warning": st.warning, "info": st.info, "ok": st.success}[severity]


def _log_for(view: Any) -> DiagnosisLog:
    """This run's log of changes, kept across reruns (a new run id starts a new log)."""
    key = f"diagnosis_log_{view.run_id}"
    log = st.session_state.get(key)
    if not isinstance(log, DiagnosisLog):
        log = DiagnosisLog(view.config.loss, config=view.config)
        st.session_state[key] = log
    return log


def render(view: Any) -> None:
    """The headline state (coloured by severity), its evidence and advice, the other findings, and
    the last changes of the diagnosis."""
    st.subheader("Diagnosis")
    modes, div = diagnostics.view_quality(view)
    findings = diagnostics.diagnose(view.metrics, view.config.loss, config=view.config, modes=modes,
                                    diversity=div[-1] if div else None)  # fmt: skip
    changes = _log_for(view).update(view.metrics, modes, div, finished=view.status in ("done", "stopped", "failed"))
    if not findings:
        st.info(
            f"Warming up: the first {diagnostics.WARMUP_STEPS} steps are not judged (step "
            f"{view.step}). Meanwhile, watch D(x) and D(G(z)) move apart and the samples change.",
            icon=ICONS["info"],
        )
    else:
        _headline(findings[0])
        for f in findings[1:]:
            st.markdown(f"{ICONS[f.severity]} **{f.title}** ({f.rule}): {f.evidence}")
    if changes:
        with st.expander(f"History of the diagnosis ({len(changes)} changes)", expanded=False):
            st.markdown("\n".join(f"- {ICONS[c.severity]} {c.text}" for c in changes[-HISTORY_LINES:]))


def _headline(f: Finding) -> None:
    _box(f.severity)(f"**{f.title}** ({f.rule})  \n{f.evidence}", icon=ICONS[f.severity])
    st.markdown(f"**What to try:** {f.advice}")
