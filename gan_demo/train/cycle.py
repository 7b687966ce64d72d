"""The CycleGAN objective (Zhu et al. 2017) on the shared loop: two translators, two discriminators.

G: X → Y and F: Y → X; D_Y judges Y's samples against G(x), D_X judges X's against F(y). Their full
objective (eq. 3), with ℓ_D and ℓ_G the discriminator and generator losses of the run's loss variant
(:mod:`gan_demo.losses`: the same functions as the GAN objective, any variant of the app):

    min over G, F:  ℓ_G(D_Y(G(x))) + ℓ_G(D_X(F(y))) + λ_cyc·(E‖F(G(x)) − x‖₁ + E‖G(F(y)) − y‖₁)
                    + λ_id·(E‖G(y) − y‖₁ + E‖F(x) − x‖₁)
    min over D_X, D_Y:  ℓ_D(D_Y(y), D_Y(G(x))) + ℓ_D(D_X(x), D_X(F(y)))

Two slips of the seed post are corrected here: F's adversarial term is judged by D_X, the
discriminator of F's target domain (the post writes D_Y(F(y))), and the backward cycle term is
‖G(F(y)) − y‖₁ (the post writes ‖F(G(y)) − y‖₁).

As the authors' code does, G and F share one optimizer and D_X and D_Y another (each over both
networks' parameters, lr_g and lr_d). The x and y of a step are drawn independently: no pairs.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from gan_demo import domains, losses
from gan_demo.config import TrainConfig
from gan_demo.train.fastpath import apply_gradients, clamp_, scalar_grads
from gan_demo.train.loop import INIT_LOCK, Draws, NonFinite, Trainer, grad_norm
from gan_demo.translator import (
    ConvCritic,
    ConvTranslator,
    ImageCritic,
    ImageTranslator,
    PointCritic,
    Translator,
)

N_FIXED = 2500  # fixed inputs of each domain (2-D pairs): snapshots, readouts, the CLI's inputs.npy
GRID_PER_CLASS = 2  # image pairs: the fixed batch the page shows holds this many images of each class


def build_networks(config: TrainConfig) -> dict[str, torch.nn.Module]:
    """The run's four networks, untrained, from the config alone: G: X→Y, F: Y→X (translators) and
    the critics D_X, D_Y (the run format builds them to check and load saved weights)."""
    pair = domains.get(config.data)
    if isinstance(pair, domains.ImagePair):
        shape, h = pair.shape, config.hidden
        tr, cr = (ConvTranslator, ConvCritic) if config.model == "dcgan" else (ImageTranslator, ImageCritic)
        return {"G": tr(shape, h), "F": tr(shape, h), "D_X": cr(shape, h), "D_Y": cr(shape, h)}
    sx, sy = pair.spread_x, pair.spread_y
    return {"G": Translator(2, config.hidden, sx, sy), "F": Translator(2, config.hidden, sy, sx),
            "D_X": PointCritic(2, config.hidden, sx), "D_Y": PointCritic(2, config.hidden, sy)}  # fmt: skip


def _grid_rows(labels: Tensor, start: int, stop: int, per_class: int = GRID_PER_CLASS) -> Tensor:
    """Indices of ``per_class`` images of each class among ``labels[start:stop]``, in rows: the first
    image of classes 0..9, then the second of each, ..."""
    lab = labels[start:stop]
    picks = [torch.nonzero(lab == c).flatten()[:per_class] + start for c in range(int(lab.max()) + 1)]
    return torch.stack(picks, 1).flatten()


class CycleTrainer(Trainer):
    """Trains a CycleGAN on a domain pair (objective "cyclegan"): 2-D points or images.

    Public attributes beside the shared ones: ``pair`` (a :class:`~gan_demo.domains.DomainPair` or
    :class:`~gan_demo.domains.ImagePair`), ``images`` (True for an image pair), ``G``, ``F``, ``D_X``,
    ``D_Y``; ``D`` is ``D_Y`` (G's discriminator, for code written for one D); ``opt_g`` (G and F),
    ``opt_d`` (D_X and D_Y); ``fixed_x`` = ``fixed_noise`` and ``fixed_y``: 2,500 fixed inputs (n, 2)
    of each domain, or for images every image of the data set in each domain (n, 1, H, W), with
    ``fixed_x_labels`` and ``fixed_y_labels`` (n,) and ``grid_x``, ``grid_y``: the indices of the
    fixed batch the page shows (``GRID_PER_CLASS`` per class, from each domain's training half).
    """

    def __init__(self, config: TrainConfig):
        super().__init__(config)
        cfg = config
        self.pair = domains.get(cfg.data)
        with INIT_LOCK, torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            nets = build_networks(cfg)
        self.G, self.F, self.D_X, self.D_Y = (nets[n].to(self.device) for n in ("G", "F", "D_X", "D_Y"))
        self.D = self.D_Y
        self._g_params = list(self.G.parameters()) + list(self.F.parameters())
        self._d_params = list(self.D_X.parameters()) + list(self.D_Y.parameters())
        # one optimizer for (G, F) and one for (D_X, D_Y), as in the authors' code
        self.opt_g = self._optimizer(torch.nn.ModuleList([self.G, self.F]), cfg.lr_g)
        self.opt_d = self._optimizer(torch.nn.ModuleList([self.D_X, self.D_Y]), cfg.lr_d)
        self._schedule(self.opt_g, self.opt_d)

        self.images = isinstance(self.pair, domains.ImagePair)
        if self.images:
            fixed, half = self.pair.fixed(), len(self.pair.halves()["x"])
            self.fixed_x, self.fixed_y = fixed["x"].to(self.device), fixed["y"].to(self.device)
            self.fixed_x_labels, self.fixed_y_labels = fixed["x_labels"], fixed["y_labels"]
            self.grid_x = _grid_rows(self.fixed_x_labels, 0, half)
            self.grid_y = _grid_rows(self.fixed_y_labels, 0, len(self.pair.halves()["y"]))
        else:
            self.fixed_x = self.pair.sample_x(N_FIXED, self.gen, self.device)
            self.fixed_y = self.pair.sample_y(N_FIXED, self.gen, self.device)
        self.fixed_noise = self.fixed_x  # the shared loop's name for the fixed inputs (checkpoints)
        self._x = Draws(lambda n: self.pair.sample_x(n, self.gen, self.device), cfg.batch_size)
        self._y = Draws(lambda n: self.pair.sample_y(n, self.gen, self.device), cfg.batch_size)
        self.metric_names = self._metric_names()

    def networks(self) -> dict[str, torch.nn.Module]:
        return {"G": self.G, "F": self.F, "D_X": self.D_X, "D_Y": self.D_Y}

    def _draws(self) -> dict[str, Draws]:
        return {"x": self._x, "y": self._y}

    def _metric_names(self) -> tuple[str, ...]:
        names = ["step", "loss_d", "loss_d_x", "loss_d_y", "loss_g", "loss_gan_g", "loss_gan_f", "loss_cyc_x",
                 "loss_cyc_y"]  # fmt: skip
        if self.config.lambda_id > 0:
            names += ["loss_id"]
        if self.config.gp_weight > 0:
            names += ["gp"]
        names += ["d_x_real", "d_x_fake", "d_y_real", "d_y_fake", "grad_d", "grad_g", "cycle_err", "cycle_err_y",
                  "dist_t"]  # fmt: skip
        names += ["label_kept", "label_kept_f", "y_classes"] if self.images else ["y_modes", "t_match"]
        return tuple(names)

    # ------------------------------------------------------------------ the two losses
    def d_losses(self, x: Tensor, y: Tensor, fake_x: Tensor, fake_y: Tensor) -> dict[str, Tensor]:
        """The discriminators' losses: D_Y judges y (real) against G(x) (``fake_y``), D_X judges x
        (real) against F(y) (``fake_x``), each with the run's ℓ_D (real term + fake term). Returns
        the two losses and the four logit batches."""
        d_loss = self.loss.d_loss
        ly_real, ly_fake = self.D_Y(y), self.D_Y(fake_y)
        lx_real, lx_fake = self.D_X(x), self.D_X(fake_x)
        return {"loss_d_y": d_loss(ly_real, ly_fake), "loss_d_x": d_loss(lx_real, lx_fake),
                "ly_real": ly_real, "ly_fake": ly_fake, "lx_real": lx_real, "lx_fake": lx_fake}  # fmt: skip

    def g_losses(self, x: Tensor, y: Tensor, fake_x: Tensor, fake_y: Tensor) -> dict[str, Tensor]:
        """The translators' loss terms, ``fake_y`` = G(x) and ``fake_x`` = F(y):
        ``loss_gan_g`` = ℓ_G(D_Y(G(x))) and ``loss_gan_f`` = ℓ_G(D_X(F(y))) (F is judged by D_X, the
        discriminator of its target domain X), the cycle terms ‖F(G(x)) − x‖₁ and ‖G(F(y)) − y‖₁, the
        identity terms when λ_id > 0, and ``loss_g``, their weighted sum (eq. 3)."""
        cfg = self.config
        gan_g = self.loss.g_loss(self.D_Y(fake_y))
        gan_f = self.loss.g_loss(self.D_X(fake_x))
        cyc_x, cyc_y = losses.cycle_loss(x, self.F(fake_y), y, self.G(fake_x))
        total = gan_g + gan_f + cfg.lambda_cyc * (cyc_x + cyc_y)
        out = {"loss_gan_g": gan_g, "loss_gan_f": gan_f, "loss_cyc_x": cyc_x, "loss_cyc_y": cyc_y}
        if cfg.lambda_id > 0:
            id_g, id_f = losses.identity_loss(x, self.F(x), y, self.G(y))
            out["loss_id"] = id_g + id_f
            total = total + cfg.lambda_id * out["loss_id"]
        out["loss_g"] = total
        return out

    # ------------------------------------------------------------------ training
    def _step(self, with_metrics: bool) -> dict[str, float] | None:
        cfg = self.config
        checked: list[Tensor] = []

        # (1) Update D_X and D_Y: minimise ℓ_D(D_Y(y), D_Y(G(x))) + ℓ_D(D_X(x), D_X(F(y)))
        for k in range(cfg.d_steps):
            last = k == cfg.d_steps - 1
            x, y = self._x(), self._y()
            with torch.set_grad_enabled(last):  # keep the translators' graphs for the fakes step (2) reuses
                fake_y, fake_x = self.G(x), self.F(y)
            d = self.d_losses(x, y, fake_x.detach(), fake_y.detach())
            total = d["loss_d_x"] + d["loss_d_y"]
            gp = None
            if cfg.gp_weight > 0:
                gp = cfg.gp_weight * (losses.gradient_penalty(self.D_X, x, fake_x.detach(), self.gen, pack=1)[0]
                                      + losses.gradient_penalty(self.D_Y, y, fake_y.detach(), self.gen, pack=1)[0])  # fmt: skip
                total = total + gp
            d_grads = scalar_grads(total, self._d_params, self._one)
            checked += [total.detach().reshape(1), *(g.reshape(-1) for g in d_grads)]
            apply_gradients(self.opt_d, self._d_params, d_grads)
            if cfg.clip > 0:
                clamp_(self._d_params, cfg.clip)

        # (2) Update G and F: minimise the adversarial, cycle (and identity) terms with D_X, D_Y fixed
        g = self.g_losses(x, y, fake_x, fake_y)
        g_grads = scalar_grads(g["loss_g"], self._g_params, self._one)
        apply_gradients(self.opt_g, self._g_params, g_grads)
        self._end_of_updates()

        checked += [g["loss_g"].detach().reshape(1), *(t.reshape(-1) for t in g_grads)]
        finite = self._all_finite(checked)
        if finite and not with_metrics:
            return None
        row = self._row(d, g, gp, d_grads, g_grads)
        if not finite and self.nonfinite is None:
            name = next((n for n in self.metric_names if not math.isfinite(row[n])), None)
            if name is None and not with_metrics:
                return None
            if name is not None:
                where = "the D_X and D_Y update" if name.startswith(("loss_d", "d_", "grad_d", "gp")) else "the G and F update"
                self.nonfinite = NonFinite(self.step_count, name, row[name], where)
        return row

    @torch.no_grad()
    def _row(self, d: dict[str, Tensor], g: dict[str, Tensor], gp: Tensor | None, d_grads: tuple[Tensor, ...],
             g_grads: tuple[Tensor, ...]) -> dict[str, float]:  # fmt: skip
        out = self.loss.d_output
        values = {"loss_d": d["loss_d_x"] + d["loss_d_y"], "loss_d_x": d["loss_d_x"], "loss_d_y": d["loss_d_y"],
                  **{k: v for k, v in g.items()}, "gp": gp,
                  "d_x_real": out(d["lx_real"]).mean(), "d_x_fake": out(d["lx_fake"]).mean(),
                  "d_y_real": out(d["ly_real"]).mean(), "d_y_fake": out(d["ly_fake"]).mean(),
                  "grad_d": grad_norm(d_grads), "grad_g": grad_norm(g_grads)}  # fmt: skip
        names = [n for n in self.metric_names if n in values]
        numbers = torch.stack([values[n].detach().float().reshape(()) for n in names]).tolist()
        row = {"step": float(self.step_count), **dict(zip(names, numbers, strict=True))}
        r = self.readout()
        row.update(cycle_err=r.cycle_err_x, cycle_err_y=r.cycle_err_y, dist_t=r.dist_t)
        if isinstance(r, domains.ImageReadout):
            row.update(label_kept=r.label_kept, label_kept_f=r.label_kept_f, y_classes=float(r.y_classes))
        else:
            row.update(y_modes=float(r.y_modes), t_match=r.t_match)
        return {n: row[n] for n in self.metric_names}

    # ------------------------------------------------------------------ sampling and readouts
    @torch.no_grad()
    def translate(self, x: Tensor, net: str = "G") -> Tensor:
        """G(x) (``net`` "G") or F(x) (``net`` "F") of the rows of ``x`` ((n, 2) or images (n, C, H, W)),
        on the CPU."""
        return self.networks()[net](x.to(self.device, torch.float32)).cpu()

    def sample(self, n: int | None = None, noise: Tensor | None = None) -> Tensor:
        """G of ``noise`` (inputs from X, (n, 2) or (n, C, H, W)), or of ``n`` fresh draws of X; on the CPU."""
        if noise is None:
            noise = self.pair.sample_x(n if n is not None else N_FIXED, self.gen, self.device)
        return self.translate(noise)

    def fixed_samples(self) -> Tensor:
        """G(x) of the run's fixed inputs x, the same x for the whole run (images: of the fixed batch
        the page shows, ``grid_x``, so that a snapshot stays small)."""
        return self.translate(self.fixed_x[self.grid_x] if self.images else self.fixed_x)

    def cycles(self) -> dict[str, Tensor]:
        """On the fixed inputs (CPU tensors, (n, 2) or (n, C, H, W) each): x, G(x), F(G(x)), y, F(y), G(F(y))."""
        x, y = self.fixed_x.cpu(), self.fixed_y.cpu()
        gx, fy = self.translate(self.fixed_x), self.translate(self.fixed_y, "F")
        return {"x": x, "gx": gx, "fgx": self.translate(gx, "F"), "y": y, "fy": fy, "gfy": self.translate(fy)}

    def readout(self) -> domains.Readout | domains.ImageReadout:
        """Cycle errors, distance to T and the mode mapping on the fixed inputs (:func:`domains.readout`);
        for images the label preservation instead (:func:`domains.image_readout`)."""
        c = self.cycles()
        if self.images:
            return domains.image_readout(self.pair, c["x"], self.fixed_x_labels, c["gx"], c["fgx"], c["y"],
                                         self.fixed_y_labels, c["fy"], c["gfy"])  # fmt: skip
        return domains.readout(self.pair, c["x"], c["gx"], c["fgx"], c["y"], c["gfy"])

    @torch.no_grad()
    def stego_probe(self, std: float, x: Tensor | None = None, seed: int = 0) -> dict[str, Tensor | float]:
        """The steganography probe (Chu, Zhmoginov & Sandler 2017): Gaussian noise of std ``std`` (in the
        data's units; images in [−1, 1]) added to G(x), then F of it. ``x``: inputs (default: the fixed
        inputs). The noise is drawn from its own generator seeded ``seed``, not from the run's. Returns
        ``gx``, ``gx_noisy`` (not clipped), ``fgx``, ``fgx_noisy`` and the mean absolute errors per
        element ``err`` = |F(G(x)) − x| and ``err_noisy`` = |F(G(x) + n) − x|, and ``noise`` = E|n|."""
        x = self.fixed_x.cpu() if x is None else x
        gx = self.translate(x)
        n = torch.randn(gx.shape, generator=torch.Generator().manual_seed(seed)) * float(std)
        fgx, fgx_noisy = self.translate(gx, "F"), self.translate(gx + n, "F")
        return {"gx": gx, "gx_noisy": gx + n, "fgx": fgx, "fgx_noisy": fgx_noisy,
                "err": float((fgx - x).abs().mean()), "err_noisy": float((fgx_noisy - x).abs().mean()),
                "noise": float(n.abs().mean())}  # fmt: skip
