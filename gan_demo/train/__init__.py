"""Training: the loop every objective shares (:mod:`.loop`), one module per objective (:mod:`.gan`),
and the private-PyTorch fast paths with their fallbacks (:mod:`.fastpath`).

``make_trainer(config)`` builds the trainer of ``config``'s objective; every trainer is a
:class:`~gan_demo.train.loop.Trainer`.
"""

from __future__ import annotations

from torch import Tensor

from gan_demo.config import TrainConfig
from gan_demo.train.cgan import CganTrainer
from gan_demo.train.cycle import CycleTrainer
from gan_demo.train.fastpath import FastAdam, apply_gradients, scalar_grads
from gan_demo.train.gan import GanTrainer
from gan_demo.train.loop import (
    Draws,
    NonFinite,
    Trainer,
    cpu_threads,
    is_finite,
    resolve_device,
    use_threads,
)

__all__ = ["CganTrainer", "CycleTrainer", "Draws", "FastAdam", "GanTrainer", "NonFinite", "Trainer", "apply_gradients",
           "cpu_threads", "is_finite", "make_trainer", "resolve_device", "scalar_grads", "use_threads"]  # fmt: skip


def make_trainer(config: TrainConfig, images: Tensor | None = None) -> Trainer:
    """The trainer of ``config.objective``: :class:`GanTrainer` ("gan"), :class:`CganTrainer` ("cgan")
    or :class:`CycleTrainer` ("cyclegan"). ``images`` (N, C, H, W) in [-1, 1] replaces loading the
    config's data set (tests, benchmarks; gan only: the conditional GAN loads labels with its images,
    CycleGAN its domain pair)."""
    if config.objective == "cgan":
        return CganTrainer(config)
    if config.objective == "cyclegan":
        return CycleTrainer(config)
    return GanTrainer(config, images=images)
