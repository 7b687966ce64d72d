"""TrainConfig refuses bad values with the field's name and range, and fills each loss's defaults."""

from __future__ import annotations

import pytest

from gan_demo import losses
from gan_demo.config import ConfigError, TrainConfig, check, defaults_for


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"lr_d": 0.0}, "lr_d", "(0, 1]"),
        ({"lr_g": float("nan")}, "lr_g", "(0, 1]"),
        ({"beta1": 1.0}, "beta1", "[0, 0.9999]"),
        ({"batch_size": 0}, "batch_size", "[2, 4096]"),
        ({"d_steps": 0}, "d_steps", "[1, 50]"),
        ({"steps": 2.5}, "steps", "an integer"),
        ({"batch_size": 64, "pack": 3}, "pack", "must divide batch_size (64)"),
        ({"data": "cifar10"}, "data", "ring8"),
        ({"loss": "vanilla"}, "loss", "wgan-gp"),
        ({"data": "ring8", "model": "dcgan"}, "model", "toy"),
        ({"device": "tpu"}, "device", "cuda"),
    ],
)
def test_bad_value_is_refused_with_field_and_range(values, field, words):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**values)
    assert set(err.value.errors) == {field}
    assert words in err.value.errors[field]
    assert str(err.value).startswith(f"{field}: ")


def test_several_bad_fields_are_all_reported():
    errors = check({"lr_d": -1.0, "beta2": 2.0, "steps": 0})
    assert set(errors) == {"lr_d", "beta2", "steps"}


def test_bool_is_not_a_number():
    with pytest.raises(ConfigError) as err:
        TrainConfig(steps=True)
    assert "steps" in err.value.errors


def test_unknown_key_in_from_dict_is_refused_and_names_the_valid_ones():
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({"lr": 1e-3})
    assert set(err.value.errors) == {"lr"}
    assert "lr_d" in err.value.errors["lr"] and "unknown setting" in err.value.errors["lr"]


def test_config_error_is_a_value_error():
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize("name", losses.NAMES)
def test_defaults_for_fills_the_loss_defaults(name):
    d = losses.get(name).defaults
    cfg = TrainConfig.for_loss(name)
    assert (cfg.loss, cfg.optimizer, cfg.lr_d, cfg.lr_g, cfg.beta1, cfg.beta2) == (
        name, d.optimizer, d.lr_d, d.lr_g, d.beta1, d.beta2)  # fmt: skip
    assert (cfg.d_steps, cfg.clip, cfg.gp_weight) == (d.d_steps, d.clip, d.gp_weight)


def test_defaults_for_sizes_the_toy_networks():
    assert defaults_for("wgan-gp", "ring8")["z_dim"] == 8
    assert defaults_for("wgan-gp", "gaussian")["z_dim"] == 4
    cfg = TrainConfig.for_loss("wgan-gp", "ring8")
    assert (cfg.d_steps, cfg.gp_weight, cfg.model) == (5, 10.0, "mlp")
    assert "z_dim" not in defaults_for("hinge", "digits")  # images keep the dataclass's z = 100


def test_overrides_win_over_defaults_and_round_trip_through_dict():
    cfg = TrainConfig.for_loss("wgan", "ring8", d_steps=2, clip=0.05)
    assert (cfg.d_steps, cfg.clip, cfg.optimizer) == (2, 0.05, "rmsprop")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


# ---------------------------------------------------------------- types: every field × wrong types
import dataclasses  # noqa: E402
import json  # noqa: E402

from safetensors.torch import load_file, save_file  # noqa: E402

from gan_demo import checkpoints, cli, config  # noqa: E402
from gan_demo.train import GanTrainer  # noqa: E402

_WRONG: dict[type, list] = {  # values of the wrong type (or not finite) for each kind of field
    int: [64.0, 2.5, "64", True, None, float("nan"), float("inf"), [64]],
    float: ["0.1", True, None, float("nan"), float("inf"), float("-inf"), [0.1]],
    bool: ["true", "yes", 1, 0, None, 1.0],
    str: [3, 3.0, True, None, ["ring8"], ""],
}
_CASES = [
    (name, value)
    for name, f in config.FIELDS.items()
    for value in _WRONG[f.kind]
    if not (value is None and f.optional) and not (value == "" and f.choices is None and f.kind is not str)
]


def test_the_field_table_covers_every_config_field_and_its_defaults_pass():
    assert list(config.FIELDS) == [f.name for f in dataclasses.fields(TrainConfig)]
    for f in dataclasses.fields(TrainConfig):
        assert config.FIELDS[f.name].problem(f.default) is None, f.name


@pytest.mark.parametrize(("name", "value"), _CASES, ids=[f"{n}={v!r}" for n, v in _CASES])
def test_a_value_of_the_wrong_type_is_refused_naming_the_field_and_what_is_allowed(name, value):
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict({name: value})
    assert set(err.value.errors) == {name}
    allowed = config.FIELDS[name].allowed()
    if isinstance(value, str) and config.FIELDS[name].choices:
        allowed = allowed.removesuffix(", or null")  # "'x' is not allowed; choose one of: ..."
    assert allowed in err.value.errors[name]
    assert str(err.value).startswith(f"{name}: ")


def test_the_issue_case_a_float_batch_size_from_json():
    with pytest.raises(ConfigError) as err:
        TrainConfig.from_dict(json.loads('{"batch_size": 64.0}'))
    assert err.value.errors == {"batch_size": "must be an integer in [2, 4096], got 64.0 (float)"}


def test_an_int_for_a_float_field_is_stored_as_a_float():
    cfg = TrainConfig.from_dict(json.loads('{"lr_d": 1, "clip": 0}'))
    assert (cfg.lr_d, cfg.clip) == (1.0, 0.0)
    assert type(cfg.lr_d) is float and type(cfg.clip) is float
    assert json.dumps(cfg.to_dict()) == json.dumps(TrainConfig(lr_d=1.0, clip=0.0).to_dict())


# ---------------------------------------------------------------- checkpoints with bad metadata
@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory):
    cfg = TrainConfig(data="ring8", hidden=8, z_dim=2, batch_size=8, steps=1, device="cpu")
    path = tmp_path_factory.mktemp("ckpt") / "good.safetensors"
    checkpoints.save(GanTrainer(cfg), path)
    return path


def _rewrite(src, dst, config_values=None, step=None):
    meta = checkpoints.read_metadata(src)
    if config_values is not None:
        meta["config"] = json.dumps({**json.loads(meta["config"]), **config_values})
    if step is not None:
        meta["step"] = step
    save_file(load_file(str(src)), str(dst), metadata=meta)
    return dst


@pytest.mark.parametrize(
    ("values", "field", "words"),
    [
        ({"batch_size": 8.0}, "batch_size", "must be an integer in [2, 4096], got 8.0"),
        ({"lr_decay": "yes"}, "lr_decay", "must be true or false, got 'yes'"),
        ({"data_root": 3}, "data_root", "must be a non-empty text (a folder path), or null, got 3"),
        ({"seed": None}, "seed", "must be an integer in [0, 2147483647], got None"),
        ({"lr_g": float("nan")}, "lr_g", "must be a finite number in (0, 1], got nan"),
    ],
)
def test_a_checkpoint_with_a_bad_config_names_the_file_and_the_field(good_checkpoint, tmp_path, values, field, words):
    bad = _rewrite(good_checkpoint, tmp_path / "bad.safetensors", values)
    with pytest.raises(checkpoints.CheckpointError) as err:
        checkpoints.load(bad, device="cpu")
    msg = str(err.value)
    assert msg.startswith(f"{bad}: invalid config in the metadata")
    assert f"{field}: {words}" in msg


@pytest.mark.parametrize("step", ["-1", "3.0", " 3", "+3", "3_0", "three"])
def test_a_checkpoint_with_a_bad_step_names_the_file(good_checkpoint, tmp_path, step):
    bad = _rewrite(good_checkpoint, tmp_path / "bad.safetensors", step=step)
    with pytest.raises(checkpoints.CheckpointError) as err:
        checkpoints.load(bad, device="cpu")
    assert str(err.value) == f"{bad}: step {step!r} in the metadata is not a whole number of steps (0, 1, 2, ...)"


def test_a_good_checkpoint_still_loads(good_checkpoint):
    assert checkpoints.load(good_checkpoint, device="cpu").config.batch_size == 8


# ---------------------------------------------------------------- command-line flags
_CLI_WRONG = {int: ["64.0", "1e3", "two", "nan"], float: ["nan", "inf", "-inf", "0.1.2", "lots"]}
_CLI_CASES = [(n, v) for n in config.NUMBERS for v in _CLI_WRONG[config.FIELDS[n].kind]]


@pytest.mark.parametrize(("name", "text"), _CLI_CASES, ids=[f"{n}={v}" for n, v in _CLI_CASES])
def test_a_flag_of_the_wrong_type_exits_2_naming_the_flag_and_what_is_allowed(capsys, tmp_path, name, text):
    flag = "--" + name.replace("_", "-")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", f"{flag}={text}", "--out", str(tmp_path / "out")])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: must be {config.FIELDS[name].allowed()}, got {text!r}" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_a_flag_out_of_range_exits_2_with_the_range(capsys, tmp_path):
    assert cli.main(["train", "--batch-size", "5000", "--out", str(tmp_path / "out")]) == 2
    assert "bad setting: batch_size: must be in [2, 4096], got 5000" in capsys.readouterr().err


def test_flag_help_quotes_the_fields_help_and_range():
    text = cli.build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    assert "D's learning rate; a finite number in (0, 1]" in " ".join(text.split())


# ---------------------------------------------------------------- what the form's number widgets give
@pytest.mark.parametrize(
    ("name", "widget_value", "value", "problem"),
    [
        ("steps", 1e6, 1_000_000, None),  # typed "1e6": a whole number, as the int 1000000
        ("steps", 2000.0, 2000, None),  # "2e3"
        ("steps", 1e12, 1_000_000_000_000, None),  # "1e12": whole; config.check names the range
        ("batch_size", 64.5, 64.5, "must be a whole number in [2, 4096], got 64.5"),
        ("batch_size", 64, 64, None),  # an int from a preset or a test is kept
        ("steps", None, None, "enter a whole number in [1, 1000000]: the field is empty or does not hold a finite number"),
        ("lr_d", None, None, "enter a finite number in (0, 1]: the field is empty or does not hold a finite number"),
        ("lr_d", 3e-4, 3e-4, None),
    ],
)  # fmt: skip
def test_a_number_widgets_value_becomes_the_fields_type_or_a_message(name, widget_value, value, problem):
    got, message = config.FIELDS[name].from_form(widget_value)  # a Msg: str() is English without a session
    assert (got, message and str(message)) == (value, problem) and type(got) is type(value)


def test_number_fields_use_the_shortest_round_trip_format():
    # an integer field's widget is float-typed (see Field.from_form); "%d" would truncate 64.5 to "64"
    assert {config.FIELDS[name].format for name in config.NUMBERS} == {"%g"}
