"""``python -m gan_demo bench-quality``: seconds of training until G's samples are good, for the
project's trainer and for a loop written the way seed 001 writes it (:func:`gan_demo.cli.seed_loop`),
on the same data with the same networks (MLPs 256-256, z 100, batch 64, BCE non-saturating, Adam
2e-4, β 0.9 / 0.999: the setting of ``python -m gan_demo bench``).

"Good" is a Fréchet distance in the classifier's features (:mod:`gan_demo.metrics.quality`) within
``--factor`` (2) times the real-vs-real floor, both at ``--n`` samples (G's samples from a fixed noise
batch against a real batch of n). The two loops take turns of ``--slice`` seconds so that a slow
spell of a shared machine falls on both alike; each is evaluated after every ``--eval-every``
seconds of its own training, and evaluation time is not counted. A loop that does not get there
within ``--limit`` seconds is reported with the best distance it reached. Seconds are wall seconds;
beside them the training thread's CPU seconds (``time.thread_time``) in the same turns are printed,
which a machine shared with other work disturbs far less (with one torch thread all of a loop's work
runs on that thread: ``DataLoader`` without workers, MKL and oneDNN on one thread).

``--preset NAME`` trains both loops with a healthy image preset's networks and hyperparameters
(:mod:`gan_demo.presets`: model, width, z, batch, loss, Adam's rates and betas) instead: the seed-style
loop (:func:`seed_style_loop`) keeps seed 001's way of writing the loop (torchvision's dataset class
with ToTensor + Normalize, a shuffled ``DataLoader``, label tensors built every step, ``nn.BCELoss``
on σ(D) or ``nn.MSELoss``) around the preset's networks, built from the same seed, so the two runs
differ only in the engine. Seed 001's own MLP pair collapses on the digits and never gets near the
floor (docs/quality.md), which is why the presets exist.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import math
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from gan_demo import cli, data, models, presets
from gan_demo.config import TrainConfig
from gan_demo.metrics import quality
from gan_demo.train import make_trainer


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gan_demo bench-quality", description=__doc__.split("\n\n")[0])
    p.add_argument("--data", choices=("digits", "fashion-mnist"), default="digits")
    p.add_argument("--limit", type=float, default=60.0, help="training seconds per loop (default 60)")
    p.add_argument("--eval-every", type=float, default=5.0, help="training seconds between evaluations (default 5)")
    p.add_argument("--slice", type=float, default=1.0, help="seconds per turn (default 1)")
    p.add_argument("--n", type=int, default=256, help="samples per evaluation and per real batch (default 256)")
    p.add_argument("--factor", type=float, default=2.0, help="target: distance ≤ factor × floor (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", default=None, choices=SEED_STYLE_PRESETS,
                   help="train both loops with this healthy preset's networks and hyperparameters "
                   "(default: seed 001's MLPs and settings)")  # fmt: skip
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: PyTorch's choice)")
    p.add_argument("--rates", type=int, default=0, metavar="STEPS",
                   help="instead: steps/s of both loops in 20 interleaved rounds of STEPS/20 steps each (medians), "
                   "with the DCGAN pair's convolutions run densely (the default on 8x8) and as conv layers")  # fmt: skip
    p.add_argument("--engine", type=int, default=0, metavar="STEPS",
                   help="instead: CPU time per step of the Trainer against the same Trainer on the engine before "
                   "D's first-layer patches and the one-op losses, in 20 interleaved rounds of STEPS/20 steps "
                   "(medians)")  # fmt: skip
    p.add_argument("--overhead", type=int, default=0, metavar="STEPS",
                   help="instead: time STEPS steps of the Train page's default run on --data, with the Quality "
                   "panel's report every snapshot_every steps, and print its share of the training time")  # fmt: skip
    return p


# presets whose loss seed 001's style writes with a torch criterion: BCE on σ(D) or the mean square
SEED_STYLE_PRESETS = ("healthy-non-saturating", "healthy-lsgan")


def seed_style_loop(cfg: TrainConfig, dataset: torch.utils.data.Dataset, device: torch.device):
    """One call = one iteration of seed 001's training loop (:func:`gan_demo.cli.seed_loop`), with
    ``cfg``'s networks (``models.build``, initialised from ``cfg.seed`` as the Trainer does), batch
    size, z size, loss and Adam settings. The losses are the Trainer's (:mod:`gan_demo.losses`):
    non-saturating, L_D = BCE(σ(D(x)), 1) + BCE(σ(D(G(z))), 0), L_G = BCE(σ(D(G(z))), 1)
    (Goodfellow et al. 2014); LSGAN, L_D = ½ MSE(D(x), 1) + ½ MSE(D(G(z)), 0), L_G = ½ MSE(D(G(z)), 1)
    (Mao et al. 2017). Raises ``ValueError`` for another loss, an optimizer other than Adam,
    instance noise, learning-rate decay or more than one D step."""
    if cfg.loss not in ("non-saturating", "lsgan") or cfg.optimizer != "adam" or cfg.d_steps != 1 \
            or cfg.instance_noise > 0 or cfg.lr_decay:
        raise ValueError(f"the seed-style loop writes only non-saturating or LSGAN with Adam, one D step, no "
                         f"instance noise or decay; got {cfg.loss}, {cfg.optimizer}, d_steps {cfg.d_steps}")  # fmt: skip
    shape = tuple(dataset[0][0].shape)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        generator, discriminator = models.build(cfg.model, shape, cfg.z_dim, cfg.hidden, cfg.pack)
    generator, discriminator = generator.to(device), discriminator.to(device)
    if cfg.loss == "non-saturating":
        criterion, out, half = nn.BCELoss(), torch.sigmoid, 1.0
    else:
        criterion, out, half = nn.MSELoss(), (lambda t: t), 0.5
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=cfg.lr_g, betas=(cfg.beta1, cfg.beta2))
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=cfg.lr_d, betas=(cfg.beta1, cfg.beta2))
    train_loader = torch.utils.data.DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, drop_last=True)
    batches = itertools.chain.from_iterable(itertools.repeat(train_loader))

    def step() -> None:
        imgs, _ = next(batches)
        imgs = imgs.to(device)
        real_labels = torch.ones(imgs.size(0) // cfg.pack).to(device)
        fake_labels = torch.zeros(imgs.size(0) // cfg.pack).to(device)
        optimizer_d.zero_grad()
        d_real_loss = criterion(out(discriminator(imgs)), real_labels)
        z = torch.randn(imgs.size(0), cfg.z_dim).to(device)
        gen_imgs = generator(z).detach()
        d_fake_loss = criterion(out(discriminator(gen_imgs)), fake_labels)
        loss_d = half * (d_real_loss + d_fake_loss)
        loss_d.backward()
        optimizer_d.step()
        optimizer_g.zero_grad()
        gen_imgs = generator(z)
        loss_g = half * criterion(out(discriminator(gen_imgs)), real_labels)
        loss_g.backward()
        optimizer_g.step()

    step.generator, step.discriminator = generator, discriminator
    return step


def overhead(name: str, steps: int) -> None:
    """The Train page's cost of the quality report: ``Trainer.step`` as the worker calls it (metrics
    every ``log_every`` steps) against :func:`quality.snapshot_extras` every ``snapshot_every`` steps."""
    cfg = TrainConfig.for_loss("non-saturating", name, steps=steps, seed=0)
    trainer = make_trainer(cfg)
    quality.snapshot_extras(trainer)  # the first call builds the real reference and the floor (cached)
    train_s = report_s = 0.0
    reports = 0
    for i in range(1, steps + 1):
        start = time.perf_counter()
        trainer.step(with_metrics=i % cfg.log_every == 0)
        train_s += time.perf_counter() - start
        if i % cfg.snapshot_every == 0:
            start = time.perf_counter()
            quality.snapshot_extras(trainer)
            report_s += time.perf_counter() - start
            reports += 1
    print(f"{name}, {cfg.model}, batch {cfg.batch_size}: {steps:,} steps in {train_s:.2f} s ({steps / train_s:.0f} "
          f"steps/s); {reports} reports (one per {cfg.snapshot_every} steps, n = {len(trainer.fixed_noise)}) in "
          f"{report_s:.3f} s ({1000 * report_s / max(reports, 1):.1f} ms each): overhead "
          f"{100 * report_s / train_s:.2f} %; load average {os.getloadavg()[0]:.1f}")  # fmt: skip


def rates(cfg: TrainConfig, preset: bool, setting: str, dataset, images: torch.Tensor, steps: int) -> None:
    """Steps/s of the seed-style loop (``preset``: :func:`seed_style_loop`, else seed 001's own
    :func:`gan_demo.cli.seed_loop`) and of the Trainer (as :func:`gan_demo.cli.trainer_loop` calls it),
    each on fresh networks from ``cfg.seed``, in 20 interleaved rounds (as :func:`gan_demo.cli.round_rates`
    times them, also counting the thread's CPU seconds): the median, lowest and highest round. With the DCGAN pair on images of at most 8×8 both are timed
    twice, with the convolutions as dense matrix products (``models._DenseConv``, the default) and as
    PyTorch's conv layers, on otherwise identical networks."""
    device = torch.device("cpu")
    loops = {}
    variants = (True, False) if cfg.model == "dcgan" and models.build(cfg.model, tuple(images.shape[1:]), cfg.z_dim,
                                                                          cfg.hidden, cfg.pack)[0].dense else (None,)  # fmt: skip
    for dense in variants:
        seed_step = seed_style_loop(cfg, dataset, device) if preset else cli.seed_loop(dataset, images[0].numel(), device)
        trainer = make_trainer(cfg, images=images)
        suffix = "" if dense is None else (", dense convolutions" if dense else ", conv layers")
        if dense is not None:
            seed_step.generator.dense = seed_step.discriminator.dense = trainer.G.dense = trainer.D.dense = dense
        loops["seed-style loop" + suffix] = seed_step
        loops["gan_demo Trainer" + suffix] = cli.trainer_loop(trainer)
    load = os.getloadavg()[0]
    wall, cpu_s = _interleaved(loops, steps)
    cpu = {name: [1 / max(x, 1e-12) for x in r] for name, r in cpu_s.items()}  # steps per CPU second
    print(f"{setting}; torch threads {torch.get_num_threads()}; {steps:,} steps each in 20 interleaved rounds; "
          f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    med_wall = {name: statistics.median(r) for name, r in wall.items()}
    med_cpu = {name: statistics.median(r) for name, r in cpu.items()}
    for name, r in wall.items():
        print(f"  {name:<40} {med_wall[name]:7.1f} steps/s (rounds {min(r):.1f} to {max(r):.1f}); per CPU second of "
              f"the thread {med_cpu[name]:.1f}")  # fmt: skip
    for suffix in ("", ", dense convolutions", ", conv layers"):
        if "seed-style loop" + suffix in med_wall:
            ours, theirs = "gan_demo Trainer" + suffix, "seed-style loop" + suffix
            print(f"  Trainer / seed-style loop{suffix or ''}: {med_wall[ours] / med_wall[theirs]:.2f}x "
                  f"(CPU: {med_cpu[ours] / med_cpu[theirs]:.2f}x)")  # fmt: skip


def _interleaved(loops: dict[str, Callable[[], object]], steps: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Time ``loops`` (name -> one training step) against each other: 20 warm-up steps of each, then
    20 interleaved rounds of ``steps / 20`` steps each. Returns, per loop and round, the wall-clock
    steps/s and the CPU seconds per step of the calling thread (``time.thread_time``)."""
    for loop in loops.values():
        for _ in range(20):
            loop()
    block = max(1, steps // 20)
    wall: dict[str, list[float]] = {name: [] for name in loops}
    cpu: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(20):
        for name, loop in loops.items():
            start, start_cpu = time.perf_counter(), time.thread_time()
            for _ in range(block):
                loop()
            wall[name].append(block / (time.perf_counter() - start))
            cpu[name].append((time.thread_time() - start_cpu) / block)
    return wall, cpu


def engine(cfg: TrainConfig, setting: str, images: torch.Tensor, steps: int) -> None:
    """The Trainer (as :func:`gan_demo.cli.trainer_loop` calls it) against the same Trainer, from the
    same seed, on the engine before two changes that keep the math (docs/quality.md): D's first layer
    on the 8×8 digits as the dense matrix instead of its input's patches (``models._dense_plan(...,
    patches=False)``) and the loss's own terms instead of the one-op losses
    (:data:`gan_demo.train.gan.ONE_OP_D_LOSS`). 20 interleaved rounds of ``steps / 20`` steps after 20
    warm-up steps each; prints the median CPU milliseconds per step (``time.thread_time``) and wall
    steps/s of each, and their ratio."""
    now, before = make_trainer(cfg, images=images), make_trainer(cfg, images=images)
    for net in (before.G, before.D):
        if isinstance(net, models.ConvGenerator | models.ConvDiscriminator) and len(net._dense):
            side = images.shape[-1]
            net._dense = models._dense_plan(net.net, side // 4 if isinstance(net, models.ConvGenerator) else side,
                                            patches=False)  # fmt: skip
    before._one_op = False
    loops = {"Trainer, this engine": cli.trainer_loop(now), "Trainer, engine before": cli.trainer_loop(before)}
    load = os.getloadavg()[0]
    wall, cpu_s = _interleaved(loops, steps)
    cpu = {name: [1000 * x for x in r] for name, r in cpu_s.items()}  # CPU ms per step
    print(f"{setting}; torch threads {torch.get_num_threads()}; {steps:,} steps each in 20 interleaved rounds; "
          f"load average {load:.1f} -> {os.getloadavg()[0]:.1f}")  # fmt: skip
    med_cpu = {name: statistics.median(r) for name, r in cpu.items()}
    for name in loops:
        print(f"  {name:<24} {med_cpu[name]:6.3f} CPU ms per step (rounds {min(cpu[name]):.3f} to "
              f"{max(cpu[name]):.3f}); {statistics.median(wall[name]):7.1f} steps/s")  # fmt: skip
    new, old = med_cpu.values()
    print(f"  this engine / before: {new / old:.3f} of the CPU time per step ({old / new:.2f}x as fast)")


class _Clocked:
    """A training loop with its own clock, evaluation times and first time within the target."""

    def __init__(self, name: str, step, sample):
        self.name, self.step, self.sample = name, step, sample
        self.seconds, self.steps, self.next_eval = 0.0, 0, 0.0
        self.cpu = 0.0  # CPU seconds of this thread (time.thread_time) in the same turns
        self.curve: list[tuple[float, int, float]] = []  # (seconds, steps, distance)
        self.reached: tuple[float, int, float] | None = None  # (seconds, steps, CPU seconds)

    def run_for(self, seconds: float) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        while time.perf_counter() - start < seconds:
            self.step()
            self.steps += 1
        self.seconds += time.perf_counter() - start
        self.cpu += time.thread_time() - cpu


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if not (args.limit > 0 and args.eval_every > 0 and args.slice > 0 and args.n >= 2 and args.factor > 0):
        print(f"error: --limit, --eval-every, --slice and --factor must be positive and --n at least 2, got {args}")
        return 2
    if args.threads is not None:
        if args.threads < 1:
            print(f"error: --threads must be at least 1, got {args.threads}")
            return 2
        torch.set_num_threads(args.threads)
    why = quality.available(args.data)
    if why is not None:
        print(f"error: {why}")
        return 2
    if args.overhead > 0:
        overhead(args.data, args.overhead)
        return 0
    device = torch.device("cpu")
    images = data.load_images(args.data)
    n_pixels = images[0].numel()
    shape = tuple(images.shape[1:])
    floor = quality.real_reference(args.data, None, args.n).floor
    target = args.factor * floor
    if args.preset is None:
        cfg = TrainConfig.for_loss("non-saturating", args.data, model="mlp", hidden=256, z_dim=100, batch_size=64,
                                   lr_d=2e-4, lr_g=2e-4, beta1=0.9, beta2=0.999, steps=10**6, device="cpu",
                                   seed=args.seed)  # fmt: skip
        setting = "MLPs 256-256, z 100, batch 64, BCE non-saturating, Adam 2e-4, β 0.9 / 0.999"
    else:
        preset_cfg = presets.get(args.preset).config()
        cfg = dataclasses.replace(preset_cfg, data=args.data, steps=10**6, device="cpu", seed=args.seed)
        setting = (f"preset {args.preset}: {cfg.model} (width {cfg.hidden}, pack {cfg.pack}), z {cfg.z_dim}, batch "
                   f"{cfg.batch_size}, {cfg.loss}, Adam {cfg.lr_d:g} / {cfg.lr_g:g}, β {cfg.beta1:g} / {cfg.beta2:g}")  # fmt: skip
    if args.engine > 0:
        engine(cfg, setting, images, args.engine)
        return 0
    if args.rates > 0:
        with tempfile.TemporaryDirectory() as tmp:
            rates(cfg, args.preset is not None, setting, cli._seed_dataset(args.data, Path(tmp)), images, args.rates)
        return 0
    noise = torch.randn(args.n, cfg.z_dim, generator=torch.Generator().manual_seed(args.seed + 1))
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = cli._seed_dataset(args.data, Path(tmp))
        if args.preset is None:
            seed_step = cli.seed_loop(dataset, n_pixels, device)
        else:
            seed_step = seed_style_loop(cfg, dataset, device)
        trainer = make_trainer(cfg, images=images)

        @torch.no_grad()
        def seed_sample() -> torch.Tensor:
            g = seed_step.generator
            g.eval()
            out = g(noise).view(-1, *shape)
            g.train()
            return out

        loops = [_Clocked("seed 001 loop", seed_step, seed_sample),
                 _Clocked("gan_demo Trainer", cli.trainer_loop(trainer), lambda: trainer.sample(noise=noise))]  # fmt: skip
        print(f"data: {args.data} {tuple(images.shape)}, CPU, torch threads {torch.get_num_threads()}, {setting}; "
              f"n = {args.n}: floor {floor:.3g}, target "
              f"≤ {target:.3g} ({args.factor:g} × floor); limit {args.limit:g} s per loop; load average "
              f"{os.getloadavg()[0]:.1f}")  # fmt: skip
        while any(lp.seconds < args.limit and lp.reached is None for lp in loops):
            for lp in loops:
                if lp.seconds >= args.limit or lp.reached is not None:
                    continue
                lp.run_for(min(args.slice, lp.next_eval + args.eval_every - lp.seconds, args.limit - lp.seconds))
                if lp.seconds >= lp.next_eval + args.eval_every - 1e-9 or lp.seconds >= args.limit:
                    lp.next_eval = lp.seconds
                    fd = quality.report(lp.sample(), args.data)["fd"]
                    lp.curve.append((lp.seconds, lp.steps, fd))
                    if fd <= target:
                        lp.reached = (lp.seconds, lp.steps, lp.cpu)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    for lp in loops:
        best = min(lp.curve, key=lambda c: c[2])
        got = (f"within {args.factor:g} × floor after {lp.reached[0]:.1f} s ({lp.reached[1]:,} steps; "
               f"CPU {lp.reached[2]:.1f} s)" if lp.reached
               else f"not within {args.factor:g} × floor in {lp.seconds:.0f} s ({lp.steps:,} steps)")  # fmt: skip
        print(f"{lp.name:<17} {got}; best distance {best[2]:.3g} at {best[0]:.0f} s ({best[1]:,} steps); "
              f"{lp.steps / lp.seconds:.1f} steps/s")  # fmt: skip
        print("  " + ", ".join(f"{s:.0f} s: {d:.3g}" for s, _, d in lp.curve))
    seed, ours = loops
    if seed.reached and ours.reached:
        print(f"ratio (seed loop seconds / Trainer seconds): {seed.reached[0] / ours.reached[0]:.2f}x; in CPU "
              f"seconds of the training thread {seed.reached[2] / ours.reached[2]:.2f}x; per step "
              f"{(seed.seconds / seed.steps) / (ours.seconds / ours.steps):.2f}x (wall), "
              f"{(seed.cpu / seed.steps) / (ours.cpu / ours.steps):.2f}x (CPU)")  # fmt: skip
    elif ours.reached:
        print(f"ratio: more than {seed.seconds / ours.reached[0]:.2f}x (the seed loop did not get there)")
    elif not math.isnan(ours.curve[-1][2]):
        print("neither loop reached the target: compare the best distances")
    # a level both reached: the worse of the two best distances
    level = max(min(d for _, _, d in lp.curve) for lp in loops)
    first = [next(s for s, _, d in lp.curve if d <= level) for lp in loops]
    print(f"to a distance ≤ {level:.3g} (the worse best): seed loop {first[0]:.0f} s, Trainer {first[1]:.0f} s "
          f"(ratio {first[0] / first[1]:.2f}x; resolution: one evaluation every {args.eval_every:g} s)")  # fmt: skip
    return 0
