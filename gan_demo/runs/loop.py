"""Training in the calling thread with the app's record: the CLI and ``record-presets`` use this.

It logs the same rows as the app's worker (:meth:`Trainer.logs`: the first, every ``log_every``-th
and the last step) and takes the same snapshots (step 0, every ``snapshot_every`` steps, the last
step, thinned by :func:`gan_demo.runs.live.add_snapshot`), with the extras of the page the run's data
belongs to (:func:`snapshot_fn`), so a run trained here replays on its page like one trained there.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gan_demo.config import TrainConfig
from gan_demo.runs.live import Snapshot, SnapshotFn, add_snapshot
from gan_demo.train import NonFinite, Trainer

MAX_SNAPSHOTS = 200  # as the app's worker keeps (live.Run.max_snapshots)


def snapshot_fn(config: TrainConfig) -> SnapshotFn:
    """The snapshot extras of the page that shows ``config``'s data: the 2-D toys' heatmap and mode
    numbers, the 1-D page's densities, the CycleGAN page's (:func:`gan_demo.cyclelab.snapshot`), or the
    Train page's quality report."""
    from gan_demo import toylab, toys  # imported here: toylab pulls in plotly and scipy
    from gan_demo.metrics import quality

    if config.objective == "cyclegan":  # the CycleGAN page's planes, or its images and label readouts
        from gan_demo import cyclelab

        return cyclelab.snapshot
    if not config.is_toy:
        return quality.snapshot_extras
    return toylab.snapshot_1d if toys.get(config.data).dim == 1 else toylab.snapshot_2d


@dataclass
class Record:
    """What a run in this thread recorded: the logged rows as columns, and the snapshots."""

    metrics: dict[str, list[float]]
    snapshots: list[Snapshot] = field(default_factory=list)
    snapshot_every: int = 100  # the interval now (it doubles as old snapshots are thinned)
    failure: NonFinite | None = None

    @classmethod
    def empty(cls, trainer: Trainer) -> Record:
        return cls({n: [] for n in trainer.metric_names}, [], trainer.config.snapshot_every)


def _first_bad(row: dict[str, float], step: int) -> NonFinite | None:
    name = next((k for k, v in row.items() if not math.isfinite(v)), None)
    return None if name is None else NonFinite(step, name, row[name], "the logged row")


def train(trainer: Trainer, record: Record, until: int | None = None, extras: SnapshotFn | None = None,
          on_step: Callable[[int, dict[str, float] | None], Any] | None = None,
          keep: int = MAX_SNAPSHOTS) -> Record:  # fmt: skip
    """Train ``trainer`` to step ``until`` (default: the config's steps), appending to ``record``;
    stops at the first non-finite step (``record.failure``). ``on_step(step, row or None)`` is called
    after every step (a progress bar)."""
    until = trainer.config.steps if until is None else min(until, trainer.config.steps)
    extras = snapshot_fn(trainer.config) if extras is None else extras

    def snap() -> None:
        if record.snapshots and record.snapshots[-1].step == trainer.step_count:
            return
        shot = Snapshot(trainer.step_count, trainer.fixed_samples().numpy(), dict(extras(trainer)))
        record.snapshots, record.snapshot_every = add_snapshot(record.snapshots, shot, record.snapshot_every, keep)

    snap()
    while trainer.step_count < until:
        n = trainer.step_count + 1
        row = trainer.step(with_metrics=trainer.logs(n))
        if row is not None:
            for name, value in row.items():
                record.metrics[name].append(value)
            record.failure = trainer.nonfinite or _first_bad(row, n)
        if on_step is not None:
            on_step(n, row)
        if record.failure is not None:
            break
        if n % record.snapshot_every == 0 or n == until:
            snap()
    if record.failure is None:
        snap()  # where the run stopped (--stop-at)
    return record
