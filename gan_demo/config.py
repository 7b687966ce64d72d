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
from dataclasses import dataclass
from typing import Any

from gan_demo import domains, losses, toys
from gan_demo.data import IMAGE_DATASETS

DATASETS: tuple[str, ...] = IMAGE_DATASETS + toys.NAMES  # what objective "gan" trains on
MODELS = ("mlp", "dcgan")
OPTIMIZERS = ("adam", "rmsprop")
DEVICES = ("auto", "cpu", "cuda")
OBJECTIVES = ("gan", "cgan", "cyclegan")  # gan_demo.train.make_trainer builds each one's trainer
CONDITIONS = ("projection", "concat", "embedding", "none")  # how the conditional GAN's D sees the label


class ConfigError(ValueError):
    """A config with bad values. ``errors`` maps each bad field to a message naming its range."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in errors.items()))


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
    if data in domains.NAMES:  # CycleGAN's translators take no noise: z_dim is unused
        values.update(model="mlp", hidden=64, batch_size=128)
    if data in domains.IMAGE_NAMES:  # small conv translators on 8×8 images (the healthy preset's nets)
        values.update(model="dcgan", hidden=16, batch_size=64)
    return values



# ---------------------------------------------------------------- field metadata
@dataclass(frozen=True)
class Field:
    """What one TrainConfig field accepts, and how the form and the CLI show it.

    ``kind`` is the Python type a value must have: ``int`` (a bool or a float such as 64.0 is
    refused), ``float`` (an int is taken and stored as a float; NaN and ±inf are refused), ``bool``
    (only True / False) or ``str`` (one of ``choices`` when they are given). ``low``/``high`` bound
    a number (``low_inclusive=False``: the low end itself is refused). ``optional``: None is allowed.
    ``step`` is the form's +/- step; ``label`` and ``help`` are the form's and the CLI's text.
    """

    kind: type
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    low_inclusive: bool = True
    choices: tuple[str, ...] | None = None
    step: float | None = None
    optional: bool = False

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

    def allowed(self) -> str:
        """What the field accepts, in words: 'an integer in [2, 4096]', 'one of: adam, rmsprop'."""
        if self.kind is int:
            text = f"an integer in {self.range_text()}"
        elif self.kind is float:
            text = f"a finite number in {self.range_text()}"
        elif self.kind is bool:
            text = "true or false"
        elif self.choices is not None:
            text = f"one of: {', '.join(self.choices)}"
        else:
            text = "a non-empty text (a folder path)"
        return f"{text}, or null" if self.optional else text

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not allowed (a message quoting what is), or None when it is."""
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
                return f"{value!r} is not allowed; choose one of: {', '.join(self.choices)}"
            return f"must be {self.allowed()}, got {value!r} ({type(value).__name__})"
        if self.low is not None and self.high is not None:
            if value > self.high or value < self.low or (value == self.low and not self.low_inclusive):
                return f"must be in {self.range_text()}, got {self.show(value)}"
        return None

    def from_form(self, value: Any) -> tuple[Any, str | None]:
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
        what = f"a whole number in {self.range_text()}" if self.kind is int else self.allowed()
        if value is None:
            return None, f"enter {what}: the field is empty or does not hold a finite number"
        if self.kind is int and isinstance(value, float):
            if not (math.isfinite(value) and value.is_integer()):
                return value, f"must be {what}, got {value!r}"
            return int(value), None
        return value, None

    def parse(self, text: str) -> Any:
        """A command-line string as this field's type (argparse's ``type=``); the range is checked
        when the config is built. Raises ``ValueError`` saying what is allowed."""
        try:
            if self.kind is int:
                return int(text)
            if self.kind is float:
                value = float(text)
                if not math.isfinite(value):
                    raise ValueError
                return value
        except ValueError:
            raise ValueError(f"must be {self.allowed()}, got {text!r}") from None
        return text


def _n(kind: type, label: str, low: float, high: float, step: float, help_: str, inclusive: bool = True) -> Field:
    return Field(kind, label, help_, low, high, inclusive, step=step)


# One entry per TrainConfig field (a test checks both lists agree): validation, the form and the
# CLI read these. Ranges are what the trainer handles; the step is the form's +/- button.
FIELDS: dict[str, Field] = {
    "data": Field(str, "Data set", "an image data set or a toy distribution; cyclegan: a domain pair X, Y "
                  f"({', '.join(domains.NAMES)})", choices=DATASETS + domains.NAMES),
    "loss": Field(str, "Loss", "changing it loads the loss's classic hyperparameters", choices=losses.NAMES),
    "model": Field(str, "Model", "mlp: seed 001's 2-layer MLPs; dcgan: small conv nets", choices=MODELS),
    "steps": _n(int, "Steps", 1, 1_000_000, 100, "G updates in the run"),
    "batch_size": _n(int, "Batch size", 2, 4096, 16, "real samples per D step (and as many fakes)"),
    "z_dim": _n(int, "z dimension", 1, 1024, 1, "size of the noise z ~ N(0, I) fed to G"),
    "hidden": _n(int, "Hidden width", 4, 4096, 16, "width of the hidden layers (DCGAN: channels)"),
    "optimizer": Field(str, "Optimizer", "β1 and β2 apply to Adam only", choices=OPTIMIZERS),
    "lr_d": _n(float, "lr D", 0.0, 1.0, 1e-5, "D's learning rate", inclusive=False),
    "lr_g": _n(float, "lr G", 0.0, 1.0, 1e-5, "G's learning rate", inclusive=False),
    "beta1": _n(float, "Adam β1", 0.0, 0.9999, 0.1, "momentum; with 0.9 DCGAN's training oscillated, 0.5 stabilised it (Radford et al. 2016)"),
    "beta2": _n(float, "Adam β2", 0.0, 0.9999, 0.001, "Adam's second-moment decay"),
    "d_steps": _n(int, "D steps per G step", 1, 50, 1, "WGAN's n_critic"),
    "clip": _n(float, "Weight clip c", 0.0, 10.0, 0.01, "WGAN: clip D's weights to [-c, c]; 0 = off"),
    "gp_weight": _n(float, "GP weight λ", 0.0, 1000.0, 1.0, "WGAN-GP's gradient penalty weight; 0 = off"),
    "pack": _n(int, "Pack (PacGAN)", 1, 16, 1, "D judges this many samples at once; must divide the batch"),
    "lr_decay": Field(bool, "Decay lr to 0", "both learning rates fall linearly to 0 over the run"),
    "instance_noise": _n(float, "Instance noise", 0.0, 10.0, 0.05,
                         "std of Gaussian noise added to every input of D, real and fake, in units of the "
                         "data's std; it falls linearly to 0 over the run. The blur lets D's gradient reach "
                         "fakes far from the data; 0 = off"),
    "objective": Field(str, "Objective", "gan: the seeds' GAN, one G and one D; cgan: the conditional GAN G(z, y), "
                       "D(x, y); cyclegan: translators G: X→Y and F: Y→X with discriminators D_X, D_Y and the "
                       "cycle loss (Zhu et al. 2017)", choices=OBJECTIVES),
    "lambda_cyc": _n(float, "λ cycle", 0.0, 1000.0, 1.0,
                     "cyclegan: weight of the cycle loss E‖F(G(x))−x‖₁ + E‖G(F(y))−y‖₁ (Zhu et al. 2017, eq. 3); "
                     "0 = off"),
    "lambda_id": _n(float, "λ identity", 0.0, 1000.0, 0.5,
                    "cyclegan: weight of the identity loss E‖G(y)−y‖₁ + E‖F(x)−x‖₁ (Zhu et al. 2017, "
                    "section 5.2); 0 = off"),
    "seed": _n(int, "Seed", 0, 2**31 - 1, 1, "same seed, same run (on a CPU)"),
    "device": Field(str, "Device", "auto: CUDA when present", choices=DEVICES),
    "data_root": Field(str, "Data folder", "a folder of IDX files for mnist / fashion-mnist", optional=True),
    "log_every": _n(int, "Log every", 1, 100_000, 1, "steps between logged metric rows"),
    "snapshot_every": _n(int, "Snapshot every", 1, 1_000_000, 10, "steps between saved sample grids"),
    # the conditional GAN's own fields (OBJECTIVE_FIELDS["cgan"]; ignored by the other objectives)
    "condition": Field(str, "D's conditioning",
                       "how D reads the label y: projection D(x,y) = ψ(φ(x)) + e_yᵀφ(x) (Miyato & Koyama "
                       "2018); concat: one-hot y beside x; embedding: a learned vector beside x; none: D "
                       "ignores y", choices=CONDITIONS),
    "mismatch_weight": _n(float, "Mismatch weight λ", 0.0, 10.0, 0.5,
                          "weight of the matching-aware term: D must call a real image with a wrong label "
                          "fake (Reed et al. 2016); 0 = off"),
    "label_dim": _n(int, "Label embedding size", 1, 256, 1, "size of the learned label vector G reads with z"),
}  # fmt: skip
# the fields only one objective reads, shown on that objective's page
OBJECTIVE_FIELDS: dict[str, tuple[str, ...]] = {"cgan": ("condition", "mismatch_weight", "label_dim"),
                                                 "cyclegan": ("lambda_cyc", "lambda_id")}
NUMBERS: tuple[str, ...] = tuple(name for name, f in FIELDS.items() if f.kind in (int, float))


def check(values: dict[str, Any]) -> dict[str, str]:
    """Messages for the fields of ``values`` that are of the wrong type or out of range (empty when
    all are valid); each message says what the field allows. Keys that are not fields are ignored
    here (``TrainConfig.from_dict`` refuses them)."""
    errors = {name: msg for name, f in FIELDS.items() if name in values and (msg := f.problem(values[name]))}
    bs, pack = values.get("batch_size"), values.get("pack")
    if "batch_size" not in errors and "pack" not in errors and bs and pack and bs % pack:
        errors["pack"] = f"must divide batch_size ({bs}); got {pack}"
    if "model" not in errors and values.get("data") in toys.NAMES and values.get("model") == "dcgan":
        errors["model"] = "'dcgan' is for images; toy distributions use 'mlp'"
    errors.update({k: v for k, v in _objective_errors(values, errors).items() if k not in errors})
    return errors


# cyclegan: settings of the GAN objective that its trainer does not use, and the value they must keep
_NOT_FOR_CYCLEGAN = {"pack": 1, "instance_noise": 0.0}


def _objective_errors(values: dict[str, Any], errors: dict[str, str]) -> dict[str, str]:
    """The data set and settings must suit the objective: a domain pair for cyclegan, labelled images
    for cgan, an image data set or a toy for gan."""
    out: dict[str, str] = {}
    objective, data = values.get("objective", "gan"), values.get("data")
    if "objective" in errors or "data" in errors or data is None:
        return out
    if objective == "cyclegan":
        if data not in domains.NAMES:
            out["data"] = f"{data!r} is not a domain pair; cyclegan trains on one of: {', '.join(domains.NAMES)}"
        if values.get("model", "mlp") != "mlp" and "model" not in errors and data not in domains.IMAGE_NAMES:
            out["model"] = "cyclegan's 2-D translators are MLPs: use 'mlp'"
        for name, keep in _NOT_FOR_CYCLEGAN.items():
            if name not in errors and name in values and values[name] != keep:
                out[name] = f"not used by cyclegan: must be {FIELDS[name].show(keep)}, got {FIELDS[name].show(values[name])}"
    elif objective == "cgan":
        out.update(_cgan_problems(values))
    elif data in domains.NAMES:
        out["data"] = (f"{data!r} is a domain pair for the cyclegan objective; the gan objective trains on one of: "
                       f"{', '.join(DATASETS)}")  # fmt: skip
    return out


def _cgan_problems(values: dict[str, Any]) -> dict[str, str]:
    """What the conditional GAN cannot train: toys (no labels), packing, instance noise."""
    out = {}
    if values.get("data") not in IMAGE_DATASETS:
        out["data"] = (f"the conditional GAN needs labelled images; choose one of: {', '.join(IMAGE_DATASETS)} "
                       f"(got {values['data']!r})")  # fmt: skip
    if values.get("pack", 1) != 1:
        out["pack"] = "the conditional GAN's D judges one (image, label) pair at a time: pack must be 1"
    if values.get("instance_noise", 0.0) != 0:
        out["instance_noise"] = "the conditional GAN trains without instance noise: it must be 0"
    return out


def fields_of(objective: str) -> tuple[str, ...]:
    """The TrainConfig fields a page training ``objective`` shows: all but the other objectives' own."""
    others = {n for obj, names in OBJECTIVE_FIELDS.items() if obj != objective for n in names}
    return tuple(name for name in FIELDS if name not in others and name != "objective")
