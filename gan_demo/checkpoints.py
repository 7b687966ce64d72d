"""Checkpoints as safetensors files: G's and D's weights, the fixed noise, the config and the step.

``save(trainer, path)`` writes the tensors of :meth:`Trainer.state_tensors` (``G.*``, ``D.*``,
``fixed_noise``) with the run's :class:`TrainConfig` as JSON and the step count in the file's
metadata. ``load(path)`` rebuilds a :class:`Trainer` from them. safetensors holds only tensors and
strings, so loading never runs code from the file (unlike a pickle or ``torch.load`` without
``weights_only``). Anything wrong with a file raises :class:`CheckpointError` naming the file,
including a config in the metadata that :class:`TrainConfig` refuses (a wrong type or range: the
message names the field and what it allows).
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError
from safetensors.torch import load_file, safe_open, save_file

from gan_demo.config import ConfigError, TrainConfig
from gan_demo.train import Trainer, make_trainer

FORMAT = "gan_demo.checkpoint/1"  # written into the metadata; a file without it is not ours


class CheckpointError(ValueError):
    """A checkpoint that cannot be read: the message names the file and what is wrong with it."""


def save(trainer: Trainer, path: str | Path) -> Path:
    """Write ``trainer``'s weights, fixed noise, config and step to ``path`` (a safetensors file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {
        "format": FORMAT,
        "config": json.dumps(trainer.config.to_dict()),
        "step": str(trainer.step_count),
    }
    save_file(trainer.state_tensors(), str(path), metadata=metadata)
    return path


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of a checkpoint, checked: ``format``, ``config`` (JSON) and ``step``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: not a readable safetensors file ({e})") from e
    if metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{path}: metadata has no 'format: {FORMAT}' entry; not a gan_demo checkpoint"
        )
    for key in ("config", "step"):
        if key not in metadata:
            raise CheckpointError(f"{path}: metadata lacks {key!r}")
    return metadata


def load(path: str | Path, device: str = "auto") -> Trainer:
    """A :class:`Trainer` rebuilt from the checkpoint at ``path``, on ``device``."""
    path = Path(path)
    metadata = read_metadata(path)
    try:
        values = json.loads(metadata["config"])
        if not isinstance(values, dict):
            raise TypeError(f"expected a JSON object, got {type(values).__name__}")
        config = TrainConfig.from_dict({**values, "device": device})
    except (ValueError, TypeError) as e:  # JSONDecodeError and ConfigError are ValueErrors
        kind = "invalid" if isinstance(e, ConfigError) else "unreadable"
        raise CheckpointError(f"{path}: {kind} config in the metadata ({e})") from e
    step_text = metadata["step"]
    if not (step_text.isascii() and step_text.isdigit()):  # int() would take " 3", "+3", "3_0", "-1"
        raise CheckpointError(f"{path}: step {step_text!r} in the metadata is not a whole number of steps (0, 1, 2, ...)")
    step = int(step_text)
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{path}: tensors cannot be read ({e})") from e
    noise = tensors.get("fixed_noise")
    if noise is None or noise.dim() != 2 or noise.shape[1] != config.z_dim:
        shape = None if noise is None else tuple(noise.shape)
        raise CheckpointError(f"{path}: fixed_noise should have shape (n, {config.z_dim}), got {shape}")
    trainer = make_trainer(config)
    try:
        trainer.load_state_tensors(tensors)
    except (RuntimeError, KeyError) as e:  # missing / unexpected keys, wrong shapes
        raise CheckpointError(f"{path}: weights do not fit the config's networks ({e})") from e
    trainer.step_count = step
    return trainer
