"""A run's snapshots on disk: the arrays in ``snapshots.npz``, everything else in ``snapshots.json``.

A snapshot (:class:`gan_demo.runs.live.Snapshot`) is a step, G's fixed-noise samples (images
``(n, C, H, W)`` in [-1, 1], or points ``(n, d)``) and a page's extras: nested dicts of numbers,
strings, lists and arrays (a toy page's heatmap, the Quality panel's report). Arrays go into the
``.npz`` under ``"<i>.samples"`` and ``"<i>.<path>"``; the JSON keeps the step and the extras with
each array replaced by ``{"npz": key}``. Reading uses ``numpy.load(allow_pickle=False)`` and
``json``: no object arrays, nothing that runs code.

``compact=True`` (the recordings in ``checkpoints/``) stores floating-point arrays as float16
(about 3 significant digits: samples in [-1, 1] are off by at most 2^-11 ≈ 0.0005); they come back
as float32.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from gan_demo.content import Msg
from gan_demo.runs.live import Snapshot


class SnapshotError(ValueError):
    """Snapshots that cannot be read; the message says what is wrong."""


def _encode(value: Any, key: str, arrays: dict[str, np.ndarray], compact: bool) -> Any:
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise SnapshotError(f"snapshot extra {key!r} is an object array; only numeric and string arrays are stored")
        if compact and value.dtype.kind == "f":
            value = value.astype(np.float16)
        arrays[key] = value
        return {"npz": key}
    if isinstance(value, dict):
        return {str(k): _encode(v, f"{key}.{k}", arrays, compact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, f"{key}.{i}", arrays, compact) for i, v in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise SnapshotError(f"snapshot extra {key!r} has type {type(value).__name__}; "
                        "allowed: numbers, strings, lists, dicts and numpy arrays")  # fmt: skip


def _decode(value: Any, arrays: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"npz"}:
            key = value["npz"]
            if not isinstance(key, str) or key not in arrays:
                raise SnapshotError(Msg("runs.err.snap_array", key=key))
            return _restore(arrays[key])
        return {k: _decode(v, arrays) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v, arrays) for v in value]
    return value


def _restore(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float32) if a.dtype == np.float16 else a


def dump(snapshots: Sequence[Snapshot], compact: bool = False) -> tuple[bytes, str]:
    """(the ``.npz`` bytes, the JSON text) of ``snapshots``."""
    arrays: dict[str, np.ndarray] = {}
    index = []
    for i, snap in enumerate(snapshots):
        samples = np.asarray(snap.samples)
        arrays[f"{i}.samples"] = samples.astype(np.float16) if compact and samples.dtype.kind == "f" else samples
        index.append({"step": int(snap.step), "extras": _encode(dict(snap.extras), f"{i}.extras", arrays, compact)})
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue(), json.dumps({"snapshots": index}, allow_nan=True)


def read(npz_bytes: bytes, text: str, sample_shape: tuple[int, ...]) -> tuple[Snapshot, ...]:
    """The snapshots back; each one's samples must have shape ``(n, *sample_shape)``. Raises
    :class:`SnapshotError` naming what is wrong."""
    try:
        index = json.loads(text)
    except ValueError as e:
        raise SnapshotError(Msg("runs.err.snap_json", error=e)) from e
    if not isinstance(index, dict) or not isinstance(index.get("snapshots"), list):
        raise SnapshotError(Msg("runs.err.snap_index"))
    try:
        with np.load(io.BytesIO(npz_bytes), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:  # object arrays raise ValueError
        raise SnapshotError(Msg("runs.err.pickle", error=e)) from e
    out, last = [], -1
    for i, entry in enumerate(index["snapshots"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("step"), int) or entry["step"] <= last:
            raise SnapshotError(Msg("runs.err.snap_step", i=i))
        samples = arrays.get(f"{i}.samples")
        if samples is None or samples.ndim != 1 + len(sample_shape) or tuple(samples.shape[1:]) != tuple(sample_shape):
            shape = None if samples is None else samples.shape
            raise SnapshotError(Msg("runs.err.snap_shape", i=i, need=", ".join(map(str, sample_shape)), shape=shape))
        if samples.dtype.kind != "f":
            raise SnapshotError(Msg("runs.err.snap_dtype", i=i, dtype=str(samples.dtype)))
        extras = _decode(entry.get("extras", {}), arrays)
        if not isinstance(extras, dict):
            raise SnapshotError(Msg("runs.err.snap_extras", i=i))
        out.append(Snapshot(entry["step"], _restore(samples), extras))
        last = entry["step"]
    return tuple(out)


def thin(snapshots: Sequence[Snapshot], keep: int) -> list[Snapshot]:
    """At most ``keep`` (>= 2) snapshots, evenly spaced by index, the first and the last always kept."""
    n = len(snapshots)
    if n <= keep:
        return list(snapshots)
    picks = sorted({round(i * (n - 1) / (keep - 1)) for i in range(keep)})
    return [snapshots[i] for i in picks]
