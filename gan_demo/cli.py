"""The command line: ``python -m gan_demo train | sample | export | record-presets | bench | bench-toy |
toybench | train-classifier | bench-quality``.

- ``train`` runs one :class:`Trainer` with a progress bar and writes a run folder
  (:mod:`gan_demo.runs.folder`: config, metrics, snapshots, weights, optimizer state) into ``--out``,
  and ``samples.npy`` (2,500 samples of G; ``--objective cgan``: 250 of each class, class by class,
  with ``labels.npy``, the class of each; ``--objective cyclegan``: G(x) of ``inputs.npy``, 2,500 x of
  X, or on an image pair every image of X with ``labels.npy``); ``--preset NAME`` starts from a preset's settings, ``--stop-at K`` stops early, and ``--resume
  DIR --steps N`` continues a saved run (bit-identical to training it at once, on a CPU). Every
  :class:`TrainConfig` field is a flag (``--lr-d``, ``--d-steps``, ``--pack`` ...) over the loss's
  classic defaults; a bad value exits with status 2 and the field's valid range.
- ``sample --run DIR --n N --out FILE`` draws from a saved G without its data set (.npy or .png);
  ``export --run DIR --gif FILE --png FILE`` writes the fixed-noise grids over training.
- ``record-presets`` (maintainers) records every preset into ``checkpoints/`` with its index.
- ``bench`` times the trainer against a loop written the way seed 001 writes it (see
  :func:`seed_loop`), in one process, on Fashion-MNIST when present and the 8x8 digits otherwise.
- ``bench-toy`` times the trainer on the default 2-D toy configuration.
- ``toybench`` is ``gan_demo.toybench.main``, imported only when asked for.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import itertools
import json
import math
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gan_demo import config, data, domains, losses, onedim, presets, toys
from gan_demo.config import ConfigError, TrainConfig
from gan_demo.runs import export as runexport
from gan_demo.runs import folder as runfolder
from gan_demo.runs import live
from gan_demo.runs import loop as runloop
from gan_demo.train import CycleTrainer, Trainer, make_trainer, resolve_device, use_threads

N_SAMPLES = 2500  # samples of G written at the end of a run (the toys' metrics use 2,500)


# ---------------------------------------------------------------------------- train
def _flag_type(field: config.Field) -> Callable[[str], object]:
    """argparse's ``type=`` for a field: its message names what the field allows."""

    def parse(text: str) -> object:
        try:
            return field.parse(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    parse.__name__ = field.kind.__name__  # argparse names the type in some messages
    return parse


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per TrainConfig field, typed and described by ``config.FIELDS``; a flag left out
    keeps the loss's default (SUPPRESS). A value of the wrong type exits 2 naming the flag and what
    it allows; a value out of range, when the config is built (``bad setting: <field>: ...``)."""
    for f in dataclasses.fields(TrainConfig):
        meta = config.FIELDS[f.name]
        flag = "--" + f.name.replace("_", "-")
        help_ = f"{meta.help}; {meta.allowed()}; default: {f.default!r} or the loss's"
        if meta.kind is bool:  # --lr-decay / --no-lr-decay
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=argparse.SUPPRESS,
                                help=f"{meta.help}; default: {f.default!r} or the loss's")  # fmt: skip
        else:
            parser.add_argument(flag, type=_flag_type(meta), default=argparse.SUPPRESS,
                                metavar=f.name.upper(), help=help_.replace("%", "%%"))  # fmt: skip


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """``--preset``'s settings (else the loss's classic defaults on the data set), then every flag
    that was given. Raises ``ValueError`` for an unknown preset (the message lists them)."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)}
    if getattr(args, "preset", None):
        return TrainConfig.from_dict({**presets.get(args.preset).config().to_dict(), **given})
    loss = given.pop("loss", TrainConfig.loss)
    data_name = given.pop("data", TrainConfig.data)
    return TrainConfig.for_loss(loss, data_name, **given)


def _toy_summary(toy: toys.Toy1D | toys.Toy2D, samples: np.ndarray) -> str | None:
    if isinstance(toy, toys.Toy2D):
        if not toy.has_modes:
            return None
        s = toys.mode_stats(samples, np.asarray(toy.modes), toy.sigma)
        return f"modes captured: {s.captured}/{s.n_modes}, high quality: {100 * s.high_quality:.1f} %"
    # the 1-D page's numbers (onedim.sample_fit): exact W1 to G's empirical CDF, JS with a KDE of G
    s = samples.reshape(-1).astype(np.float64)
    if not np.isfinite(s).all():
        return "W1(G, data): undefined (G's samples are not finite)"
    fit = onedim.sample_fit(toy, s)
    floor, _ = onedim.perfect_g_floor(toy, len(s), fit.bandwidth)
    return (f"W1(G, data): {fit.w1:.4f}, JS(data‖G): {fit.js:.4f} "
            f"(a perfect G with {len(s):,} samples reads {floor:.4f})")


def _progress(trainer: Trainer, quiet: bool, start: int, until: int):
    """(on_step for runs.loop.train, the bar to close): a tqdm bar over the steps still to train."""
    from tqdm import tqdm

    cfg = trainer.config
    bar = tqdm(total=until, initial=start, desc=f"{cfg.loss} on {cfg.data}", unit="step", dynamic_ncols=True,
               disable=quiet)  # fmt: skip

    def on_step(step: int, row: dict[str, float] | None) -> None:
        bar.update(1)
        if row is not None:
            bar.set_postfix(loss_d=f"{row['loss_d']:.3g}", loss_g=f"{row['loss_g']:.3g}", refresh=False)

    return on_step, bar


def _trainer_for(args: argparse.Namespace) -> tuple[Trainer, runloop.Record, Path, str | None]:
    """The trainer, the record so far, the output folder and the preset's name: a new run from the
    flags (over ``--preset``'s settings), or ``--resume DIR`` continued to ``--steps``."""
    if args.resume:
        given = [f"--{f.name.replace('_', '-')}" for f in dataclasses.fields(TrainConfig)
                 if hasattr(args, f.name) and f.name not in ("steps", "device")]  # fmt: skip
        if given or args.preset:
            raise ConfigError({"resume": f"--resume continues the saved run's settings; only --steps and --device "
                                         f"may be given with it, not {', '.join(given or ['--preset'])}"})  # fmt: skip
        saved = runfolder.load(args.resume)
        trainer = runfolder.resume(saved, getattr(args, "steps", None), getattr(args, "device", None))
        record = runloop.Record({k: list(v) for k, v in saved.metrics.items()}, list(saved.snapshots),
                                int(saved.manifest.get("snapshot_every") or trainer.config.snapshot_every))  # fmt: skip
        return trainer, record, Path(args.out or args.resume), saved.manifest.get("preset")
    if not args.out:
        raise ConfigError({"out": "--out DIR is needed (the run folder to write), unless --resume DIR is given"})
    cfg = config_from_args(args)
    trainer = make_trainer(cfg)
    return trainer, runloop.Record.empty(trainer), Path(args.out), args.preset


def cmd_train(args: argparse.Namespace, argv: list[str] | None = None) -> int:
    try:
        trainer, record, out, preset = _trainer_for(args)
    except ConfigError as e:
        return _fail(f"bad setting: {e}", 2)
    except runfolder.RunFormatError as e:
        return _fail(f"--resume: {e}", 2)
    except (data.DataUnavailable, RuntimeError, ValueError) as e:  # no data, no CUDA, unknown preset
        return _fail(str(e), 2)
    cfg = trainer.config
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / runfolder.CONFIG).write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    except OSError as e:  # a file in the way, no permission, a read-only or missing parent
        return _fail(f"--out {out}: cannot write the run folder there ({e.strerror or e}); "
                     "give a folder path that can be created or written to", 2)  # fmt: skip
    until = cfg.steps if args.stop_at is None else min(args.stop_at, cfg.steps)
    # the trainer's thread count, set once for the whole run (--threads, set by main(), wins)
    previous = torch.get_num_threads()
    use_threads(trainer.threads if args.threads is None else None)
    on_step, bar = _progress(trainer, args.quiet, trainer.step_count, until)
    start_step, started = trainer.step_count, time.perf_counter()
    try:
        runloop.train(trainer, record, until, on_step=on_step)
    finally:  # main() may be called in-process (tests): leave the caller's setting as it was
        bar.close()
        use_threads(previous)
    elapsed = time.perf_counter() - started
    bad = record.failure
    status = "failed" if bad else ("done" if trainer.step_count >= cfg.steps else "stopped")
    error = None if bad is None else str(live.divergence_message(bad.name, bad.value, bad.step, cfg, bad.update))
    command = "python -m gan_demo " + shlex.join(argv if argv is not None else sys.argv[1:])
    runfolder.save_trainer(out, trainer, record.metrics, record.snapshots, status=status, error=error, preset=preset,
                           steps_per_s=(trainer.step_count - start_step) / elapsed if elapsed > 0 else 0.0,
                           made_by={"tool": "cli", "command": command}, name=out.name,
                           snapshot_every=record.snapshot_every)  # fmt: skip
    if error is not None:
        return _fail(f"{error} The run up to here is in {out} ({runfolder.METRICS}, ...).", 1)
    print(f"wrote the run folder {out} (step {trainer.step_count:,} of {cfg.steps:,}, {status}): "
          f"{', '.join(runfolder.FILES)}")  # fmt: skip
    if status != "done":
        return 0
    samples = _write_samples(trainer, out)
    if getattr(trainer, "toy", None) is not None:
        summary = _toy_summary(trainer.toy, samples)
        if summary:
            print(summary)
    return 0


def _write_samples(trainer: Trainer, out: Path) -> np.ndarray:
    """``samples.npy`` beside the run folder (float32): 2,500 samples of G; a conditional GAN's are
    250 of each class, class by class, with ``labels.npy`` (int64, the class of each); a CycleGAN's
    are G(x) of ``inputs.npy`` (the run's 2,500 fixed inputs x of X, same order; on an image pair its
    1,797 fixed images, every digit once, with ``labels.npy``, the class of each). Returns the samples."""
    if isinstance(trainer, CycleTrainer):
        inputs = trainer.fixed_x.cpu().numpy().astype(np.float32)
        samples = trainer.translate(trainer.fixed_x).numpy().astype(np.float32)
        np.save(out / "inputs.npy", inputs)
        np.save(out / "samples.npy", samples)
        r = trainer.readout()
        if trainer.images:
            labels = trainer.fixed_x_labels.numpy().astype(np.int64)
            np.save(out / "labels.npy", labels)
            print(f"wrote inputs.npy {inputs.shape}, samples.npy {samples.shape} and labels.npy {labels.shape}. "
                  f"Label preservation: {100 * r.label_kept:.1f} % of G(x) read as x's digit by Y's classifier "
                  f"(the digits classifier on −G(x); held out it reads {100 * domains.heldout_accuracy(trainer.pair):.1f} %, "
                  f"on these x {100 * domains.classifier_ceiling(trainer.pair):.1f} %), F direction "
                  f"{100 * r.label_kept_f:.1f} %; {r.y_classes}/10 digits among the G(x); cycle error "
                  f"{r.cycle_err_x:.4f} per pixel (x → G → F), {r.cycle_err_y:.4f} (y → F → G); distance of G to T "
                  f"{r.dist_t:.4f} per pixel (pixels in [-1, 1])")  # fmt: skip
            return samples
        print(f"wrote inputs.npy {inputs.shape} and samples.npy {samples.shape}. Cycle error: "
              f"{100 * r.cycle_err_x:.2f} % of X's spread (x → G → F), {100 * r.cycle_err_y:.2f} % of Y's (y → F → G); "
              f"distance of G to T: {100 * r.dist_t:.1f} % of Y's spread; Y modes receiving G(x): "
              f"{r.y_modes}/{len(trainer.pair.modes)}; inputs sent where T sends them: {100 * r.t_match:.1f} %")  # fmt: skip
        return samples
    if trainer.config.objective == "cgan":
        images, labels = trainer.sample_per_class(math.ceil(N_SAMPLES / trainer.n_classes))
        samples = images.numpy().astype(np.float32)
        np.save(out / "samples.npy", samples)
        np.save(out / "labels.npy", labels.numpy().astype(np.int64))
        print(f"wrote samples.npy {samples.shape} and labels.npy {tuple(labels.shape)}")
        return samples
    samples = trainer.sample(max(N_SAMPLES, len(trainer.fixed_noise))).numpy().astype(np.float32)
    np.save(out / "samples.npy", samples)
    print(f"wrote samples.npy {samples.shape}")
    return samples


def cmd_sample(args: argparse.Namespace) -> int:
    """G's samples from a saved run, without its data set: ``.npy`` (float32) or ``.png`` (a grid)."""
    try:
        run = runfolder.load(args.run)
        if args.n < 1:
            raise ValueError(f"--n must be at least 1, got {args.n}")
        samples = run.sample(args.n, seed=args.seed)
        out = Path(args.out)
        if out.suffix == ".npy":
            np.save(out, samples)
        elif out.suffix == ".png":
            out.write_bytes(runexport.png_bytes(samples))
        else:
            raise ValueError(f"--out {out}: name a .npy file (the samples) or a .png file (their grid)")
    except (runfolder.RunFormatError, runexport.ExportError, ValueError) as e:
        return _fail(str(e), 2)
    except OSError as e:
        return _fail(f"--out {args.out}: cannot write there ({e.strerror or e})", 2)
    print(f"wrote {len(samples):,} samples of shape {samples.shape[1:]} to {out}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """The fixed-noise grid over training as a GIF, and/or the last snapshot's grid as a PNG."""
    if not (args.gif or args.png):
        return _fail("export needs --gif FILE and/or --png FILE", 2)
    try:
        run = runfolder.load(args.run)
        if args.gif:
            Path(args.gif).write_bytes(runexport.gif_bytes(run.snapshots))
            print(f"wrote {args.gif}: {len(run.snapshots)} frames (steps {run.snapshots[0].step:,} to "
                  f"{run.snapshots[-1].step:,})")  # fmt: skip
        if args.png:
            Path(args.png).write_bytes(runexport.png_bytes(run.snapshots[-1].samples))
            print(f"wrote {args.png}: the fixed-noise grid at step {run.snapshots[-1].step:,}")
    except (runfolder.RunFormatError, runexport.ExportError) as e:
        return _fail(str(e), 2)
    except OSError as e:
        return _fail(f"cannot write the export ({e.strerror or e})", 2)
    return 0


def cmd_record_presets(args: argparse.Namespace) -> int:
    """Record every preset (or ``--only`` these) into ``checkpoints/`` and rewrite its index."""
    from gan_demo.runs import recordings

    try:
        recordings.record_all(args.out, args.only)
    except ValueError as e:
        return _fail(str(e), 2)
    return 0


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


# ---------------------------------------------------------------------------- bench
class _SeedGenerator(nn.Module):  # seed 001, second code block (784 -> the data's pixel count)
    def __init__(self, n_pixels: int):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(100, 256), nn.ReLU(True), nn.Linear(256, 256), nn.ReLU(True),
                                  nn.Linear(256, n_pixels), nn.Tanh())  # fmt: skip

    def forward(self, input):
        return self.main(input)


class _SeedDiscriminator(nn.Module):
    def __init__(self, n_pixels: int):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(n_pixels, 256), nn.ReLU(True), nn.Linear(256, 256), nn.ReLU(True),
                                  nn.Linear(256, 1), nn.Sigmoid())  # fmt: skip

    def forward(self, input):
        return self.main(input)


class _PILDataset(torch.utils.data.Dataset):
    """uint8 images served as torchvision's MNIST serves them: a PIL image through ``transform``."""

    def __init__(self, images: np.ndarray, transform: Callable):
        self.images, self.transform = images, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index], mode="L")), 0


def _seed_dataset(name: str, tmp: Path) -> torch.utils.data.Dataset:
    """The data as the seed loads it: torchvision's dataset class with ToTensor + Normalize."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    if name == "fashion-mnist":  # the IDX files, decompressed where torchvision looks: no download
        raw = tmp / "FashionMNIST" / "raw"
        raw.mkdir(parents=True)
        for src in sorted(data.DEBIAN_FASHION_MNIST.glob("*-ubyte.gz")):
            with gzip.open(src, "rb") as fin, open(raw / src.name[:-3], "wb") as fout:
                shutil.copyfileobj(fin, fout)
        return datasets.FashionMNIST(str(tmp), train=True, download=False, transform=transform)
    from sklearn.datasets import load_digits

    pixels = np.round(load_digits().images * (255 / 16)).astype(np.uint8)  # 0..16 -> 0..255
    return _PILDataset(pixels, transform)


def seed_loop(dataset: torch.utils.data.Dataset, n_pixels: int, device: torch.device) -> Callable[[], None]:
    """One call = one iteration of seed 001's training loop (second code block), verbatim but for
    the device and the data set; the DataLoader restarts when an epoch ends."""
    generator = _SeedGenerator(n_pixels).to(device)
    discriminator = _SeedDiscriminator(n_pixels).to(device)
    criterion = nn.BCELoss()
    optimizer_g = torch.optim.Adam(generator.parameters(), lr=0.0002)
    optimizer_d = torch.optim.Adam(discriminator.parameters(), lr=0.0002)
    train_loader = torch.utils.data.DataLoader(dataset, batch_size=64, shuffle=True)
    batches: Iterator = itertools.chain.from_iterable(itertools.repeat(train_loader))

    def step() -> None:
        imgs, _ = next(batches)
        imgs = imgs.to(device)
        real_labels = torch.ones(imgs.size(0), 1).to(device)
        fake_labels = torch.zeros(imgs.size(0), 1).to(device)
        optimizer_d.zero_grad()
        real_imgs = imgs.view(imgs.size(0), -1)
        d_real_loss = criterion(discriminator(real_imgs), real_labels)
        z = torch.randn(imgs.size(0), 100).to(device)
        gen_imgs = generator(z).detach()
        d_fake_loss = criterion(discriminator(gen_imgs), fake_labels)
        loss_d = (d_real_loss + d_fake_loss) / 2
        loss_d.backward()
        optimizer_d.step()
        optimizer_g.zero_grad()
        gen_imgs = generator(z)
        loss_g = criterion(discriminator(gen_imgs), real_labels)
        loss_g.backward()
        optimizer_g.step()

    step.generator = generator  # for bench-quality, which samples G between steps
    return step


def trainer_loop(trainer: Trainer) -> Callable[[], None]:
    """One call = one ``Trainer.step``, with metrics on the steps the CLI logs (:meth:`Trainer.logs`)."""

    def step() -> None:
        trainer.step(with_metrics=trainer.logs(trainer.step_count + 1))

    return step


def round_rates(loops: dict[str, Callable[[], None]], steps: int, rounds: int, device: torch.device,
                warmup: int = 20) -> dict[str, list[float]]:  # fmt: skip
    """Steps/s of each loop in each round: warm up, then ``rounds`` interleaved blocks of ``steps / rounds``
    steps each, so that a slow spell of a shared machine falls on every loop alike."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    block = max(1, steps // rounds)
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for loop in loops.values():
        for _ in range(warmup):
            loop()
    for _ in range(rounds):
        for name, loop in loops.items():
            sync()
            start = time.perf_counter()
            for _ in range(block):
                loop()
            sync()
            rates[name].append(block / (time.perf_counter() - start))
    return rates


def time_loops(loops: dict[str, Callable[[], None]], steps: int, rounds: int, device: torch.device,
               warmup: int = 20) -> dict[str, float]:  # fmt: skip
    """Steps/s of each loop over all its rounds (total steps / total seconds), as :func:`round_rates` times them."""
    return {name: len(r) / sum(1.0 / x for x in r) for name, r in round_rates(loops, steps, rounds, device, warmup).items()}


def _bench_data(choice: str) -> str:
    if choice != "auto":
        return choice
    has_fashion = (data.DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file()
    return "fashion-mnist" if has_fashion else "digits"


def cmd_bench(args: argparse.Namespace) -> int:
    device = resolve_device(args.device)
    name = _bench_data(args.data)
    images = data.load_images(name)
    cfg = TrainConfig.for_loss("non-saturating", name, model="mlp", hidden=256, z_dim=100, batch_size=64,
                               lr_d=2e-4, lr_g=2e-4, beta1=0.9, beta2=0.999, steps=10**6,
                               device=str(device), seed=args.seed)  # fmt: skip
    torch.manual_seed(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        loops = {
            "seed 001 loop": seed_loop(_seed_dataset(name, Path(tmp)), images[0].numel(), device),
            "gan_demo Trainer": trainer_loop(make_trainer(cfg, images=images)),
        }
        print(f"data: {name} {tuple(images.shape)}, device: {device}, torch threads: "
              f"{torch.get_num_threads()}, MLPs 256-256, z 100, batch 64, BCE, Adam 2e-4; "
              f"{args.steps} timed steps each in {args.rounds} interleaved rounds")  # fmt: skip
        rates = time_loops(loops, args.steps, args.rounds, device)
    (seed_rate, ours), width = rates.values(), max(map(len, rates))
    for label, rate in rates.items():
        print(f"{label:<{width}}  {rate:8.1f} steps/s")
    print(f"ratio (Trainer / seed loop): {ours / seed_rate:.2f}x")
    if args.toy:
        _bench_toy(args.steps_toy, args.device, threads=args.threads)
    return 0


def _bench_toy(steps: int, device: str, rounds: int = 20, loss_names: tuple[str, ...] = ("non-saturating",),
               threads: int | None = None) -> float:  # fmt: skip
    """Steps/s of the trainer on ring8 with each loss's classic settings and the default toy networks,
    in interleaved rounds; prints the median round with the slowest and fastest, and returns the first
    loss's median."""
    trainers = {name: make_trainer(TrainConfig.for_loss(name, "ring8", steps=10**6, device=device)) for name in loss_names}
    first = trainers[loss_names[0]]
    cfg = first.config
    previous = torch.get_num_threads()
    use_threads(first.threads if threads is None else None)  # once, as the app's worker and `train` do
    try:
        rates = round_rates({name: trainer_loop(t) for name, t in trainers.items()}, steps, rounds, first.device,
                            warmup=100)  # fmt: skip
        used = torch.get_num_threads()
    finally:
        use_threads(previous)
    print(f"toy trainer on ring8: networks 3x{cfg.hidden}, batch {cfg.batch_size}, z {cfg.z_dim}, device "
          f"{first.device}, threads {used}, metrics every {cfg.log_every} "
          f"steps; {steps} steps per loss in {rounds} interleaved rounds")  # fmt: skip
    width = max(map(len, rates))
    for name, r in rates.items():
        d_steps = trainers[name].config.d_steps
        print(f"{name:<{width}}  {statistics.median(r):5.0f} steps/s median round (slowest {min(r):.0f}, "
              f"fastest {max(r):.0f})" + (f", {d_steps} D updates per step" if d_steps > 1 else ""))  # fmt: skip
    return statistics.median(rates[loss_names[0]])


def cmd_bench_toy(args: argparse.Namespace) -> int:
    names = losses.NAMES if args.loss == "all" else (args.loss,)
    if args.rounds < 1 or args.steps < args.rounds:
        return _fail(f"--rounds must be at least 1 and at most --steps, got --rounds {args.rounds} "
                     f"--steps {args.steps}", 2)  # fmt: skip
    _bench_toy(args.steps, args.device, args.rounds, names, args.threads)
    return 0


# ---------------------------------------------------------------------------- toybench
def cmd_toybench(argv: list[str]) -> int:
    from gan_demo import toybench  # imported only when asked for: it pulls in the toy evaluation

    return toybench.main(argv)


# ---------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gan_demo", description="Train and benchmark GANs.")
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train one GAN (a conditional GAN: --objective cgan; a CycleGAN: "
                           "--objective cyclegan) and write its run folder (gan_demo.runs.folder) and samples.npy")
    train.add_argument("--out", help="the run folder to write (created if missing); with --resume: the "
                                     "resumed run's folder, by default the one resumed")  # fmt: skip
    train.add_argument("--preset", help=f"start from a preset's settings (flags override them): {', '.join(presets.PRESETS)}")
    train.add_argument("--resume", metavar="DIR", help="continue the run saved in DIR (to --steps, default its own)")
    train.add_argument("--stop-at", type=int, metavar="STEP", help="stop at this step (the run can be resumed)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_config_flags(train)

    sample = sub.add_parser("sample", help="draw samples from a saved run's G (no data set needed)")
    sample.add_argument("--run", required=True, help="a run folder")
    sample.add_argument("--n", type=int, default=N_SAMPLES, help=f"how many samples (default {N_SAMPLES})")
    sample.add_argument("--seed", type=int, default=0, help="seed of the noise z (default 0)")
    sample.add_argument("--out", required=True, help="a .npy file (float32 samples) or a .png file (their grid)")

    export = sub.add_parser("export", help="a run's fixed-noise grids as an animated GIF and/or its last grid as PNG")
    export.add_argument("--run", required=True, help="a run folder")
    export.add_argument("--gif", help="the GIF to write (one frame per snapshot)")
    export.add_argument("--png", help="the PNG to write (the last snapshot's grid)")

    record = sub.add_parser("record-presets", help="(maintainers) record every preset into checkpoints/")
    record.add_argument("--out", default=None, help="the checkpoints folder (default: the project's checkpoints/)")
    record.add_argument("--only", nargs="*", default=None, help="record only these presets")

    bench = sub.add_parser("bench", help="the trainer's steps/s against seed 001's loop")
    bench.add_argument("--steps", type=int, default=300, help="timed steps per loop (default 300)")
    bench.add_argument("--rounds", type=int, default=3, help="interleaved timing rounds (default 3)")
    bench.add_argument("--data", choices=("auto", "fashion-mnist", "digits"), default="auto")
    bench.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument("--toy", action="store_true", help="also time the default toy configuration")
    bench.add_argument("--steps-toy", type=int, default=2000, help="timed toy steps (default 2000)")

    toy = sub.add_parser("bench-toy", help="the trainer's steps/s on ring8 with the default toy networks")
    toy.add_argument("--steps", type=int, default=4000, help="timed steps per loss (default 4000)")
    toy.add_argument("--rounds", type=int, default=20, help="interleaved timing rounds (default 20)")
    toy.add_argument("--loss", choices=("all", *losses.NAMES), default="non-saturating",
                     help="a loss with its classic settings, or all six in turn (default non-saturating)")  # fmt: skip
    toy.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")

    sub.add_parser("toybench", help="toy-quality benchmark (gan_demo.toybench)", add_help=False)
    sub.add_parser("train-classifier", help="train a quality classifier (gan_demo.metrics.cli)", add_help=False)
    sub.add_parser("bench-cgan", help="label accuracy of the healthy conditional preset (docs/cgan.md)", add_help=False)
    sub.add_parser("bench-quality", help="time to sample quality: trainer vs seed 001 (gan_demo.metrics.bench)",
                   add_help=False)  # fmt: skip
    for p in (train, bench, toy):
        p.add_argument("--threads", type=int, default=None,
                       help="torch intra-op threads for this process (default: PyTorch's choice)")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["toybench"]:  # its own parser handles the rest
        return cmd_toybench(argv[1:])
    if argv[:1] and argv[0] in ("train-classifier", "bench-quality", "bench-cgan"):  # gan_demo.metrics.cli parses them
        from gan_demo.metrics import cli as metrics_cli

        return metrics_cli.main(argv)
    args = build_parser().parse_args(argv)
    handlers = {"train": lambda a: cmd_train(a, argv), "bench": cmd_bench, "bench-toy": cmd_bench_toy,
                "sample": cmd_sample, "export": cmd_export, "record-presets": cmd_record_presets}  # fmt: skip
    if getattr(args, "threads", None) is None:
        return handlers[args.command](args)
    if args.threads < 1:
        return _fail(f"--threads must be at least 1, got {args.threads}", 2)
    previous = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    try:
        return handlers[args.command](args)
    finally:  # main() may be called in-process (tests): leave the caller's setting as it was
        torch.set_num_threads(previous)
