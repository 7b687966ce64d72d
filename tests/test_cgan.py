"""The conditional GAN (issue 15): its losses on hand-computed values, the projection D's formula on a
hand-made case, the per-class grid's layout, label accuracy rising in a short seeded run, the CLI's
labels.npy, the page and its presets (AppTest), and each preset's claims on its seeded run.

``python tests/test_cgan.py`` prints each preset's measured claims (docs/cgan.md)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan_demo import (
    cgan_diagnosis,
    cgan_views,
    conditional,
    losses,
    plots,
    presets,
    ui,
)
from gan_demo.config import ConfigError, TrainConfig
from gan_demo.metrics import conditional as cmetrics
from gan_demo.train import CganTrainer, GanTrainer, make_trainer

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")


def sp(x: float) -> float:
    """softplus by hand: log(1 + e^x)."""
    return math.log1p(math.exp(x))


# ---------------------------------------------------------------- losses
REAL, FAKE, WRONG = [1.0, -2.0], [0.5, 3.0], [-1.0, 2.0]
# by hand, per family: (real term, fake term, wrong term) for the logits above
HAND = {
    "bce": ((sp(-1.0) + sp(2.0)) / 2, (sp(0.5) + sp(3.0)) / 2, (sp(-1.0) + sp(2.0)) / 2),  # 1.2201, 2.0113, 1.2201
    "wgan": (-(1.0 - 2.0) / 2, (0.5 + 3.0) / 2, (-1.0 + 2.0) / 2),  # 0.5, 1.75, 0.5
    "hinge": ((0.0 + 3.0) / 2, (1.5 + 4.0) / 2, (0.0 + 3.0) / 2),  # relu(1 - l_r), relu(1 + l)
    "lsgan": (0.5 * (0.0 + 9.0) / 2, 0.5 * (0.25 + 9.0) / 2, 0.5 * (1.0 + 4.0) / 2),  # 2.25, 2.3125, 1.25
}


@pytest.mark.parametrize("name", losses.NAMES)
def test_conditional_d_terms_equal_hand_computed_values(name):
    spec = losses.get(name)
    r, f, w = losses.conditional_d_terms(spec.d_terms, torch.tensor(REAL), torch.tensor(FAKE), torch.tensor(WRONG))
    assert (r.item(), f.item(), w.item()) == pytest.approx(HAND[spec.family], abs=1e-6)
    r2, f2, off = losses.conditional_d_terms(spec.d_terms, torch.tensor(REAL), torch.tensor(FAKE), None)
    assert off is None and (r2.item(), f2.item()) == pytest.approx(HAND[spec.family][:2], abs=1e-6)
    assert HAND["bce"] == pytest.approx((1.22009, 2.01133, 1.22009), abs=1e-5)


# the wrong term as the form's formula writes it (losses.WRONG_TERM), evaluated on WRONG by hand
BY_FORMULA = {
    "bce": ("-\\lambda\\,\\mathbb{E}_{x,\\hat y}[\\log(1-D(x,\\hat y))]",
            lambda w: -np.mean(np.log(1 - 1 / (1 + np.exp(-np.array(w)))))),
    "wgan": ("+\\lambda\\,\\mathbb{E}_{x,\\hat y}[D(x,\\hat y)]", lambda w: np.mean(w)),
    "hinge": ("+\\lambda\\,\\mathbb{E}_{x,\\hat y}[\\max(0, 1+D(x,\\hat y))]", lambda w: np.mean(np.maximum(0, 1 + np.array(w)))),
    "lsgan": ("+\\lambda\\,\\tfrac12\\mathbb{E}_{x,\\hat y}[D(x,\\hat y)^2]", lambda w: 0.5 * np.mean(np.square(w))),
}


@pytest.mark.parametrize("family", sorted(BY_FORMULA))
def test_the_forms_wrong_term_formula_is_what_the_code_computes(family):
    text, by_hand = BY_FORMULA[family]
    assert losses.WRONG_TERM[family] == text
    assert by_hand(WRONG) == pytest.approx(HAND[family][2], abs=1e-6)
    name = next(n for n in losses.NAMES if losses.get(n).family == family)
    assert losses.conditional_note(name).endswith(text.lstrip("+"))


def test_the_trainers_l_d_is_real_plus_fake_plus_lambda_wrong():
    """The logged L_D of a step equals its three logged terms, weighted 1, 1, λ (λ = 0.5 here)."""
    cfg = TrainConfig(objective="cgan", mismatch_weight=0.5, steps=5, batch_size=16, hidden=16, z_dim=4)
    t = make_trainer(cfg)
    assert isinstance(t, CganTrainer)
    row = t.step()
    assert row["loss_d"] == pytest.approx(row["loss_d_real"] + row["loss_d_fake"] + 0.5 * row["loss_d_wrong"], rel=1e-5)
    assert row["loss_d_wrong"] > 0.1 and 0 < row["d_wrong"] < 1
    off = make_trainer(TrainConfig(objective="cgan", mismatch_weight=0.0, steps=5, batch_size=16, hidden=16)).step()
    assert "loss_d_wrong" not in off and off["loss_d"] == pytest.approx(off["loss_d_real"] + off["loss_d_fake"], rel=1e-5)


def test_wrong_labels_are_never_the_true_label_and_cover_every_other_class():
    t = make_trainer(TrainConfig(objective="cgan", steps=1, hidden=16))
    y = torch.arange(10).repeat_interleave(9)
    offset = torch.arange(1, 10).repeat(10)  # every offset 1..9 for every class
    w = t.wrong_labels(y, offset)
    assert not (w == y).any()
    for k in range(10):
        assert sorted(w[y == k].tolist()) == [c for c in range(10) if c != k]


# ---------------------------------------------------------------- networks
def test_projection_d_equals_its_formula_on_a_hand_made_case():
    """D(x, y) = ψ(φ(x)) + e_yᵀφ(x) with φ = ReLU(I·x), ψ(h) = h₁ − h₂ + 0.5, e_0 = (2, 0), e_1 = (0, 3)."""
    D = conditional.CondMLPDiscriminator((1, 1, 2), n_classes=2, condition="projection", hidden=2, depth=1)
    with torch.no_grad():
        D.phi[0].weight.copy_(torch.eye(2))
        D.phi[0].bias.zero_()
        D.psi.weight.copy_(torch.tensor([[1.0, -1.0]]))
        D.psi.bias.fill_(0.5)
        D.embed.weight.copy_(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    x = torch.tensor([[1.0, 2.0], [1.0, 2.0], [-1.0, 2.0]]).view(3, 1, 1, 2)
    y = torch.tensor([1, 0, 0])
    # φ = (1, 2): ψ = 1 − 2 + 0.5 = −0.5; y=1: + 3·2 = 5.5; y=0: + 2·1 = 1.5. φ = (0, 2): ψ = −1.5, e_0ᵀφ = 0
    assert D(x, y).tolist() == pytest.approx([5.5, 1.5, -1.5])


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
@pytest.mark.parametrize("condition", conditional.CONDITIONS)
def test_every_conditional_pair_has_the_right_shapes_and_d_uses_the_label_unless_none(model, condition):
    torch.manual_seed(0)
    G, D = conditional.build(model, (1, 8, 8), 8, 32, 10, condition, 4)
    z, y = torch.randn(6, 8), torch.tensor([0, 1, 2, 3, 4, 5])
    x = G(z, y)
    assert x.shape == (6, 1, 8, 8) and x.abs().max() <= 1
    out, other = D(x, y), D(x, (y + 1) % 10)
    assert out.shape == (6,)
    assert torch.equal(out, other) == (condition == "none")
    assert not any(isinstance(m, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d) for m in D.modules())


def test_interpolation_starts_and_ends_at_the_two_classes():
    torch.manual_seed(0)
    G, _ = conditional.build("mlp", (1, 8, 8), 8, 32, 10, "projection", 4)
    z = torch.randn(8)
    frames = conditional.interpolate(G, z, 1, 7, 5)
    G.eval()
    assert frames.shape == (5, 1, 8, 8)
    assert torch.allclose(frames[0], G(z[None], torch.tensor([1]))[0], atol=1e-6)
    assert torch.allclose(frames[-1], G(z[None], torch.tensor([7]))[0], atol=1e-6)
    mid = G(z[None], label_vec=0.5 * (G.embed.weight[1] + G.embed.weight[7])[None])[0]
    assert torch.allclose(frames[2], mid, atol=1e-6)
    gif = cgan_views.gif_bytes(cgan_views.to_uint8(frames)[:, 0])
    import io

    from PIL import Image

    img = Image.open(io.BytesIO(gif))
    assert gif[:6] == b"GIF89a" and img.n_frames == 8 and img.size == (64, 64)  # 5 forward, 3 back; 8x8 x 8


# ---------------------------------------------------------------- the grid
def test_the_per_class_grid_is_laid_out_row_equals_class():
    t = make_trainer(TrainConfig(objective="cgan", steps=1, hidden=16, z_dim=4))
    grid = t.fixed_samples()
    cols = len(t.fixed_noise)
    assert grid.shape == (10 * cols, 1, 8, 8)
    labels = t.grid_labels()
    assert labels.tolist() == cgan_views.class_grid_order(10, cols).tolist() == [k for k in range(10) for _ in range(cols)]
    for k in (0, 3, 9):
        for j in (0, cols - 1):  # row k, column j: G(z_j, k)
            one = t.sample(noise=t.fixed_noise[j : j + 1], labels=torch.tensor([k]))
            assert torch.allclose(grid[k * cols + j], one[0], atol=1e-6)
    # plots.image_grid with nrow = cols puts image k·cols + j at row k, column j (8x8 images, padding 2)
    marked = torch.full((10 * cols, 1, 8, 8), -1.0)
    marked[3 * cols + 5] = 1.0
    pic = plots.image_grid(marked.numpy(), nrow=cols, min_width=1)
    ys, xs = np.nonzero(pic[..., 0] == 255)
    inside = (ys % 10 >= 2) & (xs % 10 >= 2)  # not the white padding between cells
    assert set(ys[inside] // 10) == {3} and set(xs[inside] // 10) == {5}


# ---------------------------------------------------------------- a short seeded run
def test_a_short_seeded_run_draws_the_labels_far_above_chance():
    """300 steps of the healthy preset's settings: label accuracy from about chance to far above it."""
    cfg = presets.get("cgan-healthy").config()
    cfg = TrainConfig.from_dict({**cfg.to_dict(), "steps": 300})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t = make_trainer(cfg)
        before = cmetrics.snapshot_extras(t)["cgan"]
        for _ in range(cfg.steps):
            t.step(with_metrics=False)
        after = cmetrics.snapshot_extras(t)["cgan"]
    finally:
        torch.set_num_threads(threads)
    assert before["accuracy_mean"] < 0.25  # an untrained G: near chance (10 %)
    assert after["accuracy_mean"] > 0.6, after["accuracy"]
    assert after["n"] == 500 and after["classifier_accuracy"] == pytest.approx(0.98444)


def test_label_accuracy_counts_per_class():
    probs = np.eye(3)[[0, 0, 1, 2, 2, 2]]  # predicted classes 0 0 1 2 2 2
    labels = np.array([0, 1, 1, 2, 2, 0])
    assert cmetrics.label_accuracy(probs, labels, 4).tolist()[:3] == [0.5, 0.5, 1.0]
    assert math.isnan(cmetrics.label_accuracy(probs, labels, 4)[3])


# ---------------------------------------------------------------- config and CLI
def test_objective_and_cgan_fields_are_validated_with_their_allowed_values():
    with pytest.raises(ConfigError, match="objective: 'cycle' is not allowed; choose one of: gan, cgan, cyclegan"):
        TrainConfig(objective="cycle")
    with pytest.raises(ConfigError, match="data: the conditional GAN needs labelled images; choose one of: digits"):
        TrainConfig(objective="cgan", data="ring8-stretched")  # CycleGAN's domain pair has no labels either
    with pytest.raises(ConfigError, match="data: the conditional GAN needs labelled images; choose one of: digits"):
        TrainConfig.for_loss("non-saturating", "ring8", objective="cgan")
    with pytest.raises(ConfigError, match="pack: the conditional GAN's D judges one"):
        TrainConfig(objective="cgan", pack=2)
    with pytest.raises(ConfigError, match=r"mismatch_weight: must be in \[0, 10\], got -1"):
        TrainConfig(objective="cgan", mismatch_weight=-1.0)
    with pytest.raises(ConfigError, match="condition: 'proj' is not allowed; choose one of: projection, concat"):
        TrainConfig(objective="cgan", condition="proj")
    assert TrainConfig().objective == "gan" and isinstance(make_trainer(TrainConfig(steps=1, hidden=8)), GanTrainer)
    assert TrainConfig(pack=2, objective="gan").pack == 2  # the GAN's own rules are unchanged


def test_cli_writes_labels_matching_the_samples(tmp_path, capsys):
    from gan_demo import cli
    from gan_demo.runs import folder as runfolder

    out = tmp_path / "run"
    code = cli.main(["train", "--objective", "cgan", "--data", "digits", "--seed", "0", "--out", str(out),
                     "--steps", "20", "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    samples, labels = np.load(out / "samples.npy"), np.load(out / "labels.npy")
    assert samples.shape == (2500, 1, 8, 8) and samples.dtype == np.float32 and np.abs(samples).max() <= 1
    assert labels.shape == (2500,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [250] * 10
    assert {"config.json", "metrics.csv", "weights.safetensors", "manifest.json"} <= {p.name for p in out.iterdir()}
    # the run folder loads, without the data set, as a conditional run whose G draws each class in turn
    run = runfolder.load(out)
    assert run.config.objective == "cgan" and run.step == 20
    assert run.sample(20).shape == (20, 1, 8, 8)
    resumed = runfolder.resume(run, steps=25)
    assert isinstance(resumed, CganTrainer) and resumed.step_count == 20
    gan_out = tmp_path / "gan"
    assert cli.main(["train", "--data", "digits", "--out", str(gan_out), "--steps", "3", "--quiet"]) == 0
    assert not (gan_out / "labels.npy").exists()


def test_cli_samples_are_drawn_for_their_labels(tmp_path):
    """A trained run's samples.npy, read by the classifier, matches labels.npy far above chance."""
    from gan_demo import cli
    from gan_demo.metrics import classifier

    out = tmp_path / "run"
    threads = torch.get_num_threads()
    try:
        assert cli.main(["train", "--objective", "cgan", "--data", "digits", "--seed", "0", "--out", str(out),
                         "--steps", "300", "--quiet", "--threads", "1"]) == 0  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    samples, labels = np.load(out / "samples.npy"), np.load(out / "labels.npy")
    _, probs = classifier.cached("digits")(torch.from_numpy(samples))
    assert (probs.argmax(1) == labels).mean() > 0.6


# ---------------------------------------------------------------- diagnosis
def _report(acc: float, conf: float, div: float) -> dict:
    return {"accuracy": [acc] * 10, "accuracy_mean": acc, "confidence": conf, "diversity": [div] * 9 + [0.1],
            "class_names": [str(k) for k in range(10)], "classifier_accuracy": 0.98, "step": 1000}  # fmt: skip


def test_the_conditional_diagnosis_names_label_ignored_and_class_collapse():
    ignored = cgan_diagnosis.diagnose([_report(0.12, 0.9, 0.6)], "none", 0.0)
    assert [f.state for f in ignored] == ["label_ignored"]
    assert "label accuracy 12 % (chance 10 %, < 30 %)" in ignored[0].evidence and "Condition D" in ignored[0].advice
    blurry = [f.state for f in cgan_diagnosis.diagnose([_report(0.12, 0.6, 0.6)], "none", 0.0)]
    assert "label_ignored" not in blurry  # the classifier is unsure: not "good images of wrong classes"
    collapsed = cgan_diagnosis.diagnose([_report(0.95, 0.9, 0.6)], "concat", 1.0)
    assert [f.state for f in collapsed] == ["class_collapse"]
    assert collapsed[0].evidence.startswith("'9': mean pairwise distance 10 % of the real '9' images'")
    ok = cgan_diagnosis.diagnose([_report(0.95, 0.9, 0.6) | {"diversity": [0.6] * 10}], "projection", 1.0)
    assert [f.state for f in ok] == ["labels_followed"]
    assert cgan_diagnosis.diagnose([_report(0.1, 0.9, 0.6) | {"step": 100}], "none", 0.0) == []  # warm-up
    # label ignored: the rows are of other classes, so their diversity says nothing: no R18 beside R17
    assert [f.state for f in cgan_diagnosis.diagnose([_report(0.12, 0.9, 0.6)], "none", 0.0)] == ["label_ignored"]


def test_a_snapshot_claim_reads_the_first_snapshot_past_its_level():
    shots = [{"step": 100, "label_acc": 0.3}, {"step": 200, "label_acc": 0.95}, {"step": 300, "label_acc": 0.8}]
    c = presets.Claim("label_acc", "first_above", 0.9, 250, "label accuracy")
    assert c.measure({}, shots) == 200 and c.holds(200) and c.text == "label accuracy passes 90 % by step 250"
    assert presets.Claim("label_acc", "first_above", 0.99, 250, "label accuracy").measure({}, shots) == math.inf
    assert presets.Claim("label_acc", "end", 0.7, 0.9, "label accuracy").text == "label accuracy ends at 70–90 %"


# ---------------------------------------------------------------- presets
CGAN_PRESETS = presets.for_page("cgan")


def train_preset(preset: presets.Preset) -> tuple[dict, list[dict]]:
    """Train as the app's worker does: metrics every log_every, the page's snapshot every snapshot_every."""
    cfg = preset.config()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t = make_trainer(cfg)
        cols: dict[str, list[float]] = {n: [] for n in t.metric_names}
        shots: list[dict] = []
        for n in range(1, cfg.steps + 1):
            row = t.step(with_metrics=t.logs(n))
            if row is not None:
                for k, v in row.items():
                    cols[k].append(v)
            if n % cfg.snapshot_every == 0 or n == cfg.steps:
                r = cmetrics.snapshot_extras(t)["cgan"]
                shots.append({**r, "step": n, "label_acc": r["accuracy_mean"]})
    finally:
        torch.set_num_threads(threads)
    return cols, shots


def test_cgan_presets_open_on_the_cgan_page_with_valid_configs():
    assert [p.name for p in CGAN_PRESETS] == ["cgan-healthy", "cgan-label-ignored", "cgan-concat-mismatch",
                                              "cgan-concat-no-mismatch"]  # fmt: skip
    for p in CGAN_PRESETS:
        cfg = p.config()
        assert cfg.objective == "cgan" and p.expect in cgan_diagnosis.TITLES and len(p.claims) >= 2
        assert p.watch_for == presets.watch_text(p.watch_for.partition(" Seeded run (")[0], p.claims)
    with_term, without = presets.get("cgan-concat-mismatch").config(), presets.get("cgan-concat-no-mismatch").config()
    diff = {k for k, v in with_term.to_dict().items() if without.to_dict()[k] != v}
    assert diff == {"mismatch_weight"}  # the same run, with and without the third term
    assert presets.get("cgan-label-ignored").config().condition == "none"


@pytest.mark.slow
@pytest.mark.parametrize("preset", CGAN_PRESETS, ids=[p.name for p in CGAN_PRESETS])
def test_cgan_preset_reaches_its_state_and_its_claims_hold(preset):
    cols, shots = train_preset(preset)
    cfg = preset.config()
    states = [f.state for f in cgan_diagnosis.diagnose(shots, cfg.condition, cfg.mismatch_weight)]
    assert states == [preset.expect], (states, shots[-1]["accuracy"], shots[-1]["diversity"])
    wrong = [f"{c.text}: measured {v:.4g}" for c in preset.claims if not c.holds(v := c.measure(cols, shots))]
    assert not wrong, wrong


# ---------------------------------------------------------------- the page
def open_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("app_pages/cgan.py").run()
    assert not at.exception
    return at


def test_the_page_is_in_the_menu_and_shows_the_cgan_fields():
    assert any(p.path == "app_pages/cgan.py" and p.blurb for p in ui.PAGES)
    at = open_page()
    assert at.title[0].value == "Conditional GAN: draw me a 7"
    assert at.selectbox(key="cgan_condition").value == "projection"
    assert at.number_input(key="cgan_mismatch_weight").value == 1.0
    assert at.session_state["cgan_objective"] == "cgan"
    shown = [c.value for c in at.code]
    import inspect

    assert inspect.getsource(losses.conditional_d_terms).strip() in [s.strip() for s in shown]
    home = AppTest.from_file(APP, default_timeout=60).run()
    assert any("Conditional GAN" in str(el.proto) for el in home.get("page_link"))
    links = [m.value for m in at.markdown if "?preset=cgan-" in m.value]  # one link per preset, as on CycleGAN's
    # each link keeps the reader's language (issue 19): English here
    assert links == [f"- [{p.title}](/cgan?preset={p.name}&lang=en)" for p in CGAN_PRESETS] and len(links) == 4


@pytest.mark.parametrize("preset", [p.name for p in CGAN_PRESETS])
def test_a_preset_link_fills_the_cgan_form(preset):
    at = open_page({"preset": preset})
    expected = presets.get(preset).config()
    assert at.selectbox(key="cgan_condition").value == expected.condition
    assert at.number_input(key="cgan_mismatch_weight").value == expected.mismatch_weight
    assert at.number_input(key="cgan_steps").value == expected.steps
    assert any("Watch for" in i.value for i in at.info)


def test_a_short_run_shows_the_grid_label_accuracy_and_the_views():
    at = open_page()
    at.number_input(key="cgan_steps").set_value(40).run()
    at.number_input(key="cgan_snapshot_every").set_value(20).run()
    at.button(key="cgan_start").click().run()
    (run,) = ui.registry().runs_for(at.session_state["gan_session_id"])
    run.join(60)
    assert not run.alive and run.view().status == "done"
    at.run()
    assert not at.exception
    captions = [i.proto.imgs[0].caption for i in at.get("image")]
    assert captions[0].startswith("step 40: row k is class k")
    assert captions[1] == "64 samples of '0' (G at step 40)"
    assert captions[2] == "'1' → '7', z fixed (plays as a GIF)"
    import json

    acc = json.loads(at.get("plotly_chart")[0].proto.spec)
    mean = next(t for t in acc["data"] if t["name"] == "mean")
    report = run.view().snapshots[-1].extras["cgan"]
    assert mean["x"] == [0, 20, 40] and mean["y"][-1] == pytest.approx(report["accuracy_mean"])
    assert [a["text"] for a in acc["layout"]["annotations"]] == ["chance = 1/10",
                                                                 "classifier on held-out real images = 98.4 %"]  # fmt: skip
    losses_fig = json.loads(at.get("plotly_chart")[2].proto.spec)
    assert "L_D wrong-label term (before λ)" in [t["name"] for t in losses_fig["data"]]
    at.selectbox(key="cgan_pick_class").set_value(7).run()
    assert "64 samples of '7'" in [i.proto.imgs[0].caption for i in at.get("image")][1]


if __name__ == "__main__":  # docs/cgan.md: each preset's claims, measured
    for p in CGAN_PRESETS if len(sys.argv) < 2 else [presets.get(n) for n in sys.argv[1:]]:
        cols, shots = train_preset(p)
        cfg = p.config()
        found = cgan_diagnosis.diagnose(shots, cfg.condition, cfg.mismatch_weight)
        print(f"| {p.name} | {', '.join(f.state for f in found)} | "
              + "; ".join(f"{c.text}: {c.measure(cols, shots):.4g}" for c in p.claims)
              + f" | end acc {[round(a, 2) for a in shots[-1]['accuracy']]} div {[round(d, 2) for d in shots[-1]['diversity']]} conf {shots[-1]['confidence']:.2f}",
              flush=True)  # fmt: skip
        print("   acc over snapshots:", [round(s["label_acc"], 2) for s in shots], flush=True)
