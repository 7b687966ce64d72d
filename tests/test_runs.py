"""The run folder (gan_demo.runs.folder): round trip, bit-identical resume, G without data, validation."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import save as st_save

from gan_demo import cli, data, runs
from gan_demo.config import TrainConfig
from gan_demo.runs import folder, live, loop
from gan_demo.train import GanTrainer


def _train(cfg: TrainConfig, until: int | None = None) -> tuple[GanTrainer, loop.Record]:
    trainer = GanTrainer(cfg)
    return trainer, loop.train(trainer, loop.Record.empty(trainer), until)


def _equal_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- round trip
def test_round_trip_keeps_metrics_snapshots_and_samples_exactly(tmp_path):
    cfg = TrainConfig.for_loss("non-saturating", "digits", steps=60, hidden=32, log_every=7, snapshot_every=25,
                               device="cpu")  # fmt: skip
    trainer, record = _train(cfg)
    folder.save_trainer(tmp_path / "run", trainer, record.metrics, record.snapshots)
    back = runs.load(tmp_path / "run")
    assert back.config == cfg and back.step == 60 and back.manifest["status"] == "done"
    assert back.metrics == record.metrics  # floats read back bit for bit (repr), rows 1, 7, ..., 56, 60
    assert back.metrics["step"] == [1, 7, 14, 21, 28, 35, 42, 49, 56, 60]
    assert [s.step for s in back.snapshots] == [0, 25, 50, 60]
    for a, b in zip(record.snapshots, back.snapshots, strict=True):
        assert np.array_equal(a.samples, b.samples) and a.samples.dtype == b.samples.dtype
        assert json.dumps(a.extras, sort_keys=True) == json.dumps(b.extras, sort_keys=True)  # quality report
    assert back.snapshots[-1].extras["quality"]["n"] == 64
    assert np.array_equal(back.sample(), trainer.fixed_samples().numpy())  # G rebuilt from the files
    assert _equal_weights(back.weights, trainer.state_tensors())


def test_toy_extras_with_arrays_come_back(tmp_path):
    cfg = TrainConfig.for_loss("non-saturating", "ring8", steps=20, hidden=16, snapshot_every=10, device="cpu")
    trainer, record = _train(cfg)
    folder.save_trainer(tmp_path, trainer, record.metrics, record.snapshots)
    last = runs.load(tmp_path).snapshots[-1]
    assert last.extras["hz"].shape == (80, 80) and last.extras["hz"].dtype == np.float32
    assert np.array_equal(last.extras["hz"], record.snapshots[-1].extras["hz"])
    assert last.extras["n_modes"] == 8 and last.extras["counts"] == list(record.snapshots[-1].extras["counts"])


# ---------------------------------------------------------------- resume
RESUME_CASES = [  # k = 77: mid-block (draws come 32 steps at a time), so the rows left must be restored
    TrainConfig.for_loss("non-saturating", "ring8", steps=160, hidden=32, pack=2, lr_decay=True,
                         instance_noise=0.1, device="cpu"),
    TrainConfig.for_loss("wgan-gp", "mix2", steps=120, hidden=32, device="cpu"),
    TrainConfig.for_loss("wgan", "digits", model="mlp", hidden=32, steps=120, device="cpu"),  # RMSprop, clipping
    TrainConfig.for_loss("hinge", "digits", model="dcgan", hidden=32, steps=100, lr_decay=True,
                         instance_noise=0.1, device="cpu"),
]  # fmt: skip


@pytest.mark.parametrize("cfg", RESUME_CASES, ids=lambda c: f"{c.loss}-{c.data}-{c.model}")
def test_resume_from_step_k_is_bit_identical_to_one_run(tmp_path, cfg):
    straight, full = _train(cfg)
    first, part = _train(cfg, until=77)
    folder.save_trainer(tmp_path, first, part.metrics, part.snapshots, status="stopped")
    saved = runs.load(tmp_path)
    assert saved.step == 77 and saved.manifest["contents"]["resumable"]
    resumed = folder.resume(saved, device="cpu")
    assert resumed.step_count == 77
    record = loop.Record({k: list(v) for k, v in saved.metrics.items()}, list(saved.snapshots), cfg.snapshot_every)
    loop.train(resumed, record)
    assert _equal_weights(resumed.state_tensors(), straight.state_tensors())  # G, D, fixed noise
    for name in ("opt_g", "opt_d"):
        a, b = getattr(resumed, name).state_dict()["state"], getattr(straight, name).state_dict()["state"]
        assert all(torch.equal(a[i][k], b[i][k]) for i in a for k in a[i])
    assert record.metrics == full.metrics  # every logged row, bit for bit


def test_resume_without_the_rest_of_the_state_differs(tmp_path):
    # the control: weights alone (what the old checkpoint kept) do not continue the same run
    cfg = RESUME_CASES[0]
    straight, _ = _train(cfg)
    first, part = _train(cfg, until=77)
    again = GanTrainer(cfg)
    again.load_state_tensors(first.state_tensors())
    again.step_count = 77
    loop.train(again, loop.Record.empty(again))
    assert not _equal_weights(again.state_tensors(), straight.state_tensors())


def test_cli_stop_at_then_resume_writes_the_same_files(tmp_path):
    args = ["train", "--data", "ring8", "--steps", "150", "--hidden", "16", "--device", "cpu", "--quiet"]
    assert cli.main([*args, "--out", str(tmp_path / "once")]) == 0
    assert cli.main([*args, "--stop-at", "61", "--out", str(tmp_path / "twice")]) == 0
    assert runs.load(tmp_path / "twice").manifest["status"] == "stopped"
    assert cli.main(["train", "--resume", str(tmp_path / "twice"), "--quiet"]) == 0
    for name in ("metrics.csv", "weights.safetensors", "config.json"):
        assert (tmp_path / "once" / name).read_bytes() == (tmp_path / "twice" / name).read_bytes(), name
    assert runs.load(tmp_path / "twice").manifest["status"] == "done"


def test_cli_resume_refuses_other_settings(tmp_path, capsys):
    assert cli.main(["train", "--data", "ring8", "--steps", "20", "--hidden", "16", "--quiet",
                     "--out", str(tmp_path)]) == 0  # fmt: skip
    assert cli.main(["train", "--resume", str(tmp_path), "--lr-d", "0.1"]) == 2
    assert "only --steps and --device" in capsys.readouterr().err
    assert cli.main(["train", "--resume", str(tmp_path), "--steps", "10"]) == 2
    assert "at step 20; --steps 10 must be at least that" in capsys.readouterr().err


def test_cli_preset_trains_its_config(tmp_path):
    assert cli.main(["train", "--preset", "mode-collapse", "--steps", "30", "--quiet", "--out", str(tmp_path)]) == 0
    saved = runs.load(tmp_path)
    assert saved.manifest["preset"] == "mode-collapse" and saved.config.data == "ring8" and saved.step == 30


# ---------------------------------------------------------------- G without the data set
def test_loading_and_sampling_g_needs_no_data_set(tmp_path, monkeypatch):
    cfg = TrainConfig.for_loss("non-saturating", "digits", model="dcgan", hidden=32, steps=5, device="cpu")
    trainer, record = _train(cfg)
    folder.save_trainer(tmp_path, trainer, record.metrics, record.snapshots)
    expected = trainer.fixed_samples().numpy()

    def no_data(*args, **kwargs):
        raise data.DataUnavailable("the data set is not here (test)")

    monkeypatch.setattr(data, "load_images", no_data)
    monkeypatch.setattr(data, "_load_cached", no_data)
    with pytest.raises(data.DataUnavailable):  # the loader really fails now
        GanTrainer(cfg)
    saved = runs.load(tmp_path)
    assert np.array_equal(saved.sample(), expected)  # BatchNorm's running stats came back too
    assert saved.sample(10, seed=3).shape == (10, 1, 8, 8)
    assert cli.main(["sample", "--run", str(tmp_path), "--n", "12", "--out", str(tmp_path / "s.npy")]) == 0
    assert np.load(tmp_path / "s.npy").shape == (12, 1, 8, 8)


# ---------------------------------------------------------------- the app's runs
def test_an_app_run_saves_in_the_same_format(tmp_path):
    cfg = TrainConfig.for_loss("non-saturating", "ring8", steps=40, hidden=16, device="cpu")
    run = live.Run(cfg)
    run.start()
    run.join(60)
    view = run.view()
    back = folder.from_files(run.files(name="app run"), "download")
    assert back.metrics == view.metrics and back.step == 40 and back.name == "app run"
    assert [s.step for s in back.snapshots] == [s.step for s in view.snapshots]
    cli_run, record = _train(cfg)  # the CLI's loop: the same rows as the app's worker
    assert record.metrics == view.metrics


def test_a_running_run_cannot_be_saved():
    run = live.Run(TrainConfig.for_loss("non-saturating", "ring8", steps=10, device="cpu"))
    with pytest.raises(RuntimeError, match="paused or once it has finished"):
        run.files()


# ---------------------------------------------------------------- validation
@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("good")
    cfg = TrainConfig.for_loss("non-saturating", "ring8", steps=20, hidden=16, device="cpu")
    trainer, record = _train(cfg)
    folder.save_trainer(path, trainer, record.metrics, record.snapshots)
    return path


def _rewrite(path, name: str, blob: bytes) -> None:
    """Replace one file and fix the manifest's size and sha256, so the check under test is reached."""
    (path / name).write_bytes(blob)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"][name] = {"size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    (path / "manifest.json").write_text(json.dumps(manifest))


def _copy(saved_run, tmp_path):
    shutil.copytree(saved_run, tmp_path / "run")
    return tmp_path / "run"


def test_unknown_format_version_is_named(saved_run, tmp_path):
    path = _copy(saved_run, tmp_path)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format_version"] = 7
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(runs.RunFormatError, match="run format version 7; this gan_demo .* reads version 1"):
        runs.load(path)


def test_a_truncated_or_changed_file_is_named(saved_run, tmp_path):
    path = _copy(saved_run, tmp_path)
    blob = (path / "weights.safetensors").read_bytes()
    (path / "weights.safetensors").write_bytes(blob[:-100])
    with pytest.raises(runs.RunFormatError, match=f"weights.safetensors has {len(blob) - 100:,} bytes"):
        runs.load(path)
    (path / "weights.safetensors").write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(runs.RunFormatError, match="weights.safetensors's sha256 differs"):
        runs.load(path)


def test_weights_of_the_wrong_shape_are_named(saved_run, tmp_path):
    path = _copy(saved_run, tmp_path)
    weights = runs.load(path).weights
    weights["G.net.0.weight"] = torch.zeros(3, 3)
    _rewrite(path, "weights.safetensors", st_save(weights, metadata={"format": folder.FORMAT}))
    with pytest.raises(runs.RunFormatError, match=r"G.net.0.weight is torch.float32 \(3, 3\), the config's network "
                                                  r"needs torch.float32 \(16, 8\)"):  # fmt: skip
        runs.load(path)


def test_a_bad_config_and_a_bad_metrics_file_are_named(saved_run, tmp_path):
    path = _copy(saved_run, tmp_path)
    config = json.loads((path / "config.json").read_text())
    _rewrite(path, "config.json", json.dumps({**config, "lr_d": -1}).encode())
    with pytest.raises(runs.RunFormatError, match="config.json holds an invalid config .*lr_d"):
        runs.load(path)
    path = _copy(saved_run, tmp_path / "b")
    text = (path / "metrics.csv").read_text().replace("loss_d,", "loss_x,", 1)
    _rewrite(path, "metrics.csv", text.encode())
    with pytest.raises(runs.RunFormatError, match="metrics.csv's header"):
        runs.load(path)


def test_a_pickled_snapshot_file_is_refused(saved_run, tmp_path):
    path = _copy(saved_run, tmp_path)
    import io

    buf = io.BytesIO()
    np.savez(buf, **{"0.samples": np.array([{"x": 1}], dtype=object)})
    _rewrite(path, "snapshots.npz", buf.getvalue())
    with pytest.raises(runs.RunFormatError, match="snapshots.npz cannot be read without pickles"):
        runs.load(path)
