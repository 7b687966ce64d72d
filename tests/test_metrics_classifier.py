"""The shipped quality classifiers: index, sha256, safe loading and the recorded held-out accuracy."""

from __future__ import annotations

import pickle
import shutil

import pytest
import torch

from gan_demo import data
from gan_demo.metrics import classifier as C

INDEX = C.read_index()["classifiers"]


@pytest.mark.parametrize("name", sorted(INDEX))
def test_index_entry_matches_its_file(name):
    entry = INDEX[name]
    path = C.CHECKPOINTS / entry["file"]
    assert C.sha256(path) == entry["sha256"]
    assert path.stat().st_size == entry["size"] < 1_000_000  # a few hundred kB at most
    assert entry["command"].startswith(f"python -m gan_demo train-classifier --data {name}")


def test_both_image_data_sets_we_can_train_here_are_shipped():
    assert {"digits", "fashion-mnist"} <= set(INDEX)


@pytest.fixture
def no_pickle(monkeypatch):
    """Any unpickling (pickle, or torch.load, which unpickles) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("something tried to unpickle")

    for mod, attr in ((pickle, "load"), (pickle, "loads"), (pickle, "Unpickler"), (torch, "load")):
        monkeypatch.setattr(mod, attr, refuse)


def test_digits_weights_load_without_unpickling_and_give_the_recorded_accuracy(no_pickle):
    clf = C.load("digits")
    s = C.split("digits")
    assert len(s.y_test) == 450 and len(s.y_train) == 1347
    acc = C.accuracy(clf.model, s.x_test, s.y_test)
    assert acc == pytest.approx(INDEX["digits"]["heldout_accuracy"], abs=1e-5)
    assert acc >= 0.97


def test_fashion_weights_on_a_subset_of_the_test_split(no_pickle):
    clf = C.load("fashion-mnist")
    x, y = data.load_images("fashion-mnist", train=False)[:2000], data.load_labels("fashion-mnist", train=False)[:2000]
    recorded = INDEX["fashion-mnist"]["heldout_accuracy"]
    assert recorded >= 0.90
    # 2,000 of the 10,000 held-out images: binomial sd ≈ 0.7 points, so within 3 points of the record
    assert abs(C.accuracy(clf.model, x, y) - recorded) < 0.03


def test_features_and_probabilities_shapes():
    feats, probs = C.load("digits")(data.load_images("digits")[:5])
    assert feats.shape == (5, INDEX["digits"]["features"]) and (feats >= 0).all()  # after a ReLU
    assert probs.shape == (5, 10) and abs(probs.sum(1) - 1).max() < 1e-6


def test_a_tampered_file_is_refused(tmp_path):
    shutil.copy(C.CHECKPOINTS / "index.json", tmp_path / "index.json")
    target = tmp_path / INDEX["digits"]["file"]
    raw = bytearray((C.CHECKPOINTS / INDEX["digits"]["file"]).read_bytes())
    raw[-1] ^= 0xFF
    target.write_bytes(bytes(raw))
    with pytest.raises(C.ClassifierUnavailable, match="sha256 .* does not match the index"):
        C.load("digits", tmp_path)


def test_missing_weights_say_why(tmp_path):
    with pytest.raises(C.ClassifierUnavailable, match="no classifier weights for 'mnist'.*could not be downloaded"):
        C.load("mnist", tmp_path)
    (tmp_path / "index.json").write_text('{"classifiers": {"digits": {"file": "gone.safetensors"}}}')
    with pytest.raises(C.ClassifierUnavailable, match="gone.safetensors: classifier file listed in the index is missing"):
        C.load("digits", tmp_path)


def test_train_save_load_round_trip(tmp_path):
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, info = C.train("digits", epochs=2, width=4, features=8)
    finally:
        torch.set_num_threads(prev)
    path = C.save(model, info, "python -m gan_demo train-classifier --data digits --epochs 2", tmp_path)
    loaded = C.load("digits", tmp_path)
    x = data.load_images("digits")[:16]
    assert torch.equal(loaded.model(x), model.eval()(x))
    assert loaded.entry["size"] == path.stat().st_size and loaded.entry["epochs"] == 2
