"""``python -m gan_demo train-classifier`` (and ``bench-quality``, see :mod:`gan_demo.metrics.bench`).

``train-classifier --data digits`` trains the quality classifier of one data set with its default
settings (:data:`DEFAULTS`), prints the held-out accuracy, and writes the weights and their index
entry into ``checkpoints/`` (``--out`` for another folder).
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

from gan_demo import data
from gan_demo.metrics import classifier

# per data set: epochs, conv width, learning rate (chosen so that each reaches the usual held-out
# accuracy of a small CNN: digits ≥ 97 %, MNIST ≥ 99 %, Fashion-MNIST ≥ 90 %)
DEFAULTS = {
    "digits": {"epochs": 60, "width": 32, "lr": 2e-3},
    "mnist": {"epochs": 4, "width": 16, "lr": 2e-3},
    "fashion-mnist": {"epochs": 6, "width": 16, "lr": 2e-3},
}
COMMANDS = ("train-classifier", "bench-quality", "bench-cgan")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_demo train-classifier",
                                description="Train the quality classifier of one image data set.")  # fmt: skip
    p.add_argument("--data", choices=data.IMAGE_DATASETS, required=True)
    p.add_argument("--epochs", type=int, default=None, help="default: per data set (digits 60, Fashion-MNIST 6)")
    p.add_argument("--width", type=int, default=None, help="channels of the first conv layer")
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: PyTorch's)")
    p.add_argument("--out", default=str(classifier.CHECKPOINTS), help="folder for the weights and index.json")
    return p


def train_classifier(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = dict(DEFAULTS[args.data])
    for key in ("epochs", "width", "lr"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    if settings["epochs"] < 1 or settings["width"] < 1 or not settings["lr"] > 0:
        print(f"error: --epochs and --width must be at least 1 and --lr positive, got {settings}", file=sys.stderr)
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print(f"error: --threads must be at least 1, got {args.threads}", file=sys.stderr)
            return 2
        torch.set_num_threads(args.threads)
    try:
        model, info = classifier.train(args.data, settings["epochs"], args.seed, settings["width"],
                                       lr=settings["lr"], log=print)  # fmt: skip
    except data.DataUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    command = "python -m gan_demo train-classifier " + shlex.join(argv)
    path = classifier.save(model, info, command, Path(args.out))
    print(f"held-out accuracy {100 * info['heldout_accuracy']:.2f} % ({info['heldout']}); "
          f"{info['train_seconds']} s; wrote {path}")  # fmt: skip
    return 0


def main(argv: list[str]) -> int:
    """``argv[0]`` is one of :data:`COMMANDS`."""
    if argv[0] == "train-classifier":
        return train_classifier(argv[1:])
    if argv[0] == "bench-cgan":
        from gan_demo.metrics import bench_cgan

        return bench_cgan.main(argv[1:])
    from gan_demo.metrics import bench  # imported only when asked for

    return bench.main(argv[1:])
