"""Fractal trainability: where gradient descent on a tiny network converges, pixel by pixel.

Sohl-Dickstein, "The boundary of neural network trainability is fractal" (arXiv:2402.06184, 2024).
Train one small network for every pair of learning rates (η₀ for the input layer, η₁ for the output
layer) on a log grid, colour each pixel by whether its training loss went down or blew up, and the
border between the two phases turns out to be fractal — like the Mandelbrot set, which also asks of
an iterated map only whether it stays bounded.

The setup is the author's public notebook:

    Z = X W₀ / √width,   H = φ(Z),   ŷ = H W₁ / width       (mean-field scaling, no biases)
    L(W₀, W₁) = mean over points of (ŷ − Y)²
    W₀ ← W₀ − η₀ ∂L/∂W₀,   W₁ ← W₁ − η₁ ∂L/∂W₁             (full batch, loss recorded before each step)

with φ(z) = tanh(√2 z) (or √2·relu(z), or z), X, Y, W₀, W₁ ~ N(0, 1), input dim = width, one target,
and as many training points as parameters (width² + width). The paper's variants: the three φ,
minibatch gradients (``batch_size`` of :func:`trainability_grid`), a single training point
(``n_points=1``), and an offset of the initial W₀ against one learning rate (:func:`offset_grid`).

A grid of resolution² networks is one tensor program: all networks share X, so the two big products
of a step (X W₀ forward and Xᵀ ∂L/∂Z backward) are single matrix products over a [width, width·G]
block of weights, and the grid is cut into chunks that fit the cache (CPU) or memory (GPU). On CPU
the chunks are shared out among torch's threads, one chunk per thread at a time. A network whose
hidden units have all saturated trains only its output layer from then on, a linear least-squares
problem: its remaining loss curve is computed in closed form (:func:`saturated_losses`). The grid is
bit for bit the same for any thread count.

The paper's pictures (:data:`PICTURES`: six setups and a zoom sequence over ten decades) are computed
once by ``python -m mlcourse.fractal --render NAME`` and stored compactly in mlcourse/data/
(:func:`save`, :func:`load`). How ragged the boundary is, is measured by :func:`box_count`, which is
checked on sets of known dimension (:func:`known_sets`) and on shuffled pixels (:func:`shuffled`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import torch
from torch import Tensor
from torch.func import grad

from mlcourse import runtime
from mlcourse.inputs import checked, count, each, need, nonnegative, one_of, positive, real, size, tensor

NONLINEARITIES = ("tanh", "relu", "identity")
MAX_VALUE = 1e6  # the author's clip for the normalised loss
TAIL = 20  # the measure averages the last TAIL normalised losses to decide "converged"


@checked(nonlinearity=one_of(*NONLINEARITIES), shapes=dict(X="n w", Y="n 1", W0="w w", W1="w 1"))
@dataclass(frozen=True)
class Problem:
    """One regression task and one initialisation: ``X`` [n, width], ``Y`` [n, 1], ``W0`` [width,
    width], ``W1`` [width, 1], all drawn from N(0, 1); ``nonlinearity`` is φ's name."""

    X: Tensor
    Y: Tensor
    W0: Tensor
    W1: Tensor
    nonlinearity: str = "tanh"

    @property
    def width(self) -> int:
        return self.W0.shape[0]

    @property
    def n_points(self) -> int:
        return self.X.shape[0]


@checked(width=size, n_points=size, nonlinearity=one_of(*NONLINEARITIES))
def make_problem(width: int = 16, *, n_points: int | None = None, nonlinearity: str = "tanh",
                 seed: int = 0, dtype: torch.dtype = torch.float64) -> Problem:
    """Draw W₀, W₁, X, Y ~ N(0, 1) (in that order) with a seeded generator; ``n_points`` defaults to
    the number of parameters, width² + width (272 for width 16, 72 for width 8)."""
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    n = width * width + width if n_points is None else n_points
    if n < 1:
        raise ValueError(f"n_points must be >= 1, got {n}")
    g = torch.Generator().manual_seed(seed)
    W0 = torch.randn(width, width, generator=g, dtype=dtype)
    W1 = torch.randn(width, 1, generator=g, dtype=dtype)
    X = torch.randn(n, width, generator=g, dtype=dtype)
    Y = torch.randn(n, 1, generator=g, dtype=dtype)
    return Problem(X, Y, W0, W1, nonlinearity)


# ---------------------------------------------------------------- one network, written plainly

@checked(nonlinearity=one_of(*NONLINEARITIES))
def activation(z: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """φ(z): tanh(√2 z), √2·relu(z) or z — the gain √2 keeps E[φ(z)²] ≈ E[z²] at init."""
    if nonlinearity == "tanh":
        return torch.tanh(math.sqrt(2.0) * z)
    if nonlinearity == "relu":
        return math.sqrt(2.0) * torch.relu(z)
    if nonlinearity == "identity":
        return z
    raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")


@checked(nonlinearity=one_of(*NONLINEARITIES), shapes=dict(W0="w w", W1="w 1", X="n w"))
def forward(W0: Tensor, W1: Tensor, X: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """ŷ = φ(X W₀ / √width) W₁ / width: mean-field scaling (1/√fan_in per layer, readout once more)."""
    width = W0.shape[0]
    return activation(X @ W0 / math.sqrt(width), nonlinearity) @ W1 / width


@checked(nonlinearity=one_of(*NONLINEARITIES), shapes=dict(W0="w w", W1="w 1", X="n w", Y="n 1"))
def loss(W0: Tensor, W1: Tensor, X: Tensor, Y: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """Mean squared error of :func:`forward` over the training points."""
    return ((forward(W0, W1, X, nonlinearity) - Y) ** 2).mean()


@checked(n_points=size, batch_size=size, steps=count)
def minibatches(n_points: int, batch_size: int, steps: int, seed: int = 0) -> Tensor:
    """The minibatch of every step: [steps, batch_size] indices drawn uniformly with replacement, as
    the author's ``jax.random.randint`` does; one draw per step, shared by every network of a grid."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return torch.randint(n_points, (steps, batch_size), generator=torch.Generator().manual_seed(seed))


@checked(lr_in=nonnegative, lr_out=nonnegative, steps=size, batch_size=size)
def train_losses(problem: Problem, lr_in: float, lr_out: float, steps: int = 100, *,
                 batch_size: int | None = None, batch_seed: int = 0) -> Tensor:
    """GD with rate ``lr_in`` on W₀ and ``lr_out`` on W₁; returns the [steps] full-batch losses, each
    recorded before its update. Full batch by default; with ``batch_size`` each step's gradient is that
    of the loss on the step's minibatch (:func:`minibatches` with ``batch_seed``), while the recorded
    loss stays the full-batch one (the author's choice, for smooth pictures). One network, gradients by
    ``torch.func.grad``: the reference the fast grid is tested against."""
    p = problem
    dloss = grad(loss, argnums=(0, 1))
    batches = None if batch_size is None else minibatches(p.n_points, batch_size, steps, batch_seed)
    W0, W1, losses = p.W0, p.W1, []
    for t in range(steps):
        losses.append(loss(W0, W1, p.X, p.Y, p.nonlinearity))
        X, Y = (p.X, p.Y) if batches is None else (p.X[batches[t]], p.Y[batches[t]])
        g0, g1 = dloss(W0, W1, X, Y, p.nonlinearity)
        W0, W1 = W0 - lr_in * g0, W1 - lr_out * g1
    return torch.stack(losses)


@checked(losses=tensor(finite=False), max_value=positive, shapes=dict(losses="... s"))
def convergence_measure(losses: Tensor, max_value: float = MAX_VALUE) -> Tensor:
    """The author's colour for a loss curve ``losses`` [..., steps] → [...]; negative ⇔ converged.

    v = losses / losses[0], with non-finite losses first set to ``max_value`` and v clipped at
    ``max_value``. Converged if the mean of the last 20 v is below 1 (averaging out oscillation);
    the value is −Σ v when converged (how slowly it got there) and Σ 1/v when not (how fast it left).
    """
    if losses.shape[-1] < TAIL + 1:
        raise ValueError(f"losses need at least {TAIL + 1} steps (the measure averages the last {TAIL}), "
                         f"got {losses.shape[-1]}")
    v = torch.where(torch.isfinite(losses), losses, torch.full_like(losses, max_value))
    v = (v / v[..., :1]).clamp(max=max_value)
    converged = v[..., -TAIL:].mean(-1) < 1
    return torch.where(converged, -v.sum(-1), (1 / v).sum(-1))


# ---------------------------------------------------------------- the grid as one tensor program

@checked(resolution=size)
def log_grid(lo: float, hi: float, resolution: int) -> Tensor:
    """``resolution`` rates from 10**lo to 10**hi, evenly spaced in log10 (float64)."""
    return torch.logspace(lo, hi, resolution, dtype=torch.float64)


_GAIN = {"tanh": 2 * math.sqrt(2.0), "relu": math.sqrt(2.0), "identity": 1.0}
"""T = gain·Z: tanh(√2 z) = tanh(T/2) = 2σ(T) − 1 with T = 2√2 z; √2·relu(z) = relu(√2 z)."""
_SLOPE = {"tanh": 0.5, "relu": 1.0, "identity": 1.0}
"""Constant factor of dH/dT: d(2σ(T) − 1)/dT = (1 − H²)/2."""


def _activate(T: Tensor, nonlinearity: str) -> Tensor:
    """H = φ̃(T) in place: tanh(T/2) computed as 2σ(T) − 1 (the same function, about 3× faster than
    float64 torch.tanh on CPU), relu(T), or T. The gains of φ live in T (see :func:`_train_chunk`)."""
    if nonlinearity == "tanh":
        return torch.sigmoid_(T).mul_(2).sub_(1)
    if nonlinearity == "relu":
        return T.clamp_(min=0)
    return T


def _weighted_slope(H: Tensor, HW: Tensor, W1: Tensor, nonlinearity: str) -> Tensor:
    """φ̃'(T) · W₁ from H = φ̃(T) and HW = H·W₁, up to the constant factor of :data:`_SLOPE`:
    (1 − H²) for tanh, [H > 0] for relu, 1 for identity."""
    if nonlinearity == "tanh":
        return torch.addcmul(W1, H, HW, value=-1)  # W₁ − H·(H W₁) = (1 − H²) W₁
    if nonlinearity == "relu":
        return (H > 0) * W1
    return W1.expand_as(H).clone()


def _train_chunk(problem: Problem, lr_in: Tensor, lr_out: Tensor, steps: int,
                 weights: Tensor | None = None, offset: Tensor | None = None) -> Tensor:
    """Train B networks (one per rate pair) together; returns losses [B, steps].

    Layout: weights W₀ as [width_in, width_out, B] and W₁ as [width, B], activations as [n, width, B]
    (the network index last, so every reduction runs over contiguous memory). The gain of φ and
    1/√width are folded into Xg = gain·X/√width, so that H = φ̃(Xg W₀) (:data:`_GAIN`, :func:`_activate`),
    and the two products with the shared data are single [n, width] × [width, width·B] matrix
    products. Gradients by hand:

        r = ŷ − Y,  d = ∂L/∂ŷ / width = 2 r / (n·width)
        ∂L/∂W₁ = Σₙ H d,   ∂L/∂T = φ̃'(T) · W₁ · d,   ∂L/∂W₀ = Xgᵀ ∂L/∂T.

    ``weights`` [steps, n] turn the gradient into a minibatch one: point k of step t counts
    weights[t, k] = n·(times drawn)/batch_size times (:func:`_minibatch_weights`); the loss stays the
    full-batch one. ``offset`` [B], if given, is added to every entry of each network's initial W₀.
    tanh goes through :func:`_train_chunk_tanh`, which needs fewer passes over the activations.
    """
    if problem.nonlinearity == "tanh":
        return _train_chunk_tanh(problem, lr_in, lr_out, steps, weights, offset)
    X, Y, nl = problem.X, problem.Y, problem.nonlinearity
    n, width = X.shape
    B = lr_in.shape[0]
    Xg = X * (_GAIN[nl] / math.sqrt(width))
    XgT = (Xg * _SLOPE[nl]).T.contiguous()
    W0 = _initial_W0(problem, B, offset)
    W1 = problem.W1.repeat(1, B)
    losses = torch.empty(steps, B, dtype=X.dtype, device=X.device)
    for t in range(steps):
        H = _activate((Xg @ W0.view(width, width * B)).view(n, width, B), nl)
        HW = H * W1
        r = HW.sum(1).div_(width).sub_(Y)  # ŷ − Y, [n, B]
        torch.linalg.vecdot(r, r, dim=0, out=losses[t])
        d = r.mul_(2.0 / (n * width))
        if weights is not None:
            d.mul_(weights[t, :, None])
        g1 = torch.linalg.vecdot(H, d[:, None, :], dim=0)
        dT = _weighted_slope(H, HW, W1, nl).mul_(d[:, None, :])
        g0 = (XgT @ dT.view(n, width * B)).view(width, width, B)
        W0.sub_(g0.mul_(lr_in))
        W1.sub_(g1.mul_(lr_out))
    return losses.div_(n).T


def _initial_W0(problem: Problem, B: int, offset: Tensor | None) -> Tensor:
    """B copies of W₀ as [width, width, B] (the problem's weights stay untouched), shifted by
    ``offset`` [B] if given."""
    W0 = problem.W0[:, :, None].repeat(1, 1, B)
    return W0 if offset is None else W0.add_(offset)


_CLAMP = 40.0
"""σ(T) − ½ rounds to exactly ±½ for |T| ≥ 38.2 in float64 (as tanh(T/2) rounds to ±1), so clamping
T to ±40 changes nothing downstream."""
_SATURATED = 38.125
"""|T| from which both tanh(T/2) and σ(T) − ½ round to ±1 and ±½ in float64 (38.1231…): a unit
there has zero gradient in :func:`train_losses` and here alike."""
_PRUNE_EVERY = 4
"""Steps between two looks for networks that blew up or saturated (see :func:`_train_chunk_tanh`)."""


@checked(lr_out=tensor(1, lo=0), steps=size)
def saturated_losses(H: Tensor, W1: Tensor, lr_out: Tensor, Y: Tensor, steps: int) -> Tensor:
    """The next ``steps`` losses [steps, m] of m networks whose hidden units have all saturated, in
    closed form. ``H`` [n, width, m] holds their features, all exactly ±1; ``W1`` [width, m].

    Once every |√2 z| ≥ 19.07 (|T| ≥ :data:`_SATURATED`), tanh(√2 z) rounds to ±1 and 1 − H² = 0:
    W₀'s gradient is exactly zero and H never changes again. What is left is least squares in W₁
    with fixed features A = H/width, trained by GD with rate η = ``lr_out``, whose loss curve is
    known. Let M = AᵀA = V diag(λ) Vᵀ and
    r = A W₁ − Y. The part of r in the range of A has coordinates eᵢ = (Vᵀ Aᵀ r)ᵢ / √λᵢ along the
    eigenvectors; the rest, r_⊥, is out of GD's reach. The Hessian of the loss is 2M/n, so mode i
    shrinks by ρᵢ = 1 − 2ηλᵢ/n each step, and k steps later

        L_k = (Σᵢ ρᵢ^{2k} eᵢ² + |r_⊥|²) / n.

    It diverges iff η > n/λ_max — the small-input-rate edge of the lecture, for saturated features.
    Modes with λᵢ ≤ 1e−12 λ_max count as out of reach: at any rate that converges (η < n/λ_max)
    they shrink by less than 2e−12 per step. ``lr_out`` [m], ``Y`` [n, 1].
    """
    if H.ndim != 3:
        raise ValueError(f"H must be [n, width, m], got shape {tuple(H.shape)}")
    n, width, m = H.shape
    for name, t, shape in (("W1", W1, (width, m)), ("lr_out", lr_out, (m,)), ("Y", Y, (n, 1))):
        if tuple(t.shape) != shape:
            raise ValueError(f"{name} must be {list(shape)} for H of shape {[n, width, m]}, "
                             f"got {list(t.shape)}")
    A = H / width
    r = (A * W1).sum(1) - Y  # [n, m]
    lam, V = torch.linalg.eigh((A[:, :, None] * A[:, None]).sum(0).permute(2, 0, 1))  # of M, [m, ...]
    g = (V * (A * r[:, None]).sum(0).T[:, :, None]).sum(1)  # Vᵀ Aᵀ r, [m, width]
    in_range = lam > 1e-12 * lam[:, -1:]
    s = torch.where(in_range, g / lam, 0.0)  # the range part of r is A V s
    r_out = r - (A * (V * s[:, None]).sum(2).T).sum(1)
    rho2 = (1 - 2 * lr_out[:, None] * lam / n) ** 2
    modes = torch.empty(steps, m, width, dtype=H.dtype, device=H.device)
    modes[0] = torch.where(in_range, g * g / lam, 0.0)  # eᵢ²
    modes[1:] = rho2
    return (modes.cumprod_(0).sum(-1) + (r_out * r_out).sum(0)) / n  # eᵢ² ρᵢ^{2k}, summed over i


def _train_chunk_tanh(problem: Problem, lr_in: Tensor, lr_out: Tensor, steps: int,
                      weights: Tensor | None = None, offset: Tensor | None = None) -> Tensor:
    """:func:`_train_chunk` for φ = tanh, written in U = σ(T) − ½ = H/2 instead of H = tanh(T/2).

    The constants move out of the [n, width, B] tensors into the small ones, which leaves six
    elementwise operations on the activations per step besides the clamp and σ (:func:`_train_chunk`
    takes eight):

        ŷ·width = 2 Σⱼ U W₁,     ∂L/∂W₁ = 2 Σₙ U d,
        ∂L/∂T = (1 − H²)/2 · W₁ d = 2(¼ − U²) · W₁ d,   so  ∂L/∂W₀ = W₁ ⊙ (¼ XgT d − XgT U² d)

    with XgT = 2 Xgᵀ. W₁ does not depend on the point, so it multiplies the [width, width, B] product,
    not the activations, and ¼ XgT d is one column per network. U is rounded like H/2: a saturated
    unit has U = ±½ and ¼ − U² = 0 exactly, as 1 − tanh² is in :func:`train_losses`. (With
    S(1 − S), S = σ(T), instead, the negative side keeps about 4e−18, and rounding differs: 33 of
    150 sampled pixels of the full window, width 8, 64², differed from train_losses by more than
    1e−6, against 15 with U, all in the chaotic band lr_in ≈ 10^1.9…10^3.3.) On CPU, T is clamped
    to ±40 first: σ of a large |T| is several times slower in float64 there, and the clamp changes
    no U (:data:`_CLAMP`). Same losses as :func:`train_losses` up to floating-point reassociation.

    Every :data:`_PRUNE_EVERY` steps, two kinds of networks leave the chunk:

    - one whose pre-activations have all saturated (|T| ≥ :data:`_SATURATED`: every H is exactly
      ±1, so W₀ is frozen for good) is finished in closed form by :func:`saturated_losses`. Full batch only,
      since minibatches change the quadratic every step. In the full window (width 8, 128², 100
      steps) that is about 44 % of the network·steps;
    - one whose residual r went non-finite is dropped, its remaining losses set to inf: Σₙ d is then
      non-finite, hence every entry of ∂L/∂W₁ = 2 Σₙ U d, all of W₁ after the update, and
      every later ŷ and loss — and :func:`convergence_measure` treats all non-finite losses alike.
      Full batch, networks almost always saturate first; with minibatches of 16, 17 % of the
      network·steps go. No earlier cut is safe: in these float64 trajectories networks came back
      below the clip from normalised losses as large as 4e26 (width 4, seed 0, lr_in ∈ [1e3, 1e6],
      lr_out ∈ [1, 1e3], 96², 100 steps).
    """
    X, Y = problem.X, problem.Y
    n, width = X.shape
    B = lr_in.shape[0]
    Xg = X * (_GAIN["tanh"] / math.sqrt(width))
    XgT = (Xg * 2.0).T.contiguous()
    W0 = _initial_W0(problem, B, offset)
    W1 = problem.W1.repeat(1, B)
    lr_in, lr_out = lr_in.clone(), lr_out.clone()
    losses = torch.full((steps, B), math.inf, dtype=X.dtype, device=X.device)
    alive = None  # indices into the chunk of the networks still trained; None: all of them
    minus_Y = -Y
    clamp = X.device.type == "cpu"  # the clamp pays only on CPU (see above); memory-bound GPUs skip it
    new_buffers = True
    for t in range(steps):
        look = t % _PRUNE_EVERY == _PRUNE_EVERY - 1 and t < steps - 1
        if new_buffers:  # buffers reused every step, and their views
            S = torch.empty(n, width, B, dtype=X.dtype, device=X.device)
            P, G = torch.empty_like(S), torch.empty(width, width, B, dtype=X.dtype, device=X.device)
            r, rr, row = (torch.empty(*shape, dtype=X.dtype, device=X.device)
                          for shape in ((n, B), (n, B), (B,)))
            S2, P2, G2, W0_2, d3 = (S.view(n, width * B), P.view(n, width * B),
                                    G.view(width, width * B), W0.view(width, width * B), r.view(n, 1, B))
            new_buffers = False
        torch.mm(Xg, W0_2, out=S2)
        if clamp:
            S.clamp_(-_CLAMP, _CLAMP)
        if look and weights is None:  # every H = ±1 exactly (P is free until the next mul)
            saturated = torch.abs(S, out=P).view(n * width, B).amin(0) >= _SATURATED
        torch.sigmoid_(S).sub_(0.5)  # U = σ(T) − ½ = H/2
        torch.mul(S, W1, out=P)
        torch.add(minus_Y, P.sum(1), alpha=2.0 / width, out=r)  # ŷ − Y = 2 Σⱼ U W₁ / width − Y
        torch.sum(torch.mul(r, r, out=rr), 0, out=losses[t] if alive is None else row)
        if alive is not None:
            losses[t].index_copy_(0, alive, row)
        d = r.mul_(2.0 / (n * width))  # d3 is d as [n, 1, B]
        if weights is not None:
            d.mul_(weights[t, :, None])
        torch.mul(S, d3, out=P)  # U d
        d_sum = d.sum(0)
        g1 = P.sum(0).mul_(2)
        torch.mm(XgT, P2.mul_(S2), out=G2)  # XgT U² d; the ¼ d part is one column per network:
        G.sub_((XgT @ d).mul_(0.25)[:, None, :])  # G = −XgT (¼ − U²) d
        W0.addcmul_(G, W1 * lr_in)
        W1.sub_(g1.mul_(lr_out))
        if look:
            keep = torch.isfinite(d_sum)  # Σₙ d is finite iff every d is (|Σₙ d| ≤ 2 max|r| / width)
            if not keep.all():
                suspects = (~keep).nonzero().squeeze(1)
                keep[suspects] = torch.isfinite(d[:, suspects]).all(0)  # unless it overflowed
            if weights is None and (saturated & keep).any():  # finish them in closed form
                done = (saturated & keep).nonzero().squeeze(1)
                tail = saturated_losses(S[:, :, done].mul_(2), W1[:, done], lr_out[done], Y,
                                        steps - t - 1)
                losses[t + 1:].index_copy_(1, done if alive is None else alive[done], tail.mul_(n))
                keep &= ~saturated
            if not keep.all():
                keep = keep.nonzero().squeeze(1)
                alive = keep if alive is None else alive[keep]
                W0, W1, lr_in, lr_out = W0[:, :, keep], W1[:, keep], lr_in[keep], lr_out[keep]
                B, new_buffers = keep.shape[0], True
                if B == 0:
                    break
    return losses.div_(n).T


def _minibatch_weights(batches: Tensor, n_points: int) -> Tensor:
    """[steps, batch_size] minibatch indices → [steps, n_points] weights n·(times drawn)/batch_size:
    the minibatch mean (1/m) Σ_k ℓ(x_idx[k]) is the weighted full-batch mean (1/n) Σ_n weight_n ℓ(x_n)."""
    counts = torch.zeros(batches.shape[0], n_points, dtype=torch.float64)
    counts.scatter_add_(1, batches, torch.ones(batches.shape, dtype=torch.float64))
    return counts * (n_points / batches.shape[1])


@checked
def chunk_size(problem: Problem, device: torch.device) -> int:
    """Networks per chunk: an [n, width, B] activation of about 2 MB on CPU (a few of them stay in
    the shared cache), about 256 MB on an accelerator (about ten such tensors are alive in a step)."""
    per_network = problem.n_points * problem.width * problem.X.element_size()
    budget = 2**21 if device.type == "cpu" else 2**28
    return max(1, budget // per_network)


def _check_range(name: str, lr: tuple[float, float]) -> None:
    lo, hi = lr
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be a log10 range (lo, hi) with lo < hi, got {lr}")


def _check_grid(resolution: int, steps: int) -> None:
    if resolution < 2:
        raise ValueError(f"resolution must be >= 2, got {resolution}")
    if steps < TAIL + 1:
        raise ValueError(f"steps must be >= {TAIL + 1} (the measure averages the last {TAIL}), got {steps}")


@checked(lr_in=each(real, 2), lr_out=each(real, 2), resolution=size, steps=size, chunk=size, batch_size=size)
def trainability_grid(problem: Problem, lr_in: tuple[float, float] = (-3.0, 6.0),
                      lr_out: tuple[float, float] = (-3.0, 6.0), *, resolution: int = 128,
                      steps: int = 100, device: runtime.Device = None,
                      dtype: torch.dtype | None = None,
                      progress: bool | Callable[..., Iterable] = False,
                      chunk: int | None = None, batch_size: int | None = None,
                      batch_seed: int = 0, with_outcome: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The convergence measure of resolution² networks → [resolution, resolution] on the CPU.

    ``lr_in`` and ``lr_out`` are log10 ranges; row i uses the i-th output-layer rate and column j the
    j-th input-layer rate, both ascending. Negative values trained (see :func:`convergence_measure`).
    Runs on ``device`` (default: :func:`mlcourse.runtime.get_device`) in ``dtype`` (default: the
    problem's, float64 from :func:`make_problem`; MPS has no float64, pass float32 there), ``chunk``
    networks at a time (default :func:`chunk_size`); ``progress`` as in :func:`mlcourse.runtime.track`.
    With ``batch_size``, minibatch GD as in :func:`train_losses` (every network sees the same
    minibatches, drawn with ``batch_seed``). With ``with_outcome``, also each network's
    :func:`outcome` (int8 [resolution, resolution]: trained, did not converge, diverged). The result
    does not depend on torch's thread count (see :func:`_grid`).
    """
    _check_range("lr_in", lr_in)
    _check_range("lr_out", lr_out)
    _check_grid(resolution, steps)
    rates_out, rates_in = torch.meshgrid(log_grid(*lr_out, resolution), log_grid(*lr_in, resolution),
                                         indexing="ij")
    return _grid(problem, rates_in, rates_out, None, resolution=resolution, steps=steps,
                 device=device, dtype=dtype, progress=progress, chunk=chunk, batch_size=batch_size,
                 batch_seed=batch_seed, with_outcome=with_outcome)


@checked(offset=each(real, 2), lr=each(real, 2), resolution=size, steps=size)
def offset_grid(problem: Problem, offset: tuple[float, float] = (-3.0, 3.0),
                lr: tuple[float, float] = (-3.0, 3.0), *, resolution: int = 128, steps: int = 100,
                device: runtime.Device = None, dtype: torch.dtype | None = None,
                progress: bool | Callable[..., Iterable] = False,
                with_outcome: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """The paper's other phase space: initial offset of the input layer against one learning rate.

    Column j starts from W₀ + o_j (o_j added to every entry), row i trains both layers with rate η_i;
    ``offset`` and ``lr`` are log10 ranges, both ascending. Otherwise as :func:`trainability_grid`.
    (The author's notebook adds the offset to W₀ before every step, not only at the start; this is
    the initial offset that the variant's name describes.)
    """
    _check_range("offset", offset)
    _check_range("lr", lr)
    _check_grid(resolution, steps)
    rates, offsets = torch.meshgrid(log_grid(*lr, resolution), log_grid(*offset, resolution),
                                    indexing="ij")
    return _grid(problem, rates, rates, offsets, resolution=resolution, steps=steps, device=device,
                 dtype=dtype, progress=progress, with_outcome=with_outcome)


OUTCOMES = ("trained", "did not converge", "diverged")
"""The three outcomes of :func:`outcome` (codes 0, 1, 2)."""


@checked(losses=tensor(finite=False), shapes=dict(losses="... s"))
def outcome(losses: Tensor) -> Tensor:
    """What became of each loss curve ``losses`` [..., steps] → int8 codes [...] (:data:`OUTCOMES`):
    0 trained (the convergence measure is negative), 1 did not converge (the loss stayed finite but
    the last 20 steps averaged above the start), 2 diverged (the last loss is non-finite: it
    overflowed). The convergence measure itself does not tell 1 from 2."""
    code = (convergence_measure(losses) >= 0).to(torch.int8)
    return torch.where(torch.isfinite(losses[..., -1]), code, torch.full_like(code, 2))


def _grid(problem: Problem, rates_in: Tensor, rates_out: Tensor, offsets: Tensor | None, *,
          resolution: int, steps: int, device: runtime.Device, dtype: torch.dtype | None,
          progress: bool | Callable[..., Iterable], chunk: int | None = None,
          batch_size: int | None = None, batch_seed: int = 0,
          with_outcome: bool = False) -> Tensor | tuple[Tensor, Tensor]:
    """Train one network per entry of the [resolution, resolution] rates (and initial W₀ offsets),
    in chunks, and return their convergence measures on the CPU (and their :func:`outcome`).

    The chunks do not depend on the thread count, and on CPU every operation runs single-threaded
    (several chunks at a time when torch has several threads): each network sees the same
    arithmetic in the same order, so the grid is bit for bit the same for any thread count."""
    device = runtime.get_device(device)
    dtype = dtype or problem.X.dtype
    p = Problem(*(t.to(device, dtype) for t in (problem.X, problem.Y, problem.W0, problem.W1)),
                problem.nonlinearity)
    rates_in, rates_out = (r.reshape(-1).to(device, dtype) for r in (rates_in, rates_out))
    offsets = None if offsets is None else offsets.reshape(-1).to(device, dtype)
    weights = None if batch_size is None else _minibatch_weights(
        minibatches(p.n_points, batch_size, steps, batch_seed), p.n_points).to(device, dtype)
    G = resolution * resolution
    B = chunk or -(-G // -(-G // chunk_size(p, device)))  # equal chunks of at most chunk_size
    values = torch.empty(G, dtype=dtype, device=device)
    codes = torch.empty(G, dtype=torch.int8, device=device)
    starts = range(0, G, B)

    def run(start: int) -> None:
        part = slice(start, start + B)
        losses = _train_chunk(p, rates_in[part], rates_out[part], steps, weights,
                              None if offsets is None else offsets[part])
        values[part] = convergence_measure(losses)
        codes[part] = outcome(losses)

    def track(done: Iterable) -> Iterable:
        return runtime.track(done, progress, desc="chunks of networks", total=len(starts))

    def result() -> Tensor | tuple[Tensor, Tensor]:
        grid = values.view(resolution, resolution).cpu()
        return (grid, codes.view(resolution, resolution).cpu()) if with_outcome else grid

    if device.type != "cpu":
        for _ in track(map(run, starts)):
            pass
        return result()
    # On CPU the chunks are independent: one chunk per thread (each op single-threaded) beats
    # splitting every small op across threads, whose cost is mostly synchronisation.
    workers = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        if workers < 2 or len(starts) < 2:
            for _ in track(map(run, starts)):
                pass
        else:
            with ThreadPoolExecutor(min(workers, len(starts))) as pool:
                for _ in track(pool.map(run, starts)):
                    pass
    finally:
        torch.set_num_threads(workers)
    return result()


@checked
def restretch(values: Tensor | np.ndarray, reference: Tensor | np.ndarray | None = None,
              buffer: float = 0.25) -> np.ndarray:
    """The author's colour scale (his ``cdf_img``): every value replaced by its rank among the
    ``reference`` values (default: ``values`` itself), trained pixels spread evenly over
    [−1, −``buffer``] and the others over [``buffer``, 1]. The gap keeps the two sides apart in any
    colour map; −1 is the slowest to train, +1 the slowest to rise (both sit at the boundary)."""
    v = np.asarray(values, dtype=np.float64)
    u = np.sort(np.asarray(v if reference is None else reference, dtype=np.float64).ravel())
    need(len(u) > 0, f"{'values' if reference is None else 'reference'} is empty: there is nothing to rank")
    negative = int((u < 0).sum())
    ranks = np.concatenate((np.linspace(-1, -buffer, negative), np.linspace(buffer, 1, len(u) - negative)))
    return np.interp(v, u, ranks)


CMAP = "Spectral_r"
"""Colour map of the pictures: blue trained, red did not train (the author's ``Spectral``, with our
sign convention: negative measure = trained)."""


# ---------------------------------------------------------------- the pictures, computed once and cached

DATA_DIR = Path(__file__).parent / "data"


@checked(x=each(real, 2), y=each(real, 2), steps=size, resolution=size, kind=one_of("lr", "offset"), width=size,
         nonlinearity=one_of(*NONLINEARITIES), n_points=size, batch_size=size)
@dataclass(frozen=True)
class Picture:
    """One picture of the paper's kind: a log10 window ``x`` (columns) × ``y`` (rows) of a phase space
    — ``"lr"``: input-layer rate η₀ × output-layer rate η₁; ``"offset"``: initial offset o of W₀ ×
    one rate η for both layers — trained for ``steps`` steps at ``resolution``² pixels, on the
    problem ``make_problem(width, n_points=…, nonlinearity=…, seed=…)``, full batch or minibatches of
    ``batch_size``."""

    name: str
    title: str
    x: tuple[float, float]
    y: tuple[float, float]
    steps: int = 1000
    resolution: int = 512
    kind: str = "lr"
    width: int = 8
    nonlinearity: str = "tanh"
    n_points: int | None = None
    batch_size: int | None = None
    seed: int = 0

    @property
    def problem(self) -> Problem:
        return make_problem(self.width, n_points=self.n_points, nonlinearity=self.nonlinearity,
                            seed=self.seed)

    @property
    def labels(self) -> tuple[str, str]:
        """Axis labels (x, y)."""
        if self.kind == "offset":
            return "log₁₀ offset o of W₀", "log₁₀ η (both layers)"
        return "log₁₀ η₀ (input layer)", "log₁₀ η₁ (output layer)"

    def path(self) -> Path:
        return DATA_DIR / f"fractal_{self.name}.npz"


@checked(centre=each(real, 2), level=count, full=positive, factor=positive)
def zoom_window(centre: tuple[float, float], level: int, full: float = 9.0,
                factor: float = 10.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """The square log10 window ``full`` / ``factor``**``level`` decades wide around ``centre``."""
    half = full / 2 / factor**level
    return (centre[0] - half, centre[0] + half), (centre[1] - half, centre[1] + half)


FULL = (-3.0, 6.0)
"""The start window of the paper's learning-rate pictures, on both axes (log10)."""
ZOOM_CENTRE = (0.4477058171153848, 1.7818258271923075)
"""A point on the trainability boundary (log10 η₀, log10 η₁) of the width-8 tanh network trained
for 100 steps whose zoom frames stay coherent down to 10⁻¹⁰: ``find_zoom_centre((1.0, 0.5), 10)``."""
ZOOM_LEVELS = (0, 2, 4, 6, 8, 10)
"""Zoom frames: from the full 9-decade window down to 9e−10 decades, ×100 per frame."""
ZOOM_STEPS = 100
"""Steps of the zoom frames (the author's notebook default; the paper's 500–1000 cost 5–10× more)."""

PICTURES: dict[str, Picture] = {p.name: p for p in [
    Picture("tanh", "tanh, full batch", FULL, FULL, steps=1000),
    Picture("relu", "ReLU, full batch", FULL, FULL, steps=500, nonlinearity="relu"),
    Picture("identity", "identity (linear network), 8 points", FULL, FULL, steps=1000,
            nonlinearity="identity", n_points=8),
    Picture("minibatch", "tanh, minibatches of 16", FULL, FULL, steps=500, batch_size=16),
    Picture("single_point", "tanh, a single training point", FULL, FULL, steps=1000, n_points=1),
    Picture("offset", "initial offset of W₀ vs learning rate", (-3.0, 3.0), (-3.0, 3.0), steps=500,
            kind="offset"),
    *[Picture(f"zoom{k}", f"zoom ×1e{k}", *zoom_window(ZOOM_CENTRE, k), steps=ZOOM_STEPS)
      for k in ZOOM_LEVELS],
]}
"""Every cached picture by name: the paper's six setups on their full windows, and the zoom frames."""


PAPER_DIMENSIONS = {"tanh": 1.66, "relu": 1.20, "identity": 1.17, "minibatch": 1.55,
                    "single_point": 1.41, "offset": 1.98}
"""The paper's box-counting dimension for each setup (Sohl-Dickstein 2024, Fig. 1; width 16, 500–1000
steps, the median over a deep zoom sequence, porespy's estimator)."""


def render(picture: Picture, *, resolution: int | None = None, steps: int | None = None,
           device: runtime.Device = None, progress: bool | Callable[..., Iterable] = False
           ) -> tuple[Tensor, Tensor]:
    """Compute ``picture`` (optionally at another ``resolution`` or number of ``steps``): its
    convergence measures and :func:`outcome` codes, both [resolution, resolution]."""
    res, steps = resolution or picture.resolution, steps or picture.steps
    kw = dict(resolution=res, steps=steps, device=device, progress=progress, with_outcome=True)
    if picture.kind == "offset":
        return offset_grid(picture.problem, picture.x, picture.y, **kw)
    return trainability_grid(picture.problem, picture.x, picture.y, batch_size=picture.batch_size, **kw)


LEVELS = 64
"""Colour levels stored per pixel (6 bits): :func:`restretch` quantised, the sign kept exactly."""


@dataclass(frozen=True)
class Rendered:
    """A cached picture: ``colour`` [R, R] (the :func:`restretch` of the measure, within 1/63),
    ``outcome`` [R, R] (int8 codes of :data:`OUTCOMES`), how long it took (``seconds`` of CPU time
    and ``wall`` seconds, with ``threads`` threads) and the ``command`` that recomputes it."""

    picture: Picture
    colour: np.ndarray
    outcome: np.ndarray
    seconds: float
    wall: float
    threads: int
    command: str

    @property
    def trained(self) -> np.ndarray:
        return self.outcome == 0


def save(picture: Picture, values: Tensor, codes: Tensor, seconds: float, wall: float,
         threads: int) -> Path:
    """Store a computed picture compactly (6-bit colour, outcome codes, zlib) as
    mlcourse/data/fractal_<name>.npz."""
    q = np.rint((restretch(values) + 1) / 2 * (LEVELS - 1)).astype(np.uint8)
    command = f"python -m mlcourse.fractal --render {picture.name}"
    default = PICTURES.get(picture.name)
    for key in ("resolution", "steps"):
        if default is None or getattr(picture, key) != getattr(default, key):
            command += f" --{key} {getattr(picture, key)}"
    meta = dict(picture=dataclasses.asdict(picture), seconds=seconds, wall=wall, threads=threads,
                command=command,
                torch=torch.__version__)
    path = picture.path()
    np.savez_compressed(path, colour=q, outcome=np.asarray(codes, dtype=np.uint8),
                        meta=np.array(json.dumps(meta)))
    return path


def load(name: str) -> Rendered:
    """The cached picture ``name`` (a key of :data:`PICTURES`), as computed by
    ``python -m mlcourse.fractal --render <name>``."""
    if name not in PICTURES:
        raise ValueError(f"unknown picture {name!r}: name must be one of {', '.join(PICTURES)}")
    path = PICTURES[name].path()
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run python -m mlcourse.fractal --render {name}")
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        q, codes = f["colour"], f["outcome"].astype(np.int8)
    spec = meta["picture"]
    picture = Picture(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})
    return Rendered(picture, q.astype(np.float64) / (LEVELS - 1) * 2 - 1, codes, meta["seconds"],
                    meta["wall"], meta["threads"], meta["command"])


def coherence(trained: np.ndarray) -> float:
    """The share of neighbouring pixel pairs (across and down) with the same outcome in a [R, R]
    boolean picture: 1 for one region, close to 1 for a few clean regions, about 0.5 for speckle."""
    t = np.asarray(trained, dtype=bool)
    if t.ndim != 2 or min(t.shape) < 2:
        raise ValueError(f"trained must be a 2-D grid of at least 2×2, got shape {t.shape}")
    return float(np.concatenate([(t[1:] == t[:-1]).ravel(), (t[:, 1:] == t[:, :-1]).ravel()]).mean())


@checked(start=each(real, 2), levels=count, resolution=size, probe=size, candidates=size, steps=size,
         width=size)
def find_zoom_centre(start: tuple[float, float], levels: int, *, resolution: int = 40, probe: int = 24,
                     candidates: int = 10, steps: int = 100, width: int = 8, seed: int = 0
                     ) -> tuple[float, float]:
    """A point on the trainability boundary whose zoom frames show structure rather than speckle.
    From ``start`` (log10 η₀, log10 η₁), at each level: compute the :func:`zoom_window` (×10 per
    level) at ``resolution``², draw up to ``candidates`` pixels on the trained/untrained border in the
    middle half of the window, compute the next level's window around each at ``probe``², and move
    to the one whose outcomes are most :func:`coherent <coherence>` among those 20–80 % trained.
    Returns the centre after ``levels`` levels (seeded: the same every time)."""
    problem, rng, centre = make_problem(width, seed=seed), np.random.default_rng(seed), tuple(start)

    def trained(c: tuple[float, float], level: int, res: int):
        x, y = zoom_window(c, level)
        _, codes = trainability_grid(problem, x, y, resolution=res, steps=steps, with_outcome=True)
        return x, y, np.asarray(codes) == 0

    def score(c: tuple[float, float], level: int) -> float:
        t = trained(c, level, probe)[2]
        return coherence(t) - (0.0 if 0.2 <= t.mean() <= 0.8 else 1.0)

    for level in range(levels):
        x, y, t = trained(centre, level, resolution)
        across, down = t[:, 1:] != t[:, :-1], t[1:] != t[:-1]
        border = np.zeros_like(t)
        border[:, 1:] |= across
        border[:, :-1] |= across
        border[1:] |= down
        border[:-1] |= down
        rows, cols = np.nonzero(border)
        if len(rows) == 0:
            raise ValueError(f"no boundary in the window of level {level} around {centre}")
        middle = np.nonzero((np.abs(cols - resolution / 2) < resolution / 4)
                            & (np.abs(rows - resolution / 2) < resolution / 4))[0]
        pool = middle if len(middle) >= 3 else np.arange(len(rows))
        picks = rng.choice(pool, size=min(candidates, len(pool)), replace=False)
        px = x[0] + cols * ((x[1] - x[0]) / (resolution - 1))
        py = y[0] + rows * ((y[1] - y[0]) / (resolution - 1))
        centre = max(((float(px[i]), float(py[i])) for i in picks), key=lambda c: score(c, level + 1))
    return centre


def main(argv: list[str] | None = None) -> None:
    """``python -m mlcourse.fractal --render NAME … | all``: compute pictures of :data:`PICTURES`
    and store them in mlcourse/data/ (``--resolution`` and ``--steps`` override the picture's own,
    e.g. for a quick look); ``--list`` shows what is cached and what it cost."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m mlcourse.fractal", description=main.__doc__)
    ap.add_argument("--render", nargs="+", metavar="NAME", help=f"pictures to compute: "
                    f"{', '.join(PICTURES)}, or all (the missing ones)")
    ap.add_argument("--resolution", type=int)
    ap.add_argument("--steps", type=int)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default $MLCOURSE_THREADS or 1)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    threads = runtime.set_threads(args.threads)
    if args.list or not args.render:
        for name, picture in PICTURES.items():
            if picture.path().exists():
                r = load(name)
                print(f"{name:13s} {r.picture.resolution}² {r.picture.steps} steps: {r.seconds:,.0f} s CPU, "
                      f"{r.wall:,.0f} s wall, {r.threads} thread(s), {picture.path().stat().st_size / 1e3:.0f} kB")
            else:
                print(f"{name:13s} not cached")
        return
    names = [n for n in PICTURES if not PICTURES[n].path().exists()] if args.render == ["all"] else args.render
    for name in names:
        if name not in PICTURES:
            raise SystemExit(f"unknown picture {name!r}: choose from {', '.join(PICTURES)}")
        picture = dataclasses.replace(PICTURES[name], **{k: v for k, v in (
            ("resolution", args.resolution), ("steps", args.steps)) if v})
        cpu, wall = time.process_time(), time.perf_counter()
        values, codes = render(picture, device=args.device)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        path = save(picture, values, codes, cpu, wall, threads)
        counts = np.bincount(np.asarray(codes).ravel().astype(np.int64), minlength=3)
        print(f"{name}: {picture.resolution}² × {picture.steps} steps in {cpu:,.0f} s CPU ({wall:,.0f} s wall); "
              f"{', '.join(f'{o} {c / counts.sum():.1%}' for o, c in zip(OUTCOMES, counts))}; "
              f"{path.stat().st_size / 1e3:.0f} kB → {path}", flush=True)



# ---------------------------------------------------------------- the boundary and its dimension

@checked(shapes=dict(values="r c"))
def boundary_mask(values: Tensor) -> Tensor:
    """True where a 2×2 block of ``values`` [R, R] holds both signs: the trainability boundary."""
    values = torch.as_tensor(values)
    if values.ndim != 2 or min(values.shape) < 2:
        raise ValueError(f"values must be a 2-D grid of at least 2×2, got shape {tuple(values.shape)}")
    blocks = torch.stack((values[1:, 1:], values[:-1, 1:], values[1:, :-1], values[:-1, :-1]), -1)
    return blocks.amax(-1) * blocks.amin(-1) < 0


SMALLEST_BOX = 2
"""Box side (pixels) of the finest box count: a boundary marked by 2×2 blocks is up to 2 pixels
thick, so 1-pixel boxes would count its thickness, not its shape."""
BOXES_ACROSS = 32
"""The largest box still fits this many times across the image. Larger boxes count the image's
edges and a handful of boxes (a curve across the image crosses R/s + O(1) of them): they bias the
slope, which is what made the estimate climb with resolution."""
GRID_OFFSETS = 4
"""Box grids shifted by s/4, s/2, 3s/4: N(s) is the smallest count (box counting's definition asks
for the fewest boxes that cover the set)."""


@checked(side=size)
def box_sizes(side: int) -> np.ndarray:
    """Box sides 2, 4, 8, … up to (``side`` + 1) / :data:`BOXES_ACROSS` pixels (powers of two; the
    + 1 because the boundary of an R × R grid is an (R − 1) × (R − 1) mask)."""
    top = int(np.floor(np.log2((side + 1) / BOXES_ACROSS))) if side + 1 >= 2 * BOXES_ACROSS else 0
    return 2 ** np.arange(1, top + 1)


@checked(mask=tensor(2), sizes=each(size), offset=count, shapes=dict(mask="r c"))
def box_counts(mask: Tensor | np.ndarray, sizes: np.ndarray, offset: int = 0) -> np.ndarray:
    """For each box side s: how many s×s boxes hold at least one pixel of ``mask``. The boxes tile
    the plane with a corner at (−offset·s/:data:`GRID_OFFSETS`, same) pixels: offset 0 tiles from the
    image's corner, and boxes cut off by the image's edge count like the others."""
    m = np.asarray(mask, dtype=bool)
    counts = []
    for s in sizes:
        shift = int(offset) * int(s) // GRID_OFFSETS
        R, C = -(-(m.shape[0] + shift) // s) * s, -(-(m.shape[1] + shift) // s) * s
        padded = np.zeros((R, C), bool)
        padded[shift:shift + m.shape[0], shift:shift + m.shape[1]] = m
        counts.append(int(padded.reshape(R // s, s, C // s, s).any((1, 3)).sum()))
    return np.array(counts)


@dataclass(frozen=True)
class BoxCount:
    """A box count and its fit: ``sizes`` [k] (pixels), ``counts`` [k] (N(s), the fewest over the
    shifted grids), ``dimension`` (least-squares slope of −log N against log s) and ``local`` [k − 1]
    (the slope between neighbouring sizes). A set with a dimension has a straight log-log plot:
    ``spread`` (max − min of the local slopes) is small; random speckle bends from 0 at small boxes
    (each pixel its own box) to 2 at large ones (every box hit)."""

    sizes: np.ndarray
    counts: np.ndarray
    dimension: float
    local: np.ndarray

    @property
    def spread(self) -> float:
        return float(self.local.max() - self.local.min())


@checked(mask=tensor(2), shapes=dict(mask="r c"))
def box_count(mask: Tensor | np.ndarray) -> BoxCount:
    """Box-counting dimension of the set ``mask`` [R, C] (bool) with its diagnostics.

    Boxes of side 2, 4, …, min(R, C)/32 pixels (:func:`box_sizes`); for each side the fewest boxes
    over four shifted grids (:data:`GRID_OFFSETS`); the dimension is the least-squares slope of
    −log N(s) against log s. Validated on rasterised sets of known dimension (:func:`known_sets`):
    within 0.05 of the truth at 512² and above. Random speckle has no dimension: its estimate is
    whatever the density makes it (≈ 2 when most boxes of side 2 are hit, lower for sparse speckle,
    with a large :attr:`BoxCount.spread`): compare against :func:`shuffled` before trusting a value.
    """
    m = np.asarray(mask, dtype=bool)
    if m.ndim != 2:
        raise ValueError(f"mask must be a 2-D boolean image, got shape {m.shape}")
    sizes = box_sizes(min(m.shape))
    if len(sizes) < 3:
        side = SMALLEST_BOX * BOXES_ACROSS * 4 - 1
        raise ValueError(f"mask must be at least {side}×{side} pixels (three box sizes, the "
                         f"largest {BOXES_ACROSS} times across), got {m.shape}")
    counts = np.min([box_counts(m, sizes, o) for o in range(GRID_OFFSETS)], axis=0)
    if counts.min() == 0:
        raise ValueError("the mask is empty: no boundary to measure")
    logs, logn = np.log(sizes), np.log(counts)
    slope = np.polyfit(logs, logn, 1)[0]
    return BoxCount(sizes, counts, float(-slope), -np.diff(logn) / np.diff(logs))


@checked(mask=tensor(2), shapes=dict(mask="r c"))
def box_counting_dimension(mask: Tensor | np.ndarray) -> float:
    """The box-counting dimension of ``mask`` (see :func:`box_count`): 1 for a smooth curve, 2 for a
    set that fills an area, in between for a fractal."""
    return box_count(mask).dimension


@checked
def shuffled(values: Tensor | np.ndarray, seed: int = 0) -> np.ndarray:
    """The speckle control: the same pixel values in a random order. It keeps the fraction of each
    sign and destroys every spatial structure, so its boundary is pure noise at every scale."""
    v = np.asarray(values)
    return np.random.default_rng(seed).permutation(v.ravel()).reshape(v.shape)


MAX_SPREAD = 0.3
"""Local slopes may disagree by this much for a box count to count as a straight line (the known
sets: ≤ 0.12; speckle bends by 0.5–1.8)."""
MIN_CONTRAST = 0.15
"""A resolved boundary's box counts differ from those of its shuffled pixels by at least this much,
in the fitted slope or in a local slope (sparse speckle can match a fitted slope while bending)."""
MAX_DRIFT = 0.15
"""… and moves by at most this much when every second rate is dropped."""


@dataclass(frozen=True)
class DimensionCheck:
    """The box count of a picture's boundary with its three checks: ``fit`` (:class:`BoxCount`),
    ``control`` (the box count of the same pixels shuffled), ``half`` (the dimension fitted at half
    the resolution, None when that leaves fewer than three box sizes) and ``resolved``."""

    fit: BoxCount
    control: BoxCount
    half: float | None

    @property
    def contrast(self) -> float:
        """How far the box counts are from the shuffled pixels': the larger of the difference of the
        fitted slopes and the largest difference of the local slopes."""
        return float(max(abs(self.fit.dimension - self.control.dimension),
                         np.abs(self.fit.local - self.control.local).max()))

    @property
    def resolved(self) -> bool:
        return (self.fit.spread <= MAX_SPREAD and self.contrast >= MIN_CONTRAST
                and (self.half is None or abs(self.half - self.fit.dimension) <= MAX_DRIFT))

    @property
    def dimension(self) -> float | None:
        """The dimension where the structure is resolved, else None (a fit, but no dimension)."""
        return self.fit.dimension if self.resolved else None


@checked(shapes=dict(trained="r c"))
def dimension_check(trained: np.ndarray, seed: int = 0) -> DimensionCheck:
    """Box-count the boundary of a picture (``trained`` [R, R], bool) and check that it is resolved:
    a straight log-log plot (spread ≤ :data:`MAX_SPREAD`), box counts at least :data:`MIN_CONTRAST`
    away from those of the same pixels shuffled (:func:`shuffled`), and, where every second rate still leaves
    three box sizes, at most :data:`MAX_DRIFT` away from the fit at half the resolution."""
    signs = torch.from_numpy(np.where(np.asarray(trained, dtype=bool), -1.0, 1.0))
    fit = box_count(boundary_mask(signs))
    control = box_count(boundary_mask(torch.from_numpy(shuffled(signs.numpy(), seed))))
    coarse = signs[::2, ::2]
    half = box_count(boundary_mask(coarse)).dimension if min(coarse.shape) >= 256 else None
    return DimensionCheck(fit, control, half)


def _cover(x: np.ndarray, y: np.ndarray, resolution: int) -> np.ndarray:
    """The pixels of a [resolution]² image (pixel (i, j) is the square [j, j+1) × [i, i+1)) that
    hold at least one of the points (x, y)."""
    m = np.zeros((resolution, resolution), bool)
    inside = (x >= 0) & (x < resolution) & (y >= 0) & (y < resolution)
    m[y[inside].astype(int), x[inside].astype(int)] = True
    return m


def _polyline(vertices: np.ndarray, resolution: int, per_pixel: int = 8) -> np.ndarray:
    """Pixels crossed by the polyline through ``vertices`` [k, 2] (pixel units), sampled at least
    ``per_pixel`` times per pixel of its longest segment."""
    seg = np.diff(vertices, axis=0)
    n = int(np.abs(seg).sum(1).max() * per_pixel) + 2
    f = np.linspace(0.0, 1.0, n, endpoint=False)[:, None, None]
    p = (vertices[:-1] + f * seg).reshape(-1, 2)
    p = np.vstack([p, vertices[-1:]])
    return _cover(p[:, 0], p[:, 1], resolution)


@checked(resolution=size)
def known_sets(resolution: int) -> dict[str, tuple[np.ndarray, float]]:
    """Sets of known box-counting dimension, each rasterised as the pixels it touches in a
    [resolution]² image: name → (mask, dimension).

    - "line": a straight segment across the image, slope 0.37 (1);
    - "circle": the boundary of a disc of radius 0.4·R (1);
    - "Koch curve": iterated until its segments are shorter than a pixel (log 4 / log 3 ≈ 1.262);
    - "Sierpinski triangle": equilateral, triangles of level k down to below a pixel
      (log 3 / log 2 ≈ 1.585);
    - "filled disc": a disc of radius 0.45·R (2).
    """
    R = resolution
    line = _polyline(np.array([[0.0, 0.3 * R], [R * (1 - 1e-12), 0.67 * R]]), R)
    t = np.linspace(0.0, 2 * np.pi, 64 * R)
    circle = _cover(R / 2 + 0.4 * R * np.cos(t), R / 2 + 0.4 * R * np.sin(t), R)
    # Koch curve: replace each segment by four, a third as long, the middle two forming a peak
    pts = np.array([[0.0, 0.0], [1.0, 0.0]])
    turn = np.array([[0.5, -math.sqrt(3) / 2], [math.sqrt(3) / 2, 0.5]])
    while 0.96 * R / 3 ** (np.log(len(pts) - 1) / np.log(4)) >= 0.5:
        a, d = pts[:-1], np.diff(pts, axis=0) / 3
        pts = np.vstack([np.stack([a, a + d, a + d + d @ turn.T, a + 2 * d], 1).reshape(-1, 2),
                         pts[-1:]])
    koch = _polyline(np.c_[0.02 * R + 0.96 * R * pts[:, 0], 0.1 * R + 0.96 * R * pts[:, 1]], R)
    # Sierpinski triangle: corners of the 3^k sub-triangles whose side is below half a pixel
    corners = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, math.sqrt(3) / 2]])
    origins, side = np.zeros((1, 2)), 0.9 * R
    while side >= 0.5:
        side /= 2
        origins = (origins[:, None, :] + corners[None] * side).reshape(-1, 2)
    pts = (origins[:, None, :] + corners[None] * side).reshape(-1, 2) + 0.05 * R
    sierpinski = _cover(pts[:, 0], pts[:, 1], R)
    i, j = np.mgrid[:R, :R]
    nearest_x, nearest_y = np.clip(R / 2, j, j + 1), np.clip(R / 2, i, i + 1)
    disc = (nearest_x - R / 2) ** 2 + (nearest_y - R / 2) ** 2 <= (0.45 * R) ** 2
    return {"line": (line, 1.0), "circle": (circle, 1.0),
            "Koch curve": (koch, math.log(4) / math.log(3)),
            "Sierpinski triangle": (sierpinski, math.log(3) / math.log(2)),
            "filled disc": (disc, 2.0)}


if __name__ == "__main__":
    main()
