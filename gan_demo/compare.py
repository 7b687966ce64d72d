"""What the Compare page computes: curves of several runs on one chart, the snapshot each run shows at a
chosen step, and the config fields in which the runs differ. No Streamlit here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from gan_demo import config
from gan_demo.config import TrainConfig
from gan_demo.content import Msg, t

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")  # one per run, in the order picked (at most 4)
# a metric's name on the chart: a symbol (the same in both languages) or a message (words)
LABELS: dict[str, str | Msg] = {
    "loss_d": "L_D", "loss_g": "L_G", "d_real": "D(x)", "d_fake": "D(G(z))", "d_fake_g": Msg("compare.metric.d_fake_g"),
    "d_acc": Msg("compare.metric.d_acc"), "grad_d": "‖∇D‖", "grad_g": "‖∇G‖", "w1": "−L_D (WGAN: ≤ K·W1)",
    "gp_norm": "‖∇D(x̂)‖", "clip_frac": Msg("compare.metric.clip_frac"), "loss_d_real": Msg("compare.metric.loss_d_real"),
    "loss_d_fake": Msg("compare.metric.loss_d_fake"), "gp": Msg("compare.metric.gp"),
}  # fmt: skip


def metric_label(metric: str) -> str:
    """A metric's name as the chart and the picker show it, in the reader's language (the metric's
    own name when it has no label)."""
    return str(LABELS.get(metric, metric))


def common_metrics(names: Sequence[Sequence[str]]) -> list[str]:
    """The metrics every run logs, in the first run's order ("step" left out)."""
    if not names:
        return []
    shared = set(names[0]).intersection(*map(set, names[1:]))
    return [n for n in names[0] if n in shared and n != "step"]


def overlay_figure(runs: Sequence[tuple[str, Mapping[str, Sequence[float]]]], metric: str,
                   uirevision: str = "compare") -> go.Figure:  # fmt: skip
    """One line per run (label, metric columns): ``metric`` against the step, on shared axes; the
    titles in the reader's language (call it in the script thread, or cache it per language)."""
    fig = go.Figure()
    for (label, metrics), color in zip(runs, COLORS, strict=False):
        fig.add_scatter(x=list(metrics["step"]), y=list(metrics[metric]), mode="lines", name=label,
                        line={"color": color, "width": 1.6})  # fmt: skip
    fig.update_layout(title={"text": t("compare.chart_title", metric=metric_label(metric)), "font": {"size": 15}}, height=380,
                      uirevision=uirevision, xaxis_title=t("compare.step_axis"), yaxis_title=metric_label(metric),
                      margin={"l": 10, "r": 10, "t": 40, "b": 10}, hovermode="x unified",
                      legend={"orientation": "h", "yanchor": "top", "y": -0.2, "x": 0})  # fmt: skip
    return fig


def snapshot_at(snapshots: Sequence[Any], step: int) -> Any | None:
    """The last snapshot at or before ``step`` (None when the run has none by then)."""
    before = [s for s in snapshots if s.step <= step]
    return before[-1] if before else None


def differing_fields(configs: Sequence[TrainConfig]) -> list[str]:
    """The TrainConfig fields whose values are not all equal, in the config's field order."""
    dicts = [c.to_dict() for c in configs]
    return [f.name for f in dataclasses.fields(TrainConfig) if len({repr(d[f.name]) for d in dicts}) > 1]


def config_table(labels: Sequence[str], configs: Sequence[TrainConfig]) -> tuple[list[list[Any]], list[str]]:
    """(rows: [field, value per run] for every field that one of the runs' objectives reads, the
    fields that differ). Another objective's own fields (a CycleGAN's λ_cyc beside two GAN runs) are
    left out: their defaults would read as settings of these runs."""
    dicts = [c.to_dict() for c in configs]
    used = set().union(*(config.fields_of(c.objective) for c in configs)) | {"objective"}
    rows = [[f.name, *(repr(d[f.name]) if d[f.name] is None else d[f.name] for d in dicts)]
            for f in dataclasses.fields(TrainConfig) if f.name in used]  # fmt: skip
    return rows, differing_fields(configs)
