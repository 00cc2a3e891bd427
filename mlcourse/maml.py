"""MAML: meta-learn an initialisation θ from which a few gradient steps fit a new task.

Finn, Abbeel & Levine (2017), "Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks",
Algorithm 1 and the sinusoid experiment of Sect. 5.1. Notation of the lecture:

- a task T_i ~ p(T) is a sinusoid y = A sin(x − φ); its support set D_i^tr (K points) is used to
  adapt, its query set D_i^ts to judge the adapted model;
- inner loop (paper eq. 1):  θ'_i = θ − α ∇_θ L(f_θ; D_i^tr), repeated ``steps`` times;
- outer loop (eq. 2–3):      θ ← θ − β ∇_θ Σ_i L(f_θ'_i; D_i^ts)  (here Adam with rate β);
- first-order MAML (FOMAML, Finn et al. Sect. 5.2): treat ∇L(θ; D^tr) as a constant, so ∂θ'/∂θ = I;
- Meta-SGD (Li et al. 2017, "Meta-SGD: Learning to Learn Quickly for Few-Shot Learning"):
  θ'_i = θ − α ∘ ∇L, with one learned inner rate per parameter (α is a metaparameter);
- truncated backprop: differentiate only through the last few inner steps (the earlier ones are
  first-order); evolution strategies: estimate the meta-gradient from losses alone (constant memory).

Every function works on one parameter dict (``dict(model.named_parameters())``) through
``torch.func.functional_call``; the meta-batch is handled by ``torch.func.vmap`` and every gradient by
``torch.func.grad`` — there is no Python loop over tasks. Train the committed checkpoints with
``python -m mlcourse.maml --train`` (see :func:`main`).
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad, vmap

from mlcourse import runtime
from mlcourse.runtime import Device
from mlcourse.memory import peak_memory
from mlcourse.inputs import checked, count, each, nonnegative, one_of, positive, rate, size, tensor

Params = dict[str, Tensor]
Rate = float | Params  # one inner learning rate, or one per parameter tensor (Meta-SGD)
Tasks = tuple[Tensor, Tensor, Tensor, Tensor]  # xs, ys, xq, yq, each [n_tasks, k, 1]

AMPLITUDE = (0.1, 5.0)
PHASE = (0.0, math.pi)
X_RANGE = (-5.0, 5.0)
METHODS = ("maml", "fomaml", "metasgd", "pretrain")
DATA_DIR = Path(__file__).parent / "data"
REFERENCE = dict(iterations=4500, meta_batch=25, k_shot=10, inner_lr=0.01, inner_steps=1,
                 meta_lr=1e-3, seed=0)
"""The setup of the committed checkpoints: Finn et al.'s sinusoid hyperparameters (α = 0.01 as in the
paper's text; the authors' code defaults to 1e-3), ≈ 4500 meta-iterations."""


# --- tasks -------------------------------------------------------------------------------------

def _uniform(n: int, k: int, lo: float, hi: float, generator: torch.Generator | None) -> Tensor:
    return lo + (hi - lo) * torch.rand(n, k, 1, generator=generator, dtype=torch.float64)


@checked(k=size, shapes=dict(amplitude="n", phase="n"))
def sinusoid_points(amplitude: Tensor, phase: Tensor, k: int, *,
                    generator: torch.Generator | None = None,
                    device: Device = None) -> tuple[Tensor, Tensor]:
    """K points x ~ U[−5, 5], y = A sin(x − φ) for each of n tasks given by A, φ of shape [n].

    Sampling runs on the CPU (so a seed gives the same tasks on every device); returns float32
    tensors [n, k, 1] on ``device``.
    """
    amplitude = torch.as_tensor(amplitude, dtype=torch.float64)
    phase = torch.as_tensor(phase, dtype=torch.float64)
    if amplitude.dim() != 1 or amplitude.shape != phase.shape:
        raise ValueError(f"amplitude and phase must be 1-d of equal length, got "
                         f"{tuple(amplitude.shape)} and {tuple(phase.shape)}")
    if k < 1:
        raise ValueError(f"need at least one point per task, got k={k}")
    x = _uniform(len(amplitude), k, *X_RANGE, generator)
    y = amplitude[:, None, None] * torch.sin(x - phase[:, None, None])
    device = device if device is not None else "cpu"  # tasks default to the CPU, like torch.rand
    return x.float().to(device), y.float().to(device)


@checked(n_tasks=size, k_support=size, k_query=size)
def sinusoid_tasks(n_tasks: int, k_support: int = 10, k_query: int = 10, *,
                   generator: torch.Generator | None = None, device: Device = None) -> Tasks:
    """A meta-batch from p(T): A ~ U[0.1, 5], φ ~ U[0, π]; support and query x ~ U[−5, 5].

    Returns (xs, ys, xq, yq) with shapes [n_tasks, k_support, 1] and [n_tasks, k_query, 1].
    """
    if n_tasks < 1:
        raise ValueError(f"n_tasks must be >= 1, got {n_tasks}")
    if k_support < 1 or k_query < 1:
        raise ValueError(f"k_support and k_query must be >= 1, got {k_support} and {k_query}")
    amplitude = _uniform(n_tasks, 1, *AMPLITUDE, generator).flatten()
    phase = _uniform(n_tasks, 1, *PHASE, generator).flatten()
    xs, ys = sinusoid_points(amplitude, phase, k_support, generator=generator, device=device)
    xq, yq = sinusoid_points(amplitude, phase, k_query, generator=generator, device=device)
    return xs, ys, xq, yq


def analytic_floors() -> tuple[float, float]:
    """Query MSE of the two task-agnostic predictors (no adaptation at all).

    Predicting 0 costs E[y²] = E[A²]/2 ≈ 4.252. The best predictor that ignores the task is the
    mean curve E[y | x] = E[A] E_φ[sin(x − φ)] = −(2 E[A]/π) cos x ≈ −1.6234 cos x; it costs
    E[A²]/2 − (2 E[A]/π)² E_x[cos² x] ≈ 3.006, with E_x[cos² x] = 1/2 + sin(10)/20 on U[−5, 5].
    """
    lo, hi = AMPLITUDE
    mean_a2 = (hi ** 3 - lo ** 3) / (3 * (hi - lo))
    zero = mean_a2 / 2
    mean_cos2 = 0.5 + math.sin(2 * X_RANGE[1]) / (4 * X_RANGE[1])
    return zero, zero - agnostic_coefficient() ** 2 * mean_cos2


def agnostic_coefficient() -> float:
    """c in the best task-agnostic predictor ŷ(x) = c cos x: c = −2 E[A]/π ≈ −1.6234."""
    return -2 * (sum(AMPLITUDE) / 2) / math.pi


# --- the exact case: one-dimensional quadratic tasks ---------------------------------------------
#
# Task i has the loss L_i(θ) = ½ h_i (θ − c_i)² (curvature h_i, optimum c_i) on both its support and
# its query set. A gradient step multiplies the distance to the optimum by (1 − αh_i), so after T
# steps θ'_i − c_i = (1 − αh_i)^T (θ − c_i), and every meta-objective is a weighted least-squares
# problem in the start θ with a closed-form minimiser.

QUADRATIC_METHODS = ("pretrain", "maml", "fomaml")


@checked(alpha=nonnegative, method=one_of(*QUADRATIC_METHODS))
def quadratic_weights(h: Tensor, alpha: float, steps: int = 1, method: str = "maml") -> Tensor:
    """The weight w_i each task gets in the best start θ* = Σ w_i c_i / Σ w_i.

    pretrain (no inner step in the objective): w_i = h_i; MAML (the query loss after ``steps``
    steps): w_i = h_i (1 − αh_i)^{2T}; first-order MAML's fixed point (Σ_i ∇L_i(θ'_i) = 0 with
    ∂θ'/∂θ taken as 1): w_i = h_i (1 − αh_i)^T.
    """
    h = torch.as_tensor(h, dtype=torch.float64)
    if steps < 0:
        raise ValueError(f"inner steps must be >= 0, got {steps}")
    if method not in QUADRATIC_METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(QUADRATIC_METHODS)}")
    shrink = 1 - alpha * h
    return {"pretrain": h, "maml": h * shrink ** (2 * steps), "fomaml": h * shrink ** steps}[method]


@checked(alpha=nonnegative, method=one_of(*QUADRATIC_METHODS))
def quadratic_best_start(h: Tensor, c: Tensor, alpha: float, steps: int = 1,
                         method: str = "maml") -> float:
    """θ* for tasks L_i(θ) = ½ h_i (θ − c_i)²: the weighted mean of the optima c_i with the weights
    of :func:`quadratic_weights` (the minimiser of the meta-loss, or FOMAML's fixed point)."""
    h, c = torch.as_tensor(h, dtype=torch.float64), torch.as_tensor(c, dtype=torch.float64)
    if h.shape != c.shape or h.dim() != 1:
        raise ValueError(f"h and c must be 1-d of equal length, got {tuple(h.shape)} and {tuple(c.shape)}")
    w = quadratic_weights(h, alpha, steps, method)
    return float((w * c).sum() / w.sum())


@checked(alpha=nonnegative, shapes=dict(h="k", c="k"))
def quadratic_meta_loss(theta: Tensor, h: Tensor, c: Tensor, alpha: float, steps: int = 1) -> Tensor:
    """mean_i L_i(θ'_i): the query loss after ``steps`` inner steps from the start(s) ``theta``
    (any shape), averaged over the tasks; steps = 0 is the pretraining objective mean_i L_i(θ)."""
    h, c = torch.as_tensor(h, dtype=torch.float64), torch.as_tensor(c, dtype=torch.float64)
    theta = torch.as_tensor(theta, dtype=torch.float64)
    gap = (1 - alpha * h) ** steps * (theta[..., None] - c)
    return (0.5 * h * gap ** 2).mean(-1)


# --- model and the inner loop ----------------------------------------------------------------------

@checked(hidden=each(size))
def make_regressor(hidden: tuple[int, ...] = (40, 40)) -> nn.Module:
    """The paper's regressor: 1 → 40 → 40 → 1 with ReLU (1761 parameters)."""
    if not hidden or any(h < 1 for h in hidden):
        raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {hidden}")
    widths = (1, *hidden)
    layers: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(widths[-1], 1))


@checked(shapes=dict(x="k 1", y="k 1"))
def mse(model: nn.Module, params: Params, x: Tensor, y: Tensor) -> Tensor:
    """L(f_θ; D) = mean (f_θ(x) − y)² of the model run with ``params`` (one task, x, y [k, 1])."""
    return (functional_call(model, params, (x,)) - y).pow(2).mean()


def _check_points(x: Tensor, y: Tensor) -> None:
    if x.dim() != 2 or x.shape[-1] != 1 or x.shape != y.shape:
        raise ValueError(f"x and y must both have shape [k, 1] (one task), got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")


def _is_second_order(t: int, steps: int, first_order: bool, truncate: int | None) -> bool:
    """Whether inner step t (0-based) is differentiated through: all, none, or the last `truncate`."""
    return not first_order and (truncate is None or t >= steps - truncate)


@checked(inner_lr=rate, steps=count, truncate=count, shapes=dict(x="k 1", y="k 1"))
def adapt(model: nn.Module, params: Params, x: Tensor, y: Tensor, *, inner_lr: Rate = 0.01,
          steps: int = 1, first_order: bool = False, truncate: int | None = None) -> Params:
    """Inner loop (Finn et al. eq. 1): ``steps`` gradient steps θ ← θ − α ∇L(θ; x, y) on one task.

    The result stays a differentiable function of ``params`` (and of a per-parameter ``inner_lr``
    dict, Meta-SGD), so a meta-gradient flows through it. ``first_order`` detaches the inner
    gradients (∂θ'/∂θ = I); ``truncate=T`` does so for all but the last T steps (truncated
    backprop). x, y: [k, 1]. Works unchanged under ``vmap`` over tasks.
    """
    if steps < 0:
        raise ValueError(f"inner steps must be >= 0, got {steps}")
    if truncate is not None and truncate < 0:
        raise ValueError(f"truncate must be None or >= 0, got {truncate}")
    _check_points(x, y)
    rate = inner_lr if isinstance(inner_lr, dict) else {name: inner_lr for name in params}
    inner_grad = grad(lambda p: mse(model, p, x, y))
    for t in range(steps):
        g = inner_grad(params)
        if not _is_second_order(t, steps, first_order, truncate):
            g = {name: v.detach() for name, v in g.items()}
        params = {name: params[name] - rate[name] * g[name] for name in params}
    return params


# --- the outer loop -----------------------------------------------------------------------------

@checked(tasks=each(tensor(3), 4), inner_lr=rate, steps=count, truncate=count)
def meta_loss(model: nn.Module, params: Params, tasks: Tasks, *, inner_lr: Rate = 0.01,
              steps: int = 1, first_order: bool = False, truncate: int | None = None) -> Tensor:
    """(1/n) Σ_i L(f_θ'_i; D_i^ts): the query loss after adaptation, averaged over the meta-batch.

    One ``vmap`` over the tasks: the per-task adaptation is batched, not looped.
    """
    def one_task(xs: Tensor, ys: Tensor, xq: Tensor, yq: Tensor) -> Tensor:
        adapted = adapt(model, params, xs, ys, inner_lr=inner_lr, steps=steps,
                        first_order=first_order, truncate=truncate)
        return mse(model, adapted, xq, yq)
    return vmap(one_task)(*tasks).mean()


@checked(tasks=each(tensor(3), 4), inner_lr=rate, steps=count, truncate=count)
def meta_gradient(model: nn.Module, params: Params, tasks: Tasks, *, inner_lr: Rate = 0.01,
                  steps: int = 1, first_order: bool = False,
                  truncate: int | None = None) -> Params | tuple[Params, Params]:
    """∇_θ of :func:`meta_loss` (Finn et al. eq. 3), second order unless ``first_order``.

    With a per-parameter ``inner_lr`` dict (Meta-SGD) returns (∇_θ, ∇_α). The inner gradients are
    ``torch.func.grad`` under ``vmap``; the outer one is ordinary reverse-mode autograd through them
    (the same numbers as an outer ``torch.func.grad``, with one transform layer less to dispatch).
    """
    theta = {n: p.detach().requires_grad_() for n, p in params.items()}
    alpha = ({n: a.detach().requires_grad_() for n, a in inner_lr.items()}
             if isinstance(inner_lr, dict) else None)
    loss = meta_loss(model, theta, tasks, inner_lr=alpha if alpha is not None else inner_lr,
                     steps=steps, first_order=first_order, truncate=truncate)
    grads = torch.autograd.grad(loss, [*theta.values(), *(alpha or {}).values()],
                                allow_unused=True, materialize_grads=True)
    g_theta = dict(zip(theta, grads[:len(theta)]))
    return g_theta if alpha is None else (g_theta, dict(zip(alpha, grads[len(theta):])))


@checked(tasks=each(tensor(3), 4), sigma=positive, n_pairs=size, inner_lr=rate, steps=count)
def es_meta_gradient(model: nn.Module, params: Params, tasks: Tasks, *, sigma: float = 1e-3,
                     n_pairs: int = 64, inner_lr: Rate = 0.01, steps: int = 1,
                     generator: torch.Generator | None = None) -> Params:
    """Evolution-strategies estimate of the meta-gradient from meta-losses alone (antithetic):

        g ≈ 1/(2σN) Σ_j [L(θ + σε_j) − L(θ − σε_j)] ε_j,   ε_j ~ N(0, I)

    (Salimans et al. 2017). It estimates the gradient of the Gaussian-smoothed *full* MAML meta-loss
    E_ε L(θ + σε), which for small σ is the second-order meta-gradient of :func:`meta_gradient`. No
    graph through the inner loop is kept, so memory does not grow with ``steps``; the price is
    variance, shrinking like 1/N.
    """
    if sigma <= 0 or n_pairs < 1:
        raise ValueError(f"need sigma > 0 and n_pairs >= 1, got {sigma} and {n_pairs}")
    names = list(params)
    flat = torch.cat([params[n].detach().flatten() for n in names])
    eps = torch.randn(n_pairs, flat.numel(), generator=generator, dtype=torch.float64)
    eps = eps.to(device=flat.device, dtype=flat.dtype)

    def unflatten(v: Tensor) -> Params:
        sizes = [params[n].numel() for n in names]
        return {n: c.view_as(params[n]) for n, c in zip(names, v.split(sizes))}

    def loss_at(v: Tensor) -> Tensor:  # the full (second-order) MAML meta-loss: only its values are used
        return meta_loss(model, unflatten(v), tasks, inner_lr=inner_lr, steps=steps)

    with torch.no_grad():
        batched = vmap(loss_at, chunk_size=64)  # bounded memory for large N
        plus, minus = batched(flat + sigma * eps), batched(flat - sigma * eps)
        g = ((plus - minus)[:, None] * eps).sum(0) / (2 * sigma * n_pairs)
    return unflatten(g)


# --- memory of the meta-gradient ------------------------------------------------------------------

@checked(steps=count, meta_batch=size, k_shot=size, truncate=count)
def meta_gradient_memory(steps: int, *, meta_batch: int = 25, k_shot: int = 10,
                         first_order: bool = False, truncate: int | None = None, seed: int = 0,
                         device: Device = None) -> int:
    """Peak bytes used by one meta-gradient with ``steps`` inner steps (the paper's network).

    Backprop through the inner loop keeps every step's activations and gradients alive, so the
    peak grows linearly with ``steps``; first-order or truncated meta-gradients do not.
    """
    device = runtime.get_device(device)
    gen = torch.Generator().manual_seed(seed)
    tasks = sinusoid_tasks(meta_batch, k_shot, k_shot, generator=gen, device=device)
    model = _init_model(seed, device)
    params = {n: p.detach() for n, p in model.named_parameters()}
    return peak_memory(lambda: meta_gradient(model, params, tasks, steps=steps,
                                             first_order=first_order, truncate=truncate), device)


# --- pictures -------------------------------------------------------------------------------------

@checked
def unrolled_graph_figure(steps: int = 3, *, first_order: bool = False):
    """The inner loop unrolled as a computation graph (a matplotlib figure, for the lecture).

    Forward (black): θ → θ'_1 → … → θ'_T → L(θ'_T; D^ts), each step reading the support set D^tr.
    Backward (red): the meta-gradient flows back through every step, multiplied by the step's
    Jacobian I − α∇²L^tr(θ'_t); every θ'_t and its support activations stay in memory until then.
    With ``first_order`` the Jacobians are replaced by I and nothing of the inner loop is kept.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if not 1 <= steps <= 5:
        raise ValueError(f"draw between 1 and 5 inner steps, got {steps}")
    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.set_axis_off()
    gap = 2.2
    xs = [i * gap for i in range(steps + 2)]
    names = ["θ"] + [f"θ'$_{t}$" for t in range(1, steps + 1)] + ["$\\mathcal{L}(\\theta'_T; D^{ts})$"]
    y0, red, grey = 0.0, "#D55E00", "#777777"

    def arrow(a, b, colour, style="-|>", ls="-", rad=0.0):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle=style, mutation_scale=14, color=colour,
                                     linestyle=ls, linewidth=1.6, connectionstyle=f"arc3,rad={rad}"))

    for i, (x, name) in enumerate(zip(xs, names)):
        last = i == len(xs) - 1
        w = 1.5 if last else 0.9
        ax.add_patch(FancyBboxPatch((x - w / 2, y0 - 0.3), w, 0.6, boxstyle="round,pad=0.05",
                                    facecolor="#E8F1FA" if not last else "#FBEBDD", edgecolor="black"))
        ax.text(x, y0, name, ha="center", va="center", fontsize=13)
        if i < len(xs) - 1 and not first_order:
            ax.add_patch(FancyBboxPatch((x - 0.5, y0 - 1.25), 1.0, 0.42, boxstyle="round,pad=0.03",
                                        facecolor="#EEEEEE", edgecolor=grey, linestyle="--"))
            ax.text(x, y0 - 1.04, "stored", ha="center", va="center", fontsize=11, color=grey)
    note = ("nothing of the inner loop is stored: memory does not grow with T" if first_order else
            "stored until the backward pass: each θ'$_t$ and its support activations (memory ∝ T)")
    ax.text(xs[0] - 0.75, y0 - 1.62, note, ha="left", va="center", fontsize=11, color=grey)
    for t in range(steps):  # forward: one inner step per arrow, each reading the support set
        a, b = xs[t] + 0.5, xs[t + 1] - 0.5
        arrow((a, y0 + 0.1), (b, y0 + 0.1), "black")
        ax.text((a + b) / 2, y0 + 0.28, "$-\\alpha\\nabla\\mathcal{L}^{tr}$", ha="center", fontsize=11)
        arrow(((a + b) / 2, y0 + 1.15), ((a + b) / 2, y0 + 0.55), grey)
    ax.text((xs[0] + xs[steps]) / 2, y0 + 1.35, "support set $D^{tr}$ (K points) read at every step",
            ha="center", fontsize=11, color=grey)
    arrow((xs[-2] + 0.5, y0 + 0.1), (xs[-1] - 0.8, y0 + 0.1), "black")
    ax.text((xs[-2] + xs[-1]) / 2 - 0.15, y0 + 0.28, "query $D^{ts}$", ha="center", fontsize=11)
    for t in range(steps + 1):  # backward: the meta-gradient flows right to left
        a, b = xs[t + 1] - (0.8 if t == steps else 0.5), xs[t] + 0.5
        arrow((a, y0 - 0.12), (b, y0 - 0.12), red, ls="--")
        if t < steps:
            label = "$\\times I$" if first_order else "$\\times(I - \\alpha\\nabla^2\\mathcal{L}^{tr})$"
            ax.text((a + b) / 2, y0 - 0.52, label, ha="center", fontsize=10.5, color=red)
    title = ("First-order MAML: the backward pass skips the inner loop" if first_order else
             f"MAML with T = {steps} inner steps: forward (black) and meta-gradient (red)")
    ax.set_title(title)
    ax.set_xlim(xs[0] - 0.8, xs[-1] + 0.9)
    ax.set_ylim(y0 - 1.8, y0 + 1.6)
    return fig


# --- training ----------------------------------------------------------------------------------

@checked(method=one_of(*METHODS), inner_lr=rate)
@dataclass
class Learner:
    """A meta-trained regressor: the initialisation θ (``model``) and its inner learning rate α
    (a float, or one tensor per parameter for Meta-SGD). ``history`` holds the meta-loss per
    iteration. Save with :meth:`save`, restore with :meth:`Learner.load`."""

    method: str
    model: nn.Module
    inner_lr: Rate
    config: dict = field(default_factory=dict)
    history: list[float] = field(default_factory=list)

    def params(self) -> Params:
        """θ as a detached dict, ready for :func:`adapt`."""
        return {n: p.detach() for n, p in self.model.named_parameters()}

    def rate(self) -> Rate:
        """α, detached."""
        if isinstance(self.inner_lr, dict):
            return {n: a.detach() for n, a in self.inner_lr.items()}
        return self.inner_lr

    def adapt(self, x: Tensor, y: Tensor, steps: int = 1) -> Params:
        """θ' after ``steps`` inner steps on one task's support set (no meta-gradient kept)."""
        return {n: p.detach() for n, p in
                adapt(self.model, self.params(), x, y, inner_lr=self.rate(), steps=steps,
                      first_order=True).items()}

    def adapt_path(self, x: Tensor, y: Tensor, steps: int) -> list[Params]:
        """[θ, θ'_1, …, θ'_steps]: the parameters after 0, 1, …, ``steps`` inner steps on one task."""
        if steps < 0:
            raise ValueError(f"inner steps must be >= 0, got {steps}")
        path = [self.params()]
        for _ in range(steps):
            path.append({n: p.detach() for n, p in
                         adapt(self.model, path[-1], x, y, inner_lr=self.rate(), steps=1,
                               first_order=True).items()})
        return path

    def predict(self, x: Tensor, params: Params | None = None) -> Tensor:
        """f_θ(x) (or with adapted ``params``), x [k, 1]."""
        with torch.no_grad():
            return functional_call(self.model, params if params is not None else self.params(), (x,))

    def save(self, path: str | os.PathLike) -> None:
        """Write θ, α, the config and the history to one ``torch.save`` file."""
        torch.save({"method": self.method, "state": self.model.state_dict(),
                    "inner_lr": self.rate(), "config": self.config, "history": self.history,
                    "hidden": self.config.get("hidden", (40, 40))}, path)

    @classmethod
    def load(cls, path: str | os.PathLike, device: Device = None) -> "Learner":
        """Read a file written by :meth:`save` onto ``device``."""
        blob = torch.load(path, map_location="cpu", weights_only=True)
        device = runtime.get_device(device)
        model = make_regressor(tuple(blob["hidden"]))
        model.load_state_dict(blob["state"])
        rate = blob["inner_lr"]
        if isinstance(rate, dict):
            rate = {n: a.to(device) for n, a in rate.items()}
        return cls(blob["method"], model.to(device), rate, dict(blob["config"]), list(blob["history"]))


def _init_model(seed: int, device: torch.device) -> nn.Module:
    """The regressor initialised from ``seed`` without touching the global random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make_regressor().to(device)


@checked(tasks=each(tensor(3), 4))
def pretrain_loss(model: nn.Module, params: Params, tasks: Tasks) -> Tensor:
    """The baseline's objective: one regression on all points of all tasks pooled together."""
    xs, ys, xq, yq = tasks
    x, y = torch.cat([xs, xq], 1).reshape(-1, 1), torch.cat([ys, yq], 1).reshape(-1, 1)
    return mse(model, params, x, y)


@checked(method=one_of(*METHODS), iterations=count, meta_batch=size, k_shot=size, inner_lr=positive,
         inner_steps=count, meta_lr=positive)
def meta_train(*, method: str = "maml", iterations: int, meta_batch: int = 25, k_shot: int = 10,
               inner_lr: float = 0.01, inner_steps: int = 1, meta_lr: float = 1e-3, seed: int = 0,
               device: Device = None, progress: bool | Callable = True) -> Learner:
    """Meta-train on sinusoid tasks with Adam(β = ``meta_lr``) on the outer loss.

    method: "maml" (second order), "fomaml" (first order), "metasgd" (θ and per-parameter α
    learned together, α initialised to ``inner_lr``), "pretrain" (plain regression on pooled
    tasks; fine-tuned with α at test time). One iteration = one meta-batch of ``meta_batch`` tasks
    with ``k_shot`` support and ``k_shot`` query points, all tasks in one vmapped gradient.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    if k_shot < 1:
        raise ValueError(f"k_shot must be >= 1, got {k_shot}")
    if inner_steps < 0:
        raise ValueError(f"inner_steps must be >= 0, got {inner_steps}")
    if iterations < 0 or meta_batch < 1:
        raise ValueError(f"need iterations >= 0 and meta_batch >= 1, got {iterations} and {meta_batch}")
    device = runtime.get_device(device)
    gen = torch.Generator().manual_seed(seed)
    model = _init_model(seed, device)
    theta = dict(model.named_parameters())
    alpha = ({n: torch.full_like(p, inner_lr, requires_grad=True) for n, p in theta.items()}
             if method == "metasgd" else None)
    opt = torch.optim.Adam([*theta.values(), *(alpha or {}).values()], lr=meta_lr)
    history: list[float] = []
    for _ in runtime.track(range(iterations), progress, desc=method):
        tasks = sinusoid_tasks(meta_batch, k_shot, k_shot, generator=gen, device=device)
        opt.zero_grad()
        if method == "pretrain":
            loss = pretrain_loss(model, theta, tasks)
        else:  # one vmapped meta-loss over the whole meta-batch, then one backward
            loss = meta_loss(model, theta, tasks, inner_lr=alpha if alpha is not None else inner_lr,
                             steps=inner_steps, first_order=method == "fomaml")
        loss.backward()
        opt.step()
        history.append(loss.item())
    config = dict(method=method, iterations=iterations, meta_batch=meta_batch, k_shot=k_shot,
                  inner_lr=inner_lr, inner_steps=inner_steps, meta_lr=meta_lr, seed=seed,
                  hidden=(40, 40))
    rate: Rate = {n: a.detach() for n, a in alpha.items()} if alpha else inner_lr
    return Learner(method, model, rate, config, history)


# --- evaluation --------------------------------------------------------------------------------

@checked(n_tasks=size, k_shot=size, steps=each(count), n_query=size)
def evaluate_tasks(learner: Learner, *, n_tasks: int = 600, k_shot: int = 10,
                   steps: tuple[int, ...] = (0, 1, 5, 10), n_query: int = 100,
                   seed: int = 1234) -> tuple[list[int], Tensor]:
    """Query MSE of every one of ``n_tasks`` fresh tasks after each number of inner steps.

    Returns (the sorted step counts, losses [n_tasks, len(steps)] in float64). Non-finite values are
    kept: an inner loop that diverges on a task (Meta-SGD run for more steps than it was trained
    for) shows up as inf or NaN in that task's row, not as a silently wrong mean.
    """
    if k_shot < 1:
        raise ValueError(f"k_shot must be >= 1, got {k_shot}")
    if not steps or min(steps) < 0:
        raise ValueError(f"steps must be a non-empty tuple of counts >= 0, got {steps}")
    if n_tasks < 1 or n_query < 1:
        raise ValueError(f"need n_tasks >= 1 and n_query >= 1, got {n_tasks} and {n_query}")
    device = next(learner.model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    tasks = sinusoid_tasks(n_tasks, k_shot, n_query, generator=gen, device=device)
    model, theta, rate = learner.model, learner.params(), learner.rate()
    wanted = sorted(set(steps))

    def curve(xs: Tensor, ys: Tensor, xq: Tensor, yq: Tensor) -> Tensor:
        params, losses, done = theta, [], 0
        for s in wanted:
            params = adapt(model, params, xs, ys, inner_lr=rate, steps=s - done, first_order=True)
            losses.append(mse(model, params, xq, yq))
            done = s
        return torch.stack(losses)

    with torch.no_grad():
        return wanted, vmap(curve)(*tasks).double().cpu()  # [n_tasks, len(wanted)]


@checked(n_tasks=size, k_shot=size, steps=each(count), n_query=size)
def evaluate(learner: Learner, *, n_tasks: int = 600, k_shot: int = 10,
             steps: tuple[int, ...] = (0, 1, 5, 10), n_query: int = 100,
             seed: int = 1234) -> dict[int, tuple[float, float]]:
    """Mean query MSE over ``n_tasks`` fresh tasks after each number of inner steps, with the 95 %
    confidence half-width 1.96 s/√n. Adaptation uses the learner's own α (K = ``k_shot`` support
    points, ``n_query`` query points per task). A step count at which any task diverged has a
    NaN or inf mean: see :func:`evaluate_tasks` for the per-task losses."""
    wanted, losses = evaluate_tasks(learner, n_tasks=n_tasks, k_shot=k_shot, steps=steps,
                                    n_query=n_query, seed=seed)
    mean = losses.mean(0)
    half = 1.96 * losses.std(0) / math.sqrt(n_tasks) if n_tasks > 1 else torch.zeros_like(mean)
    return {s: (mean[i].item(), half[i].item()) for i, s in enumerate(wanted)}


# --- committed checkpoints ------------------------------------------------------------------------

@checked(method=one_of(*METHODS))
def checkpoint_path(method: str) -> Path:
    """Where the reference learner for ``method`` is stored: mlcourse/data/maml_<method>.pt."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    return DATA_DIR / f"maml_{method}.pt"


@checked(method=one_of(*METHODS))
def pretrained(method: str = "maml", *, recompute: bool = False, device: Device = None,
               progress: bool | Callable = False, **overrides) -> Learner:
    """The reference learner of the lecture: loaded from its checkpoint, or trained with
    :data:`REFERENCE` (updated by ``overrides``) when ``recompute`` is set or the file is missing."""
    path = checkpoint_path(method)
    if not recompute and not overrides and path.exists():
        return Learner.load(path, device)
    return meta_train(method=method, device=device, progress=progress, **{**REFERENCE, **overrides})


@checked
def main(argv: list[str] | None = None) -> None:
    """``python -m mlcourse.maml --train [--methods maml fomaml ...] [--iterations N]``: retrain the
    reference learners on one CPU thread and write them to mlcourse/data/."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--train", action="store_true", help="train and write the checkpoints")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--iterations", type=int, default=REFERENCE["iterations"])
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    if not args.train:
        parser.print_help()
        return
    runtime.set_threads()
    args.out.mkdir(parents=True, exist_ok=True)
    for method in args.methods:
        learner = pretrained(method, recompute=True, device="cpu", progress=True,
                             iterations=args.iterations)
        learner.save(args.out / f"maml_{method}.pt")
        result = evaluate(learner)
        print(method, {s: f"{m:.3f} ± {h:.3f}" for s, (m, h) in result.items()})


if __name__ == "__main__":
    main()
