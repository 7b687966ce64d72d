"""The GAN objective of the seeds: one step = ``d_steps`` updates of D (the critic), then one of G.

Speed on a CPU comes from doing less Python per step, not from a different algorithm (a toy step is
a few hundred tiny operations, so their per-call overhead is most of its time):
- the whole data set is one tensor on the device, and a batch is one ``index_select``; toy samples,
  noise and image indices are drawn for many steps at once (:class:`~gan_demo.train.loop.Draws`);
- real and fake go through D in one forward pass (D has no BatchNorm, so this changes nothing), and
  for the BCE and least-squares losses on images D's loss over both is one torch op (:data:`ONE_OP_D_LOSS`), as
  is G's (:data:`ONE_OP_G_LOSS`): the same value as the loss's terms to float32 rounding, a handful
  fewer operations and autograd nodes per update; the terms themselves are computed on the steps that
  log them;
- the fakes of the last D update are reused for G's update (as in pytorch/examples' dcgan);
- gradients come from the autograd engine for the updated network only
  (:func:`~gan_demo.train.fastpath.scalar_grads`): G's update computes no gradient for D's weights, and
  no ``.grad`` has to be zeroed or accumulated;
- a toy step works in the networks' own units (data / std), so no scaling runs on G's output or D's
  input, and the MLPs run their layers as a loop of ``F.linear`` (``models._run``);
- fused Adam, called without Adam's per-step Python bookkeeping
  (:class:`~gan_demo.train.fastpath.FastAdam`); metrics are computed only on the steps that log them,
  and read in one transfer; every step checks with one norm over its losses, logits and gradients that
  they are finite (:attr:`Trainer.nonfinite`);
- small models (toys, 8x8 digits) run on one CPU thread (:func:`~gan_demo.train.loop.cpu_threads`),
  set once by the thread that owns the run (:func:`~gan_demo.train.loop.use_threads`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_demo import data, losses, models, toys
from gan_demo.config import TrainConfig
from gan_demo.train.fastpath import apply_gradients, clamp_, scalar_grads
from gan_demo.train.loop import INIT_LOCK, Draws, Trainer, grad_norm

# D's loss over the logits of real then fake (one tensor of 2n) against ``target`` (n ones, then n
# zeros), in one op, keyed by the loss's d_terms; equal to real_term + fake_term up to float32 rounding:
# - BCE (Goodfellow et al. 2014): E[softplus(-l_r)] + E[softplus(l_f)] = 2 × the mean over all 2n of
#   BCE-with-logits(l, t), whose terms are softplus(-l) for t = 1 and softplus(l) for t = 0;
# - least squares (Mao et al. 2017): ½E[(l_r - 1)²] + ½E[l_f²] = the mean over all 2n of (l - t)².
ONE_OP_D_LOSS = {
    losses.bce_d_terms: lambda logits, target: 2.0 * F.binary_cross_entropy_with_logits(logits, target),
    losses.lsgan_d_terms: F.mse_loss,
}
# G's loss on D's logits of the fakes against ``ones`` (n ones), in one op where it is one (or two):
# non-saturating E[softplus(-l_f)] = BCE-with-logits(l_f, 1); least squares ½E[(l_f - 1)²] = ½ MSE(l_f, 1)
ONE_OP_G_LOSS = {
    losses.non_saturating_g_loss: F.binary_cross_entropy_with_logits,
    losses.lsgan_g_loss: lambda logits, ones: 0.5 * F.mse_loss(logits, ones),
}


class GanTrainer(Trainer):
    """Trains one GAN as described by a :class:`TrainConfig` (objective "gan")."""

    def __init__(self, config: TrainConfig, images: Tensor | None = None):
        super().__init__(config)
        cfg = config

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
        with INIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            G, D = models.build(cfg.model, self.data_shape, cfg.z_dim, cfg.hidden, cfg.pack, toy=self.toy is not None,
                                scale=self._data_std)  # fmt: skip
        self.G, self.D = G.to(self.device), D.to(self.device)
        # a step works in the networks' own units (toys: data / std): real batches are divided once per
        # block of draws, and G's output is not multiplied up, then divided again, on every step
        self._g_step, self._d_step = (G.raw, D.raw) if self.toy is not None else (G, D)
        self._g_params, self._d_params = list(self.G.parameters()), list(self.D.parameters())
        self.opt_g = self._optimizer(self.G, cfg.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.lr_d)
        self._schedule(self.opt_g, self.opt_d)

        n_fixed = 2500 if self.toy is not None else 64
        self.fixed_noise = torch.randn(n_fixed, cfg.z_dim, generator=self.gen, device=self.device)
        # the training batches, drawn 32 steps at a time (see Draws)
        self._noise = Draws(self.noise, cfg.batch_size)
        if self.toy is not None:
            self._real = Draws(lambda n: self.real_batch(n) * (1.0 / self._data_std), cfg.batch_size)
        else:
            self._pick = Draws(lambda n: torch.randint(len(self.images), (n,), generator=self.gen, device=self.device),
                               cfg.batch_size)  # fmt: skip
            self._real = lambda: self.images.index_select(0, self._pick())
        # instance noise for D's inputs: 2B rows for D's batch, then B for G's update
        self._instance = Draws(lambda n: torch.randn(n, *self.data_shape, generator=self.gen, device=self.device),
                               3 * cfg.batch_size, per_block=32 if self.toy is not None else 4)  # fmt: skip
        self.metric_names = self._metric_names()
        # the one-op losses (None: the loss's own terms), with their targets made once. Images only: the
        # toy presets' documented outcomes were measured on the terms, and a toy run is chaotic enough
        # that rounding-level differences change them (healthy-mix2 ends with three L_G spikes after
        # 12,000 steps with the one-op BCE, tests/test_presets.py)
        self._one_op = self.toy is None  # looked up each step: self.loss may be replaced (tests spy on it)
        n_out = cfg.batch_size // cfg.pack
        self._d_target = torch.cat([torch.ones(n_out, device=self.device), torch.zeros(n_out, device=self.device)])
        self._g_target = self._d_target[:n_out]

    def _draws(self) -> dict[str, Draws]:
        real = self._real if isinstance(self._real, Draws) else self._pick  # toys: points; images: indices
        return {"noise": self._noise, "real": real, "instance": self._instance}

    def _metric_names(self) -> tuple[str, ...]:
        names = ["step", "loss_d", "loss_d_real", "loss_d_fake", "loss_g", "d_real", "d_fake", "d_fake_g",
                 "d_acc", "grad_d", "grad_g"]  # fmt: skip
        return tuple(names + self._constraint_metric_names())

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
    def _step(self, with_metrics: bool) -> dict[str, float] | None:
        cfg, loss, G, D = self.config, self.loss, self._g_step, self._d_step
        n_out = cfg.batch_size // cfg.pack  # D judges packed samples: B samples give B/pack logits
        gp_term = gp_norm = None
        sigma = self.instance_noise_std() / self._data_std  # in the networks' units
        checked: list[Tensor] = []  # flat values whose finiteness every step checks at once (see step())
        one_op_d = ONE_OP_D_LOSS.get(loss.d_terms) if self._one_op else None  # None: the loss's terms
        one_op_g = ONE_OP_G_LOSS.get(loss.g_loss) if self._one_op else None
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
            if one_op_d is None:
                real_term, fake_term = loss.d_terms(l_real, l_fake)
                d_loss = real_term + fake_term
            else:  # the same loss as one op (ONE_OP_D_LOSS); its terms only on the steps that log them
                d_loss, real_term, fake_term = one_op_d(logits, self._d_target), None, None
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
                clamp_(self._d_params, cfg.clip)

        # (2) Update G: minimise L_G(D(G(z))) with D fixed (gradients for G's weights only)
        l_fake_g = D(fake + sigma * noise[2 * cfg.batch_size :] if sigma > 0 else fake)
        g_loss = loss.g_loss(l_fake_g) if one_op_g is None else one_op_g(l_fake_g, self._g_target)
        g_grads = scalar_grads(g_loss, self._g_params, self._one)
        apply_gradients(self.opt_g, self._g_params, g_grads)
        self._end_of_updates()

        # every step: one norm over the losses, D's outputs and both gradients (see Trainer.step)
        checked += [logits.detach(), l_fake_g.detach(), g_loss.detach().reshape(1), *(g.reshape(-1) for g in g_grads)]
        finite = self._all_finite(checked)
        if finite and not with_metrics:
            return None

        with torch.no_grad():
            if real_term is None:  # the one-op loss: its terms, and L_D as their sum (as without it)
                real_term, fake_term, d_loss = self._terms(l_real, l_fake)
            out_real, out_fake = loss.d_output(l_real), loss.d_output(l_fake)
            threshold = loss.decision_threshold
            if loss.family == "wgan":  # a critic has no fixed threshold: split at the midpoint
                threshold = 0.5 * (l_real.mean() + l_fake.mean())
            acc = 0.5 * ((l_real > threshold).float().mean() + (l_fake < threshold).float().mean())
            values = [d_loss, real_term, fake_term, g_loss, out_real.mean(), out_fake.mean(),
                      loss.d_output(l_fake_g).mean(), acc, grad_norm(d_grads), grad_norm(g_grads)]  # fmt: skip
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

    def _terms(self, l_real: Tensor, l_fake: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """D's loss terms on logits of real and fake (the loss's ``d_terms``) and their sum L_D, for the
        metrics row of a step whose update took the one-op loss."""
        real_term, fake_term = self.loss.d_terms(l_real, l_fake)
        return real_term, fake_term, real_term + fake_term

    # the order in which a step computes its metrics: the first non-finite one is named as the cause
    _CAUSE_ORDER = ("d_real", "d_fake", "loss_d_real", "loss_d_fake", "loss_d", "gp_norm", "gp", "w1", "grad_d",
                    "d_fake_g", "loss_g", "grad_g")  # fmt: skip
