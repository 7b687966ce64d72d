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
