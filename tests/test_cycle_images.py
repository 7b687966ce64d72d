"""CycleGAN on images (issue 16): the digits-inverted pair (two disjoint halves, no pairs), label
preservation and the label table on hand-made translations, the cycle and identity terms on images,
the steganography probe on an exact inverse, a short seeded run whose cycle error falls, and the CLI's
files (a run folder that samples without the data set)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from sklearn.datasets import load_digits

from gan_demo import cli, data, domains, losses
from gan_demo.config import TrainConfig
from gan_demo.metrics import classifier
from gan_demo.runs import folder as runfolder
from gan_demo.train import CycleTrainer, make_trainer
from gan_demo.translator import ConvTranslator

PAIR = "digits-inverted"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # conftest: tiny networks, one intra-op thread


def image_config(**overrides) -> TrainConfig:
    return TrainConfig.for_loss(overrides.pop("loss", "non-saturating"), PAIR, objective="cyclegan", **overrides)


def _digits() -> tuple[torch.Tensor, np.ndarray]:
    d = load_digits()
    return torch.from_numpy((d.images.astype(np.float32) - 8.0) / 8.0).unsqueeze(1), d.target


def _index_of(images: torch.Tensor, reference: torch.Tensor) -> np.ndarray:
    """The row of ``reference`` each image equals (-1 if none): images as 64 numbers each."""
    ref = {tuple(r): i for i, r in enumerate(reference.flatten(1).numpy().tolist())}
    return np.array([ref.get(tuple(r), -1) for r in images.flatten(1).numpy().tolist()])


# ---------------------------------------------------------------- the domain pair
def test_x_and_y_come_from_two_disjoint_halves_and_y_is_the_inverted_other_half():
    pair = domains.get(PAIR)
    assert PAIR in domains.NAMES and pair.data == "digits"
    images, labels = _digits()
    h = pair.halves()
    assert (len(h["x"]), len(h["y"])) == (898, 899)
    ix = _index_of(h["x"], images)
    iy = _index_of(-h["y"], images)  # T⁻¹(y) = −y is an original digit
    assert (ix >= 0).all() and (iy >= 0).all()
    assert not set(ix) & set(iy) and len(set(ix) | set(iy)) == 1797 - _duplicates(images)
    assert (labels[ix] == h["x_labels"].numpy()).all() and (labels[iy] == h["y_labels"].numpy()).all()
    # stratified: every class has as many digits in each half, give or take one
    cx, cy = np.bincount(labels[ix], minlength=10), np.bincount(labels[iy], minlength=10)
    assert np.abs(cx - cy).max() <= 1
    # inverted: 1 − p on a [0, 1] scale is −x on [−1, 1]; Y's background (0 in the data) is +1
    assert float(h["y"].max()) == 1.0 and float(h["y"].mean()) == pytest.approx(-float(images[iy].mean()))
    # the fixed inputs: every digit once in each domain, labels in step
    f = pair.fixed()
    assert f["x"].shape == f["y"].shape == (1797, 1, 8, 8)
    assert (labels[_index_of(f["x"], images)] == f["x_labels"].numpy()).all()
    assert (labels[_index_of(-f["y"], images)] == f["y_labels"].numpy()).all()


def _duplicates(images: torch.Tensor) -> int:
    rows = images.flatten(1).numpy().tolist()
    return len(rows) - len({tuple(r) for r in rows})


def test_draws_of_x_and_y_come_from_their_own_half():
    pair = domains.get(PAIR)
    gen = torch.Generator().manual_seed(0)
    x, y = pair.sample_x(300, gen), pair.sample_y(300, gen)
    h = pair.halves()
    assert (_index_of(x, h["x"]) >= 0).all() and (_index_of(y, h["y"]) >= 0).all()
    assert (_index_of(x, -h["y"]) == -1).sum() >= 299  # (one digit image may occur in both halves)


# ---------------------------------------------------------------- label preservation
def test_label_table_on_hand_made_readings():
    t = domains.label_table(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 1, 1, 2]), k=4)
    assert t.tolist() == [[0.5, 0.5, 0, 0], [0, 1, 0, 0], [0, 2 / 3, 1 / 3, 0], [0, 0, 0, 0]]


def test_label_preservation_of_the_exact_map_the_identity_and_a_constant():
    pair = domains.get(PAIR)
    f = pair.fixed()
    x, lx, y, ly = f["x"], f["x_labels"], f["y"], f["y_labels"]
    clf = classifier.load("digits")
    with torch.no_grad():
        own = (clf.model(x).argmax(1) == lx).float().mean().item()  # the classifier's reading of x itself
    # G = T exactly (G(x) = −x) and F = T⁻¹: preservation is the classifier's own accuracy on x, measured
    # (the fixed y are T of the same 1,797 digits, so the F direction reads the same images)
    exact = domains.image_readout(pair, x, lx, -x, x, y, ly, -y, y)
    assert exact.label_kept == pytest.approx(own) and exact.label_kept_f == pytest.approx(own)
    assert own == pytest.approx(domains.classifier_ceiling(pair)) and 0.99 < own < 1.0
    assert (exact.cycle_err_x, exact.cycle_err_y, exact.dist_t) == (0.0, 0.0, 0.0)
    assert exact.y_classes == 10 and np.allclose(np.diag(exact.table).mean(), own, atol=0.01)
    # G = identity: Y's classifier reads −x, a digit it was never shown white on black
    with torch.no_grad():
        read_inverted = (clf.model(-x).argmax(1) == lx).float().mean().item()
    ident = domains.image_readout(pair, x, lx, x, x, y, ly, y, y)
    assert ident.label_kept == pytest.approx(read_inverted) and ident.label_kept < 0.2
    assert ident.dist_t == pytest.approx(float((2 * x).abs().mean()))  # |x − (−x)| = 2|x|
    # G sends every x to one inverted 3: preserved exactly for the 3s, one column of the table
    three = -x[(lx == 3).nonzero()[0, 0]]
    const = domains.image_readout(pair, x, lx, three.expand_as(x), x, y, ly, y, y)
    assert const.label_kept == pytest.approx(float((lx == 3).float().mean()))  # 183 / 1797 = 0.1018
    assert const.y_classes == 1 and const.table[:, 3].tolist() == [1.0] * 10


def test_the_heldout_accuracy_is_the_index_entry():
    entry = classifier.read_index()["classifiers"]["digits"]
    assert domains.heldout_accuracy(domains.get(PAIR)) == entry["heldout_accuracy"] == 0.98444


# ---------------------------------------------------------------- the losses on images
def _constant(critic: torch.nn.Module, logit: float) -> None:
    last = critic.net[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(logit)


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_image_terms_use_the_right_discriminator_and_per_image_l1(model):
    """D_X logit 2, D_Y logit −1 everywhere: G's term softplus(1), F's softplus(−2); the cycle and
    identity terms are the L1 norm of each image (64 pixels), averaged over the batch."""
    t = CycleTrainer(image_config(seed=0, batch_size=8, model=model, lambda_cyc=2.0, lambda_id=0.5))
    assert t.images and t.G(t.fixed_x[:3]).shape == (3, 1, 8, 8)
    _constant(t.D_X, 2.0)
    _constant(t.D_Y, -1.0)
    gen = torch.Generator().manual_seed(1)
    x, y = t.pair.sample_x(8, gen), t.pair.sample_y(8, gen)
    with torch.no_grad():
        g = t.g_losses(x, y, t.F(y), t.G(x))
        cyc_x = (t.F(t.G(x)) - x).abs().sum((1, 2, 3)).mean().item()
        cyc_y = (t.G(t.F(y)) - y).abs().sum((1, 2, 3)).mean().item()
        ident = ((t.G(y) - y).abs().sum((1, 2, 3)).mean() + (t.F(x) - x).abs().sum((1, 2, 3)).mean()).item()
    assert g["loss_gan_g"].item() == pytest.approx(math.log1p(math.exp(1.0)), abs=1e-6)
    assert g["loss_gan_f"].item() == pytest.approx(math.log1p(math.exp(-2.0)), abs=1e-6)
    assert (g["loss_cyc_x"].item(), g["loss_cyc_y"].item(), g["loss_id"].item()) == pytest.approx((cyc_x, cyc_y, ident))
    total = math.log1p(math.e) + math.log1p(math.exp(-2.0)) + 2.0 * (cyc_x + cyc_y) + 0.5 * ident
    assert g["loss_g"].item() == pytest.approx(total, rel=1e-6)


def test_every_loss_variant_trains_on_images():
    for name in losses.NAMES:
        t = make_trainer(image_config(loss=name, seed=0, steps=3, lambda_id=1.0))
        rows = [t.step() for _ in range(3)]
        assert all(math.isfinite(v) for v in rows[-1].values()), (name, rows[-1])
        assert {"label_kept", "label_kept_f", "y_classes", "loss_id"} <= set(rows[-1])
        assert ("gp" in rows[-1]) == (t.config.gp_weight > 0) and "t_match" not in rows[-1]


# ---------------------------------------------------------------- the steganography probe
class _Negate(torch.nn.Module):
    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return -v


def test_the_probe_on_exact_inverses_passes_the_noise_through_unchanged():
    """G = T and F = T⁻¹ (both −v): F(G(x)) = x exactly, and F(G(x) + n) − x = −n, so the error with
    noise is E|n| = σ·sqrt(2/π) per pixel: nothing hidden, nothing amplified."""
    t = CycleTrainer(image_config(seed=0))
    t.G, t.F = _Negate(), _Negate()
    p = t.stego_probe(0.1, seed=3)
    assert p["err"] == 0.0 and p["err_noisy"] == pytest.approx(p["noise"], rel=1e-5)
    assert p["noise"] == pytest.approx(0.1 * math.sqrt(2 / math.pi), rel=0.01)
    assert torch.equal(p["gx_noisy"] - p["gx"], -(p["fgx_noisy"] - p["fgx"]))
    again = t.stego_probe(0.1, seed=3)
    assert torch.equal(again["fgx_noisy"], p["fgx_noisy"])  # its own seed: the same noise each time


def test_the_probe_sees_an_f_that_reads_hidden_detail():
    """A hand-made steganographic pair: G(x) = 1e-3·x, a blank grey image with x hidden in faint detail,
    and F reads it back ×1000. The cycle closes exactly, but noise of σ = 0.02 (a sixth of a grey level)
    is amplified 1000-fold."""
    t = CycleTrainer(image_config(seed=0))

    class Hide(torch.nn.Module):
        def forward(self, v):
            return 1e-3 * v

    class Read(torch.nn.Module):
        def forward(self, v):
            return 1e3 * v

    t.G, t.F = Hide(), Read()
    p = t.stego_probe(0.02, seed=0)
    assert p["err"] == pytest.approx(0.0, abs=1e-5)
    assert p["err_noisy"] == pytest.approx(1e3 * p["noise"], rel=1e-3)


# ---------------------------------------------------------------- training and the snapshot
def test_a_short_seeded_image_run_closes_the_cycle():
    t = make_trainer(image_config(seed=0, steps=200, lambda_cyc=10.0))
    assert isinstance(t, CycleTrainer) and t.config.model == "dcgan" and t.threads == 1
    rows = [r for i in range(200) if (r := t.step(with_metrics=i in (0, 199))) is not None]
    first, last = rows[0], rows[-1]
    assert first["cycle_err"] > 0.5  # untrained: F(G(x)) near 0, x mostly at −1
    assert last["cycle_err"] < 0.5 * first["cycle_err"] and last["cycle_err_y"] < 0.5 * first["cycle_err_y"]


def test_the_snapshot_holds_the_batches_the_readouts_and_the_probe():
    from gan_demo import cyclelab

    t = make_trainer(image_config(seed=0, steps=5))
    e = cyclelab.snapshot(t)
    assert e["x"].shape == e["gx"].shape == e["fgx"].shape == (20, 1, 8, 8)
    assert e["y"].shape == e["fy"].shape == e["gfy"].shape == (20, 1, 8, 8)
    # the batch: two of each digit, the first of 0..9 then the second, all from X's training half
    assert t.fixed_x_labels[t.grid_x].tolist() == list(range(10)) * 2 and int(t.grid_x.max()) < 898
    assert t.fixed_y_labels[t.grid_y].tolist() == list(range(10)) * 2 and int(t.grid_y.max()) < 899
    r = t.readout()
    assert (e["label_kept"], e["cycle_err"], e["table"].shape) == (r.label_kept, r.cycle_err_x, (10, 10))
    assert [s["std"] for s in e["stego"]] == list(cyclelab.STEGO_STDS)
    assert t.fixed_samples().shape == (20, 1, 8, 8)  # a live snapshot keeps G of the batch only
    png = cyclelab.grid(e["x"])
    assert png.dtype == np.uint8 and png.shape[1] >= 200


# ---------------------------------------------------------------- the command line
def test_cli_writes_inputs_samples_labels_and_the_folder_samples_without_data(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code = cli.main(["train", "--objective", "cyclegan", "--data", PAIR, "--seed", "0", "--out", str(out),
                     "--steps", "20", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["objective"], cfg["data"], cfg["model"], cfg["hidden"]) == ("cyclegan", PAIR, "dcgan", 16)
    inputs, samples, labels = (np.load(out / f) for f in ("inputs.npy", "samples.npy", "labels.npy"))
    assert inputs.shape == samples.shape == (1797, 1, 8, 8) and inputs.dtype == samples.dtype == np.float32
    assert labels.shape == (1797,) and labels.dtype == np.int64
    images, target = _digits()
    assert (target[_index_of(torch.from_numpy(inputs), images)] == labels).all()  # the class of each input
    tensors = load_file(str(out / "weights.safetensors"))
    G = ConvTranslator((1, 8, 8), 16)
    G.load_state_dict({k[2:]: v for k, v in tensors.items() if k.startswith("G.")})
    with torch.no_grad():
        assert np.allclose(G(torch.from_numpy(inputs)).numpy(), samples, atol=1e-6)
    header = (out / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"label_kept", "label_kept_f", "y_classes", "cycle_err", "dist_t"} <= set(header)
    assert "Label preservation:" in capsys.readouterr().out

    def no_data(*_a, **_k):
        raise AssertionError("the data set was read")

    monkeypatch.setattr(domains, "_halves", no_data)
    monkeypatch.setattr(data, "load_images", no_data)
    monkeypatch.setattr(data, "load_labelled", no_data)
    run = runfolder.load(out)
    assert np.allclose(run.sample(), samples, atol=1e-6)
    fresh = run.sample(7, seed=1)
    assert fresh.shape == (7, 1, 8, 8) and np.isfinite(fresh).all()
    assert "table" in run.snapshots[-1].extras  # the page's extras: the run replays on the CycleGAN page


def test_a_run_folder_with_the_wrong_fixed_inputs_is_refused(tmp_path):
    t = make_trainer(image_config(seed=0, steps=1))
    t.step()
    t.fixed_noise = torch.zeros(5, 2)  # a 2-D pair's inputs in an image run
    runfolder.save_trainer(tmp_path / "bad", t, {n: [] for n in t.metric_names}, [], status="done")
    with pytest.raises(runfolder.RunFormatError, match=r"fixed_noise should be float32 \(n, 1, 8, 8\), got \(5, 2\)"):
        runfolder.load(tmp_path / "bad")


def test_theory_section_9_names_the_image_pair_and_the_steganography_source():
    from gan_demo import theory

    section = next(s for s in theory.SECTIONS if s.title.startswith("9. CycleGAN"))
    assert "T(x) = −x" in section.text and "T⁻¹(y) = −y" in section.text
    assert "Chu, Zhmoginov & Sandler (2017" in section.text and "F damps it" in section.text


def test_conv_translators_are_for_image_pairs_only_and_the_image_defaults():
    from gan_demo.config import ConfigError, defaults_for

    assert image_config(model="dcgan").model == "dcgan" and image_config(model="mlp").model == "mlp"
    with pytest.raises(ConfigError, match="cyclegan's 2-D translators are MLPs: use 'mlp'"):
        TrainConfig.for_loss("non-saturating", "ring8-stretched", objective="cyclegan", model="dcgan")
    d = defaults_for("non-saturating", PAIR)
    assert (d["model"], d["hidden"], d["batch_size"], d["lambda_cyc"]) == ("dcgan", 16, 64, 0.3)
    assert image_config().lambda_cyc == 0.3  # a bare --data run is the healthy weight
    assert TrainConfig.for_loss("non-saturating", "ring8-stretched", objective="cyclegan").lambda_cyc == 10.0  # the 2-D pair keeps the paper's
    with pytest.raises(ValueError, match="unknown domain pair 'horses'; choose one of: ring8-stretched, digits-inverted"):
        domains.get("horses")
