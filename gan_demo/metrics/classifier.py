"""A small CNN per image data set: its predicted labels and its penultimate-layer features.

The network (:class:`SmallCNN`): conv 3×3 (w channels) → ReLU → max-pool 2 → conv 3×3 (2w) → ReLU
→ max-pool 2 → linear (``features`` units) → ReLU → linear (10 logits). The ``features`` ReLU
outputs are what the Fréchet distance compares (FID takes Inception-v3's pool features the same way,
Heusel et al. 2017). Inputs are images ``(N, 1, H, W)`` in [-1, 1], as :func:`gan_demo.data.load_images`
gives them and as G's tanh draws them.

Weights live in ``checkpoints/classifier-<data>.safetensors``, listed in ``checkpoints/index.json``
with their sha256, size, the command that made them and the held-out accuracy. :func:`load` reads
them with safetensors (tensors and strings only: nothing from the file is ever executed, unlike a
pickle) after checking the file's sha256 against the index; :func:`train` and :func:`save` make them
(``python -m gan_demo train-classifier --data digits``).

Held-out splits: the digits (one set of 1,797) are split 75 / 25 % stratified by class with a fixed
seed (``sklearn.model_selection.train_test_split``, ``random_state=0``: 1,347 train, 450 held out);
MNIST and Fashion-MNIST train on their 60,000 training images and are scored on the official
10,000 test images, which training never sees.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor, nn

from gan_demo import data
from gan_demo.content import Msg

CHECKPOINTS = Path(__file__).resolve().parents[2] / "checkpoints"
INDEX = "index.json"
FORMAT = "gan_demo.classifier/1"


class ClassifierUnavailable(RuntimeError):
    """No usable classifier for a data set: the message says why (no weights, wrong sha256, ...). Its
    argument is a :class:`~gan_demo.content.Msg` (``str(error)`` renders it in the reader's language)."""


class SmallCNN(nn.Module):
    """Two conv blocks and two linear layers; ``side`` (8 or 28) must be a multiple of 4."""

    def __init__(self, side: int, width: int = 16, features: int = 64, n_classes: int = 10):
        super().__init__()
        if side % 4:
            raise ValueError(f"side must be a multiple of 4, got {side}")
        self.side, self.width, self.n_features, self.n_classes = side, width, features, n_classes
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.fc = nn.Linear(2 * width * (side // 4) ** 2, features)
        self.out = nn.Linear(features, n_classes)

    def features(self, x: Tensor) -> Tensor:
        """Penultimate-layer features ``(N, features)`` of images ``(N, 1, side, side)``."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, n_classes)``."""
        return self.out(self.features(x))

    def hyper(self) -> dict[str, int]:
        return {"side": self.side, "width": self.width, "features": self.n_features, "n_classes": self.n_classes}


@dataclass(frozen=True)
class Split:
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    description: str  # e.g. "1,347 train / 450 held out (stratified 25 %, random_state=0)"


def split(name: str, root: str | None = None) -> Split:
    """The training images and the held-out images of ``name`` (see the module docstring)."""
    if name == "digits":
        from sklearn.model_selection import train_test_split

        x, y = data.load_images("digits"), data.load_labels("digits")
        idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y.numpy(), random_state=0)
        tr, te = torch.from_numpy(idx_train), torch.from_numpy(idx_test)
        return Split(x[tr], y[tr], x[te], y[te],
                     f"{len(tr):,} train / {len(te):,} held out (sklearn train_test_split, 25 %, stratified, "
                     "random_state=0)")  # fmt: skip
    xtr, ytr = data.load_images(name, root, train=True), data.load_labels(name, root, train=True)
    xte, yte = data.load_images(name, root, train=False), data.load_labels(name, root, train=False)
    return Split(xtr, ytr, xte, yte, f"{len(ytr):,} train / {len(yte):,} held out (the official test split)")


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor, batch: int = 2000) -> float:
    """Share of images ``x`` whose argmax logit equals the label ``y`` (0..1)."""
    model.eval()
    hits = sum(int((model(xb).argmax(1) == yb).sum()) for xb, yb in zip(x.split(batch), y.split(batch), strict=True))
    return hits / len(y)


def train(name: str, epochs: int, seed: int = 0, width: int = 16, features: int = 64, lr: float = 1e-3,
          batch_size: int = 128, root: str | None = None, log=None) -> tuple[SmallCNN, dict]:  # fmt: skip
    """Train a :class:`SmallCNN` on ``name``'s training images (Adam, cross-entropy, a cosine-decayed
    learning rate) and score it on the held-out ones. Returns the model and a dict of facts for the
    index (held-out accuracy, split, epochs, seconds)."""
    s = split(name, root)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    model = SmallCNN(s.x_train.shape[-1], width, features)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * math.ceil(len(s.y_train) / batch_size)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(s.y_train), generator=gen)
        for idx in order.split(batch_size):
            loss = F.cross_entropy(model(s.x_train[idx]), s.y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if log is not None:
            log(f"epoch {epoch + 1}/{epochs}: loss {loss.item():.4f}, {time.perf_counter() - start:.0f} s")
    seconds = time.perf_counter() - start
    info = {
        "data": name,
        "heldout_accuracy": round(accuracy(model, s.x_test, s.y_test), 5),
        "heldout": s.description,
        "train_accuracy": round(accuracy(model, s.x_train, s.y_train), 5),
        "epochs": epochs,
        "seed": seed,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        **model.hyper(),
    }
    return model, info


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_index(folder: Path = CHECKPOINTS) -> dict:
    """``checkpoints/index.json`` as a dict (``{"classifiers": {data: entry}}``); empty if absent."""
    path = folder / INDEX
    if not path.is_file():
        return {"classifiers": {}}
    try:
        index = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ClassifierUnavailable(Msg("quality.classifier.index_unreadable", path=str(path), error=str(e))) from e
    if not isinstance(index, dict) or not isinstance(index.get("classifiers"), dict):
        raise ClassifierUnavailable(Msg("quality.classifier.index_shape", path=str(path)))
    return index


def save(model: SmallCNN, info: dict, command: str, folder: Path = CHECKPOINTS) -> Path:
    """Write ``classifier-<data>.safetensors`` and its index entry (sha256, size, command, facts)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = info["data"]
    path = folder / f"classifier-{name}.safetensors"
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(path), metadata={"format": FORMAT, "hyper": json.dumps(model.hyper()), "data": name})
    index = read_index(folder)
    index["classifiers"][name] = {"file": path.name, "sha256": sha256(path), "size": path.stat().st_size,
                                  "command": command, **info}  # fmt: skip
    (folder / INDEX).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return path


@dataclass(frozen=True)
class Classifier:
    """A loaded classifier with its index entry (``entry["heldout_accuracy"]`` etc.)."""

    model: SmallCNN
    entry: dict

    @torch.no_grad()
    def __call__(self, x: Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(features ``(N, features)``, class probabilities ``(N, 10)``) of images ``(N, 1, H, W)`` in [-1, 1]."""
        x = torch.as_tensor(x, dtype=torch.float32)
        f = self.model.features(x)
        return f.numpy().astype(np.float64), torch.softmax(self.model.out(f), 1).numpy().astype(np.float64)


def load(name: str, folder: Path = CHECKPOINTS) -> Classifier:
    """The classifier of data set ``name`` from ``folder``, its sha256 checked against the index.

    Raises :class:`ClassifierUnavailable` naming the reason: no index entry, a missing file, a
    sha256 that does not match, or tensors that do not fit the network."""
    entry = read_index(folder)["classifiers"].get(name)
    if entry is None:
        key = "quality.classifier.no_weights_mnist" if name == "mnist" else "quality.classifier.no_weights"
        raise ClassifierUnavailable(Msg(key, name=name, index=str(folder / INDEX)))
    path = folder / str(entry.get("file", ""))
    if not path.is_file():
        raise ClassifierUnavailable(Msg("quality.classifier.file_missing", path=str(path)))
    digest = sha256(path)
    if digest != entry.get("sha256"):
        raise ClassifierUnavailable(Msg("quality.classifier.sha256", path=str(path), digest=digest,
                                        expected=entry.get("sha256")))  # fmt: skip
    try:
        tensors = load_file(str(path))
        hyper = {k: int(entry[k]) for k in ("side", "width", "features", "n_classes")}
        model = SmallCNN(**hyper)
        model.load_state_dict(tensors)
    except (SafetensorError, OSError, KeyError, ValueError, RuntimeError) as e:
        raise ClassifierUnavailable(Msg("quality.classifier.unloadable", path=str(path), kind=type(e).__name__,
                                        error=str(e))) from e  # fmt: skip
    model.eval()
    return Classifier(model, entry)


@functools.lru_cache(maxsize=4)
def cached(name: str) -> Classifier:
    """:func:`load` from the shipped ``checkpoints/``, once per process."""
    return load(name)
