"""Hypernetworks: a network G(λ; φ) that outputs the weights of another network.

A hypernetwork is a map G : Λ × R^u → R^n from a metaparameter λ (and its own parameters φ ∈ R^u) to
the n weights of a target model (Ha, Dai & Le 2016, "HyperNetworks"). Four uses, one per section:

1. **Best response** (Lorraine & Duvenaud 2018, "Stochastic Hyperparameter Optimization through
   Hypernetworks"): train ŵ_φ(λ) ≈ w*(λ) = argmin_w L_train(w, λ) for λ ~ p(λ), then tune λ by gradient
   descent on L_val(ŵ_φ(λ)). Ridge regression has the exact w*(λ) in closed form to compare with.
2. **Self-Tuning Networks** (MacKay, Vicol et al. 2019): the compact layer
   Ŵ(λ) = W_elem + (Vλ) ⊙_row W_hyper, a *local* best response trained around the current λ with a
   perturbation of width σ, alternating with λ and σ updates (with an entropy bonus τ H[p(ε | σ)]).
3. **Pareto HyperNetworks** (Navon et al. 2021): a preference ray r ↦ the weights of a Pareto-optimal
   model, on the toy problem of Lin et al. (2019); linear scalarization vs a ray-targeting
   (Chebyshev) scalarization, judged by the hypervolume; and EPO search (Mahapatra & Rajan 2020),
   the ray-targeting method of the PHN paper, for one model and one ray.
4. **Continual learning** (von Oswald et al. 2020): a task embedding e_t ↦ the weights for task t;
   an output regularizer β keeps the hypernet's outputs for old embeddings fixed.

Ridge code runs in float64 (exact comparisons; float64 is unavailable on Apple's MPS: pass
``device="cpu"`` there); the Pareto and continual-learning hypernets run in float32.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from scipy.optimize import linprog
from torch import Tensor, nn

from mlcourse import runtime
from mlcourse.runtime import Device
from mlcourse.inputs import checked, count, each, nonnegative, one_of, positive, size, tensor

Problem = tuple[Tensor, Tensor, Tensor, Tensor]  # X [n, d], y [n], Xval [m, d], yval [m]
DATA_DIR = Path(__file__).parent / "data"


# --- 1. ridge regression: the exact best response ------------------------------------------------

@checked(noise=nonnegative)
def ridge_problem(n: int = 20, d: int = 50, noise: float = 1.0, seed: int = 0, *, n_val: int = 20,
                  device: Device = None) -> Problem:
    """An over-parameterised linear regression (d > n) whose best ridge penalty must be tuned.

    True weights w_true ~ N(0, I/d); inputs X ~ N(0, I) (n training and ``n_val`` validation rows,
    drawn together); y = X w_true + noise · ε. Drawn with NumPy's ``default_rng(seed)`` so the data
    is the same on every device; returned as float64 tensors (X, y, Xval, yval) on ``device``.
    """
    if n < 1 or d < 1 or n_val < 1:
        raise ValueError(f"n, d and n_val must be >= 1, got n={n}, d={d}, n_val={n_val}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    w_true = rng.standard_normal(d) / math.sqrt(d)
    inputs = rng.standard_normal((n + n_val, d))
    targets = inputs @ w_true + noise * rng.standard_normal(n + n_val)
    t = lambda a: torch.as_tensor(a, dtype=torch.float64, device=runtime.get_device(device))  # noqa: E731
    return t(inputs[:n]), t(targets[:n]), t(inputs[n:]), t(targets[n:])


def _check_data(X: Tensor, y: Tensor) -> None:
    if X.dim() != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be [n, d] and y [n], got {tuple(X.shape)} and {tuple(y.shape)}")


@checked
def train_loss(X: Tensor, y: Tensor, w: Tensor, log_lam: Tensor | float) -> Tensor:
    """L_train(w, λ) = mean((Xw − y)²) + e^λ ‖w‖², batched: w [..., d], log_lam [...] → [...]."""
    _check_data(X, y)
    log_lam = torch.as_tensor(log_lam, dtype=w.dtype, device=w.device)
    return validation_loss(X, y, w) + log_lam.exp() * w.pow(2).sum(-1)


@checked(shapes=dict(Xval="m _", yval="m"))
def validation_loss(Xval: Tensor, yval: Tensor, w: Tensor) -> Tensor:
    """L_val(w) = mean((Xval w − yval)²), batched over the leading dimensions of w [..., d]."""
    _check_data(Xval, yval)
    if w.shape[-1] != Xval.shape[1]:
        raise ValueError(f"w must end in d={Xval.shape[1]}, got shape {tuple(w.shape)}")
    return (w @ Xval.T - yval).pow(2).mean(-1)


@checked
def best_response(X: Tensor, y: Tensor, log_lam: Tensor | float) -> Tensor:
    """The exact best response w*(λ) = argmin_w L_train(w, λ) = (XᵀX/n + e^λ I)⁻¹ Xᵀy/n.

    ``log_lam`` is a scalar (→ [d]) or a tensor of any shape (→ [..., d]); differentiable in λ, so
    dw*/dλ (what a hypernetwork must learn locally) comes from autograd.
    """
    _check_data(X, y)
    n, d = X.shape
    log_lam = torch.as_tensor(log_lam, dtype=X.dtype, device=X.device)
    gram, rhs = X.T @ X / n, X.T @ y / n
    eye = torch.eye(d, dtype=X.dtype, device=X.device)
    system = gram + log_lam.exp()[..., None, None] * eye
    return torch.linalg.solve(system, rhs.expand(*log_lam.shape, d))


@checked
def implicit_jacobian(X: Tensor, y: Tensor, log_lam: float) -> Tensor:
    """dw*/dλ by the implicit function theorem: ∂L/∂w = 0 at w* ⇒
    dw*/dλ = −(∂²L/∂w²)⁻¹ ∂²L/∂λ∂w = −(XᵀX/n + e^λ I)⁻¹ e^λ w*(λ)  → [d]."""
    _check_data(X, y)
    n, d = X.shape
    w = best_response(X, y, log_lam)
    lam = math.exp(log_lam)
    hessian_half = X.T @ X / n + lam * torch.eye(d, dtype=X.dtype, device=X.device)
    return -torch.linalg.solve(hessian_half, lam * w)


@checked(problem=each(tensor(), 4), log_lams=tensor(1))
def validation_curve(problem: Problem, log_lams: Tensor,
                     hypernet: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    """L_val at each λ of ``log_lams`` [k] for the exact best response, or for the weights
    ``hypernet(log_lams)`` [k, d] when a hypernetwork is given. Returns [k] (no gradient)."""
    X, y, Xval, yval = problem
    log_lams = torch.as_tensor(log_lams, dtype=X.dtype, device=X.device)
    if log_lams.dim() != 1:
        raise ValueError(f"log_lams must be 1-d, got shape {tuple(log_lams.shape)}")
    with torch.no_grad():
        w = best_response(X, y, log_lams) if hypernet is None else hypernet(log_lams)
        return validation_loss(Xval, yval, w)


@checked(d=size, hidden=size)
class Hypernet(nn.Module):
    """ŵ_φ(λ): an MLP from a scalar λ (rescaled from ``lam_range`` to [−1, 1]) to d weights."""

    def __init__(self, d: int, lam_range: tuple[float, float] = (-8.0, 4.0), hidden: int = 64) -> None:
        super().__init__()
        lo, hi = lam_range
        if not lo < hi:
            raise ValueError(f"lam_range must be (low, high) with low < high, got {lam_range}")
        self.center, self.scale = (lo + hi) / 2, (hi - lo) / 2
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, d))
        nn.init.zeros_(self.net[-1].weight)  # start at ŵ = 0: the training gradient then keeps ŵ in
        nn.init.zeros_(self.net[-1].bias)    # the row space of X, as the exact w*(λ) is (d > n)

    def forward(self, log_lam: Tensor) -> Tensor:
        """λ [...] → ŵ_φ(λ) [..., d]."""
        u = (log_lam[..., None] - self.center) / self.scale
        return self.net(u)


@checked(problem=each(tensor(), 4), steps=size, batch=size, lr=positive, hidden=size)
def train_global_hypernet(problem: Problem, lam_range: tuple[float, float] = (-8.0, 4.0), *,
                          steps: int = 2000, batch: int = 64, lr: float = 3e-3, hidden: int = 64,
                          seed: int = 0, progress: bool | Callable = False) -> Hypernet:
    """Global best-response approximation (Lorraine & Duvenaud 2018), the first of its two loops:

        min_φ  E_{λ ~ U(lam_range)} L_train(ŵ_φ(λ), λ),

    by Adam on ``batch`` fresh λ's per step (every step sees the full training set). Returns the
    trained :class:`Hypernet` (float64, on the problem's device)."""
    X, y, _, _ = problem
    if steps < 1 or batch < 1:
        raise ValueError(f"steps and batch must be >= 1, got {steps} and {batch}")
    torch.manual_seed(seed)
    net = Hypernet(X.shape[1], lam_range, hidden).to(dtype=X.dtype, device=X.device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    lo, hi = lam_range
    for _ in runtime.track(range(steps), progress, desc="hypernet"):
        lams = (lo + (hi - lo) * torch.rand(batch, generator=gen, dtype=X.dtype)).to(X.device)
        loss = train_loss(X, y, net(lams), lams).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


@checked(problem=each(tensor(), 4), steps=count, lr=positive)
def tune_lambda(hypernet: Callable[[Tensor], Tensor], problem: Problem, log_lam0: float, *,
                steps: int = 100, lr: float = 0.1) -> Tensor:
    """The second loop of the global algorithm: gradient descent on λ ↦ L_val(ŵ_φ(λ)) through the
    trained hypernet (φ fixed). Returns the trajectory of λ̂, shape [steps + 1]."""
    X, _, Xval, yval = problem
    lam = torch.tensor(float(log_lam0), dtype=X.dtype, device=X.device, requires_grad=True)
    opt = torch.optim.Adam([lam], lr=lr)
    path = [lam.item()]
    for _ in range(steps):
        loss = validation_loss(Xval, yval, hypernet(lam))
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(lam.item())
    return torch.tensor(path)


@checked(problem=each(tensor(), 4))
def exact_hypergradient(problem: Problem, log_lam: float) -> float:
    """d/dλ L_val(w*(λ)): the hypergradient through the exact best response (autograd)."""
    X, y, Xval, yval = problem
    lam = torch.tensor(float(log_lam), dtype=X.dtype, device=X.device, requires_grad=True)
    (g,) = torch.autograd.grad(validation_loss(Xval, yval, best_response(X, y, lam)), lam)
    return g.item()


@checked(problem=each(tensor(), 4))
def approx_hypergradient(hypernet: Callable[[Tensor], Tensor], problem: Problem, log_lam: float) -> float:
    """d/dλ L_val(ŵ_φ(λ)): the hypergradient a hypernet supplies (what λ is updated with)."""
    X, _, Xval, yval = problem
    lam = torch.tensor(float(log_lam), dtype=X.dtype, device=X.device, requires_grad=True)
    (g,) = torch.autograd.grad(validation_loss(Xval, yval, hypernet(lam)), lam)
    return g.item()


# --- 2. Self-Tuning Networks: the compact layer and the local best response ----------------------

@checked
class STNLinear(nn.Module):
    """The STN layer (MacKay et al. 2019, Sect. 4.2): a linear layer whose weights depend on λ ∈ R^h,

        Ŵ(λ) = W_elem + (Vλ) ⊙_row W_hyper,     b̂(λ) = b_elem + (Cλ) ⊙ b_hyper,

    where (Vλ) ∈ R^out scales each *row* of W_hyper. Computed on pre-activations,
    Ŵ(λ)x + b̂(λ) = [W_elem x + b_elem] + (Vλ) ⊙ (W_hyper x) + (Cλ) ⊙ b_hyper, so each example of a
    batch may carry its own λ, at about twice the parameters of an ordinary layer.
    """

    def __init__(self, in_features: int, out_features: int, n_hyper: int, bias: bool = True) -> None:
        super().__init__()
        if min(in_features, out_features, n_hyper) < 1:
            raise ValueError(f"sizes must be >= 1, got in_features={in_features}, "
                             f"out_features={out_features}, n_hyper={n_hyper}")
        self.n_hyper = n_hyper
        self.elem = nn.Linear(in_features, out_features, bias=bias)
        self.hyper = nn.Linear(in_features, out_features, bias=bias)
        self.V = nn.Parameter(torch.randn(out_features, n_hyper) / math.sqrt(n_hyper))
        self.C = nn.Parameter(torch.randn(out_features, n_hyper) / math.sqrt(n_hyper)) if bias else None

    def _lam(self, lam: Tensor) -> Tensor:
        lam = torch.as_tensor(lam, dtype=self.V.dtype, device=self.V.device)
        if lam.dim() == 0 and self.n_hyper == 1:
            lam = lam[None]
        if lam.shape[-1] != self.n_hyper:
            raise ValueError(f"λ must end in n_hyper={self.n_hyper}, got shape {tuple(lam.shape)}")
        return lam

    def weight(self, lam: Tensor) -> Tensor:
        """Ŵ(λ) for one λ [n_hyper] → [out, in] (the explicit matrix of the formula)."""
        lam = self._lam(lam)
        return self.elem.weight + (self.V @ lam)[:, None] * self.hyper.weight

    def bias(self, lam: Tensor) -> Tensor | None:
        """b̂(λ) for one λ [n_hyper] → [out] (None for a layer without bias)."""
        if self.C is None:
            return None
        return self.elem.bias + (self.C @ self._lam(lam)) * self.hyper.bias

    def forward(self, x: Tensor, lam: Tensor) -> Tensor:
        """x [B, in], λ [n_hyper] (shared) or [B, n_hyper] (one per example) → [B, out]."""
        lam = self._lam(lam)
        out = self.elem(x) + (lam @ self.V.T) * (x @ self.hyper.weight.T)
        if self.C is not None:
            out = out + (lam @ self.C.T) * self.hyper.bias
        return out


@checked(d=size)
def ridge_stn(d: int, seed: int = 0, device: Device = None) -> STNLinear:
    """A one-output, bias-free STN layer for ridge: ŵ(λ) = w_elem + (vλ) w_hyper, an affine function
    of λ (the local best-response model). W_elem and W_hyper start at zero (ŵ = 0, in the row space
    of X like w*); v is random."""
    torch.manual_seed(seed)
    layer = STNLinear(d, 1, 1, bias=False).to(dtype=torch.float64, device=runtime.get_device(device))
    with torch.no_grad():
        layer.elem.weight.zero_()
        layer.hyper.weight.zero_()
    return layer


@checked(log_lams=tensor((0, 1)))
def stn_weights(layer: STNLinear, log_lams: Tensor) -> Tensor:
    """ŵ(λ) [k, d] of a one-output STN layer at each λ of ``log_lams`` [k] (for plots and losses)."""
    lam = torch.as_tensor(log_lams, dtype=layer.V.dtype, device=layer.V.device)[..., None]
    return layer.elem.weight[0] + (lam @ layer.V.T) * layer.hyper.weight[0]


@checked(problem=each(tensor(), 4), sigma=positive, steps=count, batch=size, lr=positive)
def train_local_hypernet(problem: Problem, center: float, sigma: float, *, steps: int = 600,
                         batch: int = 32, lr: float = 0.02, seed: int = 0) -> STNLinear:
    """Local best response (MacKay et al. 2019): fit the affine STN ŵ_φ(λ) on λ = center + σε,
    ε ~ N(0, 1), by min_φ E_ε L_train(ŵ_φ(center + σε), center + σε).

    σ too small: ŵ matches w* at the centre but its slope is hardly trained; σ too wide: a line
    cannot follow the curved w*(λ) and the slope is a secant; in between the slope, and with it the
    hypergradient, matches dw*/dλ."""
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    X, y, _, _ = problem
    layer = ridge_stn(X.shape[1], seed=seed, device=X.device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(layer.parameters(), lr=lr)
    for _ in range(steps):
        lams = center + sigma * torch.randn(batch, generator=gen, dtype=X.dtype).to(X.device)
        loss = train_loss(X, y, stn_weights(layer, lams), lams).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return layer


@checked(sigma=tensor(lo=0, lo_open=True))
def gaussian_entropy(sigma: Tensor) -> Tensor:
    """H[N(0, σ²)] = log σ + ½ log(2πe): the entropy bonus that stops σ from collapsing to 0."""
    return sigma.log() + 0.5 * math.log(2 * math.pi * math.e)


@checked(problem=each(tensor(), 4), sigma0=positive, tau=nonnegative, rounds=count, t_train=count,
         t_val=count, lr_phi=positive, lr_hyper=positive)
def stn_search(problem: Problem, log_lam0: float = -4.0, sigma0: float = 0.5, *, tau: float = 1e-3,
               rounds: int = 300, t_train: int = 5, t_val: int = 1, lr_phi: float = 0.02,
               lr_hyper: float = 0.05, seed: int = 0) -> dict[str, Tensor]:
    """The STN algorithm (MacKay et al. 2019, Alg. 1) on ridge, with the affine STN layer:

        repeat: T_train steps  φ ← φ − α₁ ∂_φ L_train(ŵ_φ(λ + ε), λ + ε),            ε ~ N(0, σ²)
                T_val steps    (λ, σ) ← (λ, σ) − α₂ ∂ [L_val(ŵ_φ(λ + ε)) − τ H[N(0, σ²)]]

    (ε = σz reparameterised, so the validation loss has a gradient in σ; σ is kept positive through
    log σ). Returns {"log_lam": [rounds + 1], "sigma": [rounds + 1]}."""
    X, y, Xval, yval = problem
    layer = ridge_stn(X.shape[1], seed=seed, device=X.device)
    lam = torch.tensor(float(log_lam0), dtype=X.dtype, device=X.device, requires_grad=True)
    log_sigma = torch.tensor(math.log(sigma0), dtype=X.dtype, device=X.device, requires_grad=True)
    gen = torch.Generator().manual_seed(seed)
    opt_phi = torch.optim.Adam(layer.parameters(), lr=lr_phi)
    opt_hyper = torch.optim.Adam([lam, log_sigma], lr=lr_hyper)
    noise = lambda k: torch.randn(k, generator=gen, dtype=X.dtype).to(X.device)  # noqa: E731
    history = {"log_lam": [lam.item()], "sigma": [log_sigma.exp().item()]}
    for _ in range(rounds):
        for _ in range(t_train):
            lams = (lam + log_sigma.exp() * noise(16)).detach()
            loss = train_loss(X, y, stn_weights(layer, lams), lams).mean()
            opt_phi.zero_grad()
            loss.backward()
            opt_phi.step()
        for _ in range(t_val):
            lams = lam + log_sigma.exp() * noise(16)
            objective = (validation_loss(Xval, yval, stn_weights(layer, lams)).mean()
                         - tau * gaussian_entropy(log_sigma.exp()))
            opt_hyper.zero_grad()
            objective.backward()
            opt_hyper.step()
        history["log_lam"].append(lam.item())
        history["sigma"].append(log_sigma.exp().item())
    return {k: torch.tensor(v) for k, v in history.items()}


# --- 3. Pareto HyperNetworks on the toy problem of Lin et al. (2019) -------------------------------

PARETO_DIM = 20


@checked
def pareto_toy_losses(x: Tensor) -> Tensor:
    """f₁ = 1 − exp(−‖x − 1/√d‖²), f₂ = 1 − exp(−‖x + 1/√d‖²) (Lin et al. 2019), x [..., d] → [..., 2].

    The Pareto set is the segment x = t·1/√d, t ∈ [−1, 1]; the front is concave (bulges towards
    the reference point (1, 1)) for |t| < 1/√2 and convex beyond (:func:`front_inflection`), so
    linear scalarization only reaches the two convex pieces at its ends."""
    if x.dim() < 1:
        raise ValueError("x must have a last dimension d, got a scalar")
    shift = 1 / math.sqrt(x.shape[-1])
    f1 = 1 - torch.exp(-(x - shift).pow(2).sum(-1))
    f2 = 1 - torch.exp(-(x + shift).pow(2).sum(-1))
    return torch.stack([f1, f2], -1)


@checked(n_points=size)
def pareto_front(n_points: int = 1001) -> Tensor:
    """The exact front: f at x = t·1/√d for t evenly spaced on [−1, 1] → [n_points, 2] (float64)."""
    t = torch.linspace(-1, 1, n_points, dtype=torch.float64)
    return torch.stack([1 - torch.exp(-(1 - t) ** 2), 1 - torch.exp(-(1 + t) ** 2)], -1)


@checked(points=tensor(finite=False))
def hypervolume_2d(points: Tensor | np.ndarray, ref: tuple[float, float] = (1.0, 1.0)) -> float:
    """Exact hypervolume of 2-D loss vectors (minimisation): the area dominated by the points and
    bounded by ``ref``. Sort by f₁, sweep, add the rectangle each non-dominated point contributes.
    Points not strictly below ``ref`` in both losses contribute nothing."""
    p = np.asarray(torch.as_tensor(points).detach().cpu(), dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise ValueError(f"points must have shape [k, 2], got {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("points contain NaN or infinite values")
    r1, r2 = ref
    p = p[(p[:, 0] < r1) & (p[:, 1] < r2)]
    p = p[np.lexsort((p[:, 1], p[:, 0]))]
    volume, level = 0.0, r2
    for f1, f2 in p:
        if f2 < level:
            volume += (r1 - f1) * (level - f2)
            level = f2
    return float(volume)


@checked(k=size, min_angle=nonnegative)
def circle_rays(k: int = 25, min_angle: float = 0.1) -> Tensor:
    """k preference rays at angles evenly spaced in [min_angle, π/2 − min_angle], normalised to sum
    to 1 (the test rays of Lin et al. 2019 and Navon et al. 2021) → [k, 2] float64."""
    if k < 1 or not 0 <= min_angle < math.pi / 4:
        raise ValueError(f"need k >= 1 and 0 <= min_angle < π/4, got k={k}, min_angle={min_angle}")
    angle = torch.linspace(min_angle, math.pi / 2 - min_angle, k, dtype=torch.float64)
    rays = torch.stack([angle.cos(), angle.sin()], -1)
    return rays / rays.sum(-1, keepdim=True)


@checked(shapes=dict(ray="2"))
def ray_front_point(ray: Tensor) -> Tensor:
    """The exact front point that ray targeting aims at: r₁f₁ = r₂f₂ (where the Chebyshev
    scalarization max_i r_i f_i is minimal), found by bisection on t ∈ [−1, 1] → [2] float64."""
    r = torch.as_tensor(ray, dtype=torch.float64)
    if r.shape != (2,) or (r <= 0).any():
        raise ValueError(f"ray must be two positive numbers, got {ray}")
    lo, hi = torch.tensor(-1.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)
    for _ in range(60):  # r₁f₁ − r₂f₂ decreases in t
        mid = (lo + hi) / 2
        f = torch.stack([1 - torch.exp(-(1 - mid) ** 2), 1 - torch.exp(-(1 + mid) ** 2)])
        lo, hi = (mid, hi) if r[0] * f[0] > r[1] * f[1] else (lo, mid)
    t = (lo + hi) / 2
    return torch.stack([1 - torch.exp(-(1 - t) ** 2), 1 - torch.exp(-(1 + t) ** 2)])


@checked(shapes=dict(f="... m", ray="... m"))
def linear_scalarization(f: Tensor, ray: Tensor) -> Tensor:
    """LS: Σ_i r_i f_i, batched over rays (f, ray [..., m] → [...])."""
    return (ray * f).sum(-1)


@checked(shapes=dict(f="... m", ray="... m"))
def chebyshev_scalarization(f: Tensor, ray: Tensor) -> Tensor:
    """Ray targeting: max_i r_i f_i, minimal on the front where r₁f₁ = r₂f₂ (batched, [..., m] → [...]).
    The same target as EPO (Mahapatra & Rajan 2020), reached with a plain gradient."""
    return (ray * f).max(-1).values


SCALARIZATIONS = {"ls": linear_scalarization, "chebyshev": chebyshev_scalarization}


@checked(same_shape=("f", "ray"), shapes=dict(f="m", ray="m"))
def non_uniformity(f: Tensor, ray: Tensor) -> Tensor:
    """μ_r(f) = KL(f̂ ‖ uniform) with f̂ = r⊙f / Σ r⊙f: zero exactly on the ray (r₁f₁ = r₂f₂ = …)."""
    rf = ray * f
    f_hat = rf / rf.sum()
    return (f_hat * torch.log(f_hat * len(f))).sum()


@checked(eps=nonnegative, shapes=dict(f="m", G="m d", ray="m"))
def epo_weights(f: Tensor, G: Tensor, ray: Tensor, eps: float = 1e-8) -> Tensor:
    """The simplex weights β of one EPO step x ← x − η Gᵀβ (Mahapatra & Rajan 2020), for
    losses ``f`` [m] with Jacobian ``G`` [m, d]. With C = GGᵀ, a step changes the losses by −ηCβ.

    Off the ray (μ_r > ``eps``), *balance*: maximise βᵀCa with a = r⊙(log(m f̂) − μ_r), the
    direction that levels r⊙f, while the worst relative loss (largest r_j f_j) must not rise and the
    losses that a would not lower (Ca_j ≤ 0) rise no faster than along a. On the ray, *descend*:
    maximise Σ(Cβ) with every loss non-increasing (Cβ ≥ 0) and βᵀCa ≥ min(max Ca, 0) so as not
    to leave the ray. Linear programs in m variables (scipy's HiGHS); if one is infeasible the
    constraints are relaxed to "the worst relative loss must not rise". The authors' code switches
    at ``eps`` = 1e-4; smaller lands closer to the ray (1e-8: within 1e-4 on the toy problem).
    """
    m = len(f)
    if f.dim() != 1 or ray.shape != f.shape or G.dim() != 2 or G.shape[0] != m:
        raise ValueError(f"expected f and ray of shape [m] and G of shape [m, d], got "
                         f"{tuple(f.shape)}, {tuple(ray.shape)} and {tuple(G.shape)}")
    rf = (ray * f).detach().double().cpu().numpy()
    mu = float(non_uniformity(f.detach().double(), ray.double()))
    f_hat = rf / rf.sum()
    a = ray.double().cpu().numpy() * (np.log(f_hat * m) - mu)
    C = (G.detach().double() @ G.detach().double().T).cpu().numpy()
    Ca = C @ a
    worst = rf == rf.max()
    if mu > eps:
        objective = Ca
        rhs = np.where(Ca > 0, -np.inf, Ca) if (Ca > 0).any() else np.zeros(m)
        rhs[worst] = 0.0
    else:
        objective = C.sum(0)
        rhs = np.zeros(m)
    rows = np.isfinite(rhs)
    A_ub, b_ub = -C[rows], -rhs[rows]
    if mu <= eps:
        A_ub, b_ub = np.vstack([A_ub, -Ca[None]]), np.append(b_ub, -min(Ca.max(), 0.0))
    for A, b in ((A_ub, b_ub), (-C[worst], np.zeros(int(worst.sum())))):
        res = linprog(-objective, A_ub=A, b_ub=b, A_eq=np.ones((1, m)), b_eq=[1.0],
                      bounds=[(0, None)] * m, method="highs")
        if res.status == 0:
            return torch.as_tensor(res.x, dtype=G.dtype, device=G.device)
    return torch.as_tensor(worst / worst.sum(), dtype=G.dtype, device=G.device)


@checked(steps=count, lr=positive, shapes=dict(ray="m", x0="d"))
def epo_search(ray: Tensor, x0: Tensor, *, steps: int = 100, lr: float = 0.5,
               losses: Callable[[Tensor], Tensor] = pareto_toy_losses) -> tuple[Tensor, Tensor]:
    """Gradient descent along EPO directions from ``x0``: returns the loss vectors [steps + 1, m]
    and the final x. It ends on the Pareto front *at* the ray: r₁f₁ = r₂f₂ (:func:`ray_front_point`)."""
    ray = torch.as_tensor(ray, dtype=x0.dtype, device=x0.device)
    if ray.dim() != 1 or (ray <= 0).any():
        raise ValueError(f"ray must be a vector of positive numbers, got {ray}")
    jac = torch.func.jacrev(losses)
    x, path = x0.clone(), [losses(x0)]
    for _ in range(steps):
        G = jac(x)
        x = x - lr * G.T @ epo_weights(path[-1], G, ray)
        path.append(losses(x))
    return torch.stack(path), x


@checked(d=size, hidden=size)
class ParetoHypernet(nn.Module):
    """PHN (Navon et al. 2021): preference ray r [..., 2] ↦ target weights x [..., d] (here the
    target "model" is the point x of the toy problem itself)."""

    def __init__(self, d: int = PARETO_DIM, hidden: int = 100) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, d))

    def forward(self, ray: Tensor) -> Tensor:
        return self.net(ray)


@checked(method=one_of(*SCALARIZATIONS), steps=count, batch=size, alpha=positive, lr=positive)
def train_phn(method: str = "chebyshev", *, steps: int = 2000, batch: int = 16, alpha: float = 0.2,
              lr: float = 1e-3, seed: int = 0, device: Device = None) -> ParetoHypernet:
    """Train a PHN: each step draws ``batch`` rays r ~ Dir(α, α) and descends the mean scalarized
    loss s(f(h_φ(r)), r) with s = linear (``"ls"``) or Chebyshev (``"chebyshev"``)."""
    if method not in SCALARIZATIONS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(SCALARIZATIONS)}")
    if alpha <= 0:
        raise ValueError(f"Dirichlet concentration must be > 0, got {alpha}")
    device = runtime.get_device(device)
    torch.manual_seed(seed)
    phn = ParetoHypernet().to(device)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(phn.parameters(), lr=lr)
    scalarize = SCALARIZATIONS[method]
    for _ in range(steps):
        rays = torch.as_tensor(rng.dirichlet((alpha, alpha), size=batch), dtype=torch.float32)
        rays = rays.clamp_min(1e-6).to(device)
        loss = scalarize(pareto_toy_losses(phn(rays)), rays).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return phn.eval()


@checked(shapes=dict(rays="k 2"))
def phn_front(phn: ParetoHypernet, rays: Tensor) -> Tensor:
    """The losses (f₁, f₂) [k, 2] of the PHN's solutions for each ray of ``rays`` [k, 2]."""
    p = next(phn.parameters())
    with torch.no_grad():
        return pareto_toy_losses(phn(torch.as_tensor(rays, dtype=p.dtype, device=p.device))).cpu()


# --- 4. continual learning with a task-conditioned hypernetwork ----------------------------------

CONTINUAL_TASKS = (  # (function, domain) of von Oswald et al.'s (2020) 1-D regression experiment
    (lambda x: x + 3, (-4.0, -2.0)),
    (lambda x: 2 * x ** 2 - 1, (-1.0, 1.0)),
    (lambda x: (x - 3) ** 3, (2.0, 4.0)),
)
MAIN_NET = (1, 10, 10, 1)


@checked(n=size, noise=nonnegative)
def continual_tasks(n: int = 100, noise: float = 0.05, seed: int = 0,
                    device: Device = None) -> list[tuple[Tensor, Tensor]]:
    """The three 1-D regression tasks f₁ = x + 3 on [−4, −2], f₂ = 2x² − 1 on [−1, 1],
    f₃ = (x − 3)³ on [2, 4]: n points each, x uniform, y = f(x) + noise·ε → [(x [n, 1], y [n, 1])]."""
    if n < 1 or noise < 0:
        raise ValueError(f"need n >= 1 and noise >= 0, got n={n}, noise={noise}")
    gen = torch.Generator().manual_seed(seed)
    out = []
    for f, (lo, hi) in CONTINUAL_TASKS:
        x = lo + (hi - lo) * torch.rand(n, 1, generator=gen)
        y = f(x) + noise * torch.randn(n, 1, generator=gen)
        out.append((x.to(runtime.get_device(device)), y.to(runtime.get_device(device))))
    return out


@checked(n=size)
def continual_test_sets(n: int = 100, device: Device = None) -> list[tuple[Tensor, Tensor]]:
    """Noise-free evaluation grids (n evenly spaced x per task domain, y = f(x))."""
    out = []
    for f, (lo, hi) in CONTINUAL_TASKS:
        x = torch.linspace(lo, hi, n)[:, None]
        out.append((x.to(runtime.get_device(device)), f(x).to(runtime.get_device(device))))
    return out


@checked(widths=each(size))
def main_net_size(widths: tuple[int, ...] = MAIN_NET) -> int:
    """Number of weights of the fully connected target network (1-10-10-1: 141)."""
    return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))


@checked(widths=each(size), shapes=dict(theta="P", x="n 1"))
def main_net(theta: Tensor, x: Tensor, widths: tuple[int, ...] = MAIN_NET) -> Tensor:
    """The target network f(x; θ) with all its weights in one flat vector θ [main_net_size]
    (tanh hidden layers); x [n, 1] → [n, 1].

    tanh, not ReLU: a ReLU network bends only at its kinks x = −b/w, which a freshly generated
    network places near 0; on task 3's domain [2, 4] none fell inside, and both the fine-tuned and the
    regularised hypernet fitted the cubic with a straight line (test MSE 0.0245, the best linear fit).
    """
    if theta.shape != (main_net_size(widths),):
        raise ValueError(f"theta must have shape [{main_net_size(widths)}], got {tuple(theta.shape)}")
    h, i = x, 0
    for k, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        w, bias = theta[i:i + a * b].view(b, a), theta[i + a * b:i + a * b + b]
        i += a * b + b
        h = h @ w.T + bias
        if k < len(widths) - 2:
            h = torch.tanh(h)
    return h


@checked(n_tasks=size, emb_dim=size, hidden=size)
class TaskHypernet(nn.Module):
    """Task-conditioned hypernet (von Oswald et al. 2020): a learned embedding e_t ∈ R^2 per task,
    and an MLP e ↦ θ(e) (two hidden layers), the 141 weights of the 1-10-10-1 target network."""

    def __init__(self, n_tasks: int = 3, emb_dim: int = 2, hidden: int = 100) -> None:
        super().__init__()
        self.embeddings = nn.Parameter(torch.randn(n_tasks, emb_dim))
        self.net = nn.Sequential(nn.Linear(emb_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.ReLU(), nn.Linear(hidden, main_net_size()))

    def weights(self, tasks: list[int] | range) -> Tensor:
        """The target weights for each task of ``tasks`` in one batched forward → [len(tasks), 141]."""
        return self.net(self.embeddings[list(tasks)])

    def forward(self, task: int) -> Tensor:
        return self.weights([task])[0]

    def predict(self, task: int, x: Tensor) -> Tensor:
        return main_net(self(task), x)


@checked(n_tasks=size, emb_dim=size, hidden=size, chunk_size=size, chunk_emb_dim=size)
class ChunkedTaskHypernet(TaskHypernet):
    """A chunked task-conditioned hypernet (von Oswald et al. 2020, Sect. 3): one small MLP maps
    (task embedding e_t, chunk embedding c_k) ↦ chunk k of task t's target weights, ``chunk_size``
    numbers at a time; the ⌈141 / chunk_size⌉ chunk embeddings are learned and shared by all tasks.
    The same MLP is reused for every chunk, so its output layer has ``chunk_size`` units instead of
    141: the hypernet can be much smaller than an unchunked one (and, for a large target network,
    smaller than the target itself)."""

    def __init__(self, n_tasks: int = 3, emb_dim: int = 2, hidden: int = 40, chunk_size: int = 24,
                 chunk_emb_dim: int = 2) -> None:
        nn.Module.__init__(self)
        if chunk_size < 1 or hidden < 1:
            raise ValueError(f"chunk_size and hidden must be >= 1, got {chunk_size} and {hidden}")
        self.chunk_size = chunk_size
        self.n_chunks = math.ceil(main_net_size() / chunk_size)
        self.embeddings = nn.Parameter(torch.randn(n_tasks, emb_dim))
        self.chunk_embeddings = nn.Parameter(torch.randn(self.n_chunks, chunk_emb_dim))
        self.net = nn.Sequential(nn.Linear(emb_dim + chunk_emb_dim, hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, chunk_size))

    def weights(self, tasks: list[int] | range) -> Tensor:
        e = self.embeddings[list(tasks)]                                     # [T, emb]
        pairs = torch.cat([e[:, None, :].expand(-1, self.n_chunks, -1),
                           self.chunk_embeddings[None].expand(len(e), -1, -1)], -1)  # [T, K, emb + c]
        chunks = self.net(pairs)                                             # [T, K, chunk_size]
        return chunks.reshape(len(e), -1)[:, :main_net_size()]               # drop the padding


def n_parameters(module: nn.Module) -> int:
    """Number of trainable numbers in ``module`` (embeddings included)."""
    return sum(p.numel() for p in module.parameters())


@checked(n_target=size, hidden=size, chunk_size=size, n_tasks=size, emb_dim=size, chunk_emb_dim=size)
def hypernet_size(n_target: int, *, hidden: int, chunk_size: int | None = None, n_tasks: int = 1,
                  emb_dim: int = 2, chunk_emb_dim: int = 2) -> int:
    """Parameters of a two-hidden-layer task hypernet for a target network of ``n_target`` weights:
    unchunked (emb → hidden → hidden → n_target) or chunked ((emb + chunk emb) → hidden → hidden →
    chunk_size, plus one chunk embedding per chunk). Task embeddings included."""
    if n_target < 1 or hidden < 1 or (chunk_size is not None and chunk_size < 1):
        raise ValueError(f"need n_target, hidden, chunk_size >= 1, got {n_target}, {hidden}, {chunk_size}")
    body = lambda n_in, n_out: n_in * hidden + hidden + hidden * hidden + hidden + hidden * n_out + n_out  # noqa: E731
    if chunk_size is None:
        return n_tasks * emb_dim + body(emb_dim, n_target)
    n_chunks = math.ceil(n_target / chunk_size)
    return n_tasks * emb_dim + n_chunks * chunk_emb_dim + body(emb_dim + chunk_emb_dim, chunk_size)


@checked(shapes=dict(targets="T P"))
def output_regularizer(hnet: TaskHypernet, targets: Tensor, tasks: list[int]) -> Tensor:
    """(1/(T−1)) Σ_{t<T} ‖h(e_t; Θ) − h(e_t; Θ*)‖²: how far the hypernet's outputs for the old
    tasks moved from ``targets`` [T−1, n] (its outputs saved before the new task; the
    look-ahead ΔΘ of the paper is left out)."""
    return (hnet.weights(tasks) - targets).pow(2).sum(-1).mean()  # all old tasks in one forward


@checked
def generated_weights(hnet: TaskHypernet) -> Tensor:
    """The target-network weights the hypernet generates for every task embedding → [T, 141]."""
    with torch.no_grad():
        return hnet.weights(range(len(hnet.embeddings)))


@checked(shapes=dict(thetas="T P"))
def continual_mse(thetas: Tensor, test_sets: list[tuple[Tensor, Tensor]]) -> list[float]:
    """MSE of the target network with weights ``thetas[t]`` on task t's test set, for each task."""
    if thetas.dim() != 2 or len(thetas) < len(test_sets):
        raise ValueError(f"thetas must be [T, n] with T >= {len(test_sets)}, got {tuple(thetas.shape)}")
    with torch.no_grad():
        return [(main_net(thetas[t], x) - y).pow(2).mean().item() for t, (x, y) in enumerate(test_sets)]


@checked(beta=nonnegative, steps=size, lr=positive, hidden=size)
def train_continual(beta: float = 0.005, *, steps: int = 2000, lr: float = 1e-3, hidden: int = 100,
                    chunk_size: int | None = None, seed: int = 0, device: Device = None,
                    progress: bool | Callable = False) -> tuple[TaskHypernet, list[list[float]]]:
    """Learn the three tasks one after another (von Oswald et al. 2020, without the look-ahead ΔΘ):

        task T:  min_{Θ, e_T}  MSE_T(f(x; h(e_T; Θ))) + β · output_regularizer(old embeddings)

    β = 0 is plain fine-tuning of the hypernet. Old embeddings are frozen after their task. With
    ``chunk_size`` the hypernet is a :class:`ChunkedTaskHypernet` (``hidden`` units per layer).
    Returns the hypernet and the test MSE of every task after each training phase ([3][3]).

    Defaults (hypernet 2 → 100 → 100 → 141, tanh target network, Adam 1e-3, 2000 steps per task),
    seeds 0–9 on CPU: β = 0.005 kept all three test MSEs below 0.02 in every run (largest 0.0163),
    and β = 0 left task 1 above 0.2 in every run (task 2 above 1.7). With a ReLU target network the
    cubic task was fitted by a straight line (MSE 0.0245) in every run we tried, with or without β."""
    if beta < 0 or steps < 1:
        raise ValueError(f"need beta >= 0 and steps >= 1, got beta={beta}, steps={steps}")
    device = runtime.get_device(device)
    torch.manual_seed(seed)
    hnet = (TaskHypernet(hidden=hidden) if chunk_size is None
            else ChunkedTaskHypernet(hidden=hidden, chunk_size=chunk_size)).to(device)
    data, tests = continual_tasks(seed=seed, device=device), continual_test_sets(device=device)
    after = []
    for task, (x, y) in enumerate(data):
        old = list(range(task))
        with torch.no_grad():
            targets = hnet.weights(old) if old else None
        opt = torch.optim.Adam(hnet.parameters(), lr=lr)
        for _ in runtime.track(range(steps), progress, desc=f"task {task + 1}"):
            loss = (hnet.predict(task, x) - y).pow(2).mean()
            if old and beta > 0:
                loss = loss + beta * output_regularizer(hnet, targets, old)
            opt.zero_grad()
            loss.backward()
            hnet.embeddings.grad[:task] = 0  # old task embeddings stay where they were
            opt.step()
        after.append(continual_mse(generated_weights(hnet), tests))
    return hnet, after


# --- 5. complexity control (Grebenkova, Bakhteev & Strijov) ------------------------------------------
#
# A Bayesian linear model with a mean-field Gaussian posterior q(w) = N(μ, diag σ²), prior N(0, α⁻¹I)
# and noise precision β, trained on  E_q[−log p(y | X, w)] + c · KL(q ‖ prior).  The complexity weight
# c (λ = log c is the metaparameter) trades data fit against simplicity: at large c the posterior stays
# close to the prior and few weights stand out from their noise. Dividing by c shows that q is the
# mean-field approximation of a posterior whose likelihood is tempered by 1/c, which has a closed form.

@checked(n=size, d=size, k=count, noise=nonnegative, n_val=size)
def complexity_problem(n: int = 30, d: int = 20, k: int = 4, noise: float = 0.5, *, n_val: int = 200,
                       seed: int = 0, device: Device = None) -> Problem:
    """A sparse linear regression: ``k`` of the ``d`` true weights are ±1, the rest 0; X ~ N(0, I);
    y = X w_true + noise · ε; n training and ``n_val`` validation rows (float64, NumPy seed)."""
    if not 0 <= k <= d or n < 1 or n_val < 1 or noise < 0:
        raise ValueError(f"need 0 <= k <= d, n, n_val >= 1, noise >= 0, got k={k}, d={d}, n={n}, "
                         f"n_val={n_val}, noise={noise}")
    rng = np.random.default_rng(seed)
    w_true = np.zeros(d)
    w_true[rng.choice(d, k, replace=False)] = rng.choice([-1.0, 1.0], k)
    inputs = rng.standard_normal((n + n_val, d))
    targets = inputs @ w_true + noise * rng.standard_normal(n + n_val)
    t = lambda a: torch.as_tensor(a, dtype=torch.float64, device=runtime.get_device(device))  # noqa: E731
    return t(inputs[:n]), t(targets[:n]), t(inputs[n:]), t(targets[n:])


@checked(prior_precision=positive, noise_precision=positive, shapes=dict(X="n d", y="n", mean="... d", std="... d"))
def variational_objective(X: Tensor, y: Tensor, mean: Tensor, std: Tensor, log_c: Tensor | float, *,
                          prior_precision: float = 1.0, noise_precision: float = 4.0) -> Tensor:
    """(1/n) (E_q[−log p(y | X, w)] + c · KL(q ‖ N(0, α⁻¹I))) for q = N(mean, diag std²), in closed
    form (constants dropped), batched over the leading dimensions of mean, std [..., d] and log_c [...]:

        E_q ½β‖Xw − y‖² = ½β (‖Xμ − y‖² + Σ_i σ_i² ‖X_{:,i}‖²),
        KL = ½ Σ_i (ασ_i² + αμ_i² − 1 − log(ασ_i²)).
    """
    _check_data(X, y)
    log_c = torch.as_tensor(log_c, dtype=mean.dtype, device=mean.device)
    a, b = prior_precision, noise_precision
    fit = 0.5 * b * ((mean @ X.T - y).pow(2).sum(-1) + (std.pow(2) * X.pow(2).sum(0)).sum(-1))
    kl = 0.5 * (a * std.pow(2) + a * mean.pow(2) - 1 - torch.log(a * std.pow(2))).sum(-1)
    return (fit + log_c.exp() * kl) / X.shape[0]


@checked(prior_precision=positive, noise_precision=positive, shapes=dict(X="n d", y="n"))
def complexity_best_response(X: Tensor, y: Tensor, log_c: Tensor | float, *, prior_precision: float = 1.0,
                             noise_precision: float = 4.0) -> tuple[Tensor, Tensor]:
    """The exact minimiser (μ*, σ*) of :func:`variational_objective` for each λ = log c ([...] →
    [..., d] twice): with Λ = (β/c) XᵀX + αI,  μ* = Λ⁻¹ (β/c) Xᵀy  and  σ*_i² = 1/Λ_ii
    (the mean-field fit of the tempered posterior N(μ*, Λ⁻¹) keeps its mean and its diagonal precision)."""
    _check_data(X, y)
    log_c = torch.as_tensor(log_c, dtype=X.dtype, device=X.device)
    scale = noise_precision / log_c.exp()[..., None, None]
    d = X.shape[1]
    precision = scale * (X.T @ X) + prior_precision * torch.eye(d, dtype=X.dtype, device=X.device)
    mean = torch.linalg.solve(precision, (scale[..., 0] * (X.T @ y)))
    return mean, precision.diagonal(dim1=-2, dim2=-1).rsqrt()


@checked(d=size, hidden=size)
class ComplexityHypernet(nn.Module):
    """λ = log c ↦ (μ(λ), σ(λ)): the whole family of variational posteriors, one per complexity level
    (an MLP on λ rescaled to [−1, 1]; σ through its log, so it stays positive)."""

    def __init__(self, d: int, log_c_range: tuple[float, float] = (-1.0, 5.0), hidden: int = 32) -> None:
        super().__init__()
        lo, hi = log_c_range
        if not lo < hi:
            raise ValueError(f"log_c_range must be (low, high) with low < high, got {log_c_range}")
        self.center, self.scale, self.d = (lo + hi) / 2, (hi - lo) / 2, d
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 2 * d))

    def forward(self, log_c: Tensor) -> tuple[Tensor, Tensor]:
        out = self.net((log_c[..., None] - self.center) / self.scale)
        return out[..., :self.d], out[..., self.d:].exp()


@checked(steps=size, batch=size, lr=positive, hidden=size, prior_precision=positive, noise_precision=positive)
def train_complexity_hypernet(problem: Problem, log_c_range: tuple[float, float] = (-1.0, 5.0), *,
                              steps: int = 1000, batch: int = 16, lr: float = 1e-2, hidden: int = 32,
                              prior_precision: float = 1.0, noise_precision: float = 4.0,
                              seed: int = 0) -> ComplexityHypernet:
    """One training run for every complexity level (Grebenkova et al.): Adam on
    E_{λ ~ U(log_c_range)} variational_objective(μ(λ), σ(λ), λ), fresh λ's every step."""
    X, y, _, _ = problem
    if steps < 1 or batch < 1:
        raise ValueError(f"steps and batch must be >= 1, got {steps} and {batch}")
    torch.manual_seed(seed)
    net = ComplexityHypernet(X.shape[1], log_c_range, hidden).to(dtype=X.dtype, device=X.device)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    lo, hi = log_c_range
    for _ in range(steps):
        lams = (lo + (hi - lo) * torch.rand(batch, generator=gen, dtype=X.dtype)).to(X.device)
        mean, std = net(lams)
        loss = variational_objective(X, y, mean, std, lams, prior_precision=prior_precision,
                                     noise_precision=noise_precision).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return net.eval()


@checked(threshold=nonnegative, shapes=dict(mean="... d", std="... d"))
def prune_by_snr(mean: Tensor, std: Tensor, threshold: float = 1.0) -> Tensor:
    """The posterior mean with every weight whose signal-to-noise ratio |μ_i|/σ_i is below
    ``threshold`` set to zero (pruning by the variational posterior, batched [..., d])."""
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    return torch.where(mean.abs() >= threshold * std, mean, torch.zeros_like(mean))


# --- pictures ----------------------------------------------------------------------------------------

def bilevel_diagram():
    """Where a hypernetwork sits in the bilevel problem (a matplotlib figure, for the lecture).

    λ → G_φ → ŵ = G_φ(λ) → the model f_ŵ → L_train(ŵ, λ) and L_val(ŵ). The inner problem trains φ on
    L_train for many λ (instead of training w for one λ); the outer problem moves λ down L_val
    *through* G_φ: no inner training loop is unrolled.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(10, 3.8))
    ax.set_axis_off()
    red, grey = "#D55E00", "#555555"

    def box(x, y, w, text, colour="#E8F1FA"):
        ax.add_patch(FancyBboxPatch((x - w / 2, y - 0.32), w, 0.64, boxstyle="round,pad=0.06",
                                    facecolor=colour, edgecolor="black"))
        ax.text(x, y, text, ha="center", va="center", fontsize=12)

    def arrow(a, b, colour="black", ls="-", rad=0.0):
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=14, color=colour, linestyle=ls,
                                     linewidth=1.6, connectionstyle=f"arc3,rad={rad}"))

    box(0.0, 0.0, 1.7, "metaparameter $\\lambda$", "#FBEBDD")
    box(2.9, 0.0, 2.0, "hypernetwork $G_\\varphi$")
    box(5.9, 0.0, 1.6, "model $f_{\\hat w}$")
    box(8.9, 0.85, 2.3, "$\\mathcal{L}_{train}(\\hat w, \\lambda)$", "#EEEEEE")
    box(8.9, -0.85, 2.3, "$\\mathcal{L}_{val}(\\hat w)$", "#EEEEEE")
    arrow((0.9, 0.0), (1.85, 0.0))
    arrow((3.95, 0.0), (5.05, 0.0))
    ax.text(4.5, 0.15, "$\\hat w = G_\\varphi(\\lambda)$", ha="center", fontsize=12)
    arrow((6.75, 0.1), (7.7, 0.75))
    arrow((6.75, -0.1), (7.7, -0.75))
    ax.text(7.0, 0.75, "train data", ha="right", fontsize=10, color=grey)
    ax.text(7.0, -0.78, "validation data", ha="right", fontsize=10, color=grey)
    arrow((8.9, 1.2), (2.9, 0.4), red, "--", rad=0.25)
    ax.text(5.6, 1.62, "inner: $\\varphi \\leftarrow \\varphi - \\alpha\\nabla_\\varphi\\mathcal{L}_{train}$, "
            "for many $\\lambda \\sim p(\\lambda)$", ha="center", fontsize=11, color=red,
            bbox=dict(facecolor="white", edgecolor="none", pad=1))
    arrow((8.9, -1.2), (0.0, -0.4), red, "--", rad=-0.2)
    ax.text(4.6, -1.72, "outer: $\\lambda \\leftarrow \\lambda - \\beta\\nabla_\\lambda\\mathcal{L}_{val}(G_\\varphi(\\lambda))$, "
            "through $G_\\varphi$: no training loop to unroll", ha="center", fontsize=11, color=red,
            bbox=dict(facecolor="white", edgecolor="none", pad=1))
    ax.set_xlim(-1.0, 10.2)
    ax.set_ylim(-2.0, 1.95)
    ax.set_title("The hypernetwork replaces the inner training loop by a learned map λ ↦ weights")
    return fig


def front_inflection() -> float:
    """Where the toy problem's Pareto front changes from convex to concave: at t = ±1/√2 on the
    Pareto set x = t·1/√d (the curvature of f₂ as a function of f₁ has the sign of 2(1 − t²) − 1),
    i.e. where the smaller loss is 1 − exp(−(1 − 1/√2)²) ≈ 0.082. Nearer an end the front is convex
    (linear scalarization can reach it); in between it is concave (bulging towards (1, 1))."""
    return 1 - math.exp(-(1 - 1 / math.sqrt(2)) ** 2)


# --- cached reference runs ----------------------------------------------------------------------

CONTINUAL_BETAS = (0.0, 0.005)
CHUNKED = dict(chunk_size=24, hidden=40)
"""The lecture's chunked hypernet: chunks of 24 weights (6 for 141), MLP (2 + 2) → 40 → 40 → 24."""


@checked
def cache_path(kind: str, setting: str | float) -> Path:
    """mlcourse/data/hypernets_<kind>_<setting>.pt, e.g. hypernets_phn_ls.pt, hypernets_continual_0.005.pt,
    hypernets_continual_chunked.pt (β = 0.005 with :data:`CHUNKED`)."""
    if kind == "phn" and setting in SCALARIZATIONS:
        return DATA_DIR / f"hypernets_phn_{setting}.pt"
    if kind == "continual" and setting == "chunked":
        return DATA_DIR / "hypernets_continual_chunked.pt"
    if kind == "continual" and setting in CONTINUAL_BETAS:
        return DATA_DIR / f"hypernets_continual_{float(setting)}.pt"
    raise ValueError(f"no cached run for kind={kind!r}, setting={setting!r}: phn takes one of {', '.join(SCALARIZATIONS)}, "
                     f"continual one of {CONTINUAL_BETAS} or 'chunked'")


@checked(method=one_of(*SCALARIZATIONS))
def pretrained_phn(method: str = "chebyshev", *, recompute: bool = False,
                   device: Device = None) -> ParetoHypernet:
    """The lecture's PHN (``train_phn(method)`` with its defaults, seed 0): loaded from its cache
    file, or trained when ``recompute`` is set or the file is missing."""
    path = cache_path("phn", method)
    if recompute or not path.exists():
        return train_phn(method, device=device)
    phn = ParetoHypernet()
    phn.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return phn.to(runtime.get_device(device)).eval()


@checked(beta=one_of(*CONTINUAL_BETAS))
def pretrained_continual(beta: float = 0.005, *, chunked: bool = False, recompute: bool = False,
                         device: Device = None) -> tuple[Tensor, list[list[float]]]:
    """The lecture's continual-learning run (``train_continual(beta)``, defaults, seed 0; with
    ``chunked`` the :data:`CHUNKED` hypernet, β = 0.005 only): the weights its hypernet generates for
    the three tasks [3, 141] and its test-MSE table, loaded from the cache file or recomputed. (Only
    the generated weights are stored, 2 kB, not the hypernet.)"""
    if chunked and beta != 0.005:
        raise ValueError(f"the chunked run is cached for beta = 0.005 only, got {beta}")
    path = cache_path("continual", "chunked" if chunked else beta)
    if recompute or not path.exists():
        hnet, after = train_continual(beta, device=device, **(CHUNKED if chunked else {}))
        return generated_weights(hnet), after
    saved = torch.load(path, map_location="cpu", weights_only=True)
    return saved["weights"].to(runtime.get_device(device)), saved["after"]


@checked
def main() -> None:
    """``python -m mlcourse.hypernets``: retrain the cached runs on one CPU thread, write them to
    mlcourse/data/ (≈ 30 s of CPU)."""
    runtime.set_threads(1)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for method in SCALARIZATIONS:
        phn = train_phn(method, device="cpu")
        torch.save(phn.state_dict(), cache_path("phn", method))
        print(f"PHN-{method}: HV {hypervolume_2d(phn_front(phn, circle_rays())):.4f}")
    for setting in (*CONTINUAL_BETAS, "chunked"):
        kw = dict(beta=0.005, **CHUNKED) if setting == "chunked" else dict(beta=setting)
        hnet, after = train_continual(device="cpu", **kw)
        torch.save({"weights": generated_weights(hnet).cpu(), "after": after}, cache_path("continual", setting))
        print(f"continual {setting}: final test MSE {[round(m, 4) for m in after[-1]]}")


if __name__ == "__main__":
    main()
