"""The optimizer zoo: hand-written update rules, 2-D test functions, and training without backprop.

Every optimizer is a pure update rule ``step(p, g, state, **hyper) -> (p, state)``: ``p`` the
parameters (one tensor, any shape), ``g`` the gradient at ``p``, ``state`` a dict (start with ``{}``).
Nothing is updated in place, so a trajectory is just a loop (:func:`run`). Each rule follows the
conventions of its ``torch.optim`` twin exactly (where ε goes, how momentum is accumulated), so the two
agree step for step; the docstrings give the equations.

- SGD, momentum, Nesterov — ``torch.optim.SGD``; the seed's form V ← μV + ηg, W ← W − V is the same
  iteration for a constant η (torch keeps V/η instead).
- Adagrad (Duchi et al. 2011), RMSprop (Tieleman & Hinton 2012), Adam (Kingma & Ba 2015),
  AdamW (Loshchilov & Hutter 2019: weight decay decoupled from the adaptive scaling).
- Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Alg. 2): sign update.
- AdaHessian (Yao et al. 2021): Adam with the gradient's second moment replaced by the Hutchinson
  estimate of the Hessian diagonal, D = v ⊙ Hv with Rademacher v.
- Forward gradient (Baydin et al. 2022, "Gradients without Backpropagation"): (∇f·v) v, one jvp.
- Direct feedback alignment (Nøkland 2016): the output error reaches each hidden layer through a
  fixed random matrix instead of the transposed forward weights.
- Quadratics, where every rate is exact: gradient descent and heavy-ball momentum on ½Σλᵢxᵢ² act on
  each eigen-mode separately; :func:`mode_rates` gives each mode's rate of convergence and
  :func:`best_gd` / :func:`best_momentum` the optimal step size and β (Polyak 1964; Goh 2017, "Why
  Momentum Really Works").
- Implicit gradient regularization (Barrett & Dherin 2021): one step of gradient descent with step η
  agrees with the gradient flow of L̃ = L + (η/4)‖∇L‖² up to O(η³) (with the flow of L only up to
  O(η²)), so over a fixed time the gaps are O(η²) and O(η).
- The implicit bias of SGD noise (Smith et al. 2021) on the smallest model that shows it: the scalar
  product f(x) = u·v·x, whose minima uv = c differ in sharpness (:func:`product_path`).
- A learned optimizer (Andrychowicz et al. 2016, "Learning to learn by gradient descent by gradient
  descent"): a coordinate-wise LSTM meta-trained on random quadratics; the committed checkpoint
  ``data/l2o_lstm.pt`` is rebuilt by ``load_l2o(recompute=True)``.
"""

from __future__ import annotations

import inspect
import math
from pathlib import Path
from typing import Callable, Sequence

import torch
from torch import Tensor
from torch.func import grad, jvp, vmap

from mlcourse import runtime
from mlcourse.runtime import Device
from mlcourse.inputs import (checked, count, each, finite_numbers, fraction, learning_rate, nonnegative, number_or_each,
                             one_of, positive, probability, real, size, tensor)

State = dict[str, Tensor | int]
Rule = Callable[..., tuple[Tensor, State]]
Objective = Callable[[Tensor], Tensor]


def _check(p: Tensor, g: Tensor, lr: float) -> None:
    if p.shape != g.shape:
        raise ValueError(f"parameters and gradient must have the same shape, got {tuple(p.shape)} "
                         f"and {tuple(g.shape)}")
    if not lr > 0:
        raise ValueError(f"learning rate must be > 0, got {lr}")


# --- first-order rules ---------------------------------------------------------------------------

@checked(lr=learning_rate, momentum=nonnegative, weight_decay=nonnegative, same_shape=("p", "g"))
def sgd(p: Tensor, g: Tensor, state: State, *, lr: float, momentum: float = 0.0,
        nesterov: bool = False, weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """SGD with optional (Nesterov) momentum, as ``torch.optim.SGD`` (dampening 0).

    g ← g + λp (L2 as a gradient term);  b ← μb + g (b = g on the first step);
    direction d = g + μb (Nesterov) or b;  p ← p − η d.
    """
    _check(p, g, lr)
    if nesterov and momentum <= 0:
        raise ValueError("Nesterov momentum needs momentum > 0")
    g = g + weight_decay * p if weight_decay else g
    state = dict(state)
    if momentum:
        b = g if "b" not in state else momentum * state["b"] + g
        state["b"] = b
        g = g + momentum * b if nesterov else b
    return p - lr * g, state


@checked(lr=learning_rate, eps=nonnegative, weight_decay=nonnegative, same_shape=("p", "g"))
def adagrad(p: Tensor, g: Tensor, state: State, *, lr: float, eps: float = 1e-10,
            weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """Adagrad (Duchi et al. 2011), as ``torch.optim.Adagrad``: G ← G + g²;  p ← p − η g / (√G + ε).

    The seed writes √(G + ε); torch (and we) put ε outside the root.
    """
    _check(p, g, lr)
    g = g + weight_decay * p if weight_decay else g
    G = state.get("G", torch.zeros_like(p)) + g * g
    return p - lr * g / (G.sqrt() + eps), {"G": G}


@checked(lr=learning_rate, alpha=probability, eps=nonnegative, momentum=nonnegative,
         weight_decay=nonnegative, same_shape=("p", "g"))
def rmsprop(p: Tensor, g: Tensor, state: State, *, lr: float, alpha: float = 0.99,
            eps: float = 1e-8, momentum: float = 0.0,
            weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """RMSprop (Tieleman & Hinton 2012), as ``torch.optim.RMSprop`` (not centered):
    s ← αs + (1 − α)g²;  u = g / (√s + ε) (ε outside the root);  with momentum b ← μb + u, u = b;
    p ← p − η u."""
    _check(p, g, lr)
    g = g + weight_decay * p if weight_decay else g
    s = alpha * state.get("s", torch.zeros_like(p)) + (1 - alpha) * g * g
    u = g / (s.sqrt() + eps)
    if not momentum:
        return p - lr * u, {"s": s}
    b = momentum * state.get("b", torch.zeros_like(p)) + u
    return p - lr * b, {"s": s, "b": b}


@checked(lr=learning_rate, betas=each(fraction, 2), eps=nonnegative, weight_decay=nonnegative,
         same_shape=("p", "g"))
def adam(p: Tensor, g: Tensor, state: State, *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
         eps: float = 1e-8, weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """Adam (Kingma & Ba 2015, Alg. 1), as ``torch.optim.Adam``; ``weight_decay`` is L2 (added to g,
    so it is rescaled by the adaptive denominator like the rest of the gradient).

    m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  t ← t + 1;
    p ← p − η (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε).
    """
    _check(p, g, lr)
    g = g + weight_decay * p if weight_decay else g
    return _adam_move(p, g, state, lr, betas, eps)


def _adam_move(p: Tensor, g: Tensor, state: State, lr: float, betas: tuple[float, float],
               eps: float) -> tuple[Tensor, State]:
    b1, b2 = betas
    t = int(state.get("t", 0)) + 1
    m = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    v = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * g * g
    denom = v.sqrt() / math.sqrt(1 - b2**t) + eps
    return p - (lr / (1 - b1**t)) * m / denom, {"m": m, "v": v, "t": t}


@checked(lr=learning_rate, betas=each(fraction, 2), eps=nonnegative, weight_decay=nonnegative,
         same_shape=("p", "g"))
def adamw(p: Tensor, g: Tensor, state: State, *, lr: float, betas: tuple[float, float] = (0.9, 0.999),
          eps: float = 1e-8, weight_decay: float = 1e-2) -> tuple[Tensor, State]:
    """AdamW (Loshchilov & Hutter 2019, Alg. 2), as ``torch.optim.AdamW``: first shrink
    p ← p(1 − ηλ), then the Adam move with the *loss* gradient only — decay is not rescaled by √v."""
    _check(p, g, lr)
    return _adam_move(p * (1 - lr * weight_decay), g, state, lr, betas, eps)


@checked(lr=learning_rate, betas=each(probability, 2), weight_decay=nonnegative, same_shape=("p", "g"))
def lion(p: Tensor, g: Tensor, state: State, *, lr: float = 1e-4,
         betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """Lion (Chen et al. 2023, Alg. 2): c = β₁m + (1 − β₁)g;  p ← p − η(sign(c) + λp);
    m ← β₂m + (1 − β₂)g. Every coordinate moves by exactly η (λ = 0): a sign update with a
    momentum that interpolates with two different β. Defaults are the paper's (η 3–10× below AdamW's)."""
    _check(p, g, lr)
    b1, b2 = betas
    m = state.get("m", torch.zeros_like(p))
    c = b1 * m + (1 - b1) * g
    return p - lr * (torch.sign(c) + weight_decay * p), {"m": b2 * m + (1 - b2) * g}


@checked(lr=learning_rate, betas=each(fraction, 2), eps=nonnegative, hessian_power=positive,
         same_shape=("p", "g", "hess_diag"))
def adahessian(p: Tensor, g: Tensor, state: State, *, lr: float, hess_diag: Tensor,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-4,
               hessian_power: float = 1.0) -> tuple[Tensor, State]:
    """AdaHessian (Yao et al. 2021, Alg. 1, no spatial averaging): Adam with g² replaced by D², where
    D = ``hess_diag`` is a Hutchinson estimate of diag(H) (:func:`hutchinson_diag`).

    m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)D²;  p ← p − η m̂ / (v̂^{k/2} + ε), hats = bias-corrected.
    With β = (0, 0), ε = 0, k = 1 and an exact diagonal this is the diagonal Newton step g / |D|.
    """
    _check(p, g, lr)
    if hess_diag.shape != p.shape:
        raise ValueError(f"hess_diag must have the parameters' shape {tuple(p.shape)}, "
                         f"got {tuple(hess_diag.shape)}")
    b1, b2 = betas
    t = int(state.get("t", 0)) + 1
    m = b1 * state.get("m", torch.zeros_like(p)) + (1 - b1) * g
    v = b2 * state.get("v", torch.zeros_like(p)) + (1 - b2) * hess_diag * hess_diag
    denom = (v / (1 - b2**t)) ** (hessian_power / 2) + eps
    return p - lr * (m / (1 - b1**t)) / denom, {"m": m, "v": v, "t": t}


@checked(lr=learning_rate, momentum=nonnegative, weight_decay=nonnegative, same_shape=("p", "g"))
def momentum(p: Tensor, g: Tensor, state: State, *, lr: float, momentum: float = 0.9,
             weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """Heavy-ball momentum (Polyak 1964): :func:`sgd` with μ = 0.9 unless given."""
    return sgd(p, g, state, lr=lr, momentum=momentum, weight_decay=weight_decay)


@checked(lr=learning_rate, momentum=nonnegative, weight_decay=nonnegative, same_shape=("p", "g"))
def nesterov(p: Tensor, g: Tensor, state: State, *, lr: float, momentum: float = 0.9,
             weight_decay: float = 0.0) -> tuple[Tensor, State]:
    """Nesterov momentum in torch's form (Sutskever et al. 2013): :func:`sgd` with μ = 0.9 unless given."""
    return sgd(p, g, state, lr=lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)


OPTIMIZERS: dict[str, Rule] = {"sgd": sgd, "momentum": momentum, "nesterov": nesterov, "adagrad": adagrad,
                               "rmsprop": rmsprop, "adam": adam, "adamw": adamw, "lion": lion,
                               "adahessian": adahessian}
"""Every rule by name, in the lecture's order."""


# --- Hessian diagonal (Hutchinson) ---------------------------------------------------------------

@checked(shape=each(count))
def rademacher(shape: tuple[int, ...], *, generator: torch.Generator | None = None,
               dtype: torch.dtype = torch.float64, device: Device = "cpu") -> Tensor:
    """Entries ±1 with probability ½ each (sampled on the CPU, so a seed means the same draw anywhere)."""
    v = torch.randint(0, 2, shape, generator=generator).to(dtype) * 2 - 1
    return v.to(runtime.get_device(device))


@checked(same_shape=("x", "v"))
def hvp(f: Objective, x: Tensor, v: Tensor) -> Tensor:
    """Hessian–vector product H(x) v as a forward-over-reverse jvp of ∇f: no Hessian is formed."""
    return jvp(grad(f), (x,), (v,))[1]


@checked(n=size, samples=size)
def hutchinson_diag(matvec: Callable[[Tensor], Tensor], n: int, samples: int, *,
                    absolute: bool = False, generator: torch.Generator | None = None,
                    dtype: torch.dtype = torch.float64, device: Device = "cpu") -> Tensor:
    """Hutchinson's estimator of diag(A) from products with A: mean over Rademacher v of v ⊙ Av.

    Unbiased: E[vᵢ (Av)ᵢ] = Σⱼ Aᵢⱼ E[vᵢvⱼ] = Aᵢᵢ. With ``absolute=True`` each sample is |v ⊙ Av| = |Av|
    (what AdaHessian's released code averages): that estimates E|(Av)ᵢ|, *not* |Aᵢᵢ|, as soon as A has
    off-diagonal entries.
    """
    est = hutchinson_samples(matvec, n, samples, generator=generator, dtype=dtype, device=device)
    return (est.abs() if absolute else est).mean(0)


@checked(n=size, samples=size)
def hutchinson_samples(matvec: Callable[[Tensor], Tensor], n: int, samples: int, *,
                       generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                       device: Device = "cpu") -> Tensor:
    """``samples`` single Hutchinson samples D = v ⊙ Av, one per row [samples, n] (Rademacher v).

    What AdaHessian feeds its second moment is D²; since vᵢ² = 1, D² = (Av)² whether or not |·| is
    taken, and E[Dᵢ²] = Σⱼ Aᵢⱼ² (the squared row norm), which is Aᵢᵢ² only for a diagonal A.
    """
    if samples < 1 or n < 1:
        raise ValueError(f"need n >= 1 and samples >= 1, got n={n}, samples={samples}")
    V = rademacher((samples, n), generator=generator, dtype=dtype, device=device)
    return V * vmap(matvec)(V)


# --- quadratics: where every rate is exact ------------------------------------------------------

def diagonal_quadratic(eigenvalues: Sequence[float]) -> Objective:
    """f(x) = ½ Σᵢ λᵢ xᵢ²: a quadratic whose eigen-modes are the coordinates (minimum 0 at the origin).

    On it gradient descent and momentum act on each coordinate separately — every rate is exact."""
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64)
    if lam.dim() != 1 or not bool((lam > 0).all()):
        raise ValueError(f"eigenvalues must be a 1-d sequence of positive numbers, got {eigenvalues!r}")

    def f(x: Tensor) -> Tensor:
        return 0.5 * (lam.to(x) * x * x).sum(-1)
    f.grad = lambda x: lam.to(x) * x
    return f


@checked(eigenvalues=finite_numbers, lr=finite_numbers, momentum=finite_numbers)
def mode_rates(eigenvalues, lr, momentum=0.0, nesterov: bool = False) -> Tensor:
    """The rate at which each eigen-mode of a quadratic shrinks per step, for gradient descent
    (``momentum`` 0), heavy-ball momentum in torch's form (b ← βb + g, x ← x − ηb) or, with
    ``nesterov``, torch's Nesterov form (x ← x − η(g + βb)).

    Mode λ carries (b, x); heavy ball: (bₖ₊₁, xₖ₊₁) = M (bₖ, xₖ) with M = [[β, λ], [−ηβ, 1 − ηλ]], whose
    characteristic polynomial is t² − (1 + β − ηλ)t + β; Nesterov: t² − (1 + β)(1 − ηλ)t + β(1 − ηλ).
    The error shrinks like ρᵏ (times a polynomial factor at a double root), ρ the larger |root|; for
    β = 0 both are |1 − ηλ|. ρ < 1 converges, ρ ≥ 1 does not. Complex roots (ringing) of the heavy
    ball have |t| = √β. ``eigenvalues``, ``lr`` and ``momentum`` broadcast.
    """
    lam, lr, beta = (torch.as_tensor(v, dtype=torch.float64) for v in (eigenvalues, lr, momentum))
    if bool((lr <= 0).any()) or bool((beta < 0).any()) or bool((beta >= 1).any()):
        raise ValueError("need lr > 0 and 0 <= momentum < 1")
    if nesterov:
        trace, det = (1 + beta) * (1 - lr * lam), beta * (1 - lr * lam)
    else:
        trace, det = 1 + beta - lr * lam, beta + 0 * lam * lr  # det broadcast like trace
    root = torch.sqrt((trace * trace - 4 * det).to(torch.complex128))
    return torch.maximum(((trace + root) / 2).abs(), ((trace - root) / 2).abs())


@checked(lam_min=positive, lam_max=positive)
def best_gd(lam_min: float, lam_max: float) -> tuple[float, float]:
    """Gradient descent's optimal step η = 2/(λ_min + λ_max) and its rate (κ − 1)/(κ + 1), κ = λ_max/λ_min:
    the step that makes the flattest and the steepest mode shrink equally fast."""
    if not 0 < lam_min <= lam_max:
        raise ValueError(f"need 0 < lam_min <= lam_max, got {lam_min}, {lam_max}")
    kappa = lam_max / lam_min
    return 2 / (lam_min + lam_max), (kappa - 1) / (kappa + 1)


@checked(lam_min=positive, lam_max=positive)
def best_momentum(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """Heavy-ball momentum's optimal (η, β, rate) on a quadratic with eigenvalues in [λ_min, λ_max]
    (Polyak 1964): η = (2/(√λ_min + √λ_max))², β = ((√κ − 1)/(√κ + 1))², rate (√κ − 1)/(√κ + 1) —
    the condition number enters through its square root."""
    if not 0 < lam_min <= lam_max:
        raise ValueError(f"need 0 < lam_min <= lam_max, got {lam_min}, {lam_max}")
    root = math.sqrt(lam_max / lam_min)
    rate = (root - 1) / (root + 1)
    return (2 / (math.sqrt(lam_min) + math.sqrt(lam_max))) ** 2, rate * rate, rate



@checked(lam_min=positive, lam_max=positive)
def best_nesterov(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """Nesterov momentum's optimal (η, β, rate) on a quadratic with eigenvalues in [λ_min, λ_max]
    (Lessard, Recht & Packard 2016): η = 4/(3λ_max + λ_min), β = (√(3κ + 1) − 2)/(√(3κ + 1) + 2),
    rate 1 − 2/√(3κ + 1). Slower than the heavy ball on quadratics — but Nesterov's rate of order
    1 − 1/√κ holds for every smooth strongly convex function, the heavy ball's does not."""
    if not 0 < lam_min <= lam_max:
        raise ValueError(f"need 0 < lam_min <= lam_max, got {lam_min}, {lam_max}")
    q = math.sqrt(3 * lam_max / lam_min + 1)
    return 4 / (3 * lam_max + lam_min), (q - 2) / (q + 2), 1 - 2 / q

# --- 2-D test functions --------------------------------------------------------------------------

def _xy(x: Tensor) -> tuple[Tensor, Tensor]:
    if x.shape[-1] != 2:
        raise ValueError(f"test functions take points of shape (..., 2), got {tuple(x.shape)}")
    return x[..., 0], x[..., 1]


@checked(shapes=dict(x="... 2"))
def rosenbrock(x: Tensor) -> Tensor:
    """(1 − x)² + 100 (y − x²)²: a curved narrow valley, minimum 0 at (1, 1)."""
    a, b = _xy(x)
    return (1 - a) ** 2 + 100 * (b - a**2) ** 2


@checked(shapes=dict(x="... 2"))
def beale(x: Tensor) -> Tensor:
    """(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²: minimum 0 at (3, 0.5)."""
    a, b = _xy(x)
    return (1.5 - a + a * b) ** 2 + (2.25 - a + a * b**2) ** 2 + (2.625 - a + a * b**3) ** 2


@checked(shapes=dict(x="... 2"))
def rastrigin(x: Tensor) -> Tensor:
    """20 + Σᵢ (xᵢ² − 10 cos 2πxᵢ): a bowl covered in local minima, global minimum 0 at the origin."""
    a, b = _xy(x)
    return 20 + a**2 - 10 * torch.cos(2 * math.pi * a) + b**2 - 10 * torch.cos(2 * math.pi * b)


@checked(shapes=dict(x="... 2"))
def branin(x: Tensor) -> Tensor:
    """Branin–Hoo on [−5, 10] × [0, 15]: three global minima with f* = 0.397887 (a BO benchmark)."""
    a, b = _xy(x)
    B, C, S, T = 5.1 / (4 * math.pi**2), 5 / math.pi, 10.0, 1 / (8 * math.pi)
    return (b - B * a**2 + C * a - 6) ** 2 + S * (1 - T) * torch.cos(a) + S


def _rosenbrock_grad(x: Tensor) -> Tensor:
    a, b = _xy(x)
    return torch.stack([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)], -1)


def _beale_grad(x: Tensor) -> Tensor:
    a, b = _xy(x)
    t1, t2, t3 = 1.5 - a + a * b, 2.25 - a + a * b**2, 2.625 - a + a * b**3
    return torch.stack([2 * (t1 * (b - 1) + t2 * (b**2 - 1) + t3 * (b**3 - 1)),
                        2 * a * (t1 + 2 * t2 * b + 3 * t3 * b**2)], -1)


def _rastrigin_grad(x: Tensor) -> Tensor:
    return 2 * x + 20 * math.pi * torch.sin(2 * math.pi * x)


# Closed-form gradients for the test functions: :func:`run` uses ``f.grad`` when it exists (about
# three times faster than a reverse-mode pass for a 2-d point); the tests check them against autograd.
rosenbrock.grad, beale.grad, rastrigin.grad = _rosenbrock_grad, _beale_grad, _rastrigin_grad

FUNCTIONS: dict[str, Objective] = {"rosenbrock": rosenbrock, "beale": beale, "rastrigin": rastrigin,
                                   "branin": branin}
MINIMA: dict[str, tuple[float, float]] = {"rosenbrock": (1.0, 1.0), "beale": (3.0, 0.5),
                                          "rastrigin": (0.0, 0.0), "branin": (math.pi, 2.275)}


# --- running an optimizer ------------------------------------------------------------------------

def _grad_and_hvp(f: Objective, x: Tensor,
                  generator: torch.Generator | None) -> tuple[Tensor, Tensor | None]:
    """∇f(x) by reverse mode (or ``f.grad(x)`` where f carries a closed form), and with a
    ``generator`` also one Hutchinson sample v ⊙ Hv (Rademacher v).

    Plain ``torch.autograd`` here, not ``torch.func.grad``: for a 2-D point the eager call costs about
    a tenth, and :func:`run` is a tight loop that a widget redraws.
    """
    if generator is None and hasattr(f, "grad"):
        return f.grad(x), None
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(f(x), x, create_graph=generator is not None)
        if generator is None:
            return g, None
        v = rademacher(tuple(x.shape), generator=generator, dtype=x.dtype, device=x.device)
        (hv,) = torch.autograd.grad(g, x, v)
    return g.detach(), v * hv


@checked(x0=tensor(1), steps=count, noise=number_or_each(nonnegative))
def run(optimizer: str | Rule, f: Objective, x0, steps: int, *, seed: int = 0,
        noise: float | Sequence[float] = 0.0, device: Device = "cpu", dtype: torch.dtype = torch.float64,
        **hyper) -> Tensor:
    """Iterate ``optimizer`` on ``f`` from ``x0`` for ``steps`` steps; returns the trajectory
    [steps + 1, dim]. Gradients come from reverse mode; for AdaHessian one Rademacher Hutchinson
    sample per step (seeded by ``seed``) supplies ``hess_diag``. ``noise`` (a number, or one per
    coordinate) adds noise·N(0, 1) to every gradient, seeded by ``seed``: a stand-in for the
    fluctuation of mini-batch gradients. A run that leaves the finite numbers
    stops there: the trajectory is then shorter and its last row is not finite. float64 by default
    (Apple's MPS has no float64: pass ``dtype=torch.float32`` there).
    """
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}: choose from {', '.join(OPTIMIZERS)}")
    rule = OPTIMIZERS[optimizer] if isinstance(optimizer, str) else optimizer
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    x = torch.as_tensor(x0, dtype=dtype).to(runtime.get_device(device))
    if x.dim() != 1:
        raise ValueError(f"x0 must be a 1-d point, got shape {tuple(x.shape)}")
    gen = torch.Generator().manual_seed(seed)
    scale = torch.as_tensor(noise, dtype=dtype).to(x.device)
    if scale.dim() > 1 or (scale.dim() == 1 and scale.shape != x.shape) or bool((scale < 0).any()):
        raise ValueError(f"noise must be >= 0, one number or one per coordinate, got {noise!r}")
    noisy = bool((scale > 0).any())
    state: State = {}
    path = [x]
    step = rule  # the first step checks the hyperparameters; later steps skip the checks
    for _ in range(steps):
        g, hv = _grad_and_hvp(f, x, gen if rule is adahessian else None)
        if hv is not None:
            hyper["hess_diag"] = hv
        if noisy:
            g = g + scale * torch.randn(x.shape, generator=gen, dtype=dtype).to(x.device)
        x, state = step(x, g, state, **hyper)
        step = inspect.unwrap(rule)
        path.append(x)
        if not torch.isfinite(x).all():
            break
    return torch.stack(path)


@checked(x0=tensor(1), steps=count, lr=learning_rate)
def torch_optim_path(optimizer_class: type[torch.optim.Optimizer], f: Objective, x0, steps: int, *,
                     dtype: torch.dtype = torch.float64, **hyper) -> Tensor:
    """The same run as :func:`run` with a ``torch.optim`` optimizer (e.g. ``torch.optim.Adam``) in
    place of a rule: the library twin every rule here is checked against. Trajectory [steps + 1, dim]."""
    p = torch.as_tensor(x0, dtype=dtype).clone().requires_grad_(True)
    opt = optimizer_class([p], **hyper)
    path = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        path.append(p.detach().clone())
    return torch.stack(path)


# --- implicit gradient regularization --------------------------------------------------------------

@checked(lr=learning_rate)
def modified_loss(f: Objective, lr: float) -> Objective:
    """Barrett & Dherin (2021), eq. 2: L̃(x) = L(x) + (η/4)‖∇L(x)‖², the loss whose gradient *flow*
    gradient descent with step η follows to second order in η."""
    def f_mod(x: Tensor) -> Tensor:
        (g,) = torch.autograd.grad(f(x), x, create_graph=True)
        return f(x) + lr / 4 * (g * g).sum()
    return f_mod


@checked(x0=tensor(1), time=nonnegative, substeps=size)
def gradient_flow(f: Objective, x0, time: float, substeps: int = 2000,
                  dtype: torch.dtype = torch.float64) -> Tensor:
    """The point x(T) of ẋ = −∇f(x), x(0) = x0, by classical Runge–Kutta with ``substeps`` steps."""
    x = torch.as_tensor(x0, dtype=dtype)
    h = time / substeps

    def v(y: Tensor) -> Tensor:
        return -_grad_and_hvp(f, y, None)[0]
    for _ in range(substeps):
        k1 = v(x)
        k2 = v(x + h / 2 * k1)
        k3 = v(x + h / 2 * k2)
        k4 = v(x + h * k3)
        x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


# --- the implicit bias of SGD noise: the scalar product u·v --------------------------------------

@checked(n=size, noise=nonnegative)
def scalar_regression(n: int = 32, *, noise: float = 0.5, seed: int = 0) -> tuple[Tensor, Tensor]:
    """n points x ~ N(0, 1), y = x + noise·ε (float64): data for the model f(x) = u·v·x."""
    if n < 2 or noise < 0:
        raise ValueError(f"need n >= 2 and noise >= 0, got n={n}, noise={noise}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, generator=gen, dtype=torch.float64)
    return x, x + noise * torch.randn(n, generator=gen, dtype=torch.float64)


@checked(start=each(real, 2), steps=count, lr=learning_rate, batch=size, shapes=dict(x="n", y="n"))
def product_path(x: Tensor, y: Tensor, start: tuple[float, float], steps: int, *, lr: float,
                 batch: int | None = None, seed: int = 0) -> Tensor:
    """(S)GD on L(u, v) = ½ mean_k (u v x_k − y_k)²; returns the path [steps + 1, 2] of (u, v).

    Every minimum lies on the hyperbola uv = c = Σxy/Σx², and the minima differ in sharpness
    (:func:`product_sharpness`). Both coordinates get the same scalar r = mean_B (uv x − y) x:
    u ← u − ηrv, v ← v − ηru, hence u² − v² is multiplied by exactly 1 − η²r² per step. Full-batch
    GD drives r to 0 and freezes the imbalance where it lands; with ``batch`` samples per step
    (drawn with replacement, seeded) r stays of the size of the label noise, and the imbalance —
    and with it the sharpness — keeps shrinking: SGD drifts along the valley to the flattest minimum
    u = v (Smith et al. 2021: SGD also minimizes the variance of the mini-batch gradients, which at a
    minimum is proportional to u² + v²).
    """
    if steps < 0 or not lr > 0 or (batch is not None and not 1 <= batch <= len(x)):
        raise ValueError(f"need steps >= 0, lr > 0 and 1 <= batch <= n, got {steps}, {lr}, {batch}")
    gen = torch.Generator().manual_seed(seed)
    u, v = float(start[0]), float(start[1])
    xs, ys = x.tolist(), y.tolist()
    if batch is None:
        sxx, sxy = float((x * x).mean()), float((x * y).mean())
    idx = torch.randint(len(x), (steps, batch or 1), generator=gen).tolist()
    path = [(u, v)]
    for t in range(steps):
        if batch is None:
            r = u * v * sxx - sxy
        else:
            r = sum((u * v * xs[k] - ys[k]) * xs[k] for k in idx[t]) / batch
        u, v = u - lr * r * v, v - lr * r * u
        path.append((u, v))
        if not (math.isfinite(u) and math.isfinite(v)):
            break
    return torch.tensor(path, dtype=torch.float64)


@checked(shapes=dict(path="... 2", x="n", y="n"))
def product_sharpness(path: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """The largest eigenvalue of the Hessian of L(u, v) = ½ mean (u v x − y)² at each row of ``path``.

    H = mean(x²) [v, u]ᵀ[v, u] + mean((uvx − y)x) [[0, 1], [1, 0]]; at a minimum the second term
    vanishes and the sharpness is mean(x²)(u² + v²), smallest (2c·mean(x²)) at u = v = √c."""
    u, v = path[..., 0], path[..., 1]
    sxx, sxy = (x * x).mean(), (x * y).mean()
    r = u * v * sxx - sxy
    H = torch.stack([torch.stack([sxx * v * v, sxx * u * v + r], -1),
                     torch.stack([sxx * u * v + r, sxx * u * u], -1)], -2)
    return torch.linalg.eigvalsh(H)[..., -1]



@checked(shapes=dict(path="... 2", x="n", y="n"))
def product_valley_sharpness(path: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """For each (u, v) of ``path``: the sharpness of the minimum with the same imbalance u² − v²,
    mean(x²)·√((u² − v²)² + 4c²), c = Σxy/Σx² — at a minimum uv = c, so (u² + v²)² = (u² − v²)² + 4c².

    Gradient steps move along u² − v² = const up to the factor 1 − η²r² per step, so this is the
    sharpness of the minimum the run is heading for; unlike the sharpness at the point itself it does
    not jitter with the mini-batch noise."""
    c = (x * y).sum() / (x * x).sum()
    imbalance = path[..., 0] ** 2 - path[..., 1] ** 2
    return (x * x).mean() * torch.sqrt(imbalance**2 + 4 * c**2)

# --- forward gradient --------------------------------------------------------------------------

@checked(same_shape=("x", "v"))
def forward_gradient(f: Objective, x: Tensor, v: Tensor) -> Tensor:
    """Baydin et al. (2022), eq. 3: g(x) = (∇f(x)·v) v. The directional derivative ∇f·v comes from
    one forward-mode jvp; for v ~ N(0, I), E[g] = E[vvᵀ]∇f = ∇f (unbiased)."""
    return jvp(f, (x,), (v,))[1] * v


@checked(samples=size)
def forward_gradients(f: Objective, x: Tensor, samples: int, *,
                      generator: torch.Generator | None = None) -> Tensor:
    """``samples`` independent forward gradients at x, one per row (tangents v ~ N(0, I) from the CPU)."""
    if samples < 1:
        raise ValueError(f"samples must be >= 1, got {samples}")
    V = torch.randn((samples, *x.shape), generator=generator, dtype=x.dtype).to(x.device)
    return vmap(lambda v: forward_gradient(f, x, v))(V)


@checked(x0=tensor(1), steps=count, lr=learning_rate, decay=nonnegative)
def forward_gradient_descent(f: Objective, x0, steps: int, *, lr: float, decay: float = 0.0,
                             seed: int = 0, dtype: torch.dtype = torch.float64,
                             device: Device = "cpu") -> Tensor:
    """Baydin et al. Alg. 1: x ← x − ηₜ (∇f·v) v with a fresh v ~ N(0, I) each step and
    ηₜ = η e^{−decay·t}; no backward pass at all. Returns the trajectory [steps + 1, dim]."""
    if steps < 0 or not lr > 0:
        raise ValueError(f"need steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
    x = torch.as_tensor(x0, dtype=dtype).to(runtime.get_device(device))
    gen = torch.Generator().manual_seed(seed)
    path = [x]
    for t in range(steps):
        v = torch.randn(x.shape, generator=gen, dtype=dtype).to(x.device)
        x = x - lr * math.exp(-decay * t) * forward_gradient(f, x, v)
        path.append(x)
    return torch.stack(path)


# --- direct feedback alignment -------------------------------------------------------------------

@checked(n_train=size, n_test=size, dim=size, classes=size, hidden=size)
def teacher_task(n_train: int = 2000, n_test: int = 2000, *, dim: int = 20, classes: int = 10,
                 hidden: int = 50, seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: Device = "cpu") -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Inputs x ~ N(0, I_dim); labels = argmax of a fixed random tanh teacher dim-hidden-classes.
    Returns x_train, y_train, x_test, y_test (labels are int64 class indices) on ``device``; sampled
    on the CPU. (float64 is unavailable on Apple's MPS: pass ``dtype=torch.float32`` there.)"""
    gen = torch.Generator().manual_seed(seed)
    W1 = torch.randn(hidden, dim, generator=gen, dtype=dtype) / math.sqrt(dim)
    W2 = torch.randn(classes, hidden, generator=gen, dtype=dtype) / math.sqrt(hidden)
    x = torch.randn(n_train + n_test, dim, generator=gen, dtype=dtype)
    y = (torch.tanh(x @ W1.T) @ W2.T).argmax(1)
    x, y = x.to(runtime.get_device(device)), y.to(runtime.get_device(device))
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


@checked(sizes=each(size))
def init_mlp(sizes: tuple[int, ...] = (20, 100, 100, 10), *, seed: int = 0,
             dtype: torch.dtype = torch.float64) -> list[Tensor]:
    """Weights [W₁, b₁, W₂, b₂, …] of a tanh MLP, W ~ U(±1/√fan_in) like ``nn.Linear``, biases 0."""
    gen = torch.Generator().manual_seed(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / math.sqrt(fan_in)
        params += [(torch.rand(fan_out, fan_in, generator=gen, dtype=dtype) * 2 - 1) * bound,
                   torch.zeros(fan_out, dtype=dtype)]
    return params


@checked(params=each(tensor()), shapes=dict(x="n i"))
def mlp_forward(params: list[Tensor], x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Pre-activations aₗ and activations hₗ (h₀ = x, hₗ = tanh aₗ; the last layer is linear logits)."""
    hs, pre = [x], []
    for i in range(0, len(params), 2):
        a = hs[-1] @ params[i].T + params[i + 1]
        pre.append(a)
        hs.append(torch.tanh(a) if i + 2 < len(params) else a)
    return pre, hs


@checked(sizes=each(size))
def feedback_matrices(sizes: tuple[int, ...], *, seed: int = 1,
                      dtype: torch.dtype = torch.float64) -> list[Tensor]:
    """DFA's fixed random feedback Bₗ (hidden_l × classes), one per hidden layer, entries N(0, 1/classes)."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(h, sizes[-1], generator=gen, dtype=dtype) / math.sqrt(sizes[-1])
            for h in sizes[1:-1]]


@checked(params=each(tensor()), y=tensor(1, integral=True), shapes=dict(x="n i", y="n"))
def layer_updates(params: list[Tensor], x: Tensor, y: Tensor,
                  feedback: list[Tensor] | None) -> list[Tensor]:
    """Descent directions for every weight and bias under cross-entropy.

    e = softmax(a_L) − onehot(y) is the output error. Backprop (``feedback=None``):
    δₗ = (Wₗ₊₁ᵀ δₗ₊₁) ⊙ tanh′(aₗ). DFA (Nøkland 2016, eq. 3): δₗ = (Bₗ e) ⊙ tanh′(aₗ) — no weight
    transport, and every layer can update as soon as e is known. Gradients are averaged over the batch.
    """
    pre, hs = mlp_forward(params, x)
    e = torch.softmax(pre[-1], 1) - torch.nn.functional.one_hot(y, pre[-1].shape[1]).to(x.dtype)
    deltas = [e]
    for l in range(len(pre) - 2, -1, -1):
        back = deltas[0] @ params[2 * l + 2] if feedback is None else e @ feedback[l].T
        deltas.insert(0, back * (1 - torch.tanh(pre[l]) ** 2))
    n = x.shape[0]
    out = []
    for l, d in enumerate(deltas):
        out += [d.T @ hs[l] / n, d.mean(0)]
    return out


@checked(params=each(tensor()), y=tensor(1, integral=True), shapes=dict(x="n i", y="n"))
def accuracy(params: list[Tensor], x: Tensor, y: Tensor) -> float:
    """Fraction of inputs whose largest logit is the label."""
    return float((mlp_forward(params, x)[0][-1].argmax(1) == y).to(torch.float64).mean())


def _cosine(a: list[Tensor], b: list[Tensor]) -> float:
    """Cosine between two lists of tensors, flattened and concatenated."""
    fa, fb = torch.cat([t.flatten() for t in a]), torch.cat([t.flatten() for t in b])
    return float(fa @ fb / (fa.norm() * fb.norm()))


@checked(y=tensor(1, integral=True), y_test=tensor(1, integral=True), method=one_of("backprop", "dfa"),
         sizes=each(size), epochs=count, batch=size, lr=learning_rate,
         shapes=dict(x="n i", y="n", x_test="m i", y_test="m"))
def train_mlp(x: Tensor, y: Tensor, x_test: Tensor, y_test: Tensor, *, method: str = "backprop",
              sizes: tuple[int, ...] = (20, 100, 100, 10), epochs: int = 30, batch: int = 50,
              lr: float = 0.1, seed: int = 0) -> dict[str, list[float]]:
    """Mini-batch SGD on cross-entropy with backprop or DFA (same init, same batches).

    Returns per-epoch ``test_acc`` and ``alignment``: the cosine between the hidden layers' update
    (DFA's or backprop's) and the true gradient of those layers, measured on the full training set —
    starts near 0 for DFA because Bₗ is random, rises as the forward weights learn to align with it.
    """
    if method not in ("backprop", "dfa"):
        raise ValueError(f"method must be 'backprop' or 'dfa', got {method!r}")
    if x.shape[1] != sizes[0]:
        raise ValueError(f"inputs have {x.shape[1]} features, the network expects {sizes[0]}")
    params = [t.to(x.device) for t in init_mlp(sizes, seed=seed, dtype=x.dtype)]
    feedback = ([t.to(x.device) for t in feedback_matrices(sizes, seed=seed + 1, dtype=x.dtype)]
                if method == "dfa" else None)
    gen = torch.Generator().manual_seed(seed)
    hidden = slice(0, len(params) - 2)

    def alignment() -> float:
        return _cosine(layer_updates(params, x, y, feedback)[hidden], layer_updates(params, x, y, None)[hidden])

    history = {"test_acc": [accuracy(params, x_test, y_test)], "alignment": [alignment()]}
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=gen).to(x.device)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            params = [p - lr * u for p, u in zip(params, layer_updates(params, x[idx], y[idx], feedback))]
        history["test_acc"].append(accuracy(params, x_test, y_test))
        history["alignment"].append(alignment())
    return history


@checked(lr=learning_rate, momentum=fraction, sizes=each(size), batch=size,
          shapes=dict(x="n d", y="n", x_val="m d", y_val="m"))
def sgd_epochs(x: Tensor, y: Tensor, x_val: Tensor, y_val: Tensor, *, lr: float, momentum: float = 0.0,
               sizes: tuple[int, ...] = (20, 100, 100, 10), batch: int = 50, seed: int = 0):
    """Train a tanh MLP by mini-batch SGD with heavy-ball momentum (torch's form) on cross-entropy,
    backprop gradients; after every epoch yield the validation accuracy. An endless generator: the
    caller decides how many epochs to take — which is what a pruner needs (report after each epoch,
    stop a trial that is going nowhere). A diverged run yields accuracy 0 from then on."""
    if not lr > 0 or not 0 <= momentum < 1:
        raise ValueError(f"need lr > 0 and 0 <= momentum < 1, got lr={lr}, momentum={momentum}")
    params = [t.to(x.device) for t in init_mlp(sizes, seed=seed, dtype=x.dtype)]
    buffers = [torch.zeros_like(t) for t in params]
    gen = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(len(x), generator=gen).to(x.device)
        for i in range(0, len(x), batch):
            idx = order[i:i + batch]
            grads = layer_updates(params, x[idx], y[idx], None)
            buffers = [momentum * b + g for b, g in zip(buffers, grads)]
            params = [p - lr * b for p, b in zip(params, buffers)]
        finite = all(bool(torch.isfinite(t).all()) for t in params)
        yield accuracy(params, x_val, y_val) if finite else 0.0

# --- a learned optimizer (Andrychowicz et al. 2016) ----------------------------------------------

DATA_DIR = Path(__file__).parent / "data"
L2O_CHECKPOINT = DATA_DIR / "l2o_lstm.pt"
L2O_REFERENCE = dict(iterations=200, batch=32, dim=10, unroll=20, horizon=100, meta_lr=3e-3, seed=0)
"""The setup of the committed checkpoint: coordinate-wise 2×20 LSTM, random 10-d quadratics
‖Wθ − y‖², truncated backprop through 5 unrolls of 20 steps (≈ 1 min of CPU)."""


@checked(n=size, dim=size)
def random_quadratics(n: int, dim: int = 10, *, generator: torch.Generator | None = None,
                      device: Device = "cpu") -> tuple[Tensor, Tensor, Tensor]:
    """n optimizees f(θ) = ‖Wθ − y‖² with W, y and the start θ₀ all standard normal (paper Sect. 3.1).
    Returns W [n, dim, dim], y [n, dim], θ₀ [n, dim] (float32, sampled on the CPU)."""
    if n < 1 or dim < 1:
        raise ValueError(f"need n >= 1 and dim >= 1, got n={n}, dim={dim}")
    W = torch.randn(n, dim, dim, generator=generator)
    y = torch.randn(n, dim, generator=generator)
    theta = torch.randn(n, dim, generator=generator)
    dev = runtime.get_device(device)
    return W.to(dev), y.to(dev), theta.to(dev)


@checked(shapes=dict(W="n d d", y="n d", theta="n d"))
def quadratic_loss(W: Tensor, y: Tensor, theta: Tensor) -> Tensor:
    """‖Wθ − y‖² for each function of the batch: [n]."""
    r = torch.einsum("nij,nj->ni", W, theta) - y
    return (r * r).sum(-1)


@checked(shapes=dict(W="n d d", y="n d", theta="n d"))
def quadratic_grad(W: Tensor, y: Tensor, theta: Tensor) -> Tensor:
    """∇θ ‖Wθ − y‖² = 2Wᵀ(Wθ − y), in closed form."""
    return 2 * torch.einsum("nji,nj->ni", W, torch.einsum("nij,nj->ni", W, theta) - y)


@checked(hidden=size, layers=size, p=positive)
class LSTMOptimizer(torch.nn.Module):
    """m(∇, h; φ): a 2-layer LSTM with 20 units shared by every coordinate (paper Sect. 2.1).

    The gradient of each coordinate is preprocessed as in the paper's App. A,
    (log|g|/p, sign g) if |g| ≥ e^{−p} else (−1, eᵖ g) with p = 10, and the update is 0.1 × a linear
    read-out of the top layer.
    """

    def __init__(self, hidden: int = 20, layers: int = 2, p: float = 10.0) -> None:
        super().__init__()
        self.p = p
        self.lstm = torch.nn.LSTM(2, hidden, num_layers=layers)
        self.out = torch.nn.Linear(hidden, 1)

    def preprocess(self, g: Tensor) -> Tensor:
        big = g.abs() >= math.exp(-self.p)
        first = torch.where(big, torch.log(g.abs().clamp_min(1e-30)) / self.p, -torch.ones_like(g))
        second = torch.where(big, torch.sign(g), math.exp(self.p) * g)
        return torch.stack([first, second], -1)

    def forward(self, g: Tensor, state: tuple[Tensor, Tensor] | None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """g of any shape → update of the same shape; every entry is one coordinate in the LSTM's batch."""
        h, state = self.lstm(self.preprocess(g.reshape(1, -1)), state)
        return 0.1 * self.out(h[0]).reshape(g.shape), state


@checked(steps=count, shapes=dict(W="n d d", y="n d", theta="n d"))
def l2o_losses(model: LSTMOptimizer, W: Tensor, y: Tensor, theta: Tensor, steps: int) -> Tensor:
    """Run the learned optimizer for ``steps`` steps on every function; losses [steps + 1, n]."""
    losses, state = [quadratic_loss(W, y, theta)], None
    with torch.no_grad():
        for _ in range(steps):
            update, state = model(quadratic_grad(W, y, theta), state)
            theta = theta + update
            losses.append(quadratic_loss(W, y, theta))
    return torch.stack(losses)


@checked(lr=learning_rate, steps=count, momentum=nonnegative, shapes=dict(W="n d d", y="n d", theta="n d"))
def sgd_losses(lr: float, W: Tensor, y: Tensor, theta: Tensor, steps: int, momentum: float = 0.0) -> Tensor:
    """Gradient descent with rate ``lr`` — heavy-ball with ``momentum`` β > 0 (torch's form:
    b ← βb + g, θ ← θ − ηb) — on every function; losses [steps + 1, n]."""
    losses = [quadratic_loss(W, y, theta)]
    b = torch.zeros_like(theta)
    for _ in range(steps):
        b = momentum * b + quadratic_grad(W, y, theta)
        theta = theta - lr * b
        losses.append(quadratic_loss(W, y, theta))
    return torch.stack(losses)


def _final_mean_losses(lrs: Tensor, momenta: Tensor, W: Tensor, y: Tensor, theta: Tensor,
                       steps: int) -> Tensor:
    """Mean loss after ``steps`` of heavy-ball (torch's form) for every pair (lrs[c], momenta[c]), all
    configurations in one batch: [C]. NaN or inf where a configuration diverged."""
    lr, beta = lrs.to(theta), momenta.to(theta)  # [C]; configurations live in the last dimension
    th = theta[:, :, None].expand(*theta.shape, len(lrs)).clone()  # [n, d, C]
    b, Wt, y = torch.zeros_like(th), W.mT.contiguous(), y[:, :, None]
    with torch.no_grad():
        for _ in range(steps):
            b = beta * b + 2 * torch.bmm(Wt, torch.bmm(W, th) - y)
            th = th - lr * b
        r = torch.bmm(W, th) - y
    return (r * r).sum(1).mean(0)


@checked(steps=count, lrs=tensor(1, lo=0, lo_open=True),
         shapes=dict(W="n d d", y="n d", theta="n d", lrs="k"))
def tune_sgd(W: Tensor, y: Tensor, theta: Tensor, steps: int = 100,
             lrs: Tensor | None = None) -> tuple[float, float]:
    """The learning rate (from a log grid 1e-4 … 1, 41 values) with the lowest mean loss after
    ``steps``; returns (lr, that mean loss). Diverging rates count as +inf."""
    lrs = torch.logspace(-4, 0, 41, dtype=torch.float64) if lrs is None else lrs
    means = torch.nan_to_num(_final_mean_losses(lrs, torch.zeros_like(lrs), W, y, theta, steps), nan=math.inf)
    best = int(torch.argmin(means))
    return float(lrs[best]), float(means[best])


@checked(steps=count, lrs=tensor(1, lo=0, lo_open=True), momenta=each(fraction),
          shapes=dict(W="n d d", y="n d", theta="n d", lrs="k"))
@checked(steps=count, shapes=dict(W="n d d", y="n d", theta="n d"))
def tune_momentum(W: Tensor, y: Tensor, theta: Tensor, steps: int = 100, lrs: Tensor | None = None,
                  momenta: Sequence[float] = (0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98)) -> tuple[float, float, float]:
    """The heavy-ball (learning rate, β) with the lowest mean loss after ``steps``: every β of
    ``momenta`` with every rate of the log grid 1e-4 … 1 (41 values); returns (lr, β, that mean loss).
    The baseline a learned optimizer has to beat: two tuned numbers instead of one."""
    lrs = torch.logspace(-4, 0, 41, dtype=torch.float64) if lrs is None else lrs
    grid_lr = lrs.repeat(len(momenta))
    grid_beta = torch.as_tensor(momenta, dtype=torch.float64).repeat_interleave(len(lrs))
    means = torch.nan_to_num(_final_mean_losses(grid_lr, grid_beta, W, y, theta, steps), nan=math.inf)
    best = int(torch.argmin(means))
    return float(grid_lr[best]), float(grid_beta[best]), float(means[best])


@checked(iterations=count, batch=size, dim=size, unroll=size, horizon=size, meta_lr=positive)
def meta_train_l2o(iterations: int = 300, *, batch: int = 128, dim: int = 10, unroll: int = 20,
                   horizon: int = 100, meta_lr: float = 3e-3, seed: int = 0, device: Device = "cpu",
                   progress=False) -> LSTMOptimizer:
    """Meta-train φ (paper eq. 1–2): for each new batch of functions, run ``horizon`` steps in
    truncations of ``unroll``; after each truncation minimize Σₜ f(θₜ) over its steps by Adam on φ,
    then cut the graph. The input gradient is treated as a constant (the paper drops ∇²f)."""
    if horizon % unroll:
        raise ValueError(f"horizon ({horizon}) must be a multiple of unroll ({unroll})")
    dev = runtime.get_device(device)
    torch.manual_seed(seed)
    model = LSTMOptimizer().to(dev)
    meta_opt = torch.optim.Adam(model.parameters(), lr=meta_lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in runtime.track(range(iterations), progress, desc="meta-training"):
        W, y, theta = random_quadratics(batch, dim, generator=gen, device=dev)
        state = None
        for _ in range(horizon // unroll):
            meta_loss = torch.zeros((), device=dev)
            for _ in range(unroll):
                update, state = model(quadratic_grad(W, y, theta).detach(), state)
                theta = theta + update
                meta_loss = meta_loss + quadratic_loss(W, y, theta).mean()
            meta_opt.zero_grad()
            (meta_loss / unroll).backward()
            meta_opt.step()
            theta, state = theta.detach(), tuple(s.detach() for s in state)
    return model.cpu()


@checked
def load_l2o(path: Path | str = L2O_CHECKPOINT, *, recompute: bool = False, **train) -> LSTMOptimizer:
    """The learned optimizer from ``path``; with ``recompute`` (or a missing file) meta-train it with
    ``L2O_REFERENCE`` updated by ``train`` and save it there (state dict, float32)."""
    path = Path(path)
    if recompute or not path.exists():
        model = meta_train_l2o(**{**L2O_REFERENCE, **train})
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), path)
        return model
    model = LSTMOptimizer()
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model
