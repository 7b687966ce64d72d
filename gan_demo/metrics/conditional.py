"""The conditional GAN's quality numbers, read by the offline classifier (:mod:`.classifier`).

- **Label accuracy** per class: the share of G's images asked for class k that the classifier puts
  in class k (chance: 1/K = 10 %). Its ceiling is the classifier's own held-out accuracy on real
  images (``checkpoints/index.json``), which the page prints beside it.
- **Fréchet distance per class**: between the classifier's penultimate features of G's images of
  class k and of the real images of class k (FID's formula, Heusel et al. 2017, in this small
  network's feature space), beside its floor: the distance of as many other real images of class k
  to the same reference. Real images of each class are split once (seeded) into a reference half and a
  floor half, so the floor compares disjoint real images.
- **Diversity per class**: the mean pairwise distance of G's images of class k over that of the real
  images of class k (class collapse: one class's samples all alike).

:func:`snapshot_extras` computes them on :data:`PER_CLASS` samples of each class from a batch of z
fixed for the whole run, so a curve over snapshots moves only because G changes.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from gan_demo import data
from gan_demo.metrics import classifier
from gan_demo.metrics.frechet import feature_stats, frechet_distance
from gan_demo.metrics.quality import one_thread

PER_CLASS = 50  # G's samples of each class a snapshot reads (500 for 10 classes)
NOISE_SEED = 12345  # the z's of those samples: the same for the whole run, and for every run
SPLIT_SEED = 0  # splits each class's real images into the reference and the floor half


def label_accuracy(probs: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Per class k: the share of the images asked for class k (``labels`` (N,)) whose most probable
    class (``probs`` (N, K)) is k; shape (K,), NaN for a class with no image."""
    labels = np.asarray(labels)
    hit = np.asarray(probs).argmax(1) == labels
    out = np.full(n_classes, np.nan)
    for k in range(n_classes):
        mask = labels == k
        if mask.any():
            out[k] = hit[mask].mean()
    return out


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance between the rows of ``x`` (n, ...) flattened, over all n(n−1)/2 pairs."""
    f = torch.as_tensor(np.asarray(x, dtype=np.float32)).reshape(len(x), -1)
    d = torch.pdist(f.double())
    return float(d.mean()) if len(d) else float("nan")


@functools.lru_cache(maxsize=8)
def _real_classes(name: str, root: str | None) -> tuple[list, list, list, list]:
    """Per class: the reference features' (mean, cov), the floor half's features, the reference half's
    mean pairwise distance."""
    clf = classifier.cached(name)
    images, labels = data.load_labelled(name, root)
    gen = torch.Generator().manual_seed(SPLIT_SEED)
    ref_stats, floor_feats, real_mpd, ref_sizes = [], [], [], []
    for k in range(len(data.CLASS_NAMES[name])):
        idx = torch.nonzero(labels == k).squeeze(1)
        idx = idx[torch.randperm(len(idx), generator=gen)][:2000]  # MNIST: 2,000 are plenty
        half = len(idx) // 2
        feats, _ = clf(images[idx])
        ref_stats.append(feature_stats(feats[:half]))
        floor_feats.append(feats[half:])
        real_mpd.append(mean_pairwise_distance(images[idx[:200]].numpy()))
        ref_sizes.append(half)
    return ref_stats, floor_feats, real_mpd, ref_sizes


def class_report(images: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, name: str,
                 root: str | None = None) -> dict:  # fmt: skip
    """The numbers of G's ``images`` (N, 1, H, W) in [-1, 1] asked for ``labels`` (N,): ``accuracy``
    (K,) per class and ``accuracy_mean``, ``fd`` and ``fd_floor`` (K,) per class (n = the images of
    each class, floor with as many real images), ``diversity`` (K,): G's mean pairwise distance of each
    class over the real one's, ``confidence``: the classifier's mean top probability on G's images,
    ``counts`` (K,): G's images by predicted class, ``classifier_accuracy`` (held out, real images).
    Raises :class:`classifier.ClassifierUnavailable` without weights, ``ValueError`` for non-finite images."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)
    y = np.asarray(labels, dtype=np.int64)
    if not torch.isfinite(x).all():
        raise ValueError("G's samples contain NaN or Inf")
    with one_thread():
        clf = classifier.cached(name)
        k_all = len(data.CLASS_NAMES[name])
        feats, probs = clf(x)
        ref_stats, floor_feats, real_mpd, _ = _real_classes(name, root)
        fd, floor, div = np.full(k_all, np.nan), np.full(k_all, np.nan), np.full(k_all, np.nan)
        for k in range(k_all):
            mask = y == k
            n = int(mask.sum())
            if n < 2:
                continue
            fd[k] = frechet_distance(*feature_stats(feats[mask]), *ref_stats[k])
            if len(floor_feats[k]) >= n:
                floor[k] = frechet_distance(*feature_stats(floor_feats[k][:n]), *ref_stats[k])
            div[k] = mean_pairwise_distance(x[torch.from_numpy(mask)].numpy()) / real_mpd[k]
        acc = label_accuracy(probs, y, k_all)
    return {
        "n": len(y),
        "accuracy": [float(a) for a in acc],
        "accuracy_mean": float(np.nanmean(acc)),
        "fd": [float(v) for v in fd],
        "fd_floor": [float(v) for v in floor],
        "diversity": [float(v) for v in div],
        "confidence": float(probs.max(1).mean()),
        "counts": [int(c) for c in np.bincount(probs.argmax(1), minlength=k_all)],
        "class_names": list(data.CLASS_NAMES[name]),
        "classifier_accuracy": float(clf.entry["heldout_accuracy"]),
    }


def eval_noise(trainer) -> torch.Tensor:
    """The z's a snapshot reads, (K · PER_CLASS, z_dim): seeded by :data:`NOISE_SEED`, not by the run."""
    n = trainer.n_classes * PER_CLASS
    return torch.randn(n, trainer.config.z_dim, generator=torch.Generator().manual_seed(NOISE_SEED))


def snapshot_extras(trainer) -> dict:
    """A ``live.SnapshotFn`` for the conditional GAN: ``{"cgan": class_report(...)}`` on PER_CLASS
    samples of each class, or ``{}`` when the data set has no classifier or G's samples are not finite."""
    cfg = trainer.config
    try:
        classifier.cached(cfg.data)
    except classifier.ClassifierUnavailable:
        return {}
    with one_thread():
        images, labels = trainer.sample_per_class(PER_CLASS, noise=eval_noise(trainer).to(trainer.device))
    if not torch.isfinite(images).all():
        return {}
    return {"cgan": class_report(images, labels, cfg.data, cfg.data_root)}

