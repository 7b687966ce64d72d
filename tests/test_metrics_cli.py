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
