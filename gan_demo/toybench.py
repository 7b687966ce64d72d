"""The toy benchmark: tuned presets for the toy distributions, and how well they do.

``BEST`` holds, for each toy, the :class:`TrainConfig` overrides (over the loss's classic defaults)
that reach the goals below in at most a minute of training on a 2-core CPU. ``evaluate(config)``
trains one run and measures it; ``main`` (``python -m gan_demo toybench``) averages over seeds and
prints a Markdown table for the README.

Metrics, on 2,500 samples of G (design.md, "Toy distributions and their metrics"):
- 2-D mixtures (ring8, grid25): a sample is high-quality if it lies within 3σ of its nearest mode;
  a mode is captured if at least one high-quality sample is nearest to it (VEEGAN, PacGAN).
- 1-D toys: the 1-D page's own numbers, :func:`onedim.sample_fit`: JS(p_data ‖ p_g) with p_g a
  Gaussian KDE of G's samples whose bandwidth is fixed by p_data (:func:`onedim.js_bandwidth`,
  0.111 on mix2 at 2,500 samples; Scott's rule on a two-mode sample is about 0.6, wider than the
  modes, and would report JS ≈ 0.05 for a perfect sampler), and the exact W1 to G's empirical CDF.
  2,500 samples of p_data itself read JS ≈ 0.0011 on mix2 (:func:`onedim.perfect_g_floor`).

Goals (issue 3): ring8 8/8 modes with ≥ 90 % high-quality; grid25 ≥ 24/25 with ≥ 80 %;
mix2 JS ≤ 0.02.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np
import torch

from gan_demo import onedim, toys
from gan_demo.config import TrainConfig, defaults_for
from gan_demo.train import make_trainer

N_SAMPLES = 2500  # samples of G the metrics are computed on (as in VEEGAN and PacGAN)

# Tuned overrides over defaults_for(loss, toy). Steps are counted so that a run takes well under
# 60 s at the single-thread speed measured on the development machine (see the README's table).
BEST: dict[str, dict[str, Any]] = {
    "ring8": dict(loss="non-saturating", steps=10000, pack=2, lr_d=3e-3, lr_g=3e-3, lr_decay=True,
                  instance_noise=0.1),
    "grid25": dict(loss="hinge", steps=26000, pack=2, lr_d=3e-3, lr_g=3e-3, lr_decay=True, instance_noise=0.1,
                   z_dim=16),
    "mix2": dict(loss="non-saturating", steps=12000, pack=4, lr_d=1e-3, lr_g=1e-3, lr_decay=True),
}

# Published figures on the same toys (modes captured / % high-quality), for the table.
PUBLISHED: dict[str, str] = {
    "ring8": "VEEGAN 8 / 52.9 %; PacGAN2 7.9 / 95.6 %",
    "grid25": "VEEGAN 24.6 / 40 %; PacGAN4 24.8 / 93.6 %",
}

# The fields a preset description shows when they differ from the loss's defaults.
_SHOWN = ("optimizer", "lr_d", "lr_g", "beta1", "beta2", "d_steps", "batch_size", "hidden", "z_dim",
          "pack", "lr_decay", "instance_noise", "gp_weight")  # fmt: skip


def best_config(toy: str, **overrides: Any) -> TrainConfig:
    """The tuned config for ``toy`` (its loss's defaults, then ``BEST[toy]``, then ``overrides``)."""
    if toy not in BEST:
        raise ValueError(f"no tuned preset for {toy!r}; tuned toys: {', '.join(BEST)}")
    values = {**BEST[toy], **overrides}
    loss = values.pop("loss", "non-saturating")
    return TrainConfig.for_loss(loss, toy, **values)


def describe(config: TrainConfig) -> str:
    """A short text of what the config changes from its loss's defaults, e.g. 'non-saturating, pack 2'."""
    base = defaults_for(config.loss, config.data)
    parts = [config.loss]
    for name in _SHOWN:
        value = getattr(config, name)
        if name in base and base[name] == value or name == "pack" and value == 1:
            continue
        if name == "lr_decay":
            parts += ["lr decay"] if value else []
        elif name == "instance_noise":
            parts += [f"instance noise {value:g}"] if value else []
        else:
            parts.append(f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}")
    return ", ".join(parts)


def sample_metrics(toy: toys.Toy1D | toys.Toy2D, samples: np.ndarray) -> dict[str, float]:
    """Quality of ``samples`` of G: modes and high-quality share (2-D mixtures) or JS and W1 (1-D)."""
    if isinstance(toy, toys.Toy2D):
        if not toy.has_modes:
            return {}
        stats = toys.mode_stats(samples, np.asarray(toy.modes), toy.sigma)
        return {"modes": float(stats.captured), "n_modes": float(stats.n_modes), "high_quality": stats.high_quality}
    fit = onedim.sample_fit(toy, np.asarray(samples, dtype=np.float64).ravel())
    return {"js": fit.js, "w1": fit.w1}


def evaluate(config: TrainConfig, budget_s: float | None = None, n_samples: int = N_SAMPLES,
             threads: int | None = 1) -> dict[str, Any]:  # fmt: skip
    """Train ``config`` and measure the result on ``n_samples`` fresh samples of G.

    Training stops after ``config.steps`` steps or once ``budget_s`` seconds have passed, whichever
    comes first. ``threads``: torch's intra-op threads during the run (tiny MLPs run fastest on
    one; None leaves the setting alone). Returns the toy, seed, steps done, seconds of training
    (wall clock, without building the model or measuring), steps/s, and the quality metrics of
    :func:`sample_metrics`.
    """
    if not config.is_toy:
        raise ValueError(f"the toy benchmark needs a toy distribution, got data={config.data!r}")
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        trainer = make_trainer(config)
        start = time.perf_counter()
        deadline = start + budget_s if budget_s is not None else float("inf")
        while trainer.step_count < config.steps and time.perf_counter() < deadline:
            trainer.step(with_metrics=False)
        seconds = time.perf_counter() - start
        samples = trainer.sample(n_samples).numpy()
    finally:
        torch.set_num_threads(old_threads)
    result: dict[str, Any] = {
        "toy": config.data,
        "seed": config.seed,
        "steps": trainer.step_count,
        "seconds": seconds,
        "steps_per_s": trainer.step_count / seconds if seconds > 0 else float("nan"),
        "finished": trainer.step_count == config.steps,
    }
    result.update(sample_metrics(trainer.toy, samples))
    return result


# ---------------------------------------------------------------------------- the table
def _mean_min(values: list[float], fmt: str) -> str:
    return f"{fmt.format(np.mean(values))} ({fmt.format(np.min(values))})"


def table_row(toy: str, config: TrainConfig, runs: list[dict[str, Any]]) -> str:
    """One Markdown row summarising ``runs`` (one per seed) of ``config`` on ``toy``."""
    steps = [r["steps"] for r in runs]
    secs = [r["seconds"] for r in runs]
    rates = [r["steps_per_s"] for r in runs]
    step_text = f"{int(np.mean(steps))}" if min(steps) == max(steps) else f"{min(steps)}–{max(steps)}"
    cells = [toy, describe(config), step_text, f"{np.mean(secs):.1f} (max {np.max(secs):.1f})", f"{np.mean(rates):.0f}"]
    if "modes" in runs[0]:
        n = int(runs[0]["n_modes"])
        cells += [f"{_mean_min([r['modes'] for r in runs], '{:.1f}')} of {n}",
                  _mean_min([100 * r["high_quality"] for r in runs], "{:.1f}")]  # fmt: skip
    else:
        cells += ["–", "–"]
    if "js" in runs[0]:
        js = [r["js"] for r in runs]
        cells.append(f"{np.mean(js):.4f} (max {np.max(js):.4f})")
    else:
        cells.append("–")
    cells.append(PUBLISHED.get(toy, "–"))
    return "| " + " | ".join(cells) + " |"


HEADER = ("| toy | preset | steps | seconds (mean, max) | steps/s | modes (mean, min) | % HQ (mean, min) "
          "| JS (mean, max) | published (modes / % HQ) |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m gan_demo toybench [--toys ring8,grid25,mix2] [--seeds 5] [--budget-s 60]``."""
    parser = argparse.ArgumentParser(prog="python -m gan_demo toybench", description=__doc__.splitlines()[0])
    parser.add_argument("--toys", default=",".join(BEST), help=f"comma-separated, from: {', '.join(BEST)}")
    parser.add_argument("--seeds", type=int, default=5, help="runs per toy, seeds 0..N-1")
    parser.add_argument("--budget-s", type=float, default=60.0, help="training stops after this many seconds")
    parser.add_argument("--steps", type=int, default=None, help="override the presets' step counts")
    parser.add_argument("--threads", type=int, default=1, help="torch threads while training")
    args = parser.parse_args(argv)
    names = [t.strip() for t in args.toys.split(",") if t.strip()]
    unknown = [t for t in names if t not in BEST]
    if unknown:
        parser.error(f"no tuned preset for {', '.join(unknown)}; choose from {', '.join(BEST)}")

    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"{args.seeds} seeds, budget {args.budget_s:g} s, {args.threads} thread(s), {N_SAMPLES} samples")  # fmt: skip
    rows = []
    for toy in names:
        overrides = {} if args.steps is None else {"steps": args.steps}
        runs = []
        for seed in range(args.seeds):
            config = best_config(toy, seed=seed, **overrides)
            runs.append(evaluate(config, budget_s=args.budget_s, threads=args.threads))
            r = runs[-1]
            quality = (f"modes {r['modes']:.0f}, HQ {100 * r['high_quality']:.1f} %" if "modes" in r
                       else f"JS {r['js']:.4f}, W1 {r['w1']:.3f}" if "js" in r else "")  # fmt: skip
            print(f"  {toy} seed {seed}: {r['steps']} steps in {r['seconds']:.1f} s, {quality}", flush=True)
        rows.append(table_row(toy, best_config(toy, **overrides), runs))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print()
    print(HEADER)
    print("\n".join(rows))
    return 0
