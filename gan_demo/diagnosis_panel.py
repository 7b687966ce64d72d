"""The diagnosis panel: what state training is in, the numbers that show it, and what to try.

``render(view)`` draws it for a ``live.RunView``. It runs inside the page's ``st.fragment`` every
second, in every session that watches the run, so it stays cheap: the findings are computed once per
(run, logged rows, snapshots) for the whole server, the quality numbers are cached per (run,
snapshot), and the history of changes lives in one :class:`DiagnosisLog` per run (shared by its
watchers, behind a lock), which only diagnoses the checkpoints it has not seen yet. (Thirty students
watching one shared run each re-ran the rules every second and slowed its training to 8 %:
docs/load.md.) The cached findings and log lines hold messages (:class:`gan_demo.content.Msg`), not
sentences, so each watcher reads them in their own language.
"""

from __future__ import annotations

import threading
from typing import Any

import streamlit as st

from gan_demo import diagnostics
from gan_demo.content import t
from gan_demo.diagnostics import DiagnosisLog, Finding

ICONS = {"error": "🛑", "warning": "⚠️", "info": "ℹ️", "ok": "✅"}
HISTORY_LINES = 8  # changes shown in the history


def _box(severity: str) -> Any:
    return {"error": st.error, "warning": st.warning, "info": st.info, "ok": st.success}[severity]


@st.cache_resource(max_entries=256, show_spinner=False)
def _shared_log(run_id: str, _config: Any) -> tuple[DiagnosisLog, threading.Lock]:
    """This run's log of changes for the whole server (a new run id starts a new log), with the lock
    its watchers' sessions take to update it."""
    return DiagnosisLog(_config.loss, config=_config), threading.Lock()


@st.cache_resource(max_entries=512, show_spinner=False)
def _findings(run_id: str, rows: int, shots: int, _view: Any) -> tuple[list[Finding], list, list]:
    """(findings, modes, diversity) of a run once it has ``rows`` logged rows and ``shots`` snapshots:
    computed by the first session that asks, then shared (a run's rows and snapshots only grow)."""
    modes, div = diagnostics.view_quality(_view)
    findings = diagnostics.diagnose(_view.metrics, _view.config.loss, config=_view.config, modes=modes,
                                    diversity=div[-1] if div else None)  # fmt: skip
    return findings, modes, div


def render(view: Any) -> None:
    """The headline state (coloured by severity), its evidence and advice, the other findings, and
    the last changes of the diagnosis."""
    st.subheader(t("diagnosis.panel.header"))
    findings, modes, div = _findings(view.run_id, len(view.metrics.get("step", ())), len(view.snapshots), view)
    log, lock = _shared_log(view.run_id, view.config)
    with lock:
        changes = list(log.update(view.metrics, modes, div, finished=view.status in ("done", "stopped", "failed")))
    if not findings:
        st.info(t("diagnosis.panel.warming_up", warmup=diagnostics.WARMUP_STEPS, step=view.step), icon=ICONS["info"])
    else:
        _headline(findings[0])
        for f in findings[1:]:
            st.markdown(f"{ICONS[f.severity]} " + t("diagnosis.panel.line", title=f.title_msg, rule=f.rule,
                                                     evidence=f.evidence_msg))  # fmt: skip
    if changes:
        with st.expander(t("diagnosis.panel.history", n=len(changes)), expanded=False):
            st.markdown("\n".join(f"- {ICONS[c.severity]} {c.text}" for c in changes[-HISTORY_LINES:]))


def _headline(f: Finding) -> None:
    _box(f.severity)(t("diagnosis.panel.headline", title=f.title_msg, rule=f.rule, evidence=f.evidence_msg),
                     icon=ICONS[f.severity])  # fmt: skip
    st.markdown(t("diagnosis.panel.what_to_try", advice=f.advice_msg))
