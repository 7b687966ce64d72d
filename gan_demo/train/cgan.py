"""The conditional GAN with the seeds' matching-aware discriminator: G(z, y), D(x, y).

The seed (004) trains D on three kinds of pairs: a real image with its label (real), G's image with
the label it was asked for (fake), and a real image with a *wrong* label (called fake as well, so D
learns to check that image and label match: Reed et al. 2016's GAN-CLS). One step, as in
:mod:`gan_demo.train.gan`: ``d_steps`` updates of D, then one of G, with the same loss functions
(:func:`gan_demo.losses.conditional_d_terms` hands the wrong pairs to the variant's fake term):

    L_D = T_r(D(x, y)) + T_f(D(G(z, y), y)) + λ·T_f(D(x, ŷ)),   L_G = the variant's G loss of D(G(z, y), y)

with y the real batch's labels (so the fakes' labels follow the data's class frequencies, c ~ p_data(c)
as the seed writes) and ŷ = (y + k) mod K, k uniform in 1..K−1 (a wrong label, each wrong class
equally likely). λ = ``mismatch_weight`` (the seed: 1; Reed et al.'s Algorithm 1 weighs the fake and
the wrong term ½ each). The three kinds of pair go through D in one forward pass (D has no BatchNorm).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gan_demo import conditional, data, losses
from gan_demo.config import TrainConfig
from gan_demo.train.fastpath import apply_gradients, clamp_, scalar_grads
from gan_demo.train.loop import INIT_LOCK, Draws, Trainer, grad_norm

GRID_COLUMNS = 8  # fixed z's of the per-class grid: row = class, column = one z ("style")


class CganTrainer(Trainer):
    """Trains a conditional GAN as described by a :class:`TrainConfig` (objective "cgan").

    ``images`` (N, C, H, W) in [-1, 1] with ``labels`` (N,) int64 replace loading the config's data set.
    ``fixed_noise`` holds :data:`GRID_COLUMNS` z's; :meth:`fixed_samples` draws each of them for every
    class, row = class (K × GRID_COLUMNS images)."""

    def __init__(self, config: TrainConfig, images: Tensor | None = None, labels: Tensor | None = None):
        super().__init__(config)
        cfg = config
        if images is None or labels is None:
            images, labels = data.load_labelled(cfg.data, cfg.data_root)
        self.images = images.to(self.device, torch.float32)
        self.labels = labels.to(self.device, torch.int64)
        self.n_classes = len(data.CLASS_NAMES.get(cfg.data, range(int(labels.max()) + 1)))
        self.class_names = data.CLASS_NAMES.get(cfg.data, tuple(str(k) for k in range(self.n_classes)))
        self.data_shape = tuple(self.images.shape[1:])
        self.toy = None  # the CLI and the app ask every trainer
        with INIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            G, D = conditional.build(cfg.model, self.data_shape, cfg.z_dim, cfg.hidden, self.n_classes,
                                     cfg.condition, cfg.label_dim)  # fmt: skip
        self.G, self.D = G.to(self.device), D.to(self.device)
        self._g_params, self._d_params = list(self.G.parameters()), list(self.D.parameters())
        self.opt_g = self._optimizer(self.G, cfg.lr_g)
        self.opt_d = self._optimizer(self.D, cfg.lr_d)
        self._schedule(self.opt_g, self.opt_d)

        self.fixed_noise = torch.randn(GRID_COLUMNS, cfg.z_dim, generator=self.gen, device=self.device)
        self._noise = Draws(self.noise, cfg.batch_size)
        self._pick = Draws(lambda n: torch.randint(len(self.images), (n,), generator=self.gen, device=self.device),
                           cfg.batch_size)  # fmt: skip
        self._offset = Draws(lambda n: torch.randint(1, self.n_classes, (n,), generator=self.gen, device=self.device),
                             cfg.batch_size)  # fmt: skip
        self.metric_names = self._metric_names()

    def _draws(self) -> dict[str, Draws]:
        return {"noise": self._noise, "pick": self._pick, "offset": self._offset}

    def _metric_names(self) -> tuple[str, ...]:
        names = ["step", "loss_d", "loss_d_real", "loss_d_fake"]
        if self.config.mismatch_weight > 0:
            names += ["loss_d_wrong"]
        names += ["loss_g", "d_real", "d_fake", "d_fake_g"]
        if self.config.mismatch_weight > 0:
            names += ["d_wrong"]
        names += ["d_acc", "grad_d", "grad_g"]
        return tuple(names + self._constraint_metric_names())

    # ------------------------------------------------------------------ sampling
    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.config.z_dim, generator=self.gen, device=self.device)

    def wrong_labels(self, y: Tensor, offset: Tensor) -> Tensor:
        """ŷ = (y + offset) mod K: a label other than y for every offset in 1..K−1."""
        return (y + offset) % self.n_classes

    def balanced_labels(self, per_class: int) -> Tensor:
        """(K · per_class,) labels 0,0,..,1,1,..: ``per_class`` of each class, class by class."""
        return torch.arange(self.n_classes, device=self.device).repeat_interleave(per_class)

    @torch.no_grad()
    def sample(self, n: int | None = None, noise: Tensor | None = None, labels: Tensor | None = None) -> Tensor:
        """G's images on the CPU for ``labels`` (default: the same number of each class, class by
        class) from ``noise`` (default: ``n`` fresh draws; one z per label), in batches of 4,096."""
        self.G.eval()
        try:
            if labels is None:
                count = n if n is not None else (len(noise) if noise is not None else len(self.fixed_noise))
                labels = self.balanced_labels(math.ceil(count / self.n_classes))[:count]
            labels = labels.to(self.device)
            if noise is None:
                noise = self.noise(len(labels))
            return torch.cat([self.G(z, y) for z, y in zip(noise.split(4096), labels.split(4096), strict=True)]).cpu()
        finally:
            self.G.train()

    def sample_per_class(self, per_class: int, noise: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(images (K·per_class, C, H, W), labels (K·per_class,)): ``per_class`` fresh samples of each
        class, class by class (or one per row of ``noise``)."""
        labels = self.balanced_labels(per_class)
        return self.sample(noise=noise, labels=labels), labels.cpu()

    def grid_labels(self) -> Tensor:
        """The class of each image of :meth:`fixed_samples`: row k (GRID_COLUMNS images) is class k."""
        return self.balanced_labels(len(self.fixed_noise)).cpu()

    def fixed_samples(self) -> Tensor:
        """G's images for every class from the fixed z's, row = class, column = z: (K·cols, C, H, W)."""
        z = self.fixed_noise.repeat(self.n_classes, 1)  # z_0..z_7, z_0..z_7, ... one block per class
        return self.sample(noise=z, labels=self.grid_labels())

    def interpolate(self, z: Tensor, y0: int, y1: int, steps: int) -> Tensor:
        """:func:`gan_demo.conditional.interpolate` with this run's G, on the CPU."""
        return conditional.interpolate(self.G, z.to(self.device), y0, y1, steps).cpu()

    # ------------------------------------------------------------------ training
    def _step(self, with_metrics: bool) -> dict[str, float] | None:
        cfg, loss, G, D = self.config, self.loss, self.G, self.D
        lam, b = cfg.mismatch_weight, cfg.batch_size
        gp_term = gp_norm = None
        checked: list[Tensor] = []
        d_updates: list[tuple[Tensor, tuple[Tensor, ...]]] = []

        # (1) Update D: real pairs (x, y) → real; (G(z, y), y) → fake; real x with a wrong label ŷ → fake
        for k in range(cfg.d_steps):
            last = k == cfg.d_steps - 1
            idx = self._pick()
            real, y = self.images.index_select(0, idx), self.labels.index_select(0, idx)
            with torch.set_grad_enabled(last):  # keep G's graph only for the fakes G's update reuses
                fake = G(self._noise(), y)
            if lam > 0:
                logits = D(torch.cat([real, fake.detach(), real]), torch.cat([y, y, self.wrong_labels(y, self._offset())]))
                l_real, l_fake, l_wrong = logits.split(b)
            else:
                logits = D(torch.cat([real, fake.detach()]), torch.cat([y, y]))
                (l_real, l_fake), l_wrong = logits.split(b), None
            real_term, fake_term, wrong_term = losses.conditional_d_terms(loss.d_terms, l_real, l_fake, l_wrong)
            d_loss = real_term + fake_term + (lam * wrong_term if wrong_term is not None else 0.0)
            total = d_loss
            if cfg.gp_weight > 0:  # the critic of the real pairs' labels, x̂ between real and fake
                penalty, gp_norm = losses.gradient_penalty(lambda x, y=y: self.D(x, y), real, fake.detach(),
                                                           self.gen, pack=1)  # fmt: skip
                gp_term = cfg.gp_weight * penalty
                total = total + gp_term
            d_grads = scalar_grads(total, self._d_params, self._one)
            d_updates.append((total, d_grads))
            checked += [total.detach().reshape(1), *(g.reshape(-1) for g in d_grads)]
            apply_gradients(self.opt_d, self._d_params, d_grads)
            if cfg.clip > 0:
                clamp_(self._d_params, cfg.clip)

        # (2) Update G: minimise L_G(D(G(z, y), y)) with D fixed (gradients for G's weights only)
        l_fake_g = D(fake, y)
        g_loss = loss.g_loss(l_fake_g)
        g_grads = scalar_grads(g_loss, self._g_params, self._one)
        apply_gradients(self.opt_g, self._g_params, g_grads)
        self._end_of_updates()

        checked += [logits.detach(), l_fake_g.detach(), g_loss.detach().reshape(1), *(g.reshape(-1) for g in g_grads)]
        finite = self._all_finite(checked)
        if finite and not with_metrics:
            return None
        row = self._row(l_real, l_fake, l_wrong, l_fake_g, (d_loss, real_term, fake_term, wrong_term, g_loss),
                        d_grads, g_grads, gp_term, gp_norm)  # fmt: skip
        if not finite and self.nonfinite is None:
            self.nonfinite = self._first_nonfinite(d_updates, row)
        return row

    @torch.no_grad()
    def _row(self, l_real, l_fake, l_wrong, l_fake_g, terms, d_grads, g_grads, gp_term, gp_norm) -> dict[str, float]:
        loss, cfg = self.loss, self.config
        d_loss, real_term, fake_term, wrong_term, g_loss = terms
        threshold = loss.decision_threshold
        if loss.family == "wgan":  # a critic has no fixed threshold: split at the midpoint
            threshold = 0.5 * (l_real.mean() + l_fake.mean())
        acc = 0.5 * ((l_real > threshold).float().mean() + (l_fake < threshold).float().mean())
        values = [d_loss, real_term, fake_term] + ([wrong_term] if l_wrong is not None else [])
        values += [g_loss, loss.d_output(l_real).mean(), loss.d_output(l_fake).mean(), loss.d_output(l_fake_g).mean()]
        if l_wrong is not None:
            values += [loss.d_output(l_wrong).mean()]
        values += [acc, grad_norm(d_grads), grad_norm(g_grads)]
        if cfg.gp_weight > 0:
            values += [gp_term, gp_norm.mean()]
        if loss.family == "wgan":
            values += [-(real_term + fake_term)]  # E[D(x,y)] − E[D(G(z,y),y)], as the GAN's w1
        if cfg.clip > 0:
            flat = torch.cat([p.detach().abs().flatten() for p in self._d_params])
            values += [(flat >= 0.99 * cfg.clip).float().mean()]
        numbers = torch.stack([torch.as_tensor(v).detach().float().reshape(()) for v in values]).tolist()
        return dict(zip(self.metric_names, [float(self.step_count)] + numbers, strict=True))
