"""One typed, validated configuration for a training run.

A bad value is refused when the config is built, with the field's name and what it allows (its type
and range, from the one table :data:`FIELDS` that the form and the CLI read too), so the app can
show the message next to the field before anything runs. The types are strict: 64.0 for an integer,
"yes" for a flag, 3 for a path, NaN, ±inf and None are refused wherever the values come from (JSON,
a checkpoint's metadata, a preset, a widget, the command line). Unknown keys are refused too
(nanoGPT's configurator does the same): a typo never silently falls back to a default. The form's
number widgets are float-typed for every field: :meth:`Field.from_form` turns a whole 2000.0 into
the int 2000 and names a 64.5 or an empty entry before the config is checked.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gan_demo import domains, losses, toys
from gan_demo.content import Msg, t
from gan_demo.data import IMAGE_DATASETS

DATASETS: tuple[str, ...] = IMAGE_DATASETS + toys.NAMES  # what objective "gan" trains on
MODELS = ("mlp", "dcgan")
OPTIMIZERS = ("adam", "rmsprop")
DEVICES = ("auto", "cpu", "cuda")
OBJECTIVES = ("gan", "cgan", "cyclegan")  # gan_demo.train.make_trainer builds each one's trainer
CONDITIONS = ("projection", "concat", "embedding", "none")  # how the conditional GAN's D sees the label


class ConfigError(ValueError):
    """A config with bad values. ``problems`` maps each bad field to a message naming its range (a
    :class:`~gan_demo.content.Msg`, or a plain text from the command line); ``errors`` and ``str()``
    render them in the reader's language (English without a session: the command line, a worker)."""

    def __init__(self, errors: Mapping[str, str | Msg]):
        self.problems: dict[str, str | Msg] = dict(errors)
        super().__init__(self.problems)

    @property
    def errors(self) -> dict[str, str]:
        """Each bad field's message, rendered now."""
        return {name: str(msg) for name, msg in self.problems.items()}

    def __str__(self) -> str:
        return "; ".join(f"{name}: {msg}" for name, msg in self.problems.items())


@dataclass(frozen=True)
class TrainConfig:
    data: str = "digits"  # an image data set or a toy distribution (see DATASETS); cyclegan: a domain pair
    loss: str = "non-saturating"  # one of losses.NAMES
    model: str = "mlp"  # images: "mlp" (seed 001's MLP) or "dcgan"; toys always use a small MLP
    steps: int = 2000  # G updates in the run
    batch_size: int = 64  # real samples per D step (and fakes per step)
    z_dim: int = 100  # size of the latent noise z ~ N(0, I)
    hidden: int = 256  # width of the MLPs' hidden layers (DCGAN: channels of the widest conv)
    optimizer: str = "adam"  # "adam" or "rmsprop", for both networks
    lr_d: float = 2e-4  # D's learning rate
    lr_g: float = 2e-4  # G's learning rate
    beta1: float = 0.5  # Adam's β1 (momentum); DCGAN (Radford et al. 2016) found 0.9 oscillated and used 0.5
    beta2: float = 0.999  # Adam's β2
    d_steps: int = 1  # D updates per G update (WGAN's n_critic)
    clip: float = 0.0  # WGAN weight clipping bound c; 0 = no clipping
    gp_weight: float = 0.0  # WGAN-GP's λ; 0 = no gradient penalty
    pack: int = 1  # PacGAN: D judges `pack` samples at once (1 = no packing)
    lr_decay: bool = False  # decay both learning rates linearly to 0 over the run
    instance_noise: float = 0.0  # std of Gaussian noise on D's inputs, in data stds, falling to 0 over the run
    objective: str = "gan"  # "gan": the seeds' GAN; "cgan": G(z, y), D(x, y); "cyclegan": G: X→Y, F: Y→X, D_X, D_Y
    lambda_cyc: float = 10.0  # cyclegan: weight λ of the cycle-consistency loss (Zhu et al. 2017, eq. 3)
    lambda_id: float = 0.0  # cyclegan: weight of the identity loss (Zhu et al. 2017, section 5.2); 0 = off
    seed: int = 0  # seeds the weights, the noise and the batches: a CPU run repeats exactly
    device: str = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
    data_root: str | None = None  # a folder of IDX files for mnist / fashion-mnist
    log_every: int = 10  # steps between logged metric rows
    snapshot_every: int = 100  # steps between saved fixed-noise samples
    # cgan only: how D reads the label ("projection": Miyato & Koyama 2018; "concat": one-hot beside x;
    # "embedding": a learned vector beside x; "none": D ignores it, the "label ignored" failure)
    condition: str = "projection"
    mismatch_weight: float = 1.0  # cgan only: weight of the matching-aware term (real x, wrong label); 0 = off
    label_dim: int = 16  # cgan only: size of the label embedding G (and an "embedding" D) reads

    def __post_init__(self) -> None:
        errors = check(dataclasses.asdict(self))
        if errors:
            raise ConfigError(errors)
        for name in NUMBERS:  # an int given for a float field (JSON's 1 for 1.0) is stored as a float
            if FIELDS[name].kind is float:
                object.__setattr__(self, name, float(getattr(self, name)))

    # ------------------------------------------------------------- constructors
    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Build from a plain dict (JSON, query parameters, widgets); unknown keys are refused."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError({k: Msg("config.error.unknown", field=k, valid=", ".join(sorted(names))) for k in unknown})
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
    if data in domains.NAMES:  # CycleGAN's translators take no noise: z_dim is unused
        values.update(model="mlp", hidden=64, batch_size=128)
    if data in domains.IMAGE_NAMES:  # small conv translators on 8×8 images (the healthy preset's nets)
        # The cycle loss sums |x - F(G(x))| over the 64 pixels (the paper's code averages), so the
        # paper's λ = 10 weighs 640 here and G, F copy their input (preset cyclegan-digits-identity);
        # 0.3 is the healthy preset's weight (docs/cyclegan.md).
        values.update(model="dcgan", hidden=16, batch_size=64, lambda_cyc=0.3)
    return values



# ---------------------------------------------------------------- field metadata
@dataclass(frozen=True)
class Field:
    """What one TrainConfig field accepts, and how the form and the CLI show it.

    ``name`` is the TrainConfig field's name: its label and help are the catalogue's
    ``config.<name>.label`` and ``config.<name>.help`` (``help_params`` fill the help's parameters),
    rendered in the reader's language. ``kind`` is the Python type a value must have: ``int`` (a bool
    or a float such as 64.0 is refused), ``float`` (an int is taken and stored as a float; NaN and ±inf
    are refused), ``bool`` (only True / False) or ``str`` (one of ``choices`` when they are given).
    ``low``/``high`` bound a number (``low_inclusive=False``: the low end itself is refused).
    ``optional``: None is allowed. ``step`` is the form's +/- step.

    Every message (:meth:`allowed`, :meth:`problem`, :meth:`from_form`, :meth:`parse`) is a
    :class:`~gan_demo.content.Msg` with the field, the value and the range as parameters: ``str()``
    renders it in the reader's language, English on the command line.
    """

    kind: type
    name: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    choices: tuple[str, ...] | None = None
    step: float | None = None
    optional: bool = False
    help_params: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """The form's label, in the reader's language ("Batch size", "批量大小")."""
        return t(f"config.{self.name}.label")

    @property
    def help(self) -> str:
        """The form's and the CLI's help, in the reader's language."""
        return t(f"config.{self.name}.help", **dict(self.help_params))

    @property
    def format(self) -> str:
        """The number field's printf format: ``%g`` for every number field, integers included (their
        widgets are float-typed, see :meth:`from_form`). ``%g`` without a precision: Streamlit formats
        with sprintf.js, whose bare ``%g`` prints JavaScript's shortest round-trip form of the number
        (0.0001 -> "0.0001", 5e-05 -> "0.00005", 1000000 -> "1000000"), so every distinct value shows
        distinctly."""
        return "%g"

    def show(self, value: float) -> str:
        """A number as the messages quote it: an integer in full, a float in ``%g``."""
        return str(value) if self.kind is int and isinstance(value, int) else f"{value:g}"

    def range_text(self) -> str:
        left = "[" if self.low_inclusive else "("
        low, high = (int(self.low), int(self.high)) if self.kind is int else (self.low, self.high)
        return f"{left}{self.show(low)}, {self.show(high)}]"

    def allowed_msg(self) -> Msg:
        """What the field accepts, as a message: 'an integer in [2, 4096]', 'one of: adam, rmsprop'."""
        if self.kind is int:
            what = Msg("config.allowed.int", range=self.range_text())
        elif self.kind is float:
            what = Msg("config.allowed.float", range=self.range_text())
        elif self.kind is bool:
            what = Msg("config.allowed.bool")
        elif self.choices is not None:
            what = Msg("config.allowed.choice", choices=", ".join(self.choices))
        else:
            what = Msg("config.allowed.path")
        return Msg("config.allowed.optional", allowed=what) if self.optional else what

    def allowed(self) -> str:
        """What the field accepts, in words, in the reader's language: 'an integer in [2, 4096]'."""
        return str(self.allowed_msg())

    def problem(self, value: Any) -> Msg | None:
        """Why ``value`` is not allowed (a message quoting it and what is allowed), or None when it is."""
        if value is None and self.optional:
            return None
        if self.kind is bool:
            ok = isinstance(value, bool)
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif self.kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        else:
            ok = isinstance(value, str) and (value in self.choices if self.choices else bool(value))
        if not ok:
            if self.choices is not None and isinstance(value, str):
                return Msg("config.error.choice", field=self.name, value=value, choices=", ".join(self.choices))
            return Msg("config.error.type", field=self.name, allowed=self.allowed_msg(), value=value,
                       type=type(value).__name__)  # fmt: skip
        if self.low is not None and self.high is not None:
            if value > self.high or value < self.low or (value == self.low and not self.low_inclusive):
                return Msg("config.error.range", field=self.name, range=self.range_text(), value=self.show(value))
        return None

    def from_form(self, value: Any) -> tuple[Any, Msg | None]:
        """A number widget's value as this field's type, and why it is not allowed (None when the
        type is right; the range is :func:`check`'s job).

        The form's number widgets are float-typed, integer fields included: Streamlit 1.67's
        frontend reads an integer widget's text with ``Number.parseInt(text, 10)``, which stops at
        the first character that is not a digit ("1e6" -> 1, "64.5" -> 64, "1.5e3" -> 1) and sends
        that without a word, whereas a float widget's ``Number.parseFloat`` reads the whole number.
        So an integer field gets 2000.0 for "2e3" (returned as the int 2000) and 64.5 for "64.5"
        (refused: "must be a whole number in [2, 4096], got 64.5"). ``None`` is what the widget holds
        when the field is empty or its text is not a finite number (the browser gives "" for "abc";
        Streamlit's backend turns "1e309", which parses to Infinity, into the widget's default,
        None): the message says what is allowed and quotes no value the user did not type.
        """
        what = Msg("config.allowed.whole", range=self.range_text()) if self.kind is int else self.allowed_msg()
        if value is None:
            return None, Msg("config.error.empty", field=self.name, allowed=what)
        if self.kind is int and isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                return value, Msg("config.error.must_be", field=self.name, allowed=what, value=value)
            return int(value), None
        return value, None

    def parse(self, text: str) -> Any:
        """A command-line string as this field's type (argparse's ``type=``); the range is checked
        when the config is built. Raises ``ValueError`` (a Msg) saying what is allowed."""
        try:
            if self.kind is int:
                return int(text)
            if self.kind is float:
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
                return value
        except ValueError:
            raise ValueError(Msg("config.error.must_be", field=self.name, allowed=self.allowed_msg(),
                                 value=text)) from None  # fmt: skip
        return text


def _n(kind: type, name: str, low: float, high: float, step: float, inclusive: bool = True) -> Field:
    return Field(kind, name, low, high, inclusive, step=step)


# One entry per TrainConfig field (a test checks both lists agree): validation, the form and the
# CLI read these; each field's label and help are in the catalogue (config.<name>.label / .help).
# Ranges are what the trainer handles; the step is the form's +/- button.
FIELDS: dict[str, Field] = {
    "data": Field(str, "data", choices=DATASETS + domains.NAMES, help_params=(("pairs", ", ".join(domains.NAMES)),)),
    "loss": Field(str, "loss", choices=losses.NAMES),
    "model": Field(str, "model", choices=MODELS),
    "steps": _n(int, "steps", 1, 1_000_000, 100),
    "batch_size": _n(int, "batch_size", 2, 4096, 16),
    "z_dim": _n(int, "z_dim", 1, 1024, 1),
    "hidden": _n(int, "hidden", 4, 4096, 16),
    "optimizer": Field(str, "optimizer", choices=OPTIMIZERS),
    "lr_d": _n(float, "lr_d", 0.0, 1.0, 1e-5, inclusive=False),
    "lr_g": _n(float, "lr_g", 0.0, 1.0, 1e-5, inclusive=False),
    "beta1": _n(float, "beta1", 0.0, 0.9999, 0.1),
    "beta2": _n(float, "beta2", 0.0, 0.9999, 0.001),
    "d_steps": _n(int, "d_steps", 1, 50, 1),
    "clip": _n(float, "clip", 0.0, 10.0, 0.01),
    "gp_weight": _n(float, "gp_weight", 0.0, 1000.0, 1.0),
    "pack": _n(int, "pack", 1, 16, 1),
    "lr_decay": Field(bool, "lr_decay"),
    "instance_noise": _n(float, "instance_noise", 0.0, 10.0, 0.05),
    "objective": Field(str, "objective", choices=OBJECTIVES),
    "lambda_cyc": _n(float, "lambda_cyc", 0.0, 1000.0, 1.0),
    "lambda_id": _n(float, "lambda_id", 0.0, 1000.0, 0.5),
    "seed": _n(int, "seed", 0, 2**31 - 1, 1),
    "device": Field(str, "device", choices=DEVICES),
    "data_root": Field(str, "data_root", optional=True),
    "log_every": _n(int, "log_every", 1, 100_000, 1),
    "snapshot_every": _n(int, "snapshot_every", 1, 1_000_000, 10),
    # the conditional GAN's own fields (OBJECTIVE_FIELDS["cgan"]; ignored by the other objectives)
    "condition": Field(str, "condition", choices=CONDITIONS),
    "mismatch_weight": _n(float, "mismatch_weight", 0.0, 10.0, 0.5),
    "label_dim": _n(int, "label_dim", 1, 256, 1),
}
# the fields only one objective reads, shown on that objective's page
OBJECTIVE_FIELDS: dict[str, tuple[str, ...]] = {"cgan": ("condition", "mismatch_weight", "label_dim"),
                                                 "cyclegan": ("lambda_cyc", "lambda_id")}
NUMBERS: tuple[str, ...] = tuple(name for name, f in FIELDS.items() if f.kind in (int, float))


def check(values: dict[str, Any]) -> dict[str, Msg]:
    """Messages (:class:`~gan_demo.content.Msg`) for the fields of ``values`` that are of the wrong type or out of range (empty when
    all are valid); each message says what the field allows. Keys that are not fields are ignored
    here (``TrainConfig.from_dict`` refuses them)."""
    errors = {name: msg for name, f in FIELDS.items() if name in values and (msg := f.problem(values[name]))}
    bs, pack = values.get("batch_size"), values.get("pack")
    if "batch_size" not in errors and "pack" not in errors and bs and pack and bs % pack:
        errors["pack"] = Msg("config.error.pack_divides", field="pack", batch_size=bs, value=pack)
    if "model" not in errors and values.get("data") in toys.NAMES and values.get("model") == "dcgan":
        errors["model"] = Msg("config.error.dcgan_toy", field="model", value="dcgan", allowed="mlp")
    errors.update({k: v for k, v in _objective_errors(values, errors).items() if k not in errors})
    return errors


# cyclegan: settings of the GAN objective that its trainer does not use, and the value they must keep
_NOT_FOR_CYCLEGAN = {"pack": 1, "instance_noise": 0.0}


def _objective_errors(values: dict[str, Any], errors: Mapping[str, Msg]) -> dict[str, Msg]:
    """The data set and settings must suit the objective: a domain pair for cyclegan, labelled images
    for cgan, an image data set or a toy for gan."""
    out: dict[str, Msg] = {}
    objective, data = values.get("objective", "gan"), values.get("data")
    if "objective" in errors or "data" in errors or data is None:
        return out
    if objective == "cyclegan":
        if data not in domains.NAMES:
            out["data"] = Msg("config.error.not_a_pair", field="data", value=data, choices=", ".join(domains.NAMES))
        if values.get("model", "mlp") != "mlp" and "model" not in errors and data not in domains.IMAGE_NAMES:
            out["model"] = Msg("config.error.cyclegan_mlp", field="model", value=values["model"], allowed="mlp")
        for name, keep in _NOT_FOR_CYCLEGAN.items():
            if name not in errors and name in values and values[name] != keep:
                out[name] = Msg("config.error.not_for_cyclegan", field=name, keep=FIELDS[name].show(keep),
                                value=FIELDS[name].show(values[name]))  # fmt: skip
    elif objective == "cgan":
        out.update(_cgan_problems(values))
    elif data in domains.NAMES:
        out["data"] = Msg("config.error.pair_for_gan", field="data", value=data, choices=", ".join(DATASETS))
    return out


def _cgan_problems(values: dict[str, Any]) -> dict[str, Msg]:
    """What the conditional GAN cannot train: toys (no labels), packing, instance noise."""
    out = {}
    if values.get("data") not in IMAGE_DATASETS:
        out["data"] = Msg("config.error.cgan_data", field="data", value=values["data"],
                          choices=", ".join(IMAGE_DATASETS))  # fmt: skip
    if values.get("pack", 1) != 1:
        out["pack"] = Msg("config.error.cgan_pack", field="pack", value=values["pack"], keep=1)
    if values.get("instance_noise", 0.0) != 0:
        out["instance_noise"] = Msg("config.error.cgan_noise", field="instance_noise", value=values["instance_noise"],
                                    keep=0)  # fmt: skip
    return out


def fields_of(objective: str) -> tuple[str, ...]:
    """The TrainConfig fields a page training ``objective`` shows: all but the other objectives' own."""
    others = {n for obj, names in OBJECTIVE_FIELDS.items() if obj != objective for n in names}
    return tuple(name for name in FIELDS if name not in others and name != "objective")
