"""The trainer: one ``step()`` = the D (critic) updates, then one G update.

It never touches the UI (minGPT's ``Trainer`` habit): it keeps its state on ``self`` and returns each
step's metrics as a dict; the CLI writes them to CSV, the app's worker thread to a run object.

Speed on a CPU comes from doing less Python per step, not from a different algorithm (a toy step is
a few hundred tiny operations, so their per-call overhead is most of its time):
- the whole data set is one tensor on the device, and a batch is one ``index_select``; toy samples,
  noise and image indices are drawn for many steps at once (:class:`Draws`);
- real and fake go through D in one forward pass (D has no BatchNorm, so this changes nothing);
- the fakes of the last D update are reused for G's update (as in pytorch/examples' dcgan);
- gradients come from the autograd engine for the updated network only (:func:`scalar_grads`): G's
  update computes no gradient for D's weights, and no ``.grad`` has to be zeroed or accumulated;
- a toy step works in the networks' own units (data / std), so no scaling runs on G's output or D's
  input, and the MLPs run their layers as a loop of ``F.linear`` (``models._run``);
- fused Adam, called without Adam's per-step Python bookkeeping (:class:`FastAdam`); metrics are
  computed only on the steps that log them, and read in one transfer; every step checks with one norm
  over its losses, logits and gradients that they are finite (:attr:`Trainer.nonfinite`);
- small models (toys, 8x8 digits) run on one CPU thread (:func:`cpu_threads`), set once by the thread
  that owns the run (:func:`use_threads`).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from gan_demo import data, losses, models, toys
from gan_demo.config import TrainConfig

_SMALL_IMAGE = 256  # pixels: images up to 16x16 train on one CPU thread (see cpu_threads)
_INIT_LOCK = threading.Lock()  # weight init uses the global RNG: one run at a time seeds it


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
    small = config.is_toy or math.prod(data.image_shape(config.data)) <= _SMALL_IMAGE
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


class FastAdam(torch.optim.Adam):
    """``torch.optim.Adam(fused=True)`` without its per-step Python bookkeeping.

    After the first step (which builds the state the usual way), :meth:`apply` calls the same fused
    kernel that ``Adam.step`` ends in (``torch._fused_adam_``) on cached lists of the parameters and
    their state, with gradients passed in (the trainer gets them from ``torch.autograd.grad``); all
    parameters share one step counter, since they always step together. The results are
    bit-identical to Adam's (tests/test_training.py checks it), and ``step()``, ``state_dict()`` and
    LR schedulers work as for Adam. On the toy MLPs Adam's bookkeeping costs more than its
    arithmetic (about 0.1 ms per call, twice per step). Anything unusual (a closure, AMSGrad, weight
    decay, hooks, a tensor lr) takes Adam's own path.
    """

    def __init__(self, params, lr: float, betas: tuple[float, float]):
        super().__init__(params, lr=lr, betas=betas, fused=True)
        self._lists: tuple[list[Tensor], ...] | None = None

    def _fast_lists(self) -> tuple[list[Tensor], ...] | None:
        group = self.param_groups[0]
        if (len(self.param_groups) != 1 or group["amsgrad"] or group["weight_decay"] or group["maximize"]
                or group.get("decoupled_weight_decay") or isinstance(group["lr"], Tensor)
                or self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks
                or not hasattr(torch, "_fused_adam_")):  # fmt: skip
            return None
        if self._lists is None:
            params = group["params"]
            if not all(p in self.state for p in params):  # the first step builds the state
                return None
            state = [self.state[p] for p in params]
            if any(not torch.equal(s["step"], state[0]["step"]) for s in state):
                return None
            for s in state:  # one counter for all: a single add per step instead of one per tensor
                s["step"] = state[0]["step"]
            self._lists = (params, [s["exp_avg"] for s in state], [s["exp_avg_sq"] for s in state],
                           [s["step"] for s in state])  # fmt: skip
        return self._lists

    @torch.no_grad()
    def apply(self, grads: list[Tensor] | tuple[Tensor, ...]) -> None:
        """One Adam step of every parameter (in ``param_groups`` order) with these gradients."""
        lists = self._fast_lists()
        if lists is None:  # the first step, or an unusual setting: Adam's own path, through .grad
            _step_through_grad(self, [p for g in self.param_groups for p in g["params"]], grads)
        else:
            self._fused_step(lists, grads)

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[override]
        lists = None if closure is not None else self._fast_lists()
        grads = None if lists is None else [p.grad for p in lists[0]]
        if lists is None or grads is None or any(g is None for g in grads):
            return super().step(closure)
        self._fused_step(lists, grads)
        return None

    def _fused_step(self, lists: tuple[list[Tensor], ...], grads: list[Tensor] | tuple[Tensor, ...]) -> None:
        params, exp_avgs, exp_avg_sqs, steps = lists
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        steps[0].add_(1)  # the shared counter
        torch._fused_adam_(params, list(grads), exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"],
                           beta1=beta1, beta2=beta2, weight_decay=0.0, eps=group["eps"], maximize=False,
                           grad_scale=None, found_inf=None)  # fmt: skip

    def load_state_dict(self, state_dict) -> None:
        self._lists = None  # the state's tensors are replaced
        super().load_state_dict(state_dict)


def _step_through_grad(opt: torch.optim.Optimizer, params: list[Tensor], grads) -> None:
    for p, g in zip(params, grads, strict=True):
        p.grad = g
    opt.step()
    for p in params:
        p.grad = None


def _autograd_engine():
    """The C++ autograd engine, if this PyTorch exposes it with the call :func:`scalar_grads` makes
    (a private interface: checked once on a one-weight example, else None and the public path)."""
    engine = getattr(torch.autograd.Variable, "_execution_engine", None)
    try:
        w = torch.tensor([3.0], requires_grad=True)
        (grad,) = engine.run_backward(((w * w).sum(),), (torch.ones(()),), False, False, (w,), False, False)
        return engine if torch.equal(grad, torch.tensor([6.0])) else None
    except (AttributeError, RuntimeError, TypeError):
        return None


_ENGINE = _autograd_engine()


def scalar_grads(loss: Tensor, params: list[Tensor], one: Tensor) -> tuple[Tensor, ...]:
    """``torch.autograd.grad(loss, params)`` for a scalar ``loss``, called straight on the autograd engine.

    ``one`` is ``torch.ones_like(loss)``, made once by the caller. ``torch.autograd.grad`` ends in the
    same engine call; on the way it normalises its arguments, makes that ones tensor and stashes a copy
    of the context in thread-local state. On the toy MLPs that wrapper is a tenth of a training step
    (measured on the default toy run, 2-core VM: 571 → 642 steps/s, medians of 50 interleaved rounds,
    the same weights bit for bit). Same errors as ``torch.autograd.grad`` (a parameter the loss does
    not use raises); where the engine is not exposed, ``torch.autograd.grad`` itself runs.
    """
    if _ENGINE is None:
        return torch.autograd.grad(loss, params)
    return _ENGINE.run_backward((loss,), (one,), False, False, tuple(params), False, False)


def apply_gradients(opt: torch.optim.Optimizer, params: list[Tensor], grads: tuple[Tensor, ...]) -> None:
    """One optimizer step of ``params`` with ``grads``: FastAdam's direct path, else through ``.grad``."""
    if isinstance(opt, FastAdam):
        opt.apply(grads)
    else:
        _step_through_grad(opt, params, grads)


class Draws:
    """Random batches drawn many at a time: ``draws()`` returns the next ``batch`` rows of a block of
    ``batch * per_block`` rows made by one call of ``sample(n)``. Same distribution as one call per
    batch (the rows are independent), at a fraction of the per-call cost."""

    def __init__(self, sample: Callable[[int], Tensor], batch: int, per_block: int = 32):
        self.sample, self.batch, self.per_block = sample, batch, max(1, per_block)
        self._block: tuple[Tensor, ...] = ()
        self._next = 0

    def __call__(self) -> Tensor:
        if self._next == len(self._block):
            self._block = self.sample(self.batch * self.per_block).split(self.batch)
            self._next = 0
        self._next += 1
        return self._block[self._next - 1]


def _norm(grads: tuple[Tensor, ...]) -> Tensor:
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


class Trainer:
    """Trains one GAN as described by a :class:`TrainConfig`."""

    def __init__(self, config: TrainConfig, images: Tensor | None = None):
        self.config = cfg = config
        self.device = resolve_device(cfg.device)
        self.loss = losses.get(cfg.loss)
        self.gen = torch.Generator(device=self.device).manual_seed(cfg.seed)

        # the data: a toy sampler, or every image as one tensor on the device
        self.toy: toys.Toy1D | toys.Toy2D | None = toys.get(cfg.data) if cfg.is_toy else None
        if self.toy is not None:
            self.images = None
            self.data_shape: tuple[int, ...] = (self.toy.dim,)
        else:
            imgs = images if images is not None else data.load_images(cfg.data, cfg.data_root)
            self.images = imgs.to(self.device, torch.float32)
            self.data_shape = tuple(self.images.shape[1:])

        # the data's std: toy networks see x / std, and instance noise is measured in it (images: 1)
        self._data_std = self.toy.scale if self.toy is not None else 1.0
        with _INIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            G, D = models.build(cfg.model, self.data_shape, cfg.z_dim, cfg.hidden, cfg.pack, toy=self.toy is not None,
                                scale=self._data_std)  # fmt: skip
        self.G, self.D = G.to(self.device), D.to(self.device)
        # a step works in the networks' own units (toys: data / std): real batches are divided once per
        # block of draws, and G's output is not multiplied up, then divided again, on every step
        self._g_step, self._d_step = (G.raw, D.raw) if self.toy is not None else (G, D)
        self._g_params, self._d_params = list(self.G.parameters()), list(self.D.parameters())
        self._one = torch.ones((), device=self.device)  # d(loss)/d(loss), for scalar_grads
        self.threads = cpu_threads(cfg, self.device)  # for use_threads(); step() does not set it
        self.opt_g = self._optimizer(self.G, cfg.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.lr_d)
        self.schedulers = []
        if cfg.lr_decay:
            decay = lambda t: max(0.0, 1.0 - t / cfg.steps)  # noqa: E731
            self.schedulers = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (self.opt_g, self.opt_d)]

        n_fixed = 2500 if self.toy is not None else 64
        self.fixed_noise = torch.randn(n_fixed, cfg.z_dim, generator=self.gen, device=self.device)
        # the training batches, drawn 32 steps at a time (see Draws)
        self._noise = Draws(self.noise, cfg.batch_size)
        if self.toy is not None:
            self._real = Draws(lambda n: self.real_batch(n) * (1.0 / self._data_std), cfg.batch_size)
        else:
            pick = Draws(lambda n: torch.randint(len(self.images), (n,), generator=self.gen, device=self.device),
                         cfg.batch_size)  # fmt: skip
            self._pick = pick  # for resume_state: the image indices left in the current block
            self._real = lambda: self.images.index_select(0, pick())
        # instance noise for D's inputs: 2B rows for D's batch, then B for G's update
        self._instance = Draws(lambda n: torch.randn(n, *self.data_shape, generator=self.gen, device=self.device),
                               3 * cfg.batch_size, per_block=32 if self.toy is not None else 4)  # fmt: skip
        self.step_count = 0
        self.nonfinite: NonFinite | None = None  # the first step whose metrics were not all finite
        self.metric_names = self._metric_names()

    def _optimizer(self, net: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
        cfg = self.config
        if cfg.optimizer == "rmsprop":
            return torch.optim.RMSprop(net.parameters(), lr=lr, foreach=True)
        return FastAdam(net.parameters(), lr=lr, betas=(cfg.beta1, cfg.beta2))

    def _metric_names(self) -> tuple[str, ...]:
        names = ["step", "loss_d", "loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake", "d_fake_g",
                 "d_acc", "grad_d", "grad_g"]  # fmt: skip
        if self.config.gp_weight > 0:
            names += ["gp", "gp_norm"]
        if self.loss.family == "wgan":
            names += ["w1"]
        if self.config.clip > 0:
            names += ["clip_frac"]
        return tuple(names)

    # ------------------------------------------------------------------ sampling
    def real_batch(self, n: int | None = None) -> Tensor:
        n = n or self.config.batch_size
        if self.toy is not None:
            return self.toy.sample(n, self.gen, self.device)
        idx = torch.randint(len(self.images), (n,), generator=self.gen, device=self.device)
        return self.images.index_select(0, idx)

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.config.z_dim, generator=self.gen, device=self.device)

    @torch.no_grad()
    def sample(self, n: int | None = None, noise: Tensor | None = None) -> Tensor:
        """G's samples on the CPU: from ``noise``, or ``n`` fresh draws (in batches of 4,096)."""
        self.G.eval()
        try:
            if noise is None:
                noise = self.noise(n if n is not None else len(self.fixed_noise))
            return torch.cat([self.G(z) for z in noise.split(4096)]).cpu()
        finally:
            self.G.train()

    def fixed_samples(self) -> Tensor:
        """G's samples from the run's fixed noise, the same z for the whole run."""
        return self.sample(noise=self.fixed_noise)

    @torch.no_grad()
    def d_values(self, x: Tensor) -> Tensor:
        """D's output on points x (σ(logit) for BCE losses, raw otherwise); packs each point with itself."""
        x = x.to(self.device, torch.float32).repeat_interleave(self.config.pack, 0)
        return self.loss.d_output(self.D(x)).cpu()

    def instance_noise_std(self) -> float:
        """Std of the instance noise D's inputs get at this step, in data units: ``instance_noise`` ×
        the data's std (a toy's ``scale``; images: 1 on the [-1, 1] pixel scale), falling linearly to
        0 over the run."""
        cfg = self.config
        if cfg.instance_noise <= 0:
            return 0.0
        return cfg.instance_noise * self._data_std * max(0.0, 1.0 - self.step_count / cfg.steps)

    # ------------------------------------------------------------------ training
    def logs(self, step: int) -> bool:
        """Whether step number ``step`` (1-based) is logged: the first, every ``log_every``-th and the
        last (the CLI and the app's worker log the same rows)."""
        return step == 1 or step % self.config.log_every == 0 or step == self.config.steps

    def step(self, with_metrics: bool = True) -> dict[str, float] | None:
        """Run ``d_steps`` D updates and one G update; return the step's metrics, or None when
        ``with_metrics`` is False.

        Every step, logged or not, checks that what a metric row reports is finite (design.md's rule
        R0): L_D with the penalty and D's gradients in every D update, D's logits, L_G and G's
        gradients, all in one norm and one host read. The first step that fails sets :attr:`nonfinite`
        and returns its metrics row even when ``with_metrics`` is False, so the caller can log it and
        stop.

        The step leaves torch's thread count alone: whoever owns the thread sets it once
        (:func:`use_threads`, with :attr:`threads`), not around every step.
        """
        return self._step(with_metrics)

    def _step(self, with_metrics: bool) -> dict[str, float] | None:
        cfg, loss, G, D = self.config, self.loss, self._g_step, self._d_step
        n_out = cfg.batch_size // cfg.pack  # D judges packed samples: B samples give B/pack logits
        gp_term = gp_norm = None
        sigma = self.instance_noise_std() / self._data_std  # in the networks' units
        checked: list[Tensor] = []  # flat values whose finiteness every step checks at once (see step())
        d_updates: list[tuple[Tensor, tuple[Tensor, ...]]] = []

        # (1) Update D: maximise V(D, G), i.e. minimise L_D(D(x), D(G(z)))
        for k in range(cfg.d_steps):
            last = k == cfg.d_steps - 1
            real = self._real()
            with torch.set_grad_enabled(last):  # keep G's graph only for the fakes G's update reuses
                fake = G(self._noise())
            both = torch.cat([real, fake.detach()])
            if sigma > 0:  # instance noise: D sees real and fake through the same blur
                noise = self._instance()
                both = both + sigma * noise[: 2 * cfg.batch_size]
            logits = D(both)
            l_real, l_fake = logits.split(n_out)  # one node in the backward pass (two slices make two)
            real_term, fake_term = loss.d_terms(l_real, l_fake)
            d_loss = real_term + fake_term
            total = d_loss
            if cfg.gp_weight > 0:
                std = self._data_std  # the penalty holds D's gradient to 1 in the data's own units
                penalty, norms = losses.gradient_penalty(self.D, real * std, fake.detach() * std, self.gen,
                                                         pack=cfg.pack)  # fmt: skip
                gp_term, gp_norm = cfg.gp_weight * penalty, norms  # one norm per packed input
                total = total + gp_term
            d_grads = scalar_grads(total, self._d_params, self._one)
            d_updates.append((total, d_grads))
            checked += [total.detach().reshape(1), *(g.reshape(-1) for g in d_grads)]
            apply_gradients(self.opt_d, self._d_params, d_grads)
            if cfg.clip > 0:
                with torch.no_grad():
                    torch._foreach_clamp_min_(self._d_params, -cfg.clip)
                    torch._foreach_clamp_max_(self._d_params, cfg.clip)

        # (2) Update G: minimise L_G(D(G(z))) with D fixed (gradients for G's weights only)
        l_fake_g = D(fake + sigma * noise[2 * cfg.batch_size :] if sigma > 0 else fake)
        g_loss = loss.g_loss(l_fake_g)
        g_grads = scalar_grads(g_loss, self._g_params, self._one)
        apply_gradients(self.opt_g, self._g_params, g_grads)
        for s in self.schedulers:
            s.step()
        self.step_count += 1

        # every step: one norm over the losses, D's outputs and both gradients. It is finite exactly when
        # all of them are and their sum of squares stays below float32's 3.4e38 (which a gradient norm
        # metric above 1.8e19 would not either); a step that fails computes its row to see which.
        checked += [logits.detach(), l_fake_g.detach(), g_loss.detach().reshape(1), *(g.reshape(-1) for g in g_grads)]
        finite = bool(torch.linalg.vector_norm(torch.cat(checked)).isfinite())  # one host read
        if finite and not with_metrics:
            return None

        with torch.no_grad():
            out_real, out_fake = loss.d_output(l_real), loss.d_output(l_fake)
            threshold = loss.decision_threshold
            if loss.family == "wgan":  # a critic has no fixed threshold: split at the midpoint
                threshold = 0.5 * (l_real.mean() + l_fake.mean())
            acc = 0.5 * ((l_real > threshold).float().mean() + (l_fake < threshold).float().mean())
            values = [d_loss, real_term, fake_term, g_loss, out_real.mean(), out_fake.mean(),
                      loss.d_output(l_fake_g).mean(), acc, _norm(d_grads), _norm(g_grads)]  # fmt: skip
            if cfg.gp_weight > 0:
                values += [gp_term, gp_norm.mean()]
            if loss.family == "wgan":
                values += [-d_loss]  # E[D(x)] - E[D(G(z))] <= K*W1 for a K-Lipschitz critic
            if cfg.clip > 0:
                flat = torch.cat([p.detach().abs().flatten() for p in self._d_params])
                values += [(flat >= 0.99 * cfg.clip).float().mean()]
            numbers = torch.stack([v.detach().float().reshape(()) for v in values]).tolist()
        row = dict(zip(self.metric_names, [float(self.step_count)] + numbers, strict=True))
        if not finite and self.nonfinite is None:
            self.nonfinite = self._first_nonfinite(d_updates, row)
            if self.nonfinite is None and not with_metrics:
                return None  # finite values whose squares overflowed the check: not a metric's business
        return row

    # the order in which a step computes its metrics: the first non-finite one is named as the cause
    _CAUSE_ORDER = ("d_real", "d_fake", "loss_d_real", "loss_d_fake", "loss_d", "gp_norm", "gp", "w1", "grad_d",
                    "d_fake_g", "loss_g", "grad_g")  # fmt: skip

    def _first_nonfinite(self, d_updates: list[tuple[Tensor, tuple[Tensor, ...]]],
                         row: dict[str, float]) -> NonFinite | None:  # fmt: skip
        """What went non-finite first in this step: the L_D (+ penalty) or ‖∇D‖ of a D update before the
        last (not in the row), else the first non-finite metric of the row in the order the step
        computes them; None if every one of them is finite."""
        d_steps, step = self.config.d_steps, self.step_count
        for k, (total, grads) in enumerate(d_updates[:-1]):
            for name, value in (("loss_d", total.item()), ("grad_d", _norm(grads).item())):
                if not math.isfinite(value):
                    if name == "loss_d" and self.config.gp_weight > 0:
                        name = "loss_d + gp"
                    return NonFinite(step, name, value, f"D update {k + 1} of {d_steps}")
        name = next((n for n in self._CAUSE_ORDER if n in row and not math.isfinite(row[n])), None)
        if name is None:
            return None
        where = "G's update" if name in ("d_fake_g", "loss_g", "grad_g") else (
            f"D update {d_steps} of {d_steps}" if d_steps > 1 else "D's update")  # fmt: skip
        return NonFinite(step, name, row[name], where)

    # ------------------------------------------------------------------ checkpoints
    def state_tensors(self) -> dict[str, Tensor]:
        out = {f"G.{k}": v.detach().cpu().contiguous() for k, v in self.G.state_dict().items()}
        out.update({f"D.{k}": v.detach().cpu().contiguous() for k, v in self.D.state_dict().items()})
        out["fixed_noise"] = self.fixed_noise.cpu().contiguous()
        return out

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        g = {k[2:]: v for k, v in tensors.items() if k.startswith("G.")}
        d = {k[2:]: v for k, v in tensors.items() if k.startswith("D.")}
        self.G.load_state_dict(g)
        self.D.load_state_dict(d)
        if "fixed_noise" in tensors:
            self.fixed_noise = tensors["fixed_noise"].to(self.device)

    # ------------------------------------------------------------------ resume
    def _draws(self) -> dict[str, Draws]:
        real = self._real if isinstance(self._real, Draws) else self._pick
        return {"noise": self._noise, "real": real, "instance": self._instance}

    def resume_state(self) -> tuple[dict[str, Tensor], dict]:
        """What continuing this run bit for bit needs besides :meth:`state_tensors`: (tensors on the
        CPU, JSON-able values).

        Tensors: ``rng`` (:attr:`gen`'s state, uint8), ``draws.<name>`` (the batches left in the
        current block of each :class:`Draws`: noise, real (toys: points; images: indices) and
        instance noise, stacked to (k, batch, ...); absent when none is left), ``opt_g.<i>.<key>`` and
        ``opt_d.<i>.<key>`` (each optimizer's per-parameter state: Adam's step, exp_avg, exp_avg_sq;
        RMSprop's step, square_avg). Values: ``step_count``, ``draws`` (batches left per block),
        ``opt_g`` / ``opt_d`` (``param_groups`` and non-tensor state), ``schedulers`` (their
        ``state_dict``).
        """
        tensors: dict[str, Tensor] = {"rng": self.gen.get_state()}
        values: dict = {"step_count": self.step_count, "draws": {},
                        "schedulers": [s.state_dict() for s in self.schedulers]}  # fmt: skip
        for name, draws in self._draws().items():
            rest = draws._block[draws._next :]
            values["draws"][name] = len(rest)
            if rest:
                tensors[f"draws.{name}"] = torch.stack(rest).cpu()
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
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
            draws._block, draws._next = (tuple(block.unbind(0)) if block is not None else ()), 0
        for name, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
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


def is_finite(metrics: dict[str, float]) -> bool:
    return all(math.isfinite(v) for v in metrics.values())
