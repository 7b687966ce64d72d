"""The command line: ``train`` writes its run folder, bad flags exit 2, ``bench`` prints a ratio."""

from __future__ import annotations

import csv
import json
import math
import re
import threading

import numpy as np
import pytest
import torch

from gan_demo import cli, losses, runs
from gan_demo.config import TrainConfig
from gan_demo.train import GanTrainer


def test_train_ring8_writes_its_run_folder(tmp_path, capsys):
    out = tmp_path / "x"
    args = ["train", "--data", "ring8", "--loss", "wgan-gp", "--steps", "200", "--seed", "0",
            "--hidden", "32", "--d-steps", "2", "--device", "cpu", "--out", str(out)]  # fmt: skip
    assert cli.main(args) == 0
    cfg = TrainConfig.from_dict(json.loads((out / "config.json").read_text()))
    assert cfg == TrainConfig.for_loss("wgan-gp", "ring8", steps=200, seed=0, hidden=32, d_steps=2, device="cpu")
    with open(out / "metrics.csv") as fh:
        rows = list(csv.reader(fh))
    assert tuple(rows[0]) == GanTrainer(cfg).metric_names
    assert [int(float(r[0])) for r in rows[1:]] == [1] + list(range(10, 201, 10))  # first, every 10th
    assert all(math.isfinite(float(v)) for r in rows[1:] for v in r)
    loaded = runs.load(out)
    assert loaded.step == 200 and loaded.config == cfg and loaded.manifest["status"] == "done"
    samples = loaded.sample(2500)
    assert samples.shape == (2500, 2) and samples.dtype == np.float32
    printed = capsys.readouterr().out
    assert "modes captured:" in printed and "high quality:" in printed


def test_train_on_images_writes_images_in_range(tmp_path):
    out = tmp_path / "d"
    assert cli.main(["train", "--data", "digits", "--steps", "3", "--hidden", "16", "--device", "cpu",
                     "--quiet", "--out", str(out)]) == 0  # fmt: skip
    samples = runs.load(out).sample(2500)
    assert samples.shape == (2500, 1, 8, 8)
    assert samples.min() >= -1 and samples.max() <= 1


def test_1d_toy_prints_w1(tmp_path, capsys):
    assert cli.main(["train", "--data", "gaussian", "--steps", "2", "--quiet", "--device", "cpu",
                     "--out", str(tmp_path)]) == 0  # fmt: skip
    assert "W1(G, data):" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flag", "value", "field"),
    [("--lr-d", "0", "lr_d"), ("--beta1", "1.0", "beta1"), ("--pack", "3", "pack"), ("--data", "cifar", "data")],
)
def test_bad_flag_value_exits_2_naming_the_field(tmp_path, capsys, flag, value, field):
    code = cli.main(["train", "--data", "ring8", flag, value, "--out", str(tmp_path / "bad")])
    assert code == 2
    err = capsys.readouterr().err
    assert field in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists()


def test_unparsable_flag_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--steps", "many", "--out", "x"])
    assert exit_.value.code == 2
    assert "--steps" in capsys.readouterr().err


def test_diverging_run_stops_with_exit_1_and_names_the_metric(tmp_path, capsys, monkeypatch):
    step = GanTrainer.step

    def nan_at_30(self, with_metrics=True):
        row = step(self, with_metrics)
        if row is not None and self.step_count == 30:
            row["loss_g"] = float("nan")
        return row

    monkeypatch.setattr(GanTrainer, "step", nan_at_30)
    code = cli.main(["train", "--data", "ring8", "--steps", "100", "--quiet", "--out", str(tmp_path)])
    assert code == 1
    err = capsys.readouterr().err
    assert "loss_g" in err and "step 30" in err and "learning rate" in err
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) == 1 + 4  # rows 1, 10, 20, 30
    saved = runs.load(tmp_path)  # the failed run is kept, saying why it stopped
    assert saved.manifest["status"] == "failed" and "loss_g" in saved.manifest["error"] and saved.step == 30


def test_a_non_finite_step_between_logged_steps_exits_1_naming_the_step(tmp_path, capsys):
    # issue 12: this run exited 0 with an empty metrics.csv while 49 of its 50 steps had inf gradients
    args = ["train", "--data", "ring8", "--loss", "lsgan", "--optimizer", "rmsprop", "--lr-d", "1", "--lr-g", "1",
            "--steps", "50", "--log-every", "1000", "--quiet", "--out", str(tmp_path)]  # fmt: skip
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert "Training diverged: grad_d (in D's update) became inf at step 2." in err
    # the app's advice for this run (R0): its own learning rates; nothing about Adam, WGAN or clipping
    assert "lower the learning rates (lr_d=1, lr_g=1)" in err
    assert "beta1" not in err and "clipping" not in err
    with open(tmp_path / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["step"] for r in rows] == ["1", "2"]  # the first step, and the step that went wrong
    assert rows[1]["grad_d"] == "inf" and math.isfinite(float(rows[0]["grad_d"]))
    assert runs.load(tmp_path).manifest["status"] == "failed"


def test_the_last_step_is_logged(tmp_path):
    args = ["train", "--data", "ring8", "--steps", "25", "--log-every", "10", "--hidden", "16", "--quiet",
            "--out", str(tmp_path)]  # fmt: skip
    assert cli.main(args) == 0
    with open(tmp_path / "metrics.csv") as fh:
        assert [r["step"] for r in csv.DictReader(fh)] == ["1", "10", "20", "25"]


def test_train_sets_the_threads_once_and_leaves_other_threads_alone(tmp_path, monkeypatch):
    # a toy run trains on 1 thread; threads started meanwhile get the process's count (2 here); the
    # caller's count is back after main() returns
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen = []
    inner = GanTrainer._step

    def step(self, with_metrics):
        box = []
        t = threading.Thread(target=lambda: box.append(torch.get_num_threads()))
        t.start()
        t.join()
        seen.append((torch.get_num_threads(), box[0]))
        return inner(self, with_metrics)

    monkeypatch.setattr(GanTrainer, "_step", step)
    try:
        assert cli.main(["train", "--data", "ring8", "--steps", "3", "--hidden", "16", "--quiet",
                         "--out", str(tmp_path)]) == 0  # fmt: skip
        assert seen == [(1, 2)] * 3
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_bench_prints_both_rates_and_the_ratio(capsys):
    before = torch.get_num_threads()
    assert cli.main(["bench", "--steps", "30", "--data", "digits", "--device", "cpu", "--rounds", "2",
                     "--threads", "1"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "data: digits" in out
    assert out.count("steps/s") == 2
    assert "seed 001 loop" in out and "gan_demo Trainer" in out
    assert "ratio (Trainer / seed loop):" in out
    assert torch.get_num_threads() == before


def test_bench_toy_times_every_loss_in_rounds_and_prints_the_median(capsys):
    assert cli.main(["bench-toy", "--loss", "all", "--steps", "8", "--rounds", "2", "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "8 steps per loss in 2 interleaved rounds" in lines[0] and "networks 3x64" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == list(losses.NAMES)
    for line in lines[1:]:
        median, slowest, fastest = (float(v) for v in re.findall(r"([\d.]+) steps/s median round \(slowest ([\d.]+), "
                                                                 r"fastest ([\d.]+)\)", line)[0])  # fmt: skip
        assert 0 < slowest <= median <= fastest  # all rounded to whole steps/s: rounding keeps the order
    assert [line.endswith("5 D updates per step") for line in lines[1:]] == [False, False, True, True, False, False]


def test_bench_toy_refuses_more_rounds_than_steps(capsys):
    assert cli.main(["bench-toy", "--steps", "3", "--rounds", "4"]) == 2
    assert "--rounds must be at least 1 and at most --steps, got --rounds 4 --steps 3" in capsys.readouterr().err


def test_toybench_is_dispatched(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["toybench", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--toys" in out and "--seeds" in out


@pytest.mark.parametrize("where", ["file", "under-a-file"])
def test_an_out_folder_that_cannot_be_written_exits_2_naming_it(tmp_path, capsys, where):
    blocker = tmp_path / "f"
    blocker.write_text("x")  # a file where the folder should be, or in the folder's path
    out = blocker if where == "file" else blocker / "run"
    code = cli.main(["train", "--data", "ring8", "--steps", "1", "--quiet", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--out {out}: cannot write the run folder there" in err and "Traceback" not in err
