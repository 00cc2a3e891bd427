"""Gradient-based hyperparameter optimisation over long inner loops.

The bilevel problem of the lecture (Micaelli & Storkey 2021, "Gradient-based Hyperparameter
Optimization Over Long Horizons", eq. 1):

    λ* = argmin_λ L_val(θ_T(λ))   subject to   θ_{t+1} = Φ(θ_t, ∇L_train(θ_t), λ),  t < T.

Here Φ is SGD with momentum μ and a learning-rate schedule α_t = exp(λ_{w(t)}) shared over W
contiguous windows (w(t) = ⌊tW/T⌋). The hypergradient dL_val/dλ is computed three ways:

- reverse mode (BPTT through the unroll; memory O(T)) — :func:`hypergradient_reverse`;
- forward mode (carry the tangents dθ_t/dλ, dv_t/dλ; memory constant in T, cost ∝ number of
  hyperparameters; Franceschi et al. 2017, "Forward and Reverse Gradient-Based Hyperparameter
  Optimization") — :func:`hypergradient_forward`;
- central finite differences — :func:`hypergradient_fd`;
- reverse mode by running the optimiser backwards in exact fixed-point arithmetic, storing only the
  bits that momentum destroys (Maclaurin, Duvenaud & Adams 2015, "Gradient-based Hyperparameter
  Optimization through Reversible Learning") — :func:`hypergradient_reversible`.

Further sections, one idea each: the sharing bound MSE_W ≤ MSE_1/W + ε²(W² − 1)/12 and its optimal
W (Micaelli & Storkey 2021, Theorem 1); short-horizon bias on the noisy quadratic (Wu, Ren, Liao &
Grosse 2018); implicit differentiation with a Neumann series (Lorraine, Vicol & Duvenaud 2020);
truncated backprop, ES and persistent ES on influence balancing (Vicol, Metz & Sohl-Dickstein 2021).

Everything defaults to float64 (finite differences need it). Apple's MPS backend has no float64:
on ``mps`` the float64 functions fall back to the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch
from scipy.optimize import minimize
from torch import Tensor
from torch.func import grad

from mlcourse import runtime
from mlcourse.runtime import Device
from mlcourse.memory import peak_memory
from mlcourse.inputs import (any_integer, checked, count, each, fraction, nonnegative, number, number_or_each, one_of,
                             positive, size)



def _device(device: Device) -> torch.device:
    """:func:`mlcourse.runtime.get_device`, with the CPU instead of MPS (everything here is float64)."""
    device = runtime.get_device(device)
    return torch.device("cpu") if device.type == "mps" else device


# --- pictures ----------------------------------------------------------------------------------------

def accumulation_figure():
    """Forward vs reverse accumulation through an unrolled inner loop (a matplotlib figure).

    Top: reverse mode runs the T steps, stores every θ_t, then carries the adjoint dL/dθ_t back from
    L_val and collects dL/dλ on the way (memory ∝ T). Bottom: forward mode carries the tangent
    Z_t = dθ_t/dλ along with θ_t and finishes with dL/dλ = Z_T ∇L_val (memory ∝ number of λ's).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(10, 4.6))
    ax.set_axis_off()
    red, green, grey = "#D55E00", "#009E73", "#777777"
    xs = [0.0, 2.0, 4.0, 6.4, 8.6]
    names = ["$\\theta_0$", "$\\theta_1$", "$\\theta_2$", "$\\theta_T$", "$\\mathcal{L}_{val}$"]

    def arrow(a, b, colour="black", ls="-", rad=0.0):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=13, color=colour, linestyle=ls,
                                     linewidth=1.5, connectionstyle=f"arc3,rad={rad}"))

    for row, y in (("reverse", 2.4), ("forward", 0.0)):
        ax.text(-0.8, y + 1.1, "Reverse mode (backpropagation through the unroll)" if row == "reverse"
                else "Forward mode (tangents carried along)", fontsize=12, fontweight="bold", ha="left")
        ax.add_patch(FancyBboxPatch((6.2, y + 0.55), 1.8, 0.34, boxstyle="round,pad=0.04", facecolor="#FBEBDD",
                                    edgecolor="black"))
        ax.text(7.1, y + 0.72, "$\\lambda$ (learning rates)", ha="center", va="center", fontsize=11)
        for i, (x, name) in enumerate(zip(xs, names)):
            w = 0.9 if i < 4 else 1.0
            ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.25), w, 0.5, boxstyle="round,pad=0.04",
                                        facecolor="#E8F1FA" if i < 4 else "#EEEEEE", edgecolor="black"))
            ax.text(x, y, name, ha="center", va="center", fontsize=12)
        ax.text(5.2, y, "…", ha="center", va="center", fontsize=16)
        for a, b in ((0, 1), (1, 2), (3, 4)):
            arrow((xs[a] + 0.5, y), (xs[b] - 0.5, y))
        arrow((xs[2] + 0.5, y), (4.9, y))
        arrow((5.5, y), (xs[3] - 0.5, y))
        for a in (0, 1, 3):  # λ enters every step
            arrow((6.3, y + 0.6), ((xs[a] + xs[a + 1]) / 2 if a < 3 else 5.9, y + 0.08), grey, "--")
        if row == "reverse":
            for x in xs[:4]:
                ax.text(x - 0.5, y - 0.45, "stored", ha="right", fontsize=10, color=grey)
            arrow((xs[4], y - 0.3), (xs[0], y - 0.62), red, "--", rad=-0.06)
            ax.text(4.3, y - 1.0, "then backwards: adjoints $d\\mathcal{L}/d\\theta_t$, summing $d\\mathcal{L}/d\\lambda$;"
                    "  memory ∝ T", ha="center", fontsize=11, color=red)
        else:
            for x in xs[:4]:
                ax.text(x, y - 0.48, "$+\\,Z_t$", ha="center", fontsize=11, color=green)
            ax.text(4.3, y - 0.9, "$Z_t = d\\theta_t/d\\lambda$ updated with each step; "
                    "$d\\mathcal{L}/d\\lambda = Z_T\\nabla\\mathcal{L}_{val}$;  memory ∝ number of λ's",
                    ha="center", fontsize=11, color=green)
    ax.set_xlim(-0.9, 9.3)
    ax.set_ylim(-1.15, 3.7)
    return fig


# --- the inner problem: least squares trained by SGD with momentum --------------------------------

@checked(shapes=dict(x_train="n d", y_train="n", x_val="m d", y_val="m", theta0="d"))
@dataclass(frozen=True)
class LeastSquares:
    """A d-dimensional least-squares problem: L(θ) = ½ mean((Xθ − y)²) on a train and a val split."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor
    theta0: Tensor

    def _split(self, rows: Tensor | None) -> tuple[Tensor, Tensor]:
        return (self.x_train, self.y_train) if rows is None else (self.x_train[rows], self.y_train[rows])

    def train_loss(self, theta: Tensor, rows: Tensor | None = None) -> Tensor:
        """½ mean((Xθ − y)²) on the training split (or on its ``rows``, a minibatch)."""
        x, y = self._split(rows)
        return 0.5 * (x @ theta - y).pow(2).mean()

    def train_grad(self, theta: Tensor, rows: Tensor | None = None) -> Tensor:
        """∇L_train(θ) = Xᵀ(Xθ − y)/n in closed form (equals ``torch.func.grad(train_loss)``)."""
        x, y = self._split(rows)
        return x.T @ (x @ theta - y) / len(y)

    def train_hvp(self, z: Tensor, rows: Tensor | None = None) -> Tensor:
        """H z = XᵀX z / n for a batch of tangents z [..., d] (the Hessian does not depend on θ)."""
        x, _ = self._split(rows)
        return (z @ x.T) @ x / len(x)

    def val_loss(self, theta: Tensor) -> Tensor:
        """½ mean((Xθ − y)²) on the validation split: the outer objective L_val."""
        return 0.5 * (self.x_val @ theta - self.y_val).pow(2).mean()


@checked(d=size, n_train=size, n_val=size, noise=nonnegative, condition=number(1))
def make_problem(d: int = 10, n_train: int = 40, n_val: int = 40, noise: float = 0.5,
                 condition: float = 100.0, *, seed: int = 0, device: Device = None) -> LeastSquares:
    """Random regression y = Xθ_true + noise, θ_0 = 0. The columns of X ~ N(0, 1) are scaled
    log-uniformly so that the Hessian's eigenvalues spread over ≈ ``condition`` (slow directions
    make the learning rates matter over the whole horizon)."""
    if d < 1 or n_train < 1 or n_val < 1 or condition < 1:
        raise ValueError(f"need d, n_train, n_val >= 1 and condition >= 1, got {d}, {n_train}, "
                         f"{n_val}, {condition}")
    gen = torch.Generator().manual_seed(seed)
    theta_true = torch.randn(d, generator=gen, dtype=torch.float64)
    scales = torch.logspace(0, -0.5 * math.log10(condition), d, dtype=torch.float64)

    def split(n: int) -> tuple[Tensor, Tensor]:
        x = torch.randn(n, d, generator=gen, dtype=torch.float64) * scales
        return x, x @ theta_true + noise * torch.randn(n, generator=gen, dtype=torch.float64)

    dev = _device(device)
    (xt, yt), (xv, yv) = split(n_train), split(n_val)
    return LeastSquares(*(t.to(dev) for t in (xt, yt, xv, yv, torch.zeros(d, dtype=torch.float64))))


@checked(n_windows=size, T=size)
def window_index(n_windows: int, T: int) -> Tensor:
    """w(t) = ⌊t W / T⌋: which of the W contiguous windows step t belongs to ([T], int64)."""
    if T < 1 or not 1 <= n_windows <= T:
        raise ValueError(f"need 1 <= number of windows <= T, got {n_windows} windows for T={T}")
    return torch.arange(T) * n_windows // T


def _check_schedule(log_lrs: Tensor, T: int) -> int:
    if log_lrs.dim() != 1:
        raise ValueError(f"log_lrs must be 1-d [W], got shape {tuple(log_lrs.shape)}")
    if T < 1 or not 1 <= len(log_lrs) <= T:
        raise ValueError(f"need 1 <= number of windows <= T, got {len(log_lrs)} windows for T={T}")
    return len(log_lrs)


@checked(T=size, shapes=dict(log_lrs="W"))
def lr_schedule(log_lrs: Tensor, T: int) -> Tensor:
    """α_t = exp(λ_{w(t)}): W shared log learning rates spread over T steps ([W] → [T])."""
    _check_schedule(log_lrs, T)
    return log_lrs.exp()[window_index(len(log_lrs), T).to(log_lrs.device)]


def _batches(problem: LeastSquares, T: int, batch_size: int | None, seed: int) -> Iterator[Tensor | None]:
    """The minibatch rows of each step (None: full batch), fixed by ``seed`` (common random numbers).

    A generator: nothing of size T is held in memory."""
    n = len(problem.y_train)
    if batch_size is not None and not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    return _batch_rows(n, T, batch_size, seed, problem.y_train.device)


def _batch_rows(n: int, T: int, batch_size: int | None, seed: int, device: torch.device) -> Iterator[Tensor | None]:
    gen = torch.Generator().manual_seed(seed)
    for _ in range(T):
        yield None if batch_size is None else torch.randperm(n, generator=gen)[:batch_size].to(device)


@checked(T=size, momentum=fraction, batch_size=size, shapes=dict(log_lrs="W"))
def unroll(problem: LeastSquares, log_lrs: Tensor, T: int, *, momentum: float = 0.9,
           batch_size: int | None = None, seed: int = 0) -> tuple[Tensor, Tensor]:
    """The inner loop: T steps of SGD with momentum (PyTorch's convention) from θ_0, v_0 = 0:

        v_{t+1} = μ v_t + ∇L_train(θ_t),    θ_{t+1} = θ_t − α_t v_{t+1}.

    Differentiable in ``log_lrs``. Returns (θ_T, v_T).
    """
    alphas = lr_schedule(log_lrs, T)
    theta, v = problem.theta0, torch.zeros_like(problem.theta0)
    for alpha, rows in zip(alphas, _batches(problem, T, batch_size, seed)):
        v = momentum * v + problem.train_grad(theta, rows)
        theta = theta - alpha * v
    return theta, v


@checked(T=size, shapes=dict(log_lrs="W"))
def validation_loss(problem: LeastSquares, log_lrs: Tensor, T: int, **kw) -> Tensor:
    """L_val(θ_T(λ)): the outer objective as a function of the shared log learning rates."""
    return problem.val_loss(unroll(problem, log_lrs, T, **kw)[0])


@checked(T=size, shapes=dict(log_lrs="W"))
def hypergradient_reverse(problem: LeastSquares, log_lrs: Tensor, T: int, **kw) -> Tensor:
    """dL_val/dλ by reverse mode: autograd keeps every step's (θ_t, v_t) — memory grows with T."""
    lam = log_lrs.detach().requires_grad_()
    return torch.autograd.grad(validation_loss(problem, lam, T, **kw), lam)[0]


@checked(T=size, momentum=fraction, batch_size=size, shapes=dict(log_lrs="W"))
def hypergradient_forward(problem: LeastSquares, log_lrs: Tensor, T: int, *, momentum: float = 0.9,
                          batch_size: int | None = None, seed: int = 0) -> Tensor:
    """dL_val/dλ by forward mode (Franceschi et al. 2017, Sect. 3): carry the tangents
    Z_t = dθ_t/dλ and U_t = dv_t/dλ (both [W, d]) through the loop,

        U_{t+1} = μ U_t + Z_t H_t,     Z_{t+1} = Z_t − α_t U_{t+1} − (∂α_t/∂λ) v_{t+1}ᵀ,

    with H_t = ∇²L_train(θ_t) (a Hessian–vector product per row) and ∂α_t/∂λ_j = α_t 1[w(t) = j].
    Then dL_val/dλ = Z_T ∇L_val(θ_T). Memory: O(W d), constant in T; cost ∝ W.
    (``torch.func.jvp`` of :func:`validation_loss` along e_j gives the same numbers, one λ_j per pass.)
    """
    lam = log_lrs.detach()
    W = _check_schedule(lam, T)
    theta, v = problem.theta0, torch.zeros_like(problem.theta0)
    Z = torch.zeros(W, len(theta), dtype=theta.dtype, device=theta.device)
    U = torch.zeros_like(Z)
    for t, rows in enumerate(_batches(problem, T, batch_size, seed)):
        w = t * W // T  # computed on the fly: nothing of size T is kept
        alpha = lam[w].exp()
        v = momentum * v + problem.train_grad(theta, rows)
        U = momentum * U + problem.train_hvp(Z, rows)
        Z = Z - alpha * U
        Z[w] = Z[w] - alpha * v
        theta = theta - alpha * v
    return Z @ grad(problem.val_loss)(theta)


@checked(T=size, eps=positive, shapes=dict(log_lrs="W"))
def hypergradient_fd(problem: LeastSquares, log_lrs: Tensor, T: int, *, eps: float = 1e-5,
                     **kw) -> Tensor:
    """Central finite differences [L_val(λ + εe_j) − L_val(λ − εe_j)] / 2ε, one pair per λ_j."""
    lam = log_lrs.detach()
    out = torch.empty_like(lam)
    with torch.no_grad():
        for j in range(len(lam)):
            e = torch.zeros_like(lam)
            e[j] = eps
            out[j] = (validation_loss(problem, lam + e, T, **kw)
                      - validation_loss(problem, lam - e, T, **kw)) / (2 * eps)
    return out


# --- reversible learning ----------------------------------------------------------------------------
#
# States are fixed-point integers: θ = θ_int · 2^-bits, v likewise, one Python int per coordinate
# (exact, arbitrary precision). Adding a rounded gradient or subtracting a rounded α·v is undone by
# the opposite operation; multiplying v by μ = n/d loses information, which goes to a buffer.

@checked(T=size, momentum=number(0, 1, lo_open=True, hi_open=True), shapes=dict(log_lrs="W"))
def naive_reverse_error(problem: LeastSquares, log_lrs: Tensor, T: int, *,
                        momentum: float = 0.9) -> float:
    """Run the float64 unroll, then the update backwards in float64 (θ_t = θ_{t+1} + α_t v_{t+1},
    v_t = (v_{t+1} − ∇L_train(θ_t))/μ) and return ‖v̂_0 − v_0‖ + ‖θ̂_0 − θ_0‖: the rounding errors
    are amplified by 1/μ per step, so the recovered start is garbage for long horizons."""
    alphas = lr_schedule(log_lrs.detach(), T)
    with torch.no_grad():
        theta, v = unroll(problem, log_lrs.detach(), T, momentum=momentum)
        for alpha in alphas.flip(0):
            theta = theta + alpha * v
            v = (v - problem.train_grad(theta)) / momentum
    return float((v.norm() + (theta - problem.theta0).norm()).item())


def _ratio(momentum: float) -> tuple[int, int]:
    """μ as n/d with d ≤ 1000 (0.9 → 9/10); μ must be in (0, 1)."""
    if not 0 < momentum < 1:
        raise ValueError(f"momentum must be in (0, 1) to be reversed, got {momentum}")
    r = Fraction(momentum).limit_denominator(1000)
    return r.numerator, r.denominator


@checked(x=any_integer, n=size, d=size)
def mul_ratio(x: int, buffer: int, n: int, d: int) -> tuple[int, int]:
    """x·n/d rounded down, reversibly (Maclaurin et al. 2015): first make room, x·n, and fill
    the log2 n new low bits from the buffer; then divide by d and push the remainder (log2 d bits).
    Net growth of the buffer: log2(d/n) = log2(1/μ) bits — exactly the information μ destroys."""
    buffer, low = divmod(buffer, n)
    x, rest = divmod(x * n + low, d)
    return x, buffer * d + rest


@checked(x=any_integer, n=size, d=size)
def unmul_ratio(x: int, buffer: int, n: int, d: int) -> tuple[int, int]:
    """The inverse of :func:`mul_ratio`: unmul_ratio(*mul_ratio(x, b, n, d), n, d) == (x, b)."""
    buffer, rest = divmod(buffer, d)
    x, low = divmod(x * d + rest, n)
    return x, buffer * n + low


def _to_fixed(x: Tensor, bits: int) -> list[int]:
    return [round(value) for value in (x.detach().double() * 2.0**bits).tolist()]


def _from_fixed(q: list[int], bits: int, like: Tensor) -> Tensor:
    return torch.tensor([value / 2**bits for value in q], dtype=like.dtype, device=like.device)


@checked(theta=each(any_integer), v=each(any_integer))
@dataclass
class ReversibleState:
    """θ_t and v_t as fixed-point ints, and one information buffer per coordinate."""

    theta: list[int]
    v: list[int]
    buffer: list[int]
    bits: int

    @property
    def buffer_bits(self) -> int:
        """Bits held by the buffers: what it costs to run back to θ_0."""
        return sum(b.bit_length() for b in self.buffer)


def _step(problem: LeastSquares, s: ReversibleState, alpha: float, n: int, d: int) -> None:
    """One step of SGD with momentum in place: v ← μv + ∇L(θ), θ ← θ − αv, exactly invertible."""
    theta = _from_fixed(s.theta, s.bits, problem.theta0)
    g = _to_fixed(problem.train_grad(theta), s.bits)
    for i in range(len(s.v)):
        s.v[i], s.buffer[i] = mul_ratio(s.v[i], s.buffer[i], n, d)
        s.v[i] += g[i]
    step = _to_fixed(alpha * _from_fixed(s.v, s.bits, problem.theta0), s.bits)
    s.theta = [a - b for a, b in zip(s.theta, step)]


def _unstep(problem: LeastSquares, s: ReversibleState, alpha: float, n: int, d: int) -> None:
    """The inverse of :func:`_step`, in the opposite order: θ first (it needs v_{t+1}), then v."""
    step = _to_fixed(alpha * _from_fixed(s.v, s.bits, problem.theta0), s.bits)
    s.theta = [a + b for a, b in zip(s.theta, step)]
    g = _to_fixed(problem.train_grad(_from_fixed(s.theta, s.bits, problem.theta0)), s.bits)
    for i in range(len(s.v)):
        s.v[i], s.buffer[i] = unmul_ratio(s.v[i] - g[i], s.buffer[i], n, d)


@checked(T=size, momentum=number(0, 1, lo_open=True, hi_open=True), bits=count, shapes=dict(log_lrs="W"))
def reversible_unroll(problem: LeastSquares, log_lrs: Tensor, T: int, *, momentum: float = 0.9,
                      bits: int = 48) -> ReversibleState:
    """:func:`unroll` (full batch) in fixed point with ``bits`` fractional bits; returns the final
    state, from which :func:`reverse_unroll` recovers θ_0, v_0 = 0 bit for bit."""
    n, d = _ratio(momentum)
    s = ReversibleState(_to_fixed(problem.theta0, bits), [0] * len(problem.theta0),
                        [0] * len(problem.theta0), bits)
    for alpha in lr_schedule(log_lrs.detach(), T).tolist():
        _step(problem, s, alpha, n, d)
    return s


@checked(T=size, momentum=number(0, 1, lo_open=True, hi_open=True), shapes=dict(log_lrs="W"))
def reverse_unroll(problem: LeastSquares, log_lrs: Tensor, T: int, state: ReversibleState, *,
                   momentum: float = 0.9) -> ReversibleState:
    """Run :func:`reversible_unroll` backwards from its final ``state`` (changed in place, returned)."""
    n, d = _ratio(momentum)
    for alpha in reversed(lr_schedule(log_lrs.detach(), T).tolist()):
        _unstep(problem, state, alpha, n, d)
    return state


@checked(T=size, momentum=number(0, 1, lo_open=True, hi_open=True), bits=count, shapes=dict(log_lrs="W"))
def hypergradient_reversible(problem: LeastSquares, log_lrs: Tensor, T: int, *,
                             momentum: float = 0.9, bits: int = 48) -> Tensor:
    """dL_val/dλ by reverse mode without storing the trajectory (Maclaurin et al. 2015):
    unroll forward, then walk back step by step, recovering (θ_t, v_t) exactly and carrying the
    adjoints dθ, dv of SGD with momentum (v_{t+1} = μv_t + ∇L(θ_t), θ_{t+1} = θ_t − α_t v_{t+1}):

        dα_t = −dθ·v_{t+1},   dv ← dv − α_t dθ,   dθ ← dθ + H(θ_t) dv,   dv ← μ dv,

    starting from dθ = ∇L_val(θ_T), dv = 0; then dL/dλ_j = Σ_{w(t)=j} α_t dα_t. Memory: the state,
    the adjoints and about T·d·log2(1/μ) buffer bits."""
    n, d = _ratio(momentum)
    lam = log_lrs.detach()
    alphas = lr_schedule(lam, T)
    s = reversible_unroll(problem, lam, T, momentum=momentum, bits=bits)
    dtheta = grad(problem.val_loss)(_from_fixed(s.theta, bits, problem.theta0))
    dv = torch.zeros_like(dtheta)
    dalpha = torch.empty_like(alphas)
    for t in range(T - 1, -1, -1):
        dalpha[t] = -dtheta @ _from_fixed(s.v, bits, problem.theta0)
        dv = dv - alphas[t] * dtheta
        _unstep(problem, s, float(alphas[t]), n, d)
        dtheta = dtheta + problem.train_hvp(dv)
        dv = momentum * dv
    windows = window_index(len(lam), T).to(lam.device)
    return torch.zeros_like(lam).index_add_(0, windows, alphas * dalpha)


# --- memory -----------------------------------------------------------------------------------------

@checked(method=one_of("reverse", "forward"), T=size, n_windows=size)
def hypergradient_memory(method: str, T: int, *, n_windows: int = 4, seed: int = 0,
                         device: Device = None) -> int:
    """Peak bytes of one hypergradient ('reverse' or 'forward') for a T-step unroll."""
    methods = {"reverse": hypergradient_reverse, "forward": hypergradient_forward}
    if method not in methods:
        raise ValueError(f"method must be one of {', '.join(methods)}, got {method!r}")
    problem = make_problem(seed=seed, device=device)
    lam = torch.full((n_windows,), math.log(0.05), dtype=torch.float64, device=problem.theta0.device)
    return peak_memory(lambda: methods[method](problem, lam, T), problem.theta0.device)


# --- a nonlinear inner loop: where hypergradients degrade ------------------------------------------
#
# On a quadratic, training is linear in θ and the hypergradient can only shrink or grow geometrically.
# A network is nonlinear: near the edge of stability GD no longer converges smoothly, the final loss
# becomes a rugged function of the learning rate and the hypergradient jumps by orders of magnitude
# and flips sign between neighbouring rates (Metz et al. 2021, "Gradients are not all you need").

@checked(shapes=dict(x="n 1", y="n 1", x_val="m 1", y_val="m 1"))
@dataclass(frozen=True)
class TanhRegression:
    """A one-hidden-layer tanh network f(x) = tanh(x W1ᵀ + b1) W2ᵀ + b2 fitting y = sin 2x + noise,
    and its fixed random initialisation (W1, b1, W2, b2)."""

    x: Tensor
    y: Tensor
    x_val: Tensor
    y_val: Tensor
    init: tuple[Tensor, Tensor, Tensor, Tensor]


@checked(n=size, hidden=size, noise=nonnegative)
def tanh_regression(n: int = 16, hidden: int = 8, noise: float = 0.1, *, seed: int = 0,
                    device: Device = None) -> TanhRegression:
    """n training and n validation points x ~ U[−2, 2], y = sin 2x + noise·ε; the network's start:
    W1 ~ N(0, 1), b1 ~ N(0, ¼), W2 ~ N(0, 1/hidden), b2 = 0 (float64)."""
    if n < 1 or hidden < 1 or noise < 0:
        raise ValueError(f"need n, hidden >= 1 and noise >= 0, got {n}, {hidden}, {noise}")
    gen = torch.Generator().manual_seed(seed)
    dt = torch.float64

    def split() -> tuple[Tensor, Tensor]:
        x = 4 * torch.rand(n, 1, generator=gen, dtype=dt) - 2
        return x, torch.sin(2 * x) + noise * torch.randn(n, 1, generator=gen, dtype=dt)

    (x, y), (xv, yv) = split(), split()
    init = (torch.randn(hidden, 1, generator=gen, dtype=dt), 0.5 * torch.randn(hidden, generator=gen, dtype=dt),
            torch.randn(1, hidden, generator=gen, dtype=dt) / math.sqrt(hidden), torch.zeros(1, dtype=dt))
    dev = _device(device)
    return TanhRegression(x.to(dev), y.to(dev), xv.to(dev), yv.to(dev), tuple(t.to(dev) for t in init))


@checked(T=count, batch_size=size, shapes=dict(log_lrs="B"))
def tanh_unroll(problem: TanhRegression, log_lrs: Tensor, T: int, *, batch_size: int | None = None,
                seeds: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """T steps of (minibatch) gradient descent on the tanh network, one run per learning rate
    α = e^λ of ``log_lrs`` [B], all runs batched; returns (L_val(θ_T) [B], dL_val/dλ [B]).

    The hypergradient is forward mode by hand: next to every weight its tangent dθ/dλ is carried
    through the step θ ← θ − α g(θ), as  θ̇ ← θ̇ − α (H θ̇) − α g  (dα/dλ = α; H θ̇ is the
    directional derivative of the gradient formulas). Memory does not grow with T. With
    ``batch_size``, run b draws its minibatches from generator seed ``seeds[b]`` (one draw per step).
    """
    lam = torch.as_tensor(log_lrs, dtype=torch.float64, device=problem.x.device)
    if lam.dim() != 1 or T < 0:
        raise ValueError(f"log_lrs must be 1-d and T >= 0, got shape {tuple(lam.shape)} and T={T}")
    B, n = len(lam), len(problem.y)
    if batch_size is not None and not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be in [1, {n}], got {batch_size}")
    alpha = lam.exp()
    W1, b1, W2, b2 = (t.expand(B, *t.shape).clone() for t in problem.init)
    dW1, db1, dW2, db2 = (torch.zeros_like(t) for t in (W1, b1, W2, b2))
    gens = None
    if batch_size is not None:
        seeds = torch.arange(B) if seeds is None else torch.as_tensor(seeds)
        gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    a_ = alpha[:, None, None]
    for _ in range(T):
        if gens is None:
            x, y = problem.x.expand(B, -1, -1), problem.y.expand(B, -1, -1)
        else:
            rows = torch.stack([torch.randperm(n, generator=g)[:batch_size] for g in gens]).to(problem.x.device)
            x, y = problem.x[rows], problem.y[rows]
        m = x.shape[1]
        z = torch.tanh(x @ W1.transpose(1, 2) + b1[:, None, :])        # [B, m, h]
        dz = (x @ dW1.transpose(1, 2) + db1[:, None, :]) * (1 - z * z)  # tangent of z
        r = (z @ W2.transpose(1, 2) + b2[:, None, :] - y) / m           # [B, m, 1]
        dr = (dz @ W2.transpose(1, 2) + z @ dW2.transpose(1, 2) + db2[:, None, :]) / m
        back = r @ W2                                                    # [B, m, h]
        dback = dr @ W2 + r @ dW2
        da = back * (1 - z * z)
        dda = dback * (1 - z * z) - 2 * back * z * dz
        grads = (da.transpose(1, 2) @ x, da.sum(1), r.transpose(1, 2) @ z, r.sum(1))
        tangents = (dda.transpose(1, 2) @ x, dda.sum(1), dr.transpose(1, 2) @ z + r.transpose(1, 2) @ dz, dr.sum(1))
        new = []
        for w, dw, g, dg in zip((W1, b1, W2, b2), (dW1, db1, dW2, db2), grads, tangents):
            scale = a_ if w.dim() == 3 else alpha[:, None]
            new.append((w - scale * g, dw - scale * dg - scale * g))
        (W1, dW1), (b1, db1), (W2, dW2), (b2, db2) = new
    xv, yv = problem.x_val, problem.y_val
    z = torch.tanh(xv @ W1.transpose(1, 2) + b1[:, None, :])
    dz = (xv @ dW1.transpose(1, 2) + db1[:, None, :]) * (1 - z * z)
    out = z @ W2.transpose(1, 2) + b2[:, None, :]
    dout = dz @ W2.transpose(1, 2) + z @ dW2.transpose(1, 2) + db2[:, None, :]
    resid = out - yv
    return 0.5 * resid.pow(2).mean((1, 2)), (resid * dout).mean((1, 2))


# --- greediness: hypergradients over a short horizon H ---------------------------------------------

@checked(T=size, n_windows=size, horizon=size, meta_steps=count, meta_lr=positive, init_lr=positive,
         momentum=fraction, batch_size=size)
def learn_schedule(problem: LeastSquares, T: int, n_windows: int, horizon: int, *,
                   meta_steps: int = 10, meta_lr: float = 0.05, init_lr: float = 0.02,
                   momentum: float = 0.9, batch_size: int | None = 10, seed: int = 0,
                   progress=False) -> Tensor:
    """Learn W shared log learning rates greedily: each meta-step runs the T inner steps in
    segments of ``horizon`` H steps; after each segment it takes one signed-gradient step on the
    validation loss *at the end of that segment* (the horizon-H objective, Wu et al. 2018) and goes on
    from the detached state. H = T is the full-horizon hypergradient. Returns λ [W].

    The minibatches change with every meta-step (seed + step), so hypergradients are noisy.
    """
    if not 1 <= horizon <= T:
        raise ValueError(f"horizon must be in [1, T={T}], got {horizon}")
    lam = torch.full((n_windows,), math.log(init_lr), dtype=problem.theta0.dtype,
                     device=problem.theta0.device)
    windows = window_index(n_windows, T)
    for step in runtime.track(range(meta_steps), progress, desc="meta-steps"):
        state = (problem.theta0, torch.zeros_like(problem.theta0))
        for start in range(0, T, horizon):
            stop = min(start + horizon, T)
            lam_ = lam.detach().requires_grad_()
            seg = lr_schedule(lam_, T)[start:stop]
            theta, v = state
            for alpha, rows in zip(seg, _batches(problem, stop - start, batch_size,
                                                 seed + 1000 * step + start)):
                v = momentum * v + problem.train_grad(theta, rows)
                theta = theta - alpha * v
            g = torch.autograd.grad(problem.val_loss(theta), lam_)[0]
            touched = torch.zeros_like(lam, dtype=torch.bool)
            touched[windows[start:stop].unique()] = True
            lam = torch.where(touched, lam - meta_lr * g.sign(), lam)
            state = (theta.detach(), v.detach())
    return lam.detach()


@checked(T=size, n_seeds=size, batch_size=size, momentum=fraction, shapes=dict(log_lrs="W"))
def hypergradient_noise(problem: LeastSquares, log_lrs: Tensor, T: int, *, n_seeds: int = 8,
                        batch_size: int | None = 10, momentum: float = 0.9) -> Tensor:
    """Relative noise of the full-horizon hypergradient over minibatch seeds, per window ([W]):
    standard deviation over ``n_seeds`` runs divided by the magnitude of their mean."""
    if n_seeds < 2:
        raise ValueError(f"need n_seeds >= 2 to estimate a spread, got {n_seeds}")
    gs = torch.stack([hypergradient_reverse(problem, log_lrs, T, momentum=momentum,
                                            batch_size=batch_size, seed=s) for s in range(n_seeds)])
    return gs.std(0) / gs.mean(0).abs()


# --- sharing hyperparameters over windows (Micaelli & Storkey 2021, Sect. 4) -----------------------

@checked(mse1=nonnegative, eps=nonnegative, W=number(1))
def sharing_bound(mse1: float, eps: float, W: float) -> float:
    """MSE_W ≤ MSE_1/W + ε²(W² − 1)/12: averaging the hypergradients of W contiguous steps cuts the
    noise variance by W but adds the bias of a hypergradient that drifts by at most ε per step."""
    if mse1 < 0 or eps < 0 or W < 1:
        raise ValueError(f"need mse1 >= 0, eps >= 0, W >= 1, got {mse1}, {eps}, {W}")
    return mse1 / W + eps ** 2 * (W ** 2 - 1) / 12


@checked(mse1=positive, eps=positive)
def optimal_window(mse1: float, eps: float) -> tuple[float, int]:
    """The W minimising the bound: d/dW = −MSE_1/W² + ε²W/6 = 0 ⇒ W* = (6 MSE_1/ε²)^{1/3}.

    Returns (W*, the better of the two integers around it, at least 1)."""
    if mse1 <= 0 or eps <= 0:
        raise ValueError(f"need mse1 > 0 and eps > 0, got {mse1} and {eps}")
    w = (6 * mse1 / eps ** 2) ** (1 / 3)
    candidates = [max(1, math.floor(w)), max(1, math.ceil(w))]
    return w, min(candidates, key=lambda k: sharing_bound(mse1, eps, k))


@checked(T=size, W=size, sigma=nonnegative, eps=nonnegative, trials=size)
def simulate_sharing(T: int = 400, W: int = 40, sigma: float = 0.25, eps: float = 0.08, *,
                     drift: bool = True, trials: int = 2000, seed: int = 0) -> float:
    """Monte-Carlo MSE of shared hypergradients. Per-step hypergradients g_t = h_t + σ ξ_t with
    h_t = ε t (maximal drift) or h_t = 0; each step gets the mean of g over its window of W
    contiguous steps (W = 1: no sharing). Returns mean over t and trials of (ĝ_t − h_t)²."""
    if T < 1 or not 1 <= W <= T or T % W:
        raise ValueError(f"W must divide T with 1 <= W <= T, got W={W}, T={T}")
    rng = np.random.default_rng(seed)
    h = eps * np.arange(T) if drift else np.zeros(T)
    g = h + sigma * rng.standard_normal((trials, T))
    shared = g.reshape(trials, T // W, W).mean(-1, keepdims=True)
    return float(((np.broadcast_to(shared, (trials, T // W, W)).reshape(trials, T) - h) ** 2).mean())


# --- short-horizon bias on the noisy quadratic (Wu et al. 2018) ------------------------------------

@checked(d=size)
def noisy_quadratic(d: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """Curvatures h_i log-spaced in [1e-3, 1] and noise variances σ_i² = h_i (our setting).

    Loss ½ Σ h_i (θ_i − c_i)² with c_i ~ N(0, σ_i²): a stochastic gradient is h_i(θ_i − c_i), so SGD
    with rate α maps E[θ_i²] ↦ (1 − αh_i)² E[θ_i²] + α² h_i² σ_i² (Wu et al. 2018, Sect. 2).
    """
    if d < 1:
        raise ValueError(f"d must be >= 1, got {d}")
    h = np.logspace(-3, 0, d)
    return h, h.copy()


@checked(theta2=nonnegative, shapes=dict(lrs="T", h="d", sigma2="d"))
def nqm_losses(lrs: np.ndarray, h: np.ndarray, sigma2: np.ndarray, theta2: float = 1.0) -> np.ndarray:
    """Expected loss ½ Σ h_i E[θ_i²] after each step of SGD with rates ``lrs`` (closed-form
    recursion, no sampling; the irreducible ½ Σ h_i σ_i² is left out). E[θ_i²] starts at ``theta2``."""
    a = np.full_like(h, theta2)
    out = np.empty(len(lrs))
    for t, lr in enumerate(lrs):
        a = (1 - lr * h) ** 2 * a + lr ** 2 * h ** 2 * sigma2
        out[t] = 0.5 * np.sum(h * a)
    return out


@checked(theta2=nonnegative, shapes=dict(h="d", sigma2="d"))
def greedy_schedule(h: np.ndarray, sigma2: np.ndarray, T: int, theta2: float = 1.0) -> np.ndarray:
    """Horizon-1 optimal rates: α_t = argmin_α E[loss_{t+1}] = Σ h²A / Σ h³(A + σ²), A = E[θ_t²]."""
    a = np.full_like(h, theta2)
    lrs = np.empty(T)
    for t in range(T):
        lrs[t] = np.sum(h ** 2 * a) / np.sum(h ** 3 * (a + sigma2))
        a = (1 - lrs[t] * h) ** 2 * a + lrs[t] ** 2 * h ** 2 * sigma2
    return lrs


def _constant_phase(a: np.ndarray, lr: float, k: int, h: np.ndarray, sigma2: np.ndarray) -> np.ndarray:
    """E[θ²] after k steps at a constant rate, in closed form: r^k (A − A∞) + A∞, r = (1 − αh)²."""
    r = (1 - lr * h) ** 2
    stationary = lr ** 2 * h ** 2 * sigma2 / (1 - r)
    return r ** k * (a - stationary) + stationary


@checked(lr1=positive, lr2=positive, switch=count, T=count, theta2=nonnegative,
         shapes=dict(h="d", sigma2="d"))
def two_stage_loss(lr1: float, lr2: float, switch: int, h: np.ndarray, sigma2: np.ndarray, T: int,
                   theta2: float = 1.0) -> float:
    """Final expected loss of the schedule α_t = lr1 for t < switch, lr2 afterwards."""
    if not 0 <= switch <= T:
        raise ValueError(f"switch must be in [0, T={T}], got {switch}")
    a = _constant_phase(np.full_like(h, theta2), lr1, switch, h, sigma2)
    return float(0.5 * np.sum(h * _constant_phase(a, lr2, T - switch, h, sigma2)))


@checked(T=size, theta2=nonnegative, shapes=dict(h="d", sigma2="d"))
def best_two_stage(h: np.ndarray, sigma2: np.ndarray, T: int, switch: int | None = None,
                   theta2: float = 1.0) -> tuple[float, float, float]:
    """The best two-stage schedule with a given switch step (default T/2): a grid over
    (lr1, lr2), refined by Nelder–Mead on their logs. Returns (loss, lr1, lr2)."""
    switch = T // 2 if switch is None else switch
    stable = 2 / h.max()  # every rate above this diverges along the sharpest direction

    def loss(x: np.ndarray) -> float:
        lr1, lr2 = np.exp(x)
        return two_stage_loss(lr1, lr2, switch, h, sigma2, T, theta2) if max(lr1, lr2) < stable else np.inf

    grid = [(loss(np.log([a, b])), a, b) for a in np.linspace(0.1, 1.9, 19) * stable / 2
            for b in np.logspace(-3, 0, 31) * stable / 2]
    _, a, b = min(grid)
    res = minimize(loss, np.log([a, b]), method="Nelder-Mead", options=dict(xatol=1e-8, fatol=1e-12))
    lr1, lr2 = np.exp(res.x)
    return float(res.fun), float(lr1), float(lr2)


def _nqm_after(lrs: Tensor, h: Tensor, sigma2: Tensor, a0: Tensor) -> Tensor:
    """E[θ_i²] after the steps with rates ``lrs`` [k] from E[θ_i²] = ``a0``, in closed form:
    a_k = (Π_t r_t) a0 + Σ_t q_t Π_{s>t} r_s with r_t = (1 − α_t h)², q_t = α_t² h² σ² (vectorised over
    steps with suffix products, so that autograd gives the gradient in all rates at once)."""
    r = (1 - lrs[:, None] * h) ** 2
    q = lrs[:, None] ** 2 * h ** 2 * sigma2
    suffix = torch.flip(torch.cumprod(torch.flip(r, [0]), 0), [0])       # Π_{s ≥ t} r_s
    after = torch.cat([suffix[1:], torch.ones_like(suffix[:1])])         # Π_{s > t} r_s
    return suffix[0] * a0 + (q * after).sum(0)


@checked(T=size, n_windows=size, iterations=size, theta2=number_or_each(nonnegative), shapes=dict(h="d", sigma2="d"))
def best_schedule(h: np.ndarray, sigma2: np.ndarray, T: int, *, n_windows: int = 20,
                  theta2: float | np.ndarray = 1.0, init: np.ndarray | None = None,
                  iterations: int = 200) -> np.ndarray:
    """The learning-rate schedule with ``n_windows`` constant pieces (contiguous windows, as in
    :func:`window_index`) that minimises the expected loss after T steps of SGD on the noisy
    quadratic, started from E[θ²] = ``theta2``. L-BFGS on the closed form of :func:`_nqm_after`,
    rates kept in (0, 2/h_max) through a sigmoid, started from ``init`` (one rate per window;
    default a geometric decay from 1/4 to 1/1000 of the stable edge 2/h_max). The problem is not convex:
    started flat at half the edge, L-BFGS stalls in a worse local optimum (0.090 instead of 0.083 for
    the lecture's 1000 steps and 20 windows). Returns the rates [T]."""
    if T < 1 or n_windows < 1:
        raise ValueError(f"need T >= 1 and n_windows >= 1, got T={T}, n_windows={n_windows}")
    W = min(n_windows, T)
    ht, st = torch.as_tensor(h, dtype=torch.float64), torch.as_tensor(sigma2, dtype=torch.float64)
    a0 = torch.as_tensor(theta2, dtype=torch.float64).expand_as(ht)
    top = 2 / float(ht.max()) * (1 - 1e-6)
    windows = window_index(W, T)
    start = (np.geomspace(0.25, 0.001, W) if init is None  # decaying: a flat start stalls (see above)
             else np.clip(np.asarray(init, dtype=np.float64) / top, 1e-9, 1 - 1e-9))
    if start.shape != (W,):
        raise ValueError(f"init must hold one rate per window ({W}), got shape {start.shape}")
    x = torch.as_tensor(np.log(start / (1 - start))).requires_grad_()  # the sigmoid's inverse
    opt = torch.optim.LBFGS([x], lr=1, max_iter=iterations, tolerance_grad=1e-12, tolerance_change=1e-14,
                            history_size=50, line_search_fn="strong_wolfe")

    def loss() -> Tensor:
        opt.zero_grad()
        value = 0.5 * (ht * _nqm_after(top * torch.sigmoid(x)[windows], ht, st, a0)).sum()
        value.backward()
        return value

    opt.step(loss)
    return (top * torch.sigmoid(x.detach())[windows]).numpy()


@checked(T=size, horizon=size, n_windows=size, theta2=nonnegative, shapes=dict(h="d", sigma2="d"))
def horizon_schedule(h: np.ndarray, sigma2: np.ndarray, T: int, horizon: int, *, n_windows: int = 20,
                     theta2: float = 1.0) -> np.ndarray:
    """Greedy with horizon H (Wu et al. 2018): the run is cut into blocks of H steps; each block's
    rates are chosen, given where training stands, to minimise the expected loss at the *end of that
    block* (:func:`best_schedule` over the block). H = 1 is the greedy schedule
    (:func:`greedy_schedule`, closed form); H = T optimises the final loss itself.

    A block of k steps gets round(``n_windows`` · k / T) constant pieces (at least one), so every
    horizon uses about ``n_windows`` pieces over the run and horizons are compared at the same
    resolution (short blocks are each one constant rate)."""
    if not 1 <= horizon <= T:
        raise ValueError(f"horizon must be in [1, T={T}], got {horizon}")
    if horizon == 1:
        return greedy_schedule(h, sigma2, T, theta2)
    a = np.full_like(h, theta2, dtype=np.float64)
    pieces, t = [], 0
    while t < T:
        k = min(horizon, T - t)
        lrs = best_schedule(h, sigma2, k, n_windows=max(1, round(n_windows * k / T)), theta2=a)
        a = _nqm_after(torch.as_tensor(lrs), torch.as_tensor(h), torch.as_tensor(sigma2), torch.as_tensor(a)).numpy()
        pieces.append(lrs)
        t += k
    return np.concatenate(pieces)


HORIZONS = (1, 2, 3, 4, 6, 10, 16, 25, 40, 63, 100, 158, 251, 398, 631, 1000)
"""The horizons of the lecture's widget: 5 per decade from 1 to T = 1000, rounded (round(10^(k/5)))."""


@checked(T=size, horizons=each(size), d=size)
def horizon_sweep(T: int = 1000, horizons: tuple[int, ...] = HORIZONS, *, d: int = 1000,
                  progress: bool | Callable = False) -> dict[int, np.ndarray]:
    """{H: :func:`horizon_schedule` for H} on :func:`noisy_quadratic` (d dimensions, T steps)."""
    h, sigma2 = noisy_quadratic(d)
    return {H: horizon_schedule(h, sigma2, T, H) for H in runtime.track(horizons, progress, desc="horizons")}


HORIZON_CACHE = Path(__file__).parent / "data" / "hpo_horizons.npz"


def pretrained_horizon_sweep(*, recompute: bool = False) -> dict[int, np.ndarray]:
    """The lecture's :func:`horizon_sweep` (T = 1000, d = 1000, :data:`HORIZONS`): loaded from
    mlcourse/data/hpo_horizons.npz, or recomputed (≈ 3 min) when ``recompute`` is set or the file is
    missing. ``python -m mlcourse.hpo --horizons`` rewrites the file."""
    if recompute or not HORIZON_CACHE.exists():
        return horizon_sweep()
    with np.load(HORIZON_CACHE) as saved:
        return {int(k.removeprefix("H")): saved[k] for k in saved.files}


def main(argv: list[str] | None = None) -> None:
    """``python -m mlcourse.hpo --horizons``: recompute the horizon sweep on one CPU thread and write it."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--horizons", action="store_true", help="recompute mlcourse/data/hpo_horizons.npz")
    args = parser.parse_args(argv)
    if not args.horizons:
        parser.print_help()
        return
    runtime.set_threads(1)
    sweep = horizon_sweep(progress=True)
    HORIZON_CACHE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(HORIZON_CACHE, **{f"H{H}": lrs.astype(np.float64) for H, lrs in sweep.items()})
    h, sigma2 = noisy_quadratic(1000)
    for H, lrs in sweep.items():
        print(f"H = {H:>4}: final expected loss {nqm_losses(lrs, h, sigma2)[-1]:.4f}")


# --- implicit differentiation with a Neumann series (Lorraine, Vicol & Duvenaud 2020) ---------------

@checked(shapes=dict(x_train="n d", y_train="n", x_val="m d", y_val="m"))
@dataclass(frozen=True)
class Ridge:
    """Ridge regression: L_train(θ, λ) = ½ mean((Xθ − y)²) + ½ e^λ ‖θ‖²,
    L_val(θ) = ½ mean((X_v θ − y_v)²)."""

    x_train: Tensor
    y_train: Tensor
    x_val: Tensor
    y_val: Tensor

    def train_loss(self, theta: Tensor, log_lam: Tensor) -> Tensor:
        return 0.5 * (self.x_train @ theta - self.y_train).pow(2).mean() + 0.5 * log_lam.exp() * theta @ theta

    def val_loss(self, theta: Tensor) -> Tensor:
        return 0.5 * (self.x_val @ theta - self.y_val).pow(2).mean()

    def hessian(self, log_lam: Tensor) -> Tensor:
        """∇²_θ L_train = XᵀX/n + e^λ I (constant in θ)."""
        n, d = self.x_train.shape
        return self.x_train.T @ self.x_train / n + log_lam.exp() * torch.eye(d, dtype=self.x_train.dtype,
                                                                                 device=self.x_train.device)


@checked(n=size, d=size, n_val=size, noise=nonnegative)
def make_ridge(n: int = 20, d: int = 50, n_val: int = 20, noise: float = 0.5, *, seed: int = 0,
               device: Device = None) -> Ridge:
    """An over-parameterised ridge problem (n < d, so XᵀX/n is singular and λ sets λ_min of H)."""
    if n < 1 or d < 1 or n_val < 1:
        raise ValueError(f"need n, d, n_val >= 1, got {n}, {d}, {n_val}")
    gen = torch.Generator().manual_seed(seed)
    theta_true = torch.randn(d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    xt, xv = (torch.randn(m, d, generator=gen, dtype=torch.float64) for m in (n, n_val))
    yt, yv = (x @ theta_true + noise * torch.randn(len(x), generator=gen, dtype=torch.float64) for x in (xt, xv))
    dev = _device(device)
    return Ridge(*(t.to(dev) for t in (xt, yt, xv, yv)))


@checked(shapes=dict(log_lam=""))
def ridge_solution(problem: Ridge, log_lam: Tensor) -> Tensor:
    """θ*(λ) = (XᵀX/n + e^λ I)⁻¹ Xᵀy/n, the exact inner optimum."""
    n = len(problem.y_train)
    return torch.linalg.solve(problem.hessian(log_lam), problem.x_train.T @ problem.y_train / n)


@checked(alpha=positive)
def neumann_ihvp(hvp: Callable[[Tensor], Tensor], v: Tensor, alpha: float, K: int) -> Tensor:
    """H⁻¹v ≈ α Σ_{k=0}^{K} (I − αH)^k v (Lorraine et al. 2020, Algorithm 3), from H-vector products.

    Converges when 0 < α < 2/λ_max; the relative error is ≤ ρ^{K+1}, ρ = max_i |1 − αλ_i|."""
    if K < 0 or alpha <= 0:
        raise ValueError(f"need K >= 0 and alpha > 0, got K={K}, alpha={alpha}")
    term, total = v, v
    for _ in range(K):
        term = term - alpha * hvp(term)
        total = total + term
    return alpha * total


@checked(alpha=positive, shapes=dict(log_lam=""))
def hypergradient_ift(problem: Ridge, log_lam: Tensor, *, K: int | None = None,
                      alpha: float | None = None) -> Tensor:
    """dL_val(θ*(λ))/dλ by the implicit function theorem (Lorraine et al. 2020, eq. 2–4):

        dL_val/dλ = −(∂²L_train/∂λ∂θ)ᵀ H⁻¹ ∇_θ L_val(θ*),   H = ∇²_θ L_train(θ*, λ).

    ``K=None`` solves with H exactly; otherwise H⁻¹ is the K-term Neumann series with step α
    (default 2/(λ_min + λ_max), for which ρ = 1 − αλ_min). Hessian–vector products: grad of (∇_θL · z).
    """
    lam = log_lam.detach()
    theta = ridge_solution(problem, lam)
    v = grad(problem.val_loss)(theta)
    grad_theta = grad(problem.train_loss, argnums=0)
    if K is None:
        u = torch.linalg.solve(problem.hessian(lam), v)
    else:
        if alpha is None:
            eig = torch.linalg.eigvalsh(problem.hessian(lam))
            alpha = 2 / float(eig[0] + eig[-1])
        u = neumann_ihvp(lambda z: grad(lambda th: grad_theta(th, lam) @ z)(theta), v, alpha, K)
    mixed = grad(lambda l: grad_theta(theta, l) @ u)(lam)  # (∂²L_train/∂λ∂θ)ᵀ u
    return -mixed


# --- truncation, ES and persistent ES on influence balancing (Vicol et al. 2021, Sect. 5.1) --------

@checked(shapes=dict(A="n n", b="n"))
@dataclass(frozen=True)
class Influence:
    """Influence balancing (Tallec & Ollivier 2017): s_{t+1} = A s_t + θ b, loss ½(s_t[0] − 1)².

    A = ½(I + S) with S the upper shift, b = (+1 × p, −1 × (n − p)). One step after θ moves, only
    the positive entry b_0 has reached s[0]; in the long run all n do, with net sign p − (n − p) < 0.
    """

    A: Tensor
    b: Tensor

    @property
    def optimum(self) -> float:
        """θ* with s*[0] = 1 at the fixed point s* = θ (I − A)⁻¹ b."""
        n = len(self.b)
        return 1.0 / float(torch.linalg.solve(torch.eye(n, dtype=self.A.dtype, device=self.A.device) - self.A,
                                              self.b)[0])

    def step(self, s: Tensor, theta: Tensor, K: int) -> tuple[Tensor, Tensor]:
        """K steps from state(s) s ([n] or [N, n]) with θ (scalar or [N]); the loss after them."""
        for _ in range(K):
            s = s @ self.A.T + theta[..., None] * self.b
        return s, 0.5 * (s[..., 0] - 1) ** 2


@checked(n=size)
def influence_balancing(n: int = 23, n_positive: int = 10, *, device: Device = None) -> Influence:
    """The problem of Vicol et al. (n = 23 units, 10 positive): θ* = −1/6."""
    if not 0 <= n_positive <= n or n < 1:
        raise ValueError(f"need 0 <= n_positive <= n, got n={n}, n_positive={n_positive}")
    dev = _device(device)
    A = 0.5 * (torch.eye(n, dtype=torch.float64) + torch.diag(torch.ones(n - 1, dtype=torch.float64), 1))
    b = torch.cat([torch.ones(n_positive), -torch.ones(n - n_positive)]).double()
    return Influence(A.to(dev), b.to(dev))


def _check_outer(steps: int, K: int, lr: float) -> None:
    if steps < 1 or K < 1 or lr <= 0:
        raise ValueError(f"need steps >= 1, K >= 1, lr > 0, got {steps}, {K}, {lr}")


@checked(K=size, steps=size, lr=positive)
def train_truncated(problem: Influence, *, theta0: float = 0.5, K: int = 1, steps: int = 3000,
                    lr: float = 1e-4) -> np.ndarray:
    """Online truncated BPTT: unroll K steps, differentiate the loss through those K only, update θ,
    carry the (detached) state on. Biased: it ignores θ's influence on the state it started from."""
    _check_outer(steps, K, lr)
    s = torch.ones_like(problem.b)
    theta = torch.tensor(theta0, dtype=s.dtype, device=s.device)
    path = np.empty(steps + 1)
    path[0] = theta0
    for i in range(steps):
        th = theta.clone().requires_grad_()
        s_new, loss = problem.step(s, th, K)
        theta = theta - lr * torch.autograd.grad(loss, th)[0]
        s = s_new.detach()
        path[i + 1] = float(theta)
    return path


@checked(K=size, steps=size, lr=positive, sigma=positive, n_particles=size)
def train_es(problem: Influence, *, persistent: bool, theta0: float = 0.5, K: int = 1,
             steps: int = 3000, lr: float = 1e-4, sigma: float = 0.1, n_particles: int = 1000,
             seed: int = 0, progress=False) -> np.ndarray:
    """Online (antithetic) ES or persistent ES (Vicol et al. 2021, Algorithms 1–2).

    Every truncation, each particle i unrolls K steps with θ + ε_i (ε_i ~ N(0, σ²), in ± pairs).
    ES: g = Σ ε_i L_i / (Nσ²), all particles restart from one state advanced with θ itself —
    as biased as truncation. PES: each particle keeps its own state and the running sum ξ_i of all
    perturbations it has seen, g = Σ ξ_i L_i / (Nσ²) — unbiased for the infinite unroll.
    """
    _check_outer(steps, K, lr)
    if sigma <= 0 or n_particles < 2 or n_particles % 2:
        raise ValueError(f"need sigma > 0 and an even n_particles >= 2, got {sigma}, {n_particles}")
    gen = torch.Generator().manual_seed(seed)
    dev, dt = problem.b.device, problem.b.dtype
    half = n_particles // 2
    states = torch.ones(n_particles, len(problem.b), dtype=dt, device=dev)
    shared = torch.ones(len(problem.b), dtype=dt, device=dev)
    xi = torch.zeros(n_particles, dtype=dt, device=dev)
    theta = torch.tensor(theta0, dtype=dt, device=dev)
    path = np.empty(steps + 1)
    path[0] = theta0
    for i in runtime.track(range(steps), progress, desc="outer steps"):
        e = sigma * torch.randn(half, generator=gen, dtype=dt).to(dev)
        e = torch.cat([e, -e])
        if persistent:
            states, losses = problem.step(states, theta + e, K)
            xi = xi + e
            g = (xi * losses).sum() / (n_particles * sigma ** 2)
        else:
            _, losses = problem.step(shared.expand(n_particles, -1), theta + e, K)
            shared, _ = problem.step(shared, theta, K)
            g = (e * losses).sum() / (n_particles * sigma ** 2)
        theta = theta - lr * g
        path[i + 1] = float(theta)
    return path


if __name__ == "__main__":
    main()
