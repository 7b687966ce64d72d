"""train-classifier and bench-quality from the command line: bad values, a tiny run of each."""

from __future__ import annotations

import json

from gan_demo import cli


def test_bad_values_exit_2_with_the_allowed_range(capsys):
    assert cli.main(["train-classifier", "--data", "digits", "--epochs", "0"]) == 2
    assert "--epochs and --width must be at least 1" in capsys.readouterr().err
    assert cli.main(["bench-quality", "--limit", "0"]) == 2
    assert "--limit, --eval-every, --slice and --factor must be positive" in capsys.readouterr().out


def test_train_classifier_writes_weights_and_index(tmp_path, capsys):
    argv = ["--data", "digits", "--epochs", "1", "--width", "4", "--threads", "1", "--out", str(tmp_path)]
    assert cli.main(["train-classifier", *argv]) == 0
    assert "held-out accuracy" in capsys.readouterr().out
    entry = json.loads((tmp_path / "index.json").read_text())["classifiers"]["digits"]
    assert entry["command"] == "python -m gan_demo train-classifier " + " ".join(argv)
    assert entry["size"] == (tmp_path / "classifier-digits.safetensors").stat().st_size
    assert entry["epochs"] == 1 and entry["width"] == 4


def test_bench_quality_reports_both_loops(capsys):
    assert cli.main(["bench-quality", "--data", "digits", "--limit", "1", "--eval-every", "0.5", "--n", "64",
                     "--threads", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "n = 64: floor" in out and "load average" in out
    for name in ("seed 001 loop", "gan_demo Trainer"):
        assert f"{name}" in out
    assert out.count("; best distance") == 2


def test_overhead_mode_prints_the_share_of_training_time(capsys):
    assert cli.main(["bench-quality", "--data", "digits", "--overhead", "200", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("digits, mlp, batch 64: 200 steps in ")
    assert "2 reports (one per 100 steps, n = 64)" in out and "overhead" in out


def test_bench_quality_with_a_preset_trains_both_loops_with_its_networks(capsys):
    assert cli.main(["bench-quality", "--data", "digits", "--preset", "healthy-lsgan", "--limit", "1",
                     "--eval-every", "0.5", "--n", "64", "--threads", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "preset healthy-lsgan: dcgan (width 64, pack 1), z 100, batch 128, lsgan, Adam 0.0002 / 0.0002, β 0.5" in out
    assert out.count("; best distance") == 2


def test_the_seed_style_loop_starts_from_the_trainers_weights_and_refuses_other_losses(tmp_path):
    import dataclasses

    import pytest
    import torch

    from gan_demo import presets
    from gan_demo.metrics import bench
    from gan_demo.train import GanTrainer

    cfg = presets.get("healthy-lsgan").config()
    dataset = cli._seed_dataset("digits", tmp_path)
    step = bench.seed_style_loop(cfg, dataset, torch.device("cpu"))
    trainer = GanTrainer(cfg)
    ours, theirs = trainer.G.state_dict(), step.generator.state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    before = {k: v.clone() for k, v in theirs.items()}
    step()  # one iteration moves G
    assert any(not torch.equal(before[k], v) for k, v in step.generator.state_dict().items())
    with pytest.raises(ValueError, match="non-saturating or LSGAN"):
        bench.seed_style_loop(dataclasses.replace(cfg, loss="hinge"), dataset, torch.device("cpu"))


def test_rates_mode_times_both_loops_with_dense_and_conv_layers(capsys):
    assert cli.main(["bench-quality", "--data", "digits", "--preset", "healthy-lsgan", "--rates", "40",
                     "--threads", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "40 steps each in 20 interleaved rounds" in out
    for loop in ("seed-style loop", "gan_demo Trainer"):
        for variant in ("dense convolutions", "conv layers"):
            assert out.count(f"{loop}, {variant} ") == 1
    assert out.count("Trainer / seed-style loop, ") == 2 and out.count("x (CPU: ") == 2


def test_clocked_loop_counts_wall_and_cpu_seconds_of_its_turns():
    import time

    from gan_demo.metrics import bench

    sleeper = bench._Clocked("sleeps", lambda: time.sleep(0.01), lambda: None)
    sleeper.run_for(0.2)
    assert sleeper.seconds >= 0.2 and 1 <= sleeper.steps <= 21
    assert sleeper.cpu < 0.25 * sleeper.seconds  # asleep: wall time passes, CPU time hardly

    def spin():
        end = time.perf_counter() + 0.01
        while time.perf_counter() < end:
            pass

    spinner = bench._Clocked("spins", spin, lambda: None)
    spinner.run_for(0.2)
    assert spinner.seconds >= 0.2 and 0 < spinner.cpu <= spinner.seconds + 0.01


def test_engine_mode_times_the_trainer_against_the_engine_before(capsys):
    assert cli.main(["bench-quality", "--data", "digits", "--preset", "healthy-lsgan", "--engine", "40",
                     "--threads", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "40 steps each in 20 interleaved rounds" in out
    for name in ("Trainer, this engine", "Trainer, engine before"):
        assert out.count(f"  {name} ") == 1 and "CPU ms per step" in out
    assert out.count("this engine / before: ") == 1
