"""The quality report on a batch of G's images: what the offline classifier sees in them.

For ``n`` generated images of a data set with a classifier (:mod:`gan_demo.metrics.classifier`):

- **Fréchet distance** between the classifier's penultimate features of G's ``n`` images and of a
  fixed real reference batch of ``n`` images (FID's formula, Heusel et al. 2017, in this small
  network's feature space instead of Inception-v3's; not comparable with published FIDs).
- **Its floor**: the same distance between the reference batch and other real batches of the same
  size ``n`` (mean over :data:`FLOOR_BATCHES` batches). At n = 64 even two real batches are far
  apart (the estimate is biased upward at small n), so a distance means something only next to its
  floor; G matches the data as far as this measure can tell once it is near the floor.
- **Label histogram**: the classifier's predicted classes of G's images; **coverage**: how many of
  the K classes get at least :data:`FAIR_SHARE` (50 %) of a fair share n/K; **KL(histogram ‖
  uniform)** = Σ_k p_k log(K p_k) in nats (0 for a uniform histogram, log K = 2.30 when every
  image is one class); the same for the real reference batch, since a finite real batch is not
  exactly uniform either.
- **Confidence**: the mean of the classifier's largest class probability on G's images, and on the
  real reference batch (blurry or in-between images score low).

The real side (reference statistics, floor, real confidence) is computed once per data set, root
and ``n`` (cached). Every figure depends on ``n``: the report carries it and the app prints it.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from gan_demo import data
from gan_demo.content import Msg
from gan_demo.metrics import classifier
from gan_demo.metrics.frechet import feature_stats, frechet_distance

FAIR_SHARE = 0.5  # a class is covered if it holds at least 50 % of a fair share n / K of the images
FLOOR_BATCHES = 10  # real batches whose distance to the reference batch is averaged into the floor
SEED = 0  # picks the real batches


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run on one torch thread (this thread's setting, restored after) and one BLAS thread. The
    report's arrays are tiny (64 images, 64 x 64 matrices): on a shared 2-core machine two threads
    that wait on each other's core made one report 30x slower (measured: 670 ms vs 22 ms on the
    digits, load average 9)."""
    prev = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(prev)


def kl_to_uniform(counts: np.ndarray) -> float:
    """KL(p ‖ uniform) = Σ_k p_k log(K p_k) in nats for class counts ``(K,)`` (0 log 0 = 0); 0 for a
    uniform histogram, log K when every image falls into one class. Raises on an empty histogram."""
    c = np.asarray(counts, dtype=np.float64)
    if c.sum() <= 0:
        raise ValueError("empty histogram")
    p = c / c.sum()
    nz = p > 0
    return float((p[nz] * np.log(len(c) * p[nz])).sum())


def coverage(counts: np.ndarray, fair_share: float = FAIR_SHARE) -> int:
    """Classes holding at least ``fair_share`` × n / K of the n images (K = len(counts))."""
    c = np.asarray(counts, dtype=np.float64)
    return int((c >= fair_share * c.sum() / len(c)).sum())


@dataclass(frozen=True)
class RealReference:
    n: int
    mu: np.ndarray
    sigma: np.ndarray
    floor: float  # mean Fréchet distance of FLOOR_BATCHES other real batches of n to the reference
    floor_min: float
    floor_max: float
    confidence: float
    counts: tuple[int, ...]


def _images(name: str, root: str | None) -> torch.Tensor:
    return data.load_images(name, root)


def real_reference(name: str, root: str | None, n: int) -> RealReference:
    """The reference batch's statistics and the real-vs-real floor at sample size ``n``, from the
    images G trains on (``load_images(name, root)``); disjoint random batches, seeded. Raises
    ``ValueError`` when the data set holds fewer than 2n images or n < 2."""
    with one_thread():
        return _real_reference(name, root, n)


@functools.lru_cache(maxsize=16)
def _real_reference(name: str, root: str | None, n: int) -> RealReference:
    clf = classifier.cached(name)
    images = _images(name, root)
    batches = min(FLOOR_BATCHES, len(images) // n - 1) if n >= 2 else 0
    if batches < 1:
        raise ValueError(f"a real-vs-real floor at n = {n} needs n >= 2 and at least {2 * n} images; "
                         f"{name} has {len(images)}")  # fmt: skip
    order = torch.randperm(len(images), generator=torch.Generator().manual_seed(SEED))
    feats, probs = clf(images[order[:n]])
    mu, sigma = feature_stats(feats)
    floors = [frechet_distance(mu, sigma, *feature_stats(clf(images[order[(i + 1) * n:(i + 2) * n]])[0]))
              for i in range(batches)]  # fmt: skip
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    return RealReference(n, mu, sigma, float(np.mean(floors)), float(min(floors)), float(max(floors)),
                         float(probs.max(1).mean()), tuple(int(c) for c in counts))  # fmt: skip


def class_labels(names: Iterable[str]) -> list[str]:
    """The class names ``names`` (``data.CLASS_NAMES``' English, as reports carry them) as the app
    shows them, in the reader's language (:func:`data.class_names`); a digit's name as is."""
    local = dict(zip(data.CLASS_NAMES["fashion-mnist"], data.class_names("fashion-mnist"), strict=True))
    return [local.get(n, str(n)) for n in names]


def available(name: str) -> Msg | None:
    """None if ``name`` has a usable classifier, else one line saying why not (for the app): a
    :class:`~gan_demo.content.Msg`, rendered in the reader's language by ``str()``."""
    if name not in data.IMAGE_DATASETS:
        return Msg("quality.not_image", name=name)
    try:
        classifier.cached(name)
    except classifier.ClassifierUnavailable as e:
        why = e.args[0] if e.args and isinstance(e.args[0], Msg) else str(e)
        return Msg("quality.hidden", why=why)
    return None


def report(samples: np.ndarray | torch.Tensor, name: str, root: str | None = None) -> dict:
    """The quality numbers of G's images ``samples`` ``(n, 1, H, W)`` in [-1, 1] (n ≥ 2), as a dict
    of plain numbers: ``n``, ``fd``, ``fd_floor`` (with ``fd_floor_min`` / ``fd_floor_max``),
    ``counts`` (per class), ``class_names``, ``coverage``, ``kl``, ``kl_real``, ``coverage_real``,
    ``confidence``, ``confidence_real``, ``top_class``, ``top_share``, ``accuracy`` (the classifier's
    held-out accuracy). Raises :class:`classifier.ClassifierUnavailable` without weights and
    ``ValueError`` for non-finite samples."""
    x = torch.as_tensor(np.asarray(samples), dtype=torch.float32)
    if not torch.isfinite(x).all():
        raise ValueError("G's samples contain NaN or Inf")
    with one_thread():
        return _report(x, name, root)


def _report(x: torch.Tensor, name: str, root: str | None) -> dict:
    clf = classifier.cached(name)
    ref = _real_reference(name, root, len(x))
    feats, probs = clf(x)
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    top = int(counts.argmax())
    return {
        "n": len(x),
        "fd": frechet_distance(*feature_stats(feats), ref.mu, ref.sigma),
        "fd_floor": ref.floor,
        "fd_floor_min": ref.floor_min,
        "fd_floor_max": ref.floor_max,
        "counts": [int(c) for c in counts],
        "class_names": list(data.CLASS_NAMES[name]),
        "coverage": coverage(counts),
        "coverage_real": coverage(np.array(ref.counts)),
        "kl": kl_to_uniform(counts),
        "kl_real": kl_to_uniform(np.array(ref.counts)),
        "confidence": float(probs.max(1).mean()),
        "confidence_real": ref.confidence,
        "top_class": top,
        "top_share": float(counts[top] / len(x)),
        "accuracy": float(clf.entry["heldout_accuracy"]),
    }


def snapshot_extras(trainer) -> dict:
    """A ``live.SnapshotFn``: ``{"quality": report(G's fixed-noise samples)}`` for an image run whose
    data set has a classifier, else ``{}`` (toys, no weights, non-finite samples)."""
    cfg = trainer.config
    if cfg.is_toy or available(cfg.data) is not None:
        return {}
    with one_thread():  # G's forward pass too: 64 samples gain nothing from a second thread
        samples = trainer.fixed_samples()
        if len(samples) < 2 or not torch.isfinite(samples).all():
            return {}
        return {"quality": _report(samples, cfg.data, cfg.data_root)}


def within(fd: float, floor: float, factor: float = 2.0) -> bool:
    """The distance is within ``factor`` × its floor (the benchmark's target)."""
    return math.isfinite(fd) and fd <= factor * floor
