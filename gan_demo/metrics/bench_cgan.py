"""``python -m gan_demo bench-cgan``: issue 15's goal, the label accuracy of the healthy conditional
preset after a time budget, averaged over seeds (docs/cgan.md holds the figures and the load average)."""

from __future__ import annotations

import numpy as np
import torch

from gan_demo import data
from gan_demo.metrics import classifier
from gan_demo.metrics.conditional import NOISE_SEED, label_accuracy


def bench(data_name: str, seconds: float, seeds: list[int], steps: int | None = None, log=None,
          threads: int | None = None) -> list[dict]:  # fmt: skip
    """The healthy preset (``presets.get("cgan-healthy")``) on ``data_name``: for each seed, train until
    its steps (or ``steps``) are done or ``seconds`` of training have passed, on one CPU thread for the
    8×8 digits (``cpu_threads``; ``threads`` sets another count), then read 250 samples of each class (z seeded by NOISE_SEED) with
    the classifier. One dict per seed: steps, seconds, label accuracy (all and the worst class)."""
    import time

    from gan_demo import presets
    from gan_demo.config import TrainConfig
    from gan_demo.train import make_trainer, use_threads

    base = presets.get("cgan-healthy").config().to_dict()
    rows = []
    for seed in seeds:
        cfg = TrainConfig.from_dict({**base, "data": data_name, "seed": seed, "steps": steps or (base["steps"] if
                                     data_name == "digits" else 1_000_000)})  # fmt: skip
        t = make_trainer(cfg)
        previous = use_threads(t.threads if threads is None else threads)
        start = time.perf_counter()
        while t.step_count < cfg.steps and time.perf_counter() - start < seconds:
            t.step(with_metrics=False)
        took = time.perf_counter() - start
        use_threads(previous)
        noise = torch.randn(t.n_classes * 250, cfg.z_dim, generator=torch.Generator().manual_seed(NOISE_SEED))
        images, labels = t.sample_per_class(250, noise=noise.to(t.device))
        _, probs = classifier.cached(data_name)(images)
        acc = label_accuracy(probs, labels.numpy(), t.n_classes)
        rows.append({"seed": seed, "steps": t.step_count, "seconds": took, "accuracy": float(np.mean(acc)),
                     "worst_class": float(acc.min()),
                     "worst_name": data.CLASS_NAMES[data_name][int(np.nanargmin(acc))]})  # fmt: skip
        if log is not None:
            log(rows[-1])
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python -m gan_demo bench-cgan --data digits --seconds 60 --seeds 0,1,2,3,4``"""
    import argparse
    import os

    p = argparse.ArgumentParser(prog="python -m gan_demo bench-cgan", description="label accuracy of the healthy conditional preset after a time budget")
    p.add_argument("--data", default="digits", choices=data.IMAGE_DATASETS)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--steps", type=int, default=None, help="at most this many steps (default: the preset's on digits)")
    p.add_argument("--threads", type=int, default=None, help="torch threads while training (default: the trainer's)")
    a = p.parse_args(argv)
    entry = classifier.cached(a.data).entry
    print(f"classifier for {a.data}: held-out accuracy {100 * entry['heldout_accuracy']:.2f} % ({entry['heldout']})")
    print(f"load average before: {os.getloadavg()[0]:.2f}; torch threads {a.threads or 'the trainer default'}")
    print("| seed | steps | seconds | label accuracy | worst class |\n|---|---|---|---|---|")
    rows = bench(a.data, a.seconds, [int(s) for s in a.seeds.split(",")], a.steps, threads=a.threads,
                 log=lambda r: print(f"| {r['seed']} | {r['steps']:,} | {r['seconds']:.1f} | {100 * r['accuracy']:.1f} % | "
                                     f"{100 * r['worst_class']:.1f} % ({r['worst_name']}) |", flush=True))  # fmt: skip
    accs = [r["accuracy"] for r in rows]
    print(f"mean label accuracy over {len(rows)} seeds: {100 * np.mean(accs):.1f} % (min {100 * min(accs):.1f} %); "
          f"load average after: {os.getloadavg()[0]:.2f}")  # fmt: skip
    return 0


