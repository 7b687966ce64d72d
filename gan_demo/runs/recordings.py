"""Recordings of every preset in ``checkpoints/``: a seeded CPU run of each, kept small, with an index.

``python -m gan_demo record-presets`` (a maintainer's command) trains each preset with its own seed
on the CPU, on one thread, as a run of the app would (the same rows, snapshots and page extras:
:mod:`gan_demo.runs.loop`) and writes ``checkpoints/runs/<preset>.zip``: a compact run archive (G's
weights and the fixed noise as float16, no D or optimizer state; snapshot arrays as float16, thinned
to :data:`KEEP_SNAPSHOTS`; the metric rows exact: a replay draws the recorded curves, a sample from
the float16 G is close to, not equal to, the recorded one). ``checkpoints/index.json`` gets one entry per
recording under ``"recordings"``: file, preset, page, steps, size, sha256, the command, the torch
version and the seconds it took. The app's Replay opens a recording at once, whatever the server is
doing (:func:`load` checks the sha256 against the index, then every file as an upload is checked).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import torch

from gan_demo import presets
from gan_demo.config import TrainConfig
from gan_demo.content import Msg
from gan_demo.runs import archive, folder, loop
from gan_demo.runs.folder import RunData, RunFormatError

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
INDEX = "index.json"
SUBFOLDER = "runs"
KEEP_SNAPSHOTS = 12  # snapshots kept per recording (first and last included)
COMMAND = "python -m gan_demo record-presets"


# Runs recorded besides the presets, so that each of the Compare page's lessons changes one thing:
# a preset with one setting changed (packing off), or the other Lipschitz constraint (clipping).
VARIANTS: dict[str, presets.Preset] = {p.name: p for p in (
    presets.Preset("mode-collapse-packed", Msg("runs.variant.mode_collapse_packed"), "toys_2d",
                   {**presets.get("mode-collapse").overrides, "pack": 2}),
    presets.Preset("wgan-clip", Msg("runs.variant.wgan_clip"), "train",
                   dict(data="digits", model="mlp", loss="wgan", steps=1000)),
)}  # fmt: skip

# (title, the recordings compared, what to look at, the metric the chart opens on): the Compare
# page's one-click lessons; the title and the text are messages of the compare catalogue (str() renders
# them in the reader's language): Goodfellow et al. 2014, section 3; PacGAN, Lin et al. 2018; Arjovsky
# et al. 2017 against Gulrajani et al. 2017
LESSONS: tuple[tuple[Msg, tuple[str, ...], Msg, str], ...] = (
    (Msg("compare.lesson.saturating.title"), ("d-overpowers-g", "d-overpowers-g-non-saturating"),
     Msg("compare.lesson.saturating.text"), "grad_g"),
    (Msg("compare.lesson.packing.title"), ("mode-collapse", "mode-collapse-packed"),
     Msg("compare.lesson.packing.text"), "loss_d"),
    (Msg("compare.lesson.clipping.title"), ("wgan-clip", "healthy-wgan-gp"),
     Msg("compare.lesson.clipping.text"), "w1"),
)  # fmt: skip


# The presets that have recordings: the GAN objective's (Train, 1-D and 2-D pages). The conditional GAN's
# and CycleGAN's pages keep extras in their snapshots that the run format does not store yet (a copy of
# G for the cGAN's views, the CycleGAN page's mode table), so their presets train live only.
RECORDED_PRESETS: tuple[str, ...] = tuple(n for n, p in presets.PRESETS.items() if p.config().objective == "gan")


def get(name: str) -> presets.Preset:
    """A preset, or a variant recorded for a lesson; ``ValueError`` lists both kinds."""
    if name in VARIANTS:
        return VARIANTS[name]
    if name in RECORDED_PRESETS:
        return presets.get(name)
    raise ValueError(f"unknown recording {name!r}; choose a preset ({', '.join(RECORDED_PRESETS)}) "
                     f"or a lesson's variant ({', '.join(VARIANTS)})")  # fmt: skip


def read_index(root: Path = CHECKPOINTS) -> dict:
    path = root / INDEX
    return json.loads(path.read_text()) if path.is_file() else {}


def entries(root: Path = CHECKPOINTS) -> dict[str, dict]:
    """The recordings' index entries by preset name ({} when none were made)."""
    found = read_index(root).get("recordings")
    return found if isinstance(found, dict) else {}


def record(preset: presets.Preset, root: Path = CHECKPOINTS) -> dict:
    """Train ``preset`` on the CPU and write its recording; returns its index entry."""
    from gan_demo.train import make_trainer, use_threads

    cfg = TrainConfig.from_dict({**preset.config().to_dict(), "device": "cpu"})
    trainer = make_trainer(cfg)
    previous = torch.get_num_threads()
    use_threads(1)  # one thread: what a class's shared server gives a run
    started = time.perf_counter()
    try:
        rec = loop.train(trainer, loop.Record.empty(trainer))
    finally:
        use_threads(previous)
    seconds = time.perf_counter() - started
    bad = rec.failure
    status = "failed" if bad else "done"
    error = None if bad is None else f"{bad.name} became {bad.value} at step {bad.step}, in {bad.update}"
    files = folder.encode(cfg, trainer.metric_names, rec.metrics, rec.snapshots, trainer.step_count, trainer,
                          status=status, error=error, compact=True, max_snapshots=KEEP_SNAPSHOTS, name=preset.name,
                          preset=preset.name, steps_per_s=trainer.step_count / seconds,
                          made_by={"tool": "record-presets", "command": COMMAND}, snapshot_every=rec.snapshot_every)  # fmt: skip
    blob = archive.to_zip(files, preset.name)
    path = root / SUBFOLDER / f"{preset.name}.zip"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(blob)
    return {"file": f"{SUBFOLDER}/{path.name}", "preset": preset.name, "page": preset.page, "steps": trainer.step_count,
            "status": status, "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest(), "command": COMMAND,
            "snapshots": min(len(rec.snapshots), KEEP_SNAPSHOTS), "torch": torch.__version__,
            "seconds": round(seconds, 1)}  # fmt: skip


def record_all(root: str | Path | None = None, only: list[str] | None = None, log=print) -> dict[str, dict]:
    """Record every preset and lesson variant (or those named in ``only``), updating the index after each one; prints a
    line per recording and the total size. Raises ``ValueError`` for an unknown preset name."""
    root = Path(root) if root else CHECKPOINTS
    names = [*RECORDED_PRESETS, *VARIANTS] if not only else only
    for name in names:
        get(name)  # an unknown name fails before anything trains
    known = {*RECORDED_PRESETS, *VARIANTS}
    index = read_index(root)
    for gone in sorted(set(index.get("recordings", {})) - known):  # a preset or variant that was removed
        (root / index["recordings"].pop(gone)["file"]).unlink(missing_ok=True)
        log(f"{gone}: no such preset or variant any more; its recording was removed")
    (root / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    for name in names:
        entry = record(get(name), root)
        index = read_index(root)
        index.setdefault("recordings", {})[name] = entry
        (root / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
        log(f"{name}: {entry['steps']:,} steps, {entry['size'] / 1e3:,.0f} kB, {entry['seconds']:.0f} s")
    total = sum(e["size"] for e in entries(root).values())
    log(f"{len(entries(root))} recordings, {total / 1e6:.2f} MB in all, in {root / SUBFOLDER}")
    return entries(root)


def load(name: str, root: Path = CHECKPOINTS) -> RunData:
    """The recording of preset ``name``: its sha256 checked against the index, then every file checked
    as an upload is. Raises :class:`RunFormatError` naming what is wrong (no recording, a changed file)."""
    entry = entries(root).get(name)
    if entry is None:
        raise RunFormatError(Msg("runs.err.no_recording", name=name, index=str(root / INDEX), command=COMMAND))
    path = root / str(entry.get("file", ""))
    if not path.is_file() or path.resolve().parent != (root / SUBFOLDER).resolve():
        raise RunFormatError(Msg("runs.err.recording_missing", path=str(path)))
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != entry.get("sha256"):
        raise RunFormatError(Msg("runs.err.recording_sha256", path=str(path), command=COMMAND))
    return archive.from_zip(blob, f"recording {name}")
