"""Every call of a private PyTorch interface the training loop makes, each with its public fallback.

- :class:`FastAdam` calls ``torch._fused_adam_`` (the kernel ``Adam(fused=True).step`` ends in) without
  Adam's per-step Python bookkeeping; it takes Adam's own path when the kernel is missing or a setting
  is unusual.
- :func:`scalar_grads` calls the autograd engine (``torch.autograd.Variable._execution_engine``) the way
  ``torch.autograd.grad`` does, minus its argument handling; the engine is probed once at import on a
  one-weight example (:func:`_autograd_engine`), else ``torch.autograd.grad`` runs.
- :func:`clamp_` clips weights with ``torch._foreach_clamp_min_/max_`` (one call for all tensors),
  else a loop of ``Tensor.clamp_``.

Each is tested both ways in ``tests/test_training.py`` (the fast path and the fallback give the same
numbers). PyTorch is pinned in ``requirements.txt``.
"""

from __future__ import annotations

import torch
from torch import Tensor


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


def clamp_(params: list[Tensor], c: float) -> None:
    """Clip every tensor of ``params`` to [-c, c] in place (WGAN's weight clipping)."""
    with torch.no_grad():
        if hasattr(torch, "_foreach_clamp_min_") and hasattr(torch, "_foreach_clamp_max_"):
            torch._foreach_clamp_min_(params, -c)
            torch._foreach_clamp_max_(params, c)
        else:
            for p in params:
                p.clamp_(-c, c)
