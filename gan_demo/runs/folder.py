"""The run folder: one format for the CLI's ``train --out DIR``, the app's downloads and the recordings.

A run folder holds exactly these files (version 1):

================== ==============================================================================
manifest.json      format ("gan_demo.run"), format_version, project and torch versions, step,
                   total_steps, status, data_shape, metric_names, how it was made (tool, command,
                   time), contents (networks saved, resumable, compact), and each other file's size
                   and sha256
config.json        the :class:`~gan_demo.config.TrainConfig` as JSON
metrics.csv        the logged rows (the first, every ``log_every``-th and the last step), one column
                   per metric name, numbers written with Python's ``repr`` so they read back exactly
snapshots.npz      G's fixed-noise samples and the pages' extras per snapshot (:mod:`.snapshots`)
snapshots.json     the snapshots' steps and non-array extras
weights.safetensors  ``G.*``, ``D.*`` (not in a compact recording) and ``fixed_noise``
state.safetensors  only in a resumable run: :meth:`Trainer.resume_state` (the random generator, the
                   draws left in each block, both optimizers and the schedulers), the JSON part in
                   the file's metadata
================== ==============================================================================

Loading reads JSON, CSV, ``numpy.load(allow_pickle=False)`` and safetensors only (never a pickle,
never ``torch.load``), and checks everything before it returns: the format and its version, every
file's size and sha256 against the manifest, the config's fields and ranges, the CSV's header and
numbers, the snapshots' shapes, and the weights' names and shapes against the networks the config
builds. Anything wrong raises :class:`RunFormatError` with a message that names the file and what
is wrong. :meth:`RunData.generator` builds G from the config and the weights alone: sampling a saved
run never loads its data set.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from torch import Tensor, nn

import gan_demo
from gan_demo import conditional, data, models, toys
from gan_demo.config import ConfigError, TrainConfig
from gan_demo.content import Msg
from gan_demo.runs import snapshots as snapfiles
from gan_demo.runs.live import RunView, Snapshot

FORMAT = "gan_demo.run"
FORMAT_VERSION = 1
SUPPORTED_VERSIONS = (1,)
MANIFEST, CONFIG, METRICS = "manifest.json", "config.json", "metrics.csv"
SNAP_NPZ, SNAP_JSON, WEIGHTS, STATE = "snapshots.npz", "snapshots.json", "weights.safetensors", "state.safetensors"
REQUIRED = (CONFIG, METRICS, SNAP_NPZ, SNAP_JSON, WEIGHTS)  # besides the manifest
FILES = (MANIFEST, *REQUIRED, STATE)  # every name a run folder may hold
STATUSES = ("done", "stopped", "paused", "running", "failed")


class RunFormatError(ValueError):
    """A run folder or archive that cannot be used: the message names the file and what is wrong."""


def sample_shape(config: TrainConfig) -> tuple[int, ...]:
    """One sample's shape for ``config``'s data, without loading the data: (dim,) for a toy, (2,)
    for CycleGAN's 2-D domain pairs, (C, H, W) for images."""
    if config.objective == "cyclegan":
        from gan_demo import domains

        pair = domains.get(config.data)
        return tuple(pair.shape) if isinstance(pair, domains.ImagePair) else (2,)
    return (toys.get(config.data).dim,) if config.is_toy else tuple(data.image_shape(config.data))


def build_networks(config: TrainConfig) -> dict[str, nn.Module]:
    """The networks the config's trainer builds, by name, untrained, on the CPU, without data: G and
    D (gan, cgan), or G, F, D_X and D_Y (cyclegan)."""
    if config.objective == "cyclegan":
        from gan_demo.train import cycle

        return cycle.build_networks(config)
    if config.objective == "cgan":
        n_classes = len(data.CLASS_NAMES.get(config.data, range(10)))
        G, D = conditional.build(config.model, sample_shape(config), config.z_dim, config.hidden, n_classes,
                                 config.condition, config.label_dim)  # fmt: skip
        return {"G": G, "D": D}
    toy = toys.get(config.data) if config.is_toy else None
    G, D = models.build(config.model, sample_shape(config), config.z_dim, config.hidden, config.pack,
                        toy=toy is not None, scale=toy.scale if toy is not None else 1.0)  # fmt: skip
    return {"G": G, "D": D}


def _input_shape(config: TrainConfig) -> tuple[int, ...]:
    """The shape of one of a run's fixed inputs: z (gan, cgan: (z_dim,)) or a sample of X (cyclegan:
    (2,) for a 2-D pair, (C, H, W) for an image pair)."""
    return sample_shape(config) if config.objective == "cyclegan" else (config.z_dim,)


# ---------------------------------------------------------------------------------------- loaded runs
@dataclass(frozen=True)
class RunData:
    """A run read back from a folder or an archive (everything checked)."""

    manifest: dict[str, Any]
    config: TrainConfig
    metric_names: tuple[str, ...]
    metrics: dict[str, list[float]]  # one column per metric name, "step" first
    snapshots: tuple[Snapshot, ...]
    weights: dict[str, Tensor] = field(repr=False)  # G.*, D.* (unless compact), fixed_noise
    state: tuple[dict[str, Tensor], dict] | None = field(default=None, repr=False)  # resumable runs
    source: str = ""  # where it was read from (a folder or an archive's name)
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # the files as read (a download re-zips them)

    @property
    def step(self) -> int:
        return int(self.manifest["step"])

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or Path(self.source).name or "run")

    @property
    def fixed_noise(self) -> Tensor:
        return self.weights["fixed_noise"]

    def view(self, run_id: str | None = None, upto: int | None = None) -> RunView:
        """The run as the pages' panels read a live one; ``upto``: only the rows and snapshots up to
        that step (a replay scrubbing through the run; its status is then "replay")."""
        metrics, shots, step = self.metrics, self.snapshots, self.step
        if upto is not None and upto < step:
            keep = sum(1 for s in metrics["step"] if s <= upto)
            metrics = {k: v[:keep] for k, v in metrics.items()}
            shots = tuple(s for s in shots if s.step <= upto) or shots[:1]
            step = upto
        status = self.manifest["status"] if step == self.step else "replay"  # scrubbed back: nothing trains
        return RunView(run_id=run_id or f"saved-{self.name}", config=self.config, status=status,
                       error=self.manifest.get("error"), step=step, total_steps=int(self.manifest["total_steps"]),
                       steps_per_s=float(self.manifest.get("steps_per_s", 0.0)), eta_s=None,
                       metrics={k: list(v) for k, v in metrics.items()}, snapshots=shots,
                       metric_names=self.metric_names, device="saved")  # fmt: skip

    def generator(self, device: str = "cpu") -> nn.Module:
        """G with the saved weights, in eval mode, built from the config alone (no data set)."""
        G = build_networks(self.config)["G"]
        G.load_state_dict({k[2:]: v for k, v in self.weights.items() if k.startswith("G.")})
        return G.to(device).eval()

    @torch.no_grad()
    def sample(self, n: int | None = None, seed: int = 0, device: str = "cpu") -> np.ndarray:
        """G's samples (float32, on the CPU): of the saved fixed noise when ``n`` is None, else of
        ``n`` fresh z ~ N(0, I) drawn with ``seed`` (CycleGAN: ``n`` fresh points of X; on an image pair
        ``n`` of the saved fixed inputs, every image of X, drawn with replacement: no data set needed).
        Images (n, C, H, W) in [-1, 1], toys (n, d)."""
        G, cfg = self.generator(device), self.config
        gen = torch.Generator().manual_seed(seed)
        if n is None:
            z = self.fixed_noise
        elif cfg.objective == "cyclegan" and len(self.fixed_noise.shape) > 2:  # images of X: the saved fixed
            z = self.fixed_noise[torch.randint(len(self.fixed_noise), (n,), generator=gen)]  # inputs, drawn again
        elif cfg.objective == "cyclegan":  # G translates points of X: fresh ones from the domain pair
            from gan_demo import domains

            z = domains.get(cfg.data).sample_x(n, gen)
        else:
            z = torch.randn(n, cfg.z_dim, generator=gen)
        if cfg.objective == "cgan":  # each class in turn: labels 0, 1, ..., K-1, 0, 1, ...
            k = len(data.CLASS_NAMES.get(cfg.data, range(10)))
            y = torch.arange(len(z)) % k
            return torch.cat([G(b.to(device), c.to(device)) for b, c in zip(z.split(4096), y.split(4096), strict=True)]
                             ).cpu().numpy().astype(np.float32)  # fmt: skip
        return torch.cat([G(b.to(device)) for b in z.split(4096)]).cpu().numpy().astype(np.float32)


# ---------------------------------------------------------------------------------------- save
def _number(v: float) -> str:
    """A metric as text: a whole number without ".0" (steps, an accuracy of 1), else the shortest text
    that reads back to its float32 value ("0.6931472", "inf", "nan"). Metrics are float32: the
    trainer computes them in float32 and reads them in one float32 transfer, so nothing is lost."""
    v = float(v)
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    with np.errstate(over="ignore"):
        return str(np.float32(v))


def _parse(text: str) -> float:
    """The inverse of :func:`_number` (``ValueError`` for text that is not a number)."""
    if text.lstrip("-").isdigit():
        return float(int(text))
    with np.errstate(over="ignore"):
        return float(np.float32(text))


def _metrics_csv(names: Sequence[str], metrics: Mapping[str, Sequence[float]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*(metrics[n] for n in names), strict=True):
        writer.writerow([_number(v) for v in row])
    return out.getvalue()


def encode(config: TrainConfig, metric_names: Sequence[str], metrics: Mapping[str, Sequence[float]],
           snapshots: Sequence[Snapshot], step: int, trainer: Any, *, status: str = "done",
           made_by: Mapping[str, Any] | None = None, resumable: bool = True, compact: bool = False,
           max_snapshots: int | None = None, name: str = "", preset: str | None = None,
           steps_per_s: float = 0.0, error: str | None = None,
           snapshot_every: int | None = None) -> dict[str, bytes]:  # fmt: skip
    """The run folder's files as bytes, by name (:func:`save` writes them; the archive zips them).

    ``trainer``: the :class:`Trainer` at ``step`` (its weights, and with ``resumable`` its resume
    state). ``compact``: G's weights only (no D, no optimizer state) and float16 snapshot arrays, for
    the recordings; ``max_snapshots`` thins the snapshots evenly (first and last kept)."""
    if status not in STATUSES:
        raise ValueError(f"status {status!r}; allowed: {', '.join(STATUSES)}")
    shots = snapfiles.thin(snapshots, max_snapshots) if max_snapshots else list(snapshots)
    npz, snap_json = snapfiles.dump(shots, compact=compact)
    weights = trainer.state_tensors()
    if compact:  # G only; its float weights and the fixed noise halved (float16: about 3 significant digits)
        weights = {k: v.half() if v.is_floating_point() else v for k, v in weights.items() if not k.startswith("D.")}
    files = {
        CONFIG: (json.dumps(config.to_dict(), indent=2) + "\n").encode(),
        METRICS: _metrics_csv(metric_names, metrics).encode(),
        SNAP_NPZ: npz,
        SNAP_JSON: snap_json.encode(),
        WEIGHTS: st_save(weights, metadata={"format": FORMAT}),
    }
    resumable = resumable and not compact
    if resumable:
        tensors, values = trainer.resume_state()
        files[STATE] = st_save(tensors, metadata={"format": FORMAT, "values": json.dumps(values)})
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": name,
        "project_version": gan_demo.__version__,
        "torch_version": torch.__version__,
        "step": int(step),
        "total_steps": int(config.steps),
        "status": status,
        "error": error,
        "steps_per_s": round(float(steps_per_s), 3),
        "data_shape": list(sample_shape(config)),
        "metric_names": list(metric_names),
        "preset": preset,
        "snapshot_every": int(snapshot_every or config.snapshot_every),  # the interval reached (it doubles)
        "made_by": {"created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    **(made_by or {})},
        "contents": {"networks": ["G"] if compact else list(build_networks(config)), "resumable": resumable, "compact": compact,
                     "weights_dtype": "float16" if compact else "float32", "snapshots": len(shots)},
        "files": {n: {"size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in files.items()},
    }  # fmt: skip
    files[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files


def save(folder: str | Path, *args: Any, **kwargs: Any) -> Path:
    """Write a run folder (the arguments of :func:`encode`); files of an older save that this one
    does not write (a state file) are removed. Returns the folder. Raises ``OSError``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = encode(*args, **kwargs)
    for name in FILES:
        if name not in files and (folder / name).exists():
            (folder / name).unlink()
    for name, blob in files.items():
        (folder / name).write_bytes(blob)
    return folder


def save_trainer(folder: str | Path, trainer: Any, metrics: Mapping[str, Sequence[float]],
                 snapshots: Sequence[Snapshot], **kwargs: Any) -> Path:  # fmt: skip
    """:func:`save` for a :class:`Trainer` at its current step."""
    return save(folder, trainer.config, trainer.metric_names, metrics, snapshots, trainer.step_count, trainer, **kwargs)


# ---------------------------------------------------------------------------------------- load
def load(folder: str | Path) -> RunData:
    """Read and check the run folder at ``folder`` (see the module's docstring)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFormatError(f"{folder}: no such run folder")
    if not (folder / MANIFEST).is_file():
        raise RunFormatError(f"{folder}: no {MANIFEST}; a run folder holds {', '.join(FILES)}")
    files = {n: (folder / n).read_bytes() for n in FILES if (folder / n).is_file()}
    return from_files(files, str(folder))


def _json(files: Mapping[str, bytes], name: str, where: str) -> Any:
    try:
        return json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RunFormatError(Msg("runs.err.json", where=where, name=name, error=e)) from e


def check_manifest(manifest: Any, where: str) -> dict[str, Any]:
    """The manifest's format, version and fields, checked."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RunFormatError(Msg("runs.err.format", where=where, manifest=MANIFEST, format=FORMAT))
    version = manifest.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        raise RunFormatError(Msg("runs.err.version", where=where, version=version, app_version=gan_demo.__version__,
                                 supported=", ".join(map(str, SUPPORTED_VERSIONS))))  # fmt: skip
    for key, kind in (("step", int), ("total_steps", int), ("metric_names", list), ("files", dict),
                      ("status", str), ("contents", dict)):  # fmt: skip
        if not isinstance(manifest.get(key), kind) or isinstance(manifest.get(key), bool):
            raise RunFormatError(Msg("runs.err.manifest_field", where=where, manifest=MANIFEST, key=key,
                                     kind=kind.__name__))  # fmt: skip
    if manifest["step"] < 0 or manifest["status"] not in STATUSES:
        raise RunFormatError(Msg("runs.err.step_status", where=where, manifest=MANIFEST, step=manifest["step"],
                                 status=manifest["status"], allowed=", ".join(STATUSES)))  # fmt: skip
    return manifest


def _check_files(files: Mapping[str, bytes], manifest: dict[str, Any], where: str) -> None:
    listed = manifest["files"]
    unknown = sorted(set(listed) - set(FILES) - {MANIFEST})
    if unknown:
        raise RunFormatError(Msg("runs.err.unknown_files", where=where, manifest=MANIFEST, unknown=unknown,
                                 allowed=", ".join(FILES[1:])))  # fmt: skip
    for name in REQUIRED:
        if name not in listed:
            raise RunFormatError(Msg("runs.err.not_listed_required", where=where, manifest=MANIFEST, name=name))
    for name, entry in listed.items():
        if name not in files:
            raise RunFormatError(Msg("runs.err.missing_file", where=where, name=name))
        blob = files[name]
        if not isinstance(entry, dict) or entry.get("size") != len(blob):
            raise RunFormatError(Msg("runs.err.size", where=where, name=name, size=len(blob),
                                     listed=repr(entry.get("size") if isinstance(entry, dict) else entry)))  # fmt: skip
        if entry.get("sha256") != hashlib.sha256(blob).hexdigest():
            raise RunFormatError(Msg("runs.err.sha256", where=where, name=name))
    extra = sorted(set(files) - set(listed) - {MANIFEST})
    if extra:
        raise RunFormatError(Msg("runs.err.unlisted", where=where, extra=extra, manifest=MANIFEST))


def _read_metrics(text: str, names: list[str], step: int, where: str) -> dict[str, list[float]]:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or rows[0] != names or names[:1] != ["step"]:
        raise RunFormatError(Msg("runs.err.csv_header", where=where, metrics=METRICS, header=rows[0] if rows else [],
                                 names=names))  # fmt: skip
    columns: dict[str, list[float]] = {n: [] for n in names}
    last = 0.0
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(names):
            raise RunFormatError(Msg("runs.err.csv_width", where=where, metrics=METRICS, line=i, n=len(row),
                                     header=len(names)))  # fmt: skip
        try:
            values = [_parse(v) for v in row]
        except ValueError as e:
            raise RunFormatError(Msg("runs.err.csv_value", where=where, metrics=METRICS, line=i, error=e)) from e
        s = values[0]
        if not (math.isfinite(s) and s == int(s) and last < s <= step):
            raise RunFormatError(Msg("runs.err.csv_step", where=where, metrics=METRICS, line=i, value=row[0],
                                     step=step))  # fmt: skip
        last = s
        for n, v in zip(names, values, strict=True):
            columns[n].append(v)
    return columns


def _read_tensors(blob: bytes, name: str, where: str) -> tuple[dict[str, Tensor], dict[str, str]]:
    try:
        tensors = st_load(blob)
        header_len = int.from_bytes(blob[:8], "little")
        metadata = json.loads(blob[8 : 8 + header_len]).get("__metadata__") or {}
    except (SafetensorError, ValueError, OSError) as e:
        raise RunFormatError(Msg("runs.err.safetensors", where=where, name=name, error=e)) from e
    if metadata.get("format") != FORMAT:
        raise RunFormatError(Msg("runs.err.metadata_format", where=where, name=name, format=FORMAT))
    return tensors, metadata


def _check_weights(weights: dict[str, Tensor], config: TrainConfig, networks: list[str], where: str,
                   compact: bool = False) -> None:  # fmt: skip
    nets = build_networks(config)
    if unknown := sorted(set(networks) - set(nets)):
        raise RunFormatError(Msg("runs.err.networks", where=where, unknown=unknown, objective=config.objective,
                                 nets=", ".join(nets)))  # fmt: skip
    expected = {f"{name}.{k}": v for name in networks for k, v in nets[name].state_dict().items()}
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected) - {"fixed_noise"})
    if missing or unexpected:
        raise RunFormatError(Msg("runs.err.weights_names", where=where, weights=WEIGHTS, missing=missing[:5],
                                 unexpected=unexpected[:5]))  # fmt: skip
    for k, ref in expected.items():
        if compact and ref.dtype == torch.float32 and weights[k].dtype == torch.float16:
            weights[k] = weights[k].float()  # a compact recording's G: float16 on disk
        if weights[k].shape != ref.shape or weights[k].dtype != ref.dtype:
            raise RunFormatError(Msg("runs.err.weights_shape", where=where, weights=WEIGHTS, name=k,
                                     dtype=str(weights[k].dtype), shape=tuple(weights[k].shape),
                                     need_dtype=str(ref.dtype), need_shape=tuple(ref.shape)))  # fmt: skip
    noise = weights.get("fixed_noise")
    if compact and noise is not None and noise.dtype == torch.float16:
        noise = weights["fixed_noise"] = noise.float()
    one = _input_shape(config)
    if noise is None or tuple(noise.shape[1:]) != one or noise.dtype != torch.float32:
        shape = None if noise is None else tuple(noise.shape)
        raise RunFormatError(Msg("runs.err.fixed_noise", where=where, weights=WEIGHTS, width=", ".join(map(str, one)),
                                 shape=shape))  # fmt: skip


def from_files(files: Mapping[str, bytes], where: str) -> RunData:
    """A :class:`RunData` from a run's files by name (a folder's or an archive's), all checked."""
    if MANIFEST not in files:
        raise RunFormatError(Msg("runs.err.no_manifest", where=where, manifest=MANIFEST, files=", ".join(FILES)))
    manifest = check_manifest(_json(files, MANIFEST, where), where)
    _check_files(files, manifest, where)
    values = _json(files, CONFIG, where)
    if not isinstance(values, dict):
        raise RunFormatError(Msg("runs.err.config_object", where=where, config=CONFIG))
    try:
        config = TrainConfig.from_dict(values)
    except (ConfigError, TypeError, ValueError) as e:
        raise RunFormatError(Msg("runs.err.config_invalid", where=where, config=CONFIG, error=e)) from e
    if manifest["total_steps"] != config.steps or manifest["step"] > config.steps:
        raise RunFormatError(Msg("runs.err.steps_fit", where=where, step=manifest["step"],
                                 total=manifest["total_steps"], steps=config.steps))  # fmt: skip
    names = [str(n) for n in manifest["metric_names"]]
    try:
        metrics = _read_metrics(files[METRICS].decode("utf-8"), names, manifest["step"], where)
        shots = snapfiles.read(files[SNAP_NPZ], files[SNAP_JSON].decode("utf-8"), sample_shape(config))
    except UnicodeDecodeError as e:
        raise RunFormatError(Msg("runs.err.utf8", where=where, error=e)) from e
    except snapfiles.SnapshotError as e:
        raise RunFormatError(Msg("runs.err.where", where=where, error=e)) from e
    weights, _ = _read_tensors(files[WEIGHTS], WEIGHTS, where)
    networks = manifest["contents"].get("networks", ["G", "D"])
    _check_weights(weights, config, networks, where, bool(manifest["contents"].get("compact")))
    state = None
    if STATE in files:
        tensors, meta = _read_tensors(files[STATE], STATE, where)
        try:
            state = (tensors, json.loads(meta["values"]))
        except (KeyError, ValueError) as e:
            raise RunFormatError(Msg("runs.err.state_values", where=where, state=STATE, error=e)) from e
    return RunData(manifest, config, tuple(names), metrics, shots, weights, state, where, dict(files))


# ---------------------------------------------------------------------------------------- resume
def resume(run: RunData | str | Path, steps: int | None = None, device: str | None = None,
           images: Tensor | None = None):  # fmt: skip
    """A :class:`Trainer` that continues ``run`` where it stopped, to ``steps`` in all (default: the
    config's), on ``device`` (default: the config's). With the same ``steps`` a CPU run continued from step k is bit-identical to one trained
    to the end at once (tests/test_runs.py). More steps than the config's change what depends on the
    run's length (lr_decay, instance noise): they then follow the new length. Loads the data set."""
    from gan_demo.train import make_trainer  # the engine; loading and sampling do not need it

    if not isinstance(run, RunData):
        run = load(run)
    if run.state is None:
        raise RunFormatError(f"{run.source}: has no {STATE} (a compact recording): it cannot be resumed")
    steps = run.config.steps if steps is None else steps
    if steps < run.step:
        raise RunFormatError(f"{run.source}: is at step {run.step}; --steps {steps} must be at least that")
    try:
        config = TrainConfig.from_dict({**run.config.to_dict(), "steps": steps, "device": device or run.config.device})
    except ConfigError as e:
        raise RunFormatError(f"{run.source}: steps {steps}: {e}") from e
    trainer = make_trainer(config, images=images)
    try:
        trainer.load_state_tensors(run.weights)
        trainer.load_resume_state(*run.state)
    except (KeyError, ValueError, RuntimeError, TypeError) as e:
        raise RunFormatError(f"{run.source}: {STATE} does not fit the run's networks ({type(e).__name__}: {e})") from e
    if trainer.step_count != run.step:
        raise RunFormatError(f"{run.source}: {STATE} is at step {trainer.step_count}, the manifest at {run.step}")
    return trainer
