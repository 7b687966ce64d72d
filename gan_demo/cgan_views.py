"""What the Conditional GAN page draws, computed without Streamlit: grids, interpolation, GIF, snapshots.

- :func:`class_grid_order`: the per-class grid's layout, row = class, column = one fixed z;
- :class:`LatestG`: a copy of G's weights at the latest snapshot, which the page's "pick a digit" and
  "class interpolation" views run (the worker thread keeps training its own G: the page never touches
  it);
- :func:`interpolation_frames` / :func:`gif_bytes`: G(z, e) with z fixed while e goes from one class's
  embedding to another's, as uint8 frames and as an animated GIF (PIL);
- :func:`snapshot_fn`: the page's ``live.SnapshotFn`` (the classifier's per-class numbers and G's copy).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import plotly.graph_objects as go
import torch
from torch import Tensor

from gan_demo import conditional, data
from gan_demo.config import TrainConfig
from gan_demo.content import t
from gan_demo.metrics import conditional as cmetrics
from gan_demo.metrics import quality


def class_grid_order(n_classes: int, columns: int) -> np.ndarray:
    """The class of each image of the per-class grid, in the order ``plots.image_grid(nrow=columns)``
    lays them out (row by row): (n_classes · columns,), row k all class k."""
    return np.repeat(np.arange(n_classes), columns)


class LatestG:
    """G's weights (a CPU copy) at the latest snapshot, with its step; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, Tensor] | None = None
        self.step = -1

    def put(self, G: torch.nn.Module, step: int) -> None:
        state = {k: v.detach().to("cpu", copy=True) for k, v in G.state_dict().items()}
        with self._lock:
            self._state, self.step = state, step

    def get(self) -> tuple[int, dict[str, Tensor] | None]:
        with self._lock:
            return self.step, self._state


def generator_from(config: TrainConfig, state: dict[str, Tensor]) -> torch.nn.Module:
    """The run's G rebuilt on the CPU from its config and ``state`` (in eval mode)."""
    shape = data.image_shape(config.data)
    G, _ = conditional.build(config.model, shape, config.z_dim, config.hidden, len(data.CLASS_NAMES[config.data]),
                             config.condition, config.label_dim)  # fmt: skip
    G.load_state_dict(state)
    return G.eval()


@torch.no_grad()
def class_samples(G: torch.nn.Module, label: int, n: int, seed: int) -> Tensor:
    """``n`` images of class ``label`` from z's seeded by ``seed``: (n, C, H, W) in [-1, 1]."""
    z = torch.randn(n, z_dim_of(G), generator=torch.Generator().manual_seed(seed))
    return G(z, torch.full((n,), label, dtype=torch.int64))


def z_dim_of(G: torch.nn.Module) -> int:
    """The size of z a conditional G reads (its first Linear's inputs minus the label embedding)."""
    first = G.net[0] if isinstance(G.net[0], torch.nn.Linear) else G.project[0]
    return first.in_features - G.embed.embedding_dim


def interpolation_frames(G: torch.nn.Module, y0: int, y1: int, steps: int, seed: int) -> np.ndarray:
    """uint8 frames (steps, H, W) of :func:`gan_demo.conditional.interpolate` from class y0 to y1, z
    drawn with ``seed`` and fixed; pixel = round((x + 1) / 2 · 255)."""
    z = torch.randn(z_dim_of(G), generator=torch.Generator().manual_seed(seed))
    x = conditional.interpolate(G, z, y0, y1, steps)
    return to_uint8(x)[:, 0]


def to_uint8(x: Tensor | np.ndarray) -> np.ndarray:
    """Images in [-1, 1] as uint8 0..255: round((x + 1) / 2 · 255), clipped."""
    a = np.asarray(x, dtype=np.float32)
    return np.clip(np.round((a + 1.0) * 127.5), 0, 255).astype(np.uint8)


def gif_bytes(frames: np.ndarray, scale: int = 8, frame_ms: int = 120, bounce: bool = True) -> bytes:
    """An animated GIF (PIL) of uint8 frames (n, H, W), each enlarged ``scale`` times (nearest
    neighbour); ``bounce`` plays forward then back; loops forever."""
    seq = list(frames) + (list(frames[-2:0:-1]) if bounce and len(frames) > 2 else [])
    from PIL import Image

    imgs = [Image.fromarray(f, mode="L").resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in seq]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=frame_ms, loop=0)
    return buf.getvalue()


def snapshot_fn() -> Callable[[Any], dict[str, Any]]:
    """A ``live.SnapshotFn`` for one run: ``{"cgan": the per-class report, "latest_g": LatestG}``.
    Every snapshot of the run shares the one :class:`LatestG` (one copy of G, not one per snapshot)."""
    latest = LatestG()

    def fn(trainer) -> dict[str, Any]:
        latest.put(trainer.G, trainer.step_count)
        return {**cmetrics.snapshot_extras(trainer), "latest_g": latest}

    return fn


def accuracy_figure(shots: list[tuple[int, dict]], uirevision: str = "run") -> go.Figure:
    """Label accuracy per class over the snapshots ``[(step, class_report), ...]`` (one faint line per
    class, the mean in bold), with chance (1/K) and the classifier's held-out accuracy as dashed lines.
    Its text is in the reader's language (``t()``: build it in the script thread, cached per language)."""
    fig = go.Figure()
    steps = [s for s, _ in shots]
    names = quality.class_labels(shots[-1][1]["class_names"])
    for k, name in enumerate(names):
        fig.add_scatter(x=steps, y=[r["accuracy"][k] for _, r in shots], mode="lines", name=name,
                        line={"width": 1}, opacity=0.6)  # fmt: skip
    fig.add_scatter(x=steps, y=[r["accuracy_mean"] for _, r in shots], mode="lines+markers",
                    name=t("cgan.acc.mean"), line={"width": 3, "color": "black"})  # fmt: skip
    k = len(names)
    fig.add_hline(y=1 / k, line_dash="dash", line_color="gray", annotation_text=t("cgan.acc.chance", k=k))
    clf = shots[-1][1]["classifier_accuracy"]
    fig.add_hline(y=clf, line_dash="dot", line_color="green",
                  annotation_text=t("cgan.acc.classifier", percent=100 * clf))  # fmt: skip
    fig.update_layout(title=t("cgan.acc.title"), xaxis_title=t("cgan.axis.step"), yaxis_title=t("cgan.axis.share"),
                      yaxis_range=[0, 1.05], height=380, uirevision=uirevision, margin={"t": 50, "b": 40})  # fmt: skip
    return fig


def frechet_figure(report: dict, step: int, uirevision: str = "run") -> go.Figure:
    """Fréchet distance per class (bars) beside its real-vs-real floor at the same n (markers)."""
    names = quality.class_labels(report["class_names"])
    fig = go.Figure()
    fig.add_bar(x=names, y=report["fd"], name=t("cgan.fd.bar"))
    fig.add_scatter(x=names, y=report["fd_floor"], mode="markers", name=t("cgan.fd.floor"),
                    marker={"symbol": "line-ew-open", "size": 24, "line": {"width": 3}})  # fmt: skip
    per = report["n"] // max(1, len(names))
    fig.update_layout(title=t("cgan.fd.title", step=step, per=per), yaxis_title=t("cgan.fd.yaxis"), height=380,
                      uirevision=uirevision, margin={"t": 50, "b": 40})  # fmt: skip
    return fig
