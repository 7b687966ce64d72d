"""One typed, validated configuration for a training run.

A bad value is refused when the config is built, with the field's name and its valid range, so the
app can show the message next to the field before anything runs. Unknown keys are refused too
(nanoGPT's configurator does the same): a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from gan_demo import losses, toys
from gan_demo.data import IMAGE_DATASETS

DATASETS: tuple[str, ...] = IMAGE_DATASETS + toys.NAMES
MODELS = ("mlp", "dcgan")
OPTIMIZERS = ("adam", "rmsprop")
DEVICES = ("auto", "cpu", "cuda")


class ConfigError(ValueError):
    """A config with bad values. ``errors`` maps each bad field to a message naming its range."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in errors.items()))


@dataclass(frozen=True)
class TrainConfig:
    data: str = "digits"  # an image data set or a toy distribution (see DATASETS)
    loss: str = "non-saturating"  # one of losses.NAMES
    model: str = "mlp"  # images: "mlp" (seed 001's MLP) or "dcgan"; toys always use a small MLP
    steps: int = 2000  # G updates in the run
    batch_size: int = 64  # real samples per D step (and fakes per step)
    z_dim: int = 100  # size of the latent noise z ~ N(0, I)
    hidden: int = 256  # width of the MLPs' hidden layers (DCGAN: channels of the widest conv)
    optimizer: str = "adam"  # "adam" or "rmsprop", for both networks
    lr_d: float = 2e-4  # D's learning rate
    lr_g: float = 2e-4  # G's learning rate
    beta1: float = 0.5  # Adam's β1 (momentum); 0.9 makes GANs oscillate
    beta2: float = 0.999  # Adam's β2
    d_steps: int = 1  # D updates per G update (WGAN's n_critic)
    clip: float = 0.0  # WGAN weight clipping bound c; 0 = no clipping
    gp_weight: float = 0.0  # WGAN-GP's λ; 0 = no gradient penalty
    pack: int = 1  # PacGAN: D judges `pack` samples at once (1 = no packing)
    lr_decay: bool = False  # decay both learning rates linearly to 0 over the run
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, in data stds, falling to 0 over the run
    seed: int = 0  # seeds the weights, the noise and the batches: a CPU run repeats exactly
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    data_root: str | None = None  # a folder of IDX files for mnist / fashion-mnist
    log_every: int = 10  # steps between logged metric rows
    snapshot_every: int = 100  # steps between saved fixed-noise samples

    def __post_init__(self) -> None:
        errors = check(dataclasses.asdict(self))
        if errors:
            raise ConfigError(errors)

    # ------------------------------------------------------------- constructors
    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a plain dict (JSON, query parameters, widgets); unknown keys are refused."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError({k: f"unknown setting; valid ones: {', '.join(sorted(names))}" for k in unknown})
        return cls(**values)

    @classmethod
    def for_loss(cls, loss: str, data: str = "digits", **overrides: Any) -> TrainConfig:
        """The classic defaults of ``loss`` on ``data`` (the shapes suit the data), then ``overrides``."""
        values = {**defaults_for(loss, data), **overrides}
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def is_toy(self) -> bool:
        return self.data in toys.NAMES


def defaults_for(loss: str, data: str = "digits") -> dict[str, Any]:
    """Every field's default for this loss and data set: the loss's classic optimizer settings,
    the data's network sizes. The app calls this when the user changes the loss."""
    d = losses.get(loss).defaults
    values: dict[str, Any] = {
        "data": data,
        "loss": loss,
        "optimizer": d.optimizer,
        "lr_d": d.lr_d,
        "lr_g": d.lr_g,
        "beta1": d.beta1,
        "beta2": d.beta2,
        "d_steps": d.d_steps,
        "clip": d.clip,
        "gp_weight": d.gp_weight,
    }
    if data in toys.NAMES:
        values.update(model="mlp", z_dim=8 if data in toys.NAMES_2D else 4, hidden=64, batch_size=128)
    return values


# Numeric fields: (low, high, low inclusive, kind). The message quotes the range.
_RANGES: dict[str, tuple[float, float, bool, type]] = {
    "steps": (1, 1_000_000, True, int),
    "batch_size": (2, 4096, True, int),
    "z_dim": (1, 1024, True, int),
    "hidden": (4, 4096, True, int),
    "lr_d": (0.0, 1.0, False, float),
    "lr_g": (0.0, 1.0, False, float),
    "beta1": (0.0, 0.9999, True, float),
    "beta2": (0.0, 0.9999, True, float),
    "d_steps": (1, 50, True, int),
    "clip": (0.0, 10.0, True, float),
    "gp_weight": (0.0, 1000.0, True, float),
    "pack": (1, 16, True, int),
    "instance_noise": (0.0, 10.0, True, float),
    "seed": (0, 2**31 - 1, True, int),
    "log_every": (1, 100_000, True, int),
    "snapshot_every": (1, 1_000_000, True, int),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "data": DATASETS,
    "loss": losses.NAMES,
    "model": MODELS,
    "optimizer": OPTIMIZERS,
    "device": DEVICES,
}


def _range_text(low: float, high: float, inclusive: bool) -> str:
    left = "[" if inclusive else "("
    return f"{left}{low:g}, {high:g}]"


def check(values: dict[str, Any]) -> dict[str, str]:
    """Messages for the fields of ``values`` that are out of range (empty when all are valid)."""
    errors: dict[str, str] = {}
    for name, allowed in _CHOICES.items():
        if name in values and values[name] not in allowed:
            errors[name] = f"{values[name]!r} is not allowed; choose one of: {', '.join(allowed)}"
    for name, (low, high, inclusive, kind) in _RANGES.items():
        if name not in values:
            continue
        v = values[name]
        ok_type = isinstance(v, (int, float)) and not isinstance(v, bool)
        if kind is int and ok_type and float(v) != int(v):
            ok_type = False
        if not ok_type or not math.isfinite(v):
            errors[name] = f"must be {'an integer' if kind is int else 'a number'} in {_range_text(low, high, inclusive)}, got {v!r}"
            continue
        if v > high or v < low or (v == low and not inclusive):
            errors[name] = f"must be in {_range_text(low, high, inclusive)}, got {v:g}"
    bs, pack = values.get("batch_size"), values.get("pack")
    if "batch_size" not in errors and "pack" not in errors and bs and pack and bs % pack:
        errors["pack"] = f"must divide batch_size ({bs}); got {pack}"
    if values.get("data") in toys.NAMES and values.get("model") == "dcgan":
        errors["model"] = "'dcgan' is for images; toy distributions use 'mlp'"
    return errors
