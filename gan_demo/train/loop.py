"""The training loop every objective shares (GAN, and the objectives that follow it).

:class:`Trainer` holds what does not depend on the objective: the config, the device, the run's own
random generator (seeded by ``config.seed``), the step counter and learning-rate schedules, which steps
log their metrics (:meth:`Trainer.logs`), the per-step finiteness check (:attr:`Trainer.nonfinite`,
design.md's rule R0) and the networks' tensors for checkpoints. An objective is a subclass in its own
module that builds its networks and optimizers and writes one step (``_step``), with dcgan's banners
"(1) Update D ..." and "(2) Update G ...": :mod:`gan_demo.train.gan` is the GAN of the seeds.

It never touches the UI (minGPT's ``Trainer`` habit): it keeps its state on ``self`` and returns each
step's metrics as a dict; the CLI writes them to CSV, the app's worker thread to a run object.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gan_demo import data, losses
from gan_demo.config import TrainConfig
from gan_demo.train.fastpath import FastAdam

_SMALL_IMAGE = 256  # pixels: images up to 16x16 train on one CPU thread (see cpu_threads)
INIT_LOCK = threading.Lock()  # weight init uses the global RNG: one run at a time seeds it


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' is CUDA when present, else CPU; asking for 'cuda' without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for, but PyTorch sees no CUDA GPU; use 'cpu' or 'auto'")
    return torch.device(name)


def cpu_threads(config: TrainConfig, device: torch.device) -> int | None:
    """Intra-op threads a run should use on a CPU, or None to leave PyTorch's setting alone.

    Toy networks and the 8x8 digits are so small that a second thread buys little, and on a shared
    2-core machine (a Space with several visitors, a test run beside other work) two threads that
    wait on each other's core run many times slower than one (measured: DCGAN on the digits, 33 ms
    per step with 1 thread, 258 ms with 2, while another process held a core). 28x28 images keep
    PyTorch's default: on an idle machine their matrix products gain from the second core.
    """
    if device.type != "cpu":
        return None
    small = config.is_toy or config.objective == "cyclegan" or math.prod(data.image_shape(config.data)) <= _SMALL_IMAGE
    return 1 if small else None


_THREADS_LOCK = threading.Lock()


def _in_new_thread(fn: Callable[[], object]) -> object:
    box: list[object] = []
    helper = threading.Thread(target=lambda: box.append(fn()), name="torch-threads")
    helper.start()
    helper.join()
    return box[0]


def use_threads(n: int | None) -> int:
    """Give the calling thread ``n`` intra-op threads (None: leave it alone); returns its count in effect.

    Call it once, in the thread that owns a run (the app's worker, the CLI), not around every step.
    ``torch.set_num_threads`` sets the calling thread's count and also stores it process-wide as the
    count a thread starts with when it first runs a parallel op (ATen's OpenMP backend). Left there, a
    Streamlit script thread that starts during a toy run would get one thread. So the count a new
    thread starts with is read in a fresh thread before, and written back from one after (a helper's
    own count dies with it); the caller keeps ``n``. Only a thread whose first parallel op falls in
    the instant between the two (two thread starts, once per run) would start with ``n``. Where the
    count is process-wide only (other ATen backends), writing it back resets the caller too: the
    caller then keeps PyTorch's count, and nothing leaks either way.
    """
    current = torch.get_num_threads()  # also runs ATen's one-time per-thread init, which would undo a set
    if n is None or n == current:
        return current
    with _THREADS_LOCK:  # two runs starting at once must not restore each other's n
        start_count = _in_new_thread(torch.get_num_threads)
        torch.set_num_threads(n)
        _in_new_thread(lambda: torch.set_num_threads(start_count))
    return torch.get_num_threads()


class Draws:
    """Random batches drawn many at a time: ``draws()`` returns the next ``batch`` rows of a block of
    ``batch * per_block`` rows made by one call of ``sample(n)``. Same distribution as one call per
    batch (the rows are independent), at a fraction of the per-call cost."""

    def __init__(self, sample: Callable[[int], Tensor], batch: int, per_block: int = 32):
        self.sample, self.batch, self.per_block = sample, batch, max(1, per_block)
        self._block: tuple[Tensor, ...] = ()
        self._next = 0

    def left(self) -> tuple[Tensor, ...]:
        """The batches of the current block not drawn yet (what a resumed run must draw next)."""
        return self._block[self._next :]

    def restore(self, batches: tuple[Tensor, ...]) -> None:
        """Make ``batches`` the next ones drawn, then fresh blocks as usual (:meth:`left`'s inverse)."""
        self._block, self._next = tuple(batches), 0

    def __call__(self) -> Tensor:
        if self._next == len(self._block):
            self._block = self.sample(self.batch * self.per_block).split(self.batch)
            self._next = 0
        self._next += 1
        return self._block[self._next - 1]


def grad_norm(grads: tuple[Tensor, ...]) -> Tensor:
    """The L2 norm of all the tensors in ``grads`` together, a 0-d tensor (0 for none)."""
    return torch.nn.utils.get_total_norm(grads) if grads else torch.zeros(())


@dataclass(frozen=True)
class NonFinite:
    """The first non-finite value of a run: at ``step`` (1-based), metric ``name`` became ``value``
    (inf, -inf or nan) in ``update`` ("D's update", "D update 2 of 5" or "G's update")."""

    step: int
    name: str
    value: float
    update: str

    def __str__(self) -> str:
        return f"{self.name} became {self.value} at step {self.step}, in {self.update}"


def is_finite(metrics: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in metrics.values())


class Trainer:
    """The shared part of every objective's trainer; a subclass builds the networks and writes ``_step``.

    A subclass sets, in its ``__init__`` after calling this one: its networks (:meth:`networks`), its
    optimizers (with :meth:`_optimizer`, then :meth:`_schedule` to decay them), ``fixed_noise`` and
    ``metric_names`` (the keys of a metrics row, "step" first).
    """

    def __init__(self, config: TrainConfig):
        self.config = config
        self.device = resolve_device(config.device)
        self.loss = losses.get(config.loss)
        self.gen = torch.Generator(device=self.device).manual_seed(config.seed)
        self.threads = cpu_threads(config, self.device)  # for use_threads(); step() does not set it
        self._one = torch.ones((), device=self.device)  # d(loss)/d(loss), for scalar_grads
        self.schedulers: list[torch.optim.lr_scheduler.LRScheduler] = []
        self.step_count = 0
        self.nonfinite: NonFinite | None = None  # the first step whose metrics were not all finite
        self.fixed_noise: Tensor
        self.G: torch.nn.Module  # the objective's generator and discriminator (CycleGAN: G: X→Y, D_Y)
        self.D: torch.nn.Module
        self.opt_g: torch.optim.Optimizer  # the generator side's optimizer, and the discriminator side's
        self.opt_d: torch.optim.Optimizer
        self.metric_names: tuple[str, ...] = ("step",)

    def _optimizer(self, net: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        """The config's optimizer for ``net``: RMSprop (WGAN's paper), else Adam (:class:`FastAdam`)."""
        cfg = self.config
        if cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(net.parameters(), lr=lr, foreach=True)
        return FastAdam(net.parameters(), lr=lr, betas=(cfg.beta1, cfg.beta2))

    def _schedule(self, *optimizers: torch.optim.Optimizer) -> None:
        """With ``lr_decay``, every learning rate falls linearly to 0 over ``steps`` (one schedule each)."""
        cfg = self.config
        if cfg.lr_decay:
            decay = lambda t: max(0.0, 1.0 - t / cfg.steps)  # noqa: E731
            self.schedulers = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in optimizers]

    def _end_of_updates(self) -> None:
        """Called by ``_step`` after its last optimizer step: the schedules advance, the step counts."""
        for s in self.schedulers:
            s.step()
        self.step_count += 1

    def networks(self) -> dict[str, torch.nn.Module]:
        """The run's networks by name: what a checkpoint saves. ``G`` and ``D`` unless the objective has
        others (CycleGAN's four)."""
        return {"G": self.G, "D": self.D}

    # ------------------------------------------------------------------ training
    def logs(self, step: int) -> bool:
        """Whether step number ``step`` (1-based) is logged: the first, every ``log_every``-th and the
        last (the CLI and the app's worker log the same rows)."""
        return step == 1 or step % self.config.log_every == 0 or step == self.config.steps

    def step(self, with_metrics: bool = True) -> dict[str, float] | None:
        """Run one training step of the objective; return the step's metrics, or None when
        ``with_metrics`` is False.

        Every step, logged or not, checks that what a metric row reports is finite (design.md's rule
        R0) in one norm and one host read. The first step that fails sets :attr:`nonfinite` and returns
        its metrics row even when ``with_metrics`` is False, so the caller can log it and stop.

        The step leaves torch's thread count alone: whoever owns the thread sets it once
        (:func:`use_threads`, with :attr:`threads`), not around every step.
        """
        return self._step(with_metrics)

    def _step(self, with_metrics: bool) -> dict[str, float] | None:
        raise NotImplementedError

    # the order in which a step computes its metrics: the first non-finite one is named as the cause
    # (an objective may list its own; by default, the order of metric_names)
    _CAUSE_ORDER: tuple[str, ...] = ()
    _G_METRICS = ("d_fake_g", "loss_g", "grad_g")  # computed in G's update

    def _constraint_metric_names(self) -> list[str]:
        """The metric names the critic's constraints add, in this order: ``gp`` and ``gp_norm`` with
        the gradient penalty, ``w1`` for the WGAN family, ``clip_frac`` with weight clipping."""
        cfg, names = self.config, []
        if cfg.gp_weight > 0:
            names += ["gp", "gp_norm"]
        if self.loss.family == "wgan":
            names += ["w1"]
        if cfg.clip > 0:
            names += ["clip_frac"]
        return names

    def _first_nonfinite(self, d_updates: list[tuple[Tensor, tuple[Tensor, ...]]],
                         row: dict[str, float]) -> NonFinite | None:  # fmt: skip
        """What went non-finite first in this step: the L_D (+ penalty) or ‖∇D‖ of a D update before the
        last (not in the row), else the first non-finite metric of the row in the order the step
        computes them; None if every one of them is finite."""
        d_steps, step = self.config.d_steps, self.step_count
        for k, (total, grads) in enumerate(d_updates[:-1]):
            for name, value in (("loss_d", total.item()), ("grad_d", grad_norm(grads).item())):
                if not math.isfinite(value):
                    if name == "loss_d" and self.config.gp_weight > 0:
                        name = "loss_d + gp"
                    return NonFinite(step, name, value, f"D update {k + 1} of {d_steps}")
        order = self._CAUSE_ORDER or self.metric_names[1:]
        name = next((n for n in order if n in row and not math.isfinite(row[n])), None)
        if name is None:
            return None
        where = "G's update" if name in self._G_METRICS else (
            f"D update {d_steps} of {d_steps}" if d_steps > 1 else "D's update")  # fmt: skip
        return NonFinite(step, name, row[name], where)

    @staticmethod
    def _all_finite(checked: list[Tensor]) -> bool:
        """One norm over flat tensors: finite exactly when all of them are and their sum of squares stays
        below float32's 3.4e38 (which a gradient norm metric above 1.8e19 would not either); a step that
        fails computes its row to see which value it was."""
        return bool(torch.linalg.vector_norm(torch.cat(checked)).isfinite())  # one host read

    # ------------------------------------------------------------------ checkpoints
    def state_tensors(self) -> dict[str, Tensor]:
        """Every network's state as ``"<name>.<key>"`` tensors on the CPU, and ``fixed_noise``."""
        out = {f"{name}.{k}": v.detach().cpu().contiguous()
               for name, net in self.networks().items() for k, v in net.state_dict().items()}  # fmt: skip
        out["fixed_noise"] = self.fixed_noise.cpu().contiguous()
        return out

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        """Load what :meth:`state_tensors` wrote (raises like ``load_state_dict`` on missing or
        unexpected keys and wrong shapes)."""
        for name, net in self.networks().items():
            prefix = name + "."
            net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        if "fixed_noise" in tensors:
            self.fixed_noise = tensors["fixed_noise"].to(self.device)

    # ------------------------------------------------------------------ resume
    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """The run's optimizers by name: what a resumable run folder saves. Every objective has one for
        its generator side (``opt_g``) and one for its discriminator side (``opt_d``)."""
        return {"opt_g": self.opt_g, "opt_d": self.opt_d}

    def _draws(self) -> dict[str, Draws]:
        """The run's blocks of pre-drawn batches by name (see :class:`Draws`)."""
        raise NotImplementedError(f"the {self.config.objective} objective cannot be resumed yet")

    def resume_state(self) -> tuple[dict[str, Tensor], dict]:
        """What continuing this run bit for bit needs besides :meth:`state_tensors`: (tensors on the
        CPU, JSON-able values).

        Tensors: ``rng`` (:attr:`gen`'s state, uint8), ``draws.<name>`` (the batches left in the
        current block of each :class:`Draws`, stacked to (k, batch, ...); absent when none is left),
        ``<opt>.<i>.<key>`` (each optimizer's per-parameter state: Adam's step, exp_avg, exp_avg_sq;
        RMSprop's step, square_avg). Values: ``step_count``, ``draws`` (batches left per block), one
        entry per optimizer (``param_groups`` and non-tensor state), ``schedulers`` (their
        ``state_dict``). Raises NotImplementedError for an objective that cannot be resumed.
        """
        tensors: dict[str, Tensor] = {"rng": self.gen.get_state()}
        values: dict = {"step_count": self.step_count, "draws": {},
                        "schedulers": [s.state_dict() for s in self.schedulers]}  # fmt: skip
        for name, draws in self._draws().items():
            rest = draws.left()
            values["draws"][name] = len(rest)
            if rest:
                tensors[f"draws.{name}"] = torch.stack(rest).cpu()
        for name, opt in self.optimizers().items():
            sd = opt.state_dict()
            other: dict[str, dict] = {}
            for index, state in sd["state"].items():
                for key, value in state.items():
                    if isinstance(value, Tensor):  # cloned: Adam's shared step counter is one tensor
                        tensors[f"{name}.{index}.{key}"] = value.detach().cpu().clone()
                    else:
                        other.setdefault(str(index), {})[key] = value
            values[name] = {"param_groups": sd["param_groups"], "state": other}
        return tensors, values

    def load_resume_state(self, tensors: dict[str, Tensor], values: dict) -> None:
        """Restore what :meth:`resume_state` returned (after :meth:`load_state_tensors`); the next
        :meth:`step` is then the one the saved run would have taken. Raises ``KeyError``,
        ``ValueError`` or ``RuntimeError`` when the state does not fit this trainer's networks."""
        self.gen.set_state(tensors["rng"].to(torch.uint8))
        for name, draws in self._draws().items():
            left = int(values["draws"][name])
            block = tensors[f"draws.{name}"].to(self.device) if left else None
            if block is not None and len(block) != left:
                raise ValueError(f"draws.{name} holds {len(block)} batches, the state says {left}")
            draws.restore(tuple(block.unbind(0)) if block is not None else ())
        for name, opt in self.optimizers().items():
            saved = values[name]
            state: dict[int, dict] = {}
            for key, value in tensors.items():
                if key.startswith(name + "."):
                    index, field = key[len(name) + 1 :].split(".", 1)
                    state.setdefault(int(index), {})[field] = value
            for index, other in saved["state"].items():
                state.setdefault(int(index), {}).update(other)
            groups = [{**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in saved["param_groups"]]
            opt.load_state_dict({"state": state, "param_groups": groups})
        if len(values["schedulers"]) != len(self.schedulers):
            raise ValueError(f"{len(values['schedulers'])} schedulers saved, this run has {len(self.schedulers)}")
        for sched, sd in zip(self.schedulers, values["schedulers"], strict=True):
            sched.load_state_dict(sd)
        self.step_count = int(values["step_count"])
